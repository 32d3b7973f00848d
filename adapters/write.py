"""Write-back: a department's mapping run backwards, changes (hub.core.changes) into its legacy tables.

An entity the mapping marks `write` takes INSERT and UPDATE changes. Each canonical value goes back
through the column's inverted value map (the first legacy spelling listed for it) or its converter's
`store` (adapters/convert.py); joined columns are never written; an UPDATE's `key` becomes a WHERE
on the legacy columns, with every legacy spelling of a key value (an ID number's 15-digit form …).
An inserted row that does not carry a generated id field gets the one its mapping's template derives
from (application_id, seq) (`derived`), so the hub knows it without reading the row back; the hub's
completions put checked, reserved ids into their changes (hub/workflow/generated.py).

Each change is applied at most once per department database: the adapter keeps a ledger table there,
`HUB_CHANGE_LEDGER(APPLICATION_ID, SEQ, APPLIED_AT)` (created if missing), and writes the changes'
ledger rows, first (on PostgreSQL and SQLite in one statement), in the same transaction as their
legacy rows. A change already in the ledger is skipped; two deliverers racing on one change: the
second waits for the first's ledger row and skips.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.convert import CONVERTERS, KEY_VARIANTS
from adapters.mapping import ColumnSpec, EntitySpec
from adapters.mapping import Mapping as MappingFile
from hub.core.changes import Change, ChangeOp
from hub.core.db import conflict_insert
from hub.core.errors import HubError

LEDGER_NAME = "HUB_CHANGE_LEDGER"
_LEDGER_METADATA = sa.MetaData()
LEDGER = sa.Table(
    LEDGER_NAME, _LEDGER_METADATA,
    sa.Column("APPLICATION_ID", sa.String(64), primary_key=True),
    sa.Column("SEQ", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("APPLIED_AT", sa.DateTime, nullable=False),  # UTC
    mysql_charset="utf8mb4",
)
_KINDS: dict[str, Callable[[], sa.types.TypeEngine[Any]]] = {"text": sa.String, "int": sa.BigInteger, "date": sa.Date}
_UUIDS = uuid.UUID("6f1d3c52-8c2e-5a57-9c53-2f4f0c1e7a01")  # the namespace of generated UUIDs


class ChangeRejected(HubError):
    """A change the department's database cannot take as it is (a value with no legacy spelling, no row to update …)."""

    code = "CHANGE_REJECTED"


def derived(template: str, application_id: str, seq: int, salt: int = 0) -> str:
    """The id an id template gives a change: each '#' a digit of a hash of (application_id, seq); 'uuid' a UUID5.

    `salt` > 0 gives the change's further candidates, taken when the first is in use (hub/workflow/generated.py)."""
    name = f"{application_id}/{seq}" if not salt else f"{application_id}/{seq}/{salt}"
    if template == "uuid":
        return str(uuid.uuid5(_UUIDS, name))
    width = template.count("#")
    digits = str(int.from_bytes(hashlib.sha256(name.encode()).digest(), "big") % 10**width).zfill(width)
    filled = iter(digits)
    return "".join(next(filled) if ch == "#" else ch for ch in template)


@dataclass(frozen=True, slots=True)
class _Column:
    """One writable field: its legacy column and canonical value -> the value written."""

    name: str
    store: Callable[[Any], Any]
    keys: Callable[[Any], list[Any]]  # canonical key value -> the legacy spellings a WHERE matches


