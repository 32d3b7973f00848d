"""Custom entities' data (a mapping's `custom:` section): each parent's records, one batch per level.

A custom entity joined to institutions is read by the department's own unit code of each
institution (the crosswalk's), one joined to people by ID number; both through one named loader
per entity and join, made from the declaration, so the caller's row scope applies as to every
other read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from resolvers.context import HubContext
from resolvers.institutions import InstitutionView, of_units
from resolvers.loaders import IdNumber, Named, UnitCode
from resolvers.people import each

Batch = Callable[[HubContext, Sequence[Any]], Awaitable[list[list[Any]]]]


def by_unit(type_name: str, record: type, field: str) -> Named[UnitCode, Any]:
    """The named loader of a custom entity's records by the department's unit code held in `field`."""
    return Named(f"{type_name}ByUnit", record, field, UnitCode)


def by_person(type_name: str, record: type, field: str) -> Named[IdNumber, Any]:
    """The named loader of a custom entity's records by the ID number held in `field`."""
    return Named(f"{type_name}ByPerson", record, field, IdNumber)


def of_institutions(named: Named[UnitCode, Any]) -> Callable[[HubContext, Sequence[InstitutionView]], Awaitable[list[list[Any]]]]:
    """A batch function: each institution's records (none where the department has no unit of it)."""

    async def batch(ctx: HubContext, insts: Sequence[InstitutionView]) -> list[list[Any]]:
        return [found or [] for found in await of_units(ctx, insts, named)]

    return batch


def of_people(named: Named[IdNumber, Any]) -> Batch:
    """A batch function: each person's records, by ID number."""
    return each(named)
