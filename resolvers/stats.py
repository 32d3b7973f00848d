"""Statistics: measures grouped by dimensions, pushed into each source's SQL as GROUP BY, combined in the hub.

Each measure belongs to a *family* read from one entity (`FAMILIES`). A family's statement groups
by the unit code (when an institution dimension is asked) and by the entity's own fields; the
hub then maps unit codes to institutions, regions, types and funding forms (the crosswalk and
the base's unit table) and adds the groups up. Dimensions a family's entity does not hold — sex
and age band (from the ID number), title level, post and subject (HR) — are computed in one
streamed pass: the registry's active slots and HR's records, each in ID-number order, merged by
ID number; memory holds one person's records and the groups, not the people. Every statement
and stream carries the caller's row scope. What is restricted (aggregate-only grants) is
suppressed and rounded by `hub.core.stats` (docs/statistics.md).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable, Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import filterfalse, repeat
from operator import add, mul
from typing import Any

from hub.core.codes import region_of
from hub.core.crosswalk import Crosswalk
from hub.core.errors import BadUserInput, Forbidden
from hub.core.stats import READS, Dimension, Key, Line, age_band, pay_component, round_to, suppress
from policies.access import Access
from resolvers.context import HubContext
from resolvers.loaders import ACTIVE_SLOT, IN_POST
from resolvers.people import id_facts

D = Dimension
UNIT_DIMS = frozenset({D.REGION, D.INSTITUTION, D.INSTITUTION_TYPE, D.FUNDING})
SLOT_FIELDS = {D.QUOTA_TYPE: "quota_type", D.ETHNIC_GROUP: "ethnic_group", D.EDUCATION: "education"}
STREAMED = frozenset({D.SEX, D.AGE_BAND, D.TITLE_LEVEL, D.POST_CATEGORY, D.POST_GRADE, D.SUBJECT})
HR_DIMS = frozenset({D.TITLE_LEVEL, D.POST_CATEGORY, D.POST_GRADE, D.SUBJECT})
COUNTS = frozenset({"HEADCOUNT", "OCCUPIED", "APPROVED", "VACANT", "OVER", "LEADERSHIP_APPROVED", "LEADERSHIP_FILLED"})


@dataclass(frozen=True, slots=True)
class Family:
    """Measures read from one entity, and the dimensions they may be grouped by."""

    name: str
    measures: frozenset[str]
    dims: frozenset[Dimension]


FAMILIES = (
    Family("slots", frozenset({"HEADCOUNT", "OCCUPIED"}), UNIT_DIMS | frozenset(SLOT_FIELDS) | STREAMED),
    Family("quota", frozenset({"APPROVED", "VACANT", "OVER", "VACANCY_RATE"}), UNIT_DIMS | {D.QUOTA_TYPE}),
    Family("posts", frozenset({"LEADERSHIP_APPROVED", "LEADERSHIP_FILLED"}), UNIT_DIMS),
    Family("pay", frozenset(m for m in READS if pay_component(m)), UNIT_DIMS | {D.MONTH}),
)


def family_of(measure: str) -> Family:
    return next(f for f in FAMILIES if measure in f.measures)


@dataclass(frozen=True, slots=True)
class StatsFilter:
    """Narrows a statistic inside the caller's scope (it never widens it)."""

    region_code: str | None = None
    institution_code: str | None = None
    quota_type: str | None = None
    institution_types: tuple[str, ...] = ()
    institution_codes: tuple[str, ...] = ()  # a set of institutions (reorganization planning)


@dataclass(slots=True)
class Row:
    """One group: its dimension values, its measures in the asked order (None when suppressed) and whether
    it was suppressed. The GraphQL type `StatsRow` reads these attributes as they are (schema/stats.py)."""

    keys: Key
    values: tuple[float | None, ...]
    suppressed: bool = False


@dataclass(slots=True)
class Answer:
    rows: list[Row]
    total: Row
    restricted: bool
    min_group_size: int


