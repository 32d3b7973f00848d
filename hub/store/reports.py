"""Saved reports in the hub store: a named GraphQL document with its variables (schema/reports.py runs them)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hub.core.errors import BadUserInput
from hub.store.db import Store, aware, utcnow
from hub.store.tables import saved_reports as reports

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


@dataclass(frozen=True, slots=True)
class SavedReport:
    """A saved report: its name, document, default variables, description, owner and times."""

    name: str
    document: str
    variables: dict[str, Any]
    description: str
    owner_department: str | None
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime


def check_name(name: str) -> str:
    """A report name as given (letters, digits, `_`, `-`; at most 64; it is part of the export URL), or BAD_USER_INPUT."""
    if not NAME.fullmatch(name or ""):
        raise BadUserInput(f"报表名只能含字母、数字、_、-（至多64个） / a report name is letters, digits, _ and - (at most 64): {name!r}",
                           field="name")
    return name


def _of(row: Any) -> SavedReport:
    values = dict(row._mapping)
    values["created_at"], values["updated_at"] = aware(values["created_at"]), aware(values["updated_at"])
    return SavedReport(**values)


async def get(store: Store, name: str) -> SavedReport | None:
    """The report of that name, if saved."""
    async with store.begin() as conn:
        row = (await conn.execute(sa.select(reports).where(reports.c.name == name))).first()
    return _of(row) if row is not None else None


async def listing(store: Store) -> list[SavedReport]:
    """Every saved report, by name."""
    async with store.begin() as conn:
        return [_of(r) for r in await conn.execute(sa.select(reports).order_by(reports.c.name))]


async def put(store: Store, name: str, document: str, variables: dict[str, Any], description: str,
              owner_department: str | None, actor: str) -> SavedReport:
    """Save a report, replacing one of the same name (its creator and creation time kept)."""
    now = utcnow()
    async with store.begin() as conn:
        found = (await conn.execute(sa.select(reports.c.name).where(reports.c.name == name))).first()
        values = {"document": document, "variables": variables, "description": description,
                  "owner_department": owner_department, "updated_at": now}
        if found is None:
            await conn.execute(sa.insert(reports).values(name=name, created_by=actor[:128], created_at=now, **values))
        else:
            await conn.execute(sa.update(reports).where(reports.c.name == name).values(**values))
    saved = await get(store, name)
    assert saved is not None
    return saved


async def delete(store: Store, name: str) -> bool:
    """Remove a report; whether there was one."""
    async with store.begin() as conn:
        return bool((await conn.execute(sa.delete(reports).where(reports.c.name == name))).rowcount)
