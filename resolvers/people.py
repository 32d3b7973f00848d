"""Person data, a level at a time: each department's records by ID number, resolved values, retirement dates.

Functions take the people of one level of an answer (objects with `id_number` and, when reached
through a registry list, the listed `slot`) and return one value per person, in order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter
from typing import Any, Protocol, TypeVar

from adapters.base import Contains
from hub.core import ids
from hub.core.codes import PersonnelCategory, PostCategory, QuotaType, Sex, SlotStatus
from hub.core.errors import HubError, SourceUnavailable
from hub.core.records import PayLine, RegistrySlot
from hub.core.retirement import RetirementGroup, retirement_date, retirement_group
from resolvers.context import HubContext
from resolvers.institutions import InstitutionView, of_records, of_units
from resolvers.loaders import (
    ACTIVE_SLOT,
    ActiveSlotsByUnit,
    CadresByPerson,
    IdNumber,
    Named,
    PayeeCode,
    PayeesByPerson,
    PayLinesByPayee,
    PersonnelByPerson,
    PostsByPerson,
    SlotsByPerson,
    SlotsByUnit,
    newest,
)
from resolvers.pages import Page, count, scan

R = TypeVar("R")

# The records that describe a person by ID number, in the order their values are trusted (registry first).
FACETS: tuple[Named[IdNumber, Any], ...] = (SlotsByPerson, PersonnelByPerson, CadresByPerson, PayeesByPerson)


class PersonLike(Protocol):
    """What the functions here need of a person: the key and the slot it was listed through."""

    id_number: str
    slot: Any


class Listed:
    """A person listed through a registry slot (`Person` objects of lists), described by that slot."""

    __slots__ = ("id_number", "slot")

    def __init__(self, id_number: str, slot: RegistrySlot | None) -> None:
        self.id_number = id_number
        self.slot = slot


def listed(slots: Sequence[RegistrySlot]) -> list[Listed]:
    """The people of registry slots that carry an ID number, each described by its slot."""
    return [Listed(s.id_number, s) for s in slots if s.id_number]


def _key(person: Any) -> IdNumber:
    return IdNumber(person.id_number)


def each(named: Named[Any, R], key: Callable[[Any], str | None] = attrgetter("id_number")
         ) -> Callable[[HubContext, Sequence[Any]], Awaitable[list[list[R]]]]:
    """A batch function: each parent's records of a named loader, by the parent's key (none without one)."""

    async def batch(ctx: HubContext, parents: Sequence[Any]) -> list[list[R]]:
        keys = [key(p) for p in parents]
        known = list(dict.fromkeys(k for k in keys if k))
        found = dict(zip(known, await ctx.loaders.load(named, known), strict=True))
        return [found[k] if k else [] for k in keys]

    return batch


def first(named: Named[IdNumber, R]) -> Callable[[HubContext, Sequence[Any]], Awaitable[list[R | None]]]:
    """A batch function: each person's first record of a named loader (None without one)."""
    every = each(named)

    async def batch(ctx: HubContext, people: Sequence[Any]) -> list[R | None]:
        return [f[0] if f else None for f in await every(ctx, people)]

    return batch


async def find(ctx: HubContext, id_number: str) -> IdNumber | None:
    """The ID number if any department knows it (or one that is down might); BAD_USER_INPUT if malformed."""
    key = IdNumber(ids.parse_id_number(id_number))
    unsure = False
    for facet in FACETS:  # most people are in the registry: usually one statement
        try:
            if (await ctx.loaders.load(facet, [key]))[0]:
                return key
        except SourceUnavailable:
            unsure = True
    return key if unsure else None


def current_slot(slots: Sequence[RegistrySlot]) -> RegistrySlot | None:
    """The slot that describes a person: the first active one, else the first."""
    active = [s for s in slots if s.status in (SlotStatus.ACTIVE, SlotStatus.SECONDED) and s.left_on is None]
    return (active or slots)[0] if slots else None


CURRENT_SLOT_READS = {SlotsByPerson: {"status", "left_on"}}  # what current_slot reads of the slots it chooses from


async def slots_of(ctx: HubContext, people: Sequence[PersonLike]) -> list[RegistrySlot | None]:
    """Each person's describing registry slot: the listed one, else the current one (or None)."""
    unhinted = [_key(p) for p in people if p.slot is None]
    found = iter(await ctx.loaders.load(SlotsByPerson, unhinted)) if unhinted else iter(())
    return [p.slot if p.slot is not None else current_slot(next(found)) for p in people]


