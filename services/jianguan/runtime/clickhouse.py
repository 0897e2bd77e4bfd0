"""A ClickHouse server from Debian's package, started with a generated config on loopback.

Users: ``writer`` (migrations and the event-store sink) and ``dashboard`` (read-only profile,
limited to the project's database). Passwords are generated per state directory and stored
only as SHA-256 in the users file; the clear values are kept in ``credentials.json`` (mode 0600)
so that later processes of the same stack can connect.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path
from xml.sax.saxutils import escape

from jianguan.runtime.process import Child, bindable, free_port, port_open, reserve, wait_until
from jianguan.store.executor import ClickHouseUrl

_CONFIG = """<yandex>
  <logger>
    <level>warning</level>
    <log>{dir}/log/server.log</log>
    <errorlog>{dir}/log/error.log</errorlog>
    <size>100M</size>
    <count>3</count>
  </logger>
  <listen_host>{host}</listen_host>
  <tcp_port>{tcp_port}</tcp_port>
  <http_port>{http_port}</http_port>
  <path>{dir}/data/</path>
  <tmp_path>{dir}/tmp/</tmp_path>
  <user_files_path>{dir}/user_files/</user_files_path>
  <format_schema_path>{dir}/format_schemas/</format_schema_path>
  <users_config>{dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <max_concurrent_queries>100</max_concurrent_queries>
  <mark_cache_size>268435456</mark_cache_size>
  <timezone>UTC</timezone>
{cluster}</yandex>
"""

_USERS = """<yandex>
  <profiles>
    <default>
      <allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type>
      <output_format_json_quote_64bit_integers>0</output_format_json_quote_64bit_integers>
      <max_memory_usage>4000000000</max_memory_usage>
    </default>
    <readonly>
      <readonly>1</readonly>
      <!-- what store.executor.CLUSTER_SETTINGS sets for users that may (harmless on one server) -->
      <distributed_product_mode>global</distributed_product_mode>
      <load_balancing>in_order</load_balancing>
      <output_format_json_quote_64bit_integers>0</output_format_json_quote_64bit_integers>
      <max_memory_usage>2000000000</max_memory_usage>
      <max_execution_time>60</max_execution_time>
    </readonly>
  </profiles>
  <users>
    <writer>
      <password_sha256_hex>{writer_hash}</password_sha256_hex>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </writer>
    <dashboard>
      <password_sha256_hex>{dashboard_hash}</password_sha256_hex>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>readonly</profile>
      <quota>default</quota>
      <allow_databases><database>{database}</database></allow_databases>
    </dashboard>
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration>
        <queries>0</queries><errors>0</errors><result_rows>0</result_rows>
        <read_rows>0</read_rows><execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
"""


def server_binary() -> str:
    path = shutil.which("clickhouse-server") or (
        "/usr/bin/clickhouse-server" if Path("/usr/bin/clickhouse-server").exists() else None
    )
    if path is None:
        raise RuntimeError(
            "clickhouse-server is not installed: run `make install`"
            " (it installs Debian's clickhouse-server package)"
        )
    return path


PORTS_FILE = "ports.json"


def _last_ports(directory: Path) -> dict[str, int]:
    try:
        data = json.loads((directory / PORTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: int(v) for k, v in data.items() if k in ("tcp", "http")}


def _kept(host: str, port: int | None) -> int | None:
    return port if port and bindable(host, port) else None


def running_embedded(directory: Path, database: str = "jianguan") -> ClickHouseUrl | None:
    """The writer's URL of the embedded ClickHouse kept in ``directory``, if it runs: what
    `replay`, `verify-chain` and `migrate` use when given no URL."""
    ports = _last_ports(directory)
    try:
        passwords = _passwords(directory)
    except (OSError, ValueError):
        return None
    if passwords is None or "tcp" not in ports or not port_open("127.0.0.1", ports["tcp"]):
        return None
    return ClickHouseUrl(
        "127.0.0.1", ports["tcp"], "writer", passwords["writer"], database, ports.get("http")
    )


CREDENTIALS_FILE = "credentials.json"


def _passwords(directory: Path) -> dict[str, str] | None:
    """The users' passwords kept in ``directory``, None when there are none yet (a file that is
    not JSON raises ValueError)."""
    try:
        text = (directory / CREDENTIALS_FILE).read_text()
    except FileNotFoundError:
        return None
    data: dict[str, str] = json.loads(text)
    return data


def load_or_create_passwords(directory: Path) -> dict[str, str]:
    """The users' passwords kept in ``directory``, made (and kept, mode 0600) the first time."""
    kept = _passwords(directory)
    if kept is not None:
        return kept
    creds = directory / CREDENTIALS_FILE
    directory.mkdir(parents=True, exist_ok=True)
    data = {"writer": secrets.token_urlsafe(18), "dashboard": secrets.token_urlsafe(18)}
    creds.write_text(json.dumps(data))
    os.chmod(creds, 0o600)
    return data


