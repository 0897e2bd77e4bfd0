"""A local ClickHouse cluster: shards × replicas of Debian's ClickHouse server on loopback, with
one ZooKeeper, for tests and trials of the cluster layout (``store.cluster_ddl``).

Every server lists the whole cluster (``remote_servers``, named ``jianguan``), its own shard and
replica (``macros``) and the ZooKeeper; all share the users and their passwords
(``credentials.json`` of the cluster's directory). Each server keeps its data in its own
directory, so a server killed and started again resumes as the same replica.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from jianguan.runtime.clickhouse import ClickHouseServer, load_or_create_passwords
from jianguan.runtime.process import free_port, reserve
from jianguan.runtime.zookeeper import ZooKeeperServer
from jianguan.store.executor import ClickHouseUrl

CLUSTER = "jianguan"


@dataclass(frozen=True, slots=True)
class Member:
    shard: int  # from 1
    replica: int  # from 1
    tcp_port: int
    http_port: int
    interserver_port: int

    @property
    def name(self) -> str:
        return f"s{self.shard}r{self.replica}"


def member_config(
    me: Member, members: list[Member], zookeeper: tuple[str, int], password: str,
    host: str = "127.0.0.1", cluster: str = CLUSTER,
) -> str:  # fmt: skip
    """The XML elements that make ``me`` a member of the cluster of ``members``: what a
    production server's config needs too (``deploy/clickhouse`` shows one)."""
    shards = []
    for shard in sorted({m.shard for m in members}):
        replicas = "".join(
            f"<replica><host>{host}</host><port>{m.tcp_port}</port>"
            f"<user>writer</user><password>{escape(password)}</password></replica>"
            for m in members
            if m.shard == shard
        )
        shards.append(f"<shard><internal_replication>true</internal_replication>{replicas}</shard>")
    return (
        f"  <interserver_http_host>{host}</interserver_http_host>\n"
        f"  <interserver_http_port>{me.interserver_port}</interserver_http_port>\n"
        f"  <zookeeper><node><host>{zookeeper[0]}</host><port>{zookeeper[1]}</port></node>"
        # a killed server's replicas count as active until its session expires
        "<session_timeout_ms>10000</session_timeout_ms></zookeeper>\n"
        f"  <remote_servers><{cluster}>{''.join(shards)}</{cluster}></remote_servers>\n"
        f"  <macros><shard>{me.shard}</shard><replica>{me.name}</replica></macros>\n"
        "  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>\n"
    )


class LocalCluster:
    def __init__(
        self, directory: Path, shards: int = 2, replicas: int = 2, database: str = "jianguan"
    ) -> None:
        self.dir = directory.resolve()
        self.zookeeper = ZooKeeperServer(self.dir / "zookeeper")
        self._passwords = load_or_create_passwords(self.dir)
        self.members = [
            Member(s, r, free_port(), free_port(), free_port())
            for s in range(1, shards + 1)
            for r in range(1, replicas + 1)
        ]
        reserve(*(p for m in self.members for p in (m.tcp_port, m.http_port, m.interserver_port)))
        self.servers = {
            m.name: ClickHouseServer(
                self.dir / m.name,
                database,
                tcp_port=m.tcp_port,
                http_port=m.http_port,
                passwords=self._passwords,
                cluster_config=member_config(
                    m,
                    self.members,
                    (self.zookeeper.host, self.zookeeper.port),
                    self._passwords["writer"],
                ),
            )
            for m in self.members
        }

    def url(
        self, member: str = "s1r1", user: str = "writer", database: str | None = None
    ) -> ClickHouseUrl:
        base = self.servers[member].url(user, database)
        return ClickHouseUrl.parse(base.secret_url() + f"&cluster={CLUSTER}")

    def start(self) -> None:
        self.zookeeper.start()
        for server in self.servers.values():
            server.start()

    def running(self) -> set[str]:
        return {name for name, server in self.servers.items() if server.running}

    def kill(self, member: str) -> None:
        self.servers[member].kill()

    def restart(self, member: str) -> None:
        """Start a stopped or killed member again. After a crash its disk may hold parts it never
        registered in ZooKeeper (an insert cut short, answered with an error and written again
        through the other replica): ClickHouse's recovery flag lets it start, set those parts
        aside in ``detached/`` and fetch what it lacks from its replica."""
        server = self.servers[member]
        flag = server.dir / "data" / "flags" / "force_restore_data"
        flag.parent.mkdir(parents=True, exist_ok=True)
        flag.touch()
        server.start()

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.zookeeper.stop()
