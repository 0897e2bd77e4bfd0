"""The contract and its derived artefacts agree: codecs, chain, store schema."""

import re
from importlib import resources

from jianguan.contracts import pb
from jianguan.contracts.chain import Chain, event_hash
from jianguan.contracts.codec import encode_batch
from jianguan.store.processor import EVENT_COLUMNS, RecordMeta, RowBatch
from tests.helpers import chained, generation


def test_encode_batch_matches_protobuf() -> None:
    events = [generation(f"e{i}") for i in range(3)]
    expected = pb.EventBatch(batch_id="b-1", events=events).SerializeToString()
    assert encode_batch("b-1", (e.SerializeToString() for e in events)) == expected
    assert encode_batch("", []) == b""


def test_chain_links_events() -> None:
    events = chained("c", 3)
    assert [e.envelope.sequence for e in events] == [1, 2, 3]
    assert events[0].envelope.prev_hash == b""
    assert events[1].envelope.prev_hash == event_hash(events[0])
    assert events[2].envelope.prev_hash == event_hash(events[1])


def test_event_hash_ignores_provider_id() -> None:
    ev = Chain("s").seal(generation("x"))
    before = event_hash(ev)
    ev.envelope.provider_id = "acme"
    assert event_hash(ev) == before


def _migration_sql() -> str:
    return "".join(
        f.read_text()
        for f in resources.files("jianguan.store").joinpath("migrations").iterdir()
        if f.name.endswith(".sql")
    )


def _enum_in_sql(column: str) -> dict[str, int]:
    m = re.search(rf"\n    {column} (?:Array\()?Enum8\((.*?)\)\)?,\n", _migration_sql(), re.S)
    assert m, column
    return {k: int(v) for k, v in re.findall(r"'(\w+)' = (\d+)", m.group(1))}


def _enum_in_proto(enum: object, prefix: str) -> dict[str, int]:
    return {v.name.removeprefix(prefix): v.number for v in enum.DESCRIPTOR.values}  # type: ignore[attr-defined]


def test_store_enums_follow_the_proto() -> None:
    b = pb.bodies_pb2
    pairs = {
        "risk_category": (b.RiskCategory, "RISK_CATEGORY_"),
        "gen_operation": (b.GenAiOperation, "GEN_AI_OPERATION_"),
        "output_type": (b.OutputModality, "OUTPUT_MODALITY_"),
        "finish_reasons": (b.FinishReason, "FINISH_REASON_"),
        "implicit_label": (b.AigcLabel, "AIGC_LABEL_"),
        "moderation_stage": (b.ModerationStage, "MODERATION_STAGE_"),
        "moderation_action": (b.ModerationAction, "MODERATION_ACTION_"),
        "enforcement_action": (b.EnforcementAction, "ENFORCEMENT_ACTION_"),
        "complaint_status": (b.ComplaintStatus, "COMPLAINT_STATUS_"),
        "complaint_channel": (b.ComplaintChannel, "COMPLAINT_CHANNEL_"),
        "complaint_category": (b.ComplaintCategory, "COMPLAINT_CATEGORY_"),
        "pi_request_kind": (b.PersonalInfoRequestKind, "PERSONAL_INFO_REQUEST_KIND_"),
        "pi_request_status": (b.PersonalInfoRequestStatus, "PERSONAL_INFO_REQUEST_STATUS_"),
        "filing_kind": (b.FilingKind, "FILING_KIND_"),
        "filing_status": (b.FilingStatus, "FILING_STATUS_"),
        "rectification_measure": (b.RectificationMeasure, "RECTIFICATION_MEASURE_"),
    }
    for column, (enum, prefix) in pairs.items():
        assert _enum_in_sql(column) == _enum_in_proto(enum, prefix), column
    assert _enum_in_sql("kind") == pb.BODY_KINDS


def test_every_row_column_is_in_the_table() -> None:
    sql = _migration_sql()
    for column in EVENT_COLUMNS:
        assert re.search(rf"\n    {column} ", sql), column


def test_rows_carry_the_authenticated_provider_in_the_evidence() -> None:
    ev = generation("e1")
    ev.generation.finish_reasons.append(1)
    raw = pb.EventBatch(batch_id="b", events=[ev]).SerializeToString()
    rows = RowBatch()
    assert rows.add_record(raw, RecordMeta("acme", 100, 2, 7), 200) == 1
    row = dict(zip(EVENT_COLUMNS, rows.rows[0], strict=True))
    assert (row["provider_id"], row["kafka_partition"], row["kafka_offset"]) == ("acme", 2, 7)
    assert row["kind"] == 10
    assert row["finish_reasons"] == [1]
    assert pb.Event.FromString(row["payload"]).envelope.provider_id == "acme"
    assert rows.add_record(b"\xff\xff", RecordMeta("acme", 1, 0, 8), 2) == 0
    assert rows.undecodable == 1
