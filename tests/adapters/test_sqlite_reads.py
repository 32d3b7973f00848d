"""Reads on SQLite run the driver directly: one call on the connection's thread a read (adapters/sql.py `_Qmark`)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from adapters.registry import build_sources
from hub.core.settings import Settings, SourceSettings
from hub.demo.generate import generate, sqlite_targets


def test_a_sqlite_read_is_one_trip_and_reads_what_sqlalchemy_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    targets = sqlite_targets(tmp_path)
    generate(targets, persons=80, seed=5)
    trips: list[Any] = []
    queued = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(fn)
        return await queued(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)

    async def check() -> None:
        sources = build_sources(Settings(source={d: SourceSettings(url=u) for d, u in targets.items()}))
        try:
            adapter = sources[sources.holder("registry_slot")]
            units = sorted({s.unit_local_id for s in await adapter.scan("registry_slot", order_by="slot_id", limit=60)})
            assert len(units) >= 3
            reads: list[Any] = []
            for keys in (units[:1], units[:2], units[:3], units[:1]):  # lists of several lengths, one length again
                await adapter.fetch("registry_slot", "unit_local_id", keys)  # the connection opened, if not yet
                trips.clear()
                reads.append(sorted(await adapter.fetch("registry_slot", "unit_local_id", keys), key=repr))
                assert len(trips) == 1  # cursor, execute, fetch, close and rollback were five
            counted_rows = await adapter.count("registry_slot", group_by=["unit_local_id"], where={"unit_local_id": units[:3]})
            page = await adapter.scan("registry_slot", order_by="slot_id", limit=7)
            adapter._qmark = False  # the same reads through SQLAlchemy
            adapter._statements.clear()
            for keys, read in zip((units[:1], units[:2], units[:3], units[:1]), reads, strict=True):
                assert read and read == sorted(await adapter.fetch("registry_slot", "unit_local_id", keys), key=repr)
            assert sorted(counted_rows) == sorted(
                await adapter.count("registry_slot", group_by=["unit_local_id"], where={"unit_local_id": units[:3]}))
            assert page == await adapter.scan("registry_slot", order_by="slot_id", limit=7)
        finally:
            await sources.close()

    asyncio.run(check())
