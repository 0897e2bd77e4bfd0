"""The migrations' cluster form (store.cluster_ddl): every bundled statement has one, tables
with a provider are sharded by it, the rest replicated everywhere, and nothing runs on one
server of a cluster only."""

from __future__ import annotations

import re

import pytest

from jianguan.store.cluster_ddl import ClusterDdl, ClusterDdlError, Kind
from jianguan.store.migrate import bundled


def translated() -> tuple[ClusterDdl, list[str]]:
    ddl = ClusterDdl("jg", "db")
    out = [t for m in bundled() for st in m.statements() for t in ddl.translate(st, m.version)]
    return ddl, out


def test_every_bundled_statement_has_a_cluster_form_that_runs_everywhere() -> None:
    _, out = translated()
    for sql in out:
        if sql.startswith("INSERT INTO"):
            continue  # backfills run once, through the Distributed tables
        assert "ON CLUSTER `jg`" in sql, sql[:120]


def test_tables_with_a_provider_are_sharded_by_it_the_others_everywhere() -> None:
    ddl, out = translated()
    assert ddl.kinds["events"] is Kind.SHARDED
    assert ddl.kinds["case_facts"] is Kind.SHARDED
    assert ddl.kinds["events_stored_offsets_by_provider"] is Kind.SHARDED
    assert "events_stored_offsets" not in ddl.kinds  # dropped by 0034
    assert ddl.kinds["rule_configurations"] is Kind.EVERYWHERE
    assert ddl.kinds["cases"] is Kind.VIEW
    events = [s for s in out if s.startswith("CREATE TABLE IF NOT EXISTS `db`.`events`")]
    assert events == [
        "CREATE TABLE IF NOT EXISTS `db`.`events` ON CLUSTER `jg` AS `db`.`events_shard`"
        " ENGINE = Distributed('jg', 'db', 'events_shard', sipHash64(provider_id))"
    ]
    shard = next(s for s in out if "`db`.`events_shard` ON CLUSTER `jg` (" in s)
    assert (
        "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db/events_shard/0001',"
        " '{replica}')" in shard
    )
    offsets = next(s for s in out if "`db`.`events_stored_offsets` ON CLUSTER `jg` (" in s)
    assert (
        "ReplicatedReplacingMergeTree('/clickhouse/tables/all/db/events_stored_offsets/0011',"
        " '{replica}', kafka_offset)" in offsets
    )


def test_every_replicated_table_has_a_zookeeper_path_of_its_own() -> None:
    _, out = translated()
    paths = re.findall(r"Replicated\w*MergeTree\('([^']+)'", "\n".join(out))
    assert len(paths) == len(set(paths)) > 30


def test_materialized_views_read_and_write_shard_tables_views_read_distributed_ones() -> None:
    ddl = ClusterDdl("jg", "db")
    ddl.translate("CREATE TABLE t (provider_id String, n UInt8) ENGINE = MergeTree() ORDER BY n", 1)
    ddl.translate("CREATE TABLE agg (provider_id String, c UInt64) ENGINE = SummingMergeTree()"
                  " ORDER BY provider_id", 1)  # fmt: skip
    (mv,) = ddl.translate(
        "CREATE MATERIALIZED VIEW agg_mv TO agg AS SELECT provider_id, count() AS c FROM t"
        " ARRAY JOIN [1] AS x GROUP BY provider_id", 2,
    )  # fmt: skip
    assert mv == (
        "CREATE MATERIALIZED VIEW `db`.`agg_mv` ON CLUSTER `jg` TO `db`.`agg_shard` AS SELECT"
        " provider_id, count() AS c FROM `db`.`t_shard` ARRAY JOIN [1] AS x GROUP BY provider_id"
    )
    (view,) = ddl.translate(
        "CREATE VIEW v AS SELECT * FROM t FINAL ANY LEFT JOIN (SELECT * FROM agg)"
        " USING provider_id",
        3,
    )
    assert view == (
        "CREATE VIEW `db`.`v` ON CLUSTER `jg` AS SELECT * FROM `db`.`t` FINAL ANY LEFT JOIN"
        " (SELECT * FROM `db`.`agg`) USING provider_id"
    )


def test_alters_renames_and_drops() -> None:
    ddl = ClusterDdl("jg", "db")
    ddl.translate(
        "CREATE TABLE t (provider_id String) ENGINE = MergeTree() ORDER BY provider_id", 1
    )
    assert ddl.translate("ALTER TABLE t ADD COLUMN x UInt8", 2) == [
        "ALTER TABLE `db`.`t_shard` ON CLUSTER `jg` ADD COLUMN x UInt8",
        "DROP TABLE `db`.`t` ON CLUSTER `jg`",
        "CREATE TABLE `db`.`t` ON CLUSTER `jg` AS `db`.`t_shard`"
        " ENGINE = Distributed('jg', 'db', 't_shard', sipHash64(provider_id))",
    ]
    assert ddl.translate("ALTER TABLE t DROP PARTITION 202601", 2) == [
        "ALTER TABLE `db`.`t_shard` ON CLUSTER `jg` DROP PARTITION 202601"
    ]
    assert ddl.translate("RENAME TABLE t TO u", 3) == [
        "DROP TABLE `db`.`t` ON CLUSTER `jg`",
        "RENAME TABLE `db`.`t_shard` TO `db`.`u_shard` ON CLUSTER `jg`",
        "CREATE TABLE `db`.`u` ON CLUSTER `jg` AS `db`.`u_shard`"
        " ENGINE = Distributed('jg', 'db', 'u_shard', sipHash64(provider_id))",
    ]
    assert ddl.kinds == {"u": Kind.SHARDED}
    assert ddl.translate("DROP TABLE IF EXISTS u", 4) == [
        "DROP TABLE IF EXISTS `db`.`u` ON CLUSTER `jg`",
        "DROP TABLE IF EXISTS `db`.`u_shard` ON CLUSTER `jg`",
    ]

    # a table every server holds (no provider_id) is made again, never altered column-wise
    ddl.translate("CREATE TABLE g (n UInt8) ENGINE = MergeTree() ORDER BY n", 1)
    with pytest.raises(ClusterDdlError, match="make the table again"):
        ddl.translate("ALTER TABLE g ADD COLUMN x UInt8", 2)


@pytest.mark.parametrize(
    "statement",
    [
        "OPTIMIZE TABLE t FINAL",
        "CREATE TABLE t (provider_id String) ENGINE = Memory",
        "RENAME TABLE nowhere TO somewhere",
        "INSERT INTO t VALUES ('a')",
    ],
)
def test_a_statement_without_a_cluster_form_is_refused_by_name(statement: str) -> None:
    with pytest.raises(ClusterDdlError):
        ClusterDdl("jg", "db").translate(statement, 1)
