"""Operations endpoints by class: every route's credentials under CORS, every source in the metrics."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.routing import Mount, Route

from adapters.registry import source_mappings
from tests.conftest import Hub, hub_settings, running_hub

ORIGIN = "https://console.example"
METRICS_TOKEN = "metrics-token-for-tests"
# Routes any client may read: liveness, readiness, the console's page and static files, and its demo
# sign-in list (404 outside the demo, tests/shell/test_console_app.py). Nothing else.
OPEN = {"/healthz", "/readyz", "/static", "/console", "/console/demo-users"}


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Iterator[Hub]:
    store = tmp_path_factory.mktemp("ops-security") / "hub.db"
    settings = hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{store}", cors_origins=ORIGIN,
                            metrics_token=METRICS_TOKEN)
    with running_hub(settings) as hub:
        yield hub


def routes(hub: Hub) -> list[tuple[str, set[str]]]:
    """Every route of the app and its methods (a mount: GET)."""
    found = []
    for route in hub.client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Route):
            found.append((route.path, set(route.methods or ()) - {"HEAD"}))
        elif isinstance(route, Mount):
            found.append((route.path, {"GET"}))
    return found


def test_every_route_but_the_open_ones_wants_credentials_even_from_an_allowed_origin(guarded: Hub) -> None:
    seen = set()
    for path, methods in routes(guarded):
        seen.add(path)
        for method in methods:
            response = guarded.client.request(method, path if path != "/static" else "/static/console.css",
                                              headers={"Origin": ORIGIN, "Accept": "application/json"},
                                              json={"query": "{ __typename }"} if method == "POST" else None)
            if path in OPEN:
                assert response.status_code != 401, (method, path)
            else:
                assert response.status_code == 401, (method, path, response.status_code)
                assert response.headers.get("access-control-allow-origin") == ORIGIN  # the browser may read why
    assert {"/graphql", "/metrics"} <= seen


def test_every_preflight_is_answered_without_credentials_and_only_for_allowed_origins(guarded: Hub) -> None:
    for path, methods in routes(guarded):
        for method in methods:
            ask = {"Access-Control-Request-Method": method, "Access-Control-Request-Headers": "authorization"}
            allowed = guarded.client.options(path, headers={"Origin": ORIGIN, **ask})
            assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == ORIGIN, (method, path)
            other = guarded.client.options(path, headers={"Origin": "https://elsewhere.example", **ask})
            assert "access-control-allow-origin" not in other.headers, (method, path)


def test_every_source_is_measured(guarded: Hub) -> None:
    response = guarded.client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    families = {f.name: {s.labels["source"] for s in f.samples} for f in text_string_to_metric_families(response.text)
                if f.name.startswith("hub_source_")}
    departments = set(source_mappings(guarded.settings))  # every source the hub builds
    assert families == {name: departments for name in ("hub_source_statements", "hub_source_rows", "hub_source_open")}
