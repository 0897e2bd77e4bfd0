-- Every step of every case (jg.cases.v1), and every alert (jg.alerts.v1). Idempotent on the
-- facts' deterministic ids, so redeliveries and a replay into the same table collapse.
-- kind: jianguan.v1.CaseFactKind (1 opened, 2 obligation met, 3 deadline missed, 4 closed).
CREATE TABLE IF NOT EXISTS case_facts
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
    )
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (provider_id, case_id, fact_id);

CREATE TABLE IF NOT EXISTS alerts
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
    evidence Array(String)
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(due)
ORDER BY (provider_id, alert_id);

-- One row per case: its rule, article, subject, when it opened, what is overdue, whether closed.
CREATE VIEW IF NOT EXISTS cases AS
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
GROUP BY provider_id, case_id;
