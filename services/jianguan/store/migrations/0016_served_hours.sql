-- Hours in which each service served (Art. 17): the filing checks judge the status of a filing as
-- of each moment of service, and service is known to the hour. Kept by the insert into `events`
-- (like the summaries of 0015); one row per service and hour, however many generations.
CREATE TABLE IF NOT EXISTS served_hours
(
    provider_id String,
    service_id String,
    hour DateTime('UTC'),
    generations AggregateFunction(count)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (provider_id, service_id, hour);

CREATE MATERIALIZED VIEW IF NOT EXISTS served_hours_mv TO served_hours AS
SELECT provider_id, service_id, toStartOfHour(occurred_at) AS hour, countState() AS generations
FROM events
WHERE kind = 10
GROUP BY provider_id, service_id, hour;

INSERT INTO served_hours
SELECT provider_id, service_id, toStartOfHour(occurred_at) AS hour, countState() AS generations
FROM events FINAL
WHERE kind = 10
GROUP BY provider_id, service_id, hour;
