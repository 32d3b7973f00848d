"""Shared fixtures: a fresh database per test on PostgreSQL and MariaDB (dropped after)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from hub.core.db import sync_url
from hub.core.settings import Settings

PG_ADMIN = os.environ.get("HUB_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
MARIADB_ADMIN = os.environ.get("HUB_TEST_MARIADB", "mysql+asyncmy://root@127.0.0.1:3306/test")

def unavailable(reason: str) -> NoReturn:
    """Skip the test for a missing service or tool, or fail it when HUB_REQUIRE_SERVICES=1 (CI)."""
    if os.environ.get("HUB_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required but unavailable: {reason}")
    pytest.skip(reason)


def _server_or_skip(admin_url: str) -> sa.Engine:
    engine = sa.create_engine(sync_url(admin_url), isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    try:
        with engine.connect():
            pass
    except Exception as exc:  # any driver error means the server is not reachable
        engine.dispose()
        unavailable(f"database server unreachable: {admin_url}: {exc}")
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


# --- demo data and a running hub -------------------------------------------------------------

DEPARTMENTS = ("establishment", "organization", "hr", "finance")


def generate_into(targets: dict[str, str], persons: int, seed: int, out: Path | None = None) -> dict[str, Any]:
    """Write the demo databases to the given URLs and return the manifest."""
    from hub.demo.generate import generate

    return generate(targets, persons=persons, seed=seed, manifest_path=out / "manifest.json" if out else None)


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo dataset in SQLite files, generated once per test session (seed 7, 400 persons)."""
    from hub.demo.generate import demo_targets

    out = tmp_path_factory.mktemp("demo")
    generate_into(demo_targets(out), persons=400, seed=7, out=out)  # the education bureau's too
    return out


def hub_settings(demo: Path, urls: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings for a hub over a demo directory (or explicit source URLs) with a test JWT secret."""
    sources = {d: {"url": u} for d, u in (urls or {}).items()}
    overrides.setdefault("store_url", f"sqlite+aiosqlite:///{demo}/hub-store.db")
    overrides.setdefault("audit_key", TEST_AUDIT_KEY)
    overrides.setdefault("store_auto_upgrade", True)  # a fresh store per test: migrated as the app starts
    return Settings(demo_dir=demo, source=sources, jwt_secret=TEST_SECRET, **overrides)


TEST_SECRET = "test-secret-of-sufficient-length-for-hs256"
TEST_AUDIT_KEY = "test-audit-key-of-sufficient-length-0123456789"


class Hub:
    """A running hub (Starlette TestClient with its lifespan) and helpers to query it."""

    def __init__(self, client: TestClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def token(self, role: str = "admin", department: str | None = None, region: str = "152900") -> str:
        """A bearer token for a role."""
        from hub.auth import create_token

        return create_token(self.settings, department, [role], region, "1h")

    def query(self, query: str, variables: dict[str, Any] | None = None, *, role: str = "admin",
              department: str | None = None, region: str = "152900") -> dict[str, Any]:
        """POST a GraphQL query as a role; returns the JSON body."""
        headers = {"Authorization": f"Bearer {self.token(role, department, region)}"}
        response = self.client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


def request_context(settings: Settings, sources: Any, *, subject: str = "test", roles: tuple[str, ...] = ("admin",),
                    region: str = "152900", store: Any = None, grants: Any = None, scope: Any = None) -> Any:
    """A request context made from parts, as HubState.context makes one (for tests that run no app).

    `grants` default to none at all; `scope` to the region with no units (the whole league's when it is 152900).
    """
    from hub.core.crosswalk import CrosswalkCache
    from hub.core.principal import Principal
    from policies.grants import Grants
    from policies.scope import RowScope
    from resolvers.context import HubContext
    from resolvers.loaders import Loaders

    scope = scope if scope is not None else RowScope(region, {})
    return HubContext(settings, sources, CrosswalkCache(sources), Principal(subject, None, roles, region),
                      grants if grants is not None else Grants(frozenset(roles), {}, frozenset()), scope,
                      Loaders(sources, scope), store=store)


@contextmanager
def running_hub(settings: Settings) -> Iterator[Hub]:
    """Start the hub app (lifespan included) over the given settings."""
    from hub.app import create_app

    with TestClient(create_app(settings)) as client:
        yield Hub(client, settings)


@pytest.fixture(scope="module")
def hub(demo_dir: Path) -> Iterator[Hub]:
    """A hub over the session's SQLite demo data."""
    with running_hub(hub_settings(demo_dir)) as running:
        yield running


@pytest.fixture(scope="session")
def manifest(demo_dir: Path) -> dict[str, Any]:
    """The planted-anomaly manifest of the session's demo data."""
    return json.loads((demo_dir / "manifest.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_hub(demo: Path, store_dir: Path, **env: str) -> Iterator[str]:
    """A real `hub serve` subprocess over a demo directory (more HUB_* settings in `env`); yields its base URL."""
    port = free_port()
    env = {**os.environ, "HUB_DEMO_DIR": str(demo), "HUB_PORT": str(port), "HUB_JWT_SECRET": TEST_SECRET,
           "HUB_AUDIT_KEY": TEST_AUDIT_KEY, "HUB_STORE_URL": f"sqlite+aiosqlite:///{store_dir}/store.db", **env}
    subprocess.run([str(Path(sys.executable).parent / "hub"), "db", "upgrade"], env=env, check=True, capture_output=True)
    server = subprocess.Popen([str(Path(sys.executable).parent / "hub"), "serve"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "hub serve did not start"
                time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def served(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `hub serve` subprocess over the demo data; yields its /graphql URL."""
    with serve_hub(demo_dir, tmp_path_factory.mktemp("served")) as base:
        yield f"{base}/graphql"
