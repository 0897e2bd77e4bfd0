-- Case facts and alerts can be revised and retracted (issue: order-independent rules). A late
-- event may move a fact (an earlier meeting event, a deadline from a registration that arrived
-- after the complaint) or withdraw it (a miss that turned out to be met in time): the rules then
-- publish the fact again under the same id with a higher `revision`, `retracted` set when it no
-- longer holds. The tables keep the highest revision (ReplacingMergeTree(revision)); readers
-- take `FINAL ... WHERE retracted = 0`. They are not partitioned by time any more: every revision
-- of a fact must share a partition for FINAL to collapse them, and a revision may change `at`.
-- On OPENED facts, `parameters` records the parameter values the dues were computed with.
CREATE TABLE IF NOT EXISTS case_facts_v2
(
    provider_id String,
    case_id String,
    fact_id String,
    kind UInt8,
    rule_id String,
    article String,
    severity String,
    service_id String,
    subject String,
    obligation String,
    at DateTime('UTC'),
    due DateTime('UTC'),
    event_id String,
    late UInt8,
    detected_at DateTime('UTC'),
    dues Nested
    (
        obligation String,
        due DateTime('UTC')
    ),
    revision UInt64,
    retracted UInt8,
    parameters Nested
    (
        name String,
        value String
    )
)
ENGINE = ReplacingMergeTree(revision)
ORDER BY (provider_id, case_id, fact_id);

INSERT INTO case_facts_v2
    (provider_id, case_id, fact_id, kind, rule_id, article, severity, service_id, subject,
     obligation, at, due, event_id, late, detected_at, dues.obligation, dues.due)
SELECT
    provider_id, case_id, fact_id, kind, rule_id, article, severity, service_id, subject,
    obligation, at, due, event_id, late, detected_at, dues.obligation, dues.due
FROM case_facts;

CREATE TABLE IF NOT EXISTS alerts_v2
(
    provider_id String,
    alert_id String,
    rule_id String,
    article String,
    severity String,
    service_id String,
    case_id String,
    summary String,
    due DateTime('UTC'),
    detected_at DateTime('UTC'),
    evidence Array(String),
    revision UInt64,
    retracted UInt8
)
ENGINE = ReplacingMergeTree(revision)
ORDER BY (provider_id, alert_id);

INSERT INTO alerts_v2
    (provider_id, alert_id, rule_id, article, severity, service_id, case_id, summary, due,
     detected_at, evidence)
SELECT
    provider_id, alert_id, rule_id, article, severity, service_id, case_id, summary, due,
    detected_at, evidence
FROM alerts;

RENAME TABLE case_facts TO case_facts_0003, alerts TO alerts_0003;
RENAME TABLE case_facts_v2 TO case_facts, alerts_v2 TO alerts;
DROP TABLE case_facts_0003;
DROP TABLE alerts_0003;

DROP TABLE IF EXISTS cases;
CREATE VIEW cases AS
SELECT
    provider_id,
    case_id,
    any(rule_id) AS rule_id,
    any(article) AS article,
    any(severity) AS severity,
    any(service_id) AS service_id,
    any(subject) AS subject,
    minIf(at, kind = 1) AS opened_at,
    anyIf(event_id, kind = 1) AS trigger_event_id,
    countIf(kind = 3) AS deadlines_missed,
    groupArrayIf(obligation, kind = 2) AS obligations_met,
    max(kind = 4) AS closed,
    maxIf(at, kind = 4) AS closed_at
FROM case_facts FINAL
WHERE retracted = 0
GROUP BY provider_id, case_id;

-- The report cards count current facts only (otherwise as in 0004).
DROP TABLE IF EXISTS report_cards;
CREATE VIEW report_cards AS
SELECT
    provider_id,
    month,
    events_stored,
    items_submitted,
    items_rejected,
    if(items_submitted = 0, 0, items_rejected / items_submitted) AS error_rate,
    days_over_error_limit,
    cases_opened,
    cases_closed,
    deadlines_missed,
    multiIf(
        deadlines_missed = 0 AND error_rate <= 0.01, 'A',
        deadlines_missed <= 3 AND error_rate <= 0.05, 'B',
        'C'
    ) AS grade
FROM
(
    -- ClickHouse 18.16 takes one JOIN per SELECT: the first join is nested.
    SELECT *
    FROM
    (
        SELECT provider_id, toStartOfMonth(occurred_at) AS month, count() AS events_stored
        FROM events FINAL
        GROUP BY provider_id, month
    ) AS stored
    ANY LEFT JOIN
    (
    SELECT
        provider_id,
        month,
        sum(day_received) AS items_submitted,
        sum(day_received - day_accepted) AS items_rejected,
        countIf(day_received > 0 AND (day_received - day_accepted) / day_received > 0.05)
            AS days_over_error_limit
    FROM
    (
        SELECT
            provider_id,
            toStartOfMonth(received_at) AS month,
            toDate(received_at) AS day,
            sum(received) AS day_received,
            sum(accepted) AS day_accepted
        FROM ingest_outcomes FINAL
        GROUP BY provider_id, month, day
    ) AS daily
    GROUP BY provider_id, month
    ) AS ingest USING (provider_id, month)
) AS stored_and_ingest
ANY LEFT JOIN
(
    SELECT
        provider_id,
        toStartOfMonth(at) AS month,
        countIf(kind = 1) AS cases_opened,
        countIf(kind = 4) AS cases_closed,
        countIf(kind = 3) AS deadlines_missed
    FROM case_facts FINAL
    WHERE retracted = 0
    GROUP BY provider_id, month
) AS case_counts USING (provider_id, month);
