"""The rules host, without I/O: runs every SLA rule over observed events against a key-value
store of per-subject states (a faust changelog-backed Table live; a dict in replay and tests) and
returns the CaseFacts to publish. Live processing and replay share this class, so they agree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, MutableMapping

from jianguan.contracts.facts import (
    CaseFact,
    case_fact,
    decode_state,
    decode_tally,
    encode_state,
    encode_tally,
    pending_due,
)
from jianguan.domain.calendar import WorkingCalendar
from jianguan.domain.events import Observed
from jianguan.domain.obligations import Case, CaseOpened, Fact, SubjectState
from jianguan.domain.rules.sla import (
    Action,
    AuthorityComplaints,
    ComplaintProcess,
    Complaints,
    IllegalContent,
    PersonalInfoRequests,
    SlaRule,
    UserEnforcement,
    advance,
    apply,
)

# Only these kinds can change rule state; everything else skips the engine entirely.
RELEVANT_KINDS = frozenset(
    {"moderation", "incident_report", "model_rectification", "complaint",
     "personal_info_request", "service_filing", "user_enforcement", "authority_complaint"}
)  # fmt: skip
_FILING = "filing|"
_TALLY = "user-tally|"


class RulesEngine:
    def __init__(
        self,
        store: MutableMapping[str, bytes],
        overrides: Mapping[str, Mapping[str, float]] | None = None,
        calendar: WorkingCalendar | None = None,
    ) -> None:
        o = overrides or {}
        self.store = store
        self.rules = (
            IllegalContent(o.get(IllegalContent.rule_id)),
            Complaints(self._published_days, o.get(Complaints.rule_id)),
            UserEnforcement(o.get(UserEnforcement.rule_id)),
            ComplaintProcess(),
            AuthorityComplaints(o.get(AuthorityComplaints.rule_id)),
            PersonalInfoRequests(
                calendar or WorkingCalendar(), o.get(PersonalInfoRequests.rule_id)
            ),
        )

    def _published_days(self, provider_id: str, service_id: str) -> float | None:
        raw = self.store.get(f"{_FILING}{provider_id}/{service_id}")
        if raw is None:
            return None
        days = json.loads(raw).get("complaint_deadline_days") or None
        return float(days) if days else None

    def process(self, events: Iterable[Observed], detected_at: float) -> list[CaseFact]:
        out: list[CaseFact] = []
        for ev in events:
            if ev.kind not in RELEVANT_KINDS:
                continue
            if ev.kind == "service_filing" and ev.get("kind") == "REGISTRATION":
                doc = {"complaint_deadline_days": ev.get("complaint_deadline_days", 0)}
                self.store[f"{_FILING}{ev.provider_id}/{ev.service_id}"] = json.dumps(doc).encode()
            for rule in self.rules:
                actions = self._actions(rule, ev)
                if not actions:
                    continue  # most rules have nothing to do with most events
                prefix = rule.rule_id + "|"
                keys = {f"{prefix}{ev.provider_id}/{s}" for s, _ in actions}
                states = {
                    k.removeprefix(prefix): decode_state(raw)
                    for k in keys
                    if (raw := self.store.get(k)) is not None
                }
                changed, facts = apply(rule.rule_id, actions, states, ev)
                for k, state in changed.items():
                    self.store[prefix + k] = encode_state(state)
                out += self._facts(facts, {**states, **changed}, detected_at)
        return out

    def _actions(self, rule: SlaRule | UserEnforcement, ev: Observed) -> list[tuple[str, Action]]:
        if not isinstance(rule, UserEnforcement):
            return rule.route(ev)
        user = rule.user(ev)
        if user is None:
            return []
        key = f"{_TALLY}{ev.provider_id}/{user}"
        tally, actions = rule.route_tally(decode_tally(self.store.get(key)), ev)
        self.store[key] = encode_tally(tally)
        return actions

    def tick(self, now: float, provider_id: str | None = None) -> list[CaseFact]:
        """Misses every obligation overdue at ``now`` (of one provider, or all); call with the
        wall clock (live) so an SLA expires even when a provider goes silent. One pass over the
        store; only open cases are advanced."""
        open_cases: dict[str, dict[str, SubjectState]] = {r.rule_id: {} for r in self.rules}
        for key, raw in list(self.store.items()):
            rule_id, sep, subject_key = key.partition("|")
            if not sep or rule_id not in open_cases:
                continue  # complaint deadlines, user tallies: not cases
            if provider_id and not subject_key.startswith(provider_id + "/"):
                continue
            if pending_due(raw) >= now:
                continue  # nothing of it can be missed yet (closed cases never)
            state = decode_state(raw)
            if state.case is not None and not state.case.closed:
                open_cases[rule_id][subject_key] = state
        out: list[CaseFact] = []
        for rule_id, states in open_cases.items():
            changed, facts = advance(states, now)
            for k, state in changed.items():
                self.store[f"{rule_id}|{k}"] = encode_state(state)
            out += self._facts(facts, {**states, **changed}, now)
        return out

    @staticmethod
    def _facts(
        facts: list[Fact], states: Mapping[str, SubjectState], detected_at: float
    ) -> list[CaseFact]:
        by_case: dict[str, Case] = {s.case.case_id: s.case for s in states.values() if s.case}
        out = []
        for f in facts:
            case = f.case if isinstance(f, CaseOpened) else by_case[f.case_id]
            out.append(case_fact(f, case.service_id, case.subject, detected_at))
        return out
