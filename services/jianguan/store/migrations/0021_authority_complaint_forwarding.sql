-- Art. 18 (issue: rules that match the law): the provider's record of a complaint made to the
-- authority is due from when the authority forwarded it (AuthorityComplaint.forwarded_at), not
-- from the authority's receipt. An authority records a complaint when received and again once
-- forwarded; the table keeps the latest forwarding (ReplacingMergeTree(forwarded_at), so the
-- version that was forwarded wins whatever order the two arrive in). Rows recorded before have
-- none (1970-01-01: not forwarded).
CREATE TABLE IF NOT EXISTS authority_complaints_forwarded
(
    provider_id String,
    authority_ref String,
    authority_id String,
    service_id String,
    received_at DateTime('UTC'),
    forwarded_at DateTime('UTC'),
    category UInt8,
    payload String
)
ENGINE = ReplacingMergeTree(forwarded_at)
PARTITION BY toYYYYMM(received_at)
ORDER BY (provider_id, authority_ref);

INSERT INTO authority_complaints_forwarded
SELECT provider_id, authority_ref, authority_id, service_id, received_at, toDateTime(0, 'UTC'),
       category, payload
FROM authority_complaints FINAL;

RENAME TABLE authority_complaints TO authority_complaints_0005,
             authority_complaints_forwarded TO authority_complaints;
DROP TABLE authority_complaints_0005;
