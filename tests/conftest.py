"""Shared fixtures: a fresh database per test on PostgreSQL and MariaDB (dropped after)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from hub.db import sync_url

PG_ADMIN = os.environ.get("HUB_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
MARIADB_ADMIN = os.environ.get("HUB_TEST_MARIADB", "mysql+asyncmy://root@127.0.0.1:3306/test")

def _server_or_skip(admin_url: str) -> sa.Engine:
    engine = sa.create_engine(sync_url(admin_url), isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with engine.connect():
            pass
    except Exception as exc:  # any driver error means the server is not reachable
        engine.dispose()
        if os.environ.get("HUB_REQUIRE_SERVICES") == "1":
            pytest.fail(f"database server required but unreachable: {admin_url}: {exc}")
        pytest.skip(f"database server unreachable: {admin_url}")
    return engine


DatabaseFactory = Callable[[], str]


def _factory(admin_url: str, quote: str) -> Iterator[DatabaseFactory]:
    engine = _server_or_skip(admin_url)
    created: list[str] = []

    def make() -> str:
        name = f"hubtest_{uuid.uuid4().hex[:12]}"
        with engine.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE {quote}{name}{quote}"))
        created.append(name)
        return sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    yield make
    with engine.connect() as conn:
        for name in created:
            if quote == '"':
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            else:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
    engine.dispose()


@pytest.fixture
def pg_database() -> Iterator[DatabaseFactory]:
    """Call to create a fresh PostgreSQL database; returns its async URL. All are dropped after."""
    yield from _factory(PG_ADMIN, '"')


@pytest.fixture
def mariadb_database() -> Iterator[DatabaseFactory]:
    """Call to create a fresh MariaDB database; returns its async URL. All are dropped after."""
    yield from _factory(MARIADB_ADMIN, "`")
