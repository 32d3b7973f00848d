"""Checks a department's mapping against its live database: every entity readable, rows counted, its
adapter able to do what the hub asks of each entity (queries and the cross-check), and every mapped
column's conversion exact on a sample of its rows (adapters/sampling.py: a REAL into an int, a code
outside the list, a date that does not parse fail, naming the column with examples)."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.base import Adapter
from adapters.mapping import ColumnSpec
from adapters.registry import build_sources
from adapters.sampling import ColumnProblem, column_problems
from hub.core.errors import HubError
from hub.core.settings import Settings
from hub.supervision.engine import NEEDS as CHECK_NEEDS
from schema import NEEDS as QUERY_NEEDS

SAMPLE_ROWS = 2000  # rows sampled per entity for the conversion check


async def conversion_problems(adapter: Adapter, entity: str, specs: dict[str, ColumnSpec], sample: int = SAMPLE_ROWS
                              ) -> list[ColumnProblem]:
    """The lossy columns of an entity in a sample of its rows (sources that cannot sample raw rows: none)."""
    take = getattr(adapter, "sample", None)
    if take is None:
        return []
    fields, rows = await take(entity, sample)
    return column_problems(entity, specs, fields, rows)


@dataclass(frozen=True, slots=True)
class EntityCheck:
    """The outcome for one entity of one source."""

    department: str
    entity: str
    rows: int | None
    problem: str | None


async def check_sources(settings: Settings, sample: int = SAMPLE_ROWS) -> list[EntityCheck]:
    """Read one row, count the rows and sample the conversions of every mapped entity (canonical and
    custom) of every source; capabilities lacking."""
    sources = build_sources(settings)
    results = [EntityCheck(d, e, None, problem) for d, e, problem in sources.unmet([*QUERY_NEEDS, *CHECK_NEEDS])]
    try:
        for department, adapter in sources.items():
            for entity, (spec, _) in adapter.mapping.readable().items():
                try:
                    await adapter.scan(entity, order_by=next(iter(spec.columns)), limit=1)
                    rows = sum(r[-1] for r in await adapter.count(entity))
                    lossy = await conversion_problems(adapter, entity, spec.columns, sample)
                    results.append(EntityCheck(department, entity, rows, "；".join(p.message for p in lossy) or None))
                except HubError as exc:
                    cause = exc.__cause__
                    results.append(EntityCheck(department, entity, None, f"{exc.message} {cause or ''}".strip()))
    finally:
        await sources.close()
    return results
