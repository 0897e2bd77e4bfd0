-- Arts. 14-15, the orphan checks (issue: hours of load): a round read every citation and complaint
-- update that arrived since its last round less the grace period and an hour (citations and
-- complaint_updates, by the hour the gateway received them): at the default 24-hour grace, a day
-- of arrivals every 30 s, tens of millions of rows at a national deployment's rate. What a round
-- must judge is what became judgeable since the last one: rows the event store took in since
-- (by the minute of ingested_at: a row that arrives after its grace is judged at once) and rows
-- whose grace ended since (by occurred_at: the grace is configuration, so the instant it ends
-- cannot be stored). Each is an index of its own; a round reads two narrow windows of them
-- (jianguan.processors.monitor: ingested_since, matured_since). A complaint's alert counts every
-- status update it has, looked up by complaint.
DROP TABLE IF EXISTS citations_mv;
DROP TABLE IF EXISTS citations;
DROP TABLE IF EXISTS complaint_updates_mv;
DROP TABLE IF EXISTS complaint_updates;

-- Citations of earlier events (incident reports 12, dispositions 16, rectifications 17).
CREATE TABLE IF NOT EXISTS citation_ingestions
(
    ingested_minute DateTime('UTC'),
    provider_id String,
    service_id String,
    event_id String,
    kind UInt8,
    occurred_at DateTime('UTC'),
    ref String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMMDD(ingested_minute)
ORDER BY (ingested_minute, provider_id, event_id, ref);

CREATE MATERIALIZED VIEW IF NOT EXISTS citation_ingestions_mv TO citation_ingestions AS
SELECT toStartOfMinute(ingested_at) AS ingested_minute, provider_id, service_id, event_id, kind,
       occurred_at, ref
FROM events
ARRAY JOIN related_event_ids AS ref
WHERE kind IN (12, 16, 17);

INSERT INTO citation_ingestions
SELECT toStartOfMinute(ingested_at) AS ingested_minute, provider_id, service_id, event_id, kind,
       occurred_at, ref
FROM events FINAL
ARRAY JOIN related_event_ids AS ref
WHERE kind IN (12, 16, 17);

CREATE TABLE IF NOT EXISTS citation_occurrences
(
    occurred_at DateTime('UTC'),
    provider_id String,
    service_id String,
    event_id String,
    kind UInt8,
    ref String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (occurred_at, provider_id, event_id, ref);

CREATE MATERIALIZED VIEW IF NOT EXISTS citation_occurrences_mv TO citation_occurrences AS
SELECT occurred_at, provider_id, service_id, event_id, kind, ref
FROM events
ARRAY JOIN related_event_ids AS ref
WHERE kind IN (12, 16, 17);

INSERT INTO citation_occurrences
SELECT occurred_at, provider_id, service_id, event_id, kind, ref
FROM events FINAL
ARRAY JOIN related_event_ids AS ref
WHERE kind IN (12, 16, 17);

-- Complaint status events (kind 13): by complaint, and the keys by ingestion and by occurrence.
CREATE TABLE IF NOT EXISTS complaint_updates_by_subject
(
    provider_id String,
    subject String,
    event_id String,
    service_id String,
    occurred_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (provider_id, subject, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS complaint_updates_by_subject_mv
TO complaint_updates_by_subject AS
SELECT provider_id, subject_id AS subject, event_id, service_id, occurred_at
FROM events
WHERE kind = 13;

INSERT INTO complaint_updates_by_subject
SELECT provider_id, subject_id AS subject, event_id, service_id, occurred_at
FROM events FINAL
WHERE kind = 13;

CREATE TABLE IF NOT EXISTS complaint_update_ingestions
(
    ingested_minute DateTime('UTC'),
    provider_id String,
    subject String,
    occurred_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMMDD(ingested_minute)
ORDER BY (ingested_minute, provider_id, subject, occurred_at);

CREATE MATERIALIZED VIEW IF NOT EXISTS complaint_update_ingestions_mv
TO complaint_update_ingestions AS
SELECT toStartOfMinute(ingested_at) AS ingested_minute, provider_id, subject_id AS subject,
       occurred_at
FROM events
WHERE kind = 13;

INSERT INTO complaint_update_ingestions
SELECT toStartOfMinute(ingested_at) AS ingested_minute, provider_id, subject_id AS subject,
       occurred_at
FROM events FINAL
WHERE kind = 13;

CREATE TABLE IF NOT EXISTS complaint_update_occurrences
(
    occurred_at DateTime('UTC'),
    provider_id String,
    subject String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (occurred_at, provider_id, subject);

CREATE MATERIALIZED VIEW IF NOT EXISTS complaint_update_occurrences_mv
TO complaint_update_occurrences AS
SELECT occurred_at, provider_id, subject_id AS subject
FROM events
WHERE kind = 13;

INSERT INTO complaint_update_occurrences
SELECT occurred_at, provider_id, subject_id AS subject
FROM events FINAL
WHERE kind = 13;
