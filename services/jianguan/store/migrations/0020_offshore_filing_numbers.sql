-- Art. 20 (issue: rules that match the law): an offshore service counted as "without a filing"
-- only when it showed no filing number at all, so any invented number passed. An observation now
-- counts unless the number it shows is a filing in effect at the time it was seen: the number of
-- a registration, algorithm filing or change filing (kinds 1, 3, 4) reported to the platform,
-- whose latest status then was GRANTED (2) and which no granted cancellation (kind 5, status 2)
-- had ended. Whose filing it is does not matter here: the observation is about the offshore
-- service.

-- Every offshore observation (kind 18), with the number it showed ('' = none).
ALTER TABLE offshore_observations ADD COLUMN filing_number String;

DROP TABLE IF EXISTS offshore_observations_mv;
CREATE MATERIALIZED VIEW offshore_observations_mv TO offshore_observations AS
SELECT provider_id, subject_id AS target, event_id, occurred_at, jurisdiction,
       estimated_domestic_users, filing_number
FROM events
WHERE kind = 18;

INSERT INTO offshore_observations
SELECT provider_id, subject_id AS target, event_id, occurred_at, jurisdiction,
       estimated_domestic_users, filing_number
FROM events FINAL
WHERE kind = 18 AND filing_number != '';

-- The observations of services without a filing in effect when seen; targets in lower case (a
-- domain name is case-insensitive), one home for the ART20-OFFSHORE check and offshore_cases.
CREATE VIEW IF NOT EXISTS offshore_unfiled AS
SELECT provider_id, target, event_id, occurred_at, jurisdiction, estimated_domestic_users,
       filing_number
FROM
(
    SELECT
        provider_id,
        lower(target) AS target,
        event_id,
        any(seen_at) AS occurred_at,
        any(seen_jurisdiction) AS jurisdiction,
        any(seen_users) AS estimated_domestic_users,
        any(filing_number) AS filing_number,
        -- the latest status of that number as of the observation (0: none then)
        argMax(status_then, status_at) AS status
    FROM
    (
        SELECT
            provider_id,
            target,
            event_id,
            occurred_at AS seen_at,
            jurisdiction AS seen_jurisdiction,
            estimated_domestic_users AS seen_users,
            filing_number,
            if(f_at <= occurred_at, f_status, 0) AS status_then,
            if(f_at <= occurred_at, toUInt32(f_at), 0) AS status_at
        FROM
        (
            SELECT * FROM offshore_observations FINAL
        ) AS observed
        ALL LEFT JOIN
        (
            -- a granted cancellation ends the filing: as if revoked (4)
            SELECT filing_number, occurred_at AS f_at, if(filing_kind = 5, 4, filing_status) AS f_status
            FROM filings FINAL
            WHERE filing_number != ''
              AND (filing_kind IN (1, 3, 4) OR (filing_kind = 5 AND filing_status = 2))
        ) AS filed USING (filing_number)
    ) AS candidates
    GROUP BY provider_id, target, event_id
) AS judged
WHERE status != 2;

DROP TABLE IF EXISTS offshore_cases;
CREATE VIEW offshore_cases AS
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
        target,
        count() AS observations,
        min(occurred_at) AS first_seen,
        max(occurred_at) AS last_seen,
        max(estimated_domestic_users) AS users,
        arrayStringConcat(arraySort(groupUniqArray(jurisdiction)), '/') AS jurisdiction
    FROM offshore_unfiled
    WHERE estimated_domestic_users > 0
    GROUP BY target
) AS observed
ANY LEFT JOIN
(
    SELECT lower(target) AS target, max(stage) AS stage, max(at) AS disposition_at
    FROM offshore_dispositions FINAL
    GROUP BY target
) AS disposed USING (target);
