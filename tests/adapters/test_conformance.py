"""The adapter conformance kit: the same cases against every mapping on every dialect.

Adapters are built as the hub builds them, from the class the mapping names (`adapter:`; `sql` or an
entry point of `staffing_hub.adapters`), and used only through the `Adapter` protocol, so another
adapter class with its mapping runs the same cases.

Each dialect gets the same generated data (all four departments in one database); every entity of
every mapping must then: fetch exactly the records of the keys asked for, in one statement;
page through keyset scans with every row once and in order; stream every row, in normalized ID
order where the entity has ID numbers; count what it streams; apply a scope; and report a
database that is not there as SOURCE_UNAVAILABLE.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from adapters.base import Adapter, AnyOf, Latest
from adapters.mapping import default_mappings
from adapters.registry import adapter_class
from adapters.sqlexpr import canonical_order
from hub.core.errors import SourceUnavailable
from hub.demo.generate import sqlite_targets
from tests.conftest import DEPARTMENTS, MARIADB_ADMIN, PG_ADMIN, _factory, generate_into

MAPPINGS = default_mappings()
CASES = [(d, e) for d in DEPARTMENTS for e in MAPPINGS[d].entities]


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb"])
def dialect_urls(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The four departments' URLs on one dialect, filled with the same data (seed 13, 300 persons)."""
    if request.param == "sqlite":
        out = tmp_path_factory.mktemp("conformance")
        urls = sqlite_targets(out)
        generate_into(urls, persons=300, seed=13)
        yield urls
        return
    admin, quote = (PG_ADMIN, '"') if request.param == "postgresql" else (MARIADB_ADMIN, "`")
    factories = _factory(admin, quote)
    make = next(factories)
    url = make()
    urls = dict.fromkeys(DEPARTMENTS, url)
    generate_into(urls, persons=300, seed=13)
    yield urls
    next(factories, None)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _all(adapter: Adapter, entity: str, **kw: Any) -> list[Any]:
    try:
        return [r async for chunk in adapter.stream(entity, chunk_size=97, **kw) for r in chunk]
    finally:
        await adapter.close()


def adapter_for(urls: dict[str, str], department: str) -> Adapter:
    """The department's adapter, of the class its mapping names, as the hub builds it."""
    mapping = MAPPINGS[department]
    adapter: Adapter = adapter_class(mapping.adapter)(department, mapping, urls[department], connect_timeout=3.0)
    return adapter


@pytest.mark.parametrize(("department", "entity"), CASES)
def test_stream_count_and_fetch_agree(dialect_urls: dict[str, str], department: str, entity: str) -> None:
    spec = MAPPINGS[department].entities[entity]
    key = spec.scope or next(iter(spec.columns))

    async def check() -> None:
        adapter = adapter_for(dialect_urls, department)
        try:
            rows = [r async for chunk in adapter.stream(entity, chunk_size=97) for r in chunk]
            assert rows, f"{department}.{entity} has no rows in the demo data"
            assert sum(r[-1] for r in await adapter.count(entity)) == len(rows)
            wanted = sorted({getattr(r, key) for r in rows if getattr(r, key) is not None})[:5]
            before = adapter.statements
            fetched = await adapter.fetch(entity, key, wanted)
            assert adapter.statements == before + 1
            assert sorted(fetched, key=repr) == sorted((r for r in rows if getattr(r, key) in wanted), key=repr)
        finally:
            await adapter.close()

    run(check())


