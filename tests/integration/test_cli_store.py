"""`migrate`, `verify-chain` and `replay` find the embedded ClickHouse of the state directory by
themselves: no URL, no password to dig out of credentials.json."""

from __future__ import annotations

from pathlib import Path

import pytest

from jianguan.cli import main
from jianguan.runtime.clickhouse import ClickHouseServer
from jianguan.store.executor import ClickHouseUrl

pytestmark = pytest.mark.integration


def test_store_commands_use_the_embedded_clickhouse_of_the_state_dir(
    clickhouse: ClickHouseServer,
    database: ClickHouseUrl,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "clickhouse").symlink_to(clickhouse.dir)  # as `jianguan up` keeps it
    monkeypatch.setenv("JIANGUAN_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("JIANGUAN_DATABASE", database.database)
    monkeypatch.delenv("JIANGUAN_CLICKHOUSE_URL", raising=False)
    assert main(["migrate"]) == 0  # every migration applied already: nothing to say
    assert capsys.readouterr().out == ""
    assert main(["verify-chain"]) == 0
    assert capsys.readouterr().err.strip() == "0 chain(s) broken"
