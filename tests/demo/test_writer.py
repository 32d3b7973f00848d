"""The bulk writer's second process: what it writes and what happens when it fails."""

from __future__ import annotations

import sqlite3
from itertools import chain
from pathlib import Path

import pytest

from hub.demo.generate import DEPARTMENTS, sqlite_targets
from hub.demo.writer import Sink


def _tables(path: Path) -> set[str]:
    connection = sqlite3.connect(path)
    try:
        return {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        connection.close()


def test_a_department_away_is_written_and_indexed_by_the_second_process(tmp_path: Path) -> None:
    # Pay lines buffered as records that become rows when written: here each record is a list of rows.
    sink = Sink(sqlite_targets(tmp_path), chunk=2, expand={"GZ_YB": chain.from_iterable}, away=("finance",))
    try:
        assert sink.away is not None and "finance" not in str(list(sink.databases))
        sink.create()
        sink.buffers["GZ_DW"] += [("D1", "一号单位", None), ("D2", "二号单位", "X")]
        money = (0,) * 15
        sink.buffers["GZ_YB"].append([("202601", "P1", "D1", *money), ("202602", "P1", "D1", *money)])
        sink.flush_full()
        sink.finish()
    finally:
        sink.close()
    connection = sqlite3.connect(tmp_path / "finance.db")
    try:
        assert connection.execute("SELECT DWDM FROM GZ_DW ORDER BY 1").fetchall() == [("D1",), ("D2",)]
        assert connection.execute("SELECT GZNY FROM GZ_YB ORDER BY 1").fetchall() == [("202601",), ("202602",)]
        indexes = {n for (n,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"IX_GZ_YB_DWDM", "IX_GZ_DW_TYXYDM"} <= indexes
    finally:
        connection.close()


def test_a_failure_in_the_second_process_reaches_the_caller_and_its_tables_are_dropped(tmp_path: Path) -> None:
    sink = Sink(sqlite_targets(tmp_path), away=("finance",))
    try:
        sink.create()
        sink.buffers["GZ_DW"].append(("D1",))  # one column of three
        sink.flush("GZ_DW")
        with pytest.raises(sqlite3.ProgrammingError):
            sink.finish()
        sink.discard()
    finally:
        sink.close()
    assert _tables(tmp_path / "finance.db") == set()
    assert "T_JG" not in _tables(tmp_path / "establishment.db")


def test_a_database_two_departments_share_is_written_here(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'all.db'}"
    sink = Sink(dict.fromkeys(DEPARTMENTS, url), away=("finance",))
    try:
        assert sink.away is None and len(sink.databases) == 1
    finally:
        sink.close()