@pytest.mark.parametrize(("department", "entity"), CASES)
def test_a_projection_reads_only_its_fields_and_the_same_values(dialect_urls: dict[str, str], department: str, entity: str) -> None:
    spec = MAPPINGS[department].entities[entity]
    key = spec.scope or next(iter(spec.columns))
    order = set(spec.order) or set(spec.columns)
    wanted_field = next(f for f in reversed(spec.columns) if f != key)

    async def check() -> None:
        adapter = adapter_for(dialect_urls, department)
        try:
            rows = [r async for chunk in adapter.stream(entity, chunk_size=97) for r in chunk]
            keys = sorted({getattr(r, key) for r in rows if getattr(r, key) is not None})[:5]
            whole = await adapter.fetch(entity, key, keys)
            part = await adapter.fetch(entity, key, keys, fields=[wanted_field])
            read = {key, wanted_field} | order
            assert sorted((tuple(getattr(r, f) for f in sorted(read)) for r in part), key=repr) == sorted(
                (tuple(getattr(r, f) for f in sorted(read)) for r in whole), key=repr
            )
            for field in set(spec.columns) - read:  # not read: unset, so a reader fails loudly
                with pytest.raises(AttributeError):
                    getattr(part[0], field)
            page = await adapter.scan(entity, order_by=key, limit=3, fields=[])
            assert [getattr(r, key) for r in page] == sorted((getattr(r, key) for r in page), key=repr)
        finally:
            await adapter.close()

    run(check())


def _newest_by(department: str, entity: str) -> str | None:
    """The entity's first order field the database can order canonically (fetch(latest=...))."""
    spec = MAPPINGS[department].entities[entity]
    return next((f for f in spec.order if canonical_order(sa.column("x"), spec.columns[f].convert) is not None), None)


# By the scope field (a unit's records), and pay by ID number (a joined column, spelled several ways).
LATEST_CASES = [(d, e, MAPPINGS[d].entities[e].scope) for d, e in CASES if _newest_by(d, e) and MAPPINGS[d].entities[e].scope]
LATEST_CASES += [(d, e, "id_number") for d, e in CASES if e == "pay_line"]


@pytest.mark.parametrize(("department", "entity", "key"), LATEST_CASES)
def test_latest_reads_each_keys_newest_records(dialect_urls: dict[str, str], department: str, entity: str, key: str) -> None:
    """fetch(latest=Latest(by, 2)) returns, for every key, records holding the 2 greatest `by` values of
    its records (what picking from the whole fetch gives), from the same single statement."""
    by = _newest_by(department, entity)
    assert by is not None

    def top(records: list[Any]) -> dict[Any, list[Any]]:
        grouped: dict[Any, list[Any]] = {}
        for r in records:
            grouped.setdefault(getattr(r, key), []).append(getattr(r, by))
        return {k: sorted(v, key=lambda x: (x is not None, x), reverse=True)[:2] for k, v in grouped.items()}

    async def check() -> None:
        adapter = adapter_for(dialect_urls, department)
        try:
            rows = [r async for chunk in adapter.stream(entity, chunk_size=97) for r in chunk]
            counts: dict[Any, int] = {}
            for r in rows:
                counts[getattr(r, key)] = counts.get(getattr(r, key), 0) + 1
            keys = sorted((k for k, n in counts.items() if k is not None and n > 2), key=repr)[:6]
            keys += sorted((k for k, n in counts.items() if k is not None and n <= 2), key=repr)[:2]
            assert keys and counts[keys[0]] > 2, f"{department}.{entity}: no key with more than 2 records"
            whole = await adapter.fetch(entity, key, keys)
            before = adapter.statements
            newest = await adapter.fetch(entity, key, keys, latest=Latest(by, 2))
            assert adapter.statements == before + 1
            assert len(newest) < len(whole)
            assert set(map(repr, newest)) <= set(map(repr, whole))
            assert top(newest) == top(whole)
        finally:
            await adapter.close()

    run(check())


def _ints(spec: Any) -> list[str]:
    return [f for f, c in spec.columns.items() if c.convert == "int"]


