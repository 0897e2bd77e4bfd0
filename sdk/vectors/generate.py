"""Writes the test vectors every client implementation must reproduce, made by the reference
implementation (the Python SDK): chain-v1.json, the hash chain (docs/chain.md), and
pseudonym-v1.json, pseudonymous user references (the same key gives the same references in
every SDK).

    python sdk/vectors/generate.py

A test of the platform's suite fails when the committed file is not what this prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from jianguan_sdk import pb
from jianguan_sdk.chain import Chain, canonical_bytes, event_hash
from jianguan_sdk.pseudonym import Pseudonymizer

HERE = Path(__file__).resolve().parent


# One event of every body kind, with the values that test an encoding: unicode, nanos, the
# largest sequence, a float, packed repeated enums, nested messages, zeros left out.
def _env(event_id: str, service_id: str, occurred_at: str) -> dict[str, str]:
    return {"eventId": event_id, "serviceId": service_id, "occurredAt": occurred_at}


EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("generation", {
        "envelope": _env("gen-1", "acme-chat", "2026-01-01T00:00:00.123456789Z"),
        "generation": {
            "operationName": "GEN_AI_OPERATION_CHAT", "requestModel": "acme-chat-3",
            "responseModel": "acme-chat-3-0312", "inputTokens": "1200", "outputTokens": "345",
            "outputType": "OUTPUT_MODALITY_TEXT",
            "finishReasons": ["FINISH_REASON_STOP", "FINISH_REASON_LENGTH"],
            "userRef": "u_3f2a9c0d", "explicitLabel": True, "latencyMs": 820,
        },
    }),
    ("labeled image", {
        "envelope": _env("gen-2", "acme-image", "2026-01-01T00:00:01Z"),
        "generation": {
            "operationName": "GEN_AI_OPERATION_CHAT", "requestModel": "画图-2",
            "outputType": "OUTPUT_MODALITY_IMAGE", "explicitLabel": True,
            "implicitLabel": {
                "label": "AIGC_LABEL_GENERATED", "contentProducer": "acme-ai",
                "produceId": "img-000123",
            },
        },
    }),
    ("moderation", {
        "envelope": _env("mod-1", "acme-chat", "2026-01-01T00:00:02Z"),
        "moderation": {
            "stage": "MODERATION_STAGE_OUTPUT", "riskCategory": "RISK_CATEGORY_VIOLENCE",
            "action": "MODERATION_ACTION_STOP_GENERATION", "detector": "kw-v7", "confidence": 0.875,
            "generationEventId": "gen-1",
        },
    }),
    ("user enforcement", {
        "envelope": _env("enf-1", "acme-chat", "2026-01-01T00:00:03Z"),
        "userEnforcement": {
            "action": "ENFORCEMENT_ACTION_WARN", "userRef": "u_3f2a9c0d",
            "reasonEventIds": ["mod-1"], "recordKept": True, "note": "警示：违反用户协议",
        },
    }),
    ("complaint", {
        "envelope": _env("cmp-1", "acme-chat", "2026-01-01T00:00:04Z"),
        "complaint": {
            "complaintId": "C-2026-0001", "status": "COMPLAINT_STATUS_RECEIVED",
            "channel": "COMPLAINT_CHANNEL_IN_APP", "category": "COMPLAINT_CATEGORY_ILLEGAL_CONTENT",
        },
    }),
    ("personal information request", {
        "envelope": _env("pir-1", "acme-chat", "2026-01-01T00:00:05Z"),
        "personalInfoRequest": {
            "requestId": "P-77", "kind": "PERSONAL_INFO_REQUEST_KIND_DELETE",
            "status": "PERSONAL_INFO_REQUEST_STATUS_RECEIVED",
        },
    }),
    ("service filing", {
        "envelope": _env("fil-1", "acme-chat", "2026-01-01T00:00:06Z"),
        "serviceFiling": {
            "kind": "FILING_KIND_ALGORITHM_FILING", "status": "FILING_STATUS_GRANTED",
            "filingNumber": "Beijing-AcmeChat-20260101", "publicOpinionAttribute": True,
            "complaintDeadlineDays": 15, "effectiveAt": "2026-01-01T00:00:00Z",
        },
    }),
    ("incident report", {
        "envelope": _env("inc-1", "acme-chat", "2026-01-01T00:00:07Z"),
        "incidentReport": {
            "authority": "cac-beijing", "relatedEventIds": ["mod-1", "gen-1"], "reportRef": "R-1",
        },
    }),
    ("model rectification", {
        "envelope": _env("rec-1", "acme-chat", "2026-01-01T00:00:08Z"),
        "modelRectification": {
            "measure": "RECTIFICATION_MEASURE_OPTIMIZATION_TRAINING", "relatedEventIds": ["inc-1"],
            "modelVersion": "3.1", "completedAt": "2026-01-02T00:00:00Z",
        },
    }),
    ("offshore observation", {
        "envelope": _env("off-1", "acme-chat", "2026-01-01T00:00:09Z"),
        "offshoreObservation": {
            "observer": "acme-ai", "target": "example-ai.invalid", "jurisdiction": "US",
            "estimatedDomesticUsers": "9007199254740991",
        },
    }),
    ("correction report", {
        "envelope": _env("cor-1", "acme-chat", "2026-01-01T00:00:10Z"),
        "correctionReport": {
            "authorityId": "cac-bj", "orderRef": "ORD-2026-17",
            "completedAt": "2025-12-31T12:00:00.5Z", "measures": "已为生成图片添加隐式标识",
            "documents": [
                {"sha256": "bMQd4MAiHzQNI2Y2wxQJPaDl72Es3QjnFbzVmQKTjpc=", "title": "整改报告",
                 "mediaType": "application/pdf", "sizeBytes": "48213"},
                {"sha256": "I2R6oaUFhUy6U3xjxpAXUbrTaGB5lBWss9awGbgeeSs="},
            ],
        },
    }),
    ("inspection response", {
        "envelope": _env("ins-1", "acme-chat", "2026-01-01T00:00:11Z"),
        "inspectionResponse": {
            "authorityId": "cac-bj", "requestRef": "INS-2026-04",
            "topics": ["INSPECTION_TOPIC_TRAINING_DATA_SOURCE", "INSPECTION_TOPIC_DATA_SUPPORT"],
            "explanation": "训练数据来源清单见附件",
            "documents": [{"sha256": "a1GpIVdjYjCC8O+FdToBvu5BJrRZw0YnqRYqJtfqEm4=",
                           "mediaType": "text/csv"}],
        },
    }),
    ("safety evaluation", {
        "envelope": _env("eval-1", "acme-chat", "2026-01-01T00:00:12Z"),
        "safetyEvaluation": {
            "modelVersion": "3.1", "keywordLibrarySize": "12000",
            "generatedContent": {"questions": 1000, "counted": 962},
            "shouldRefuse": {"questions": 500, "counted": 489},
            "shouldAnswer": {"questions": 500, "counted": 9},
            "evaluator": "第三方测评机构",
            "report": {"sha256": "bMQd4MAiHzQNI2Y2wxQJPaDl72Es3QjnFbzVmQKTjpc=",
                       "title": "安全评估报告", "mediaType": "application/pdf"},
        },
    }),
    ("correction", {
        "envelope": {**_env("mod-1b", "acme-chat", "2026-01-01T00:00:13Z"),
                     "correctsEventId": "mod-1"},
        "moderation": {
            "stage": "MODERATION_STAGE_OUTPUT", "riskCategory": "RISK_CATEGORY_VIOLENCE",
            "action": "MODERATION_ACTION_STOP_GENERATION", "detector": "clf-v2",
        },
    }),
    ("retraction", {
        "envelope": _env("ret-1", "acme-chat", "2026-01-01T00:00:14Z"),
        "retraction": {"retractedEventId": "cmp-1", "reason": "误报：该投诉属于另一服务"},
    }),
]  # fmt: skip


def _event(data: dict[str, Any]) -> pb.event_pb2.Event:
    return json_format.ParseDict(data, pb.Event())


def _case(name: str, ev: pb.event_pb2.Event) -> dict[str, Any]:
    return {
        "name": name,
        "event": json_format.MessageToDict(ev),
        "canonical_hex": canonical_bytes(ev).hex(),
        "hash_hex": event_hash(ev).hex(),
    }


def vectors() -> dict[str, Any]:
    # Events as sealed into a chain of their own service, one by one.
    encodings = []
    for name, data in EVENTS:
        ev = _event(data)
        Chain(ev.envelope.service_id).seal(ev)
        encodings.append(_case(name, ev))
    # provider_id is left out of the hash: set by the gateway, unknown to the provider.
    named = _event(EVENTS[0][1])
    Chain("acme-chat").seal(named)
    named.envelope.provider_id = "acme-ai"
    encodings.append(_case("provider_id set (hashed as if empty)", named))
    chains = []
    for stream in ("", "pod-7"):
        chain = Chain("acme-chat", stream_id=stream)
        sealed = []
        for _, data in EVENTS:
            ev = _event(data)
            ev.envelope.service_id = ""
            unsealed = json_format.MessageToDict(ev)
            chain.seal(ev)
            sealed.append(
                {
                    "unsealed": unsealed,
                    "sequence": ev.envelope.sequence,
                    "prev_hash_hex": ev.envelope.prev_hash.hex(),
                    "hash_hex": event_hash(ev).hex(),
                }
            )
        chains.append(
            {
                "service_id": "acme-chat",
                "stream_id": stream,
                "events": sealed,
                "head": {"sequence": chain.sequence, "hash_hex": chain.last_hash.hex()},
            }
        )
    return {
        "spec": "docs/chain.md",
        "schema_version": pb.SCHEMA_VERSION,
        "encodings": encodings,
        "chains": chains,
    }


# Keys and user ids that test the HMAC: a key longer than SHA-256's block, unicode, the empty id,
# and a prefix of the provider's own.
PSEUDONYM_KEYS = [
    (bytes(range(32)), "u_", ["user-1", "user-2", "", "张三@example.cn", "x" * 300]),
    (bytes(range(255, 155, -1)), "acme_", ["user-1", "+86 138 0000 0000"]),
]


def pseudonym_vectors() -> dict[str, Any]:
    cases = []
    for key, prefix, users in PSEUDONYM_KEYS:
        refs = Pseudonymizer(key, prefix)
        for user in users:
            cases.append(
                {"key_hex": key.hex(), "prefix": prefix, "user_id": user, "ref": refs.ref(user)}
            )
    return {"spec": "docs/sdk.md#users-stay-pseudonymous-art-11", "cases": cases}


FILES = {"chain-v1.json": vectors, "pseudonym-v1.json": pseudonym_vectors}


def render(make: Any) -> str:
    return json.dumps(make(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def main() -> None:
    for name, make in FILES.items():
        (HERE / name).write_text(render(make), encoding="utf-8")


if __name__ == "__main__":
    main()