# --- access --------------------------------------------------------------------------------------------


def restricted(ctx: HubContext, dims: Sequence[str], measures: Sequence[str], flt: StatsFilter) -> bool:
    """Whether the answer is restricted (some dimension or measure only under `aggregate`); Forbidden when
    the caller may neither read nor aggregate one of them."""
    used = [(f"Dimension.{d}", d) for d in dims] + [(f"Measure.{m}", m) for m in measures]
    if flt.quota_type is not None:
        used.append((f"Dimension.{D.QUOTA_TYPE}", D.QUOTA_TYPE))
    if flt.institution_types:
        used.append((f"Dimension.{D.INSTITUTION_TYPE}", D.INSTITUTION_TYPE))
    limited = False
    for obj, name in used:
        if ctx.grants.access(*READS[name]) is Access.READ:
            continue
        if not ctx.grants.may_aggregate(obj):
            raise Forbidden(f"无权按 {name} 统计 / not allowed to aggregate by {name}", field=obj)
        limited = True
    return limited


# --- units -----------------------------------------------------------------------------------------------


class Units:
    """Unit code of a department -> the unit dimensions' values, and the filter's units."""

    def __init__(self, ctx: HubContext, cw: Crosswalk, attrs: dict[str, tuple[str | None, str | None]]) -> None:
        self.ctx, self.cw, self.attrs = ctx, cw, attrs
        self.base = ctx.sources.base
        # Without the base's unit attributes (read per request) the values depend on the crosswalk alone:
        # kept with it, for every request over the same crosswalk. They are only read.
        self._memo: dict[tuple[str, str | None], dict[Dimension, Any]] = (
            {} if attrs else cw.memo.setdefault(("stats units", self.base), {}))

    def values(self, department: str, local_id: str | None) -> dict[Dimension, Any]:
        found = self._memo.get((department, local_id))
        if found is None:
            code = self.cw.code_of(department, local_id) if local_id else None
            ident = self.cw.identity(code) if code else None
            base_id = ident.local_id(self.base) if ident else None
            kind, funding = self.attrs.get(base_id or "", (None, None))
            found = self._memo[(department, local_id)] = {
                D.REGION: ident.region_code if ident else None, D.INSTITUTION: code, D.INSTITUTION_TYPE: kind,
                D.FUNDING: funding,
            }
        return found

    def code(self, department: str, local_id: str | None) -> Any:
        """The institution a unit code stands for; an unplaced unit stands for itself."""
        return (self.cw.code_of(department, local_id) if local_id else None) or (department, local_id)

    def allowed(self, department: str, flt: StatsFilter) -> list[str] | None:
        """The department's unit codes the filter admits (None: no unit filter)."""
        if not (flt.region_code or flt.institution_code or flt.institution_types or flt.institution_codes):
            return None
        wanted = self.cw.find(flt.institution_code) if flt.institution_code else None
        among = {i.code for c in flt.institution_codes if (i := self.cw.find(c))}
        out = []
        for code, ident in self.cw.by_code.items():
            if flt.institution_code and (wanted is None or wanted.code != code):
                continue
            if flt.institution_codes and code not in among:
                continue
            if flt.region_code and not (ident.region_code or "").startswith(flt.region_code):
                continue
            base_id = ident.local_id(self.base)
            if flt.institution_types and self.attrs.get(base_id or "", (None, None))[0] not in flt.institution_types:
                continue
            local = ident.local_id(department)
            if local:
                out.append(local)
        return sorted(out)


async def _units(ctx: HubContext, need_attrs: bool) -> Units:
    cw = await ctx.crosswalk.get()
    attrs: dict[str, tuple[str | None, str | None]] = {}
    if need_attrs:
        rows = await ctx.sources[ctx.sources.base].count("unit", group_by=["local_id", "type", "funding"])
        attrs = {r[0]: (r[1], r[2]) for r in rows}
    return Units(ctx, cw, attrs)


