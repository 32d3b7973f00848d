"""Named loaders (resolvers/loaders.py): the filter is part of the name, keys are typed, a batch is one statement;
and nothing executes without a request context (resolvers/context.py)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from graphql import execute, parse

from adapters.registry import Sources, build_sources
from hub.core.codes import SlotStatus
from hub.core.errors import MappingError
from hub.core.records import RECORDS
from policies.scope import RowScope
from resolvers import loaders as named_loaders
from resolvers.context import NoContext, required
from resolvers.loaders import (
    ActiveSlotsByUnit,
    CurrentAppointmentsByUnit,
    Loaders,
    Named,
    SlotsByPerson,
    SlotsByUnit,
    UnitCode,
    UnitsByCode,
)
from schema import build_schema
from schema.execution import Execution, PreparedDocuments
from tests.conftest import hub_settings, request_context

DECLARED = [v for v in vars(named_loaders).values() if isinstance(v, Named)]


@pytest.fixture
async def sources(demo_dir: Path) -> AsyncIterator[Sources]:
    built = build_sources(hub_settings(demo_dir))
    yield built
    await built.close()


def statements(sources: Sources) -> int:
    return sum(adapter.statements for _, adapter in sources.items())


async def unit_codes(sources: Sources, n: int) -> list[UnitCode]:
    """Unit codes of the registry that hold slots, active and not."""
    department = sources.holder("registry_slot")
    slots = await sources[department].scan("registry_slot", order_by="slot_id", limit=2000)
    left = {s.unit_local_id for s in slots if s.status == SlotStatus.LEFT}
    return [UnitCode(c) for c in sorted(left)[:n]]


def test_every_declaration_names_its_entity_key_field_and_filter_fields() -> None:
    """Each loader's record type is an entity's, its key field and filter fields are fields of it, and names are unique."""
    assert len(DECLARED) >= 10 and len({n.name for n in DECLARED}) == len(DECLARED)
    for named in DECLARED:
        assert RECORDS[named.entity] is named.record, named
        fields = {f.name for f in dataclasses.fields(named.record)}
        assert named.field in fields, named
        assert set(named.where or {}) <= fields, named
        assert named is getattr(named_loaders, named.name)  # declared under its own name


async def test_two_filters_over_one_entity_and_key_never_share_a_batch(sources: Sources) -> None:
    codes = await unit_codes(sources, 20)
    assert codes
    loaders = Loaders(sources, RowScope("152900", {}))
    before = statements(sources)
    active, every = await asyncio.gather(loaders.load(ActiveSlotsByUnit, codes), loaders.load(SlotsByUnit, codes))
    assert statements(sources) - before == 2  # one statement each, in the same tick
    assert loaders.of(ActiveSlotsByUnit) is not loaders.of(SlotsByUnit)
    assert sum(map(len, active)) < sum(map(len, every))  # the units were chosen for slots left
    for held, all_slots in zip(active, every, strict=True):
        assert {s.slot_id for s in held} <= {s.slot_id for s in all_slots}
        assert all(s.status in (SlotStatus.ACTIVE, SlotStatus.SECONDED) and s.left_on is None for s in held)


async def test_loads_of_one_tick_are_one_statement_and_the_same_loader(sources: Sources) -> None:
    codes = await unit_codes(sources, 30)
    loaders = Loaders(sources, RowScope("152900", {}))
    assert loaders.of(ActiveSlotsByUnit) is loaders.of(ActiveSlotsByUnit)  # every caller shares the name's batch
    before = statements(sources)
    one_by_one = await asyncio.gather(*(loaders.load(ActiveSlotsByUnit, [c]) for c in codes))
    assert statements(sources) - before == 1
    assert [found[0] for found in one_by_one] == await loaders.load(ActiveSlotsByUnit, codes)  # cached: same answers
    assert statements(sources) - before == 1


async def test_a_key_whose_batch_is_being_read_is_waited_for_not_read_again(sources: Sources) -> None:
    """Calls of different ticks asking for a key while its batch is read share that batch: one statement in all."""
    codes = await unit_codes(sources, 10)
    loaders = Loaders(sources, RowScope("152900", {}))
    before = statements(sources)
    first = asyncio.ensure_future(loaders.load(ActiveSlotsByUnit, codes))
    await asyncio.sleep(0)  # the first call's batch is dispatched, not answered yet
    assert loaders.of(ActiveSlotsByUnit)._reading
    second = await loaders.load(ActiveSlotsByUnit, list(reversed(codes[:5])))
    assert statements(sources) - before == 1
    assert second == list(reversed((await first)[:5]))
    assert not loaders.of(ActiveSlotsByUnit)._reading


async def test_a_failed_batch_fails_its_waiters_and_is_asked_again(sources: Sources, monkeypatch: pytest.MonkeyPatch) -> None:
    codes = await unit_codes(sources, 4)
    loaders = Loaders(sources, RowScope("152900", {}))
    loader = loaders.of(ActiveSlotsByUnit)
    original = type(loader).read_keys
    calls = []

    async def down_once(self: Any, keys: Any) -> Any:
        calls.append(list(keys))
        if len(calls) == 1:
            await asyncio.sleep(0.01)
            raise RuntimeError("source down")
        return await original(self, keys)

    monkeypatch.setattr(type(loader), "read_keys", down_once)
    first = asyncio.ensure_future(loaders.load(ActiveSlotsByUnit, codes))
    await asyncio.sleep(0)
    waiting = asyncio.ensure_future(loaders.load(ActiveSlotsByUnit, codes[:2]))
    for call in (first, waiting):
        with pytest.raises(RuntimeError, match="source down"):
            await call
    assert len(calls) == 1 and not loader._reading  # the waiter shared the failed batch
    assert len(await loaders.load(ActiveSlotsByUnit, codes)) == len(codes) and len(calls) == 2


async def test_keys_are_typed(sources: Sources) -> None:
    """A key that is not a string is a bug: refused before any statement (not answered as a record that does not exist)."""
    loaders = Loaders(sources, RowScope("152900", {}))
    before = statements(sources)
    for bad in (None, 152921, b"152921"):
        with pytest.raises(TypeError, match="SlotsByPerson"):
            await loaders.load(SlotsByPerson, ["152921198503150021", bad])  # type: ignore[list-item]
    assert statements(sources) == before


async def test_the_source_is_the_entity_holder_and_units_name_their_department(sources: Sources) -> None:
    loaders = Loaders(sources, RowScope("152900", {}))
    assert loaders.of(CurrentAppointmentsByUnit).adapter is sources[sources.holder("appointment")]
    with pytest.raises(MappingError):  # every department keeps units: which one must be said
        loaders.of(UnitsByCode)
    for department in sources:
        assert loaders.of(UnitsByCode, department).adapter is sources[department]


async def test_the_row_scope_narrows_a_named_loader(sources: Sources, demo_dir: Path) -> None:
    codes = await unit_codes(sources, 20)
    department = sources.holder("registry_slot")
    inside = set(codes[: len(codes) // 2])
    scoped = Loaders(sources, RowScope("152921", {department: inside}))
    found = await scoped.load(SlotsByUnit, codes)
    assert all(bool(slots) <= (code in inside) for code, slots in zip(codes, found, strict=True))
    assert any(found)


def test_without_a_request_context_nothing_executes(demo_dir: Path) -> None:
    """A context that is not a HubContext, however much of one it has, is refused before any resolver runs."""
    schema = build_schema(hub_settings(demo_dir))
    field = schema._schema.query_type.fields["regions"]  # type: ignore[union-attr]
    called: list[Any] = []
    original, field.resolve = field.resolve, lambda *a, **k: called.append(a)
    try:
        real = request_context(hub_settings(demo_dir), build_sources(hub_settings(demo_dir)))
        fake = type("Fake", (), {name: getattr(real, name) for name in ("settings", "grants", "scope", "principal",
                                                                          "loaders", "batchers")})()
        for context in (None, {}, fake):
            with pytest.raises(NoContext):
                required(context)
            with pytest.raises(NoContext):  # the one way an operation is answered refuses it
                asyncio.run(Execution(schema, PreparedDocuments(1 << 20), max_depth=8).answer(context, "{ regions { code } }"))
            with pytest.raises(NoContext):
                execute(schema._schema, parse("{ regions { code } }"), context_value=context,
                        executor_class=schema.execution_context_class)  # type: ignore[arg-type]
        assert required(real) is real
    finally:
        field.resolve = original
    assert not called
