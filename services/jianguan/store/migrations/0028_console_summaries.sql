-- What the console and Grafana read kept small as the event store grows (issue: the console as
-- an analysis tool; bench/console.py measures every page with ten million events stored).
--
-- event_counts: events per provider, service, kind and hour they occurred, and when the last of
-- them was received, kept by the inserts into events (a row inserted twice, which the sink's
-- commit-after-insert makes rare, counts twice here and once in events FINAL). The overview's
-- totals, the provider index, the filters' choices and the report cards read it instead of
-- scanning events FINAL.
CREATE TABLE IF NOT EXISTS event_counts
(
    provider_id String,
    service_id String,
    kind UInt8,
    hour DateTime('UTC'),
    events AggregateFunction(count),
    last_received AggregateFunction(max, DateTime('UTC'))
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (provider_id, service_id, kind, hour);

CREATE MATERIALIZED VIEW IF NOT EXISTS event_counts_mv TO event_counts AS
SELECT provider_id, service_id, kind, toStartOfHour(occurred_at) AS hour, countState() AS events,
       maxState(received_at) AS last_received
FROM events
GROUP BY provider_id, service_id, kind, hour;

INSERT INTO event_counts
SELECT provider_id, service_id, kind, toStartOfHour(occurred_at) AS hour, countState() AS events,
       maxState(received_at) AS last_received
FROM events FINAL
GROUP BY provider_id, service_id, kind, hour;

-- filings: with the complaint deadline a filing publishes (Art. 15), so the console's filings
-- list reads this table, not events FINAL. Rows written before take it from the event again.
ALTER TABLE filings ADD COLUMN complaint_deadline_days UInt16;
DROP TABLE IF EXISTS filings_mv;
CREATE MATERIALIZED VIEW filings_mv TO filings AS
SELECT provider_id, service_id, event_id, occurred_at, filing_kind, filing_status, filing_number,
       model_version, public_opinion_attribute, minor_daily_minutes, content_producer,
       complaint_deadline_days
FROM events
WHERE kind = 15;
INSERT INTO filings
SELECT provider_id, service_id, event_id, occurred_at, filing_kind, filing_status, filing_number,
       model_version, public_opinion_attribute, minor_daily_minutes, content_producer,
       complaint_deadline_days
FROM events FINAL
WHERE kind = 15;

-- The report cards as in 0019, their events counted from event_counts.
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
    graded_with
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
) AS violation_counts USING (provider_id, month)
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
        grade_b_missed_deadlines AS p_grade_b_missed_deadlines
    FROM grade_parameters FINAL
) AS parameters USING one
) AS candidates
GROUP BY provider_id, month
) AS chosen;
