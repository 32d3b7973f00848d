"""Teacher allocation (the data: resolvers/allocation.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry

from hub.core.errors import HubError
from hub.core.stats import Dimension
from resolvers import allocation as data
from resolvers.batch import batched
from resolvers.context import HubContext
from schema.institution import Institution

Info = strawberry.Info[HubContext, None]


@strawberry.type(description="一所学校的教师配置 / one school's teacher allocation")
class SchoolAllocation:
    institution: Institution = strawberry.field(description="学校 / school")
    region_code: str | None = strawberry.field(description="行政区划代码 / division code")
    school_type: str = strawberry.field(description="学校类别（小学、初中、高中、完全中学） / school type")
    students: int | None = strawberry.field(description="在校学生数 / enrolled students")
    boarding: bool = strawberry.field(description="寄宿制学校 / boarding school")
    mongolian_medium: bool = strawberry.field(description="蒙古语授课学校 / Mongolian-medium school")
    ratio: float | None = strawberry.field(description="生师比标准（每名教职工对应学生数） / students per staff member by the standard")
    allowance: float = strawberry.field(description="附加编制比例 / extra allowance, a fraction of the need")
    need: int | None = strawberry.field(description="应配教职工数 / staff needed")
    teachers: int = strawberry.field(description="实有教职工数（中小学编制，按人计） / teaching staff (JS quota, persons)")
    gap: int | None = strawberry.field(description="余缺（正为超配，负为缺员） / teachers minus need: positive surplus, negative shortage")


@strawberry.type(description="按某一维度的余缺 / surplus and shortage by one value of a dimension")
class AllocationBreakdown:
    value: str | None = strawberry.field(description="取值 / value")
    teachers: int = strawberry.field(description="实有教职工数 / teaching staff")
    expected: float = strawberry.field(description="按占比分摊的应配数 / need apportioned by the value's share")
    shortage: float = strawberry.field(description="缺员（逐校累计） / shortage, added up school by school")
    surplus: float = strawberry.field(description="超配（逐校累计） / surplus, added up school by school")


@strawberry.type(description="建议调配 / a suggested move")
class SuggestedMove:
    source: Institution = strawberry.field(description="调出学校（超配） / from (a surplus school)")
    target: Institution = strawberry.field(description="调入学校（缺员） / to (a short school)")
    teachers: int = strawberry.field(description="建议调配人数 / teachers to move")
    same_region: bool = strawberry.field(description="同一行政区划 / same division code")


@strawberry.type(description="教师配置 / teacher allocation")
class TeacherAllocation:
    schools: list[SchoolAllocation] = strawberry.field(description="各学校 / schools")
    by_subject: list[AllocationBreakdown] = strawberry.field(description="按任教学科 / by teaching subject")
    by_title_level: list[AllocationBreakdown] = strawberry.field(description="按最高职称级别 / by highest title level")
    by_education: list[AllocationBreakdown] = strawberry.field(description="按学历 / by education")
    by_age_band: list[AllocationBreakdown] = strawberry.field(description="按年龄段 / by age band")
    moves: list[SuggestedMove] = strawberry.field(description="建议调配（旗区内，由近及远） / suggested moves within a banner, closest first")
    need: int = strawberry.field(description="应配合计 / staff needed, total")
    teachers: int = strawberry.field(description="实有合计 / teaching staff, total")
    shortage: int = strawberry.field(description="缺员合计（逐校） / shortage, school by school")
    surplus: int = strawberry.field(description="超配合计（逐校） / surplus, school by school")


def _breakdowns(rows: Sequence[data.Breakdown]) -> list[AllocationBreakdown]:
    return [AllocationBreakdown(value=r.value, teachers=r.teachers, expected=r.expected, shortage=r.shortage, surplus=r.surplus)
            for r in rows]


def answer(found: data.Allocation) -> TeacherAllocation:
    gaps = [s.gap for s in found.schools if s.gap is not None]
    return TeacherAllocation(
        schools=[SchoolAllocation(
            institution=Institution(view=s.institution), region_code=s.institution.identity.region_code,
            school_type=s.enrolment.school_type, students=s.enrolment.students, boarding=s.boarding,
            mongolian_medium=s.mongolian_medium, ratio=s.ratio, allowance=s.allowance, need=s.need, teachers=s.teachers,
            gap=s.gap) for s in found.schools],
        by_subject=_breakdowns(found.breakdowns[Dimension.SUBJECT]),
        by_title_level=_breakdowns(found.breakdowns[Dimension.TITLE_LEVEL]),
        by_education=_breakdowns(found.breakdowns[Dimension.EDUCATION]),
        by_age_band=_breakdowns(found.breakdowns[Dimension.AGE_BAND]),
        moves=[SuggestedMove(source=Institution(view=m.source), target=Institution(view=m.target), teachers=m.teachers,
                             same_region=m.same_region) for m in found.moves],
        need=sum(s.need or 0 for s in found.schools), teachers=sum(s.teachers for s in found.schools),
        shortage=sum(-g for g in gaps if g < 0), surplus=sum(g for g in gaps if g > 0),
    )


async def _allocation(ctx: HubContext, roots: Any, region_code: str | None) -> list[Any]:
    try:
        return [answer(await data.allocation(ctx, region_code))]
    except HubError as exc:
        return [exc]


@strawberry.type
class AllocationQuery:
    @strawberry.field(
        description="教师配置：各学校按在校生数和编制标准应配与实有教职工的余缺，按学科、职称、学历、年龄段的余缺，及旗区内由近及远的"
                    "调配建议 / teacher allocation: each school's staff against the need from enrolment and the staffing "
                    "standard, gaps by subject, title, education and age band, and suggested moves within a banner",
        metadata=batched(_allocation))
    async def teacher_allocation(self, info: Info, region_code: str | None = None) -> TeacherAllocation | None:
        return await info.context.batchers.load(_allocation, self, region_code=region_code)  # type: ignore[no-any-return]
