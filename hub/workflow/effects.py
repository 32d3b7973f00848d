"""A completed application's effects: its kind's templates (hub/workflow/kinds.py) resolved into `Change`s.

Each change goes to the department that keeps its entity (`Sources.holder`), with the institution's
local id in that department; `$person.<entity>.<field>` reads the person's record there, at the
institution (an active one first, for registry slots).

A new record's ids are the ones its department's mapping generates (derived from the application id
and the change's seq by the entity's id templates, checked against the department and reserved by
`assign`: hub/workflow/generated.py), put into the change's values, so the adapter writes exactly
them and a department pulling change events sees them; `$new.<entity>.<field>` names a field of a record an earlier effect of the application inserts
(the payee code of the payee an onboarding creates, in its payroll change).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters.registry import Sources
from hub.core import ids
from hub.core.changes import Change, ChangeOp
from hub.core.codes import SlotStatus
from hub.core.crosswalk import Identity
from hub.core.errors import Conflict
from hub.workflow.kinds import Effect, Kind


class Missing(Exception):
    """A `$person` record the template refers to does not exist."""


@dataclass(frozen=True, slots=True)
class Values:
    """What templates resolve against."""

    application_id: str
    input: Mapping[str, Any]
    institution: Identity
    person: Mapping[str, Any]  # entity -> the person's record at the institution (or None)
    plan: Mapping[str, Any]  # plan_id, used_after
    today: dt.date
    origin: Mapping[str, Any] = field(default_factory=dict)  # `$from`: entity -> the record at the institution left


def person_entities(kind: Kind, head: str = "person") -> list[str]:
    """The entities whose records of the person the kind's effects refer to (`$person`, or `$from` by `head`)."""
    found: list[str] = []
    for effect in kind.effects:
        for ref in _refs(effect):
            parts = ref.split(".")
            if parts[0] == head and len(parts) == 3 and parts[1] not in found:
                found.append(parts[1])
    return found


def _refs(effect: Effect) -> list[str]:
    return [v[1:] for v in (*effect.values.values(), *effect.key.values())
            if isinstance(v, str) and v.startswith("$") and not v.startswith("$$")]


async def person_records(sources: Sources, kind: Kind, ident: Identity, id_number: str | None,
                         head: str = "person") -> dict[str, Any]:
    """The person's record in each entity the effects refer to, at the institution (None when absent)."""
    out: dict[str, Any] = {}
    for entity in person_entities(kind, head):
        department = sources.holder(entity)
        local = ident.local_id(department)
        records = [r for r in await sources[department].fetch(entity, "id_number", [id_number])
                   if r.unit_local_id == local] if id_number and local else []
        records.sort(key=lambda r: getattr(r, "status", None) not in (SlotStatus.ACTIVE, SlotStatus.SECONDED)
                     or getattr(r, "left_on", None) is not None)
        out[entity] = records[0] if records else None
    return out


async def changes(kind: Kind, sources: Sources, values: Values,
                  assign: Callable[[Change], Awaitable[Change]]) -> list[Change]:
    """The kind's changes for one completed application, in the declared order (seq 1, 2, …); `assign` puts
    an INSERT's generated ids into its values."""
    out: list[Change] = []
    made: dict[str, Mapping[str, Any]] = {}  # entity -> the values of the record the application inserts
    for effect in kind.effects:
        department = sources.holder(effect.entity)
        try:
            rendered = {k: _resolve(v, values, department, made) for k, v in effect.values.items() if v != "$new"}
            key = {k: _resolve(v, values, department, made) for k, v in effect.key.items()}
        except Missing as missing:
            if effect.optional:
                continue
            raise Conflict(f"无法完成：该人员在本机构无{missing}记录 / cannot complete: the person has no {missing} "
                           "record at this institution") from None
        change = Change(values.application_id, len(out) + 1, department, effect.entity, effect.op, rendered, key)
        if effect.op is ChangeOp.INSERT:
            change = await assign(change)
            ungenerated = sorted(k for k, v in effect.values.items() if v == "$new" and k not in change.values)
            if ungenerated:
                raise ValueError(f"{kind.kind}: {effect.entity}.{ungenerated} are no ids the mapping generates")
            made[effect.entity] = change.values
        out.append(change)
    return out


def _resolve(value: Any, v: Values, department: str, made: Mapping[str, Mapping[str, Any]]) -> Any:
    if not isinstance(value, str) or not value.startswith("$"):
        return value
    if value.startswith("$$"):
        return value[1:]
    head, _, rest = value[1:].partition(".")
    match head:
        case "new":  # `$new.<entity>.<field>` (a bare `$new` is left to the mapping's id templates)
            entity, _, field = rest.partition(".")
            if entity not in made:  # its effect was optional and skipped
                raise Missing(entity)
            return made[entity][field]
        case "today":
            return v.today.isoformat()
        case "month":
            return v.today.strftime("%Y-%m")
        case "input":
            return v.input.get(rest)
        case "institution":
            return {"code": v.institution.code, "region_code": v.institution.region_code,
                    "local_id": v.institution.local_id(department)}[rest]
        case "plan":
            return v.plan.get(rest)
        case "id":
            id_number = str(v.input.get("idNumber"))
            return {"sex": "MALE" if ids.id_sex(id_number) == "male" else "FEMALE",
                    "birth": (ids.id_birth_date(id_number) or dt.date.min).isoformat()}[rest]
        case "person" | "from":
            entity, _, name = rest.partition(".")
            record = (v.person if head == "person" else v.origin).get(entity)
            if record is None:
                raise Missing(entity)
            return _plain(getattr(record, name))
    raise ValueError(f"unknown template reference {value!r}")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value
