"""Apache Kafka in KRaft mode on loopback: one node for the embedded platform, several for a real
local cluster. Each node is broker and controller at once, with its log directory under the state
directory, so topics, offsets, the rules' changelog, credentials and ACLs survive restarts.

Listeners of every node:
- ``INTERNAL`` (PLAINTEXT, loopback): the platform's own services, operators and the other nodes.
  Its clients are ``User:ANONYMOUS``, the only super user; keep this listener on a private address.
- ``PROVIDERS`` (SASL_PLAINTEXT, SCRAM-SHA-512): providers using direct Kafka ingest, each as
  ``User:<provider id>``, allowed only what the ACLs from the provider registry grant
  (``allow.everyone.if.no.acl.found=false``).
- ``CONTROLLER``: the KRaft quorum.

Ports are chosen once per state directory and kept in ``ports.json`` (the quorum's voters and the
addresses clients were given must not move on restart); ``JIANGUAN_KAFKA_PORT`` /
``JIANGUAN_KAFKA_PROVIDER_PORT`` fix them for a single node.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from jianguan.kafka_io.access import SCRAM_MECHANISM
from jianguan.runtime.kafka_dist import LOG4J_TEMPLATE, TOOLS, java_command
from jianguan.runtime.process import Child, free_port, port_open

HOST = "127.0.0.1"


@dataclass(frozen=True)
class NodePorts:
    internal: int
    providers: int
    controller: int


def node_properties(node_id: int, ports: dict[int, NodePorts], data_dir: Path) -> str:
    """server.properties of one node of a cluster of ``len(ports)`` nodes (pure)."""
    own = ports[node_id]
    n = len(ports)
    replication = min(3, n)
    min_isr = 2 if n >= 3 else 1
    voters = ",".join(f"{i}@{HOST}:{p.controller}" for i, p in sorted(ports.items()))
    lines = {
        "process.roles": "broker,controller",
        "node.id": node_id,
        "controller.quorum.voters": voters,
        "listeners": f"INTERNAL://{HOST}:{own.internal},PROVIDERS://{HOST}:{own.providers},"
        f"CONTROLLER://{HOST}:{own.controller}",
        "advertised.listeners": f"INTERNAL://{HOST}:{own.internal},PROVIDERS://{HOST}:{own.providers}",
        "listener.security.protocol.map": "INTERNAL:PLAINTEXT,PROVIDERS:SASL_PLAINTEXT,"
        "CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "INTERNAL",
        "controller.listener.names": "CONTROLLER",
        "sasl.enabled.mechanisms": SCRAM_MECHANISM,
        "listener.name.providers.scram-sha-512.sasl.jaas.config":
            "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": "User:ANONYMOUS",
        "allow.everyone.if.no.acl.found": "false",
        "log.dirs": str(data_dir),
        # Topics are created explicitly, with their final partition count (never by a typo).
        "auto.create.topics.enable": "false",
        "default.replication.factor": replication,
        "min.insync.replicas": min_isr,
        "offsets.topic.replication.factor": replication,
        "transaction.state.log.replication.factor": replication,
        "transaction.state.log.min.isr": min_isr,
        "unclean.leader.election.enable": "false",
        # A broker that died is fenced (its partitions led elsewhere) within seconds.
        "broker.heartbeat.interval.ms": 1000,
        "broker.session.timeout.ms": 6000,
        "group.initial.rebalance.delay.ms": 0,
        # EventBatch records up to the gateway's limit.
        "message.max.bytes": 16 * 1024 * 1024 + 1024,
        "replica.fetch.max.bytes": 16 * 1024 * 1024 + 1024,
        "log.retention.hours": 168,
        "num.network.threads": 2,
        "num.io.threads": 4,
    }  # fmt: skip
    return "".join(f"{k}={v}\n" for k, v in lines.items())


def _load_ports(path: Path) -> dict[int, NodePorts]:
    if not path.exists():
        return {}
    return {int(k): NodePorts(**v) for k, v in json.loads(path.read_text()).items()}


def _addresses(ports: dict[int, NodePorts], listener: str) -> str:
    """A bootstrap list: every node's ``internal`` or ``providers`` listener."""
    return ",".join(f"{HOST}:{getattr(p, listener)}" for p in ports.values())


def running_embedded(state_dir: Path) -> tuple[str, str] | None:
    """(internal, provider) bootstraps of the embedded broker of ``state_dir``, if it is up."""
    ports = _load_ports(state_dir / "kafka" / "ports.json")
    if not any(port_open(HOST, p.internal) for p in ports.values()):
        return None
    return _addresses(ports, "internal"), _addresses(ports, "providers")


