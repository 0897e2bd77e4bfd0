-- What the sinks set aside: a record, or one event of a record, that the store cannot keep (not
-- decodable, not attributable, a value outside its column, refused by the server), with the
-- reason, so that one bad record never stops storage for anyone: the sink writes it here and
-- carries on. `item` is 0 for a whole record, else the event's position in its record plus one.
-- The payload is kept as it was read, so it can be examined and re-ingested once fixed.
-- A crash between setting aside and committing can write a row again: same key, collapsed.
CREATE TABLE IF NOT EXISTS quarantine
(
    topic String,
    kafka_partition UInt16,
    kafka_offset UInt64,
    item UInt32,
    provider_id String,
    event_id String,
    cause String,
    reason String,
    payload String,
    quarantined_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
ORDER BY (topic, kafka_partition, kafka_offset, item);
