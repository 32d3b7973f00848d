"""GraphQL types of institutions: identity, quotas against headcount, leadership posts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from hub.core.codes import REGIONS
from resolvers import institutions as data
from resolvers import people
from resolvers.batch import Reads, batch_field, batched, reading, reads, records
from resolvers.context import HubContext
from resolvers.institutions import InstitutionView, PostLine, QuotaLine
from resolvers.loaders import SlotsByPlan
from resolvers.people import Listed
from schema.enums import (
    Department,
    Funding,
    InstitutionType,
    PlanStatus,
    PostLevel,
    PostScope,
    QuotaType,
    Rank,
)

if TYPE_CHECKING:
    from schema.person import PayrollChangeRecord, Person

Info = strawberry.Info[HubContext, None]


@strawberry.type(description="编制核定与占用 / approved vs occupied slots of one quota type")
class QuotaSummary:
    quota_type: QuotaType = strawberry.field(description="编制类型 / quota type")
    approved: int = strawberry.field(description="核定编制数 / approved quota")
    occupied: int = strawberry.field(description="实有人数（实名制在编） / active registry slots")
    document: str | None = strawberry.field(description="批准文号 / approval document")
    approved_on: dt.date | None = strawberry.field(description="批准日期 / approval date")

    @strawberry.field(description="空编数 / vacant slots", metadata=reading())
    def vacant(self: QuotaLine) -> int:  # type: ignore[misc]
        return max(self.approved - self.occupied, 0)

    @strawberry.field(description="超编数 / slots over the quota", metadata=reading())
    def over(self: QuotaLine) -> int:  # type: ignore[misc]
        return max(self.occupied - self.approved, 0)


@strawberry.type(description="领导职数 / approved leadership posts and those in use")
class LeadershipPost:
    level: PostLevel = strawberry.field(description="正职或副职 / head or deputy")
    scope: PostScope = strawberry.field(description="单位或内设机构 / unit-level or internal")
    approved: int = strawberry.field(description="核定职数（编办） / approved posts (establishment office)")
    filled: int | None = strawberry.field(
        description="在任人数（组织部任职，未免职） / appointments in post (organization department); null if unknown"
    )

    @strawberry.field(description="空缺职数 / posts not filled; null if unknown", metadata=reading())
    def vacant(self: PostLine) -> int | None:  # type: ignore[misc]
        return None if self.filled is None else max(self.approved - self.filled, 0)

    @strawberry.field(description="超职数配备人数 / leaders over the approved posts; null if unknown", metadata=reading())
    def over(self: PostLine) -> int | None:  # type: ignore[misc]
        return None if self.filled is None else max(self.filled - self.approved, 0)


@strawberry.type(description="某部门库中的单位记录 / a department's own record of the institution")
class SourceUnit:
    department: Department = strawberry.field(description="部门 / department")
    local_code: str = strawberry.field(description="该部门的单位编码 / the department's unit code")


def views_of(views: Sequence[InstitutionView | None]) -> list[Institution | None]:
    """The Institution object of each view (one object per view)."""
    made: dict[int, Institution] = {}
    out: list[Institution | None] = []
    for view in views:
        if view is None:
            out.append(None)
            continue
        inst = made.get(id(view))
        if inst is None:
            inst = made[id(view)] = Institution(view=view)
        out.append(inst)
    return out


def institution_field(fn: Callable[[HubContext, Sequence[Any]], Awaitable[Sequence[InstitutionView | None]]],
                      description: str, reads: Reads) -> Any:
    """A field: the institution a batch function finds for each parent."""

    async def batch(ctx: HubContext, parents: Sequence[Any]) -> list[Institution | None]:
        return views_of(await fn(ctx, parents))

    return batch_field(batch, description, reads)


def institution_of(entity: str, description: str) -> Any:
    """A field of a type marked @records(entity): each record's institution, by the unit code on it."""

    async def found(ctx: HubContext, records: Sequence[Any]) -> list[InstitutionView | None]:
        return await data.of_records(ctx, entity, records)

    return institution_field(found, description, reads({"unit_local_id"}))


_PLAN_USE = reads({"plan_id", "planned"}, via={SlotsByPlan: {"plan_id"}})


@records("vacancy_plan")
@strawberry.type(description="空编补员计划（编办） / vacancy-filling plan (establishment office)")
class VacancyPlan:
    plan_id: str = strawberry.field(description="计划编号 / plan id")
    quota_type: QuotaType | None = strawberry.field(description="编制类型 / quota type")
    planned: int = strawberry.field(description="计划补员名额 / places planned")
    approved_on: dt.date | None = strawberry.field(description="批准日期 / approved on")
    status: PlanStatus | None = strawberry.field(description="计划状态 / status")
    used: int = batch_field(data.plan_entries, "已使用名额（实名制中使用该计划的入编记录数） / places used: registry entries citing the plan", _PLAN_USE)
    left: int = batch_field(data.plan_places_left, "剩余名额 / places left (planned minus used, not below zero)", _PLAN_USE)

    @strawberry.field(description="编办登记的已用名额（参考） / places used as the plan itself records them (informational)",
                      metadata=reading({"used"}))
    def recorded_used(self) -> int | None:
        return self.used


def _views(insts: Sequence[Institution]) -> list[InstitutionView]:
    return [i.view for i in insts]


async def _parents(ctx: HubContext, insts: Sequence[Institution]) -> list[Institution | None]:
    return views_of(await data.parents(ctx, _views(insts)))