# --- the families ------------------------------------------------------------------------------------------


class Query:
    """One statistic being computed: the dimensions, the filter, the groups."""

    def __init__(self, ctx: HubContext, by: Sequence[Dimension], flt: StatsFilter, units: Units, today: dt.date) -> None:
        self.ctx, self.by, self.flt, self.units, self.today = ctx, tuple(by), flt, units, today
        # The groups' raw sums, before measures are derived from them, a column per name: name -> group -> sum.
        self.parts: dict[str, dict[Key, int]] = {}
        # Each group (in the order it was first found) and the people behind it (None: none, e.g. quotas only).
        self.support: dict[Key, int | None] = {}

    def add(self, name: str, keys: Sequence[Key], values: Sequence[int]) -> None:
        """Add each group's value to its sum of `name` (groups new to the query are noted in turn)."""
        part = self.parts.setdefault(name, {})
        found = dict(zip(keys, values, strict=True))
        if not part and len(found) == len(keys):  # the usual case: each group once (dicts built in C)
            part.update(found)
        else:  # a group several times (units standing for one institution), or a second statement's groups
            for key, n in zip(keys, values, strict=True):
                part[key] = part.get(key, 0) + n
        support = self.support
        support.update(dict.fromkeys(filterfalse(support.__contains__, keys)))

    def people(self, keys: Sequence[Key], values: Sequence[int]) -> None:
        """The people behind each group: at least each `n` given for it."""
        support = self.support
        found = dict(zip(keys, values, strict=True))
        if len(found) == len(keys) and not any(map(support.get, keys)) and min(values, default=0) >= 0:
            support.update(found)  # the usual case: no group known to have people yet, each given once
            return
        for key, n in zip(keys, values, strict=True):
            support[key] = max(support.get(key) or 0, n)

    def where(self, entity: str, own: dict[str, Any] | None = None, *, quota: bool = False) -> tuple[str, dict[str, Any]]:
        department = self.ctx.sources.holder(entity)
        where = dict(own or {})
        if quota and self.flt.quota_type is not None:
            where["quota_type"] = self.flt.quota_type
        allowed = self.units.allowed(department, self.flt)
        if allowed is not None:
            where["unit_local_id"] = allowed
        return department, self.ctx.scoped(department, entity, where)

    def grouping(self, own: dict[Dimension, str]) -> list[str]:
        """The entity fields a statement groups by: the unit code when a unit dimension is asked, then its own."""
        fields = ["unit_local_id"] if UNIT_DIMS & set(self.by) else []
        return list(dict.fromkeys(fields + [own[d] for d in self.by if d in own]))

    def keys_of(self, department: str, fields: list[str], columns: Sequence[Sequence[Any]], own: dict[Dimension, str]) -> list[Key]:
        """Each row's group from the statement's columns: unit dimensions through the unit code (each
        distinct code mapped once), the entity's own fields as they are (map and zip loop in C)."""
        rows = len(columns[0]) if columns else 0
        if not self.by:
            return [()] * rows
        dims: list[Iterable[Any]] = []
        codes = columns[fields.index("unit_local_id")] if "unit_local_id" in fields else ()
        units = {code: self.units.values(department, code) for code in set(codes)}
        for d in self.by:
            if d in UNIT_DIMS:
                dims.append(map({code: found[d] for code, found in units.items()}.__getitem__, codes))
            else:
                dims.append(columns[fields.index(own[d])])
        return list(zip(*dims, strict=True))

    async def grouped(self, entity: str, own: dict[Dimension, str], where: dict[str, Any], *, quota: bool = False,
                      **kwargs: Any) -> tuple[list[Key], Sequence[Sequence[int]]]:
        """One GROUP BY statement on the entity's source: its groups keyed by the asked dimensions, and its
        numbers (rows, distinct values, sums), a column each."""
        department, scoped = self.where(entity, where, quota=quota)
        fields = self.grouping(own)
        rows = await self.ctx.sources[department].aggregate(entity, group_by=fields, where=scoped, **kwargs)
        columns = list(zip(*rows, strict=True)) or [()] * (len(fields) + 2 + len(kwargs.get("sums", ())))
        return self.keys_of(department, fields, columns, own), columns[len(fields):]

    async def slots(self, measures: set[str]) -> None:
        if STREAMED & set(self.by):
            if measures - {"HEADCOUNT"}:
                raise BadUserInput("实有人数（按编制）不能按人员属性分组 / OCCUPIED cannot be grouped by a person's attributes")
            await self.streamed()
            return
        own = {d: f for d, f in SLOT_FIELDS.items()}
        if "HEADCOUNT" in measures:
            keys, numbers = await self.grouped("registry_slot", own, dict(ACTIVE_SLOT), quota=True, per_person="id_number")
            self.add("HEADCOUNT", keys, numbers[0])
            self.people(keys, numbers[0])
        if "OCCUPIED" in measures:
            keys, numbers = await self.grouped("registry_slot", own, dict(ACTIVE_SLOT), quota=True)
            self.add("OCCUPIED", keys, numbers[0])
            self.people(keys, numbers[0])

    async def quota(self) -> None:
        """Approved, occupied, vacant and over per (unit, quota type) cell, added up into the groups."""
        async def cells(entity: str, where: dict[str, Any], **kwargs: Any) -> tuple[str, list[tuple[Any, ...]]]:
            department, scoped = self.where(entity, where, quota=True)
            rows = await self.ctx.sources[department].aggregate(
                entity, group_by=["unit_local_id", "quota_type"], where=scoped, **kwargs)
            return department, rows

        (q_dep, approved), (s_dep, occupied) = await asyncio.gather(
            cells("quota", {}, sums=["approved"]), cells("registry_slot", dict(ACTIVE_SLOT)))
        found: dict[tuple[Any, ...], list[Any]] = {}
        for row in approved:
            found.setdefault((self.units.code(q_dep, row[0]), row[1]), [q_dep, row[0], 0, 0])[2] += row[4]
        for row in occupied:
            found.setdefault((self.units.code(s_dep, row[0]), row[1]), [s_dep, row[0], 0, 0])[3] += row[2]
        keyed = []
        for (_, quota_type), (department, local_id, a, o) in found.items():
            unit = self.units.values(department, local_id)
            keyed.append((tuple(quota_type if d == D.QUOTA_TYPE else unit[d] for d in self.by), a, o))
        keys = [key for key, _, _ in keyed]
        self.add("APPROVED", keys, [a for _, a, _ in keyed])
        self.add("QUOTA_OCCUPIED", keys, [o for _, _, o in keyed])
        self.add("VACANT", keys, [max(a - o, 0) for _, a, o in keyed])
        self.add("OVER", keys, [max(o - a, 0) for _, a, o in keyed])

    async def posts(self, measures: set[str]) -> None:
        if "LEADERSHIP_APPROVED" in measures:
            keys, numbers = await self.grouped("leadership_post", {}, {}, sums=["approved"])
            self.add("LEADERSHIP_APPROVED", keys, numbers[2])
        if "LEADERSHIP_FILLED" in measures:
            keys, numbers = await self.grouped("appointment", {}, dict(IN_POST))
            self.add("LEADERSHIP_FILLED", keys, numbers[0])
            self.people(keys, numbers[0])

    async def pay(self, measures: set[str]) -> None:
        components = sorted({c for m in measures if (c := pay_component(m))})
        keys, numbers = await self.grouped("pay_line", {D.MONTH: "month"}, {}, sums=components, distinct="payee_code")
        self.add("PAY_LINES", keys, numbers[0])
        self.people(keys, numbers[1])
        for i, c in enumerate(components, start=2):
            self.add(f"PAY_{c.upper()}", keys, numbers[i])

    async def streamed(self) -> None:
        """Headcount by person attributes: the registry's describing slots merged with HR by ID number."""
        department, where = self.where("registry_slot", dict(ACTIVE_SLOT), quota=True)
        slots = self.ctx.sources[department]
        order = slots.order_key("registry_slot")
        hr = await self._hr_cursors()
        persons: dict[Key, int] = {}
        async for key17, records in _people(slots.stream("registry_slot", order_by="id_number", where=where)):
            slot = min(records, key=order)
            facts = {name: await cursor.take(key17) for name, cursor in hr.items()}
            key = tuple(self._person_value(d, slot, facts) for d in self.by)
            persons[key] = persons.get(key, 0) + 1
        self.add("HEADCOUNT", list(persons), list(persons.values()))
        self.people(list(persons), list(persons.values()))

    async def _hr_cursors(self) -> dict[str, _Cursor]:
        wanted = set(self.by)
        entities = {
            "personnel": D.SUBJECT in wanted,
            "title": D.TITLE_LEVEL in wanted,
            "post_assignment": bool({D.POST_CATEGORY, D.POST_GRADE} & wanted),
        }
        out = {}
        for entity, needed in entities.items():
            if needed:
                department = self.ctx.sources.holder(entity)
                own = dict(IN_POST) if entity == "post_assignment" else {}
                where = self.ctx.scoped(department, entity, own)
                source = self.ctx.sources[department]
                out[entity] = _Cursor(_people(source.stream(entity, order_by="id_number", where=where)), source.order_key(entity))
        return out

    def _person_value(self, dim: Dimension, slot: Any, facts: dict[str, list[Any]]) -> Any:
        if dim in UNIT_DIMS:
            return self.units.values(self.ctx.sources.holder("registry_slot"), slot.unit_local_id)[dim]
        if dim in SLOT_FIELDS:
            return getattr(slot, SLOT_FIELDS[dim])
        if dim in (D.SEX, D.AGE_BAND):
            known = id_facts(slot.id_number)
            if known is None:
                return None
            return known[1] if dim == D.SEX else age_band(known[0], self.today)
        if dim == D.SUBJECT:
            return next((p.subject for p in facts.get("personnel", ()) if p.subject), None)
        if dim == D.TITLE_LEVEL:
            return min((t.level for t in facts.get("title", ()) if t.level is not None), default=None)
        posts = facts.get("post_assignment", ())
        if not posts:
            return None
        return posts[0].category if dim == D.POST_CATEGORY else posts[0].grade


