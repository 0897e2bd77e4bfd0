-- Labeling judged as GB 45438-2025 asks of the generating service (Art. 12, issue: rules that match
-- the law): the implicit label must say "generated" (Label 1; 2 and 3, "possibly" and "suspected",
-- are a distribution platform's verdicts on content it did not make), ContentProducer must name
-- the producer, and virtual scenes (6) are judged beside images (3), audio (4) and video (5). The
-- condition is `checks.LABEL_OK` and the types `checks.LABELED_OUTPUTS`; each unlabeled output keeps
-- why, the first condition it fails (`checks.UNLABELED_REASON`). A test holds these copies equal to
-- them. The summaries of 0015 are rebuilt from the event store under the new reading.
DROP TABLE IF EXISTS labeling_hours_mv;
DROP TABLE IF EXISTS unlabeled_outputs_mv;
DROP TABLE IF EXISTS labeling_hours;
DROP TABLE IF EXISTS unlabeled_outputs;

CREATE TABLE labeling_hours
(
    provider_id String,
    service_id String,
    hour DateTime('UTC'),
    total AggregateFunction(count),
    labeled AggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (provider_id, service_id, hour);

CREATE MATERIALIZED VIEW labeling_hours_mv TO labeling_hours AS
SELECT provider_id, service_id, toStartOfHour(occurred_at) AS hour, countState() AS total,
       sumState(toUInt64(explicit_label = 1 AND implicit_label = 1 AND content_producer != '' AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$'))) AS labeled
FROM events
WHERE kind = 10 AND output_type IN (3, 4, 5, 6)
GROUP BY provider_id, service_id, hour;

INSERT INTO labeling_hours
SELECT provider_id, service_id, toStartOfHour(occurred_at) AS hour, countState() AS total,
       sumState(toUInt64(explicit_label = 1 AND implicit_label = 1 AND content_producer != '' AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$'))) AS labeled
FROM events FINAL
WHERE kind = 10 AND output_type IN (3, 4, 5, 6)
GROUP BY provider_id, service_id, hour;

CREATE TABLE unlabeled_outputs
(
    provider_id String,
    service_id String,
    hour DateTime('UTC'),
    event_id String,
    reason String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (provider_id, service_id, hour, event_id);

CREATE MATERIALIZED VIEW unlabeled_outputs_mv TO unlabeled_outputs AS
SELECT provider_id, service_id, toStartOfHour(occurred_at) AS hour, event_id,
       multiIf(explicit_label != 1, 'no explicit label', implicit_label = 0, 'no implicit label', implicit_label != 1, 'implicit label not "generated"', content_producer = '', 'no ContentProducer', 'no valid ProduceID') AS reason
FROM events
WHERE kind = 10 AND output_type IN (3, 4, 5, 6)
  AND NOT (explicit_label = 1 AND implicit_label = 1 AND content_producer != '' AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$'));

INSERT INTO unlabeled_outputs
SELECT provider_id, service_id, toStartOfHour(occurred_at) AS hour, event_id,
       multiIf(explicit_label != 1, 'no explicit label', implicit_label = 0, 'no implicit label', implicit_label != 1, 'implicit label not "generated"', content_producer = '', 'no ContentProducer', 'no valid ProduceID') AS reason
FROM events FINAL
WHERE kind = 10 AND output_type IN (3, 4, 5, 6)
  AND NOT (explicit_label = 1 AND implicit_label = 1 AND content_producer != '' AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$'));
