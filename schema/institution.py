"""GraphQL types of institutions: identity, quotas against headcount, leadership posts."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import strawberry

from hub.codes import REGIONS
from hub.context import HubContext
from hub.crosswalk import BASE
from resolvers import institutions as data
from resolvers.institutions import InstitutionView, PostLine, QuotaLine
from schema.enums import Department, Funding, InstitutionType, PostLevel, PostScope, QuotaType, Rank

if TYPE_CHECKING:
    from schema.person import Person

Info = strawberry.Info[HubContext, None]


@strawberry.type(description="编制核定与占用 / approved vs occupied slots of one quota type")
class QuotaSummary:
    quota_type: QuotaType = strawberry.field(description="编制类型 / quota type")
    approved: int = strawberry.field(description="核定编制数 / approved quota")
    occupied: int = strawberry.field(description="实有人数（实名制在编） / active registry slots")
    document: str | None = strawberry.field(description="批准文号 / approval document")
    approved_on: dt.date | None = strawberry.field(description="批准日期 / approval date")

    @strawberry.field(description="空编数 / vacant slots")
    def vacant(self: QuotaLine) -> int:  # type: ignore[misc]
        return max(self.approved - self.occupied, 0)

    @strawberry.field(description="超编数 / slots over the quota")
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


@strawberry.type(description="某部门库中的单位记录 / a department's own record of the institution")
class SourceUnit:
    department: Department = strawberry.field(description="部门 / department")
    local_code: str = strawberry.field(description="该部门的单位编码 / the department's unit code")


@strawberry.federation.type(keys=["code"], description="机构（单位） / an institution, joined over the four departments")
class Institution:
    view: strawberry.Private[InstitutionView]

    @strawberry.field(description="统一社会信用代码，无则为枢纽交叉码 / USCC, or the hub's crosswalk code")
    def code(self) -> str:
        return self.view.identity.code

    @strawberry.field(description="机构名称 / name")
    def name(self) -> str | None:
        unit = self.view.unit
        return unit.name if unit else self.view.identity.name

    @strawberry.field(description="行政区划代码 / division code (GB/T 2260, zones as sub-codes)")
    def region_code(self) -> str | None:
        return self.view.identity.region_code

    @strawberry.field(description="行政区划名称 / division name")
    def region_name(self) -> str | None:
        code = self.view.identity.region_code
        return REGIONS.get(code) if code else None

    @strawberry.field(description="机构类别 / institution type")
    def type(self) -> InstitutionType | None:
        return self.view.unit.type if self.view.unit else None  # type: ignore[return-value]

    @strawberry.field(description="机构规格 / rank")
    def rank(self) -> Rank | None:
        return self.view.unit.rank if self.view.unit else None  # type: ignore[return-value]

    @strawberry.field(description="经费形式 / funding mode")
    def funding(self) -> Funding | None:
        return self.view.unit.funding if self.view.unit else None  # type: ignore[return-value]

    @strawberry.field(description="学校类型（仅学校） / school type, schools only")
    def school_type(self) -> str | None:
        return self.view.unit.school_type if self.view.unit else None

    @strawberry.field(description="在校学生数（仅学校） / enrolled students, schools only")
    def students(self) -> int | None:
        return self.view.unit.students if self.view.unit else None

    @strawberry.field(description="成立日期 / established on")
    def established_on(self) -> dt.date | None:
        return self.view.unit.established_on if self.view.unit else None

    @strawberry.field(description="各部门的单位编码 / the institution's code in each department")
    def source_units(self) -> list[SourceUnit]:
        return [SourceUnit(department=Department(d), local_code=lid) for d, lid in self.view.identity.local]

    @strawberry.field(description="上级机构 / parent institution")
    async def parent(self, info: Info) -> Institution | None:
        unit = self.view.unit
        if unit is None or unit.parent_local_id is None or self.view.identity.primary != BASE:
            return None
        found = (await data.by_local(info.context, BASE, [unit.parent_local_id]))[0]
        return Institution(view=found) if found else None

    @strawberry.field(description="下属机构 / child institutions")
    async def children(self, info: Info) -> list[Institution]:
        local = self.view.identity.local_id(BASE)
        if local is None:
            return []
        units = await info.context.loaders.by(BASE, "unit", "parent_local_id").load(local)
        found = await data.by_local(info.context, BASE, [u.local_id for u in units])
        return [Institution(view=v) for v in found if v]

    @strawberry.field(description="各类编制核定、实有、空编、超编 / quotas by type: approved, occupied, vacant, over")
    async def quotas(self, info: Info) -> list[QuotaSummary]:
        return await data.quota_lines(info.context, self.view)  # type: ignore[return-value]

    @strawberry.field(description="领导职数核定与在任 / leadership posts: approved and filled")
    async def leadership_posts(self, info: Info) -> list[LeadershipPost]:
        lines: list[PostLine] = await data.post_lines(info.context, self.view)
        return lines  # type: ignore[return-value]

    @strawberry.field(description="实名制在编人员 / people holding slots (active only unless all=true)")
    async def people(self, info: Info, all: bool = False) -> list[Annotated[Person, strawberry.lazy("schema.person")]]:
        from schema.person import people_of_institution

        return await people_of_institution(info.context, self.view, active_only=not all)

    @classmethod
    async def resolve_reference(cls, info: Info, code: str) -> Institution | None:
        view = await data.by_code(info.context, code)
        return Institution(view=view) if view else None
