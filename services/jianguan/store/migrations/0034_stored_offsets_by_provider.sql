-- The highest offset of the events topic stored so far, per partition and provider (it replaces
-- the per-partition table of 0011). Written by the very INSERT that writes the rows, and, on a
-- ClickHouse cluster, on the shard of those rows: an insert through a Distributed table is atomic
-- per shard only, so "every record up to offset N is stored" holds per provider, not per
-- partition. The event-store sink passes over a re-read record whose provider has it stored
-- (store/sink.py), so the raw `events` table holds each accepted event once on a cluster too.
CREATE TABLE IF NOT EXISTS events_stored_offsets_by_provider
(
    provider_id String,
    kafka_partition UInt16,
    kafka_offset UInt64
)
ENGINE = ReplacingMergeTree(kafka_offset)
ORDER BY (provider_id, kafka_partition);

CREATE MATERIALIZED VIEW IF NOT EXISTS events_stored_offsets_by_provider_mv
TO events_stored_offsets_by_provider AS
SELECT provider_id, kafka_partition, max(kafka_offset) AS kafka_offset
FROM events
GROUP BY provider_id, kafka_partition;

INSERT INTO events_stored_offsets_by_provider
SELECT provider_id, kafka_partition, max(kafka_offset) AS kafka_offset
FROM events
GROUP BY provider_id, kafka_partition;

DROP TABLE IF EXISTS events_stored_offsets_mv;
DROP TABLE IF EXISTS events_stored_offsets;
