-- The report cards as of each store-check round (issue: the console as an analysis tool): the
-- monitor computes the `report_cards` view once per round into this table, and the console
-- reads a provider's cards by key from the latest round instead of computing every provider's
-- cards for each page. Grafana and the store's tests read the view itself. Rounds older than
-- two days are dropped by partition (store/report_cards.py).
CREATE TABLE IF NOT EXISTS report_card_snapshots
(
    taken DateTime('UTC'),
    provider_id String,
    month Date,
    events_stored UInt64,
    items_submitted UInt64,
    items_rejected Int64,
    error_rate Float64,
    days_over_error_limit UInt32,
    cases_opened UInt64,
    cases_closed UInt64,
    deadlines_missed UInt64,
    violations UInt64,
    grade String,
    grade_a_error_rate Float64,
    max_error_rate Float64,
    grade_b_missed_deadlines UInt32,
    graded_with String
)
ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(taken)
ORDER BY (taken, provider_id, month);
