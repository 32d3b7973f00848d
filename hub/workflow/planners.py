"""Planners: the code of kinds whose input is a whole plan (lists of moves) no effect template can spell.

A kind names its planner (`planner: reorganization`); the planner parses the input into a plan,
checks the plan as a whole under the locks of every institution it names (reserving at submission),
and makes the changes when the application completes. Everything else — stages, Casbin actions,
states, history, withdrawal — is the engine's, as for any kind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.registry import Sources
from hub.core.changes import Change
from hub.core.crosswalk import Crosswalk


class Plan(Protocol):
    """A parsed plan: the institutions it touches (locked while it is checked)."""

    @property
    def institutions(self) -> Collection[str]: ...


class Planner(Protocol):
    """What a planned kind runs."""

    def parse(self, values: Mapping[str, Any], crosswalk: Crosswalk) -> Plan: ...

    async def check(self, conn: AsyncConnection, sources: Sources, plan: Any, application_id: str, today: dt.date,
                    *, reserve: bool) -> Any: ...

    async def changes(self, sources: Sources, checked: Any, application_id: str) -> list[Change]: ...


def planner(name: str) -> Planner:
    """A planner by name (ValueError when unknown)."""
    from hub.workflow import reorganization

    found: dict[str, Planner] = {"reorganization": reorganization.PLANNER}
    if name not in found:
        raise ValueError(f"unknown planner {name!r}")
    return found[name]