@pytest.mark.parametrize(("department", "entity"), CASES)
def test_aggregate_agrees_with_the_stream(dialect_urls: dict[str, str], department: str, entity: str) -> None:
    """Grouped counts, sums, distinct counts and per-person counts, each in one statement, equal to the same
    figures counted over the streamed records (so every dialect gives the same answers)."""
    spec = MAPPINGS[department].entities[entity]
    group = [f for f in (spec.scope, next((f for f, c in spec.columns.items() if c.values), None)) if f]
    sums = _ints(spec)
    distinct = next(iter(spec.order), None)
    person = "id_number" if "id_number" in spec.columns else None

    async def check() -> None:
        adapter = adapter_for(dialect_urls, department)
        try:
            rows = [r async for chunk in adapter.stream(entity, chunk_size=97) for r in chunk]
            before = adapter.statements
            got = await adapter.aggregate(entity, group_by=group, sums=sums, distinct=distinct)
            assert adapter.statements == before + 1
            want: dict[tuple[Any, ...], list[Any]] = {}
            for r in rows:
                found = want.setdefault(tuple(getattr(r, f) for f in group), [0, set(), *([0] * len(sums))])
                found[0] += 1
                found[1].add(getattr(r, distinct) if distinct else None)
                for i, f in enumerate(sums):
                    found[2 + i] += getattr(r, f) or 0
            expected = {k: [v[0], len(v[1] - {None}) if distinct else v[0], *v[2:]] for k, v in want.items()}
            assert {tuple(g[:len(group)]): list(g[len(group):]) for g in got} == expected
            if person:
                order = adapter.order_key(entity)
                first: dict[str, Any] = {}
                for r in sorted((r for r in rows if r.id_number), key=order):
                    first.setdefault(r.id_number[:17], r)
                counted = await adapter.aggregate(entity, group_by=group, per_person=person)
                people: dict[tuple[Any, ...], int] = {}
                for r in first.values():
                    k = tuple(getattr(r, f) for f in group)
                    people[k] = people.get(k, 0) + 1
                assert {tuple(g[:len(group)]): g[len(group)] for g in counted} == people
        finally:
            await adapter.close()

    run(check())


@pytest.mark.parametrize(("department", "entity"), [(d, e) for d, e in CASES if "id_number" in MAPPINGS[d].entities[e].columns])
def test_streams_in_normalized_id_order(dialect_urls: dict[str, str], department: str, entity: str) -> None:
    rows = run(_all(adapter_for(dialect_urls, department), entity, order_by="id_number"))
    bodies = [r.id_number[:17] for r in rows if r.id_number]
    assert bodies == sorted(bodies)


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_keyset_pages_visit_every_unit_once_in_order(dialect_urls: dict[str, str], department: str) -> None:
    async def pages() -> list[str]:
        adapter = adapter_for(dialect_urls, department)
        seen: list[str] = []
        after = None
        try:
            while page := await adapter.scan("unit", order_by="local_id", after=after, limit=7):
                seen += [u.local_id for u in page]
                after = page[-1].local_id
        finally:
            await adapter.close()
        return seen

    seen = run(pages())
    everything = run(_all(adapter_for(dialect_urls, department), "unit"))
    assert seen == sorted(seen) and sorted(seen) == sorted(u.local_id for u in everything)


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_scope_limits_rows_to_the_named_units(dialect_urls: dict[str, str], department: str) -> None:
    units = run(_all(adapter_for(dialect_urls, department), "unit"))
    chosen = sorted(u.local_id for u in units)[:3]
    scope = {"*scope": AnyOf(({"local_id": chosen},))}
    scoped = run(_all(adapter_for(dialect_urls, department), "unit", where=scope))
    assert sorted(u.local_id for u in scoped) == chosen


@pytest.mark.parametrize("department", DEPARTMENTS)
def test_a_missing_database_is_source_unavailable(tmp_path: Path, department: str) -> None:
    adapter = adapter_for({department: f"sqlite+aiosqlite:///{tmp_path}/absent/x.db"}, department)
    with pytest.raises(SourceUnavailable) as caught:
        run(adapter.ping())
    assert caught.value.extensions == {"code": "SOURCE_UNAVAILABLE", "source": department}
    run(adapter.close())
