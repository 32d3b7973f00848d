"""Person data: one facet per department, resolved values with their source, retirement date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub import ids
from hub.codes import PersonnelCategory, PostCategory, QuotaType, Sex, SlotStatus
from hub.context import HubContext
from hub.errors import BadUserInput, HubError, SourceUnavailable
from hub.retirement import retirement_date, retirement_group

# Facets by department: (department, entity) of the records that describe a person by ID number.
FACETS: dict[str, tuple[str, str]] = {
    "registry": ("establishment", "registry_slot"),
    "personnel": ("hr", "personnel"),
    "cadre": ("organization", "cadre"),
    "payroll": ("finance", "payee"),
}
# The order in which sources are trusted for a person's resolved name, sex and birth date.
RESOLUTION_ORDER = ("registry", "personnel", "cadre", "payroll")


def parse_id_number(raw: str) -> str:
    """A lookup key from user input: normalized, and valid, or BAD_USER_INPUT (bilingual)."""
    key = ids.normalize_id_number(raw)
    problem = ids.id_number_problem(key) if key else "身份证号码不能为空 / ID number must not be empty"
    if problem:
        raise BadUserInput(f"{problem}: {raw!r}", field="idNumber")
    return key  # type: ignore[return-value]


async def facet(ctx: HubContext, name: str, id_number: str) -> list[Any]:
    """A person's records in one department (empty when it has none)."""
    department, entity = FACETS[name]
    return await ctx.loaders.by(department, entity, "id_number").load(id_number)  # type: ignore[no-any-return]


async def records(ctx: HubContext, department: str, entity: str, id_number: str) -> list[Any]:
    """A person's records of any entity a department keeps by ID number."""
    return await ctx.loaders.by(department, entity, "id_number").load(id_number)  # type: ignore[no-any-return]


def current_slot(slots: list[Any]) -> Any:
    """The slot that describes a person: the first active one, else the first."""
    active = [s for s in slots if s.status in (SlotStatus.ACTIVE, SlotStatus.SECONDED) and s.left_on is None]
    return (active or slots)[0] if slots else None


@dataclass(frozen=True, slots=True)
class Resolved:
    """A value agreed for the person and the facet it came from."""

    value: Any
    source: str


async def resolve(ctx: HubContext, id_number: str, pick: Callable[[Any], Any], slot: Any = None) -> Resolved | None:
    """The first non-null value over the facets in trust order; a source that is down is skipped.

    `slot` is the registry entry the person was reached through (a list of slots), used as the
    registry's view so that a person listed in two slots is described by the one listed.
    """
    first_error: HubError | None = None
    for name in RESOLUTION_ORDER:
        if name == "registry" and slot is not None:
            record = slot
        else:
            try:
                found = await facet(ctx, name, id_number)
            except SourceUnavailable as exc:
                first_error = first_error or exc
                continue
            record = current_slot(found) if name == "registry" else (found[0] if found else None)
        value = pick(record) if record is not None else None
        if value is not None:
            return Resolved(value, FACETS[name][0])
    if first_error is not None:
        raise first_error
    return None


def birth_from_id(id_number: str) -> dt.date | None:
    """The birth date an ID number carries, when it is valid."""
    return ids.id_birth_date(id_number) if ids.id_number_problem(id_number) is None else None


def sex_from_id(id_number: str) -> str | None:
    """The sex an ID number carries, when it is valid."""
    return (Sex.MALE if ids.id_sex(id_number) == "male" else Sex.FEMALE) if birth_from_id(id_number) else None


async def statutory_retirement(ctx: HubContext, id_number: str) -> dt.date | None:
    """The statutory retirement date (2025 progressive rule) from the ID's birth date and sex.

    A woman is in a worker post when her slot is GQ, her category is PI worker, or her post is a
    worker post (DOMAIN.md §6, R08).
    """
    birth = birth_from_id(id_number)
    if birth is None:
        return None
    male = ids.id_sex(id_number) == "male"
    worker = False
    if not male:
        slot = current_slot(await facet(ctx, "registry", id_number))
        person = await facet(ctx, "personnel", id_number)
        posts = await records(ctx, "hr", "post_assignment", id_number)
        worker = (
            (slot is not None and slot.quota_type == QuotaType.GQ)
            or any(p.category == PersonnelCategory.PI_WORKER for p in person)
            or any(p.category == PostCategory.WORKER and p.end_on is None for p in posts)
        )
    return retirement_date(birth, retirement_group("male" if male else "female", worker))
