"""Change events over GraphQL: a department's outbox as its own system pulls and acknowledges it.

Which department a caller may name is decided before this runs (the `department` argument's
declaration, schema/arguments.py, checked by schema/execution/executor/row_scope.py).
"""

from __future__ import annotations

from hub.core.errors import BadUserInput
from hub.store import outbox
from hub.store.outbox import Event
from resolvers.context import HubContext

_MAX_ID = 2**63 - 1


def _id(value: int | None, name: str) -> int:
    if value is None:
        return 0
    if not 0 <= value <= _MAX_ID:
        raise BadUserInput(f"{name} 须为非负的事件编号 / {name} must be a non-negative event id")
    return value


async def events(ctx: HubContext, department: str, after: int | None, size: int) -> list[Event]:
    """Up to `size` events of a department after the event id `after`, oldest first."""
    return await outbox.events(ctx.require_store(), department, after=_id(after, "after"), limit=size)


async def acknowledge(ctx: HubContext, department: str, up_to: int) -> int:
    """Acknowledge a department's events up to an id; how many were newly acknowledged."""
    return await outbox.acknowledge(ctx.require_store(), department, _id(up_to, "upTo"))
