"""Rules checked on the event store (aggregates over many events rather than one case per
subject): each is a parameterised query returning one row per violation, in the SQL subset both
ClickHouse 18.16 and modern ClickHouse run. ``processors.monitor`` turns rows into alerts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jianguan.domain.calendar import WorkingCalendar

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Check:
    rule_id: str
    # Columns: provider_id, service_id, subject, magnitude (for severity), summary, evidence.
    sql: str
    # What SQL cannot say (working days): candidate rows -> violation rows. Pure.
    post: Callable[[list[Row], Mapping[str, Any], float, WorkingCalendar], list[Row]] | None = None


# What a correctly labeled generation looks like (Art. 12, GB 45438): shared by the check, the
# console and the Grafana dashboard, so all three count the same.
LABEL_OK = (
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
       arraySort(samples) AS evidence
FROM
(
    SELECT provider_id, service_id, toStartOfHour(occurred_at) AS hour, count() AS total,
           countIf({LABEL_OK}) AS labeled,
           groupArrayIf(10)(event_id, NOT ({LABEL_OK})) AS samples
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
       arraySort(observation_ids) AS evidence
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


def _late_change_filings(
    rows: list[Row], params: Mapping[str, Any], now: float, calendar: WorkingCalendar
) -> list[Row]:
    """A model first served at ``first_seen`` must be filed (registration or change) within N
    working days; violations are the ones filed late or not at all once the deadline passed."""
    days = int(params["change_working_days"])
    out = []
    for provider_id, service_id, model, first_seen, filed_at in rows:
        deadline = calendar.deadline(float(first_seen), days)
        if (not filed_at and now > deadline) or (filed_at and float(filed_at) > deadline):
            state = f"filed {days}+ working days late" if filed_at else "not filed"
            summary = f"model {model} served since {first_seen} UTC: change {state}"
            out.append((provider_id, service_id, model, 1, summary, [str(first_seen)]))
    return out


CHANGE_FILING = Check(
    "ART17-CHANGE",
    """
SELECT provider_id, service_id, model, toUInt32(first_seen), toUInt32(filed_at)
FROM
(
    SELECT provider_id, service_id, response_model AS model, min(occurred_at) AS first_seen
    FROM events FINAL
    WHERE kind = 10 AND response_model != '' AND occurred_at < toDateTime(%(until)s)
    GROUP BY provider_id, service_id, model
) AS served
ANY LEFT JOIN
(
    SELECT provider_id, service_id, model_version AS model, min(occurred_at) AS filed_at
    FROM events FINAL
    WHERE kind = 15 AND filing_kind IN (1, 4) AND filing_status != 3 AND model_version != ''
    GROUP BY provider_id, service_id, model
) AS filed USING (provider_id, service_id, model)
WHERE (provider_id, service_id) IN
(
    SELECT provider_id, service_id FROM events FINAL
    WHERE kind = 15 AND filing_kind = 1 AND public_opinion_attribute = 1
)
ORDER BY provider_id, service_id, model
""",
    _late_change_filings,
)


def _late_cancellations(
    rows: list[Row], params: Mapping[str, Any], now: float, calendar: WorkingCalendar
) -> list[Row]:
    """A service silent for ``stopped_after_days`` counts as stopped at its last generation; its
    filing must then be cancelled within N working days of that."""
    days = int(params["cancellation_working_days"])
    silent_s = float(params["stopped_after_days"]) * 86400
    out = []
    for provider_id, service_id, last_served, cancelled_at in rows:
        if now - float(last_served) < silent_s:
            continue  # still serving, as far as anyone can tell
        deadline = calendar.deadline(float(last_served), days)
        if (not cancelled_at and now > deadline) or (
            cancelled_at and float(cancelled_at) > deadline
        ):
            state = "cancelled late" if cancelled_at else "not cancelled"
            summary = f"no generation since {last_served} UTC; filing {state}"
            out.append((provider_id, service_id, service_id, 1, summary, [str(last_served)]))
    return out


CANCELLATION = Check(
    "ART17-CANCELLATION",
    """
