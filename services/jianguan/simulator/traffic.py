"""Realistic provider traffic for the demo and the benchmarks: a seeded, reproducible mix.

Mostly generations (text, with images, audio and video carrying GB 45438 labels), moderation hits
by category at both stages, and the rarer complaints, enforcement, personal-information requests,
filings, incident reports and rectifications. User references are HMAC-style pseudonyms.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator

from jianguan.contracts import pb
from jianguan_sdk.chain import Chain

DEMO_PROVIDERS: dict[str, tuple[str, ...]] = {
    "hanlin-ai": ("hanlin-chat", "hanlin-image"),
    "qingyun-tech": ("qingyun-assistant",),
    "dongfang-models": ("dongfang-api", "dongfang-video", "dongfang-kids"),
}

_MODELS = ("hl-chat-3", "qy-large-2", "df-omni-1", "df-video-0.9")
_ILLEGAL = (1, 2, 4, 5, 6, 7, 8, 9)
_DISCRIMINATION = (20, 21, 22, 23, 24, 25, 26, 27)


class ProviderTraffic:
    """Event source for one provider: one hash chain per service."""

    def __init__(self, provider_id: str, services: tuple[str, ...], seed: int = 0) -> None:
        self.provider_id = provider_id
        self.services = services
        self._rng = random.Random(f"{self.provider_id}:{seed}")
        self._chains = {s: Chain(s) for s in self.services}
        self._n = 0
        self._run = hashlib.sha256(f"{self.provider_id}:{seed}".encode()).hexdigest()[:8]

    def resume(self, service: str, sequence: int, last_hash: bytes) -> None:
        """Continue ``service``'s chain where the platform holds it (a run after an earlier one
        on the same platform)."""
        if service in self._chains:
            self._chains[service] = Chain(service, sequence, last_hash)

    def _user(self) -> str:
        return (
            "u_" + hashlib.sha256(f"user-{self._rng.randrange(50_000)}".encode()).hexdigest()[:24]
        )

    def events(
        self, count: int, now_s: float, service: str | None = None
    ) -> list[pb.event_pb2.Event]:
        """``count`` new events of one service (a random one unless given), sealed in order."""
        service = service or self._rng.choice(self.services)
        chain = self._chains[service]
        out = []
        for _ in range(count):
            ev = pb.Event()
            self._n += 1
            ev.envelope.event_id = f"{self._run}-{service}-{self._n}"
            ts = now_s - self._rng.random() * 0.5
            ev.envelope.occurred_at.seconds = int(ts)
            ev.envelope.occurred_at.nanos = int((ts % 1) * 1e9)
            self._body(ev, service)
            out.append(chain.seal(ev))
        return out

    def _body(self, ev: pb.event_pb2.Event, service: str) -> None:
        r = self._rng.random()
        rng = self._rng
        if r < 0.86:
            g = ev.generation
            g.operation_name = pb.bodies_pb2.GEN_AI_OPERATION_CHAT
            g.request_model = g.response_model = rng.choice(_MODELS)
            g.input_tokens = rng.randrange(5, 4000)
            g.output_tokens = rng.randrange(1, 2000)
            g.user_ref = self._user()
            g.minor_mode = service.endswith("kids")
            g.latency_ms = rng.randrange(80, 9000)
            g.finish_reasons.append(pb.bodies_pb2.FINISH_REASON_STOP)
            if "image" in service or "video" in service or rng.random() < 0.08:
                g.operation_name = pb.bodies_pb2.GEN_AI_OPERATION_GENERATE_CONTENT
                g.output_type = (
                    pb.bodies_pb2.OUTPUT_MODALITY_VIDEO
                    if "video" in service
                    else pb.bodies_pb2.OUTPUT_MODALITY_IMAGE
                )
                compliant = rng.random() < 0.995
                g.explicit_label = compliant
                lab = g.implicit_label
                lab.label = (
                    pb.bodies_pb2.AIGC_LABEL_GENERATED
                    if compliant
                    else pb.bodies_pb2.AIGC_LABEL_UNSPECIFIED
                )
                lab.content_producer = self.provider_id
                lab.produce_id = f"{self._run}{self._n:012d}" if compliant else "000000000000"
            else:
                g.output_type = pb.bodies_pb2.OUTPUT_MODALITY_TEXT
                g.explicit_label = True  # a notice in the answer (Labeling Measures Art. 4 (1))
        elif r < 0.95:
            m = ev.moderation
            m.stage = rng.choice((1, 2))  # type: ignore[assignment]
            m.risk_category = rng.choice(_ILLEGAL + _DISCRIMINATION)  # type: ignore[assignment]
            m.action = rng.choice((2, 3, 4, 5)) if m.stage == 2 else 2  # type: ignore[assignment]
            m.detector = rng.choice(("keyword-v7", "classifier-v3", "human-review"))
            m.confidence = round(rng.uniform(0.5, 1.0), 3)
            m.user_ref = self._user()
        elif r < 0.97:
            c = ev.complaint
            c.complaint_id = f"c-{self._run}-{self._n}"
            c.status = pb.bodies_pb2.COMPLAINT_STATUS_RECEIVED
            c.channel = rng.choice((1, 2, 3, 4))  # type: ignore[assignment]
            c.category = rng.choice(range(1, 10))  # type: ignore[assignment]
            c.summary = rng.choice(
                ("输出内容不准确", "图片未标识", "账号被误封", "Output was offensive")
            )
        elif r < 0.98:
            e = ev.user_enforcement
            e.action = rng.choice((1, 2, 3, 4))  # type: ignore[assignment]
            e.user_ref = self._user()
            e.record_kept = True
            e.reported_to_authority = e.action >= 3
        elif r < 0.99:
            p = ev.personal_info_request
            p.request_id = f"pi-{self._run}-{self._n}"
            p.kind = rng.choice((1, 2, 3, 4, 5))  # type: ignore[assignment]
            p.status = pb.bodies_pb2.PERSONAL_INFO_REQUEST_STATUS_RECEIVED
            p.user_ref = self._user()
        elif r < 0.995:
            i = ev.incident_report
            i.authority = "CAC"
            i.risk_category = rng.choice(_ILLEGAL)  # type: ignore[assignment]
            i.summary = "已停止生成并上报"
            i.report_ref = f"r-{self._run}-{self._n}"
        else:
            f = ev.service_filing
            f.kind = pb.bodies_pb2.FILING_KIND_REGISTRATION
            f.status = pb.bodies_pb2.FILING_STATUS_GRANTED
            f.service_name = service
            f.model_version = rng.choice(_MODELS)
            f.public_opinion_attribute = not service.endswith("api")
            f.complaint_deadline_days = 15
            f.complaint_channel_url = f"https://{self.provider_id}.example.cn/complaints"
            f.filing_number = f"Beijing-{service}-2024{rng.randrange(1000, 9999)}"
            f.intended_users, f.intended_uses = "adults", "questions and writing"
            f.usage_policy_url = f"https://{self.provider_id}.example.cn/usage"
            f.user_agreement_version = "2026-01"
            f.user_agreement_url = f"https://{self.provider_id}.example.cn/agreement"


def fleet(seed: int = 0) -> list[ProviderTraffic]:
    return [ProviderTraffic(p, s, seed) for p, s in DEMO_PROVIDERS.items()]


def round_robin(
    sources: list[ProviderTraffic], total: int, batch: int, now_s: float
) -> Iterator[tuple[str, list[pb.event_pb2.Event]]]:
    """(provider, events) batches until ``total`` events, spread over the providers."""
    sent = 0
    i = 0
    while sent < total:
        src = sources[i % len(sources)]
        n = min(batch, total - sent)
        yield src.provider_id, src.events(n, now_s)
        sent += n
        i += 1
