-- Delivery of every alert to every configured receiver (`jianguan alerting`): one row per state
-- change, the highest version wins. state: 1 delivered, 2 retrying, 3 failed (gave up after the
-- receiver's max attempts; kept for regulators and operators to see, never silently dropped).
CREATE TABLE IF NOT EXISTS alert_deliveries
(
    receiver String,
    alert_id String,
    provider_id String,
    rule_id String,
    state UInt8,
    attempts UInt16,
    last_error String,
    updated_at DateTime('UTC'),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (receiver, alert_id);

CREATE VIEW IF NOT EXISTS alert_delivery_state AS
SELECT
    receiver,
    alert_id,
    provider_id,
    rule_id,
    multiIf(state = 1, 'delivered', state = 2, 'retrying', 'failed') AS state,
    attempts,
    last_error,
    updated_at
FROM alert_deliveries FINAL;
