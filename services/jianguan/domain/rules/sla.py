"""SLA rules: which cases an event opens and which obligations it meets. Pure.

Each rule routes an event to (subject, action) pairs; ``step`` applies them to the per-subject
states (keys are provider-scoped, so one provider's ids never touch another's cases) and
returns the updated states and the facts emitted. Hosts (the faust agents, replay, tests) keep
the states in whatever store they have.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from jianguan.domain.calendar import WorkingCalendar
from jianguan.domain.events import Observed
from jianguan.domain.obligations import Fact, SubjectState, meet, open_case, tick
from jianguan.domain.rules.catalog import BY_ID

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


@dataclass(frozen=True, slots=True)
class Open:
    dues: dict[str, float]


@dataclass(frozen=True, slots=True)
class Meet:
    obligation: str


Action = Open | Meet


def _param(rule_id: str, name: str, overrides: Mapping[str, float]) -> float:
    return float(overrides.get(name, BY_ID[rule_id].param(name).default))


class IllegalContent:
    """ART14-ILLEGAL-CONTENT: an output-stage hit in an Art. 4(1) category opens a case that
    needs disposal, a report to the authority and a model rectification, each within its SLA."""

    rule_id = "ART14-ILLEGAL-CONTENT"

    def __init__(self, overrides: Mapping[str, float] | None = None) -> None:
        o = overrides or {}
        self.disposal_s = _param(self.rule_id, "disposal_hours", o) * HOUR
        self.report_s = _param(self.rule_id, "report_hours", o) * HOUR
        self.rectification_s = _param(self.rule_id, "rectification_days", o) * DAY

    def route(self, ev: Observed) -> list[tuple[str, Action]]:
        if ev.kind == "moderation":
            out: list[tuple[str, Action]] = []
            disposal = ev.get("action") in DISPOSALS
            if ev.get("stage") == "OUTPUT" and ev.get("risk_category") in ILLEGAL_CATEGORIES:
                dues = {
                    "disposal": ev.at + self.disposal_s,
                    "report": ev.at + self.report_s,
                    "rectification": ev.at + self.rectification_s,
                }
                out.append((ev.event_id, Open(dues)))
                if disposal:
                    out.append((ev.event_id, Meet("disposal")))
            disposed = ev.get("disposes_event_id")
            if disposed and disposal:
                out.append((disposed, Meet("disposal")))
            return out
        if ev.kind == "incident_report":
            return [(ref, Meet("report")) for ref in ev.get("related_event_ids", ())]
        if ev.kind == "model_rectification":
            return [(ref, Meet("rectification")) for ref in ev.get("related_event_ids", ())]
        return []


class Complaints:
    """ART15-COMPLAINT: a received complaint is acknowledged and resolved within the deadline
    the provider published for the service (``published_days``), or the default."""

    rule_id = "ART15-COMPLAINT"

    def __init__(
        self,
        published_days: Callable[[str, str], float | None],
        overrides: Mapping[str, float] | None = None,
    ) -> None:
        o = overrides or {}
        self.published_days = published_days
        self.default_days = _param(self.rule_id, "deadline_days", o)
        self.acknowledge_s = _param(self.rule_id, "acknowledge_days", o) * DAY

    def route(self, ev: Observed) -> list[tuple[str, Action]]:
        if ev.kind != "complaint" or not ev.get("complaint_id"):
            return []
        subject = str(ev.get("complaint_id"))
        status = ev.get("status")
        if status == "RECEIVED":
            days = self.published_days(ev.provider_id, ev.service_id) or self.default_days
            resolve = ev.at + days * DAY
            dues = {"acknowledge": min(ev.at + self.acknowledge_s, resolve), "resolve": resolve}
            return [(subject, Open(dues))]
        if status == "ACKNOWLEDGED":
            return [(subject, Meet("acknowledge"))]
        if status == "RESOLVED":  # a resolution answers the complainant: acknowledged too
            return [(subject, Meet("acknowledge")), (subject, Meet("resolve"))]
        return []


@dataclass(frozen=True, slots=True)
class UserTally:
    """Illegal inputs of one user: today's (CST) count and the count since the last enforcement."""

    day: int = 0
    today: int = 0
    since_enforcement: int = 0
    cases: int = 0  # cases opened so far; numbers the next one
    open_case: str = ""  # subject of the case awaiting enforcement, if any


