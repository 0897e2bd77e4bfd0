-- Why each output counts as unlabeled (Art. 12, GB 45438-2025): the first condition of
-- `checks.LABEL_OK` it fails, by `checks.UNLABELED_REASON` (a test holds these copies equal to
-- them and the reasons to the condition). The alert then says how many failed for which reason.
DROP TABLE IF EXISTS unlabeled_outputs_mv;
DROP TABLE IF EXISTS unlabeled_outputs;

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
