-- The compliance grade (issue: rules that match the law), otherwise as in 0013:
-- * it counts the store checks' violations (an unfiled public-opinion service, unlabeled
--   outputs, a change or cancellation not filed, minors beyond their limit, orphan references)
--   beside missed case deadlines: before, a service serving without any filing could be graded A;
-- * it leaves out misses of ART18-AUTHORITY-COMPLAINT: Art. 18 gives users a right to complain to
--   the authorities, and a complaint made there with no matching record at the provider is no
--   proof of the provider's fault (the provider may never have been told of it). The rule still
--   opens cases and alerts.
DROP TABLE IF EXISTS report_cards;
CREATE VIEW report_cards AS
SELECT
    provider_id,
    month,
    events_stored,
    items_submitted,
    items_rejected,
    if(items_submitted = 0, 0, items_rejected / items_submitted) AS error_rate,
    days_over_error_limit,
    cases_opened,
    cases_closed,
    deadlines_missed,
    violations,
    multiIf(
        deadlines_missed + violations = 0 AND error_rate <= 0.01, 'A',
        deadlines_missed + violations <= 3 AND error_rate <= 0.05, 'B',
        'C'
    ) AS grade
FROM
(
SELECT *
FROM
(
    -- ClickHouse 18.16 takes one JOIN per SELECT: the earlier joins are nested.
    SELECT *
    FROM
    (
        SELECT provider_id, toStartOfMonth(occurred_at) AS month, count() AS events_stored
        FROM events FINAL
        GROUP BY provider_id, month
    ) AS stored
    ANY LEFT JOIN
    (
    SELECT
        provider_id,
        month,
        sum(day_received) AS items_submitted,
        sum(day_received - day_accepted) AS items_rejected,
        countIf(day_received > 0 AND (day_received - day_accepted) / day_received > 0.05)
            AS days_over_error_limit
    FROM
    (
        SELECT
            provider_id,
            toStartOfMonth(received_at) AS month,
            toDate(received_at) AS day,
            sum(received) AS day_received,
            sum(accepted) AS day_accepted
        FROM ingest_outcomes FINAL
        GROUP BY provider_id, month, day
    ) AS daily
    GROUP BY provider_id, month
    ) AS ingest USING (provider_id, month)
) AS stored_and_ingest
ANY LEFT JOIN
(
    SELECT
        provider_id,
        toStartOfMonth(at) AS month,
        countIf(kind = 1) AS cases_opened,
        countIf(kind = 4) AS cases_closed,
        countIf(kind = 3 AND rule_id != 'ART18-AUTHORITY-COMPLAINT') AS deadlines_missed
    FROM case_facts FINAL
    WHERE retracted = 0
    GROUP BY provider_id, month
) AS case_counts USING (provider_id, month)
) AS with_cases
ANY LEFT JOIN
(
    -- The store checks' violations (one alert each, not a missed case deadline), by the month
    -- they were detected; offshore services (no provider of ours) and withdrawn alerts aside.
    SELECT provider_id, toStartOfMonth(detected_at) AS month, count() AS violations
    FROM alerts FINAL
    WHERE retracted = 0 AND provider_id != '' AND alert_id NOT LIKE '%/DEADLINE_MISSED/%'
    GROUP BY provider_id, month
) AS violation_counts USING (provider_id, month);
