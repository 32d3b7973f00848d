"""The institution crosswalk: one canonical code per institution over four departments' unit codes.

Matching order (docs/domain.md §Institution identity): the organization code inside a valid USCC
(or a valid 9-character organization code), then the exact normalized name as a last resort. The
department keeping the staffing registry (the holder of `registry_slot`, `Sources.base`; the
establishment office) is authoritative for institutions, so its units are the base; another
department's unit that matches none is "unplaced" (a data-quality finding) and keeps a code of its
own, `<department>:<local id>`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from hub.core import ids
from hub.core.errors import HubError
from hub.core.records import Unit

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Identity:
    """One institution as the hub knows it: canonical code and each department's own code."""

    code: str
    name: str | None
    region_code: str | None
    local: tuple[tuple[str, str], ...]  # (department, local id)
    primary: str  # the department whose unit record describes it

    def local_id(self, department: str) -> str | None:
        """This institution's code in a department's database."""
        for dep, lid in self.local:
            if dep == department:
                return lid
        return None


@dataclass(slots=True)
class Crosswalk:
    """Lookups both ways between canonical codes and departments' local unit codes."""

    base: str  # the department whose units are the base (the registry's keeper)
    by_code: dict[str, Identity] = field(default_factory=dict)
    by_local: dict[tuple[str, str], str] = field(default_factory=dict)
    unplaced: list[tuple[str, Unit]] = field(default_factory=list)
    missing: tuple[str, ...] = ()  # departments that did not answer when this was built
    memo: dict[Any, Any] = field(default_factory=dict)  # values derived from this crosswalk (scopes)

    def code_of(self, department: str, local_id: str | None) -> str | None:
        """The canonical code of a department's unit."""
        return None if local_id is None else self.by_local.get((department, local_id))

    def identity(self, code: str) -> Identity | None:
        """The institution with a canonical code."""
        return self.by_code.get(code)

    def find(self, code: str | None) -> Identity | None:
        """The institution a user-given code names: a USCC in any spelling, or a crosswalk code."""
        key = institution_key(code)
        return self.by_code.get(key) if key else None

    def local_ids(self, department: str, codes: Iterable[str]) -> list[str]:
        """The department's unit codes of the given institutions (those it knows)."""
        found = (self.by_code.get(c) for c in codes)
        return [lid for ident in found if ident for lid in [ident.local_id(department)] if lid]


def institution_key(code: str | None) -> str | None:
    """A canonical institution code from user input: a USCC normalized, a crosswalk code (`dept:id`) kept."""
    if code is None:
        return None
    return code.strip() if ":" in code else ids.normalize_code(code)


def valid_org_code(code: str | None) -> str | None:
    """The organization code carried by a valid USCC or valid organization code, else None."""
    if code is None:
        return None
    if len(code) == 18:
        return code[8:17] if ids.uscc_problem(code) is None else None
    return code if len(code) == 9 and ids.org_code_problem(code) is None else None


def _valid_uscc(code: str | None) -> str | None:
    return code if code and len(code) == 18 and ids.uscc_problem(code) is None else None


def build_crosswalk(units: dict[str, list[Unit]], base: str, missing: tuple[str, ...] = ()) -> Crosswalk:
    """Match every department's units to the base department's, by org code then by name."""
    base_units = units.get(base, [])
    by_org: dict[str, int] = {}
    by_name: dict[str, int] = {}
    for i, unit in enumerate(base_units):
        org = valid_org_code(unit.credit_code)
        if org:
            by_org.setdefault(org, i)
        name = ids.normalize_name(unit.name)
        if name:
            by_name.setdefault(name, i)
    members: list[list[tuple[str, Unit]]] = [[(base, u)] for u in base_units]
    cw = Crosswalk(base, missing=missing)
    for department, dept_units in units.items():
        if department == base:
            continue
        for unit in dept_units:
            org = valid_org_code(unit.credit_code)
            index = by_org.get(org) if org else None
            if index is None:
                index = by_name.get(ids.normalize_name(unit.name) or "")
            if index is None:
                cw.unplaced.append((department, unit))
            else:
                members[index].append((department, unit))
    for group in members:
        head = group[0][1]
        uscc = next((c for _, u in group if (c := _valid_uscc(u.credit_code))), None)
        _add(cw, uscc or f"{base}:{head.local_id}", group, base)
    for department, unit in cw.unplaced:
        _add(cw, _valid_uscc(unit.credit_code) or f"{department}:{unit.local_id}", [(department, unit)], department)
    return cw


def _add(cw: Crosswalk, code: str, group: list[tuple[str, Unit]], primary: str) -> None:
    head = group[0][1]
    region = next((u.region_code for _, u in group if u.region_code), None)
    if code in cw.by_code:  # two base units claim one USCC: keep both reachable
        code = f"{primary}:{head.local_id}"
    cw.by_code[code] = Identity(code, head.name, region, tuple((d, u.local_id) for d, u in group), primary)
    for department, unit in group:
        cw.by_local[(department, unit.local_id)] = code


class UnitSources(Protocol):
    """What the crosswalk reads of the sources (adapters.registry.Sources): the base and each one's units."""

    @property
    def base(self) -> str: ...

    def items(self) -> list[tuple[str, Any]]: ...


class CrosswalkCache:
    """Builds the crosswalk from the sources and rebuilds it after `ttl` seconds (or sooner after a miss)."""

    def __init__(self, sources: UnitSources, ttl: float = 300.0, retry: float = 10.0) -> None:
        self._sources = sources
        self._ttl = ttl
        self._retry = retry
        self._value: Crosswalk | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def get(self) -> Crosswalk:
        """The current crosswalk, rebuilt when stale; while one request rebuilds it, the others use the previous one
        (a slow department must not hold every request up)."""
        if self._value is not None and (time.monotonic() < self._expires or self._lock.locked()):
            return self._value
        async with self._lock:
            if self._value is None or time.monotonic() >= self._expires:
                self._value = await self._build()
                wait = self._retry if self._value.missing else self._ttl
                self._expires = time.monotonic() + wait
        return self._value

    def invalidate(self) -> None:
        """Force a rebuild on the next use."""
        self._expires = 0.0

    async def _build(self) -> Crosswalk:
        units: dict[str, list[Unit]] = {}
        missing: list[str] = []
        for department, adapter in self._sources.items():
            if not adapter.supports("unit"):
                continue
            try:
                units[department] = [u async for chunk in adapter.stream("unit") for u in chunk]
            except HubError as exc:
                log.warning("crosswalk built without %s: %s", department, exc.message)
                missing.append(department)
        return build_crosswalk(units, self._sources.base, tuple(missing))