def _sha(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


class ClickHouseServer:
    def __init__(
        self,
        state_dir: Path,
        database: str = "jianguan",
        host: str = "127.0.0.1",
        tcp_port: int = 0,
        http_port: int = 0,
        passwords: dict[str, str] | None = None,
        cluster_config: str = "",
    ) -> None:
        """Ports: as given; 0 takes the ones of the last start (``ports.json``) when they are
        free, else free ones, so its address stays the same across restarts. ``passwords``:
        the users' passwords when they are shared (the servers of one cluster); otherwise the
        state directory's own. ``cluster_config``: XML elements that make it a member of a
        cluster (``runtime.clickhouse_cluster``)."""
        self.dir = state_dir.resolve()
        self.host = host
        self.database = database
        self._child: Child | None = None
        self._cluster_config = cluster_config
        self._passwords = passwords or load_or_create_passwords(self.dir)
        last = _last_ports(self.dir)
        self.tcp_port = tcp_port or _kept(host, last.get("tcp")) or free_port(host)
        self.http_port = http_port or _kept(host, last.get("http")) or free_port(host)
        if self.http_port == self.tcp_port:
            self.http_port = free_port(host)
        reserve(self.tcp_port, self.http_port)  # never handed to another server meanwhile

    def url(self, user: str = "writer", database: str | None = None) -> ClickHouseUrl:
        return ClickHouseUrl(
            self.host,
            self.tcp_port,
            user,
            self._passwords[user],
            database or self.database,
            self.http_port,
        )

    def start(self, timeout: float = 30.0) -> None:
        for sub in ("data", "tmp", "log", "user_files", "format_schemas"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        (self.dir / "users.xml").write_text(
            _USERS.format(
                writer_hash=_sha(self._passwords["writer"]),
                dashboard_hash=_sha(self._passwords["dashboard"]),
                database=escape(self.database),
            )
        )
        config = self.dir / "config.xml"
        config.write_text(
            _CONFIG.format(
                dir=escape(str(self.dir)),
                host=self.host,
                tcp_port=self.tcp_port,
                http_port=self.http_port,
                cluster=self._cluster_config,
            )
        )
        (self.dir / PORTS_FILE).write_text(
            json.dumps({"tcp": self.tcp_port, "http": self.http_port}), encoding="utf-8"
        )
        self._child = Child(
            "clickhouse",
            [server_binary(), f"--config-file={config}"],
            self.dir / "log" / "stdout.log",
        )
        wait_until(
            lambda: port_open(self.host, self.tcp_port), timeout, "ClickHouse server", self._child
        )

    def stop(self) -> None:
        if self._child is not None:
            self._child.stop(grace=15.0)
            self._child = None

    @property
    def pid(self) -> int:
        assert self._child is not None, "not started"
        return self._child.pid

    @property
    def running(self) -> bool:
        return self._child is not None and self._child.poll() is None

    def kill(self) -> None:
        """SIGKILL: a crash, with no shutdown of its own."""
        if self._child is not None:
            self._child.kill()
            self._child = None
