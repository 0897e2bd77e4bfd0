"""A provider that meets every obligation, generating live traffic: the background against which
injected violations must stand out, and nothing else may.

Its services are filed before they serve (registration with a published complaint deadline,
security assessment, algorithm filing, the model it serves, a safety evaluation of that model);
images carry GB 45438 labels; illegal output is stopped, reported and rectified; repeat offenders
are warned and reported at the thresholds the rules use; minors are restricted at the declared
daily limit; complaints and personal-information requests are answered within seconds. Follow-ups
are queued and emitted when due, so the event mix looks like a real provider's. Seeded: same seed,
same traffic shape.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from jianguan.contracts import pb
from jianguan.domain.rules.catalog import BY_ID
from jianguan.domain.rules.sla import ILLEGAL_CATEGORIES
from jianguan_sdk import builders
from jianguan_sdk.pseudonym import Pseudonymizer

Event = pb.event_pb2.Event
CST = dt.timezone(dt.timedelta(hours=8))
DAY = 86400.0
_ILLEGAL = sorted(ILLEGAL_CATEGORIES)
_DISCRIMINATION = ("ethnicity", "belief", "nationality", "region", "gender", "age", "occupation")
_CONSECUTIVE = int(BY_ID["ART14-USER-ENFORCEMENT"].param("consecutive_inputs").default)
_DAILY = int(BY_ID["ART14-USER-ENFORCEMENT"].param("daily_inputs").default)
KIDS_DAILY_MINUTES = 40
_COMPLAINTS = ("输出内容不准确", "图片未标识", "账号被误封", "Output was offensive")


@dataclass(frozen=True, slots=True)
class Service:
    service_id: str
    kind: str  # chat, image, video, kids
    model: str
    public_opinion: bool


@dataclass(slots=True)
class _UserTally:
    day: int = 0
    today: int = 0
    since: int = 0


@dataclass(order=True, slots=True)
class _FollowUp:
    due: float
    n: int
    service_id: str = field(compare=False)
    make: Callable[[float], Event] = field(compare=False)


def _cst_day(at: float) -> int:
    return dt.datetime.fromtimestamp(at, CST).toordinal()


class CompliantProvider:
    def __init__(self, provider_id: str, seed: int, run_tag: str, kinds: tuple[str, ...]) -> None:
        self.provider_id = provider_id
        self._rng = random.Random(f"{provider_id}:{seed}")
        self._tag = run_tag
        self._pseudonyms = Pseudonymizer(f"{provider_id}:{seed}".encode().ljust(32, b"."))
        self.services = [
            Service(
                f"{provider_id}-{kind}",
                kind,
                f"{provider_id}-{kind}-model-{self._rng.randrange(1, 5)}",
                public_opinion=kind in ("chat", "image", "video"),
            )
            for kind in kinds
        ]
        self._n = 0
        self._queue: list[_FollowUp] = []
        self._tallies: dict[str, _UserTally] = {}
        self._kid_minutes: dict[tuple[str, int], set[int]] = {}
        # the numbers of its filings in effect (set by ``opening``)
        self._filed: list[str] = []

    def _id(self, what: str = "e") -> str:
        self._n += 1
        return f"{self._tag}-{what}{self._n}"

    def _user(self, pool: int = 20_000, prefix: str = "user") -> str:
        return self._pseudonyms.ref(f"{prefix}-{self._rng.randrange(pool)}")

    def _later(
        self, service_id: str, delay_s: float, now: float, make: Callable[[float], Event]
    ) -> None:
        self._n += 1
        heapq.heappush(self._queue, _FollowUp(now + delay_s, self._n, service_id, make))

    # -- what a provider files before serving ------------------------------------------------

    def opening(self, now: float) -> list[tuple[str, Event]]:
        """Registration of every service, dated 60 days ago; for a public-opinion one, its
        assessment, filing and its model's safety evaluation."""
        out = []
        at = now - 60 * DAY
        for s in self.services:
            number = f"Beijing-{s.service_id}-{self._rng.randrange(10**7, 10**8)}"
            out.append(
                (
                    s.service_id,
                    builders.service_filing(
                        kind="registration",
                        status="granted",
                        service_name=s.service_id,
                        model_version=s.model,
                        public_opinion_attribute=s.public_opinion,
                        complaint_deadline_days=15,
                        complaint_channel_url=f"https://{self.provider_id}.example.cn/complaints",
                        minor_daily_minutes=KIDS_DAILY_MINUTES if s.kind == "kids" else None,
                        intended_users="children under adult supervision"
                        if s.kind == "kids"
                        else "adults",
                        intended_uses=f"{s.kind} for everyday use",
                        usage_policy_url=f"https://{self.provider_id}.example.cn/usage",
                        user_agreement_version="2026-01",
                        user_agreement_url=f"https://{self.provider_id}.example.cn/agreement",
                        event_id=self._id("reg"),
                        occurred_at=at,
                    ),
                )
            )
            if s.public_opinion:
                self._filed.append(number)
                for kind in ("security_assessment", "algorithm_filing"):
                    at += 3600
                    out.append(
                        (
                            s.service_id,
                            builders.service_filing(
                                kind=kind,
                                status="granted",
                                filing_number=number,
                                model_version=s.model,
                                event_id=self._id("fil"),
                                occurred_at=at,
                            ),
                        )
                    )
                out.append(
                    (
                        s.service_id,
                        builders.safety_evaluation(
                            model_version=s.model,
                            keyword_library_size=12000,
                            generated_content=(1000, 962),
                            should_refuse=(500, 489),
                            should_answer=(500, 9),
                            evaluator=f"{self.provider_id} safety team",
                            event_id=self._id("eval"),
                            occurred_at=at + 3600,
                        ),
                    )
                )
        return out

    # -- live traffic --------------------------------------------------------------------------

    def events(self, count: int, now: float) -> list[tuple[str, Event]]:
        """Follow-ups now due, then ``count`` new events, in the order they happened."""
        out: list[tuple[str, Event]] = []
        while self._queue and self._queue[0].due <= now:
            f = heapq.heappop(self._queue)
            out.append((f.service_id, f.make(f.due)))
        for _ in range(count):
            out += self._one(now)
        return out

    def _one(self, now: float) -> list[tuple[str, Event]]:
        rng = self._rng
        s = rng.choice(self.services)
        r = rng.random()
        if r < 0.88:
            return self._generation(s, now)
        if r < 0.94:
            return self._input_hit(s, now)
        if r < 0.96:
            return self._output_hit(s, now)
        if r < 0.98:
            return self._complaint(s, now)
        if r < 0.99:
            return self._pi_request(s, now)
        if r < 0.995 and self._filed:
            # its own service offered from abroad (a mirror), showing that service's filing
            return [
                (
                    s.service_id,
                    builders.offshore_observation(
                        observer=f"{self.provider_id}-monitoring",
                        target=f"app-{rng.randrange(50)}.example",
                        jurisdiction="SG",
                        estimated_domestic_users=rng.randrange(1, 10_000),
                        filing_number_seen=rng.choice(self._filed),
                        event_id=self._id("obs"),
                        occurred_at=now,
                    ),
                )
            ]
        return self._generation(s, now)

    def _generation(self, s: Service, now: float) -> list[tuple[str, Event]]:
        rng = self._rng
        eid = self._id()
        if s.kind in ("image", "video"):
            ev = builders.generation(
                operation_name="generate_content",
                request_model=s.model,
                response_model=s.model,
                output_type=s.kind,
                input_tokens=rng.randrange(5, 300),
                user_ref=self._user(),
                finish_reasons=["stop"],
                explicit_label=True,
                latency_ms=rng.randrange(800, 9000),
                implicit_label=dict(
                    label="generated", content_producer=self.provider_id, produce_id=eid
                ),
                event_id=eid,
                occurred_at=now,
            )
            return [(s.service_id, ev)]
        kid = s.kind == "kids"
        user = self._user(2_000, "kid") if kid else self._user()
        ev = builders.generation(
            request_model=s.model,
            response_model=s.model,
            input_tokens=rng.randrange(5, 4000),
            output_tokens=rng.randrange(1, 2000),
            finish_reasons=["stop"],
            user_ref=user,
            minor_mode=kid,
            explicit_label=True,  # a notice in the answer (Labeling Measures Art. 4 (1))
            latency_ms=rng.randrange(80, 6000),
            event_id=eid,
            occurred_at=now,
        )
        out = [(s.service_id, ev)]
        if kid:
            minutes = self._kid_minutes.setdefault((user, _cst_day(now)), set())
            before = len(minutes)
            minutes.add(int(now // 60))
            if before < KIDS_DAILY_MINUTES <= len(minutes):  # the limit is reached: restrict
                out.append(
                    (
                        s.service_id,
                        builders.user_enforcement(
                            action="restrict",
                            user_ref=user,
                            record_kept=True,
                            note="daily minor-mode limit reached",
                            event_id=self._id("lim"),
                            occurred_at=now,
                        ),
                    )
                )
        return out

    def _input_hit(self, s: Service, now: float) -> list[tuple[str, Event]]:
        rng = self._rng
        user = self._user()
        illegal = rng.random() < 0.7
        category = rng.choice(_ILLEGAL).lower() if illegal else rng.choice(_DISCRIMINATION)
        hit_id = self._id("mod")
        out = [
            (
                s.service_id,
                builders.moderation(
                    stage="input",
                    risk_category=category if illegal else f"discrimination_{category}",
                    action="blocked",
                    detector="keyword-v7",
                    confidence=round(rng.uniform(0.6, 1), 3),
                    user_ref=user,
                    event_id=hit_id,
                    occurred_at=now,
                ),
            )
        ]
        if not illegal:
            return out
        tally = self._tallies.setdefault(user, _UserTally())
        day = _cst_day(now)
        if tally.day != day:
            tally.day, tally.today = day, 0
        tally.today += 1
        tally.since += 1
        if tally.since == _CONSECUTIVE or tally.today == _DAILY:
            tally.since = 0
            out.append(
                (
                    s.service_id,
                    builders.user_enforcement(
                        action="warn" if tally.today < _DAILY else "suspend",
                        user_ref=user,
                        reason_event_ids=[hit_id],
                        reported_to_authority=True,
                        record_kept=True,
                        event_id=self._id("enf"),
                        occurred_at=now,
                    ),
                )
            )
        return out

    def _output_hit(self, s: Service, now: float) -> list[tuple[str, Event]]:
        rng = self._rng
        hit_id = self._id("mod")
        illegal = rng.random() < 0.5
        category = rng.choice(_ILLEGAL) if illegal else "discrimination_gender"
        ev = builders.moderation(
            stage="output",
            risk_category=category,
            action="stop_generation" if illegal else "removed",
            detector="classifier-v3",
            confidence=round(rng.uniform(0.7, 1), 3),
            user_ref=self._user(),
            event_id=hit_id,
            occurred_at=now,
        )
        if illegal:
            self._later(
                s.service_id,
                rng.uniform(1, 8),
                now,
                lambda at: builders.incident_report(
                    authority="CAC",
                    related_event_ids=[hit_id],
                    risk_category=category,
                    summary="已停止生成并上报",
                    report_ref=self._id("rep"),
                    event_id=self._id("rep"),
                    occurred_at=at,
                ),
            )
            self._later(
                s.service_id,
                rng.uniform(5, 20),
                now,
                lambda at: builders.model_rectification(
                    measure="filter_update",
                    related_event_ids=[hit_id],
                    model_version=s.model,
                    summary="关键词与分类器规则已更新",
                    event_id=self._id("rec"),
                    occurred_at=at,
                ),
            )
        return [(s.service_id, ev)]

    def _complaint(self, s: Service, now: float) -> list[tuple[str, Event]]:
        rng = self._rng
        cid = self._id("c")
        channel = rng.choice(("in_app", "web_form", "email", "phone"))
        category = rng.choice(("inaccurate_content", "illegal_content", "labeling", "other"))

        def status(name: str) -> Callable[[float], Event]:
            return lambda at: builders.complaint(
                complaint_id=cid,
                status=name,
                channel=channel,
                category=category,
                event_id=self._id("c"),
                occurred_at=at,
            )

        first = builders.complaint(
            complaint_id=cid,
            status="received",
            channel=channel,
            category=category,
            summary=rng.choice(_COMPLAINTS),
            user_ref=self._user(),
            event_id=self._id("c"),
            occurred_at=now,
        )
        self._later(s.service_id, rng.uniform(1, 5), now, status("acknowledged"))
        self._later(s.service_id, rng.uniform(6, 30), now, status("resolved"))
        return [(s.service_id, first)]

    def _pi_request(self, s: Service, now: float) -> list[tuple[str, Event]]:
        rng = self._rng
        rid = self._id("pi")
        kind = rng.choice(("access", "copy", "correct", "supplement", "delete"))
        user = self._user()
        self._later(
            s.service_id,
            rng.uniform(3, 20),
            now,
            lambda at: builders.personal_info_request(
                request_id=rid,
                kind=kind,
                status="fulfilled",
                user_ref=user,
                event_id=self._id("pi"),
                occurred_at=at,
            ),
        )
        return [
            (
                s.service_id,
                builders.personal_info_request(
                    request_id=rid,
                    kind=kind,
                    status="received",
                    user_ref=user,
                    event_id=self._id("pi"),
                    occurred_at=now,
                ),
            )
        ]