class UserEnforcement:
    """ART14-USER-ENFORCEMENT: a user whose inputs hit Art. 4(1) categories ``consecutive_inputs``
    times without an enforcement in between, or ``daily_inputs`` times in one day (CST), must be
    warned, restricted, suspended or terminated — with the record kept — and reported, within
    ``enforcement_hours``. Only hits are observed, so "consecutive" means: with no enforcement on
    that user in between."""

    rule_id = "ART14-USER-ENFORCEMENT"

    def __init__(self, overrides: Mapping[str, float] | None = None) -> None:
        o = overrides or {}
        self.consecutive = int(_param(self.rule_id, "consecutive_inputs", o))
        self.daily = int(_param(self.rule_id, "daily_inputs", o))
        self.within_s = _param(self.rule_id, "enforcement_hours", o) * HOUR

    @staticmethod
    def user(ev: Observed) -> str | None:
        hit = ev.kind == "moderation" and ev.get("stage") == "INPUT"
        if hit and ev.get("risk_category") in ILLEGAL_CATEGORIES and ev.get("user_ref"):
            return str(ev.get("user_ref"))
        if ev.kind == "user_enforcement" and ev.get("user_ref"):
            return str(ev.get("user_ref"))
        return None

    def route_tally(
        self, tally: UserTally, ev: Observed
    ) -> tuple[UserTally, list[tuple[str, Action]]]:
        """Update the user's tally with one event; the case actions it implies."""
        if ev.kind == "user_enforcement":
            actions: list[tuple[str, Action]] = []
            if tally.open_case:
                actions.append((tally.open_case, Meet("enforcement")))
                if ev.get("reported_to_authority") and ev.get("record_kept"):
                    actions.append((tally.open_case, Meet("report")))
            return replace(tally, since_enforcement=0, open_case=""), actions
        day = int((ev.at + 8 * HOUR) // DAY)  # civil day in China Standard Time
        today = tally.today + 1 if day == tally.day else 1
        tally = replace(tally, day=day, today=today, since_enforcement=tally.since_enforcement + 1)
        crossed = tally.since_enforcement == self.consecutive or today == self.daily
        if not crossed or tally.open_case:
            return tally, []
        subject = f"{self.user(ev)}#{tally.cases + 1}"
        due = ev.at + self.within_s
        tally = replace(tally, cases=tally.cases + 1, open_case=subject)
        return tally, [(subject, Open({"enforcement": due, "report": due}))]


class AuthorityComplaints:
    """ART18-AUTHORITY-COMPLAINT: a complaint made to the authority is matched, within the grace
    period, by the provider's own complaint record quoting the authority's reference."""

    rule_id = "ART18-AUTHORITY-COMPLAINT"

    def __init__(self, overrides: Mapping[str, float] | None = None) -> None:
        self.grace_s = _param(self.rule_id, "match_grace_days", overrides or {}) * DAY

    def route(self, ev: Observed) -> list[tuple[str, Action]]:
        if ev.kind == "authority_complaint":
            return [(ev.event_id, Open({"provider_record": ev.at + self.grace_s}))]
        if ev.kind == "complaint" and ev.get("authority_ref"):
            return [(str(ev.get("authority_ref")), Meet("provider_record"))]
        return []


class ComplaintProcess:
    """ART15-NO-DEADLINE: a service's registration publishes a complaint entry point and a
    response deadline. Registered without them, the case's only obligation is already due; a
    later registration that publishes them meets it (late)."""

    rule_id = "ART15-NO-DEADLINE"

    def route(self, ev: Observed) -> list[tuple[str, Action]]:
        if ev.kind != "service_filing" or ev.get("kind") != "REGISTRATION":
            return []
        if ev.get("status") in ("REJECTED", "REVOKED"):
            return []
        published = bool(ev.get("complaint_deadline_days")) and bool(
            ev.get("complaint_channel_url")
        )
        if published:
            return [(ev.service_id, Meet("publish_deadline"))]
        return [(ev.service_id, Open({"publish_deadline": ev.at}))]


class PersonalInfoRequests:
    """ART11-PI-REQUEST: a request is fulfilled or refused within N working days."""

    rule_id = "ART11-PI-REQUEST"

    def __init__(
        self, calendar: WorkingCalendar, overrides: Mapping[str, float] | None = None
    ) -> None:
        self.calendar = calendar
        self.working_days = int(_param(self.rule_id, "answer_working_days", overrides or {}))

    def route(self, ev: Observed) -> list[tuple[str, Action]]:
        if ev.kind != "personal_info_request" or not ev.get("request_id"):
            return []
        subject = str(ev.get("request_id"))
        status = ev.get("status")
        if status == "RECEIVED":
            return [(subject, Open({"answer": self.calendar.deadline(ev.at, self.working_days)}))]
        if status in ("FULFILLED", "REFUSED"):
            return [(subject, Meet("answer"))]
        return []


def subject_key(provider_id: str, subject: str) -> str:
    return f"{provider_id}/{subject}"


SlaRule = (
    IllegalContent | Complaints | ComplaintProcess | PersonalInfoRequests | AuthorityComplaints
)


def step(
    rule: SlaRule,
    states: Mapping[str, SubjectState],
    ev: Observed,
) -> tuple[dict[str, SubjectState], list[Fact]]:
    """Apply one event. ``states`` holds (at least) the states of the keys the event touches;
    returns the states that changed and the facts, in order."""
    return apply(rule.rule_id, rule.route(ev), states, ev)


def apply(
    rule_id: str,
    actions: list[tuple[str, Action]],
    states: Mapping[str, SubjectState],
    ev: Observed,
) -> tuple[dict[str, SubjectState], list[Fact]]:
    """Apply a rule's actions for one event (see ``step``)."""
    changed: dict[str, SubjectState] = {}
    facts: list[Fact] = []
    for subject, action in actions:
        key = subject_key(ev.provider_id, subject)
        state = changed.get(key, states.get(key))
        if isinstance(action, Open):
            new, emitted = open_case(
                state,
                rule_id=rule_id,
                provider_id=ev.provider_id,
                service_id=ev.service_id,
                subject=subject,
                trigger_event_id=ev.event_id,
                at=ev.at,
                dues=action.dues,
            )
        else:
            new, emitted = meet(state, action.obligation, ev.at, ev.event_id)
        if new is not state:
            changed[key] = new
        facts += emitted
    return changed, facts


def advance(
    states: Mapping[str, SubjectState], now: float
) -> tuple[dict[str, SubjectState], list[Fact]]:
    """The clock reached ``now``: misses every overdue obligation, once."""
    changed: dict[str, SubjectState] = {}
    facts: list[Fact] = []
    for key in sorted(states):
        new, emitted = tick(states[key], now)
        if emitted and new is not None:
            changed[key] = new
            facts += emitted
    return changed, facts
