"""The chain's test vectors (sdk/vectors/chain-v1.json) are what the reference implementation
makes, and say what docs/chain.md says: every implementation in another language must reproduce
them, so they must be right here first."""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from jianguan_sdk import pb
from jianguan_sdk.chain import Chain, canonical_bytes, event_hash
from jianguan_sdk.pseudonym import Pseudonymizer

VECTORS = Path(__file__).resolve().parents[2] / "sdk" / "vectors"
# Fields that hold messages, by the message that has them: their bytes are walked too.
NESTED = {
    "Event": {1: "Envelope", **{n: "body" for n in range(10, 19)}},
    "Envelope": {4: "Timestamp"},
}


def _load() -> dict[str, Any]:
    return json.loads((VECTORS / "chain-v1.json").read_text())


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = data[i]
        value |= (b & 0x7F) << shift
        i += 1
        if not b & 0x80:
            return value, i
        shift += 7


def _field_numbers_ascend(data: bytes, kind: str) -> bool:
    """A minimal reading of the wire format: each message's fields in ascending field number
    (a repeated string's values one after the other; repeated numbers packed, so once), and the
    same inside envelope and body."""
    i, last = 0, 0
    while i < len(data):
        tag, i = _varint(data, i)
        number, wire = tag >> 3, tag & 7
        if number < last or (number == last and wire != 2):
            return False
        last = number
        if wire == 0:
            _, i = _varint(data, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            size, i = _varint(data, i)
            inner = NESTED.get(kind, {}).get(number)
            if inner is not None and not _field_numbers_ascend(data[i : i + size], inner):
                return False
            i += size
        else:
            return False
    return True


def test_the_committed_vectors_are_what_the_generator_makes() -> None:
    spec = importlib.util.spec_from_file_location("generate", VECTORS / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    for name, make in generate.FILES.items():
        assert generate.render(make) == (VECTORS / name).read_text(encoding="utf-8"), (
            f"{name} is stale: run python sdk/vectors/generate.py"
        )


def test_each_encoding_is_canonical_and_hashes_to_its_hash() -> None:
    cases = _load()["encodings"]
    assert len(cases) >= 10  # every body kind, and provider_id set
    kinds = set()
    for case in cases:
        ev = json_format.ParseDict(case["event"], pb.Event())
        kinds.add(ev.WhichOneof("body"))
        data = bytes.fromhex(case["canonical_hex"])
        assert canonical_bytes(ev) == data, case["name"]
        assert hashlib.sha256(data).hexdigest() == case["hash_hex"], case["name"]
        assert event_hash(ev).hex() == case["hash_hex"], case["name"]
        assert _field_numbers_ascend(data, "Event"), case["name"]
        # the bytes are the event, less the provider id
        back = pb.Event.FromString(data)
        ev.envelope.provider_id = ""
        assert back == ev, case["name"]
    assert kinds == {f.name for f in pb.Event.DESCRIPTOR.oneofs_by_name["body"].fields}
    named = next(c for c in cases if c["event"]["envelope"].get("providerId"))
    plain = next(c for c in cases if c["name"] == "generation")
    assert named["hash_hex"] == plain["hash_hex"]  # provider_id is not hashed


def test_each_chain_seals_as_written() -> None:
    chains = _load()["chains"]
    assert {c["stream_id"] for c in chains} == {"", "pod-7"}
    for c in chains:
        chain = Chain(c["service_id"], stream_id=c["stream_id"])
        for want in c["events"]:
            ev = chain.seal(json_format.ParseDict(want["unsealed"], pb.Event()))
            assert ev.envelope.sequence == want["sequence"]
            assert ev.envelope.prev_hash.hex() == want["prev_hash_hex"]
            assert ev.envelope.stream_id == c["stream_id"]
            assert event_hash(ev).hex() == want["hash_hex"]
        assert (chain.sequence, chain.last_hash.hex()) == (
            c["head"]["sequence"],
            c["head"]["hash_hex"],
        )
    # the stream is part of every event, so the same events hash differently in another stream
    assert chains[0]["head"]["hash_hex"] != chains[1]["head"]["hash_hex"]


def test_each_pseudonym_is_the_hmac_of_the_user_id() -> None:
    cases = json.loads((VECTORS / "pseudonym-v1.json").read_text())["cases"]
    assert len({c["key_hex"] for c in cases}) == 2
    for c in cases:
        mac = hmac.new(bytes.fromhex(c["key_hex"]), c["user_id"].encode(), hashlib.sha256)
        assert c["ref"] == c["prefix"] + mac.hexdigest()[:32]
        assert Pseudonymizer(bytes.fromhex(c["key_hex"]), c["prefix"]).ref(c["user_id"]) == c["ref"]
