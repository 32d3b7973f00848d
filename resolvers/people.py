"""Person data, a level at a time: one facet per department, resolved values, retirement dates.

Functions take the people of one level of an answer (objects with `id_number` and, when reached
through a registry list, the listed `slot`) and return one value per person, in order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, Protocol

from hub.core import ids
from hub.core.codes import PersonnelCategory, PostCategory, QuotaType, Sex, SlotStatus
from hub.core.errors import BadUserInput, HubError
from hub.core.retirement import retirement_date, retirement_group
from resolvers.context import HubContext

# Facets by department: (department, entity) of the records that describe a person by ID number.
FACETS: dict[str, tuple[str, str]] = {
    "registry": ("establishment", "registry_slot"),
    "personnel": ("hr", "personnel"),
    "cadre": ("organization", "cadre"),
    "payroll": ("finance", "payee"),
}
# The order in which sources are trusted for a person's resolved name.
RESOLUTION_ORDER = ("registry", "personnel", "cadre", "payroll")


class PersonLike(Protocol):
    """What the functions here need of a person: the key and the slot it was listed through."""

    id_number: str
    slot: Any


def parse_id_number(raw: str) -> str:
    """A lookup key from user input: normalized, and valid, or BAD_USER_INPUT (bilingual)."""
    key = ids.normalize_id_number(raw)
    problem = ids.id_number_problem(key) if key else "身份证号码不能为空 / ID number must not be empty"
    if problem:
        raise BadUserInput(f"{problem}: {raw!r}", field="idNumber")
    return key  # type: ignore[return-value]


async def records(ctx: HubContext, department: str, entity: str, keys: Sequence[str]) -> list[list[Any]]:
    """Each person's records of an entity a department keeps by ID number (one batch)."""
    loader = ctx.loaders.by(department, entity, "id_number")
    return await loader.load_many(list(keys))  # type: ignore[no-any-return]


async def facets(ctx: HubContext, name: str, keys: Sequence[str]) -> list[list[Any]]:
    """Each person's records in one department's facet (empty lists where it has none)."""
    department, entity = FACETS[name]
    return await records(ctx, department, entity, keys)


# What current_slot reads, of the slots a person is looked up by (a listed person has its slot).
CURRENT_SLOT_READS = {"registry_slot@id_number": {"status", "left_on"}}


def current_slot(slots: Sequence[Any]) -> Any:
    """The slot that describes a person: the first active one, else the first."""
    active = [s for s in slots if s.status in (SlotStatus.ACTIVE, SlotStatus.SECONDED) and s.left_on is None]
    return (active or slots)[0] if slots else None


async def slots_of(ctx: HubContext, people: Sequence[PersonLike]) -> list[Any]:
    """Each person's describing registry slot: the listed one, else the current one (or None)."""
    unhinted = [p.id_number for p in people if p.slot is None]
    found = iter(await facets(ctx, "registry", unhinted)) if unhinted else iter(())
    return [p.slot if p.slot is not None else current_slot(next(found)) for p in people]


async def resolve(ctx: HubContext, people: Sequence[PersonLike], pick: Callable[[Any], Any]) -> tuple[list[Any], list[str | None]]:
    """Per person, the first non-null value over the facets in trust order, and the department it came from.

    A source that is down is skipped; a person left without a value while a source was down gets
    that source's error instead (the answer may be incomplete). The listed slot stands for the
    registry, so a person listed in two slots is described by the one listed.
    """
    values: list[Any] = [None] * len(people)
    sources: list[str | None] = [None] * len(people)
    errors: dict[int, HubError] = {}
    pending: Sequence[int] = range(len(people))
    for name in RESOLUTION_ORDER:
        if not pending:
            break
        department = FACETS[name][0]
        try:
            if name == "registry":
                describing = await slots_of(ctx, [people[i] for i in pending])
            else:
                describing = [f[0] if f else None for f in await facets(ctx, name, [people[i].id_number for i in pending])]
        except HubError as exc:
            errors.update((i, exc) for i in pending if i not in errors)
            continue
        still = []
        for i, record in zip(pending, describing, strict=True):
            value = None if record is None else pick(record)
            if value is None:
                still.append(i)
            else:
                values[i] = value
                sources[i] = department
        pending = still
    for i in pending:
        if i in errors:
            values[i] = errors[i]
    return values, sources


@lru_cache(maxsize=65536)
def id_facts(id_number: str) -> tuple[dt.date, str] | None:
    """(birth date, sex) carried by a valid ID number; None when it is not valid."""
    if ids.id_number_problem(id_number) is not None:
        return None
    birth = ids.id_birth_date(id_number)
    assert birth is not None
    return birth, Sex.MALE if ids.id_sex(id_number) == "male" else Sex.FEMALE


async def statutory_retirement(ctx: HubContext, people: Sequence[PersonLike]) -> list[dt.date | None | HubError]:
    """Each person's statutory retirement date (2025 progressive rule), from the ID's birth and sex.

    A woman is in a worker post when her slot is GQ, her category is PI worker, or her current
    post is a worker post (docs/retirement.md §Which group).
    """
    out: list[dt.date | None | HubError] = [None] * len(people)
    women = []
    for i, person in enumerate(people):
        facts = id_facts(person.id_number)
        if facts is None:
            continue
        if facts[1] == Sex.MALE:
            out[i] = retirement_date(facts[0], retirement_group("male", False))
        else:
            women.append(i)
    if women:
        subset = [people[i] for i in women]
        keys = [p.id_number for p in subset]
        try:
            slots, staff, posts = await asyncio.gather(
                slots_of(ctx, subset), facets(ctx, "personnel", keys), records(ctx, "hr", "post_assignment", keys)
            )
        except HubError as exc:
            for i in women:
                out[i] = exc
            return out
        for i, slot, person, held in zip(women, slots, staff, posts, strict=True):
            worker = (
                (slot is not None and slot.quota_type == QuotaType.GQ)
                or any(p.category == PersonnelCategory.PI_WORKER for p in person)
                or any(p.category == PostCategory.WORKER and p.end_on is None for p in held)
            )
            birth = id_facts(people[i].id_number)[0]  # type: ignore[index]
            out[i] = retirement_date(birth, retirement_group("female", worker))
    return out
