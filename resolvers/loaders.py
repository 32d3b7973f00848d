"""Per-request DataLoaders, one per named loader: its entity, key field, filter and key type in one declaration.

A named loader says what it loads — `ActiveSlotsByUnit`: the registry slots held now, by the
registry's unit code — and the request's `Loaders` make one DataLoader per name (and department,
for the one entity every department keeps, `unit`), with the caller's row scope built in. A batch
is one statement. The filter is part of the name, so two loaders over the same entity and key field
with different filters never share a batch, and nobody has to repeat a filter to find its loader.
Which department's source is asked is what the mappings say (`Sources.holder(entity)`).

Keys are typed (`UnitCode`, `IdNumber`, `CadreId`: for mypy) and checked when loaded (a key that
is not a string is a bug, not a record that does not exist).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Generic, NewType, TypeVar

from aiodataloader import DataLoader

from adapters.base import Adapter, Latest, Where
from adapters.registry import Sources
from hub.core.codes import SlotStatus
from hub.core.records import (
    RECORDS,
    Appointment,
    Cadre,
    CadreEducation,
    Insurance,
    LeadershipPostQuota,
    Payee,
    PayLine,
    PayrollChange,
    Personnel,
    PostAssignment,
    Quota,
    RegistrySlot,
    Title,
    Unit,
    VacancyPlan,
)
from policies.scope import RowScope

BatchObserver = Callable[[str, str, int], None]  # (source, entity, keys in the batch)

IdNumber = NewType("IdNumber", str)  # a normalized resident ID number (hub.core.ids.parse_id_number)
UnitCode = NewType("UnitCode", str)  # a department's own code of a unit (`unit_local_id`)
CadreId = NewType("CadreId", str)  # the organization department's cadre number
PlanId = NewType("PlanId", str)  # the establishment office's vacancy plan number
PayeeCode = NewType("PayeeCode", str)  # the finance bureau's payee code (`payee_code`)

K = TypeVar("K", bound=str)
R = TypeVar("R")


@dataclass(frozen=True, eq=False, slots=True)
class Named(Generic[K, R]):
    """A named loader: the `record`s whose `field` equals each key of type `K`, narrowed by `where`.

    Compared by identity: each declaration is its own loader (and batch), whatever it shares with another.
    """

    name: str
    record: type[R]
    field: str
    key: Callable[[str], K]  # the key type (a NewType over str)
    where: Where | None = None
    latest: Latest | None = None  # only each key's newest records (the source picks them: one statement)

    @property
    def entity(self) -> str:
        """The entity of the records: canonical (hub.core.records.RECORDS) or custom (a mapping's `custom:`,
        whose record classes carry their entity's name)."""
        return _ENTITIES.get(self.record) or self.record.__entity__  # type: ignore[attr-defined, no-any-return]

    def __repr__(self) -> str:
        return self.name


_ENTITIES = {cls: entity for entity, cls in RECORDS.items()}


def _frozen(where: Mapping[str, Any]) -> Where:
    return MappingProxyType({k: tuple(v) if isinstance(v, list) else v for k, v in where.items()})


ACTIVE_SLOT = _frozen({"status": [SlotStatus.ACTIVE, SlotStatus.SECONDED], "left_on": None})  # held now
IN_POST = _frozen({"end_on": None})  # an appointment not ended

# --- the named loaders --------------------------------------------------------------------------------
UnitsByCode = Named("UnitsByCode", Unit, "local_id", UnitCode)  # per department: its own units
UnitsByParent = Named("UnitsByParent", Unit, "parent_local_id", UnitCode)
QuotasByUnit = Named("QuotasByUnit", Quota, "unit_local_id", UnitCode)
PostQuotasByUnit = Named("PostQuotasByUnit", LeadershipPostQuota, "unit_local_id", UnitCode)
SlotsByUnit = Named("SlotsByUnit", RegistrySlot, "unit_local_id", UnitCode)
ActiveSlotsByUnit = Named("ActiveSlotsByUnit", RegistrySlot, "unit_local_id", UnitCode, ACTIVE_SLOT)
CurrentAppointmentsByUnit = Named("CurrentAppointmentsByUnit", Appointment, "unit_local_id", UnitCode, IN_POST)
AppointmentsByCadre = Named("AppointmentsByCadre", Appointment, "cadre_id", CadreId)
SlotsByPerson = Named("SlotsByPerson", RegistrySlot, "id_number", IdNumber)
PersonnelByPerson = Named("PersonnelByPerson", Personnel, "id_number", IdNumber)
CadresByPerson = Named("CadresByPerson", Cadre, "id_number", IdNumber)
PayeesByPerson = Named("PayeesByPerson", Payee, "id_number", IdNumber)
PayLinesByPayee = Named("PayLinesByPayee", PayLine, "payee_code", PayeeCode)  # a payroll's months, by its payees' codes
PostsByPerson = Named("PostsByPerson", PostAssignment, "id_number", IdNumber)
TitlesByPerson = Named("TitlesByPerson", Title, "id_number", IdNumber)
InsuranceByPerson = Named("InsuranceByPerson", Insurance, "id_number", IdNumber)
VacancyPlansByUnit = Named("VacancyPlansByUnit", VacancyPlan, "unit_local_id", UnitCode)
SlotsByPlan = Named("SlotsByPlan", RegistrySlot, "plan_id", PlanId)  # the registry entries citing a plan
PayrollChangesByUnit = Named("PayrollChangesByUnit", PayrollChange, "unit_local_id", UnitCode)
PayrollChangesByPerson = Named("PayrollChangesByPerson", PayrollChange, "id_number", IdNumber)
EducationByPerson = Named("EducationByPerson", CadreEducation, "id_number", IdNumber)


@lru_cache(maxsize=64)  # one loader (one batch) per count, bounded: the count comes from an argument
def newest(named: Named[K, R], by: str, count: int) -> Named[K, R]:
    """`named` narrowed to each key's `count` records with the greatest `by` (the source picks them)."""
    return replace(named, name=f"{named.name}[last {count} by {by}]", latest=Latest(by, count))


class RecordsByKeyLoader(DataLoader, Generic[K, R]):  # type: ignore[misc]
    """Loads all records of a source's entity whose `field` equals each key, in key order.

    aiodataloader batches whole calls, not keys: its key is one call's tuple of keys not read yet, so
    the calls of a tick are one batch, one statement, and a call waits on one future, never one per
    key (Q4 asks for ~4,000 people's pay at once). Each key's records are kept once read, and a key
    whose batch is still being read is waited for, not read again: a key is read once per request. A
    batch that fails fails every call waiting on it and keeps nothing, so a later call asks again.
    """

    def __init__(
        self, adapter: Adapter, named: Named[K, R], where: Where | None = None, fields: frozenset[str] | None = None,
        observe: BatchObserver | None = None,
    ) -> None:
        super().__init__(cache=False)
        self.observe = observe
        self.adapter = adapter
        self.named = named
        self.entity = named.entity
        self.field = named.field
        self.where = where
        self.fields = fields
        self._done: dict[K, list[R]] = {}  # the records of each key read so far
        self._reading: dict[K, asyncio.Future[None]] = {}  # the batch each key being read is in

    async def load_keys(self, keys: Sequence[K]) -> list[list[R]]:
        """Each key's records (one batch with every other load of this tick)."""
        if not {*map(type, keys)} <= {str}:
            bad = next(k for k in keys if type(k) is not str)
            raise TypeError(f"{self.named!r} takes string keys ({self.field}), not {bad!r}")
        done, reading = self._done, self._reading
        waits = {reading[k] for k in keys if k in reading}
        missing = tuple(dict.fromkeys(k for k in keys if k not in done and k not in reading))
        if missing:
            batch = self.load(missing)
            reading.update(dict.fromkeys(missing, batch))
            batch.add_done_callback(lambda _: [reading.pop(k, None) for k in missing])
            waits.add(batch)
        if len(waits) == 1:
            await waits.pop()
        elif waits:
            await asyncio.gather(*waits)  # every batch's failure retrieved, not only the first
        return [done[k] for k in keys]

    async def batch_load_fn(self, calls: Sequence[tuple[K, ...]]) -> list[None]:
        """Read the keys of a tick's calls in one statement and keep each key's records."""
        keys = [k for k in dict.fromkeys(k for call in calls for k in call) if k not in self._done]
        if keys:
            self._done.update(zip(keys, await self.read_keys(keys), strict=True))
        return [None] * len(calls)

    async def read_keys(self, keys: Sequence[Any]) -> list[list[Any]]:
        """Each key's records, in one statement."""
        if self.observe is not None:
            self.observe(self.adapter.department, self.entity, len(keys))
        grouped: dict[Any, list[Any]] = {k: [] for k in keys}
        field = self.field
        latest = {} if self.named.latest is None else {"latest": self.named.latest}
        for record in await self.adapter.fetch(self.entity, field, list(grouped), self.where, self.fields, **latest):
            bucket = grouped.get(getattr(record, field))
            if bucket is not None:
                bucket.append(record)
        order = self.adapter.order_key(self.entity)
        for bucket in grouped.values():
            if len(bucket) > 1:
                bucket.sort(key=order)
        return [grouped[k] for k in keys]


Projection = dict[str | Named[Any, Any], frozenset[str]]  # entity or named loader -> the record fields read


class Loaders:
    """The request's loaders, created on first use; never shared between requests.

    `fields` is the request's projection: per entity, the fields its answer reads (an entity not
    named is read whole), and per named loader what is read only of the records it loads. The
    compiled read path sets it from the document before any load.
    """

    def __init__(self, sources: Sources, scope: RowScope, observe: BatchObserver | None = None) -> None:
        self._sources = sources
        self._scope = scope
        self._observe = observe  # told each batch's size (hub/metrics.py)
        self._loaders: dict[tuple[Named[Any, Any], str | None], RecordsByKeyLoader[Any, Any]] = {}
        self.fields: Projection = {}

    def of(self, named: Named[K, R], department: str | None = None) -> RecordsByKeyLoader[K, R]:
        """The request's loader of a name: in the source that keeps its entity, or in `department`'s (`unit`)."""
        loader = self._loaders.get((named, department))
        if loader is None:
            source = department if department is not None else self._sources.holder(named.entity)
            adapter = self._sources[source]
            scoped = self._scope.where(source, adapter.scope_field(named.entity), named.where) or None
            loader = self._loaders[named, department] = RecordsByKeyLoader(
                adapter, named, scoped, self._projection(named), self._observe)
        return loader

    async def load(self, named: Named[K, R], keys: Sequence[K], department: str | None = None) -> list[list[R]]:
        """Each key's records of a named loader (one statement per batch)."""
        return await self.of(named, department).load_keys(keys)

    def _projection(self, named: Named[Any, Any]) -> frozenset[str] | None:
        general, by_key = self.fields.get(named.entity), self.fields.get(named)
        if general is None or by_key is None:
            return general or by_key
        return general | by_key

    def release(self) -> None:
        """Drop the loaders and the records they hold (new ones are made if asked again)."""
        self._loaders.clear()
