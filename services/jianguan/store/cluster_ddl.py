"""The migrations' statements in their ClickHouse-cluster form (pure; no I/O).

The migration files are written for one server. On a cluster (``ClickHouseUrl.cluster``) the
migrator runs each statement through ``ClusterDdl.translate``, which keeps the files the single
source of the schema:

- a table with a ``provider_id`` column is **sharded by provider**: its rows live in
  ``<name>_shard`` (``Replicated<Engine>``, replicated within a shard) and the name the platform
  uses is a ``Distributed`` table over them, sharded by ``sipHash64(provider_id)``. All of one
  provider's facts (events, cases, alerts, projections) sit on one shard, so per-provider
  ``FINAL``, ``GROUP BY`` and joins ``USING provider_id`` give the single-server answer;
- a table without one (the migration ledger, stored offsets, rule configurations) is
  **replicated to every server** under its own name;
- a materialized view reads and writes the shard tables, so it runs where its rows land;
- plain views keep their text: they read the ``Distributed`` tables;
- ``CREATE``, ``ALTER``, ``DROP`` and ``RENAME`` run ``ON CLUSTER`` (a ``Distributed`` table
  holds no rows, so a column change makes it again over its altered shard table);
  ``INSERT … SELECT`` backfills run once, through the ``Distributed`` tables.

Each replicated table's ZooKeeper path names the migration that created it, so a table dropped
and created again by a later migration never meets its predecessor's replicas. A statement with
no cluster form is an error naming it, never passed through unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jianguan.store.executor import Executor

SHARD_SUFFIX = "_shard"


class ClusterDdlError(ValueError):
    pass


def on_cluster(cluster: str | None) -> str:
    """`` ON CLUSTER `name` `` for a statement that must run on every server; empty on one."""
    return "" if cluster is None else f" ON CLUSTER `{cluster}`"


class Kind(Enum):
    SHARDED = "sharded"  # <name>_shard on every server + Distributed <name>
    EVERYWHERE = "everywhere"  # one replica on every server
    VIEW = "view"
    MATERIALIZED_VIEW = "materialized view"


_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_CREATE_TABLE = re.compile(
    rf"CREATE TABLE (?P<ine>IF NOT EXISTS )?(?P<name>{_IDENT})\s*(?P<columns>\(.*\))\s*"
    rf"ENGINE\s*=\s*(?P<engine>\w*MergeTree)\((?P<args>[^)]*)\)(?P<rest>.*)",
    re.S,
)
_CREATE_MV = re.compile(
    rf"CREATE MATERIALIZED VIEW (?P<ine>IF NOT EXISTS )?(?P<name>{_IDENT})\s+TO\s+"
    rf"(?P<target>{_IDENT})\s+AS\s+(?P<select>.*)",
    re.S,
)
_CREATE_VIEW = re.compile(
    rf"CREATE VIEW (?P<ine>IF NOT EXISTS )?(?P<name>{_IDENT})\s+(?P<rest>AS\s.*)", re.S
)
_ALTER = re.compile(rf"ALTER TABLE (?P<name>{_IDENT})\s+(?P<rest>.*)", re.S)
_COLUMN_ALTER = re.compile(r"(ADD|DROP|MODIFY|COMMENT) COLUMN\s", re.I)
_DROP = re.compile(rf"DROP TABLE (?P<ie>IF EXISTS )?(?P<name>{_IDENT})\s*", re.S)
_RENAME = re.compile(r"RENAME TABLE (?P<pairs>.*)", re.S)
_PAIR = re.compile(rf"\s*(?P<old>{_IDENT})\s+TO\s+(?P<new>{_IDENT})\s*")
_INSERT_SELECT = re.compile(rf"INSERT INTO (?P<name>{_IDENT})\b.*\bSELECT\b", re.S)
_SOURCE = re.compile(rf"\b(FROM|JOIN)\s+({_IDENT})\b")
_PROVIDER_COLUMN = re.compile(r"(^|[(,\n])\s*provider_id\s+String\b")


@dataclass
class ClusterDdl:
    """Translates one database's migrations, statement by statement and in order (it learns
    which tables are sharded from the statements it has seen)."""

    cluster: str
    database: str
    kinds: dict[str, Kind] = field(default_factory=dict)

    def _on(self, name: str) -> str:
        return f"`{self.database}`.`{name}`{on_cluster(self.cluster)}"

    def _zk_path(self, name: str, sharded: bool, version: int) -> str:
        shard = "{shard}" if sharded else "all"
        return f"/clickhouse/tables/{shard}/{self.database}/{name}/{version:04d}"

    def _distributed(self, name: str, ine: str = "") -> str:
        return (
            f"CREATE TABLE {ine}{self._on(name)} AS `{self.database}`.`{name}{SHARD_SUFFIX}`"
            f" ENGINE = Distributed('{self.cluster}', '{self.database}',"
            f" '{name}{SHARD_SUFFIX}', sipHash64(provider_id))"
        )

    def local(self, name: str) -> str:
        """Where ``name``'s rows are on each server (its shard table when sharded)."""
        return name + SHARD_SUFFIX if self.kinds.get(name) is Kind.SHARDED else name

    def _qualified(self, select: str, local: bool) -> str:
        """``select`` with each table it reads named with the database (every server runs the
        DDL in its default database), and with its shard table when ``local`` (a materialized
        view sees the inserts where they land)."""

        def name(m: re.Match[str]) -> str:
            table = m[2]
            if table not in self.kinds:  # a column (ARRAY JOIN) or an alias, not a table
                return m[0]
            return f"{m[1]} `{self.database}`.`{self.local(table) if local else table}`"

        return _SOURCE.sub(name, select)

    def translate(self, statement: str, version: int) -> list[str]:
        """The statements to run on the cluster for one statement of migration ``version``."""
        sql = statement.strip()
        for handler in (
            self._create_table, self._create_mv, self._create_view, self._alter, self._drop,
            self._rename, self._insert,
        ):  # fmt: skip
            out = handler(sql, version)
            if out is not None:
                return out
        raise ClusterDdlError(f"no cluster form for this statement: {sql[:120]!r}")

    def _create_table(self, sql: str, version: int) -> list[str] | None:
        m = _CREATE_TABLE.fullmatch(sql)
        if m is None:
            return None
        name, ine = m["name"], m["ine"] or ""
        sharded = bool(_PROVIDER_COLUMN.search(m["columns"]))
        local = name + SHARD_SUFFIX if sharded else name
        args = ", ".join(
            a for a in (f"'{self._zk_path(local, sharded, version)}'", "'{replica}'", m["args"])
            if a.strip()
        )  # fmt: skip
        create = (
            f"CREATE TABLE {ine}{self._on(local)} {m['columns']}"
            f" ENGINE = Replicated{m['engine']}({args}){m['rest']}"
        )
        self.kinds[name] = Kind.SHARDED if sharded else Kind.EVERYWHERE
        return [create, self._distributed(name, ine)] if sharded else [create]

    def _create_mv(self, sql: str, version: int) -> list[str] | None:
        m = _CREATE_MV.fullmatch(sql)
        if m is None:
            return None
        select = self._qualified(m["select"], local=True)
        self.kinds[m["name"]] = Kind.MATERIALIZED_VIEW
        return [
            f"CREATE MATERIALIZED VIEW {m['ine'] or ''}{self._on(m['name'])}"
            f" TO `{self.database}`.`{self.local(m['target'])}` AS {select}"
        ]

    def _create_view(self, sql: str, version: int) -> list[str] | None:
        m = _CREATE_VIEW.fullmatch(sql)
        if m is None:
            return None
        self.kinds[m["name"]] = Kind.VIEW
        rest = self._qualified(m["rest"], local=False)
        return [f"CREATE VIEW {m['ine'] or ''}{self._on(m['name'])} {rest}"]

    def _alter(self, sql: str, version: int) -> list[str] | None:
        m = _ALTER.fullmatch(sql)
        if m is None:
            return None
        name, rest = m["name"], m["rest"]
        if self.kinds.get(name) is Kind.EVERYWHERE and _COLUMN_ALTER.match(rest):
            # One replicated table on every server: ON CLUSTER runs a replicated ALTER once per
            # shard, and the second run finds the column changed already.
            raise ClusterDdlError(
                f"a column change of {name}, which every server holds: make the table again"
                " (CREATE a copy, INSERT … SELECT, DROP, RENAME) instead of altering it"
            )
        if self.kinds.get(name) is not Kind.SHARDED:
            return [f"ALTER TABLE {self._on(name)} {rest}"]
        shard = [f"ALTER TABLE {self._on(name + SHARD_SUFFIX)} {rest}"]
        if not _COLUMN_ALTER.match(rest):  # partitions and mutations are the shards' alone
            return shard
        # The Distributed table holds no rows: it is made again with the shard table's new
        # columns (ClickHouse alters a Distributed table ON CLUSTER only without replicas).
        return [*shard, f"DROP TABLE {self._on(name)}", self._distributed(name)]

    def _drop(self, sql: str, version: int) -> list[str] | None:
        m = _DROP.fullmatch(sql)
        if m is None:
            return None
        name, ie = m["name"], m["ie"] or ""
        kind = self.kinds.pop(name, None)
        drops = [f"DROP TABLE {ie}{self._on(name)}"]
        if kind is Kind.SHARDED:
            drops.append(f"DROP TABLE {ie}{self._on(name + SHARD_SUFFIX)}")
        return drops

    def _rename(self, sql: str, version: int) -> list[str] | None:
        m = _RENAME.fullmatch(sql)
        if m is None:
            return None
        out = []
        for pair in m["pairs"].split(","):
            p = _PAIR.fullmatch(pair)
            if p is None:
                raise ClusterDdlError(f"cannot read the renaming {pair.strip()!r}")
            old, new = p["old"], p["new"]
            kind = self.kinds.pop(old, None)
            if kind is None:
                raise ClusterDdlError(f"renames {old}, which no earlier statement created")
            self.kinds[new] = kind
            if kind is not Kind.SHARDED:
                out.append(f"RENAME TABLE `{self.database}`.`{old}` TO `{self.database}`.`{new}`"
                           f"{on_cluster(self.cluster)}")  # fmt: skip
                continue
            # A Distributed table names its shard table: it is made again over the new name.
            out += [
                f"DROP TABLE {self._on(old)}",
                f"RENAME TABLE `{self.database}`.`{old}{SHARD_SUFFIX}`"
                f" TO `{self.database}`.`{new}{SHARD_SUFFIX}`{on_cluster(self.cluster)}",
                self._distributed(new),
            ]
        return out

    def _insert(self, sql: str, version: int) -> list[str] | None:
        return [sql] if _INSERT_SELECT.match(sql) else None


def rows_of(executor: Executor, table: str) -> str:
    """Where the rows of ``table`` (sharded by provider) are, for ``ALTER TABLE …`` of partitions
    and mutations and ``TRUNCATE TABLE …``: the table itself on one server; its shard table on
    every server of a cluster (a Distributed table holds no rows)."""
    if executor.cluster is None:
        return table
    return f"`{executor.database}`.`{table}{SHARD_SUFFIX}`{on_cluster(executor.cluster)}"
