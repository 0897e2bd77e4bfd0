"""Rules checked on the event store (aggregates over many events rather than one case per
subject): each is a parameterised query returning one row per violation, in the SQL subset both
ClickHouse 18.16 and modern ClickHouse run. ``processors.monitor`` turns rows into alerts.

The queries read the summaries the inserts into ``events`` keep (migration 0015; the filings
and safety evaluations that stand, none corrected or withdrawn since: 0038), never the event
store itself, so a round costs the same after an hour or a year of events: filings and
served models per service, labeling per hour, minor-mode minutes per user and day (within the
lookback ``since``), unfiled offshore observations, the citations and complaint updates the
event store took in since ``ingested_since`` or whose grace ended since ``matured_since`` (the
monitor passes the last round's reach; 0 judges them all), and the ProduceIDs the ledger found
reused (``reused``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jianguan.domain import evaluations as ev
from jianguan.domain import filings as fl
from jianguan.domain.calendar import WorkingCalendar, beijing_time
from jianguan.domain.filings import (
    ALGORITHM_FILING,
    ASSESSMENT,
    STATUS_NAMES,
    Filing,
    later_models,
    public_opinion,
    unfiled_hours,
)
from jianguan.domain.said import Phrase, phrase, say
from jianguan.store.executor import Executor

Row = tuple[Any, ...]


# Every template a finding is worded with (``domain.said``), registered where it is defined: the
# console's catalogs must translate them all (tests/unit/test_console_i18n.py).
PHRASES: list[str] = []


def _says(template: str) -> str:
    PHRASES.append(template)
    return template


@dataclass(frozen=True, slots=True)
class Violation:
    """What a check found: one subject of one service breaking its rule."""

    provider_id: str
    service_id: str
    subject: str
    magnitude: float  # what the severity may depend on (e.g. the domestic users reached)
    said: tuple[Phrase, ...]  # what it found, in words (``domain.said``)
    evidence: tuple[str, ...]  # event ids

    @property
    def summary(self) -> str:
        return say(self.said)


@dataclass(frozen=True, slots=True)
class Check:
    rule_id: str
    # Columns: provider_id, service_id, subject, magnitude (for severity), the values ``said``
    # words (an array of strings), evidence.
    sql: str
    # What SQL cannot say (working days): candidate rows -> violation rows, their words already
    # said (a tuple of phrases in place of the values). Pure.
    post: Callable[[list[Row], Mapping[str, Any], float, WorkingCalendar], list[Row]] | None = None
    # The finding in words, from the values the query found. Pure.
    said: Callable[[Sequence[str]], tuple[Phrase, ...]] | None = None
    # Judged only up to the last completed hour (``until``), so a share does not flap while its
    # hour fills; the others judge up to the round's instant.
    whole_hours: bool = False
    # Judges only the ids the ProduceID ledger found reused this round (``reused``).
    ledger: bool = False


# What a correctly labeled generation looks like (Art. 12): shared by the check (migration 0022),
# the console and the Grafana dashboard, so all count the same. Every output that needs a label
# carries an explicit one (unless waived at the user's request, Labeling Measures Art. 9): text
# too (Labeling Measures Art. 4 (1), for the services of Deep Synthesis Provisions Art. 17 ¶1,
# such as intelligent dialogue and writing). Images, audio, video and virtual scenes, which are
# files, also carry the implicit label of GB 45438-2025 in their metadata (Labeling Measures
# Art. 5): it says "generated" (Label 1; 2 and 3 are a distribution platform's verdicts), names
# the producer, and has a real ProduceID.
# A real ProduceID (6-128 id characters, not all zeros); also kept per provider by migration 0025.
VALID_PRODUCE_ID = (
    "match(produce_id, '^[A-Za-z0-9._:/-]{6,128}$') AND NOT match(produce_id, '^0+$')"
)
LABEL_OK = (
    "(explicit_label = 1 OR explicit_label_waived = 1) AND (output_type = 1 OR (implicit_label = 1"
    f" AND content_producer != '' AND {VALID_PRODUCE_ID}))"
)
# Text, images, audio, video and virtual scenes (jianguan.v1.OutputModality; not JSON, which
# programs read); of them, the files, which carry implicit labels (migrations 0024, 0025).
LABELED_OUTPUTS = "output_type IN (1, 3, 4, 5, 6)"
LABELED_FILES = "output_type IN (3, 4, 5, 6)"
# Why an output fails LABEL_OK: the first of its conditions it fails (migration 0022 keeps it).
UNLABELED_REASON = (
    "multiIf(explicit_label != 1 AND explicit_label_waived != 1, 'no explicit label',"
    " implicit_label = 0, 'no implicit label',"
    " implicit_label != 1, 'implicit label not \"generated\"', content_producer = '',"
    " 'no ContentProducer', 'no valid ProduceID')"
)
# Those reasons, as findings name them (the console translates them).
REASONS = (
    "no explicit label",
    "no implicit label",
    'implicit label not "generated"',
    "no ContentProducer",
    "no valid ProduceID",
)

# Filing kinds and statuses by name (domain.filings, held equal to the contract's enums by
# tests/unit/test_filings.py); the sets as SQL tuples.
_IN_EFFECT = "(" + ", ".join(str(s) for s in sorted(fl.IN_EFFECT)) + ")"
_LAPSED = f"({fl.REJECTED}, {fl.REVOKED})"
_DECLARING = f"({fl.REGISTRATION}, {fl.ASSESSMENT}, {fl.ALGORITHM_FILING})"
_BOUNDING = f"({fl.ASSESSMENT}, {fl.ALGORITHM_FILING})"
_NAMING_MODELS = f"({fl.REGISTRATION}, {fl.ALGORITHM_FILING}, {fl.CHANGE})"
_ASSESSED = f"filing_kind = {fl.ASSESSMENT} AND filing_status IN {_IN_EFFECT}"
_ALGORITHM_FILED = f"filing_kind = {fl.ALGORITHM_FILING} AND filing_status IN {_IN_EFFECT}"
_CANCELLED = f"filing_kind = {fl.CANCELLATION} AND filing_status != {fl.REJECTED}"

LABELED = _says(
    "labeled {labeled} of {total} outputs that need labels in the hour from {hour} Beijing time"
)
UNLABELED = _says("unlabeled: {n} {reason}")
MISNAMED = _says("{n} labeled with a ContentProducer other than the registered {registered}")


def _labeling_said(values: Sequence[str]) -> tuple[Phrase, ...]:
    labeled, total, hour, reasons, misnamed, registered = values
    out = [phrase(LABELED, labeled=labeled, total=total, hour=beijing_time(int(hour)))]
    for item in sorted(filter(None, reasons.split("|"))):
        n, reason = item.split(" ", 1)
        out.append(phrase(UNLABELED, n=n, reason=reason))
    if int(misnamed):
        out.append(phrase(MISNAMED, n=misnamed, registered=registered))
    return tuple(out)


LABELING = Check(
    "ART12-LABELING",
    f"""
