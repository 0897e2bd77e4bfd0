-- Report cards by article: per provider, month and article, the cases opened, still open and
-- their missed deadlines (Art. 16 graded supervision looks at each obligation separately).
CREATE VIEW IF NOT EXISTS report_card_articles AS
SELECT
    provider_id,
    toStartOfMonth(opened_at) AS month,
    article,
    count() AS cases_opened,
    countIf(closed = 0) AS cases_open,
    sum(deadlines_missed) AS deadlines_missed
FROM cases
GROUP BY provider_id, month, article;
