"""GraphQL of change events: what completed applications change in a department's database, for its
own system to pull (`changeEvents`) and acknowledge (`acknowledgeChangeEvents`).

A department that grants writes has its events applied by the hub (hub/workflow/delivery.py):
`deliveredAt` says when. One that does not pulls them, in id order, with `after` the last id it
has, and acknowledges what it applied. A caller names only its own department (admin any).
"""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.scalars import JSON

from hub.store.outbox import Event
from resolvers import change_events as data
from resolvers.context import HubContext
from schema.enums import Department
from schema.pagination import page_size

Info = strawberry.Info[HubContext, None]


@strawberry.type(description="变更事件：办结申请对某部门数据的一项变更 / a change event: one change a completed "
                             "application makes in a department's data")
class ChangeEvent:
    id: int = strawberry.field(description="事件编号（递增） / event id, increasing")
    department: Department = strawberry.field(description="部门 / department")
    application_id: str = strawberry.field(description="申请编号 / the application's id")
    seq: int = strawberry.field(description="申请内序号 / position within the application")
    entity: str = strawberry.field(description="实体（如 registry_slot） / canonical entity, e.g. registry_slot")
    op: str = strawberry.field(description="INSERT 新增 / UPDATE 修改 / INSERT or UPDATE")
    key: JSON = strawberry.field(description="UPDATE 的条件（规范字段） / an UPDATE's key, canonical fields")
    values: JSON = strawberry.field(description="写入的值（规范字段与代码） / the values, canonical fields and codes")
    created_at: dt.datetime = strawberry.field(description="办结时间 / when the application completed")
    delivered_at: dt.datetime | None = strawberry.field(description="枢纽写入部门库的时间 / when the hub wrote it "
                                                                    "into the department's database")
    acknowledged_at: dt.datetime | None = strawberry.field(description="部门系统确认的时间 / when the department's "
                                                                       "system acknowledged it")


def _event(event: Event) -> ChangeEvent:
    c = event.change
    return ChangeEvent(id=event.id, department=c.department, application_id=c.application_id,  # type: ignore[arg-type]
                       seq=c.seq, entity=c.entity, op=c.op.value, key=JSON(dict(c.key)), values=JSON(dict(c.values)),
                       created_at=event.created_at, delivered_at=event.delivered_at,
                       acknowledged_at=event.acknowledged_at)


@strawberry.type
class ChangeEventsQuery:
    @strawberry.field(description="本部门的变更事件（按编号升序，after 之后） / a department's change events, oldest "
                                  "first, after the event id `after`")
    async def change_events(self, info: Info, department: Department, after: int | None = None,
                            first: int | None = None) -> list[ChangeEvent]:
        size = page_size(first, info.context.settings.max_page_size)
        return [_event(e) for e in await data.events(info.context, str(department), after, size)]


@strawberry.type
class ChangeEventsMutation:
    @strawberry.mutation(description="确认已应用的变更事件（至 upTo 为止）；返回新确认的数量 / acknowledge a department's "
                                     "events up to the id upTo; returns how many were newly acknowledged")
    async def acknowledge_change_events(self, info: Info, department: Department, up_to: int) -> int:
        return await data.acknowledge(info.context, str(department), up_to)
