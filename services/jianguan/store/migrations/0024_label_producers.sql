-- Art. 12, ContentProducer (issue: rules that match the law): GB 45438-2025 asks the implicit
-- label to name the provider of the generating service (its name or code); any non-empty text
-- passed. A service may register the code it writes (ServiceFiling.content_producer, kept in
-- filings); from then on a labeled file naming another counts as unlabeled. The check reads, per
-- service and hour, how many labeled files named each ContentProducer (with one of them as a
-- sample), and compares with the code registered as of that hour.
ALTER TABLE filings ADD COLUMN content_producer String;

DROP TABLE IF EXISTS filings_mv;
CREATE MATERIALIZED VIEW filings_mv TO filings AS
SELECT provider_id, service_id, event_id, occurred_at, filing_kind, filing_status, filing_number,
       model_version, public_opinion_attribute, minor_daily_minutes, content_producer
FROM events
WHERE kind = 15;

-- The labeled files (checks.LABEL_OK over images, audio, video and virtual scenes: text has no
-- implicit label), by the ContentProducer they name.
CREATE TABLE IF NOT EXISTS label_producers
(
    provider_id String,
    service_id String,
    hour DateTime('UTC'),
    content_producer String,
    outputs AggregateFunction(count),
    sample AggregateFunction(min, String)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (provider_id, service_id, hour, content_producer);

CREATE MATERIALIZED VIEW IF NOT EXISTS label_producers_mv TO label_producers AS
SELECT provider_id, service_id, toStartOfHour(occurred_at) AS hour, content_producer,
       countState() AS outputs, minState(event_id) AS sample
FROM events
WHERE kind = 10 AND output_type IN (3, 4, 5, 6)
  AND (explicit_label = 1 OR explicit_label_waived = 1) AND (output_type = 1 OR (implicit_label = 1 AND content_producer != '' AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$')))
GROUP BY provider_id, service_id, hour, content_producer;

INSERT INTO label_producers
SELECT provider_id, service_id, toStartOfHour(occurred_at) AS hour, content_producer,
       countState() AS outputs, minState(event_id) AS sample
FROM events FINAL
WHERE kind = 10 AND output_type IN (3, 4, 5, 6)
  AND (explicit_label = 1 OR explicit_label_waived = 1) AND (output_type = 1 OR (implicit_label = 1 AND content_producer != '' AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$')))
GROUP BY provider_id, service_id, hour, content_producer;
