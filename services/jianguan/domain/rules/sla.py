"""SLA rules: what an event contributes to which unit of state, and a unit's cases. Pure.

Each rule ``route``s an event to (unit, Input) pairs (units are provider-scoped by the host, so
one provider's ids never touch another's cases) and ``decide``s a unit's facts from all its
inputs in event-time order at a watermark (``domain.cases``). Hosts (the faust agents, replay,
tests) keep the units in whatever store they have and publish the revisions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from jianguan.domain.calendar import WorkingCalendar, end_of_days_after
from jianguan.domain.cases import (
    OPEN,
    Case,
    Decision,
    Input,
    case_id,
    decide,
    decide_one,
    earliest_per_role,
    every_input,
)
from jianguan.domain.events import Observed
from jianguan.domain.rules.catalog import BY_ID, shown

HOUR = 3600.0
DAY = 86400.0

# Art. 4(1) categories: content the law prohibits outright.
ILLEGAL_CATEGORIES = frozenset(
    {
        "SUBVERSION", "NATIONAL_SECURITY", "NATIONAL_IMAGE", "SECESSION", "TERRORISM_EXTREMISM",
        "ETHNIC_HATRED", "VIOLENCE", "PORNOGRAPHY", "FALSE_HARMFUL_INFORMATION",
        "OTHER_PROHIBITED",
    }
)  # fmt: skip
# Art. 14 ¶1 disposal: stop generation, stop transmission, removal (a block at output stops it).
DISPOSALS = frozenset({"BLOCKED", "STOP_GENERATION", "STOP_TRANSMISSION", "REMOVED"})


HIT, ENFORCED, ENFORCED_REPORTED = "hit", "enforced", "enforced+reported"
# An incident report naming a user (Art. 14 ¶2): meets ``report``, is no enforcement.
REPORTED = "reported"
# The roles that open a case or count towards opening one.
TRIGGERS = frozenset({OPEN, HIT})
# A rectification announced with a completion time still ahead (Art. 14 ¶1).
PLANNED = "rectification_planned"


class RuleBase:
    """A rule's id and its parameters: the values in force (configuration over the catalog's
    defaults), recorded on every case it opens. One case per unit (``decide_one``) by default,
    which reads only the earliest input of each role: the unit keeps only those."""

    rule_id = ""
    # The kinds of event it routes (any other kind routes to nothing).
    kinds: frozenset[str] = frozenset()

    @staticmethod
    def keep(inputs: tuple[Input, ...]) -> tuple[Input, ...]:
        return earliest_per_role(inputs)

    def __init__(self, overrides: Mapping[str, float] | None, names: tuple[str, ...]) -> None:
        in_force = BY_ID[self.rule_id].values(overrides)
        self.values = {n: in_force[n] for n in names}
        self.parameters: tuple[tuple[str, str], ...] = tuple(
            (n, shown(v)) for n, v in sorted(self.values.items())
        )
        self.in_force_s = BY_ID[self.rule_id].in_force_s

    def route(self, ev: Observed) -> list[tuple[str, Input]]:
        """What the event contributes to which unit. An event from before the rule's norm took
        effect opens no case and counts towards none; it may still meet an obligation."""
        routed = self._route(ev)
        if ev.at >= self.in_force_s:
            return routed
        return [(unit, given) for unit, given in routed if given.role not in TRIGGERS]

    def _route(self, ev: Observed) -> list[tuple[str, Input]]:
        raise NotImplementedError


class IllegalContent(RuleBase):
    """ART14-ILLEGAL-CONTENT: an output-stage hit in an Art. 4(1) category opens a case that
    needs disposal, a report to the authority and a model rectification, each within its SLA."""

    rule_id = "ART14-ILLEGAL-CONTENT"
    kinds = frozenset({"moderation", "incident_report", "model_rectification"})

    def __init__(self, overrides: Mapping[str, float] | None = None) -> None:
        super().__init__(overrides, ("disposal_hours", "report_hours", "rectification_days"))
        self.disposal_s = self.values["disposal_hours"] * HOUR
        self.report_s = self.values["report_hours"] * HOUR
        self.rectification_s = self.values["rectification_days"] * DAY

    def _route(self, ev: Observed) -> list[tuple[str, Input]]:
        if ev.kind == "moderation":
            disposal = ev.get("action") in DISPOSALS
            disposed = ev.get("disposes_event_id")
            if disposed:
                # A later decision on an earlier hit (its removal, typically of the same output
                # in the same category): that hit's disposal, never a finding of its own.
                return [(disposed, Input(ev.at, ev.event_id, "disposal"))] if disposal else []
            out: list[tuple[str, Input]] = []
            if ev.get("stage") == "OUTPUT" and ev.get("risk_category") in ILLEGAL_CATEGORIES:
                out.append((ev.event_id, Input(ev.at, ev.event_id, OPEN, ev.service_id)))
                if disposal:
                    out.append((ev.event_id, Input(ev.at, ev.event_id, "disposal")))
            return out
        if ev.kind == "incident_report":
            return [
                (r, Input(ev.at, ev.event_id, "report")) for r in ev.get("related_event_ids", ())
            ]
        if ev.kind == "model_rectification":
            # A rectification is met when it is completed, not when it is announced: one whose
            # completion lies ahead is planned, and meets the obligation once the clock gets there.
            done = float(ev.get("completed_at", ev.at))
            given = (
                Input(done, ev.event_id, PLANNED)
                if done > ev.at
                else Input(ev.at, ev.event_id, "rectification")
            )
            return [(r, given) for r in ev.get("related_event_ids", ())]
        return []

    def decide(
        self, provider_id: str, unit: str, inputs: Sequence[Input], watermark: float
    ) -> Decision:
        def dues(t: Input) -> tuple[dict[str, float], tuple[tuple[str, str], ...]]:
            return {
                "disposal": t.at + self.disposal_s,
                "report": t.at + self.report_s,
                "rectification": t.at + self.rectification_s,
            }, self.parameters

        # Planned rectifications whose completion the watermark has reached meet the obligation;
        # the others wake the unit at their completion.
        planned = [i for i in inputs if i.role == PLANNED]
        current = [i for i in inputs if i.role != PLANNED] + [
            Input(i.at, i.event_id, "rectification") for i in planned if i.at <= watermark
        ]
        decision = decide_one(self.rule_id, provider_id, unit, current, dues, watermark)
        ahead = [i.at for i in planned if i.at > watermark]
        if ahead and decision.facts:
            return Decision(decision.facts, min(decision.next_due, min(ahead)))
        return decision


# (provider, service, at) → the complaint deadline in days the service published as of ``at``,
# whether they are working days, and the registration that published it, or None when none did.
PublishedDays = Callable[[str, str, float], tuple[float, bool, str] | None]


# How a deadline in days is counted (recorded on every complaint case it dates).
DAY_COUNT = "from the day after receipt to 24:00 CST of the last day (Civil Code Arts. 201, 203)"
WORKING_DAY_COUNT = "working days from the day after receipt to 24:00 CST of the last one"


class Complaints(RuleBase):
    """ART15-COMPLAINT: a received complaint is acknowledged and resolved within the deadline
    the provider had published for the service when the complaint was received, or the default,
    counted in days as the Civil Code counts a period (``DAY_COUNT``); a deadline published in
    working days is counted in working days of the configured calendar (``WORKING_DAY_COUNT``).
    """

    rule_id = "ART15-COMPLAINT"
    kinds = frozenset({"complaint"})

    def __init__(
        self,
        published_days: PublishedDays,
        calendar: WorkingCalendar | None = None,
        overrides: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__(overrides, ("deadline_days", "acknowledge_days"))
        self.published_days = published_days
        self.calendar = calendar or WorkingCalendar()

    def _route(self, ev: Observed) -> list[tuple[str, Input]]:
        if ev.kind != "complaint" or not ev.get("complaint_id"):
            return []
        subject = str(ev.get("complaint_id"))
        status = ev.get("status")
        if status == "RECEIVED":
            return [(subject, Input(ev.at, ev.event_id, OPEN, ev.service_id))]
        if status == "ACKNOWLEDGED":
            return [(subject, Input(ev.at, ev.event_id, "acknowledge"))]
        if status == "RESOLVED":  # a resolution answers the complainant: acknowledged too
            return [
                (subject, Input(ev.at, ev.event_id, "acknowledge")),
                (subject, Input(ev.at, ev.event_id, "resolve")),
            ]
        return []

    def decide(
        self, provider_id: str, unit: str, inputs: Sequence[Input], watermark: float
    ) -> Decision:
        def dues(t: Input) -> tuple[dict[str, float], tuple[tuple[str, str], ...]]:
            published = self.published_days(provider_id, t.service_id, t.at)
            days, working, source = published or (self.values["deadline_days"], False, "default")
            count: tuple[tuple[str, str], ...]
            if working:
                resolve = self.calendar.deadline(t.at, int(days))
                count = (("day_count", WORKING_DAY_COUNT), ("calendar", self.calendar.digest))
            else:
                resolve = end_of_days_after(t.at, days)
                count = (("day_count", DAY_COUNT),)
            acknowledge = min(end_of_days_after(t.at, self.values["acknowledge_days"]), resolve)
            parameters = (
                *self.parameters,
                *count,
                ("resolve_days", shown(days)),
                ("resolve_days_source", source),
                ("resolve_days_unit", "working" if working else "calendar"),
            )
            return {"acknowledge": acknowledge, "resolve": resolve}, parameters

        return decide_one(self.rule_id, provider_id, unit, inputs, dues, watermark)


class UserEnforcement(RuleBase):
    """ART14-USER-ENFORCEMENT: a user whose inputs hit Art. 4(1) categories ``consecutive_inputs``
    times without an enforcement in between, or ``daily_inputs`` times in one day (CST), must be
    warned, restricted, suspended or terminated — with the record kept — and reported, within
    ``enforcement_hours``. Only hits are observed, so "consecutive" means: with no enforcement on
    that user in between. The unit is the user: their hits and enforcements in event-time order
    number the cases (``user#1``, ``user#2`` …). An enforcement counts when it cites the events
    that led to it (``reason_event_ids``). A case stays open until both obligations are
    met: a warning that was not reported leaves ``report`` open for a later reported enforcement
    of the same user (a suspension after the warning) to meet, or for an incident report that
    names the user and cites events (``user_ref``, ``related_event_ids``). A report meets the
    cases opened before it; it is no enforcement, so it neither meets one nor restarts the count."""

    rule_id = "ART14-USER-ENFORCEMENT"
    kinds = frozenset({"moderation", "user_enforcement", "incident_report"})

    @staticmethod
    def keep(inputs: tuple[Input, ...]) -> tuple[Input, ...]:
        return every_input(inputs)  # the whole timeline numbers the cases

    def __init__(self, overrides: Mapping[str, float] | None = None) -> None:
        super().__init__(overrides, ("consecutive_inputs", "daily_inputs", "enforcement_hours"))
        self.consecutive = int(self.values["consecutive_inputs"])
        self.daily = int(self.values["daily_inputs"])
        self.within_s = self.values["enforcement_hours"] * HOUR

    def _route(self, ev: Observed) -> list[tuple[str, Input]]:
        user = ev.get("user_ref")
        if not user:
            return []
        if ev.kind == "moderation" and ev.get("stage") == "INPUT":
            if ev.get("risk_category") in ILLEGAL_CATEGORIES:
                return [(str(user), Input(ev.at, ev.event_id, HIT, ev.service_id))]
            return []
        if ev.kind == "user_enforcement":
            if not ev.get("reason_event_ids"):
                # Not an answer to illegal activity (which it would cite): e.g. the restriction
                # of a minor's account at its daily limit (Art. 10), which only ART10-MINORS reads.
                return []
            reported = ev.get("reported_to_authority") and ev.get("record_kept")
            role = ENFORCED_REPORTED if reported else ENFORCED
            return [(str(user), Input(ev.at, ev.event_id, role, ev.service_id))]
        if ev.kind == "incident_report" and ev.get("related_event_ids"):
            return [(str(user), Input(ev.at, ev.event_id, REPORTED, ev.service_id))]
        return []

    def decide(
        self, provider_id: str, unit: str, inputs: Sequence[Input], watermark: float
    ) -> Decision:
        out = Decision()
        day = today = since = numbered = 0
        # The case awaiting an enforcement (and what met it so far: a report may come first).
        waiting: Case | None = None
        waiting_met: dict[str, tuple[float, str]] = {}
        # Cases enforced but not yet reported, with what met them: a later enforcement on the
        # same user that is reported (with the record kept), or a report naming the user, reports
        # them too (late past due).
        unreported: list[tuple[Case, dict[str, tuple[float, str]]]] = []
        for i in sorted(inputs):
            if i.role in (REPORTED, ENFORCED_REPORTED):
                for case, met in unreported:
                    met = {**met, "report": (i.at, i.event_id)}
                    out += decide(case, met, watermark, self.parameters)
                unreported = []
                if waiting is not None:
                    waiting_met.setdefault("report", (i.at, i.event_id))
            if i.role in (ENFORCED, ENFORCED_REPORTED):
                if waiting is not None:
                    met = {**waiting_met, "enforcement": (i.at, i.event_id)}
                    if "report" in met:
                        out += decide(waiting, met, watermark, self.parameters)
                    else:
                        unreported.append((waiting, met))
                    waiting, waiting_met = None, {}
                since = 0
            if i.role != HIT:
                continue
            civil_day = int((i.at + 8 * HOUR) // DAY)  # civil day in China Standard Time
            today = today + 1 if civil_day == day else 1
            day, since = civil_day, since + 1
            if waiting is not None or (since != self.consecutive and today != self.daily):
                continue
            numbered += 1
            subject = f"{unit}#{numbered}"
            due = i.at + self.within_s
            waiting = Case(
                case_id(self.rule_id, provider_id, subject),
                self.rule_id,
                provider_id,
                i.service_id,
                subject,
                i.at,
                i.event_id,
                (("enforcement", due), ("report", due)),
            )
        for case, met in unreported:
            out += decide(case, met, watermark, self.parameters)
        if waiting is not None:
            out += decide(waiting, waiting_met, watermark, self.parameters)
        return out


class AuthorityComplaints(RuleBase):
    """ART18-AUTHORITY-COMPLAINT: a complaint made to the authority and forwarded to the
    provider is matched, within the grace period from its forwarding, by the provider's own
    complaint record quoting the authority's reference. Until it is forwarded the provider cannot
    know of it: no case (a record made before, e.g. from the user directly, still meets it)."""

    rule_id = "ART18-AUTHORITY-COMPLAINT"
    kinds = frozenset({"authority_complaint", "complaint"})

    def __init__(self, overrides: Mapping[str, float] | None = None) -> None:
        super().__init__(overrides, ("match_grace_days",))
        self.grace_s = self.values["match_grace_days"] * DAY

    def _route(self, ev: Observed) -> list[tuple[str, Input]]:
        if ev.kind == "authority_complaint":
            forwarded = ev.get("forwarded_at")
            if not forwarded:
                return []
            return [(ev.event_id, Input(float(forwarded), ev.event_id, OPEN, ev.service_id))]
        if ev.kind == "complaint" and ev.get("authority_ref"):
            return [(str(ev.get("authority_ref")), Input(ev.at, ev.event_id, "provider_record"))]
        return []

    def decide(
        self, provider_id: str, unit: str, inputs: Sequence[Input], watermark: float
    ) -> Decision:
        def dues(t: Input) -> tuple[dict[str, float], tuple[tuple[str, str], ...]]:
            return {"provider_record": t.at + self.grace_s}, self.parameters

        return decide_one(self.rule_id, provider_id, unit, inputs, dues, watermark)


class _Published(RuleBase):
    """A registered service publishes ``published``: a registration (neither rejected nor
    revoked) without one of them opens the service's case, whose one obligation a registration
    publishing them all meets, due ``grace_hours`` after the one without (no such parameter: at
    once; late when after)."""

    kinds = frozenset({"service_filing"})
    published: tuple[str, ...] = ()
    obligation = ""

    def __init__(self, overrides: Mapping[str, float] | None, names: tuple[str, ...]) -> None:
        super().__init__(overrides, names)
        self.grace_s = float(self.values.get("grace_hours", 0)) * HOUR

    def _route(self, ev: Observed) -> list[tuple[str, Input]]:
        if ev.kind != "service_filing" or ev.get("kind") != "REGISTRATION":
            return []
        if ev.get("status") in ("REJECTED", "REVOKED"):
            return []
        published = all(bool(ev.get(name)) for name in self.published)
        role = self.obligation if published else OPEN
        return [(ev.service_id, Input(ev.at, ev.event_id, role, ev.service_id))]

    def decide(
        self, provider_id: str, unit: str, inputs: Sequence[Input], watermark: float
    ) -> Decision:
        def dues(t: Input) -> tuple[dict[str, float], tuple[tuple[str, str], ...]]:
            return {self.obligation: t.at + self.grace_s}, self.parameters

        return decide_one(self.rule_id, provider_id, unit, inputs, dues, watermark)


class ComplaintProcess(_Published):
    """ART15-NO-DEADLINE: a service's registration publishes a complaint entry point and a
    response deadline. Registered without them, the case's only obligation is already due; a
    registration that publishes them meets it (late when after the one without)."""

    rule_id = "ART15-NO-DEADLINE"
    published = ("complaint_deadline_days", "complaint_channel_url")
    obligation = "publish_deadline"

    def __init__(self, overrides: Mapping[str, float] | None = None) -> None:
        super().__init__(overrides, ())


class PublishedUse(_Published):
    """ART10-PUBLISHED-USE: a service's registration states and publishes whom and what it is for
    (its intended users, occasions and uses, and where its usage policy is published)."""

    rule_id = "ART10-PUBLISHED-USE"
    published = ("intended_users", "intended_uses", "usage_policy_url")
    obligation = "publish_use"

    def __init__(self, overrides: Mapping[str, float] | None = None) -> None:
        super().__init__(overrides, ("grace_hours",))


class UserAgreement(_Published):
    """ART9-USER-AGREEMENT: a service's registration names the service agreement its users sign
    (its version, and where it is published)."""

    rule_id = "ART9-USER-AGREEMENT"
    published = ("user_agreement_version", "user_agreement_url")
    obligation = "user_agreement"

    def __init__(self, overrides: Mapping[str, float] | None = None) -> None:
        super().__init__(overrides, ("grace_hours",))


class PersonalInfoRequests(RuleBase):
    """ART11-PI-REQUEST: a request is fulfilled, or refused with reasons, within N working days."""

    rule_id = "ART11-PI-REQUEST"
    kinds = frozenset({"personal_info_request"})

    def __init__(
        self, calendar: WorkingCalendar, overrides: Mapping[str, float] | None = None
    ) -> None:
        super().__init__(overrides, ("answer_working_days",))
        self.calendar = calendar
        self.working_days = int(self.values["answer_working_days"])
        self.parameters = (*self.parameters, ("calendar", calendar.digest))

    def _route(self, ev: Observed) -> list[tuple[str, Input]]:
        if ev.kind != "personal_info_request" or not ev.get("request_id"):
            return []
        subject = str(ev.get("request_id"))
        status = ev.get("status")
        if status == "RECEIVED":
            return [(subject, Input(ev.at, ev.event_id, OPEN, ev.service_id))]
        # A refusal answers only with its reasons (PIPL Art. 50: a refusal states why); one
        # without leaves the request unanswered.
        reasoned = str(ev.get("refusal_reason", "")).strip()
        if status == "FULFILLED" or (status == "REFUSED" and reasoned):
            return [(subject, Input(ev.at, ev.event_id, "answer"))]
        return []

    def decide(
        self, provider_id: str, unit: str, inputs: Sequence[Input], watermark: float
    ) -> Decision:
        def dues(t: Input) -> tuple[dict[str, float], tuple[tuple[str, str], ...]]:
            return {"answer": self.calendar.deadline(t.at, self.working_days)}, self.parameters

        return decide_one(self.rule_id, provider_id, unit, inputs, dues, watermark)