async def _children(ctx: HubContext, insts: Sequence[Institution]) -> list[list[Institution]]:
    groups = await data.children(ctx, _views(insts))
    found = iter(views_of([v for group in groups for v in group]))
    return [[i for i in (next(found) for _ in group) if i is not None] for group in groups]


async def _quotas(ctx: HubContext, insts: Sequence[Institution]) -> list[list[QuotaLine]]:
    return await data.quota_lines(ctx, _views(insts))


async def _posts(ctx: HubContext, insts: Sequence[Institution]) -> list[list[PostLine]]:
    return await data.post_lines(ctx, _views(insts))


async def _plans(ctx: HubContext, insts: Sequence[Institution]) -> list[list[Any]]:
    return await data.vacancy_plans(ctx, _views(insts))


async def _payroll_changes(ctx: HubContext, insts: Sequence[Institution]) -> list[list[Any]]:
    return await data.payroll_changes(ctx, _views(insts))


async def _people(ctx: HubContext, insts: Sequence[Institution], all: bool) -> list[list[Listed]]:  # noqa: A002
    return await people.slots_of_institutions(ctx, _views(insts), active_only=not all)


@strawberry.federation.type(keys=["code"], description="机构（单位） / an institution, joined over the four departments")
class Institution:
    view: strawberry.Private[InstitutionView]

    @strawberry.field(description="统一社会信用代码，无则为枢纽交叉码 / USCC, or the hub's crosswalk code", metadata=reading())
    def code(self) -> str:
        return self.view.identity.code

    @strawberry.field(description="机构名称 / name", metadata=reading(unit={"name"}))
    def name(self) -> str | None:
        unit = self.view.unit
        return unit.name if unit else self.view.identity.name

    @strawberry.field(description="行政区划代码 / division code (GB/T 2260, zones as sub-codes)", metadata=reading())
    def region_code(self) -> str | None:
        return self.view.identity.region_code

    @strawberry.field(description="行政区划名称 / division name", metadata=reading())
    def region_name(self) -> str | None:
        code = self.view.identity.region_code
        return REGIONS.get(code) if code else None

    @strawberry.field(description="机构类别 / institution type", metadata=reading(unit={"type"}))
    def type(self) -> InstitutionType | None:
        return self.view.unit.type if self.view.unit else None  # type: ignore[return-value]

    @strawberry.field(description="机构规格 / rank", metadata=reading(unit={"rank"}))
    def rank(self) -> Rank | None:
        return self.view.unit.rank if self.view.unit else None  # type: ignore[return-value]

    @strawberry.field(description="经费形式 / funding mode", metadata=reading(unit={"funding"}))
    def funding(self) -> Funding | None:
        return self.view.unit.funding if self.view.unit else None  # type: ignore[return-value]

    @strawberry.field(description="学校类型（仅学校） / school type, schools only", metadata=reading(unit={"school_type"}))
    def school_type(self) -> str | None:
        return self.view.unit.school_type if self.view.unit else None

    @strawberry.field(description="在校学生数（仅学校） / enrolled students, schools only", metadata=reading(unit={"students"}))
    def students(self) -> int | None:
        return self.view.unit.students if self.view.unit else None

    @strawberry.field(description="成立日期 / established on", metadata=reading(unit={"established_on"}))
    def established_on(self) -> dt.date | None:
        return self.view.unit.established_on if self.view.unit else None

    @strawberry.field(description="各部门的单位编码 / the institution's code in each department", metadata=reading())
    def source_units(self) -> list[SourceUnit]:
        # the enum's values are the department ids themselves (schema.enums.install_departments)
        return [SourceUnit(department=d, local_code=lid) for d, lid in self.view.identity.local]  # type: ignore[arg-type]

    parent: Institution | None = batch_field(_parents, "上级机构 / parent institution", reads(unit={"parent_local_id"}))
    children: list[Institution] = batch_field(_children, "下属机构 / child institutions", reads(unit={"local_id", "parent_local_id"}))
    quotas: list[QuotaSummary] = batch_field(
        _quotas, "各类编制核定、实有、空编、超编 / quotas by type: approved, occupied, vacant, over",
        reads(quota={"quota_type", "approved", "document", "approved_on"}, registry_slot={"quota_type"}),
    )
    leadership_posts: list[LeadershipPost] = batch_field(
        _posts, "领导职数核定与在任 / leadership posts: approved and filled",
        reads(leadership_post={"level", "scope", "approved"}, appointment={"role", "level_code"}, unit={"rank"}),
    )
    vacancy_plans: list[VacancyPlan] = batch_field(
        _plans, "空编补员计划（编办） / vacancy-filling plans (establishment office)", reads(vacancy_plan=()))
    payroll_changes: list[Annotated[PayrollChangeRecord, strawberry.lazy("schema.person")]] = batch_field(
        _payroll_changes, "本单位发放人员的劳资异动（财政局） / payroll changes of the people it pays (finance bureau)",
        reads(payroll_change=()))

    @strawberry.field(
        description="实名制在编人员 / people holding slots (active only unless all=true)",
        metadata=batched(_people, reads(registry_slot={"id_number"})),
    )
    async def people(self, info: Info, all: bool = False) -> list[Annotated[Person, strawberry.lazy("schema.person")]]:
        return await info.context.batchers.load(_people, self, all=all)  # type: ignore[no-any-return]

    @classmethod
    async def resolve_reference(cls, info: Info, **representation: Any) -> Institution | None:
        """A federation entity `{__typename: "Institution", code}`: the institution as `Query.institution` finds one."""
        code = representation.get("code")
        view = await data.by_code(info.context, code if isinstance(code, str) else "")
        return Institution(view=view) if view else None
