"""A standalone ZooKeeper from Debian's ``zookeeper`` package, on loopback, for a local
ClickHouse cluster (Replicated*MergeTree and ``ON CLUSTER`` DDL keep their state in it).

Its data directory is under the state directory, so a restarted ZooKeeper keeps the replicas'
metadata. One node: a local cluster tests ClickHouse's replication, not ZooKeeper's.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

from jianguan.runtime.process import Child, free_port, reserve, wait_until

JAR = Path("/usr/share/java/zookeeper.jar")


def installed() -> bool:
    return JAR.exists() and shutil.which("java") is not None


class ZooKeeperServer:
    def __init__(self, directory: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.dir = directory.resolve()
        self.host = host
        self.port = port or free_port(host)
        reserve(self.port)
        self._child: Child | None = None

    def start(self, timeout: float = 60.0) -> None:
        if not installed():
            raise RuntimeError(
                "ZooKeeper is not installed: run `make install` (Debian's zookeeper package)"
            )
        (self.dir / "data").mkdir(parents=True, exist_ok=True)
        config = self.dir / "zoo.cfg"
        config.write_text(
            "tickTime=2000\n"
            f"dataDir={self.dir / 'data'}\n"
            f"clientPortAddress={self.host}\n"
            f"clientPort={self.port}\n"
            "admin.enableServer=false\n"
            "4lw.commands.whitelist=srvr\n"
            # ClickHouse keeps one session per server; tests start many servers.
            "maxClientCnxns=0\n",
            encoding="utf-8",
        )
        java = shutil.which("java") or "java"
        self._child = Child(
            "zookeeper",
            [java, "-Xmx256m", "-cp", str(JAR),
             "org.apache.zookeeper.server.ZooKeeperServerMain", str(config)],
            self.dir / "zookeeper.out",
        )  # fmt: skip
        # The port opens before sessions are served; a ClickHouse server that finds no session
        # at its start has no ZooKeeper until it restarts.
        wait_until(self.serving, timeout, "ZooKeeper", self._child)

    def serving(self) -> bool:
        """ZooKeeper answers ``srvr`` with its version (``imok`` to ``ruok`` comes before it
        serves sessions)."""
        try:
            with socket.create_connection((self.host, self.port), timeout=2.0) as s:
                s.sendall(b"srvr")
                return s.recv(64).startswith(b"Zookeeper version")
        except OSError:
            return False

    def stop(self) -> None:
        if self._child is not None:
            self._child.stop(grace=10.0)
            self._child = None