SELECT provider_id, service_id, toString(hour) AS subject, total AS magnitude,
       [toString(labeled - misnamed), toString(total), toString(toUInt32(hour)), reasons,
        toString(misnamed), registered] AS summary,
       arraySlice(arraySort(arrayConcat(samples, misnamed_samples)), 1, 10) AS evidence
FROM
(
SELECT *
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
           arraySlice(arraySort(groupArray(event_id)), 1, 10) AS samples,
           arrayStringConcat(
               arraySort(groupUniqArray(concat(toString(n), ' ', reason))), '|') AS reasons
    FROM
    (
        SELECT provider_id, service_id, hour, reason, count() AS n,
               groupArray(event_id) AS ids
        FROM unlabeled_outputs FINAL
        WHERE hour >= toStartOfHour(toDateTime(%(since)s)) AND hour < toDateTime(%(until)s)
        GROUP BY provider_id, service_id, hour, reason
    )
    ARRAY JOIN ids AS event_id
    GROUP BY provider_id, service_id, hour
) AS unlabeled USING (provider_id, service_id, hour)
) AS judged
ANY LEFT JOIN
(
    -- Labeled files naming another ContentProducer than the one the service had registered by
    -- the end of the hour (migration 0024); none registered then: nothing is misnamed.
    SELECT provider_id, service_id, hour,
           sumIf(outputs, registered_then != '' AND content_producer != registered_then)
               AS misnamed,
           arraySort(groupArrayIf(sample,
               registered_then != '' AND content_producer != registered_then)) AS misnamed_samples,
           max(registered_then) AS registered
    FROM
    (
        SELECT provider_id, service_id, hour, content_producer, any(outputs) AS outputs,
               any(sample) AS sample,
               argMax(if(code_at < toUInt32(hour) + 3600, code, ''),
                      if(code_at < toUInt32(hour) + 3600, code_at, 0)) AS registered_then
        FROM
        (
            SELECT provider_id, service_id, hour, content_producer, countMerge(outputs) AS outputs,
                   minMerge(sample) AS sample
            FROM label_producers
            WHERE hour >= toStartOfHour(toDateTime(%(since)s)) AND hour < toDateTime(%(until)s)
            GROUP BY provider_id, service_id, hour, content_producer
        ) AS named
        ALL LEFT JOIN
        (
            SELECT provider_id, service_id, content_producer AS code,
                   toUInt32(occurred_at) AS code_at
            FROM standing_filings
            WHERE filing_kind = {fl.REGISTRATION} AND content_producer != ''
        ) AS codes USING (provider_id, service_id)
        GROUP BY provider_id, service_id, hour, content_producer
    )
    GROUP BY provider_id, service_id, hour
) AS producers USING (provider_id, service_id, hour)
WHERE labeled - misnamed < total * %(min_labeled_share)s
ORDER BY provider_id, service_id, subject
""",
    said=_labeling_said,
    whole_hours=True,
)


# A service's filings as (time, id, kind, status, model, public opinion) tuples, for
# ``_filings``; and the first or last time each service served (over its models).
_FILED = (
    "groupArray((toUInt32(occurred_at), event_id, filing_kind, filing_status,"
    " model_version, public_opinion_attribute)) AS filed"
)


def _per_service(fn: str, column: str) -> str:
    return (
        f"SELECT provider_id, service_id, {fn}(at) AS {column} FROM"
        f" (SELECT provider_id, service_id, model, {fn}Merge({column}) AS at FROM served_models"
        " GROUP BY provider_id, service_id, model) GROUP BY provider_id, service_id"
    )


def _filings(raw: list[tuple[Any, ...]]) -> list[Filing]:
    return [
        Filing(int(at), str(event_id), int(kind), int(status), str(model), bool(po))
        for at, event_id, kind, status, model, po in raw
    ]


LATEST_NONE = _says("latest {formality}: none reported")
LATEST = _says("latest {formality}: {status} at {at} Beijing time ({event_id})")


def _latest(formality: str, filing: Filing | None) -> Phrase:
    if filing is None:
        return phrase(LATEST_NONE, formality=formality)
    status = STATUS_NAMES.get(filing.status, "?")
    return phrase(LATEST, formality=formality, status=status, at=beijing_time(filing.at),
                  event_id=filing.event_id)  # fmt: skip


SECURITY_ASSESSMENT, ALGORITHM, CHANGE = "security assessment", "algorithm filing", "change filing"
_FORMALITIES = (
    (ASSESSMENT, "assessment_working_days", SECURITY_ASSESSMENT),
    (ALGORITHM_FILING, "filing_working_days", ALGORITHM),
)
SERVED_HOURS = _says(
    "public-opinion service served {generations} generations in {hours} hours from {start}"
    " Beijing time"
)
SERVED_HOUR = _says(
    "public-opinion service served {generations} generations in the hour from {start} Beijing time"
)
DUE_AT_EFFECT = _says(
    "no {formality} in effect (due {due} Beijing time, when Art. 17 took effect; serving began"
    " {began} Beijing time)"
)
DUE_AFTER = _says(
    "no {formality} in effect (due {due} Beijing time, {days} working days after serving began"
    " {began} Beijing time)"
)
DUE_BEFORE = _says("no {formality} in effect (due {due} Beijing time, before serving began)")


def _missing(formality: str, days: int, due: int, first_served: int, in_force: int) -> Phrase:
    when = {"formality": formality, "due": beijing_time(due)}
    if due == in_force and due > first_served:
        return phrase(DUE_AT_EFFECT, **when, began=beijing_time(first_served))
    if days:
        return phrase(DUE_AFTER, **when, days=days, began=beijing_time(first_served))
    return phrase(DUE_BEFORE, **when)


def _unfiled_services(
    rows: list[Row], params: Mapping[str, Any], now: float, calendar: WorkingCalendar
) -> list[Row]:
    """A public-opinion service (by its latest registration) that served, after a formality was
    due, in hours with none of that kind in effect (``domain.filings``): one row per service,
    naming each formality missing, when it was due and its latest status."""
    out = []
    for provider_id, service_id, first_served, raw, hours in rows:
        filings = _filings(raw)
        if not public_opinion(filings, int(now)):
            continue
        generations = {int(h): int(n) for h, n in hours}
        missing = []
        for kind, param, name in _FORMALITIES:
            days = int(params[param])
            # 0 working days: before serving (the moment service began); never before Art. 17
            # took effect
            due = int(calendar.deadline(float(first_served), days)) if days else int(first_served)
            due = max(due, int(params["in_force"]))
            unfiled = unfiled_hours(filings, generations, kind, due)
            if unfiled is not None:
                missing.append((name, days, unfiled))
        if not missing:
            continue
        hours_out = sorted({h for _, _, u in missing for h in u.hours})
        served = sum(generations[h] for h in hours_out)
        start = beijing_time(hours_out[0])
        said = [
            phrase(SERVED_HOURS, generations=served, hours=len(hours_out), start=start)
            if len(hours_out) > 1
            else phrase(SERVED_HOUR, generations=served, start=start)
        ]
        for name, days, u in missing:
            said.append(_missing(name, days, u.due, int(first_served), int(params["in_force"])))
            said.append(_latest(name, u.latest))
        evidence = sorted({u.latest.event_id for _, _, u in missing if u.latest is not None})
        out.append((provider_id, service_id, service_id, served, tuple(said), evidence))
    return out


# One row per service that served, with its filings (kinds 1-3) and the hours in which it served
# while an assessment or algorithm filing may not have been in effect: before both were first
# submitted, and from the first rejection or revocation on (a service that filed and never lapsed
# reads only the hours before it filed). `_unfiled_services` judges them.
UNFILED_SERVICE = Check(
    "ART17-FILING",
    f"""
