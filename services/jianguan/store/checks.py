"""Rules checked on the event store (aggregates over many events rather than one case per
subject): each is a parameterised query returning one row per violation, in the SQL subset both
ClickHouse 18.16 and modern ClickHouse run. ``processors.monitor`` turns rows into alerts.

The queries read the summaries the inserts into ``events`` keep (migration 0015), never the
event store itself, so a round costs the same after an hour or a year of events: filings and
served models per service, labeling per hour, minor-mode minutes per user and day (within the
lookback ``since``), unfiled offshore observations, and the citations and complaint updates that
arrived since ``arrived_since`` (the monitor passes the last round's reach; 0 judges them all)."""

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
    """
SELECT provider_id, service_id, toString(hour) AS subject, total AS magnitude,
       concat('labeled ', toString(labeled), ' of ', toString(total),
              ' image/video/audio generations in the hour from ', toString(hour), ' UTC')
           AS summary,
       samples AS evidence
FROM
(
    SELECT provider_id, service_id, hour, countMerge(total) AS total, sumMerge(labeled) AS labeled
    FROM labeling_hours
    WHERE hour >= toStartOfHour(toDateTime(%(since)s)) AND hour < toDateTime(%(until)s)
    GROUP BY provider_id, service_id, hour
) AS counted
ANY LEFT JOIN
(
    SELECT provider_id, service_id, hour,
           arraySlice(arraySort(groupArray(event_id)), 1, 10) AS samples
    FROM unlabeled_outputs FINAL
    WHERE hour >= toStartOfHour(toDateTime(%(since)s)) AND hour < toDateTime(%(until)s)
    GROUP BY provider_id, service_id, hour
) AS unlabeled USING (provider_id, service_id, hour)
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
       [toString(toDateTime(first_served, 'UTC'))] AS evidence
FROM
(
    SELECT provider_id, service_id, min(first) AS first_served, sum(n) AS generations
    FROM
    (
        SELECT provider_id, service_id, model, minMerge(first_served) AS first,
               countMerge(generations) AS n
        FROM served_models
        GROUP BY provider_id, service_id, model
    )
    GROUP BY provider_id, service_id
) AS served
ANY INNER JOIN
(
    SELECT provider_id, service_id,
           max(filing_kind = 1 AND public_opinion_attribute = 1) AS public_opinion,
           max(filing_kind = 2 AND filing_status = 2) AS assessed,
           max(filing_kind = 3 AND filing_status = 2) AS filed
    FROM filings FINAL
    WHERE occurred_at < toDateTime(%(until)s)
    GROUP BY provider_id, service_id
) AS declared USING (provider_id, service_id)
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
    SELECT provider_id, target, max(estimated_domestic_users) AS users,
           count() AS observations, any(jurisdiction) AS jurisdiction,
           arraySlice(arraySort(groupArray(event_id)), 1, 10) AS observation_ids
    FROM offshore_observations FINAL
    WHERE occurred_at < toDateTime(%(until)s)
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
SELECT provider_id, service_id, model, first_seen, filed_at
FROM
(
    SELECT provider_id, service_id, model, minMerge(first_served) AS first_seen
    FROM served_models
    WHERE model != ''
    GROUP BY provider_id, service_id, model
) AS served
ANY LEFT JOIN
(
    SELECT provider_id, service_id, model_version AS model,
           toUInt32(min(occurred_at)) AS filed_at
    FROM filings FINAL
    WHERE filing_kind IN (1, 4) AND filing_status != 3 AND model_version != ''
    GROUP BY provider_id, service_id, model
) AS filed USING (provider_id, service_id, model)
WHERE first_seen < %(until)s AND (provider_id, service_id) IN
(
    SELECT provider_id, service_id FROM filings FINAL
    WHERE filing_kind = 1 AND public_opinion_attribute = 1
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
SELECT provider_id, service_id, last_served, cancelled_at
FROM
(
    SELECT provider_id, service_id, max(last) AS last_served
    FROM
    (
        SELECT provider_id, service_id, model, maxMerge(last_served) AS last
        FROM served_models
        GROUP BY provider_id, service_id, model
    )
    GROUP BY provider_id, service_id
) AS served
ANY INNER JOIN
(
    SELECT provider_id, service_id,
           max(filing_kind = 3 AND filing_status = 2) AS filed,
           toUInt32(maxIf(occurred_at, filing_kind = 5 AND filing_status != 3)) AS cancelled_at
    FROM filings FINAL
    WHERE occurred_at < toDateTime(%(until)s)
    GROUP BY provider_id, service_id
) AS declared USING (provider_id, service_id)
WHERE filed = 1 AND last_served > 0
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
        SELECT provider_id, service_id, user_ref, day, uniqExactMerge(minutes) AS minutes
        FROM minor_minutes
        WHERE day >= toDate(toDateTime(%(since)s), 'Asia/Shanghai')
          AND day <= toDate(toDateTime(%(until)s), 'Asia/Shanghai')
        GROUP BY provider_id, service_id, user_ref, day
    ) AS usage
    ANY LEFT JOIN
    (
        SELECT provider_id, service_id,
               if(argMax(minor_daily_minutes, occurred_at) > 0,
                  argMax(minor_daily_minutes, occurred_at), %(daily_minutes)s) AS limit_minutes
        FROM filings FINAL
        WHERE filing_kind = 1
        GROUP BY provider_id, service_id
    ) AS declared USING (provider_id, service_id)
) AS over
WHERE minutes > if(limit_minutes > 0, limit_minutes, %(daily_minutes)s)
  AND (provider_id, user_ref, day) NOT IN
  (
      SELECT provider_id, user_ref, day FROM interventions
      WHERE day >= toDate(toDateTime(%(since)s), 'Asia/Shanghai')
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
FROM citations FINAL
WHERE received_hour >= toStartOfHour(toDateTime(%(arrived_since)s))
  AND occurred_at < toDateTime(%(until)s) - %(grace_hours)s * 3600
  AND (provider_id, ref) NOT IN
  (
      SELECT provider_id, event_id FROM citable_ids
      WHERE (provider_id, event_id) IN
      (
          SELECT provider_id, ref FROM citations
          WHERE received_hour >= toStartOfHour(toDateTime(%(arrived_since)s))
      )
  )
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
    SELECT provider_id, any(service_id) AS service_id, subject, count() AS updates,
           arraySlice(arraySort(groupArray(event_id)), 1, 10) AS sampled
    FROM complaint_updates FINAL
    WHERE received_hour >= toStartOfHour(toDateTime(%(arrived_since)s))
      AND occurred_at < toDateTime(%(until)s) - %(grace_hours)s * 3600
    GROUP BY provider_id, subject
)
WHERE (provider_id, subject) NOT IN
(
    SELECT provider_id, subject FROM complaints_received
    WHERE (provider_id, subject) IN
    (
        SELECT provider_id, subject FROM complaint_updates
        WHERE received_hour >= toStartOfHour(toDateTime(%(arrived_since)s))
    )
)
ORDER BY provider_id, subject
""",
)

CHECKS: tuple[Check, ...] = (
    LABELING, UNFILED_SERVICE, OFFSHORE, CHANGE_FILING, CANCELLATION, MINORS, ORPHAN_REFERENCE,
    ORPHAN_COMPLAINT,
)  # fmt: skip
