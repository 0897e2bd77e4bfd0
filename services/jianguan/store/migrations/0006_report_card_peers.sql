-- Report cards with peer comparison (Art. 16 graded supervision): each provider-month beside the
-- median of its size tier that month. Tiers by events stored in the month: S < 100 000,
-- M < 10 000 000, L otherwise.
CREATE VIEW IF NOT EXISTS report_card_peers AS
SELECT
    provider_id,
    month,
    tier,
    grade,
    events_stored,
    error_rate,
    deadlines_missed,
    peer_providers,
    peer_median_error_rate,
    peer_median_deadlines_missed
FROM
(
    SELECT
        *,
        multiIf(events_stored < 100000, 'S', events_stored < 10000000, 'M', 'L') AS tier
    FROM report_cards
) AS own
ANY LEFT JOIN
(
    SELECT
        month,
        tier,
        count() AS peer_providers,
        median(error_rate) AS peer_median_error_rate,
        median(deadlines_missed) AS peer_median_deadlines_missed
    FROM
    (
        SELECT
            month,
            multiIf(events_stored < 100000, 'S', events_stored < 10000000, 'M', 'L') AS tier,
            error_rate,
            deadlines_missed
        FROM report_cards
    ) AS cards
    GROUP BY month, tier
) AS peers USING (month, tier);