async def _people(stream: AsyncIterator[list[Any]]) -> AsyncIterator[tuple[str, list[Any]]]:
    """A stream in ID-number order as (the number's first 17 characters, that person's records)."""
    current: str | None = None
    records: list[Any] = []
    async for chunk in stream:
        for r in chunk:
            if not r.id_number:
                continue
            key = r.id_number[:17]
            if key != current:
                if records:
                    yield current or "", records
                current, records = key, []
            records.append(r)
    if records:
        yield current or "", records


class _Cursor:
    """A person-ordered stream read forward as the driving stream asks for each person (a merge join)."""

    def __init__(self, people: AsyncIterator[tuple[str, list[Any]]], order: Any) -> None:
        self.people, self.order = people, order
        self.head: tuple[str, list[Any]] | None = None
        self.done = False

    async def take(self, key: str) -> list[Any]:
        while not self.done and (self.head is None or self.head[0] < key):
            try:
                self.head = await anext(self.people)
            except StopAsyncIteration:
                self.done, self.head = True, None
        if self.head is not None and self.head[0] == key:
            return sorted(self.head[1], key=self.order)
        return []


# --- the answer ----------------------------------------------------------------------------------------------


def _measures(parts: dict[str, dict[Key, int]], keys: Sequence[Key], measures: Sequence[str]) -> list[tuple[float | None, ...]]:
    """Each group's measures in `measures` order from the raw sums (name -> group -> sum), a measure at a
    time; a tuple per group (zipped in C), groups with equal measures sharing one (most groups repeat a
    few small counts: thousands fewer objects alive per answer, for the collector to pass over)."""
    def part(name: str) -> list[int]:
        return list(map(parts.get(name, {}).get, keys, repeat(0)))

    columns: list[list[float | None]] = []
    for m in measures:
        c = pay_component(m)
        if c is not None and m.endswith("_TOTAL"):
            columns.append(list(map(float, part(f"PAY_{c.upper()}"))))
        elif c is not None:
            columns.append([round(t / n, 2) if n else None for t, n in zip(part(f"PAY_{c.upper()}"), part("PAY_LINES"), strict=True)])
        elif m == "VACANCY_RATE":
            columns.append([round(v / a, 4) if a else None for v, a in zip(part("VACANT"), part("APPROVED"), strict=True)])
        else:
            columns.append(list(map(float, part(m))))
    if not columns:
        return [()] * len(keys)
    shared = {t: t for t in set(zip(*columns, strict=True))}
    return list(map(shared.__getitem__, zip(*columns, strict=True)))