SELECT provider_id, service_id, first_served, filed, hours
FROM
(
    SELECT provider_id, service_id, first_served, filed
    FROM
    (
        {_per_service("min", "first_served")}
    ) AS served
    ANY INNER JOIN
    (
        SELECT provider_id, service_id, {_FILED}
        FROM standing_filings
        WHERE occurred_at < toDateTime(%(until)s) AND filing_kind IN {_DECLARING}
        GROUP BY provider_id, service_id
        HAVING max(filing_kind = {fl.REGISTRATION} AND public_opinion_attribute = 1) = 1
    ) AS declared USING (provider_id, service_id)
) AS services
ANY LEFT JOIN
(
    SELECT provider_id, service_id, groupArray((toUInt32(hour), n)) AS hours
    FROM
    (
        SELECT provider_id, service_id, hour, countMerge(generations) AS n
        FROM served_hours
        -- GLOBAL: a view, unlike a Distributed table, is not sent to the shards by itself
        WHERE hour < toDateTime(%(until)s) AND (provider_id, service_id) GLOBAL IN
        (
            SELECT provider_id, service_id FROM standing_filings
            WHERE filing_kind = {fl.REGISTRATION} AND public_opinion_attribute = 1
        )
        GROUP BY provider_id, service_id, hour
    ) AS served
    ANY LEFT JOIN
    (
        SELECT provider_id, service_id, 1 AS bounded,
               greatest(
                   if(countIf({_ASSESSED}) = 0, 4294967295,
                      toUInt32(minIf(occurred_at, {_ASSESSED}))),
                   if(countIf({_ALGORITHM_FILED}) = 0, 4294967295,
                      toUInt32(minIf(occurred_at, {_ALGORITHM_FILED})))
               ) AS covered_from,
               if(countIf(filing_status IN {_LAPSED}) = 0, 4294967295,
                  toUInt32(minIf(occurred_at, filing_status IN {_LAPSED}))) AS lapsed_from
        FROM standing_filings
        WHERE occurred_at < toDateTime(%(until)s) AND filing_kind IN {_BOUNDING}
        GROUP BY provider_id, service_id
    ) AS bounds USING (provider_id, service_id)
    WHERE bounded = 0 OR toUInt32(hour) < covered_from OR toUInt32(hour) + 3600 > lapsed_from
    GROUP BY provider_id, service_id
) AS uncertain USING (provider_id, service_id)
ORDER BY provider_id, service_id
""",
    _unfiled_services,
)

# One alert per offshore service, however many providers or monitors observed it: the alert is
# about the offshore service (no provider of ours), and names how many reported it. Observed
# "without a filing" means: showing no number that was a filing in effect when it was seen
# (the offshore_unfiled view, migration 0020), so an invented number is no filing.
OFFSHORE_SERVES = _says(
    "{target} ({jurisdictions}) serves an estimated {users} domestic users without a filing in"
    " effect"
)
OFFSHORE_SHOWS = _says("it shows {numbers}, no filing in effect then")
OFFSHORE_SEEN = _says("seen {observations} times by {reporters} reporters")
OFFSHORE_SEEN_BY_ONE = _says("seen {observations} times by one reporter")


def _offshore_said(values: Sequence[str]) -> tuple[Phrase, ...]:
    target, jurisdictions, users, numbers, observations, reporters = values
    out = [phrase(OFFSHORE_SERVES, target=target, jurisdictions=jurisdictions, users=users)]
    if numbers:
        out.append(phrase(OFFSHORE_SHOWS, numbers=numbers))
    if reporters == "1":
        out.append(phrase(OFFSHORE_SEEN_BY_ONE, observations=observations))
    else:
        out.append(phrase(OFFSHORE_SEEN, observations=observations, reporters=reporters))
    return tuple(out)


OFFSHORE = Check(
    "ART20-OFFSHORE",
    """
