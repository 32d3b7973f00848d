"""Database URLs: one async URL per source; a synchronous twin for bulk loading and admin work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

_SYNC_DRIVERS = {
    "postgresql+asyncpg": "postgresql+psycopg",
    "mysql+asyncmy": "mysql+pymysql",
    "mariadb+asyncmy": "mariadb+pymysql",
    "sqlite+aiosqlite": "sqlite",
}
_ASYNC_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "postgresql+psycopg": "postgresql+asyncpg",
    "mysql": "mysql+asyncmy",
    "mysql+pymysql": "mysql+asyncmy",
    "mariadb": "mariadb+asyncmy",
    "mariadb+pymysql": "mariadb+asyncmy",
    "sqlite": "sqlite+aiosqlite",
}


def sync_url(url: str | sa.URL) -> sa.URL:
    """The same database with a synchronous driver (psycopg, pymysql, sqlite3)."""
    parsed = sa.make_url(url)
    return parsed.set(drivername=_SYNC_DRIVERS.get(parsed.drivername, parsed.drivername))


def async_url(url: str | sa.URL) -> sa.URL:
    """The same database with an asyncio driver (asyncpg, asyncmy, aiosqlite)."""
    parsed = sa.make_url(url)
    return parsed.set(drivername=_ASYNC_DRIVERS.get(parsed.drivername, parsed.drivername))


def sqlite_file_url(path: str) -> str:
    """The async URL of an SQLite file."""
    return f"sqlite+aiosqlite:///{path}"


_CONFLICT_INSERTS: dict[str, Callable[[sa.Table], Any]] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def conflict_insert(dialect: str) -> Callable[[sa.Table], Any] | None:
    """The dialect's INSERT construct that takes ON CONFLICT DO NOTHING / DO UPDATE (PostgreSQL, SQLite); None elsewhere."""
    return _CONFLICT_INSERTS.get(dialect)