def facets_by_trust(ctx: HubContext) -> list[Named[IdNumber, Any]]:
    """The facets ordered by their departments' trust ranks (the mapping headers' `trust:`), registry first on ties."""
    return sorted(FACETS, key=lambda facet: ctx.sources.trust(ctx.sources.holder(facet.entity)))


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
    for facet in facets_by_trust(ctx):
        if not pending:
            break
        department = ctx.sources.holder(facet.entity)
        try:
            if facet is SlotsByPerson:
                describing: list[Any] = await slots_of(ctx, [people[i] for i in pending])
            else:
                describing = [f[0] if f else None for f in await ctx.loaders.load(facet, [_key(people[i]) for i in pending])]
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


_NAME = attrgetter("name")


async def names(ctx: HubContext, people: Sequence[PersonLike]) -> list[Any]:
    """Each person's name from the first facet that has one."""
    return (await resolve(ctx, people, _NAME))[0]


async def name_sources(ctx: HubContext, people: Sequence[PersonLike]) -> list[Any]:
    """The department each person's name came from (or the error that left it unknown)."""
    values, sources = await resolve(ctx, people, _NAME)
    return [v if isinstance(v, HubError) else s for v, s in zip(values, sources, strict=True)]


async def institutions(ctx: HubContext, people: Sequence[PersonLike]) -> list[InstitutionView | None]:
    """Each person's institution: the describing registry slot's, else the personnel record's."""
    slots = await slots_of(ctx, people)
    found = await of_records(ctx, SlotsByPerson.entity, slots)
    missing = [i for i, s in enumerate(slots) if s is None]
    if missing:
        staff = await ctx.loaders.load(PersonnelByPerson, [_key(people[i]) for i in missing])
        from_staff = await of_records(ctx, PersonnelByPerson.entity, [s[0] if s else None for s in staff])
        for i, inst in zip(missing, from_staff, strict=True):
            found[i] = inst
    return found


async def slots_of_institutions(ctx: HubContext, insts: Sequence[InstitutionView], active_only: bool) -> list[list[Listed]]:
    """The people holding registry slots of each institution (active ones only, unless asked), one batch per level."""
    found = await of_units(ctx, insts, ActiveSlotsByUnit if active_only else SlotsByUnit)
    return [listed(slots) if slots else [] for slots in found]


async def unit_codes(ctx: HubContext, department: str, region_code: str | None, institution_code: str | None) -> list[str]:
    """A department's unit codes of one institution, or of the institutions in a region (row scope is added apart)."""
    cw = await ctx.crosswalk.get()
    idents = [cw.find(institution_code)] if institution_code else list(cw.by_code.values())
    return [code for i in idents
            if i and (code := i.local_id(department)) and (not region_code or (i.region_code or "").startswith(region_code))]


async def slot_where(ctx: HubContext, region_code: str | None, institution_code: str | None, quota_type: str | None,
                     name: str | None, include_left: bool) -> dict[str, Any]:
    """The registry-slot filter of a people or persons query (before row scope)."""
    department = ctx.sources.holder("registry_slot")
    where: dict[str, Any] = {} if include_left else dict(ACTIVE_SLOT)
    if quota_type is not None:
        where["quota_type"] = quota_type
    if name:
        where["name"] = Contains(name.strip())
    if region_code or institution_code:
        where["unit_local_id"] = await unit_codes(ctx, department, region_code, institution_code)
    return where


async def page(ctx: HubContext, size: int, after: str | None, region_code: str | None, institution_code: str | None,
               quota_type: str | None, name: str | None, include_left: bool) -> Page[Listed]:
    """A keyset page of the registry's people (by slot) matching the filters, in the caller's scope."""
    department = ctx.sources.holder("registry_slot")
    where = await slot_where(ctx, region_code, institution_code, quota_type, name, include_left)
    slots, more = await scan(ctx, department, "registry_slot", "slot_id", where, size, after)
    named = [s for s in slots if s.id_number]
    return Page(listed(named), [s.slot_id for s in named], more, slots[-1].slot_id if slots else None,
                lambda: count(ctx, department, "registry_slot", where))


def _admits(slot: RegistrySlot, where: dict[str, Any]) -> bool:
    """Whether a slot meets a persons filter (active, quota type, units): what the scan asked of the listed slot."""
    if slot.status not in ACTIVE_SLOT["status"] or slot.left_on is not None:
        return False
    if "quota_type" in where and slot.quota_type != where["quota_type"]:
        return False
    return "unit_local_id" not in where or slot.unit_local_id in where["unit_local_id"]