SELECT '' AS provider_id, '' AS service_id, offshore AS subject, users AS magnitude,
       [offshore, jurisdictions, toString(users), numbers, toString(observations),
        toString(reporters)] AS summary,
       observation_ids AS evidence
FROM
(
    SELECT target AS offshore, max(estimated_domestic_users) AS users,
           count() AS observations, uniqExact(provider_id) AS reporters,
           arrayStringConcat(arraySort(groupUniqArray(jurisdiction)), '/') AS jurisdictions,
           arrayStringConcat(arraySort(groupUniqArrayIf(filing_number, filing_number != '')), ', ')
               AS numbers,
           arraySlice(arraySort(groupArray(event_id)), 1, 10) AS observation_ids
    FROM offshore_unfiled
    WHERE occurred_at < toDateTime(%(until)s) AND occurred_at >= toDateTime(%(in_force)s)
    GROUP BY offshore
)
WHERE users > 0
ORDER BY subject
""",
    said=_offshore_said,
)


CHANGED = "model {model} served since {since} Beijing time (change due {due} Beijing time): "
CHANGED_LATE = _says(CHANGED + "filed {days}+ working days late")
CHANGED_UNFILED = _says(CHANGED + "no change filing in effect")
REASSESSED = (
    "model {model} served since {since} Beijing time (its security assessment due {due} Beijing"
    " time): "
)
REASSESSED_LATE = _says(REASSESSED + "assessed {days}+ working days late")
REASSESSED_NONE = _says(REASSESSED + "no security assessment naming it in effect")


@dataclass(frozen=True, slots=True)
class _LaterModels:
    """What a later model of a public-opinion service needs (``domain.filings.later_models``):
    a filing of ``kinds`` naming it, within the working days of ``param``; in words."""

    kinds: tuple[int, ...]
    param: str
    late: str
    unfiled: str
    formality: str

    def __call__(
        self, rows: list[Row], params: Mapping[str, Any], now: float, calendar: WorkingCalendar
    ) -> list[Row]:
        """Violations are the later models with none in effect once the working days passed,
        or in effect only since after that."""
        days = int(params[self.param])
        in_force = int(params["in_force"])

        def due_of(first_served: int) -> int:
            return max(int(calendar.deadline(float(first_served), days)), in_force)

        out = []
        for provider_id, service_id, models, raw in rows:
            filings = _filings(raw)
            if not public_opinion(filings, int(now)):
                continue
            served = [(str(m), int(first)) for m, first, _ in models if int(first) < now]
            for later in later_models(filings, served, int(now), due_of, self.kinds):
                when = {
                    "model": later.model,
                    "since": beijing_time(later.first_served),
                    "due": beijing_time(later.due),
                }
                if later.late:
                    said: tuple[Phrase, ...] = (phrase(self.late, **when, days=days),)
                else:
                    said = (phrase(self.unfiled, **when), _latest(self.formality, later.latest))
                evidence = [later.latest.event_id] if later.latest is not None else []
                out.append((provider_id, service_id, later.model, 1, said, evidence))
        return out


_late_change_filings = _LaterModels(
    (fl.ALGORITHM_FILING, fl.CHANGE), "change_working_days", CHANGED_LATE, CHANGED_UNFILED, CHANGE
)
_unassessed_models = _LaterModels(
    (fl.ASSESSMENT,), "model_assessment_working_days", REASSESSED_LATE, REASSESSED_NONE,
    SECURITY_ASSESSMENT,
)  # fmt: skip


def _models_and_filings(kinds: str) -> str:
    """One row per service with the models it served (first and last served) and its filings of
    ``kinds`` (an SQL tuple; registrations among them, which say whether it is public-opinion)."""
    return f"""
