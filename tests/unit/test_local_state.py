"""The rules' state on disk is kept only after a clean shutdown."""

from pathlib import Path

from jianguan.processors import local_state

TABLE = "rule-units"


def _databases(tabledir: Path) -> list[str]:
    for p in (0, 1):
        (tabledir / f"{TABLE}-{p}.db").mkdir(parents=True, exist_ok=True)
        (tabledir / f"{TABLE}-{p}.db" / "CURRENT").write_text("x")
    (tabledir / "other-0.db").mkdir(exist_ok=True)  # another table's: never touched
    return sorted(p.name for p in tabledir.iterdir())


def test_after_a_crash_the_databases_are_removed(tmp_path: Path) -> None:
    _databases(tmp_path)
    assert local_state.prepare(tmp_path, TABLE) is False
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other-0.db"]


def test_after_a_clean_shutdown_they_are_kept_once(tmp_path: Path) -> None:
    before = _databases(tmp_path)
    local_state.mark_clean(tmp_path, TABLE)
    assert local_state.prepare(tmp_path, TABLE) is True
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    # the mark is withdrawn while they are in use: a crash now leaves no mark
    assert local_state.prepare(tmp_path, TABLE) is False
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other-0.db"]


def test_a_first_start_has_nothing_to_remove(tmp_path: Path) -> None:
    assert local_state.prepare(tmp_path / "absent", TABLE) is False
