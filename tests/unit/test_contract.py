"""The contract and its derived artefacts agree: codecs, chain, store schema."""

import re
from importlib import resources

from jianguan.contracts import pb
from jianguan.contracts.codec import encode_batch
from jianguan.store.processor import EVENT_COLUMNS, ColumnBatch, RecordMeta
from jianguan_sdk.chain import Chain, event_hash
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
    found = resources.files("jianguan.store").joinpath("migrations").iterdir()
    return "".join(
        f.read_text() for f in sorted(found, key=lambda f: f.name) if f.name.endswith(".sql")
    )


def _enum_in_sql(column: str) -> dict[str, int]:
    """The column's names in the latest migration that defines them (events_unique)."""
    found = re.findall(
        rf"\n    CAST\({column} AS (?:Array\()?Enum8\((.*?)\)\)?\) AS {column},?\n",
        _migration_sql(),
    )
    assert found, column
    m = found[-1]
    return {k: int(v) for k, v in re.findall(r"'(\w+)' = (\d+)", m)}


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


def test_columns_hold_provider_position_fields_and_evidence() -> None:
    gen = generation("e1")
    gen.generation.finish_reasons.append(1)
    gen.generation.implicit_label.label = 1
    mod = generation("e2")
    mod.moderation.stage, mod.moderation.risk_category, mod.moderation.action = 2, 8, 3
    mod.moderation.generation_event_id = "e1"
    raw = pb.EventBatch(batch_id="b", events=[gen, mod]).SerializeToString()
    batch = ColumnBatch()
    assert batch.add_record(raw, RecordMeta("acme", 100, 2, 7), 200) == 2
    columns = batch.columns()
    assert len(columns) == len(EVENT_COLUMNS)
    assert all(len(c) == 2 for c in columns)
    as_rows = [dict(zip(EVENT_COLUMNS, vals, strict=True)) for vals in zip(*columns, strict=True)]
    rows = {r["event_id"]: r for r in as_rows}
    g, m = rows["e1"], rows["e2"]
    assert (g["provider_id"], g["kafka_partition"], g["kafka_offset"]) == ("acme", 2, 7)
    assert (g["kind"], g["finish_reasons"], g["implicit_label"]) == (10, [1], 1)
    assert (g["moderation_stage"], g["related_event_ids"]) == (0, [])
    assert (m["kind"], m["risk_category"], m["related_event_ids"]) == (11, 8, ["e1"])
    assert (m["gen_operation"], m["request_model"]) == (0, "")
    assert g["payload"] == gen.SerializeToString()
    assert batch.add(b"\xff\xff", RecordMeta("acme", 1, 0, 8), 2) == 0
    assert [(a.offset, a.item, a.cause) for a in batch.set_aside] == [(8, 0, "undecodable")]