SELECT provider_id, service_id, models, filed
FROM
(
    SELECT provider_id, service_id, groupArray((model, first, last)) AS models
    FROM
    (
        SELECT provider_id, service_id, model, minMerge(first_served) AS first,
               maxMerge(last_served) AS last
        FROM served_models
        WHERE model != ''
        GROUP BY provider_id, service_id, model
    )
    GROUP BY provider_id, service_id
) AS served
ANY INNER JOIN
(
    SELECT provider_id, service_id, {_FILED}
    FROM standing_filings
    WHERE occurred_at < toDateTime(%(until)s) AND filing_kind IN {kinds}
    GROUP BY provider_id, service_id
) AS declared USING (provider_id, service_id)
"""


_BY_SERVICE = "ORDER BY provider_id, service_id\n"
CHANGE_FILING = Check(
    "ART17-CHANGE", _models_and_filings(_NAMING_MODELS) + _BY_SERVICE, _late_change_filings
)
MODEL_ASSESSMENT = Check(
    "ART17-MODEL-ASSESSMENT",
    _models_and_filings(f"({fl.REGISTRATION}, {fl.ASSESSMENT})") + _BY_SERVICE,
    _unassessed_models,
)


EVALUATION_NONE = _says(
    "model {model} served since {since} Beijing time without a safety evaluation"
)
EVALUATION_LATE = _says(
    "model {model} served since {since} Beijing time, first evaluated {at} Beijing time"
)
EVALUATION_STALE = _says(
    "model {model} last served {last} Beijing time on a safety evaluation of {at} Beijing time,"
    " older than {days} days"
)
EVALUATION_SHORT = _says("latest safety evaluation of {model} ({at} Beijing time) falls short")
# Each shortfall (domain.evaluations), worded.
SHORTFALLS = {
    ev.KEYWORDS: _says("a keyword library of {figure} (at least {threshold})"),
    ev.CONTENT_SAMPLE: _says("{figure} generated-content test questions (at least {threshold})"),
    ev.CONTENT_RATE: _says(
        "{figure} of {questions} generated answers acceptable (at least {threshold})"
    ),
    ev.REFUSAL_SAMPLE: _says("{figure} should-refuse test questions (at least {threshold})"),
    ev.REFUSAL_RATE: _says(
        "{figure} of {questions} should-refuse questions refused (at least {threshold})"
    ),
    ev.ANSWER_SAMPLE: _says("{figure} should-answer test questions (at least {threshold})"),
    ev.OVER_REFUSAL_RATE: _says(
        "{figure} of {questions} should-answer questions refused (at most {threshold})"
    ),
}
_RATES = frozenset({ev.CONTENT_RATE, ev.REFUSAL_RATE, ev.OVER_REFUSAL_RATE})


def _figure(what: str, value: float) -> str:
    return f"{value * 100:.1f}%" if what in _RATES else str(int(value))


def _evaluation_said(f: ev.Finding, t: ev.Thresholds) -> tuple[Phrase, ...]:
    since = beijing_time(f.first_served)
    out = []
    if f.unevaluated:
        out.append(phrase(EVALUATION_NONE, model=f.model, since=since))
    if f.late and f.first_evaluated is not None:
        out.append(
            phrase(EVALUATION_LATE, model=f.model, since=since, at=beijing_time(f.first_evaluated))
        )
    if f.latest is not None and f.stale:
        last, at = beijing_time(f.last_served), beijing_time(f.latest.at)
        days = int(t.max_age_days)
        out.append(phrase(EVALUATION_STALE, model=f.model, last=last, at=at, days=days))
    if f.latest is not None and f.short:
        out.append(phrase(EVALUATION_SHORT, model=f.model, at=beijing_time(f.latest.at)))
        out += [
            phrase(
                SHORTFALLS[s.what],
                figure=_figure(s.what, s.figure),
                questions=s.questions,
                threshold=_figure(s.what, s.threshold),
            )
            for s in f.short
        ]
    return tuple(out)


def _unevaluated_models(
    rows: list[Row], params: Mapping[str, Any], now: float, calendar: WorkingCalendar
) -> list[Row]:
    """A public-opinion service's served models judged by their safety evaluations
    (``domain.evaluations.judge``): one row per model that breaks the rule."""
    t = ev.Thresholds.of(params)
    in_force = int(params["in_force"])
    out = []
    for provider_id, service_id, models, raw, evaluated in rows:
        if not public_opinion(_filings(raw), int(now)):
            continue
        evaluations = [
            ev.Evaluation(at, eid, m, k, (cq, ca), (rq, r), (aq, o))
            for at, eid, m, k, cq, ca, rq, r, aq, o in evaluated
        ]
        served = [(str(m), max(int(first), in_force), int(last)) for m, first, last in models]
        for f in ev.judge(served, evaluations, int(now), t):
            said = _evaluation_said(f, t)
            out.append((provider_id, service_id, f.model, 1, said, list(f.evidence)))
    return out


# One row per public-opinion candidate service: its models (first and last served), its
# registrations, and its safety evaluations (none: an empty array). 18.16 takes one JOIN per
# SELECT, hence the nesting.
SAFETY_EVALUATION = Check(
    "ART4-SAFETY-EVALUATION",
    f"""
