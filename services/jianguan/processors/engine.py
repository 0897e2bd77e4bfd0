"""The rules host, without I/O: runs every SLA rule over observed events against a key-value
store of units of rule state (a faust changelog-backed Table live; a dict in replay and tests)
and returns the CaseFacts to publish. Live processing and replay share this class, so they agree.

Per batch: every event is routed to the units it concerns; each touched unit is read once, its
new inputs added, its cases decided afresh from all its inputs in event-time order, written
once, and only the difference from what was published before comes out (new facts, revisions,
retractions). Re-applying an event changes nothing, so at-least-once delivery is harmless.

Corrections: an event that corrects another, or a retraction, withdraws the earlier event: its
inputs leave every unit it was routed to (whose cases are decided afresh) and a registration it
was leaves its service's history; the earlier event arriving afterwards is passed over, so the
result does not depend on which came first.

Keys: ``<rule id>|<provider>/<unit>`` for units, ``registrations|<provider>/<service>/<event id>``
for each registration of a service (the complaint deadline it published, and from when),
``received|<provider>/<service>|<instant>|<unit key>`` for each complaint received (the index a
registration reads to find the complaints whose deadline it changed), ``routed|<provider>/<event
id>`` for each event routed to units (their keys, one per line: what a withdrawal takes it out
of) and ``withdrawn|<provider>/<event id>`` for each event withdrawn (the id of the event that
withdrew it).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, MutableMapping, Sequence

from jianguan.contracts import pb
from jianguan.contracts.facts import (
    CaseFact,
    case_fact,
    decode_registration,
    decode_unit,
    encode_registration,
    encode_unit,
    next_due,
    retraction,
)
from jianguan.domain import registrations
from jianguan.domain.calendar import WorkingCalendar
from jianguan.domain.cases import OPEN, Input, Unit, add_inputs, remove_inputs, revise, tally
from jianguan.domain.configuration import Overrides, RuleConfiguration, in_force
from jianguan.domain.due_queue import DueQueue
from jianguan.domain.events import Observed
from jianguan.domain.registrations import WORKING_DAYS, Registration
from jianguan.domain.rules.active import RELEVANT_KINDS, SlaRule
from jianguan.domain.rules.demands import CorrectionOrders, Inspections
from jianguan.domain.rules.sla import (
    AuthorityComplaints,
    ComplaintProcess,
    Complaints,
    IllegalContent,
    PersonalInfoRequests,
    PublishedUse,
    UserAgreement,
    UserEnforcement,
)
from jianguan.domain.watermark import Watermarks

# Their codes in the events table and on the wire (the native scanner's kinds).
RELEVANT_CODES = frozenset(pb.BODY_KINDS[k] for k in RELEVANT_KINDS if k in pb.BODY_KINDS)
_REGISTRATIONS = "registrations|"
_RECEIVED = "received|"
_ROUTED = "routed|"
_WITHDRAWN = "withdrawn|"


def _instant(at: float) -> str:
    """An event time as text that sorts like the time (fixed width, microseconds)."""
    return f"{max(at, 0.0):020.6f}"


def unit_key(rule_id: str, provider_id: str, unit: str) -> str:
    return f"{rule_id}|{provider_id}/{unit}"


def _parse(key: str) -> tuple[str, str, str]:
    rule_id, _, rest = key.partition("|")
    provider_id, _, unit = rest.partition("/")
    return rule_id, provider_id, unit


class RulesEngine:
    """``history``: every configuration the rules ran with (``domain.configuration``); a unit is
    decided with the one in force at its first event. Without it, ``overrides`` and
    ``calendar`` are the one configuration, for all time."""

    def __init__(
        self,
        store: MutableMapping[str, bytes],
        overrides: Overrides | None = None,
        calendar: WorkingCalendar | None = None,
        watermarks: Watermarks | None = None,
        history: Sequence[RuleConfiguration] = (),
    ) -> None:
        self.store = store
        self.watermarks = watermarks or Watermarks()
        self.history = list(history) or [
            RuleConfiguration(0.0, overrides or {}, calendar or WorkingCalendar())
        ]
        self._rule_sets = [self._rules_of(c) for c in self.history]
        self.rules = self._rule_sets[-1]  # routing (which does not depend on parameters)
        self._routes = {k: [r for r in self.rules.values() if k in r.kinds] for k in RELEVANT_KINDS}
        # Indexes kept in memory, built from the store on first use (after a restart the store
        # is what the changelog restored) and maintained on every write.
        self._dues: dict[str, DueQueue] | None = None  # provider → its units by due instant
        # (provider, service) → its registrations, sorted
        self._registrations: dict[tuple[str, str], list[Registration]] | None = None
        # unit key → its (open, overdue) cases, and their sums per rule
        self._tallies: dict[str, tuple[int, int]] | None = None
        self._totals: dict[str, list[int]] = {}

    def _rules_of(self, c: RuleConfiguration) -> dict[str, SlaRule]:
        o = c.overrides
        rules: tuple[SlaRule, ...] = (
            IllegalContent(o.get(IllegalContent.rule_id)),
            Complaints(self._published_days, c.calendar, o.get(Complaints.rule_id)),
            UserEnforcement(o.get(UserEnforcement.rule_id)),
            ComplaintProcess(o.get(ComplaintProcess.rule_id)),
            AuthorityComplaints(o.get(AuthorityComplaints.rule_id)),
            PersonalInfoRequests(c.calendar, o.get(PersonalInfoRequests.rule_id)),
            CorrectionOrders(o.get(CorrectionOrders.rule_id)),
            Inspections(o.get(Inspections.rule_id)),
            PublishedUse(o.get(PublishedUse.rule_id)),
            UserAgreement(o.get(UserAgreement.rule_id)),
        )
        return {r.rule_id: r for r in rules}

    def forget_indexes(self) -> None:
        """The store now holds other units (partitions moved): rebuild the indexes from it."""
        self._dues = None
        self._registrations = None
        self._tallies = None

    # -- events ----------------------------------------------------------------------------

    def process(self, events: Iterable[Observed], now: float) -> list[CaseFact]:
        """Apply a batch of events; ``now`` is the wall clock (detection time, watermark)."""
        touched: dict[str, list[Input]] = defaultdict(list)
        removed: dict[str, set[str]] = defaultdict(set)
        recompute: set[str] = set()
        for ev in events:
            if ev.kind not in RELEVANT_KINDS:
                continue
            self.watermarks.observe(ev.provider_id, ev.at, now)
            if self.store.get(f"{_WITHDRAWN}{ev.provider_id}/{ev.event_id}") is not None:
                continue  # withdrawn before it arrived: as if it had never been reported
            if ev.withdraws:
                recompute |= self._withdraw(ev, touched, removed)
            registration = ev.kind == "service_filing" and ev.get("kind") == "REGISTRATION"
            span = self._register(ev) if registration else None
            if span is not None:
                recompute |= self._complaints_of(ev.provider_id, ev.service_id, span)
            routed: set[str] = set()
            for rule in self._routes[ev.kind]:
                for name, given in rule.route(ev):
                    key = unit_key(rule.rule_id, ev.provider_id, name)
                    touched[key].append(given)
                    routed.add(key)
                    if given.role == OPEN and rule.rule_id == Complaints.rule_id:
                        self._index_receipt(ev.provider_id, given, key)
            if routed:
                self.store[f"{_ROUTED}{ev.provider_id}/{ev.event_id}"] = "\n".join(
                    sorted(routed)
                ).encode()
        out: list[CaseFact] = []
        for key in sorted(touched.keys() | recompute | removed.keys()):
            raw = self.store.get(key)
            unit = decode_unit(raw)
            keep = self.rules[key.partition("|")[0]].keep
            cut = remove_inputs(unit, removed.get(key, ()))
            added = add_inputs(cut or unit, touched.get(key, ()), keep)
            if added is not None or cut is not None or key in recompute:
                out += self._decide(key, added or cut or unit, now, raw)
        return out

    def _withdraw(
        self, ev: Observed, touched: dict[str, list[Input]], removed: dict[str, set[str]]
    ) -> set[str]:
        """Takes the event ``ev`` withdraws out of the units it was routed to (``removed``, and
        the inputs of this batch not yet added) and out of its service's registrations, and
        marks it withdrawn. Returns the complaint units a withdrawn registration had set the
        deadline of."""
        gone, provider = ev.withdraws, ev.provider_id
        self.store[f"{_WITHDRAWN}{provider}/{gone}"] = ev.event_id.encode()
        routed = self.store.get(f"{_ROUTED}{provider}/{gone}")
        for key in routed.decode().split("\n") if routed else ():
            removed[key].add(gone)
            if key in touched:
                touched[key] = [i for i in touched[key] if i.event_id != gone]
        entry = f"{_REGISTRATIONS}{provider}/{ev.service_id}/{gone}"
        if self.store.get(entry) is None:
            return set()
        history = self._history(provider, ev.service_id)  # loaded before the key goes
        del self.store[entry]
        span = registrations.remove(history, gone)
        return self._complaints_of(provider, ev.service_id, span) if span is not None else set()

    def tick(self, now: float, provider_id: str | None = None) -> list[CaseFact]:
        """Misses every obligation overdue at the watermark (of one provider, or all); call it
        with the wall clock (live) so a deadline expires even when a provider goes silent."""
        dues = self._due_index()
        out: list[CaseFact] = []
        for provider in [provider_id] if provider_id else sorted(dues):
            queue = dues.get(provider)
            if queue is None:
                continue
            watermark = self.watermarks.at(provider, now)
            for key in sorted(queue.pop_before(watermark)):
                raw = self.store.get(key)
                if raw is None:
                    continue
                due = next_due(raw)
                if due < watermark:
                    out += self._decide(key, decode_unit(raw), now, raw)
                else:  # the queue was behind the store: follow the store
                    queue.set(key, due)
        return out

    def _decide(self, key: str, unit: Unit, now: float, stored: bytes | None) -> list[CaseFact]:
        """Decides the unit (``stored``: its encoding as the caller read it from the store, so
        an unchanged unit is not written again)."""
        rule_id, provider_id, name = _parse(key)
        watermark = self.watermarks.at(provider_id, now)
        rules = (
            self._rule_sets[in_force(self.history, unit.inputs[0].at)]
            if unit.inputs
            else self.rules
        )
        decision = rules[rule_id].decide(provider_id, name, unit.inputs, watermark)
        unit, changed, retracted = revise(unit, decision, now)
        encoded = encode_unit(unit)
        if stored != encoded:
            self.store[key] = encoded
        if self._dues is not None:
            self._dues.setdefault(provider_id, DueQueue()).set(key, unit.next_due)
        if self._tallies is not None:
            self._count(key, rule_id, tally(unit))
        facts = [case_fact(s) for s in changed]
        return facts + [retraction(r, rule_id, provider_id, now) for r in retracted]

    # -- complaint deadlines published by registrations -------------------------------------

    def _register(self, ev: Observed) -> tuple[float, float] | None:
        """Adds a registration to its service's history; returns the span of receipt times
        whose complaint deadline it changed (None: none)."""
        days = float(ev.get("complaint_deadline_days") or 0)
        working = ev.get("complaint_deadline_unit") == WORKING_DAYS
        entry: Registration = (ev.at, ev.event_id, days, working)
        history = self._history(ev.provider_id, ev.service_id)
        span = registrations.add(history, entry)
        if span is not None:  # new: kept, one key per registration
            key = f"{_REGISTRATIONS}{ev.provider_id}/{ev.service_id}/{ev.event_id}"
            self.store[key] = encode_registration(entry)
        return span

    def _history(self, provider_id: str, service_id: str) -> list[Registration]:
        """The service's registrations, sorted (all of them loaded from the store at first use,
        with the other indexes, one key per registration)."""
        if self._registrations is None:
            self._index_units()
        assert self._registrations is not None
        return self._registrations[(provider_id, service_id)]

    def _published_days(
        self, provider_id: str, service_id: str, at: float
    ) -> tuple[float, bool, str] | None:
        """The complaint deadline the service's registrations had published as of ``at``."""
        entry = registrations.in_force(self._history(provider_id, service_id), at)
        if entry is None or not entry[2]:
            return None
        return entry[2], entry[3], f"registration {entry[1]}"

    def _complaints_of(
        self, provider_id: str, service_id: str, span: tuple[float, float]
    ) -> set[str]:
        """The complaint units of a service received within ``span`` (a range of the receipt
        index, in key order)."""
        prefix = f"{_RECEIVED}{provider_id}/{service_id}|"
        low = prefix + _instant(span[0])
        high = prefix + (_instant(span[1]) if math.isfinite(span[1]) else "~")
        # received|<provider>/<service>|<instant>|<unit key> (identifiers never hold "|")
        return {k.split("|", 3)[3] for k in self._between(low, high)}

    def _index_receipt(self, provider_id: str, given: Input, key: str) -> None:
        """Indexes a complaint unit by its service and time of receipt, in the store itself (a
        key per receipt, never removed: one that a later input made stale only costs a needless
        recomputation), so the index survives restarts and never lives in memory."""
        entry = f"{_RECEIVED}{provider_id}/{given.service_id}|{_instant(given.at)}|{key}"
        if self.store.get(entry) is None:
            self.store[entry] = b""

    def _between(self, low: str, high: str) -> Iterable[str]:
        """The store's keys from ``low`` (included) to ``high`` (excluded), in order: a range
        read where the store offers one (the rules' state), else a sorted scan (a dict)."""
        between = getattr(self.store, "keys_between", None)
        if between is not None:
            return between(low, high)  # type: ignore[no-any-return]
        return [k for k in sorted(self.store) if low <= k < high]

    # -- cases open and overdue -----------------------------------------------------------------

    def case_counts(self) -> dict[str, tuple[int, int]]:
        """Rule id → (open, overdue) cases in the store (counted from it at first use, then kept
        on every decision), for the gauges: a sum over units, never a query over every fact."""
        if self._tallies is None:
            self._index_units()
        totals = self._totals
        return {r: (totals[r][0], totals[r][1]) if r in totals else (0, 0) for r in self.rules}

    def _count(self, key: str, rule_id: str, now: tuple[int, int]) -> None:
        assert self._tallies is not None
        before = self._tallies.get(key, (0, 0))
        if now == before:
            return
        if now == (0, 0):
            del self._tallies[key]
        else:
            self._tallies[key] = now
        totals = self._totals.setdefault(rule_id, [0, 0])
        totals[0] += now[0] - before[0]
        totals[1] += now[1] - before[1]

    def _due_index(self) -> dict[str, DueQueue]:
        if self._dues is None:
            self._index_units()
        assert self._dues is not None
        return self._dues

    def _index_units(self) -> None:
        """The due queues, the case counts and the services' registrations, from one pass over
        the store (streamed: it may not fit in memory)."""
        dues: dict[str, DueQueue] = defaultdict(DueQueue)
        registered: dict[tuple[str, str], list[Registration]] = defaultdict(list)
        self._tallies, self._totals = {}, {}
        for key, raw in self.store.items():
            rule_id = key.partition("|")[0]
            if key.startswith(_REGISTRATIONS):
                _, provider, rest = _parse(key)
                registered[(provider, rest.rsplit("/", 1)[0])].append(decode_registration(raw))
            elif rule_id in self.rules:  # else receipts, markers: not units
                unit = decode_unit(raw)
                if math.isfinite(unit.next_due):
                    dues[_parse(key)[1]].set(key, unit.next_due)
                self._count(key, rule_id, tally(unit))
        for history in registered.values():
            history.sort()
        self._dues, self._registrations = dues, registered
