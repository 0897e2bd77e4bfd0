-- Art. 12 (issue: rules that match the law), the summaries of 0018 rebuilt under two readings:
-- * the Labeling Measures' waiver: an output given without an explicit label because the user
--   asked for it under the user agreement (Labeling Measures Art. 9; Generation.
--   explicit_label_waived, a new column) needs no explicit label; its implicit label is still
--   required;
-- * text: the Labeling Measures (Art. 4 (1)) ask an explicit label in the text of the services of
--   the Deep Synthesis Provisions Art. 17 ¶1, such as intelligent dialogue and writing; the
--   implicit label of GB 45438-2025 belongs in a file's metadata (Art. 5) and is still judged for
--   images, audio, video and virtual scenes only. JSON output (read by programs) stays out.
-- The condition is `checks.LABEL_OK`, the types `checks.LABELED_OUTPUTS`, the reasons
-- `checks.UNLABELED_REASON` (a test holds these copies equal to them).
ALTER TABLE events ADD COLUMN
    explicit_label_waived UInt8 DEFAULT 0;

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
       sumState(toUInt64((explicit_label = 1 OR explicit_label_waived = 1) AND (output_type = 1 OR (implicit_label = 1 AND content_producer != '' AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$'))))) AS labeled
FROM events
WHERE kind = 10 AND output_type IN (1, 3, 4, 5, 6)
GROUP BY provider_id, service_id, hour;

INSERT INTO labeling_hours
SELECT provider_id, service_id, toStartOfHour(occurred_at) AS hour, countState() AS total,
       sumState(toUInt64((explicit_label = 1 OR explicit_label_waived = 1) AND (output_type = 1 OR (implicit_label = 1 AND content_producer != '' AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$'))))) AS labeled
FROM events FINAL
WHERE kind = 10 AND output_type IN (1, 3, 4, 5, 6)
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
       multiIf(explicit_label != 1 AND explicit_label_waived != 1, 'no explicit label', implicit_label = 0, 'no implicit label', implicit_label != 1, 'implicit label not "generated"', content_producer = '', 'no ContentProducer', 'no valid ProduceID') AS reason
FROM events
WHERE kind = 10 AND output_type IN (1, 3, 4, 5, 6)
  AND NOT ((explicit_label = 1 OR explicit_label_waived = 1) AND (output_type = 1 OR (implicit_label = 1 AND content_producer != '' AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$'))));

INSERT INTO unlabeled_outputs
SELECT provider_id, service_id, toStartOfHour(occurred_at) AS hour, event_id,
       multiIf(explicit_label != 1 AND explicit_label_waived != 1, 'no explicit label', implicit_label = 0, 'no implicit label', implicit_label != 1, 'implicit label not "generated"', content_producer = '', 'no ContentProducer', 'no valid ProduceID') AS reason
FROM events FINAL
WHERE kind = 10 AND output_type IN (1, 3, 4, 5, 6)
  AND NOT ((explicit_label = 1 OR explicit_label_waived = 1) AND (output_type = 1 OR (implicit_label = 1 AND content_producer != '' AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$'))));
