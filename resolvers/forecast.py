"""The retirement forecast: who reaches statutory retirement in each of the next years, grouped, with the slots it frees.

People are the registry's active slots in the caller's row scope (optionally one region or
institution), read a keyset page at a time. A person holding several slots is counted once,
described by a GQ slot if any (a woman in a worker post), else the first; each of their slots is
a vacancy it opens. Birth date and sex come from `resolvers.people.birth_facts` (ID number, else
the departments' recorded values); a person neither gives is counted as not placed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hub.core.codes import QuotaType
from hub.core.errors import BadUserInput, HubError
from hub.core.records import RegistrySlot
from hub.core.retirement import RetirementGroup
from resolvers import people as persons
from resolvers.context import HubContext
from resolvers.institutions import InstitutionView, of_records
from resolvers.loaders import ACTIVE_SLOT
from resolvers.pages import scan

PAGE = 2000
MAX_YEARS = 30


class ForecastDimension(StrEnum):
    """What a forecast row can be grouped by (besides the year)."""

    REGION = "region"
    INSTITUTION = "institution"
    QUOTA_TYPE = "quota_type"
    CATEGORY = "category"  # the retirement group: men, women in cadre posts, women in worker posts
    SEX = "sex"
    EDUCATION = "education"
    ETHNIC_GROUP = "ethnic_group"


# What the forecast reads of the registry's slots (birth and sex only for the fallback).
SLOT_FIELDS = frozenset({"slot_id", "id_number", "unit_local_id", "quota_type", "education", "ethnic_group", "status", "left_on"})


@dataclass(slots=True)
class ForecastRow:
    """People reaching statutory retirement in one year with the same dimension values."""

    year: int
    keys: dict[ForecastDimension, Any]
    institution: InstitutionView | None
    people: list[persons.Listed] = field(default_factory=list)
    vacancies: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class Forecast:
    """The rows (by year, then dimension values), and how many people in scope could not be placed."""

    from_year: int
    years: int
    rows: list[ForecastRow]
    persons: int  # people in scope (active slots with an ID number)
    already_due: int  # retirement date before the first year, still holding a slot
    from_recorded: int  # placed from the departments' recorded values (invalid ID number)
    unplaced: int  # no birth date or sex anywhere
    undecided: int  # a source that could decide was down


def _describing(slots: Sequence[RegistrySlot]) -> RegistrySlot:
    return next((s for s in slots if s.quota_type == QuotaType.GQ), slots[0])


async def _active_slots(ctx: HubContext, region_code: str | None, institution_code: str | None) -> dict[str, list[RegistrySlot]]:
    """The active registry slots in scope (and the region or institution asked), by ID number, in slot order."""
    department = ctx.sources.base
    where: dict[str, Any] = dict(ACTIVE_SLOT)
    if region_code or institution_code:
        where["unit_local_id"] = await persons.unit_codes(ctx, department, region_code, institution_code)
    by_person: dict[str, list[RegistrySlot]] = defaultdict(list)
    after = None
    while True:
        slots, more = await scan(ctx, department, "registry_slot", "slot_id", where, PAGE, after)
        for slot in slots:
            if slot.id_number:
                by_person[slot.id_number].append(slot)
        if not more or not slots:
            return by_person
        after = slots[-1].slot_id


def _key_of(dimension: ForecastDimension, slot: RegistrySlot, facts: persons.BirthFacts, group: RetirementGroup,
            inst: InstitutionView | None) -> Any:
    if dimension is ForecastDimension.REGION:
        return inst.identity.region_code if inst else None
    if dimension is ForecastDimension.INSTITUTION:
        return inst.identity.code if inst else None
    if dimension is ForecastDimension.CATEGORY:
        return group
    if dimension is ForecastDimension.SEX:
        return facts.sex
    return getattr(slot, dimension.value)


async def forecast(ctx: HubContext, years: int, by: Sequence[ForecastDimension], from_year: int | None,
                   region_code: str | None = None, institution_code: str | None = None) -> Forecast:
    """Who reaches statutory retirement in each year `from_year` … `from_year + years - 1` (default: this year on)."""
    if not 1 <= years <= MAX_YEARS:
        raise BadUserInput(f"years 须在 1 到 {MAX_YEARS} 之间 / years must be 1 to {MAX_YEARS}: {years}", field="years")
    start = from_year if from_year is not None else dt.date.today().year
    if not 1950 <= start <= 2100:
        raise BadUserInput(f"fromYear 超出范围 / fromYear out of range: {start}", field="fromYear")
    held = await _active_slots(ctx, region_code, institution_code)
    listed = [persons.Listed(key, _describing(slots)) for key, slots in held.items()]
    facts = await persons.retirements(ctx, listed)
    insts = await of_records(ctx, "registry_slot", [p.slot for p in listed])
    dims = list(dict.fromkeys(by))
    rows: dict[tuple[Any, ...], ForecastRow] = {}
    due = recorded = unplaced = undecided = 0
    for person, inst, (fact, group, date) in zip(listed, insts, facts, strict=True):
        if fact.birth_source is not None:
            recorded += 1
        if isinstance(date, HubError):
            undecided += 1
            continue
        if date is None or group is None:
            unplaced += 1
            continue
        if date.year < start:
            due += 1
            continue
        if date.year >= start + years:
            continue
        keys = {d: _key_of(d, _describing(held[person.id_number]), fact, group, inst) for d in dims}
        row_key = (date.year, *keys.values())
        row = rows.get(row_key)
        if row is None:
            row = rows[row_key] = ForecastRow(date.year, keys, inst if ForecastDimension.INSTITUTION in keys else None)
        row.people.append(person)
        row.vacancies.update(s.quota_type or "" for s in held[person.id_number])
    ordered = sorted(rows.values(), key=lambda r: (r.year, *(("" if v is None else str(v)) for v in r.keys.values())))
    return Forecast(start, years, ordered, len(listed), due, recorded, unplaced, undecided)
