-- What happened to every received batch, by path (grpc, kafka): counts and every non-accepted
-- item with its status, field and reason. Report cards take error rates from here; the console
-- shows "ingest errors by reason". Idempotent on outcome_id (redelivery collapses).
-- status values are jianguan.v1.ItemStatus numbers; ingest_errors names them.
CREATE TABLE IF NOT EXISTS ingest_outcomes
(
    provider_id String,
    path String,
    outcome_id String,
    batch_id String,
    received_at DateTime('UTC'),
    received UInt32,
    accepted UInt32,
    results Nested
    (
        item_index UInt32,
        event_id String,
        status UInt8,
        field_path String,
        reason String
    ),
    kafka_partition UInt16,
    kafka_offset UInt64
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(received_at)
ORDER BY (provider_id, received_at, outcome_id);

-- One row per non-accepted item, statuses by name.
CREATE VIEW IF NOT EXISTS ingest_errors AS
SELECT
    provider_id,
    path,
    outcome_id,
    batch_id,
    received_at,
    results.item_index AS item_index,
    results.event_id AS event_id,
    CAST(results.status AS Enum8('UNSPECIFIED' = 0, 'ACCEPTED' = 1, 'DUPLICATE' = 2, 'INVALID' = 3, 'RATE_LIMITED' = 4, 'FORBIDDEN' = 5, 'PERSONAL_INFORMATION' = 6, 'UNAVAILABLE' = 7)) AS status,
    results.field_path AS field_path,
    results.reason AS reason
FROM ingest_outcomes FINAL
ARRAY JOIN results;
