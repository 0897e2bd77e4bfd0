-- Art. 20: what regulators did about each offshore service, and one row per service observed
-- without a filing: how often and by how many domestic users, and its disposition so far.
-- stage: jianguan.v1.DispositionStage (1 notified, 2 technical measures, 3 closed).
CREATE TABLE IF NOT EXISTS offshore_dispositions
(
    target String,
    stage UInt8,
    at DateTime('UTC'),
    authority_id String,
    note String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(at)
ORDER BY (target, stage, at);

CREATE VIEW IF NOT EXISTS offshore_cases AS
SELECT
    target,
    observations,
    first_seen,
    last_seen,
    users AS estimated_domestic_users,
    jurisdiction,
    CAST(stage AS Enum8('OPEN' = 0, 'NOTIFIED' = 1, 'TECHNICAL_MEASURES' = 2, 'CLOSED' = 3))
        AS disposition,
    disposition_at
FROM
(
    SELECT
        subject_id AS target,
        count() AS observations,
        min(occurred_at) AS first_seen,
        max(occurred_at) AS last_seen,
        max(estimated_domestic_users) AS users,
        any(jurisdiction) AS jurisdiction
    FROM events FINAL
    WHERE kind = 18 AND filing_number = '' AND estimated_domestic_users > 0
    GROUP BY target
) AS observed
ANY LEFT JOIN
(
    SELECT target, max(stage) AS stage, max(at) AS disposition_at
    FROM offshore_dispositions FINAL
    GROUP BY target
) AS disposed USING (target);
