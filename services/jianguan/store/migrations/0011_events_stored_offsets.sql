-- The highest offset of the events topic stored so far, per partition. The materialized view is
-- written by the very INSERT that writes the rows, so after any crash the event-store sink resumes
-- after what is stored, not after its last commit, and the raw `events` table holds each accepted
-- event once (FINAL and events_unique remain the guard against a provider's own resends).
CREATE TABLE IF NOT EXISTS events_stored_offsets
(
    kafka_partition UInt16,
    kafka_offset UInt64
)
ENGINE = ReplacingMergeTree(kafka_offset)
ORDER BY kafka_partition;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_stored_offsets_mv TO events_stored_offsets AS
SELECT kafka_partition, max(kafka_offset) AS kafka_offset
FROM events
GROUP BY kafka_partition;

INSERT INTO events_stored_offsets
SELECT kafka_partition, max(kafka_offset) AS kafka_offset
FROM events
GROUP BY kafka_partition;
