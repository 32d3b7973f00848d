"""Row scope: the region a principal may see, as each department's unit codes for SQL WHERE clauses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.base import NEVER, AnyOf
from hub.core.codes import LEAGUE, in_scope
from hub.core.crosswalk import Crosswalk, Identity


@dataclass(frozen=True, slots=True)
class RowScope:
    """The units of one region in every department; league scope filters nothing."""

    region: str
    units: dict[str, frozenset[str]]

    @property
    def everything(self) -> bool:
        """Whether this scope is the whole league."""
        return self.region == LEAGUE

    def admits(self, identity: Identity | None) -> bool:
        """Whether an institution lies inside the scope."""
        return identity is not None and (self.everything or in_scope(identity.region_code, self.region))

    def where(self, department: str, field: str | None, where: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A filter plus the scope's condition on the entity's unit field (nothing passes without one)."""
        out = dict(where or {})
        if self.everything:
            return out
        # Under its own key, so it narrows (never replaces) a caller's condition on the same field.
        out["*scope"] = NEVER if field is None else AnyOf(({field: sorted(self.units.get(department, ()))},))
        return out


def scope_for(crosswalk: Crosswalk, region: str) -> RowScope:
    """The scope of a region over a crosswalk (each department's unit codes inside it), memoized."""
    if region == LEAGUE:
        return RowScope(region, {})
    found = crosswalk.memo.get(("scope", region))
    if found is None:
        found = crosswalk.memo[("scope", region)] = _build(crosswalk, region)
    return found  # type: ignore[no-any-return]


def _build(crosswalk: Crosswalk, region: str) -> RowScope:
    units: dict[str, set[str]] = {}
    for ident in crosswalk.by_code.values():
        if in_scope(ident.region_code, region):
            for department, local in ident.local:
                units.setdefault(department, set()).add(local)
    return RowScope(region, {d: frozenset(u) for d, u in units.items()})