def new_cluster_id() -> str:
    """A Kafka cluster id: a random UUID, URL-safe base64 without padding, never starting with
    '-' (as Kafka's own ids: it would read as an option on a command line)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


class KafkaNode:
    def __init__(self, node_id: int, directory: Path, heap: str) -> None:
        self.node_id = node_id
        self.dir = directory
        self.heap = heap
        self.child: Child | None = None

    @property
    def data_dir(self) -> Path:
        return self.dir / "data"

    def configure(self, ports: dict[int, NodePorts], cluster_id: str) -> None:
        """Write the config; format the log directory the first time (never again: that would
        lose the data)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "server.properties").write_text(
            node_properties(self.node_id, ports, self.data_dir)
        )
        (self.dir / "log4j2.properties").write_text(
            LOG4J_TEMPLATE.format(target="SYSTEM_OUT", level="WARN")
        )
        if (self.data_dir / "meta.properties").exists():
            return
        argv = java_command(
            TOOLS["storage"],
            ["format", f"--cluster-id={cluster_id}", "-c", str(self.dir / "server.properties")],
            log4j=self.dir / "log4j2.properties",
        )
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"kafka node {self.node_id}: formatting {self.data_dir} failed: "
                f"{(done.stderr or done.stdout).strip().splitlines()[-1:]}"
            )

    def start(self, log_dir: Path) -> None:
        argv = java_command(
            "kafka.Kafka",
            [str(self.dir / "server.properties")],
            heap=self.heap,
            log4j=self.dir / "log4j2.properties",
        )
        self.child = Child(f"kafka-{self.node_id}", argv, log_dir / f"kafka-{self.node_id}.log")

    def stop(self, grace: float = 30.0) -> None:
        if self.child is not None:
            self.child.stop(grace=grace)
            self.child = None

    def kill(self) -> None:
        """SIGKILL, no clean shutdown (a crash)."""
        if self.child is not None:
            self.child.kill()
            self.child = None


class KafkaCluster:
    """``nodes`` Kafka nodes under ``state_dir`` (``kafka/`` for one, ``kafka/node-N`` for
    several); their output in ``<log_dir>/kafka-N.log``."""

    def __init__(
        self,
        state_dir: Path,
        nodes: int = 1,
        port: int = 0,
        provider_port: int = 0,
        heap: str | None = None,
        log_dir: Path | None = None,
    ) -> None:
        self.dir = (state_dir / "kafka").resolve()
        self.log_dir = (log_dir or state_dir / "log").resolve()
        self.ports = self._ports(nodes, port, provider_port)
        heap = heap or ("1g" if nodes == 1 else "512m")
        self.nodes = {
            i: KafkaNode(i, self.dir if nodes == 1 else self.dir / f"node-{i}", heap)
            for i in sorted(self.ports)
        }

    def _ports(self, nodes: int, port: int, provider_port: int) -> dict[int, NodePorts]:
        path = self.dir / "ports.json"
        known = _load_ports(path)
        if len(known) != nodes:
            # distinct: the system may hand out a just-released port again
            taken: set[int] = set()

            def fresh() -> int:
                port = free_port()
                while port in taken:
                    port = free_port()
                taken.add(port)
                return port

            known = {i: NodePorts(fresh(), fresh(), fresh()) for i in range(1, nodes + 1)}
        if nodes == 1 and (port or provider_port):
            p = known[1]
            known[1] = NodePorts(port or p.internal, provider_port or p.providers, p.controller)
        self.dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({i: asdict(p) for i, p in known.items()}))
        return known

    @property
    def bootstrap(self) -> str:
        """The platform's (internal) listeners."""
        return _addresses(self.ports, "internal")

    @property
    def provider_bootstrap(self) -> str:
        """The SASL/SCRAM listeners providers connect to."""
        return _addresses(self.ports, "providers")

    def _cluster_id(self) -> str:
        path = self.dir / "cluster.id"
        if not path.exists():
            path.write_text(new_cluster_id())
        return path.read_text().strip()

    def start(self, timeout: float = 90.0) -> None:
        cluster_id = self._cluster_id()
        try:
            for node in self.nodes.values():
                node.configure(self.ports, cluster_id)
            for node in self.nodes.values():
                node.start(self.log_dir)
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, timeout: float = 90.0, nodes: list[int] | None = None) -> None:
        """Until every (listed) node is up and registered, as a metadata request sees it."""
        wanted = set(nodes or self.nodes)
        deadline = time.monotonic() + timeout
        while True:
            for i in wanted:
                child = self.nodes[i].child
                if child is not None and child.poll() is not None:
                    raise RuntimeError(
                        f"kafka node {i} exited with {child.poll()}; see {child.log_path}"
                    )
            if self._registered() >= wanted:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"kafka: not ready after {timeout:.0f} s; see {self.log_dir}")
            time.sleep(0.2)

    def _registered(self) -> set[int]:
        from kafka.admin import KafkaAdminClient
        from kafka.errors import KafkaError

        live = [f"{HOST}:{p.internal}" for p in self.ports.values() if port_open(HOST, p.internal)]
        if not live:
            return set()
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=live, request_timeout_ms=3000, client_id="jianguan-ready"
            )
        except (KafkaError, OSError):
            return set()
        try:
            cluster = admin.describe_cluster()
        except (KafkaError, OSError):
            return set()
        finally:
            admin.close()
        return {b["broker_id"] for b in cluster["brokers"] if not b.get("is_fenced")}

    def kill(self, node_id: int) -> None:
        self.nodes[node_id].kill()

    def restart(self, node_id: int, timeout: float = 90.0) -> None:
        self.nodes[node_id].start(self.log_dir)
        self.wait_ready(timeout, [node_id])

    def stop(self) -> None:
        """All nodes at once: one by one, the last ones would wait for a quorum that is gone."""
        running = [n for n in self.nodes.values() if n.child is not None]
        if running:
            with ThreadPoolExecutor(len(running)) as pool:
                list(pool.map(lambda n: n.stop(), running))
