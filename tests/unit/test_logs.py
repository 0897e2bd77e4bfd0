"""A service's logs (runtime.logs): a rotating file of its own, text or JSON, INFO by default,
the libraries' chatter left out."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from jianguan.runtime.logs import configure_service_logging
from jianguan.settings import Settings


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)
    for name in ("faust", "mode", "aiokafka", "kafka", "clickhouse_driver"):
        logging.getLogger(name).setLevel(logging.NOTSET)


def _settings(**changes: object) -> Settings:
    return dataclasses.replace(Settings.from_env(), **changes)  # type: ignore[arg-type]


def test_json_lines_in_a_rotating_file(tmp_path: Path) -> None:
    configure_service_logging("store", _settings(log_dir=tmp_path, log_format="json"))
    logging.getLogger("jianguan.store.sink").info("stored %d rows", 3)
    logging.getLogger("aiokafka").info("chatter")  # below WARNING: left out
    try:
        raise ValueError("bad")
    except ValueError:
        logging.getLogger("jianguan.store.sink").exception("insert failed")
    lines = [json.loads(x) for x in (tmp_path / "store.log").read_text().splitlines()]
    assert [(x["level"], x["service"], x["message"]) for x in lines] == [
        ("INFO", "store", "stored 3 rows"),
        ("ERROR", "store", "insert failed"),
    ]
    assert "ValueError: bad" in lines[1]["exception"]
    assert lines[0]["ts"].endswith("Z")


def test_the_file_rotates(tmp_path: Path) -> None:
    configure_service_logging("gateway", _settings(log_dir=tmp_path, log_max_mb=1, log_backups=2))
    for i in range(3000):
        logging.getLogger("jianguan.gateway").info("line %d %s", i, "x" * 1000)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["gateway.log", "gateway.log.1", "gateway.log.2"]
    assert all(p.stat().st_size <= 2**20 + 2000 for p in tmp_path.iterdir())


def test_a_wrong_level_is_a_settings_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from jianguan.settings import SettingsError

    monkeypatch.setenv("JIANGUAN_LOG_LEVEL", "loud")
    with pytest.raises(SettingsError, match="JIANGUAN_LOG_LEVEL"):
        Settings.from_env()
