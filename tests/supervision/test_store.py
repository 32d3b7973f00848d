"""The hub store: migrations match the tables on SQLite and PostgreSQL; alerts round-trip on both."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.core.db import sync_url
from hub.store import open_store, upgrade
from hub.store.db import utcnow
from hub.store.tables import metadata
from hub.supervision import alert_queries as q
from hub.supervision.alerts import AlertStatus, history, record_findings, resolve_missing, transition
from hub.supervision.model import Finding, Severity
from hub.supervision.service import open_run


def _finding(rule: str, subject: str, month: str = "2026-10", region: str = "152921") -> Finding:
    person = rule != "R04"
    return Finding(rule, Severity.SEVERE if rule in ("R01", "R04") else Severity.NOTICE, month,
                   subject if person else None, "12152921MB000011X" if person else subject, region,
                   {"k": subject}, {"amount": "5,820.00"}, "消息 / message")


def _drift(url: str) -> list[object]:
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), metadata))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'var' / 'hub.db'}"
    make: Callable[[], str] = request.getfixturevalue("pg_database")
    return make()


async def test_migrations_create_exactly_the_tables(store_url: str) -> None:
    upgrade(store_url)
    upgrade(store_url)  # idempotent at head
    assert _drift(store_url) == []


async def test_alerts_round_trip(store_url: str) -> None:
    store = await open_store(store_url, migrate=True)
    try:
        now = utcnow()
        from hub.supervision.model import Scope

        run = await open_run(store, Scope(), "test")
        findings = [_finding("R01", "152921198503150021"), _finding("R01", "15292119850315004X", region="152922"),
                    _finding("R04", "12152921MB000011X")]
        async with store.begin() as conn:
            recorded = await record_findings(conn, run, findings, now)
        assert len(recorded.opened) == 3
        alert = await transition(store, recorded.opened[0], AlertStatus.ACKNOWLEDGED, "u1", "ok")
        assert alert.first_seen.tzinfo is not None and alert.evidence == {"amount": "5,820.00"}
        # an alert is its finding as stored: the same observation, the same fingerprint
        assert alert.observed() == findings[0].observed() and alert.fingerprint == findings[0].fingerprint
        assert (alert.severity, alert.last_month) == (Severity.SEVERE, findings[0].month)

        async with store.connect() as conn:
            page, more = await q.list_alerts(conn, q.AlertFilter(rules=["R01"]), 1, None)
            assert more and page[0].id == recorded.opened[1]  # newest first
            rest, more = await q.list_alerts(conn, q.AlertFilter(rules=["R01"]), 1, page[0].id)
            assert not more and rest[0].id == recorded.opened[0]
            assert await q.count_alerts(conn, q.AlertFilter(region="152921")) == 2
            by_rule = await q.summarize(conn, q.Dimension.RULE, q.AlertFilter())
            assert [(r.key, r.total, r.open, r.severe_open) for r in by_rule] == [("R01", 2, 2, 2), ("R04", 1, 1, 1)]
            by_month = await q.summarize(conn, q.Dimension.MONTH, q.AlertFilter(month="2026-10"))
            assert [(r.key, r.total) for r in by_month] == [("2026-10", 3)]
            events = await history(conn, [recorded.opened[0]])
            assert [e.to_status for e in events[recorded.opened[0]]] == ["OPEN", "ACKNOWLEDGED"]

        later = now + dt.timedelta(days=30)
        run2 = await open_run(store, Scope(), "test")
        async with store.begin() as conn:
            again = await record_findings(conn, run2, findings[:1], later)
            gone = await resolve_missing(conn, run2, month="2026-11", rules=["R01", "R04"],
                                         seen={findings[0].fingerprint}, institutions=None, region=None,
                                         examined=None, now=later)
        assert again.opened == [] and sorted(gone) == sorted(recorded.opened[1:])
    finally:
        await store.close()


async def test_freeze_flags_migrate_to_kinds(store_url: str) -> None:
    """Freezes stored with the hiring/payroll flags keep what they stop as kinds after 0007."""
    upgrade(store_url, "0006_workflow")
    engine = sa.create_engine(sync_url(store_url))
    now = utcnow()
    flags = {1: (True, False), 2: (False, True), 3: (True, True)}
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO freezes (id, institution_code, region_code, hiring, payroll, status, reason, created_by, "
                "created_at, updated_at) VALUES (:id, 'X', '152921', :h, :p, 'ACTIVE', 'r', 'a', :now, :now)"),
                [{"id": i, "h": h, "p": p, "now": now} for i, (h, p) in flags.items()])
        upgrade(store_url)
        assert _drift(store_url) == []
        with engine.connect() as conn:
            kinds = sorted(tuple(r) for r in conn.execute(sa.text("SELECT freeze_id, kind FROM freeze_kinds")))
    finally:
        engine.dispose()
    assert kinds == [(1, "HIRING"), (2, "PAYROLL"), (3, "HIRING"), (3, "PAYROLL")]
    store = await open_store(store_url)
    try:
        from hub.supervision.freezes import get_freeze

        async with store.connect() as conn:
            third = await get_freeze(conn, 3)
        assert (third.hiring, third.payroll, [k.value for k in third.kinds]) == (True, True, ["HIRING", "PAYROLL"])
    finally:
        await store.close()
