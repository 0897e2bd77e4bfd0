-- Late reports (issue: the regulator's side of the law, corrections and late reports): how long
-- after they occurred a provider's events were received, per month of occurrence, to the minute
-- (capped at 366 days), kept by the inserts into `events`; the report card counts the events
-- received at least `late_report_hours` (ART16-GRADE, configuration recorded in
-- grade_parameters) after they occurred. A flag beside the grade, not part of it.
CREATE TABLE IF NOT EXISTS reporting_lags
(
    provider_id String,
    month Date,
    lag_minutes UInt32,
    events UInt64
)
ENGINE = SummingMergeTree()
ORDER BY (provider_id, month, lag_minutes);

CREATE MATERIALIZED VIEW IF NOT EXISTS reporting_lags_mv TO reporting_lags AS
SELECT provider_id, toStartOfMonth(occurred_at) AS month,
       toUInt32(least(intDiv(greatest(toInt64(received_at) - toInt64(occurred_at), 0), 60),
                      527040)) AS lag_minutes,
       count() AS events
FROM events
GROUP BY provider_id, month, lag_minutes;

INSERT INTO reporting_lags
SELECT provider_id, toStartOfMonth(occurred_at) AS month,
       toUInt32(least(intDiv(greatest(toInt64(received_at) - toInt64(occurred_at), 0), 60),
                      527040)) AS lag_minutes,
       count() AS events
FROM events FINAL
GROUP BY provider_id, month, lag_minutes;

-- grade_parameters gains the lag, 24 hours (the catalog's default) for the values recorded
-- before. Made again rather than altered: on a cluster the table is replicated to every server,
-- and a column ALTER ON CLUSTER would run once per shard on the one replicated table.
CREATE TABLE IF NOT EXISTS grade_parameters_0037
(
    effective_from DateTime('UTC'),
    effective_from_ms UInt16,
    digest String,
    grade_a_error_rate Float64,
    max_error_rate Float64,
    grade_b_missed_deadlines UInt32,
    late_report_hours Float64
)
ENGINE = ReplacingMergeTree()
ORDER BY (effective_from, effective_from_ms, digest);

INSERT INTO grade_parameters_0037
SELECT effective_from, effective_from_ms, digest, grade_a_error_rate, max_error_rate,
       grade_b_missed_deadlines, 24
FROM grade_parameters FINAL;

DROP TABLE grade_parameters;
RENAME TABLE grade_parameters_0037 TO grade_parameters;
ALTER TABLE report_card_snapshots ADD COLUMN late_reports UInt64 DEFAULT 0;
ALTER TABLE report_card_snapshots ADD COLUMN late_report_hours Float64 DEFAULT 0;

-- As in 0031, with the late reports and the lag they were counted with.
DROP TABLE IF EXISTS report_cards;
CREATE VIEW report_cards AS
SELECT
    provider_id,
    month,
    events_stored,
    items_submitted,
    items_rejected,
    error_rate,
    arrayCount(r -> r > max_error_rate, daily_error_rates) AS days_over_error_limit,
    cases_opened,
    cases_closed,
    deadlines_missed,
    violations,
    multiIf(
        graded = 0, '',
        deadlines_missed + violations = 0 AND error_rate <= grade_a_error_rate, 'A',
        deadlines_missed + violations <= grade_b_missed_deadlines AND error_rate <= max_error_rate,
        'B',
        'C'
    ) AS grade,
    grade_a_error_rate,
    max_error_rate,
    grade_b_missed_deadlines,
    graded_with,
    if(graded = 0, 0, late_reports) AS late_reports,
    late_report_hours
FROM
(
SELECT
    provider_id,
    month,
    any(events_stored) AS events_stored,
    any(items_submitted) AS items_submitted,
    any(items_rejected) AS items_rejected,
    any(error_rate) AS error_rate,
    any(daily_error_rates) AS daily_error_rates,
    any(cases_opened) AS cases_opened,
    any(cases_closed) AS cases_closed,
    any(deadlines_missed) AS deadlines_missed,
    any(violations) AS violations,
    -- the latest values in force before the month's end, else the earliest recorded
    argMax(p_grade_a_error_rate, p_pick) AS grade_a_error_rate,
    argMax(p_max_error_rate, p_pick) AS max_error_rate,
    argMax(p_grade_b_missed_deadlines, p_pick) AS grade_b_missed_deadlines,
    argMax(p_digest, p_pick) AS graded_with,
    argMax(p_late_report_hours, p_pick) AS late_report_hours,
    -- counted with the lag in force, as the grade is (the lag passed to the lambda as an
    -- array: a column a lambda captures is not one the subqueries are asked for)
    argMax(
        arraySum(
            (m, n, h) -> if(m >= h * 60, n, 0),
            lag_minutes, lag_events, replicate(p_late_report_hours, lag_minutes)
        ),
        p_pick
    ) AS late_reports,
    max(p_recorded) AS graded
FROM
(
SELECT
    *,
    if(p_at < toInt64(toUInt32(addMonths(month, 1))) * 86400000, p_at, -p_at) AS p_pick
FROM
(
SELECT
    *,
    if(items_submitted = 0, 0, items_rejected / items_submitted) AS error_rate,
    1 AS one
FROM
(
SELECT *
FROM
(
SELECT *
FROM
(
    -- ClickHouse 18.16 takes one JOIN per SELECT: the earlier joins are nested.
    SELECT *
    FROM
    (
        SELECT provider_id, toStartOfMonth(hour) AS month, countMerge(events) AS events_stored
        FROM event_counts
        GROUP BY provider_id, month
    ) AS stored
    ANY LEFT JOIN
    (
    SELECT
        provider_id,
        month,
        sum(day_received) AS items_submitted,
        sum(day_received - day_accepted) AS items_rejected,
        -- one rate per day with items; counted against max_error_rate above
        groupArrayIf((day_received - day_accepted) / day_received, day_received > 0)
            AS daily_error_rates
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
    -- Cases opened and closed by month from case_heads; missed deadlines (by the month they
    -- fell due) from the misses alone: a fact's kind never changes between its revisions, so
    -- reading only kind 3 before FINAL merges them is exact.
    SELECT provider_id, month, sum(opened) AS cases_opened, sum(closed_in) AS cases_closed,
           sum(missed) AS deadlines_missed
    FROM
    (
        SELECT provider_id, toStartOfMonth(opened_at) AS month, count() AS opened,
               0 AS closed_in, 0 AS missed
        FROM case_heads FINAL
        WHERE retracted = 0
        GROUP BY provider_id, month
        UNION ALL
        SELECT provider_id, toStartOfMonth(closed_at) AS month, 0 AS opened,
               count() AS closed_in, 0 AS missed
        FROM case_heads FINAL
        WHERE retracted = 0 AND closed = 1
        GROUP BY provider_id, month
        UNION ALL
        SELECT provider_id, toStartOfMonth(at) AS month, 0 AS opened, 0 AS closed_in,
               count() AS missed
        FROM case_facts FINAL
        PREWHERE kind = 3
        WHERE retracted = 0 AND rule_id != 'ART18-AUTHORITY-COMPLAINT'
        GROUP BY provider_id, month
    )
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
) AS violation_counts USING (provider_id, month)
) AS with_violations
ANY LEFT JOIN
(
    -- How long after they occurred the month's events were received, to the minute.
    SELECT provider_id, month, groupArray(lag) AS lag_minutes, groupArray(n) AS lag_events
    FROM
    (
        SELECT provider_id, month, lag_minutes AS lag, sum(events) AS n
        FROM reporting_lags
        GROUP BY provider_id, month, lag
    )
    GROUP BY provider_id, month
) AS lags USING (provider_id, month)
) AS counts
ALL LEFT JOIN
(
    SELECT
        1 AS one,
        1 AS p_recorded,
        toInt64(effective_from) * 1000 + effective_from_ms AS p_at,
        digest AS p_digest,
        grade_a_error_rate AS p_grade_a_error_rate,
        max_error_rate AS p_max_error_rate,
        grade_b_missed_deadlines AS p_grade_b_missed_deadlines,
        late_report_hours AS p_late_report_hours
    FROM grade_parameters FINAL
) AS parameters USING one
) AS candidates
GROUP BY provider_id, month
) AS chosen;
