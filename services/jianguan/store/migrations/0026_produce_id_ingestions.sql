-- Art. 12, ProduceID (issue: hours of load): the duplicate check read every ProduceID that
-- arrived since the start of the hour before its last round (produce_id_arrivals, by the hour the
-- gateway received it, less an hour for a store that lags behind), so a round cost up to two hours
-- of arrivals, ~4.5 s of ClickHouse after ten minutes at 8,500 events/s and growing through every
-- hour. The ids are now kept by the minute the event store took them in (ingested_at: a row is
-- visible moments after it, however late the store caught up), so a round reads only what came in
-- since its last round, less a few minutes (jianguan.processors.monitor.INGESTION_MARGIN_S).
DROP TABLE IF EXISTS produce_id_arrivals_mv;
DROP TABLE IF EXISTS produce_id_arrivals;

CREATE TABLE IF NOT EXISTS produce_id_ingestions
(
    ingested_minute DateTime('UTC'),
    provider_id String,
    produce_id String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMMDD(ingested_minute)
ORDER BY (ingested_minute, provider_id, produce_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS produce_id_ingestions_mv TO produce_id_ingestions AS
SELECT toStartOfMinute(ingested_at) AS ingested_minute, provider_id, produce_id
FROM events
WHERE kind = 10 AND output_type IN (3, 4, 5, 6)
  AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$');

INSERT INTO produce_id_ingestions
SELECT toStartOfMinute(ingested_at) AS ingested_minute, provider_id, produce_id
FROM events FINAL
WHERE kind = 10 AND output_type IN (3, 4, 5, 6)
  AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$');