def _measures_of(parts: dict[str, int], measures: Sequence[str]) -> tuple[float | None, ...]:
    """One group's measures from its raw sums."""
    return _measures({name: {(): n} for name, n in parts.items()}, [()], measures)[0]


def _rounded(parts: dict[str, int], base: int) -> dict[str, int]:
    """Counts rounded to multiples of `base`; vacant and over from the rounded approved and occupied."""
    out = {k: round_to(v, base) if k in COUNTS or k == "QUOTA_OCCUPIED" else v for k, v in parts.items()}
    if "APPROVED" in parts:
        a, o = out["APPROVED"], out.get("QUOTA_OCCUPIED", 0)
        out["VACANT"], out["OVER"] = max(a - o, 0), max(o - a, 0)
    return out


def _lines(by: Sequence[Dimension], cw: Crosswalk) -> list[Line]:
    """The lines a cell lies on: its key with one dimension left out; an institution's also by its
    banner and by its division (the margins a query by region gives)."""
    def region(code: Hashable) -> str | None:
        ident = cw.identity(code) if isinstance(code, str) else None
        return ident.region_code if ident else None

    def line(i: int, kind: str, up: Callable[[Hashable], Hashable]) -> Line:
        return (i if kind == "all" else None), lambda k: (i, kind, up(k[i]), *k[:i], *k[i + 1:])

    lines: list[Line] = []
    for i, d in enumerate(by):
        lines.append(line(i, "all", lambda v: None))
        if d == D.INSTITUTION:
            lines.append(line(i, "division", region))
            lines.append(line(i, "banner", lambda v: region_of(region(v))))
        if d == D.REGION:
            lines.append(line(i, "banner", lambda v: region_of(v) if isinstance(v, str) else None))
    return lines


