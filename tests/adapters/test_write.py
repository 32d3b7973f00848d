"""Write-back through the generic SQL adapter (adapters/write.py), on SQLite, PostgreSQL and MariaDB.

Every writable entity of the shipped mappings takes an INSERT whose values went through JSON (as the
outbox keeps them) and reads back, through the same adapter, as the same canonical values; UPDATEs
match their key in every legacy spelling; the ledger makes a change count once; a change the
database cannot take writes nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from adapters.base import Capability
from adapters.mapping import default_mappings, load_mapping
from adapters.registry import build_sources
from adapters.write import LEDGER, ChangeRejected, derived, generated_ids
from hub.core.changes import Change, ChangeOp
from hub.core.db import sqlite_file_url, sync_url
from hub.core.errors import MappingError
from hub.core.ids import make_id_number
from hub.core.settings import Settings, SourceSettings
from hub.demo.legacy import METADATA
from tests.conftest import MARIADB_ADMIN, PG_ADMIN, _factory

MAPPINGS = default_mappings()
ID = make_id_number("152921", dt.date(1965, 3, 4), 12, True)
ID15 = ID[:6] + ID[8:17]  # the same person's pre-1999 number, as the registry still holds some

# Canonical values of one new record per writable entity (ids generated unless given).
INSERTS: list[tuple[str, str, dict[str, Any]]] = [
    ("establishment", "quota", {"unit_local_id": "JG900001", "quota_type": "SY", "approved": 12,
                                "document": "阿左编发〔2026〕1号", "approved_on": dt.date(2026, 3, 1)}),
    ("establishment", "leadership_post", {"unit_local_id": "JG900001", "level": "HEAD", "scope": "UNIT", "approved": 1}),
    ("establishment", "vacancy_plan", {"unit_local_id": "JG900001", "quota_type": "SY", "planned": 3, "used": 0,
                                       "approved_on": dt.date(2026, 9, 1), "status": "APPROVED"}),
    ("establishment", "registry_slot", {"unit_local_id": "JG900001", "name": "乌云其木格", "id_number": ID, "sex": "FEMALE",
                                        "birth": "1965-03", "ethnic_group": "02", "education": "20", "quota_type": "SY",
                                        "entered_on": dt.date(2026, 10, 1), "left_on": None, "left_reason": None,
                                        "status": "ACTIVE", "plan_id": "JH90000001"}),
    ("hr", "personnel", {"unit_local_id": "152921000001", "name": "乌云其木格", "id_number": ID, "sex": "FEMALE",
                         "birth": "1965-03-04", "ethnic_group": "02", "education": "21", "category": "PI_TECHNICAL",
                         "subject": "数学", "work_start": dt.date(1987, 9, 1), "status": "EMPLOYED",
                         "status_on": dt.date(1987, 9, 1)}),
    ("hr", "post_assignment", {"category": "TECHNICAL", "grade": 9, "start_on": dt.date(2026, 10, 1), "end_on": None}),
    ("finance", "payee", {"unit_local_id": "301000001", "name": "乌云其木格", "id_number": ID, "sex": "FEMALE",
                          "category": "PUBLIC_INSTITUTION", "on_quota": True, "on_payroll": False}),
    ("finance", "payroll_change", {"kind": "START", "from_month": "2026-11", "to_month": None, "document": "阿财发〔2026〕3号"}),
    ("organization", "cadre", {"name": "乌云其木格", "sex": "FEMALE", "birth": "1965-03", "ethnic_group": "02",
                               "id_number": ID, "unit_local_id": "002.00017"}),
    ("organization", "appointment", {"unit_local_id": "002.00017", "title": "副校长", "level_code": "142", "role": "DEPUTY",
                                     "start_on": dt.date(2026, 10, 9), "document": "阿左党干字〔2026〕2号", "end_on": None}),
]
# A child row names its parent's generated id (what the workflow derives the same way).
PARENT = {"post_assignment": ("personnel", "person_no"), "payroll_change": ("payee", "payee_code"),
          "appointment": ("cadre", "cadre_id")}
KEY = {"quota": "unit_local_id", "leadership_post": "unit_local_id", "post_assignment": "person_no"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb"])
def legacy_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One empty database with every department's legacy tables (all four in one, as the conformance kit)."""
    if request.param == "sqlite":
        url = sqlite_file_url(str(tmp_path_factory.mktemp("write") / "legacy.db"))
        factories = None
    else:
        admin, quote = (PG_ADMIN, '"') if request.param == "postgresql" else (MARIADB_ADMIN, "`")
        factories = _factory(admin, quote)
        url = next(factories)()
    engine = sa.create_engine(sync_url(url))
    METADATA.create_all(engine)
    engine.dispose()
    yield url
    if factories is not None:
        next(factories, None)


def adapter(url: str, department: str, writes: bool = True) -> Any:
    """The department's adapter, of the class its mapping names, as the hub builds it (writes granted or not)."""
    settings = Settings(source={department: SourceSettings(url=url, writes=writes)})
    return build_sources(settings)[department]