async def person_page(ctx: HubContext, size: int, after: str | None, region_code: str | None,
                      institution_code: str | None, quota_type: str | None) -> Page[Listed]:
    """A keyset page of persons (each once, however many slots they hold), in slot order.

    A person is listed at their *describing* slot: the first, in the registry's order, of their
    active slots that meet the filter in the caller's scope; the same slot `stats` counts them by
    (HEADCOUNT). Each page of slots is checked against the persons' other slots in one batch; a
    page may hold fewer than `size` persons while more follow.
    """
    department = ctx.sources.holder("registry_slot")
    where = await slot_where(ctx, region_code, institution_code, quota_type, None, False)
    slots, more = await scan(ctx, department, "registry_slot", "slot_id", where, size, after)
    named = [s for s in slots if s.id_number]
    keys = list(dict.fromkeys(IdNumber(s.id_number or "") for s in named))
    order = ctx.sources[department].order_key("registry_slot")
    describing: dict[str, str] = {}
    for key, held in zip(keys, await ctx.loaders.load(SlotsByPerson, keys), strict=True):
        meeting = sorted((s for s in held if _admits(s, where)), key=order)
        if meeting:
            describing[key] = meeting[0].slot_id
    chosen = [s for s in named if describing.get(s.id_number or "") == s.slot_id]
    return Page(listed(chosen), [s.slot_id for s in chosen], more, slots[-1].slot_id if slots else None,
                lambda: person_count(ctx, where))


async def person_count(ctx: HubContext, where: dict[str, Any]) -> int:
    """How many persons (not slots) hold an active slot meeting the filter, in the caller's scope (one statement)."""
    department = ctx.sources.holder("registry_slot")
    rows = await ctx.sources[department].aggregate(
        "registry_slot", per_person="id_number", where=ctx.scoped(department, "registry_slot", where))
    return int(sum(r[0] for r in rows))


async def pay_entries(ctx: HubContext, payrolls: Sequence[Any], last: int | None, from_month: str | None,
                      to_month: str | None) -> list[list[PayLine]]:
    """Each payroll's months in the window, newest first, at most `last`: the pay lines of its payee records.

    Read by the payee codes already loaded (one value per key, not the ID number's legacy spellings
    through a join). Without a window, `last` goes to the source: it reads only each payee's newest months.
    """
    latest = last is not None and last > 0 and from_month is None and to_month is None
    named = newest(PayLinesByPayee, "month", last) if latest else PayLinesByPayee  # type: ignore[arg-type]
    codes = [[PayeeCode(p.payee_code) for p in payroll.payees if p.payee_code] for payroll in payrolls]
    known = list(dict.fromkeys(c for mine in codes for c in mine))
    found = dict(zip(known, await ctx.loaders.load(named, known), strict=True))
    out = []
    for mine in codes:
        chosen = sorted(
            (x for c in mine for x in found[c]
             if (from_month is None or x.month >= from_month) and (to_month is None or x.month <= to_month)),
            key=lambda x: (x.month, x.payee_code),
            reverse=True,
        )
        out.append(chosen[:last] if last is not None else chosen)
    return out


async def paying_institutions(ctx: HubContext, payrolls: Sequence[Any]) -> list[InstitutionView | None]:
    """The institution paying each payroll (its first payee record's unit)."""
    return await of_records(ctx, PayeesByPerson.entity, [p.payees[0] for p in payrolls])


@lru_cache(maxsize=65536)
def id_facts(id_number: str) -> tuple[dt.date, str] | None:
    """(birth date, sex) carried by a valid ID number; None when it is not valid."""
    if ids.id_number_problem(id_number) is not None:
        return None
    birth = ids.id_birth_date(id_number)
    assert birth is not None
    return birth, Sex.MALE if ids.id_sex(id_number) == "male" else Sex.FEMALE


def recorded_birth(record: Any) -> dt.date | None:
    """A department's recorded birth as a date: `YYYY-MM-DD` as is, `YYYY-MM` as the month's first day, else None."""
    text = getattr(record, "birth", None)
    if not text or len(text) < 7:
        return None
    try:
        return dt.date(int(text[:4]), int(text[5:7]), int(text[8:10]) if len(text) >= 10 else 1)
    except ValueError:
        return None


def recorded_sex(record: Any) -> str | None:
    """A department's recorded sex when it says male or female (unknown and unstated fall through)."""
    sex = getattr(record, "sex", None)
    return sex if sex in (Sex.MALE, Sex.FEMALE) else None


# What the fallback reads of each facet (the registry's describing slot is the listed or current one).
FACT_FIELDS: dict[str, set[str]] = {"registry_slot": {"birth", "sex"}, "personnel": {"birth", "sex"},
                                    "cadre": {"birth", "sex"}, "payee": {"sex"}}


