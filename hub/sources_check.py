"""Checks a department's mapping against its live database: every entity readable, rows counted, and
its adapter able to do what the hub asks of each entity (queries and the cross-check)."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.registry import build_sources
from hub.core.errors import HubError
from hub.core.settings import Settings
from hub.supervision.engine import NEEDS as CHECK_NEEDS
from schema import NEEDS as QUERY_NEEDS


@dataclass(frozen=True, slots=True)
class EntityCheck:
    """The outcome for one entity of one source."""

    department: str
    entity: str
    rows: int | None
    problem: str | None


async def check_sources(settings: Settings) -> list[EntityCheck]:
    """Read one row and count the rows of every mapped entity of every source; capabilities lacking."""
    sources = build_sources(settings)
    results = [EntityCheck(d, e, None, problem) for d, e, problem in sources.unmet([*QUERY_NEEDS, *CHECK_NEEDS])]
    try:
        for department, adapter in sources.items():
            for entity in adapter.mapping.entities:
                try:
                    await adapter.scan(entity, order_by=next(iter(adapter.mapping.entities[entity].columns)), limit=1)
                    rows = sum(r[-1] for r in await adapter.count(entity))
                    results.append(EntityCheck(department, entity, rows, None))
                except HubError as exc:
                    cause = exc.__cause__
                    results.append(EntityCheck(department, entity, None, f"{exc.message} {cause or ''}".strip()))
    finally:
        await sources.close()
    return results
