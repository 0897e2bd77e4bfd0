"""What a partition of the rules' state takes again from the event store (pure parts)."""

from __future__ import annotations

from jianguan.processors.rebuild import decode_marker, encode_marker, partition_of
from jianguan.store.rule_inputs import Missing


def test_a_marker_round_trips_and_none_means_nothing_vouched_for() -> None:
    assert decode_marker(encode_marker(41)) == 41
    assert decode_marker(None) is None


def test_behind_takes_its_own_partition_between_the_marker_and_the_log() -> None:
    params: dict[str, object] = {}
    sql = Missing(2, 100, 250, elsewhere=False).where(params)
    assert sql == "(kafka_partition = %(mp)s AND kafka_offset > %(ma)s AND kafka_offset < %(mb)s)"
    assert params == {"mp": 2, "ma": 100, "mb": 250}


def test_missing_takes_everything_the_log_will_not_deliver_and_other_partitions() -> None:
    params: dict[str, object] = {}
    sql = Missing(2, -1, 250, elsewhere=True).where(params)
    assert "OR kafka_partition != %(mp)s" in sql
    lost_log = Missing(2, -1, None, elsewhere=True).where({})
    assert "kafka_offset <" not in lost_log


def test_a_provider_always_maps_to_one_partition_like_the_producers() -> None:
    from aiokafka.partitioner import DefaultPartitioner

    every = list(range(6))
    for provider in ("acme-ai", "beta", "case-ai", "durable-ai"):
        assert partition_of(provider, 6) == DefaultPartitioner()(provider.encode(), every, every)
        assert 0 <= partition_of(provider, 6) < 6
