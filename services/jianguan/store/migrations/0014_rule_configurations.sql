-- Every configuration the rules ran with (domain.configuration): parameter overrides (JSON, rule
-- id → parameter → value) and the working calendar, from the instant it took effect. A case is
-- decided with the configuration in force at its first event's time (calendar days as ISO dates),
-- so a replay reproduces the live cases however often the configuration changed since.
CREATE TABLE IF NOT EXISTS rule_configurations
(
    effective_from DateTime('UTC'),
    effective_from_ms UInt16,
    digest String,
    overrides String,
    holidays Array(String),
    workdays Array(String)
)
ENGINE = ReplacingMergeTree()
ORDER BY (effective_from, effective_from_ms, digest);
