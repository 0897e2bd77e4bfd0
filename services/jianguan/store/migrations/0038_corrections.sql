-- Corrections and retractions (issue: the regulator's side of the law): an event may replace an
-- earlier one of its provider (Envelope.corrects_event_id) or withdraw it (a Retraction, kind
-- 22, naming it in related_event_ids). The originals stay; `corrections` links each to what
-- corrected or withdrew it, for the console and for the store checks, which read around
-- corrected events.
ALTER TABLE events ADD COLUMN
    corrects_event_id String DEFAULT '' AFTER event_id;

CREATE TABLE IF NOT EXISTS corrections
(
    provider_id String,
    service_id String,
    original_event_id String,
    event_id String,
    retracted UInt8,
    occurred_at DateTime('UTC'),
    received_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree()
ORDER BY (provider_id, original_event_id, event_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS corrections_mv TO corrections AS
SELECT provider_id, service_id,
       if(kind = 22, related_event_ids[1], corrects_event_id) AS original_event_id,
       event_id, kind = 22 AS retracted, occurred_at, received_at
FROM events
WHERE corrects_event_id != '' OR kind = 22;

-- The filings and safety evaluations that stand: those no later event corrected or withdrew,
-- which the store checks read. GLOBAL: on a cluster the subquery reads every shard once (a
-- provider's corrections are on its own shard, but a server's DDL worker validates the view
-- under its own settings, which may deny a distributed subquery).
CREATE VIEW IF NOT EXISTS standing_filings AS
SELECT *
FROM filings FINAL
WHERE (provider_id, event_id) GLOBAL NOT IN (SELECT provider_id, original_event_id FROM corrections);

CREATE VIEW IF NOT EXISTS standing_safety_evaluations AS
SELECT *
FROM safety_evaluations FINAL
WHERE (provider_id, event_id) GLOBAL NOT IN (SELECT provider_id, original_event_id FROM corrections);

-- Retractions by name, and what each event corrects.
DROP TABLE IF EXISTS events_unique;
CREATE VIEW IF NOT EXISTS events_unique AS
SELECT
    provider_id,
    service_id,
    stream_id,
    event_id,
    corrects_event_id,
    CAST(kind AS Enum8('generation' = 10, 'moderation' = 11, 'user_enforcement' = 12, 'complaint' = 13, 'personal_info_request' = 14, 'service_filing' = 15, 'incident_report' = 16, 'model_rectification' = 17, 'offshore_observation' = 18, 'correction_report' = 19, 'inspection_response' = 20, 'safety_evaluation' = 21, 'retraction' = 22)) AS kind,
    occurred_at,
    occurred_nanos,
    received_at,
    ingested_at,
    sequence,
    prev_hash,
    schema_version,
    batch_id,
    kafka_partition,
    kafka_offset,
    user_ref,
    subject_id,
    related_event_ids,
    CAST(risk_category AS Enum8('UNSPECIFIED' = 0, 'SUBVERSION' = 1, 'NATIONAL_SECURITY' = 2, 'NATIONAL_IMAGE' = 3, 'SECESSION' = 4, 'TERRORISM_EXTREMISM' = 5, 'ETHNIC_HATRED' = 6, 'VIOLENCE' = 7, 'PORNOGRAPHY' = 8, 'FALSE_HARMFUL_INFORMATION' = 9, 'OTHER_PROHIBITED' = 10, 'DISCRIMINATION_ETHNICITY' = 20, 'DISCRIMINATION_BELIEF' = 21, 'DISCRIMINATION_NATIONALITY' = 22, 'DISCRIMINATION_REGION' = 23, 'DISCRIMINATION_GENDER' = 24, 'DISCRIMINATION_AGE' = 25, 'DISCRIMINATION_OCCUPATION' = 26, 'DISCRIMINATION_HEALTH' = 27, 'INTELLECTUAL_PROPERTY' = 30, 'PERSONAL_RIGHTS' = 31)) AS risk_category,
    CAST(gen_operation AS Enum8('UNSPECIFIED' = 0, 'CHAT' = 1, 'TEXT_COMPLETION' = 2, 'GENERATE_CONTENT' = 3, 'EMBEDDINGS' = 4, 'INVOKE_AGENT' = 5, 'EXECUTE_TOOL' = 6)) AS gen_operation,
    request_model,
    response_model,
    input_tokens,
    output_tokens,
    CAST(output_type AS Enum8('UNSPECIFIED' = 0, 'TEXT' = 1, 'JSON' = 2, 'IMAGE' = 3, 'AUDIO' = 4, 'VIDEO' = 5, 'VIRTUAL_SCENE' = 6)) AS output_type,
    CAST(finish_reasons AS Array(Enum8('UNSPECIFIED' = 0, 'STOP' = 1, 'LENGTH' = 2, 'CONTENT_FILTER' = 3, 'TOOL_CALLS' = 4, 'ERROR' = 5))) AS finish_reasons,
    minor_mode,
    explicit_label,
    CAST(implicit_label AS Enum8('UNSPECIFIED' = 0, 'GENERATED' = 1, 'POSSIBLY' = 2, 'SUSPECTED' = 3)) AS implicit_label,
    content_producer,
    produce_id,
    content_propagator,
    propagate_id,
    latency_ms,
    CAST(moderation_stage AS Enum8('UNSPECIFIED' = 0, 'INPUT' = 1, 'OUTPUT' = 2)) AS moderation_stage,
    CAST(moderation_action AS Enum8('UNSPECIFIED' = 0, 'NONE' = 1, 'BLOCKED' = 2, 'STOP_GENERATION' = 3, 'STOP_TRANSMISSION' = 4, 'REMOVED' = 5)) AS moderation_action,
    detector,
    confidence,
    CAST(enforcement_action AS Enum8('UNSPECIFIED' = 0, 'WARN' = 1, 'RESTRICT' = 2, 'SUSPEND' = 3, 'TERMINATE' = 4)) AS enforcement_action,
    reported_to_authority,
    record_kept,
    CAST(complaint_status AS Enum8('UNSPECIFIED' = 0, 'RECEIVED' = 1, 'ACKNOWLEDGED' = 2, 'RESOLVED' = 3)) AS complaint_status,
    CAST(complaint_channel AS Enum8('UNSPECIFIED' = 0, 'IN_APP' = 1, 'WEB_FORM' = 2, 'EMAIL' = 3, 'PHONE' = 4, 'LETTER' = 5, 'AUTHORITY_REFERRAL' = 6)) AS complaint_channel,
    CAST(complaint_category AS Enum8('UNSPECIFIED' = 0, 'ILLEGAL_CONTENT' = 1, 'DISCRIMINATION' = 2, 'PERSONAL_INFORMATION' = 3, 'MINOR_PROTECTION' = 4, 'INACCURATE_CONTENT' = 5, 'LABELING' = 6, 'INTELLECTUAL_PROPERTY' = 7, 'SERVICE_QUALITY' = 8, 'OTHER' = 9)) AS complaint_category,
    CAST(pi_request_kind AS Enum8('UNSPECIFIED' = 0, 'ACCESS' = 1, 'COPY' = 2, 'CORRECT' = 3, 'SUPPLEMENT' = 4, 'DELETE' = 5)) AS pi_request_kind,
    CAST(pi_request_status AS Enum8('UNSPECIFIED' = 0, 'RECEIVED' = 1, 'FULFILLED' = 2, 'REFUSED' = 3)) AS pi_request_status,
    CAST(filing_kind AS Enum8('UNSPECIFIED' = 0, 'REGISTRATION' = 1, 'SECURITY_ASSESSMENT' = 2, 'ALGORITHM_FILING' = 3, 'CHANGE' = 4, 'CANCELLATION' = 5)) AS filing_kind,
    CAST(filing_status AS Enum8('UNSPECIFIED' = 0, 'SUBMITTED' = 1, 'GRANTED' = 2, 'REJECTED' = 3, 'REVOKED' = 4)) AS filing_status,
    filing_number,
    model_version,
    public_opinion_attribute,
    complaint_deadline_days,
    authority,
    CAST(rectification_measure AS Enum8('UNSPECIFIED' = 0, 'OPTIMIZATION_TRAINING' = 1, 'FILTER_UPDATE' = 2, 'MODEL_ROLLBACK' = 3, 'TRAINING_DATA_CLEANUP' = 4)) AS rectification_measure,
    jurisdiction,
    estimated_domestic_users,
    keyword_library_size,
    content_questions,
    content_acceptable,
    refusal_questions,
    refusals,
    answer_questions,
    over_refusals,
    payload
FROM events FINAL;