async def stats(ctx: HubContext, measures: Sequence[str], by: Sequence[Dimension], flt: StatsFilter,
                today: dt.date | None = None) -> Answer:
    """The statistic: one row per group (sorted by its values, nulls last) and the total."""
    if not measures:
        raise BadUserInput("至少需要一个指标 / at least one measure is needed")
    if len(set(by)) != len(by):
        raise BadUserInput("维度重复 / a dimension is repeated")
    measures = list(dict.fromkeys(measures))
    limited = restricted(ctx, by, measures, flt)
    families = {f.name: f for m in measures if (f := family_of(m))}
    for fam in families.values():
        if not set(by) <= fam.dims:
            bad = ", ".join(sorted(set(by) - fam.dims))
            raise BadUserInput(f"指标 {'/'.join(sorted(fam.measures & set(measures)))} 不能按 {bad} 分组 / "
                               f"{'/'.join(sorted(fam.measures & set(measures)))} cannot be grouped by {bad}")
        if flt.quota_type is not None and fam.name in ("posts", "pay"):
            raise BadUserInput("该指标不能按编制类型筛选 / these measures cannot be filtered by quota type")
    attrs = bool({D.INSTITUTION_TYPE, D.FUNDING} & set(by)) or bool(flt.institution_types)
    units = await _units(ctx, attrs)
    query = Query(ctx, by, flt, units, today or dt.date.today())
    wanted = set(measures)
    jobs = []
    if "slots" in families:
        jobs.append(query.slots(wanted))
    if "quota" in families:
        jobs.append(query.quota())
    if "posts" in families:
        jobs.append(query.posts(wanted))
    if "pay" in families:
        jobs.append(query.pay(wanted))
    for job in jobs:  # in turn: the families share the groups
        await job
    return _answer(ctx, query, measures, limited)