SELECT provider_id, service_id, models, filed, evaluated
FROM
(
{_models_and_filings(f"({fl.REGISTRATION})")}) AS candidates
ANY LEFT JOIN
(
    SELECT provider_id, service_id,
           groupArray((toUInt32(occurred_at), event_id, model_version, keyword_library_size,
                       content_questions, content_acceptable, refusal_questions, refusals,
                       answer_questions, over_refusals)) AS evaluated
    FROM standing_safety_evaluations
    WHERE occurred_at < toDateTime(%(until)s)
    GROUP BY provider_id, service_id
) AS evaluations USING (provider_id, service_id)
ORDER BY provider_id, service_id
""",
    _unevaluated_models,
)


CANCELLED_LATE = _says("no generation since {since} Beijing time; filing cancelled late")
NOT_CANCELLED = _says("no generation since {since} Beijing time; filing not cancelled")


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
        deadline = max(calendar.deadline(float(last_served), days), float(params["in_force"]))
        if (not cancelled_at and now > deadline) or (
            cancelled_at and float(cancelled_at) > deadline
        ):
            said = phrase(
                CANCELLED_LATE if cancelled_at else NOT_CANCELLED, since=beijing_time(last_served)
            )
            out.append((provider_id, service_id, service_id, 1, (said,), [str(last_served)]))
    return out


CANCELLATION = Check(
    "ART17-CANCELLATION",
    f"""