@dataclass(frozen=True, slots=True)
class EntityWriter:
    """A writable entity compiled once: its table with typed columns, field -> column, generated ids."""

    entity: str
    table: sa.TableClause
    columns: dict[str, _Column]
    ids: dict[str, str]
    joined: frozenset[str]  # mapped fields read through the join: in a change, ignored

    def statement(self, change: Change) -> sa.Executable | None:
        """The INSERT or UPDATE of one change (ChangeRejected for values the table cannot take); None for an UPDATE
        of fields read through the join only (they follow the joined row, which its own entity's change moves)."""
        if change.op is ChangeOp.INSERT:
            values = {**self.generated(change), **change.values}
            return sa.insert(self.table).values(self._row(values))
        if not change.key:
            raise ChangeRejected(f"{self.entity}: 更新须有条件 / an UPDATE needs a key")
        where = [self._match(field, value) for field, value in change.key.items()]
        if change.values and self.joined.issuperset(change.values):
            return None
        return sa.update(self.table).where(*where).values(self._row(change.values))

    def generated(self, change: Change) -> dict[str, str]:
        """The generated ids of an inserted row (those the change does not carry), first candidates."""
        return {f: derived(t, change.application_id, change.seq) for f, t in self.templates(change).items()}

    def templates(self, change: Change) -> dict[str, str]:
        """field -> id template of the ids an inserted row gets generated (those the change does not carry)."""
        return {f: t for f, t in self.ids.items() if f not in change.values}

    def _row(self, values: Mapping[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for field, value in values.items():
            if field in self.joined:
                continue
            column = self._column(field)
            try:
                row[column.name] = column.store(value)
            except (KeyError, ValueError, TypeError) as exc:
                raise ChangeRejected(f"{self.entity}.{field} 的值 {value!r} 无法写入 / {self.entity}.{field}: value "
                                     f"{value!r} has no legacy form ({type(exc).__name__})") from None
        if not row:
            raise ChangeRejected(f"{self.entity}: 变更没有可写的值 / the change has no value to write")
        return row

    def _match(self, field: str, value: Any) -> sa.ColumnElement[bool]:
        column = self._column(field)
        col = self.table.c[column.name]
        if value is None:
            return col.is_(None)
        spellings = column.keys(value)
        if not spellings:
            raise ChangeRejected(f"{self.entity}.{field} 的条件 {value!r} 无对应代码 / key {value!r} has no legacy spelling")
        return col == spellings[0] if len(spellings) == 1 else col.in_(spellings)

    def _column(self, field: str) -> _Column:
        found = self.columns.get(field)
        if found is None:
            raise ChangeRejected(f"{self.entity}.{field} 不可写 / {self.entity}.{field} is not a writable field")
        return found


def _inverse(spec: ColumnSpec) -> tuple[Callable[[Any], Any], Callable[[Any], list[Any]], str]:
    """(store, key spellings, column kind) of one column."""
    if spec.values is not None:
        spellings: dict[Any, list[str]] = {}
        for raw, canonical in spec.values.items():
            spellings.setdefault(canonical, []).append(raw)
        # by the value and its type: True == 1 in a dict, but they are different codes
        typed = {(type(c), c): raws for c, raws in spellings.items()}

        def store(value: Any) -> Any:
            return None if value is None else typed[(type(value), value)][0]

        return store, lambda value: typed.get((type(value), value), []), "text"
    converter = CONVERTERS[spec.convert]
    assert converter.store is not None  # checked when the mapping was loaded (adapters.mapping.write_problems)
    write = converter.store

    def stored(value: Any) -> Any:
        return None if value is None else write(value)

    if spec.normalize in KEY_VARIANTS:
        return stored, KEY_VARIANTS[spec.normalize], converter.kind
    return stored, lambda value: [write(value)], converter.kind


def compile_writer(entity: str, spec: EntitySpec) -> EntityWriter:
    """The writer of one writable entity."""
    columns: dict[str, _Column] = {}
    typed: dict[str, sa.ColumnClause[Any]] = {}
    for field, col in spec.writable_fields().items():
        store, keys, kind = _inverse(col)
        columns[field] = _Column(col.name, store, keys)
        typed[col.name] = sa.column(col.name, _KINDS[kind]())
    table = sa.table(spec.table, *typed.values())
    joined = frozenset(spec.columns) - frozenset(columns)
    return EntityWriter(entity, table, columns, dict(spec.write.ids) if spec.write else {}, joined)


def writers(mapping: MappingFile) -> dict[str, EntityWriter]:
    """The writers of a mapping's writable entities."""
    return {name: compile_writer(name, spec) for name, spec in mapping.entities.items() if spec.write is not None}


_COMPILED: dict[int, tuple[EntitySpec, EntityWriter]] = {}  # id(spec) -> (spec, its writer): compiled once


def id_templates(mapping: MappingFile, change: Change) -> dict[str, str]:
    """field -> template of the ids an INSERT change's row gets from its mapping (the fields it does not carry)."""
    spec = mapping.entities.get(change.entity)
    if spec is None or spec.write is None or change.op is not ChangeOp.INSERT:
        return {}
    known = _COMPILED.get(id(spec))
    if known is None or known[0] is not spec:  # the spec held in the entry keeps its id from being reused
        known = _COMPILED[id(spec)] = (spec, compile_writer(change.entity, spec))
    return known[1].templates(change)


def generated_ids(mapping: MappingFile, change: Change) -> dict[str, str]:
    """The first-candidate ids an INSERT change's row gets from its mapping's templates (the fields it does not
    carry); the hub checks and reserves them, moving on to further candidates (hub/workflow/generated.py)."""
    return {f: derived(t, change.application_id, change.seq) for f, t in id_templates(mapping, change).items()}


def _claim(dialect: str, application_id: str, seq: int) -> sa.Executable:
    """INSERT of a change's ledger row that does nothing when the row is there (rowcount 0)."""
    row = _ledger_row(application_id, seq)
    if dialect in ("mysql", "mariadb"):
        return sa.insert(LEDGER).values(row).prefix_with("IGNORE")
    exists = sa.select(sa.literal(1)).where(LEDGER.c["APPLICATION_ID"] == application_id, LEDGER.c["SEQ"] == seq)
    source = sa.select(*(sa.literal(v) for v in row.values())).where(~exists.exists())
    return sa.insert(LEDGER).from_select(list(row), source)


def _ledger_row(application_id: str, seq: int) -> dict[str, Any]:
    return {"APPLICATION_ID": application_id, "SEQ": seq, "APPLIED_AT": dt.datetime.now(dt.UTC).replace(tzinfo=None)}


async def _claimed(conn: AsyncConnection, changes: Sequence[Change]) -> set[tuple[str, int]]:
    """Insert the changes' ledger rows that are not there yet: (application id, seq) of those inserted.

    PostgreSQL and SQLite claim them all in one statement (the rows already there are skipped and not
    returned; a concurrent deliverer's uncommitted row is waited for); elsewhere one statement a change."""
    insert = conflict_insert(conn.dialect.name)  # INSERT … ON CONFLICT DO NOTHING RETURNING
    if insert is not None:
        claim = insert(LEDGER).on_conflict_do_nothing().returning(LEDGER.c["APPLICATION_ID"], LEDGER.c["SEQ"])
        rows = await conn.execute(claim, [_ledger_row(c.application_id, c.seq) for c in changes])
        return {(r[0], r[1]) for r in rows}
    claimed = set()
    for change in changes:
        if (await conn.execute(_claim(conn.dialect.name, change.application_id, change.seq))).rowcount == 1:
            claimed.add((change.application_id, change.seq))
    return claimed


async def ensure_ledger(conn: AsyncConnection) -> None:
    """Create the ledger table if the database does not have it (another process creating it at the same time is fine)."""
    try:
        await conn.run_sync(_LEDGER_METADATA.create_all, checkfirst=True)
        await conn.commit()
    except sa.exc.DBAPIError:
        await conn.rollback()
        if not await conn.run_sync(lambda sync: sa.inspect(sync).has_table(LEDGER_NAME)):
            raise
        await conn.commit()


async def apply(conn: AsyncConnection, plans: Sequence[tuple[Change, sa.Executable | None]]) -> int:
    """Run each change not yet in the ledger (its ledger row written first) in the caller's transaction;
    returns how many were applied (a change with nothing of its own to write is recorded and counts).
    An UPDATE that matches no row is rejected."""
    if not plans:
        return 0
    claimed = await _claimed(conn, [change for change, _ in plans])
    applied = 0
    for change, statement in plans:
        if (change.application_id, change.seq) not in claimed:
            continue  # applied before (or by another deliverer that got there first), or listed twice
        claimed.discard((change.application_id, change.seq))
        if statement is None:
            applied += 1
            continue
        result = await conn.execute(statement)
        if change.op is ChangeOp.UPDATE and result.rowcount == 0:
            raise ChangeRejected(f"{change.entity}: 没有符合条件 {dict(change.key)} 的记录 / no row matches the key "
                                 f"(application {change.application_id}, change {change.seq})")
        applied += 1
    return applied