def as_json(values: dict[str, Any]) -> dict[str, Any]:
    """Values as the outbox hands them back (dates as ISO text)."""
    return orjson.loads(orjson.dumps(values))  # type: ignore[no-any-return]


def legacy_rows(url: str, query: Any) -> list[Any]:
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(query)]
    finally:
        engine.dispose()


def ledger_seqs(url: str, application_id: str) -> list[int]:
    """The seqs of an application the department's ledger holds."""
    seq = LEDGER.c["SEQ"]
    query = sa.select(seq).where(LEDGER.c["APPLICATION_ID"] == application_id).order_by(seq)
    return [r[0] for r in legacy_rows(url, query)]


def table(name: str) -> sa.Table:
    return METADATA.tables[name]


async def apply(url: str, department: str, changes: list[Change]) -> int:
    source = adapter(url, department)
    try:
        return await source.apply(changes)
    finally:
        await source.close()


async def read(url: str, department: str, entity: str, field: str, key: Any) -> list[Any]:
    source = adapter(url, department)
    try:
        return await source.fetch(entity, field, [key])
    finally:
        await source.close()


def test_every_writable_entity_reads_back_as_written(legacy_url: str) -> None:
    app = "app-round-trip"

    async def check() -> None:
        ids: dict[str, str] = {}
        for seq, (department, entity, values) in enumerate(INSERTS, start=1):
            values = dict(values)
            if entity in PARENT:
                parent, field = PARENT[entity]
                values[field] = ids[parent]
            change = Change(app, seq, department, entity, ChangeOp.INSERT, as_json(values))
            generated = generated_ids(MAPPINGS[department], change)
            ids[entity] = next(iter(generated.values()), "")
            assert await apply(legacy_url, department, [change]) == 1
            field = KEY.get(entity) or next(iter(generated))
            key = values.get(field) or generated[field]
            [record] = await read(legacy_url, department, entity, field, key)
            expected = {**values, **generated}
            assert {f: getattr(record, f) for f in expected} == expected, entity
        # fields read through a join come from the parent row, never written by the child
        [post] = await read(legacy_url, "hr", "post_assignment", "person_no", ids["personnel"])
        assert (post.id_number, post.unit_local_id) == (ID, "152921000001")
        # an UPDATE of such fields only writes nothing of its own (it counts and is in the ledger); the parent's moves it
        person = {"person_no": ids["personnel"]}
        follow = Change(app, len(INSERTS) + 1, "hr", "post_assignment", ChangeOp.UPDATE, {"unit_local_id": "152921000002"},
                        person)
        assert await apply(legacy_url, "hr", [follow]) == 1
        assert [p.unit_local_id for p in await read(legacy_url, "hr", "post_assignment", "person_no", ids["personnel"])] \
            == ["152921000001"]
        move = Change(app, len(INSERTS) + 2, "hr", "personnel", ChangeOp.UPDATE, {"unit_local_id": "152921000002"}, person)
        assert await apply(legacy_url, "hr", [move, follow]) == 1
        assert [p.unit_local_id for p in await read(legacy_url, "hr", "post_assignment", "person_no", ids["personnel"])] \
            == ["152921000002"]
        [change_row] = await read(legacy_url, "finance", "payroll_change", "change_id", ids["payroll_change"])
        assert (change_row.id_number, change_row.unit_local_id) == (ID, "301000001")

    asyncio.run(check())
    assert ids_look_like_legacy(legacy_url)


def ids_look_like_legacy(url: str) -> bool:
    """Generated ids have the legacy systems' shapes (R + 9 digits, YD + 10 digits, a GUID …)."""
    [(slot,)] = legacy_rows(url, sa.select(table("T_SMZ").c.RYID))
    [(change,)] = legacy_rows(url, sa.select(table("GZ_YD").c.YDID))
    [(appointment,)] = legacy_rows(url, sa.select(table("A02").c.A0200))
    return (slot[0] == "R" and len(slot) == 10 and slot[1:].isdigit() and change.startswith("YD") and len(change) == 12
            and len(appointment) == 36)


