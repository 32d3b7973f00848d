"""Generated ids of new department records: checked against the department and reserved in the store.

An INSERT change's ids come from its mapping's id templates (`adapters.write.derived`: digits of a
hash of the application id and the change's seq). Two applications can hash to the same id, and an
id can be one the department already has; the department would refuse the second row. So when a
completion renders its changes, each generated id is the first of the change's candidates (salt 0,
1, 2 … in the hash: the same for the same change, every time) that (a) no record of the entity in
the department has, read by one keyed fetch of a few candidates at once, and (b) the hub has not
generated before: an INSERT … ON CONFLICT DO NOTHING of (department, entity, field, value) into
`generated_ids`, in the completion's transaction (a rolled-back completion frees it; a concurrent
one taking the same value waits for it, then moves on). The id is then in the change's values in the
outbox, so deliveries and their retries write exactly it. UUID templates need no check. A department
that does not answer is not read (a completion does not wait for it): the reservation still keeps
the hub's ids apart, and a clash with a record of its own shows when the change is delivered.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy.ext.asyncio import AsyncConnection

from adapters.registry import Sources
from adapters.write import derived, id_templates
from hub.core.changes import Change
from hub.core.db import conflict_insert
from hub.core.errors import Conflict, SourceUnavailable
from hub.store.tables import generated_ids

BATCH = 3  # candidates checked against the department in one read
TRIES = 60  # candidates tried before giving up (a template whose ids are nearly all in use)


async def assign(conn: AsyncConnection, sources: Sources, change: Change) -> Change:
    """The change with the ids its mapping generates for it put into its values (an INSERT's, else as it is)."""
    templates = id_templates(sources[change.department].mapping, change)
    if not templates:
        return change
    fresh = {field: await _free(conn, sources, change, field, template) for field, template in templates.items()}
    return dataclasses.replace(change, values={**change.values, **fresh})


async def _free(conn: AsyncConnection, sources: Sources, change: Change, field: str, template: str) -> str:
    """The first candidate id the department does not have and this call reserved."""
    if template == "uuid":
        return derived(template, change.application_id, change.seq)
    make = conflict_insert(conn.dialect.name)
    assert make is not None, conn.dialect.name  # the store runs on SQLite or PostgreSQL
    insert = make(generated_ids).on_conflict_do_nothing()
    for start in range(0, TRIES, BATCH):
        candidates = [derived(template, change.application_id, change.seq, salt) for salt in range(start, start + BATCH)]
        try:
            records = await sources[change.department].fetch(change.entity, field, candidates, fields={field})
        except SourceUnavailable:  # a department down does not hold up a completion: the reservation still
            records = []  # keeps the hub's ids apart; only a clash with one of its own records waits for delivery
        held = {getattr(r, field) for r in records}
        for value in dict.fromkeys(candidates):
            if value in held:
                continue
            row = {"department": change.department, "entity": change.entity, "field": field, "value": value,
                   "application_id": change.application_id}
            if (await conn.execute(insert, row)).rowcount == 1:
                return value
    raise Conflict(f"无法为 {change.entity}.{field} 生成未被占用的编号 / no free id for {change.entity}.{field} "
                   f"after {TRIES} candidates of {template!r}")