@dataclass(frozen=True, slots=True)
class BirthFacts:
    """A person's birth date and sex, and where each came from: None for the ID number, else a department id.

    A value is None when no source has it, or the error of a source that was down while none had it.
    """

    birth: dt.date | HubError | None
    sex: str | HubError | None
    birth_source: str | None = None
    sex_source: str | None = None

    @property
    def placed(self) -> bool:
        """Whether both are known, so the retirement date can be computed."""
        return isinstance(self.birth, dt.date) and isinstance(self.sex, str)


async def birth_facts(ctx: HubContext, people: Sequence[PersonLike]) -> list[BirthFacts]:
    """Each person's birth date and sex: from a valid ID number, else the departments' recorded values in trust order.

    Only people whose ID number is invalid cost a read (of each facet until one answers).
    """
    out: list[BirthFacts | None] = []
    fallback = []
    for i, person in enumerate(people):
        facts = id_facts(person.id_number)
        out.append(BirthFacts(*facts) if facts else None)
        if facts is None:
            fallback.append(i)
    if fallback:
        subset = [people[i] for i in fallback]
        (births, birth_sources), (sexes, sex_sources) = await asyncio.gather(
            resolve(ctx, subset, recorded_birth), resolve(ctx, subset, recorded_sex))
        for j, i in enumerate(fallback):
            out[i] = BirthFacts(births[j], sexes[j], birth_sources[j], sex_sources[j])
    return out  # type: ignore[return-value]  # every index filled


async def birth_dates(ctx: HubContext, people: Sequence[PersonLike]) -> list[Any]:
    """Each person's birth date (see `birth_facts`)."""
    return [f.birth for f in await birth_facts(ctx, people)]


async def sexes(ctx: HubContext, people: Sequence[PersonLike]) -> list[Any]:
    """Each person's sex (see `birth_facts`)."""
    return [f.sex for f in await birth_facts(ctx, people)]


async def birth_date_sources(ctx: HubContext, people: Sequence[PersonLike]) -> list[str | None]:
    """The department each birth date came from (None: the ID number, or no date)."""
    return [f.birth_source for f in await birth_facts(ctx, people)]


async def sex_sources(ctx: HubContext, people: Sequence[PersonLike]) -> list[str | None]:
    """The department each sex came from (None: the ID number, or no value)."""
    return [f.sex_source for f in await birth_facts(ctx, people)]


async def worker_posts(ctx: HubContext, people: Sequence[PersonLike]) -> list[bool]:
    """Whether each person is in a worker post: slot GQ, category PI worker, or a current worker post
    (docs/retirement.md §Which group)."""
    keys = [_key(p) for p in people]
    slots, staff, posts = await asyncio.gather(
        slots_of(ctx, people), ctx.loaders.load(PersonnelByPerson, keys), ctx.loaders.load(PostsByPerson, keys))
    return [
        (slot is not None and slot.quota_type == QuotaType.GQ)
        or any(p.category == PersonnelCategory.PI_WORKER for p in records)
        or any(p.category == PostCategory.WORKER and p.end_on is None for p in held)
        for slot, records, held in zip(slots, staff, posts, strict=True)
    ]


async def retirements(ctx: HubContext, people: Sequence[PersonLike]) -> list[tuple[BirthFacts, RetirementGroup | None, dt.date | HubError | None]]:
    """Each person's birth facts, retirement group and statutory retirement date (2025 progressive rule).

    The date is None when the birth date or sex is unknown everywhere, the error of a source that
    was down when it could have decided it.
    """
    facts = await birth_facts(ctx, people)
    out: list[tuple[BirthFacts, RetirementGroup | None, dt.date | HubError | None]] = []
    women = [i for i, f in enumerate(facts) if f.placed and f.sex == Sex.FEMALE]
    worker: dict[int, bool | HubError] = {}
    if women:
        try:
            worker = dict(zip(women, await worker_posts(ctx, [people[i] for i in women]), strict=True))
        except HubError as exc:
            worker = dict.fromkeys(women, exc)
    for i, f in enumerate(facts):
        if not f.placed:
            error = f.birth if isinstance(f.birth, HubError) else f.sex if isinstance(f.sex, HubError) else None
            out.append((f, None, error))
            continue
        post = worker.get(i, False)
        if isinstance(post, HubError):
            out.append((f, None, post))
            continue
        group = retirement_group("male" if f.sex == Sex.MALE else "female", post)
        out.append((f, group, retirement_date(f.birth, group)))  # type: ignore[arg-type]  # placed
    return out


async def statutory_retirement(ctx: HubContext, people: Sequence[PersonLike]) -> list[dt.date | None | HubError]:
    """Each person's statutory retirement date (see `retirements`)."""
    return [date for _, _, date in await retirements(ctx, people)]