SELECT provider_id, service_id, last_served, cancelled_at
FROM
(
    {_per_service("max", "last_served")}
) AS served
ANY INNER JOIN
(
    SELECT provider_id, service_id,
           max(filing_kind = {fl.ALGORITHM_FILING} AND filing_status = {fl.GRANTED}) AS filed,
           toUInt32(maxIf(occurred_at, {_CANCELLED})) AS cancelled_at
    FROM standing_filings
    WHERE occurred_at < toDateTime(%(until)s)
    GROUP BY provider_id, service_id
) AS declared USING (provider_id, service_id)
WHERE filed = 1 AND last_served > 0
ORDER BY provider_id, service_id
""",
    _late_cancellations,
)

MINOR_ACTIVE = _says(
    "a minor-mode user was active {minutes} minutes on {day} (limit {limit}) without an"
    " intervention"
)
MINORS = Check(
    "ART10-MINORS",
    f"""
SELECT provider_id, service_id, concat(user_ref, '@', toString(day)) AS subject,
       minutes AS magnitude,
       [toString(minutes), toString(day), toString(limit_minutes)] AS summary,
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
        FROM standing_filings
        WHERE filing_kind = {fl.REGISTRATION}
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
    said=lambda v: (phrase(MINOR_ACTIVE, minutes=v[0], day=v[1], limit=v[2]),),
)

# One alert per ProduceID that names more than one output of a provider (GB 45438-2025: an id
# unique to the provider), among the ids the ProduceID ledger found reused (``reused``: a list of
# (provider, id); processors.produce_id_feed): it counts every output of each.
PRODUCE_ID_REUSED = _says(
    "ProduceID {produce_id} names {outputs} outputs; GB 45438-2025 asks an id unique to the"
    " provider"
)
DUPLICATE_PRODUCE_ID = Check(
    "ART12-LABELING",
    """
SELECT provider_id, service_id, concat('ProduceID ', produce_id) AS subject, outputs AS magnitude,
       [produce_id, toString(outputs)] AS summary,
       if(first_id = last_id, [first_id], [first_id, last_id]) AS evidence
FROM
(
    SELECT provider_id, produce_id, min(service_id) AS service_id,
           uniqExact(event_id) AS outputs, min(event_id) AS first_id, max(event_id) AS last_id
    FROM produce_ids
    WHERE (provider_id, produce_id) IN
    (
        SELECT tupleElement(pair, 1), tupleElement(pair, 2)
        FROM (SELECT arrayJoin(%(reused)s) AS pair)
    )
      AND occurred_at >= toDateTime(%(in_force)s)
    GROUP BY provider_id, produce_id
    HAVING outputs > 1
)
ORDER BY provider_id, subject
""",
    said=lambda v: (phrase(PRODUCE_ID_REUSED, produce_id=v[0], outputs=v[1]),),
    ledger=True,
)


