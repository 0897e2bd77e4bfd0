-- Art. 12, ProduceID (issue: rules that match the law): GB 45438-2025 asks the implicit label's
-- ProduceID to identify the content, unique to the provider; a provider writing one id into many
-- files passed. Every valid ProduceID of a file (images, audio, video, virtual scenes) is kept by
-- provider and id, for lookups, and by the hour it arrived, so the check reads only the ids that
-- arrived since its last round (as the orphan checks do) and looks each up.
CREATE TABLE IF NOT EXISTS produce_ids
(
    provider_id String,
    produce_id String,
    event_id String,
    service_id String,
    occurred_at DateTime('UTC'),
    received_hour DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(received_hour)
ORDER BY (provider_id, produce_id, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS produce_ids_mv TO produce_ids AS
SELECT provider_id, produce_id, event_id, service_id, occurred_at,
       toStartOfHour(received_at) AS received_hour
FROM events
WHERE kind = 10 AND output_type IN (3, 4, 5, 6)
  AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$');

INSERT INTO produce_ids
SELECT provider_id, produce_id, event_id, service_id, occurred_at,
       toStartOfHour(received_at) AS received_hour
FROM events FINAL
WHERE kind = 10 AND output_type IN (3, 4, 5, 6)
  AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$');

CREATE TABLE IF NOT EXISTS produce_id_arrivals
(
    received_hour DateTime('UTC'),
    provider_id String,
    produce_id String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(received_hour)
ORDER BY (received_hour, provider_id, produce_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS produce_id_arrivals_mv TO produce_id_arrivals AS
SELECT toStartOfHour(received_at) AS received_hour, provider_id, produce_id
FROM events
WHERE kind = 10 AND output_type IN (3, 4, 5, 6)
  AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$');

INSERT INTO produce_id_arrivals
SELECT toStartOfHour(received_at) AS received_hour, provider_id, produce_id
FROM events FINAL
WHERE kind = 10 AND output_type IN (3, 4, 5, 6)
  AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$');
