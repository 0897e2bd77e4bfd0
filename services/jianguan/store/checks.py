"""Rules checked on the event store (aggregates over many events rather than one case per
subject): each is a parameterised query returning one row per violation, in the SQL subset both
ClickHouse 18.16 and modern ClickHouse run. ``processors.monitor`` turns rows into alerts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Check:
    rule_id: str
    # Columns: provider_id, service_id, subject, magnitude (for severity), summary, evidence.
    sql: str


_LABEL_OK = (
    "explicit_label = 1 AND implicit_label IN (1, 2, 3)"
    " AND match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$')"
)

LABELING = Check(
    "ART12-LABELING",
    f"""
SELECT provider_id, service_id, toString(hour) AS subject, total AS magnitude,
       concat('labeled ', toString(labeled), ' of ', toString(total),
              ' image/video/audio generations in the hour from ', toString(hour), ' UTC')
           AS summary,
       samples AS evidence
FROM
(
    SELECT provider_id, service_id, toStartOfHour(occurred_at) AS hour, count() AS total,
           countIf({_LABEL_OK}) AS labeled,
           groupArrayIf(10)(event_id, NOT ({_LABEL_OK})) AS samples
    FROM events FINAL
    WHERE kind = 10 AND output_type IN (3, 4, 5)
      AND occurred_at >= toDateTime(%(since)s) AND occurred_at < toDateTime(%(until)s)
    GROUP BY provider_id, service_id, hour
)
WHERE labeled < total * %(min_labeled_share)s
ORDER BY provider_id, service_id, subject
""",
)

UNFILED_SERVICE = Check(
    "ART17-FILING",
    """
SELECT provider_id, service_id, service_id AS subject, generations AS magnitude,
       concat('public-opinion service served ', toString(generations),
              ' generations without a granted',
              if(assessed, '', ' security assessment'),
              if(assessed OR filed, '', ' and'),
              if(filed, '', ' algorithm filing')) AS summary,
       [toString(first_served)] AS evidence
FROM
(
    SELECT provider_id, service_id,
           max(kind = 15 AND filing_kind = 1 AND public_opinion_attribute = 1) AS public_opinion,
           max(kind = 15 AND filing_kind = 2 AND filing_status = 2) AS assessed,
           max(kind = 15 AND filing_kind = 3 AND filing_status = 2) AS filed,
           countIf(kind = 10) AS generations,
           minIf(occurred_at, kind = 10) AS first_served
    FROM events FINAL
    WHERE occurred_at < toDateTime(%(until)s)
    GROUP BY provider_id, service_id
)
WHERE public_opinion = 1 AND generations > 0 AND NOT (assessed = 1 AND filed = 1)
ORDER BY provider_id, service_id
""",
)

OFFSHORE = Check(
    "ART20-OFFSHORE",
    """
SELECT provider_id, '' AS service_id, target AS subject, users AS magnitude,
       concat(target, ' (', jurisdiction, ') serves an estimated ', toString(users),
              ' domestic users without a filing; seen ', toString(observations), ' times')
           AS summary,
       observation_ids AS evidence
FROM
(
    SELECT provider_id, subject_id AS target, max(estimated_domestic_users) AS users,
           count() AS observations, any(jurisdiction) AS jurisdiction,
           groupArray(10)(event_id) AS observation_ids
    FROM events FINAL
    WHERE kind = 18 AND filing_number = '' AND occurred_at < toDateTime(%(until)s)
    GROUP BY provider_id, target
)
WHERE users > 0
ORDER BY provider_id, subject
""",
)

CHECKS: tuple[Check, ...] = (LABELING, UNFILED_SERVICE, OFFSHORE)
