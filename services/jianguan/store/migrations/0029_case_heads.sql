-- case_heads: one current row per case, so that listing and counting cases no longer merges and
-- groups every fact of every case (issue: the console as an analysis tool; bench/console.py).
--
-- The rules engine decides, with a case's steps, its STATUS (CaseFactKind 5): the obligations met
-- and missed so far, when it closed, when its next unmet obligation falls due. The STATUS fact is
-- revised exactly when the case changes, like any other fact (a higher revision under the same
-- fact id). case_facts keeps it with the steps (so a replay is compared on it too); the MV copies
-- it here, where the highest revision per case is the case as it stands.
ALTER TABLE case_facts ADD COLUMN obligations_met Array(String);
ALTER TABLE case_facts ADD COLUMN obligations_missed Array(String);
ALTER TABLE case_facts ADD COLUMN closed_at DateTime('UTC');

CREATE TABLE IF NOT EXISTS case_heads
(
    provider_id String,
    case_id String,
    rule_id String,
    article String,
    severity String,
    service_id String,
    subject String,
    opened_at DateTime('UTC'),
    trigger_event_id String,
    obligations_met Array(String),
    obligations_missed Array(String),
    closed UInt8,
    -- 1970-01-01 00:00:00 while open, or when nothing is pending (next_due)
    closed_at DateTime('UTC'),
    next_due DateTime('UTC'),
    revision UInt64,
    retracted UInt8
)
ENGINE = ReplacingMergeTree(revision)
ORDER BY (provider_id, case_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS case_heads_mv TO case_heads AS
SELECT provider_id, case_id, rule_id, article, severity, service_id, subject, at AS opened_at,
       event_id AS trigger_event_id, obligations_met, obligations_missed,
       toUInt8(toUInt32(closed_at) > 0) AS closed, closed_at, due AS next_due, revision, retracted
FROM case_facts
WHERE kind = 5;

-- Cases whose facts were stored before STATUS existed get their head from their steps, at
-- revision 0 (the engine's next STATUS for such a case replaces it). A rebuild (`jianguan
-- replay`) gives them STATUS facts as well.
INSERT INTO case_heads
SELECT
    provider_id, case_id, rule_id, article, severity, service_id, subject, opened_at,
    trigger_event_id, met, missed, closed, closed_at,
    arrayReduce('min', arrayFilter((d, o) -> NOT has(met, o) AND NOT has(missed, o), dues, names)),
    0, 0
FROM
(
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
        arraySort(groupArrayIf(obligation, kind = 2)) AS met,
        arraySort(groupArrayIf(obligation, kind = 3)) AS missed,
        max(kind = 4) AS closed,
        maxIf(at, kind = 4) AS closed_at,
        anyIf(dues.due, kind = 1) AS dues,
        anyIf(dues.obligation, kind = 1) AS names
    FROM case_facts FINAL
    WHERE retracted = 0
    GROUP BY provider_id, case_id
) AS steps;

-- The cases, one row each, as before (plus the obligations missed and the next due instant).
DROP TABLE IF EXISTS cases;
CREATE VIEW cases AS
SELECT
    provider_id,
    case_id,
    rule_id,
    article,
    severity,
    service_id,
    subject,
    opened_at,
    trigger_event_id,
    length(obligations_missed) AS deadlines_missed,
    obligations_met,
    obligations_missed,
    closed,
    closed_at,
    next_due
FROM case_heads FINAL
WHERE retracted = 0;
