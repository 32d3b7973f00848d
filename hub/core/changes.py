"""Changes: what a completed application writes into one department's database, in canonical terms.

The workflow (hub.workflow) turns a completed application into `Change`s, one department each, and
keeps them in the hub store's outbox (hub.store.outbox) in the same transaction that completes the
application. They then reach the department either through its adapter (`Adapter.apply`, for a
department that grants writes) or, for one that does not, as change events its own system pulls.
`(application_id, seq)` names a change for good: applying it twice changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ChangeOp(StrEnum):
    """What a change does to a canonical record."""

    INSERT = "INSERT"  # a new record with `values`
    UPDATE = "UPDATE"  # set `values` on the records matching `key`


@dataclass(frozen=True, slots=True)
class Change:
    """One canonical change: `values` (canonical field -> canonical value) for `entity` in `department`."""

    application_id: str  # the hub's application id
    seq: int  # the change's position in its application (unique per application)
    department: str
    entity: str  # a canonical entity (hub.core.records.RECORDS), e.g. "registry_slot"
    op: ChangeOp
    values: Mapping[str, Any]
    key: Mapping[str, Any] = field(default_factory=dict)  # UPDATE: canonical fields that pick the rows