# Rows whose grace has ended, among those that became judgeable since the last round: taken in by
# the event store since ``ingested_since``, or occurred since ``matured_since`` (the last round's
# reach less the grace: their grace ended since). ``prefix``: the pair of indexes of migration
# 0027 (``citation``, ``complaint_update``).
def _judgeable(prefix: str, columns: str) -> str:
    matured = "occurred_at < toDateTime(%(until)s) - %(grace_hours)s * 3600"
    return f"""
        SELECT {columns} FROM {prefix}_ingestions
        WHERE ingested_minute >= toStartOfMinute(toDateTime(%(ingested_since)s)) AND {matured}
        UNION ALL
        SELECT {columns} FROM {prefix}_occurrences
        WHERE occurred_at >= toDateTime(%(matured_since)s) AND {matured}
    """


UNREPORTED_CITED = _says("{kind} event {event_id} cites {ref}, which the provider never reported")
ORPHAN_REFERENCE = Check(
    "ART14-ORPHAN-REFERENCE",
    f"""
SELECT provider_id, service_id, ref AS subject, 1 AS magnitude,
       [toString(kind), event_id, ref] AS summary,
       [event_id] AS evidence
FROM
(
    SELECT provider_id, service_id, event_id, kind, ref
    FROM ({_judgeable("citation", "provider_id, service_id, event_id, kind, ref")})
    GROUP BY provider_id, service_id, event_id, kind, ref
)
WHERE (provider_id, ref) NOT IN
(
    SELECT provider_id, event_id FROM citable_ids
    WHERE (provider_id, event_id) IN ({_judgeable("citation", "provider_id, ref")})
)
ORDER BY provider_id, service_id, subject, event_id
""",
    said=lambda v: (phrase(UNREPORTED_CITED, kind=v[0], event_id=v[1], ref=v[2]),),
)

# One alert per complaint with status updates and no receipt, counting every update it has.
UNRECEIVED_COMPLAINT = _says(
    "complaint {complaint} has {updates} status updates but was never reported received"
)
ORPHAN_COMPLAINT = Check(
    "ART15-ORPHAN-STATUS",
    f"""
SELECT provider_id, service_id, subject, updates AS magnitude,
       [subject, toString(updates)] AS summary,
       sampled AS evidence
FROM
(
    SELECT provider_id, min(service_id) AS service_id, subject, uniqExact(event_id) AS updates,
           arraySlice(arraySort(groupUniqArray(event_id)), 1, 10) AS sampled
    FROM complaint_updates_by_subject
    WHERE (provider_id, subject) IN ({_judgeable("complaint_update", "provider_id, subject")})
      AND occurred_at < toDateTime(%(until)s) - %(grace_hours)s * 3600
    GROUP BY provider_id, subject
)
WHERE (provider_id, subject) NOT IN
(
    SELECT provider_id, subject FROM complaints_received
    WHERE (provider_id, subject) IN ({_judgeable("complaint_update", "provider_id, subject")})
)
ORDER BY provider_id, subject
""",
    said=lambda v: (phrase(UNRECEIVED_COMPLAINT, complaint=v[0], updates=v[1]),),
)


def violations(
    executor: Executor,
    check: Check,
    params: Mapping[str, Any],
    now: float,
    calendar: WorkingCalendar,
) -> list[Violation]:
    """Run ``check`` with ``params`` (``check_params``) at ``now``."""
    rows = executor.execute(check.sql, dict(params))
    if check.post is not None:
        rows = check.post(rows, params, now, calendar)
    words = check.said
    return [
        Violation(
            str(p), str(s), str(subject), float(m),
            found if words is None else words([str(v) for v in found]),
            tuple(map(str, evidence)),
        )
        for p, s, subject, m, found, evidence in rows
    ]  # fmt: skip


CHECKS: tuple[Check, ...] = (
    LABELING, DUPLICATE_PRODUCE_ID, UNFILED_SERVICE, OFFSHORE, CHANGE_FILING, MODEL_ASSESSMENT,
    SAFETY_EVALUATION, CANCELLATION, MINORS, ORPHAN_REFERENCE, ORPHAN_COMPLAINT,
)  # fmt: skip

# The words that fill the templates (the console's catalogs translate them too).
WORDS = (*REASONS, SECURITY_ASSESSMENT, ALGORITHM, CHANGE, *STATUS_NAMES.values())
