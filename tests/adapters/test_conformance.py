"""The adapter conformance kit (adapters/conformance.py): the same checks against every mapping on every dialect.

Adapters are built as the hub builds them, from the class the mapping names (`adapter:`; `sql` or an
entry point of `staffing_hub.adapters`), and used only through the `Adapter` protocol, so another
adapter class with its mapping runs the same checks; `hub adapter test` runs them on any configured
source.

Each dialect gets the same generated data (the four departments and the education bureau, joined
by its mapping with custom entities, in one database); every entity of every mapping must then
pass every check of the kit, and a database that is not there is SOURCE_UNAVAILABLE.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import conformance
from adapters.base import Adapter, Latest
from adapters.mapping import default_mappings, load_mapping
from adapters.registry import adapter_class
from hub.demo.education import MAPPING as EDUCATION_MAPPING
from hub.demo.generate import demo_targets
from tests.conftest import DEPARTMENTS, MARIADB_ADMIN, PG_ADMIN, _factory, generate_into

MAPPINGS = {**default_mappings(), "education": load_mapping(EDUCATION_MAPPING)}
ALL = (*DEPARTMENTS, "education")
CASES = [(d, e, c) for d in ALL for e in MAPPINGS[d].readable() for c in conformance.ENTITY_CHECKS]


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb"])
def dialect_urls(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The five departments' URLs on one dialect, filled with the same data (seed 13, 300 persons)."""
    if request.param == "sqlite":
        out = tmp_path_factory.mktemp("conformance")
        urls = demo_targets(out)
        generate_into(urls, persons=300, seed=13)
        yield urls
        return
    admin, quote = (PG_ADMIN, '"') if request.param == "postgresql" else (MARIADB_ADMIN, "`")
    factories = _factory(admin, quote)
    make = next(factories)
    url = make()
    urls = dict.fromkeys(ALL, url)
    generate_into(urls, persons=300, seed=13)
    yield urls
    next(factories, None)


def adapter_for(urls: dict[str, str], department: str) -> Adapter:
    """The department's adapter, of the class its mapping names, as the hub builds it."""
    mapping = MAPPINGS[department]
    adapter: Adapter = adapter_class(mapping.adapter)(department, mapping, urls[department], connect_timeout=3.0)
    return adapter


@pytest.mark.parametrize(("department", "entity", "check"), CASES)
def test_every_entity_passes_every_check(dialect_urls: dict[str, str], department: str, entity: str, check: str) -> None:
    outcome = asyncio.run(conformance.run_check(lambda: adapter_for(dialect_urls, department), entity, check))
    assert outcome.passed is not False, outcome.detail


def test_the_kit_checks_what_it_says(dialect_urls: dict[str, str]) -> None:
    """Each check applies where the contract asks it: ID order on ID numbers, keyset pages on single keys, scope on units."""
    outcomes = {(o.entity, o.check): o for o in asyncio.run(conformance.run_kit(
        lambda: adapter_for(dialect_urls, "finance"), lambda: adapter_for({"finance": conformance.missing_url(Path("/nonexistent"))}, "finance")))}
    assert outcomes["payee", "id_order"].passed and outcomes["unit", "keyset"].passed and outcomes["pay_line", "scope"].passed
    assert outcomes["unit", "id_order"].passed is None and outcomes["*", "missing"].passed


def test_a_nonconforming_adapter_is_named(dialect_urls: dict[str, str]) -> None:
    class Sloppy:  # fetches one key per statement
        def __init__(self) -> None:
            self.inner = adapter_for(dialect_urls, "education")

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)

        async def fetch(self, entity: str, field: str, keys: list[object], *args: object, **kw: object) -> list[object]:
            return [r for k in keys for r in await self.inner.fetch(entity, field, [k], *args, **kw)]  # type: ignore[arg-type]

    outcome = asyncio.run(conformance.run_check(Sloppy, "enrolment", "fetch"))  # type: ignore[arg-type]
    assert outcome.passed is False and "statements" in outcome.detail


def test_the_sql_adapter_reads_only_the_newest_records(dialect_urls: dict[str, str]) -> None:
    """The SQL adapter picks each key's newest records in the database (a window function): a person's last
    2 pay months are 2 rows per spelling of the ID number, not every month."""
    async def check() -> tuple[int, int]:
        adapter = adapter_for(dialect_urls, "finance")
        try:
            ids = sorted({r.id_number for r in await conformance.everything(adapter, "payee") if r.id_number})[:20]
            whole = await adapter.fetch("pay_line", "id_number", ids)
            newest = await adapter.fetch("pay_line", "id_number", ids, latest=Latest("month", 2))
            return len(newest), len(whole)
        finally:
            await adapter.close()

    newest, whole = asyncio.run(check())
    assert 0 < newest <= 2 * 20 * 2 < whole


@pytest.mark.parametrize("department", ALL)
def test_a_missing_database_is_source_unavailable(tmp_path: Path, department: str) -> None:
    assert asyncio.run(conformance.missing(lambda: adapter_for({department: conformance.missing_url(tmp_path)}, department)))
