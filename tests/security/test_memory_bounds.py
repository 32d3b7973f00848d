"""Memory is bounded whatever comes in: every cache has a byte bound and keeps digests, not texts;
every limit answers with its documented code, on every executor."""

from __future__ import annotations

import gc
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import execute, parse

from hub.core.caches import ENTRIES, BoundedCache, caches
from schema import build_schema
from schema.execution.executor import HubExecutor, ReferenceExecutor
from schema.execution.executor.limits import LimitedExecutor
from tests.conftest import Hub, hub_settings, request_context, running_hub

# Every cache the hub keeps across requests (a new one must be a BoundedCache, and be listed here).
EXPECTED = {"prepared documents", "role schemas", "verified tokens", "api key lookups", "trusted documents"}


@pytest.fixture(scope="module")
def hub(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    store = tmp_path_factory.mktemp("store") / "hub.db"
    settings = hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{store}", max_cost=5_000,
                            role_max_cost={"admin": 200_000}, max_answer_bytes=40_000)
    with running_hub(settings) as running:
        yield running


def _post(hub: Hub, body: Any, role: str = "admin", **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {hub.token(role)}"}
    return hub.client.post("/graphql", json=body, headers=headers, **kwargs)


def _live_strings(marker: str) -> set[str]:
    """Every live string containing `marker` that some container object refers to."""
    gc.collect()
    found: set[str] = set()
    for obj in gc.get_objects():
        for ref in gc.get_referents(obj):
            if ref.__class__ is str and marker in ref:
                found.add(ref)
    return found


def test_every_cache_is_bounded_in_entries_and_bytes(hub: Hub) -> None:
    for n in range(5):
        assert _post(hub, {"query": f"{{ a{n}: regions {{ code }} }}"}).status_code == 200
    live = caches()
    assert {c.name for c in live} >= EXPECTED, {c.name for c in live}
    for cache in live:
        assert isinstance(cache, BoundedCache)
        assert cache.entries > 0 and 0 <= cache.max_bytes == cache.maxsize  # 0: configured off (holds nothing)
        assert len(cache) <= cache.entries and cache.currsize <= cache.max_bytes
        assert all(not isinstance(part, str) or len(part) <= 64 for key in cache for part in (key if isinstance(key, tuple) else (key,))), cache.name


def test_no_query_text_or_key_outlives_the_cache_bounds(hub: Hub) -> None:
    """More distinct query texts than any cache keeps, and as many bad API keys and tokens: whatever keeps
    them anywhere in the process (a cache no one listed, say) keeps at most as many as a bounded cache."""
    marker = uuid.uuid4().hex
    sent = ENTRIES + 300
    token = {"Authorization": f"Bearer {hub.token()}"}
    for n in range(sent):
        response = hub.client.post("/graphql", json={"query": f"{{ m{marker}{n}: __typename }}"}, headers=token)
        assert response.status_code == 200
        key = f"shk_{n:012x}_{marker[:32]}"
        assert hub.client.post("/graphql", json={"query": "{ __typename }"}, headers={"X-API-Key": key}).status_code == 401
        bad = f"Bearer {marker}.{n}.x"
        assert hub.client.post("/graphql", json={"query": "{ __typename }"}, headers={"Authorization": bad}).status_code == 401
    live = _live_strings(marker[:32]) - {marker, marker[:32]}  # less this test's own
    of_queries = {s for s in live if re.search(f"m{marker}[0-9]+", s)}  # texts, and alias names in documents
    assert len({re.search(f"m{marker}([0-9]+)", s).group(1) for s in of_queries}) <= ENTRIES  # type: ignore[union-attr]
    assert not live - of_queries, sorted(live - of_queries)[:3]  # no API key, token or part of one is kept


def test_over_long_credentials_are_refused_at_once(hub: Hub) -> None:
    long = "x" * 60_000
    for headers in ({"X-API-Key": f"shk_{long}_{long}"}, {"Authorization": f"Bearer {long}"}):
        response = hub.client.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
        assert response.status_code == 401 and response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_body_over_the_limit_is_413_declared_or_streamed(hub: Hub) -> None:
    limit = hub.settings.max_body_bytes
    big = b'{"query": "{ __typename }", "pad": "' + b"x" * limit + b'"}'
    headers = {"Authorization": f"Bearer {hub.token()}", "content-type": "application/json"}

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 65536):
            yield big[start:start + 65536]

    for response in (hub.client.post("/graphql", content=big, headers=headers),
                     hub.client.post("/graphql", content=chunks(), headers=headers)):
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "limit": limit}
    assert hub.client.post("/graphql", content=big[: limit // 2], headers=headers).status_code == 400  # cut JSON


def test_a_query_over_the_length_limit_is_not_parsed(hub: Hub) -> None:
    limit = hub.settings.max_query_chars
    query = "{ __typename " + " " * limit + "}"
    for send in (lambda: _post(hub, {"query": query}),
                 lambda: hub.client.get("/graphql", params={"query": query}, headers={"Authorization": f"Bearer {hub.token()}"})):
        answer = send().json()
        assert answer["data"] is None and answer["errors"][0]["extensions"] == {"code": "QUERY_TOO_LARGE", "limit": limit}


ALIASES = "{ " + " ".join(f"a{i}: people(first: 1000) {{ edges {{ node {{ idNumber }} }} }}" for i in range(100)) + " }"


@pytest.mark.parametrize("send", ["post", "get"])
def test_the_cost_limit_is_per_role_and_before_execution(hub: Hub, send: str) -> None:
    """100 aliases of a 1,000-row page cost ~300,000; the analyst's limit (the default) refuses it, POST or GET."""
    if send == "get":
        response = hub.client.get("/graphql", params={"query": ALIASES},
                                  headers={"Authorization": f"Bearer {hub.token('analyst')}"})
    else:
        response = _post(hub, {"query": ALIASES}, role="analyst")
    answer = response.json()
    assert answer["data"] is None, answer
    error = answer["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX" and error["extensions"]["limit"] == 5_000
    assert f"{error['extensions']['cost']}" in error["message"] and "5000" in error["message"]


def test_a_role_override_raises_the_limit(hub: Hub) -> None:
    query = "{ people(first: 1000) { edges { node { idNumber name } } } }"  # cost 4,001 + …: over 5,000? no: 4,001
    heavy = "{ a: people(first: 1000) { edges { node { idNumber } } } b: people(first: 1000) { edges { node { idNumber } } } }"
    assert "errors" not in _post(hub, {"query": query}, role="analyst").json()
    assert _post(hub, {"query": heavy}, role="analyst").json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "errors" not in _post(hub, {"query": heavy}).json()  # admin: 200,000


def test_an_answer_over_the_size_limit_is_not_sent(hub: Hub) -> None:
    """The backstop behind the cost limit, for a document prepared afresh and for its repeats."""
    query = "{ people(first: 1000) { edges { node { idNumber name sex birthDate institution { code name } } } } }"
    for _ in range(3):
        response = _post(hub, {"query": query})
        assert len(response.content) < 1000
        assert response.json()["errors"][0]["extensions"] == {"code": "ANSWER_TOO_LARGE", "limit": 40_000}


def test_both_executors_share_the_limits(hub: Hub) -> None:
    """The hub's executor and the reference are both LimitedExecutors."""
    schema = build_schema()
    for executor in (HubExecutor, ReferenceExecutor):
        assert issubclass(executor, LimitedExecutor)

        state = hub.client.app_state["hub"]
        context = request_context(hub.settings, state.sources, roles=("analyst",), grants=state.policies.grants({"analyst"}))
        result = execute(schema._schema, parse(ALIASES), context_value=context, executor_class=executor)  # type: ignore[arg-type]
        assert result.data is None and result.errors and result.errors[0].extensions["code"] == "QUERY_TOO_COMPLEX"