async def exact_headcounts(ctx: HubContext, by: Sequence[Dimension], flt: StatsFilter, purpose: str) -> list[tuple[Key, int]]:
    """Persons per group, unrounded and unsuppressed: `FORBIDDEN` when the caller could only aggregate
    (plans built on suppressed cells would be wrong). `purpose` names the caller's report (中文 / English)."""
    answer = await stats(ctx, ["HEADCOUNT"], by, flt)
    if answer.restricted:
        zh, en = purpose.split(" / ")
        raise Forbidden(f"{zh}需要读取所用维度（{'、'.join(by)}） / {en} needs reading its dimensions ({', '.join(by)})",
                        field=f"Dimension.{by[0]}" if by else None)
    return [(row.keys, int(row.values[0] or 0)) for row in answer.rows]


def _sort_key(key: Key) -> list[tuple[bool, str]]:
    return [(True, "") if v is None else (False, v if v.__class__ is str else str(v)) for v in key]


def _sorted(keys: Collection[Key]) -> list[Key]:
    """The keys in `_sort_key` order (nulls last). Keys of strings and nulls only (the usual case) are
    sorted by one number each, their values' ranks among all the values as digits (worked out in C)."""
    keys = list(keys)
    columns = list(zip(*keys, strict=True))
    if not columns:  # no dimension: the one empty key
        return keys
    values = set().union(*columns)
    if not {*map(type, values)} <= {str, type(None)}:
        return sorted(keys, key=_sort_key)
    rank = {v: i for i, v in enumerate(sorted(values - {None}))}  # strings: str() is the value
    rank[None] = len(rank)
    code: Iterable[int] = repeat(0)
    for column in columns:
        code = map(add, map(mul, code, repeat(len(rank))), map(rank.__getitem__, column))
    codes = list(code)  # distinct keys: distinct numbers
    return list(map(keys.__getitem__, sorted(range(len(keys)), key=codes.__getitem__)))


def _answer(ctx: HubContext, query: Query, measures: list[str], limited: bool) -> Answer:
    base = ctx.settings.min_group_size
    total = {name: sum(part.values()) for name, part in query.parts.items() if part}
    people = [n for n in query.support.values() if n is not None]
    total_support = sum(people) if people else None
    hidden: set[Key] = set()
    if limited:
        support = dict(query.support)
        hidden = suppress(support, base, _lines(query.by, query.units.cw))
        for key in support.keys() - query.support.keys():  # empty cells added to hide a lone suppressed one
            query.support[key] = None
    keys = _sorted(query.support)
    if limited:  # each group's counts rounded first
        values = [_measures_of(_rounded({n: p[k] for n, p in query.parts.items() if k in p}, base), measures) for k in keys]
    else:
        values = _measures(query.parts, keys, measures)
    blank = (None,) * len(measures)
    if hidden:
        values = [blank if key in hidden else v for key, v in zip(keys, values, strict=True)]
    rows = list(map(Row, keys, values, map(hidden.__contains__, keys)))
    total_hidden = limited and total_support is not None and 0 < total_support < base
    total_row = Row((), blank if total_hidden else _measures_of(_rounded(total, base) if limited else total, measures),
                    total_hidden)
    return Answer(rows, total_row, limited, base)