def test_updates_match_every_spelling_and_apply_once(legacy_url: str) -> None:
    app = "app-update"
    slot = derived("R9########", app, 1)
    raw = {"RYID": slot, "JGID": "JG900002", "XM": "张 三", "SFZH": ID15, "XB": "男", "BZLX": "SY",
           "RBRQ": dt.date(2001, 5, 1), "RYZT": "在编"}
    engine = sa.create_engine(sync_url(legacy_url))
    with engine.begin() as conn:
        conn.execute(sa.insert(table("T_SMZ")).values(raw))
    engine.dispose()
    leave = Change(app, 2, "establishment", "registry_slot", ChangeOp.UPDATE,
                   as_json({"status": "LEFT", "left_on": dt.date(2026, 10, 31), "left_reason": "调出"}),
                   {"id_number": ID, "status": "ACTIVE"})
    same = Change(app, 3, "establishment", "registry_slot", ChangeOp.UPDATE, {"quota_type": "SY"}, {"slot_id": slot})

    async def check() -> None:
        source = adapter(legacy_url, "establishment")  # one source reads before and after: nothing it keeps is stale
        try:
            for _ in range(2):  # read twice: the second read finds the statement compiled
                [before] = await source.fetch("registry_slot", "slot_id", [slot])
            assert before.status == "ACTIVE"
            assert await source.apply([leave, same]) == 2  # same values: still a matched row
            assert await source.apply([leave, same]) == 0  # delivered again: nothing happens
            [record] = await source.fetch("registry_slot", "slot_id", [slot])
            by_id = await source.fetch("registry_slot", "id_number", [ID])
        finally:
            await source.close()
        assert (record.status, record.left_on, record.left_reason, record.id_number) == (
            "LEFT", dt.date(2026, 10, 31), "调出", ID)
        assert record in by_id  # the 15-digit row is found by the 18-digit number

    asyncio.run(check())
    slots = table("T_SMZ")
    assert legacy_rows(legacy_url, sa.select(slots.c.RYZT, slots.c.SFZH).where(slots.c["RYID"] == slot)) == [("出编", ID15)]
    assert ledger_seqs(legacy_url, app) == [2, 3]


def test_a_change_the_database_cannot_take_writes_nothing(legacy_url: str) -> None:
    app = "app-refused"
    good = Change(app, 1, "establishment", "quota", ChangeOp.INSERT,
                  {"unit_local_id": "JG900003", "quota_type": "XZ", "approved": 2})
    unknown_code = Change(app, 2, "establishment", "registry_slot", ChangeOp.INSERT,
                          {"unit_local_id": "JG900003", "id_number": ID, "quota_type": "XZ", "status": "ON_MOON"})
    no_row = Change(app, 3, "establishment", "quota", ChangeOp.UPDATE, {"approved": 3},
                    {"unit_local_id": "JG000000", "quota_type": "XZ"})

    async def check() -> None:
        with pytest.raises(ChangeRejected):  # refused before the database is touched
            await apply(legacy_url, "establishment", [good, unknown_code])
        with pytest.raises(ChangeRejected):  # refused by the database's answer: the transaction rolls back
            await apply(legacy_url, "establishment", [good, no_row])
        assert await read(legacy_url, "establishment", "quota", "unit_local_id", "JG900003") == []
        with pytest.raises(ChangeRejected):  # a joined column is not a key the table can match
            await apply(legacy_url, "hr", [Change(app, 4, "hr", "post_assignment", ChangeOp.UPDATE, {"grade": 1},
                                                  {"id_number": ID})])

    asyncio.run(check())
    assert ledger_seqs(legacy_url, app) == []


def test_writes_are_off_unless_the_department_grants_them(tmp_path: Path) -> None:
    url = sqlite_file_url(str(tmp_path / "legacy.db"))
    source = adapter(url, "establishment", writes=False)
    assert Capability.WRITE not in source.capabilities
    assert Capability.WRITE in adapter(url, "establishment").capabilities
    change = Change("a", 1, "establishment", "quota", ChangeOp.INSERT, {"unit_local_id": "X", "quota_type": "XZ", "approved": 1})
    with pytest.raises(ChangeRejected):
        asyncio.run(source.apply([change]))


BAD_WRITABLE = """
department: example
title: 示例 / Example
entities:
  payroll_change:
    table: GZ_YD
    join: {table: GZ_RY, match: {RYBM: RYBM}}
    write: {ids: {change_id: "YD#########"}}
    columns:
      change_id: YDID
      payee_code: GZ_RY.RYBM
      kind: YDLX
      document: YDLX
"""


def test_a_writable_mapping_that_cannot_be_inverted_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "example.yaml"
    path.write_text(BAD_WRITABLE, encoding="utf-8")
    with pytest.raises(MappingError) as refused:
        load_mapping(path)
    message = refused.value.message
    assert "payroll_change.payee_code" in message  # a required field only a join reaches cannot be inserted
    assert "write one column YDLX" in message  # two fields, one column
    assert "不可逆" in message and "cannot be written back" in message
    path.write_text(BAD_WRITABLE.replace("write: {ids: {change_id: \"YD#########\"}}", "write: {ids: {kind: R1}}")
                    .replace("GZ_RY.RYBM", "RYBM").replace("document: YDLX", "document: PZWH"), encoding="utf-8")
    with pytest.raises(MappingError, match="id template"):
        load_mapping(path)


def test_generated_ids_are_derived_from_the_change() -> None:
    assert derived("R9########", "app-1", 1) == derived("R9########", "app-1", 1)
    assert derived("R9########", "app-1", 1) != derived("R9########", "app-1", 2)
    assert len(derived("uuid", "app-1", 1)) == 36
    assert derived("YD9#########", "x", 7).startswith("YD9") and len(derived("YD9#########", "x", 7)) == 12
