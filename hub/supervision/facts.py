"""The facts rules read: one person's records from every source, and the league's institutions.

Shared helpers ("active at the month", "paid in the month", labels, money) live here so that no
rule re-implements them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from hub.core.codes import EmploymentStatus, SlotStatus
from hub.core.crosswalk import Crosswalk
from hub.core.records import (
    Cadre,
    Insurance,
    Payee,
    PayLine,
    Personnel,
    PostAssignment,
    RegistrySlot,
    Unit,
    VacancyPlan,
)
from hub.core.retirement import month_end
from hub.supervision.model import Hit

ACTIVE_STATUSES = frozenset({SlotStatus.ACTIVE, SlotStatus.SECONDED})


@dataclass(slots=True)
class PersonView:
    """Every record of one normalized ID number the run streamed, by kind."""

    id_number: str
    slots: list[RegistrySlot] = field(default_factory=list)
    personnel: list[Personnel] = field(default_factory=list)
    posts: list[PostAssignment] = field(default_factory=list)
    insurance: list[Insurance] = field(default_factory=list)
    cadres: list[Cadre] = field(default_factory=list)
    payees: list[Payee] = field(default_factory=list)
    pay: list[PayLine] = field(default_factory=list)  # the reference month (+ earlier months when fetched)


@dataclass(slots=True)
class World:
    """What a run knows beyond one person: reference month, crosswalk, units, quotas, plans, deferrals.

    `holders` says which department keeps each entity (adapters.registry.Sources.holders): a record's
    unit code is its keeper's, so `institution(entity, local_id)` places it; no rule names a department.
    """

    month: str
    crosswalk: Crosswalk
    holders: Mapping[str, str]  # entity -> the department keeping it
    units: dict[str, Unit] = field(default_factory=dict)  # the registry base's units by local id
    appointing_units: dict[str, Unit] = field(default_factory=dict)  # units of the keeper of appointments
    plans: dict[str, VacancyPlan] = field(default_factory=dict)
    plan_excess: frozenset[str] = frozenset()  # slot ids entered after their plan's places ran out
    deferred: frozenset[str] = frozenset()  # ID numbers with a recorded deferral covering the month
    end: dt.date = dt.date.min

    def __post_init__(self) -> None:
        self.end = month_end(self.month)

    def code(self, department: str, local_id: str | None) -> str | None:
        """The canonical institution code of a department's unit (its own code when unplaced)."""
        if local_id is None:
            return None
        return self.crosswalk.code_of(department, local_id) or f"{department}:{local_id}"

    def institution(self, entity: str, local_id: str | None) -> str | None:
        """The canonical code of the institution a record of `entity` names by its keeper's unit code."""
        return self.code(self.holders[entity], local_id)

    def source(self, entity: str) -> str:
        """The department keeping an entity (the entity itself when none does), to list values by source."""
        return self.holders.get(entity, entity)

    def placed(self, code: str | None) -> bool:
        """Whether an institution code is one the registry base knows (comparable across sources)."""
        ident = self.crosswalk.identity(code) if code else None
        return ident is not None and ident.local_id(self.crosswalk.base) is not None

    def region(self, code: str | None) -> str | None:
        """The division code of an institution."""
        ident = self.crosswalk.identity(code) if code else None
        return ident.region_code if ident else None

    def label(self, code: str | None) -> str:
        """'name (code)' of an institution, for messages."""
        ident = self.crosswalk.identity(code) if code else None
        return f"{ident.name} ({code})" if ident and ident.name else str(code or "—")

    def funding(self, unit_local_id: str) -> str | None:
        """The registry base's funding mode of a unit."""
        unit = self.units.get(unit_local_id)
        return unit.funding if unit else None


def is_active(slot: RegistrySlot, end: dt.date) -> bool:
    """在编 or 借调 with no leaving date on or before `end` (and entered by then): judged from the registry."""
    return (
        slot.status in ACTIVE_STATUSES
        and (slot.left_on is None or slot.left_on > end)
        and (slot.entered_on is None or slot.entered_on <= end)
    )


def current_at(start: dt.date | None, stop: dt.date | None, end: dt.date) -> bool:
    """Whether a record with a start and an optional end date is in force on `end`."""
    return (start is None or start <= end) and (stop is None or stop > end)


def month_of(day: dt.date | None) -> str | None:
    """'YYYY-MM' of a date."""
    return f"{day:%Y-%m}" if day else None


def add_month(month: str, n: int) -> str:
    """A 'YYYY-MM' month plus n months."""
    index = int(month[:4]) * 12 + int(month[5:7]) - 1 + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def yuan(fen: int) -> str:
    """Integer fen as yuan with thousands separators: 582000 -> '5,820.00'."""
    return f"{fen / 100:,.2f}"


PersonCheck = Callable[["Facts", World], Hit | None]  # a person rule: its hit, or None


class Facts:
    """One person at the reference month: active slots, pay lines of the month, current HR record."""

    __slots__ = ("view", "id_number", "active", "lines", "employed")

    def __init__(self, view: PersonView, world: World) -> None:
        self.view = view
        self.id_number = view.id_number
        self.active = [s for s in view.slots if is_active(s, world.end)]
        self.lines = [line for line in view.pay if line.month == world.month]
        employed = [p for p in view.personnel if p.status == EmploymentStatus.EMPLOYED]
        self.employed = employed or view.personnel

    def payee(self, code: str) -> Payee | None:
        """The person's payee record with a payee code."""
        return next((p for p in self.view.payees if p.payee_code == code), None)

    def pay_units(self, world: World) -> list[str]:
        """Canonical codes of the institutions that paid the person in the reference month."""
        return sorted({c for line in self.lines if (c := world.institution("pay_line", self.pay_unit(line)))})

    def pay_unit(self, line: PayLine) -> str | None:
        """The finance unit of a pay line (the payee's unit when the line has none)."""
        if line.unit_local_id:
            return line.unit_local_id
        payee = self.payee(line.payee_code)
        return payee.unit_local_id if payee else None

    def institutions(self, world: World) -> tuple[str, ...]:
        """Every institution the person is tied to in any source (for scoping findings)."""
        codes = {world.institution("registry_slot", s.unit_local_id) for s in self.view.slots}
        codes |= {world.institution("payee", p.unit_local_id) for p in self.view.payees}
        codes |= {world.institution("personnel", p.unit_local_id) for p in self.view.personnel}
        codes |= {world.institution("cadre", c.unit_local_id) for c in self.view.cadres}
        codes |= set(self.pay_units(world))
        return tuple(sorted(c for c in codes if c))

    def home(self, world: World) -> str | None:
        """The person's main institution: an active slot's, else the payer's, else HR's, else any slot's."""
        for slot in self.active:
            return world.institution("registry_slot", slot.unit_local_id)
        units = self.pay_units(world)
        if units:
            return units[0]
        for p in self.employed:
            if p.unit_local_id:
                return world.institution("personnel", p.unit_local_id)
        for slot in sorted(self.view.slots, key=lambda s: s.left_on or dt.date.max, reverse=True):
            return world.institution("registry_slot", slot.unit_local_id)
        return None
