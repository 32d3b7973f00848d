"""Database URLs: one async URL per source; a synchronous twin for bulk loading and admin work."""

from __future__ import annotations

import sqlalchemy as sa

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
