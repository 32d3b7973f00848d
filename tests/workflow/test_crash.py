"""A process killed anywhere between completing an application and marking its changes delivered:
after a restart the department's database holds each change exactly once.

Each fault is a real SIGKILL of a child process (tests/workflow/crash_child.py) at one point: after
the hub store committed the change events and before delivery; inside the department's write
transaction before its commit; after that commit and before the events are marked delivered. Then
delivery runs in fresh processes, twice, and the legacy rows are counted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from adapters.write import LEDGER, derived
from hub.core.db import sync_url
from hub.store import upgrade
from tests.workflow.legacy import legacy_database, rows

ROOT = Path(__file__).resolve().parents[2]


def child(mode: str, store_url: str, legacy_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tests.workflow.crash_child", mode, store_url, legacy_url],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})


def ledger(url: str) -> list[tuple[object, ...]]:
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(LEDGER.name):
                return []
            return [tuple(r) for r in conn.execute(sa.select(LEDGER.c["APPLICATION_ID"], LEDGER.c["SEQ"]))]
    finally:
        engine.dispose()


@pytest.mark.parametrize("point", ["enqueue", "apply", "mark"])
def test_killed_at_any_point_the_department_gets_each_change_once(tmp_path: Path, point: str) -> None:
    store_url = f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
    upgrade(store_url)
    legacy = legacy_database(tmp_path / "establishment.db", "establishment")
    killed = child(point, store_url, legacy)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    if point in ("enqueue", "apply"):  # nothing reached the department (the open transaction died with the process)
        assert rows(legacy, "T_BZ") == [] and ledger(legacy) == []
    else:  # the department committed; the hub store does not know it yet
        assert len(rows(legacy, "T_BZ")) == 1

    first = child("deliver", store_url, legacy)
    again = child("deliver", store_url, legacy)
    assert first.returncode == 0 and again.returncode == 0, first.stderr + again.stderr
    assert orjson.loads(first.stdout) == {"applied": {"establishment": 0 if point == "mark" else 2},
                                          "delivered": {"establishment": 2}, "pending": {}}
    assert orjson.loads(again.stdout) == {"applied": {}, "delivered": {}, "pending": {}}
    assert [(r[0], r[1], r[2]) for r in rows(legacy, "T_BZ")] == [("JG900001", "SY", 10)]
    assert [r[0] for r in rows(legacy, "T_SMZ")] == [derived("R9########", "app-crash", 2)]
    assert sorted(ledger(legacy)) == [("app-crash", 1), ("app-crash", 2)]
