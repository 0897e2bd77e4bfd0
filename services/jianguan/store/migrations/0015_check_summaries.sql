-- What the store checks (jianguan.store.checks) read instead of the event store: summaries kept
-- by the very INSERT that writes `events` (materialized views), so a check's cost follows the
-- number of services, models, hours, minor users or recent citations, never the length of the
-- history (scanning `events FINAL` every minute grew with every event ever stored).
-- The summaries see raw rows: an event a provider sends again after the gateway's duplicate
-- memory forgot it is counted twice in `generations` and `total`/`labeled` (the sink itself
-- never stores a record twice); every other value is a minimum, maximum, set or copy, which a
-- repeated row does not change. The data already stored is summarised once, below each view.

-- Every filing (kind 15): a handful per service. The filing rules read them all.
CREATE TABLE IF NOT EXISTS filings
(
    provider_id String,
    service_id String,
    event_id String,
    occurred_at DateTime('UTC'),
    filing_kind UInt8,
    filing_status UInt8,
    filing_number String,
    model_version String,
    public_opinion_attribute UInt8,
    minor_daily_minutes UInt16
)
ENGINE = ReplacingMergeTree()
ORDER BY (provider_id, service_id, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS filings_mv TO filings AS
SELECT provider_id, service_id, event_id, occurred_at, filing_kind, filing_status, filing_number,
       model_version, public_opinion_attribute, minor_daily_minutes
FROM events
WHERE kind = 15;

INSERT INTO filings
SELECT provider_id, service_id, event_id, occurred_at, filing_kind, filing_status, filing_number,
       model_version, public_opinion_attribute, minor_daily_minutes
FROM events FINAL
WHERE kind = 15;

-- What each service served, per model (kind 10): first and last generation (UNIX seconds), and
-- how many generations.
CREATE TABLE IF NOT EXISTS served_models
(
    provider_id String,
    service_id String,
    model String,
    first_served AggregateFunction(min, UInt32),
    last_served AggregateFunction(max, UInt32),
    generations AggregateFunction(count)
)
ENGINE = AggregatingMergeTree()
ORDER BY (provider_id, service_id, model);

CREATE MATERIALIZED VIEW IF NOT EXISTS served_models_mv TO served_models AS
SELECT provider_id, service_id, response_model AS model,
       minState(toUInt32(occurred_at)) AS first_served,
       maxState(toUInt32(occurred_at)) AS last_served,
       countState() AS generations
FROM events
WHERE kind = 10
GROUP BY provider_id, service_id, model;

INSERT INTO served_models
SELECT provider_id, service_id, response_model AS model,
       minState(toUInt32(occurred_at)) AS first_served,
       maxState(toUInt32(occurred_at)) AS last_served,
       countState() AS generations
FROM events FINAL
WHERE kind = 10
GROUP BY provider_id, service_id, model;

-- Image, video and audio generations per service and hour (Art. 12): how many, and how many
-- were labeled as GB 45438 requires. The condition is `checks.LABEL_OK` (a test holds this copy
-- equal to it); the ones that were not are kept by id, as the alert's evidence.
CREATE TABLE IF NOT EXISTS labeling_hours
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

CREATE MATERIALIZED VIEW IF NOT EXISTS labeling_hours_mv TO labeling_hours AS
SELECT provider_id, service_id, toStartOfHour(occurred_at) AS hour, countState() AS total,
       sumState(toUInt64(explicit_label = 1 AND implicit_label IN (1, 2, 3) AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$'))) AS labeled
FROM events
WHERE kind = 10 AND output_type IN (3, 4, 5)
GROUP BY provider_id, service_id, hour;

INSERT INTO labeling_hours
SELECT provider_id, service_id, toStartOfHour(occurred_at) AS hour, countState() AS total,
       sumState(toUInt64(explicit_label = 1 AND implicit_label IN (1, 2, 3) AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$'))) AS labeled
FROM events FINAL
WHERE kind = 10 AND output_type IN (3, 4, 5)
GROUP BY provider_id, service_id, hour;

CREATE TABLE IF NOT EXISTS unlabeled_outputs
(
    provider_id String,
    service_id String,
    hour DateTime('UTC'),
    event_id String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (provider_id, service_id, hour, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS unlabeled_outputs_mv TO unlabeled_outputs AS
SELECT provider_id, service_id, toStartOfHour(occurred_at) AS hour, event_id
FROM events
WHERE kind = 10 AND output_type IN (3, 4, 5)
  AND NOT (explicit_label = 1 AND implicit_label IN (1, 2, 3) AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$'));

INSERT INTO unlabeled_outputs
SELECT provider_id, service_id, toStartOfHour(occurred_at) AS hour, event_id
FROM events FINAL
WHERE kind = 10 AND output_type IN (3, 4, 5)
  AND NOT (explicit_label = 1 AND implicit_label IN (1, 2, 3) AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$'));

-- Minor-mode use per user and Beijing day (Art. 10): the distinct minutes with a generation.
CREATE TABLE IF NOT EXISTS minor_minutes
(
    provider_id String,
    service_id String,
    day Date,
    user_ref String,
    minutes AggregateFunction(uniqExact, UInt32)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (provider_id, service_id, day, user_ref);

CREATE MATERIALIZED VIEW IF NOT EXISTS minor_minutes_mv TO minor_minutes AS
SELECT provider_id, service_id, toDate(occurred_at, 'Asia/Shanghai') AS day, user_ref,
       uniqExactState(toUInt32(toStartOfMinute(occurred_at))) AS minutes
FROM events
WHERE kind = 10 AND minor_mode = 1 AND user_ref != ''
GROUP BY provider_id, service_id, day, user_ref;

INSERT INTO minor_minutes
SELECT provider_id, service_id, toDate(occurred_at, 'Asia/Shanghai') AS day, user_ref,
       uniqExactState(toUInt32(toStartOfMinute(occurred_at))) AS minutes
FROM events FINAL
WHERE kind = 10 AND minor_mode = 1 AND user_ref != ''
GROUP BY provider_id, service_id, day, user_ref;

-- The users a provider restricted, suspended or terminated (kind 12, action >= 2), per day.
CREATE TABLE IF NOT EXISTS interventions
(
    provider_id String,
    user_ref String,
    day Date
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(day)
ORDER BY (provider_id, user_ref, day);

CREATE MATERIALIZED VIEW IF NOT EXISTS interventions_mv TO interventions AS
SELECT provider_id, user_ref, toDate(occurred_at, 'Asia/Shanghai') AS day
FROM events
WHERE kind = 12 AND enforcement_action >= 2;

INSERT INTO interventions
SELECT provider_id, user_ref, toDate(occurred_at, 'Asia/Shanghai') AS day
FROM events FINAL
WHERE kind = 12 AND enforcement_action >= 2;

-- Offshore services observed without a filing number (kind 18): each is evidence of a violation.
CREATE TABLE IF NOT EXISTS offshore_observations
(
    provider_id String,
    target String,
    event_id String,
    occurred_at DateTime('UTC'),
    jurisdiction String,
    estimated_domestic_users UInt64
)
ENGINE = ReplacingMergeTree()
ORDER BY (provider_id, target, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS offshore_observations_mv TO offshore_observations AS
SELECT provider_id, subject_id AS target, event_id, occurred_at, jurisdiction,
       estimated_domestic_users
FROM events
WHERE kind = 18 AND filing_number = '';

INSERT INTO offshore_observations
SELECT provider_id, subject_id AS target, event_id, occurred_at, jurisdiction,
       estimated_domestic_users
FROM events FINAL
WHERE kind = 18 AND filing_number = '';

-- Events that cite others (enforcement 12, incident reports 16, rectifications 17), one row per
-- citation, by the hour they arrived; and every reported event's id that such events may cite
-- (moderation events, kind 11), looked up by id.
CREATE TABLE IF NOT EXISTS citations
(
    received_hour DateTime('UTC'),
    provider_id String,
    service_id String,
    event_id String,
    kind UInt8,
    occurred_at DateTime('UTC'),
    ref String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(received_hour)
ORDER BY (received_hour, provider_id, event_id, ref);

CREATE MATERIALIZED VIEW IF NOT EXISTS citations_mv TO citations AS
SELECT toStartOfHour(received_at) AS received_hour, provider_id, service_id, event_id, kind,
       occurred_at, ref
FROM events
ARRAY JOIN related_event_ids AS ref
WHERE kind IN (12, 16, 17);

INSERT INTO citations
SELECT toStartOfHour(received_at) AS received_hour, provider_id, service_id, event_id, kind,
       occurred_at, ref
FROM events FINAL
ARRAY JOIN related_event_ids AS ref
WHERE kind IN (12, 16, 17);

CREATE TABLE IF NOT EXISTS citable_ids
(
    provider_id String,
    event_id String,
    occurred_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (provider_id, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS citable_ids_mv TO citable_ids AS
SELECT provider_id, event_id, occurred_at
FROM events
WHERE kind = 11;

INSERT INTO citable_ids
SELECT provider_id, event_id, occurred_at
FROM events FINAL
WHERE kind = 11;

-- Complaint status events (kind 13) by the hour they arrived, and the complaints reported
-- received (status 1), looked up by complaint.
CREATE TABLE IF NOT EXISTS complaint_updates
(
    received_hour DateTime('UTC'),
    provider_id String,
    service_id String,
    subject String,
    event_id String,
    occurred_at DateTime('UTC'),
    complaint_status UInt8
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(received_hour)
ORDER BY (received_hour, provider_id, subject, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS complaint_updates_mv TO complaint_updates AS
SELECT toStartOfHour(received_at) AS received_hour, provider_id, service_id,
       subject_id AS subject, event_id, occurred_at, complaint_status
FROM events
WHERE kind = 13;

INSERT INTO complaint_updates
SELECT toStartOfHour(received_at) AS received_hour, provider_id, service_id,
       subject_id AS subject, event_id, occurred_at, complaint_status
FROM events FINAL
WHERE kind = 13;

CREATE TABLE IF NOT EXISTS complaints_received
(
    provider_id String,
    subject String,
    occurred_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (provider_id, subject);

CREATE MATERIALIZED VIEW IF NOT EXISTS complaints_received_mv TO complaints_received AS
SELECT provider_id, subject_id AS subject, occurred_at
FROM events
WHERE kind = 13 AND complaint_status = 1;

INSERT INTO complaints_received
SELECT provider_id, subject_id AS subject, occurred_at
FROM events FINAL
WHERE kind = 13 AND complaint_status = 1;
