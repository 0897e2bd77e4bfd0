-- Complaints users made to an authority (Art. 18), as the authority recorded them, with the
-- message itself (payload) for replay. Idempotent on the authority's reference.
CREATE TABLE IF NOT EXISTS authority_complaints
(
    provider_id String,
    authority_ref String,
    authority_id String,
    service_id String,
    received_at DateTime('UTC'),
    category UInt8,
    payload String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(received_at)
ORDER BY (provider_id, authority_ref);