SELECT provider_id, service_id, toUInt32(last_served), toUInt32(cancelled_at)
FROM
(
    SELECT provider_id, service_id,
           max(kind = 15 AND filing_kind = 3 AND filing_status = 2) AS filed,
           maxIf(occurred_at, kind = 10) AS last_served,
           maxIf(occurred_at, kind = 15 AND filing_kind = 5 AND filing_status != 3)
               AS cancelled_at
    FROM events FINAL
    WHERE occurred_at < toDateTime(%(until)s)
    GROUP BY provider_id, service_id
)
WHERE filed = 1 AND toUInt32(last_served) > 0
ORDER BY provider_id, service_id
""",
    _late_cancellations,
)

MINORS = Check(
    "ART10-MINORS",
    """
SELECT provider_id, service_id, concat(user_ref, '@', toString(day)) AS subject,
       minutes AS magnitude,
       concat('a minor-mode user was active ', toString(minutes), ' minutes on ', toString(day),
              ' (limit ', toString(limit_minutes), ') without an intervention') AS summary,
       [user_ref] AS evidence
FROM
(
    SELECT provider_id, service_id, user_ref, day, minutes, limit_minutes
    FROM
    (
        SELECT provider_id, service_id, user_ref, toDate(occurred_at, 'Asia/Shanghai') AS day,
               uniqExact(toStartOfMinute(occurred_at)) AS minutes
        FROM events FINAL
        WHERE kind = 10 AND minor_mode = 1 AND user_ref != ''
          AND occurred_at >= toDateTime(%(since)s) AND occurred_at < toDateTime(%(until)s)
        GROUP BY provider_id, service_id, user_ref, day
    ) AS usage
    ANY LEFT JOIN
    (
        SELECT provider_id, service_id,
               if(argMax(minor_daily_minutes, occurred_at) > 0,
                  argMax(minor_daily_minutes, occurred_at), %(daily_minutes)s) AS limit_minutes
        FROM events FINAL
        WHERE kind = 15 AND filing_kind = 1
        GROUP BY provider_id, service_id
    ) AS declared USING (provider_id, service_id)
) AS over
WHERE minutes > if(limit_minutes > 0, limit_minutes, %(daily_minutes)s)
  AND (provider_id, user_ref, day) NOT IN
  (
      SELECT provider_id, user_ref, toDate(occurred_at, 'Asia/Shanghai')
      FROM events FINAL
      WHERE kind = 12 AND enforcement_action >= 2
  )
ORDER BY provider_id, service_id, subject
""",
)

ORPHAN_REFERENCE = Check(
    "ART14-ORPHAN-REFERENCE",
    """
SELECT provider_id, service_id, ref AS subject, 1 AS magnitude,
       concat(toString(kind), ' event ', event_id, ' cites ', ref,
              ', which the provider never reported') AS summary,
       [event_id] AS evidence
FROM events FINAL
ARRAY JOIN related_event_ids AS ref
WHERE kind IN (12, 16, 17)
  AND occurred_at < toDateTime(%(until)s) - %(grace_hours)s * 3600
  AND (provider_id, ref) NOT IN (SELECT provider_id, event_id FROM events)
ORDER BY provider_id, service_id, subject
""",
)

ORPHAN_COMPLAINT = Check(
    "ART15-ORPHAN-STATUS",
    """
SELECT provider_id, service_id, subject, updates AS magnitude,
       concat('complaint ', subject, ' has ', toString(updates),
              ' status updates but was never reported received') AS summary,
       arraySort(sampled) AS evidence
FROM
(
    SELECT provider_id, any(service_id) AS service_id, subject_id AS subject, count() AS updates,
           countIf(complaint_status = 1) AS received, groupArray(10)(event_id) AS sampled
    FROM events FINAL
    WHERE kind = 13 AND occurred_at < toDateTime(%(until)s) - %(grace_hours)s * 3600
    GROUP BY provider_id, subject
)
WHERE received = 0
ORDER BY provider_id, subject
""",
)

CHECKS: tuple[Check, ...] = (
    LABELING, UNFILED_SERVICE, OFFSHORE, CHANGE_FILING, CANCELLATION, MINORS, ORPHAN_REFERENCE,
    ORPHAN_COMPLAINT,
)  # fmt: skip
