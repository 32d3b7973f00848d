"""The annual rollup 机构编制统计年报 (the data: resolvers/annual.py)."""

from __future__ import annotations

from typing import Any

import strawberry

from hub.core.errors import HubError
from resolvers import annual as data
from resolvers.batch import batched
from resolvers.context import HubContext

Info = strawberry.Info[HubContext, None]


@strawberry.type(description="年报的一行 / one line of the annual report")
class AnnualReportLine:
    section: str = strawberry.field(description="栏目代码（INSTITUTIONS、QUOTAS、LEADERSHIP、LEADERS、ENTRIES、EXITS） / section code")
    section_name: str = strawberry.field(description="栏目 / section")
    category: str | None = strawberry.field(description="类别（机构类别、编制类型、职数类别、退出原因） / category: institution "
                                                       "type, quota type, post scope, leaving reason")
    item: str | None = strawberry.field(description="项目（机构规格、职务层次） / item: institution rank, head or deputy")
    approved: int | None = strawberry.field(description="核定数 / approved")
    actual: int | None = strawberry.field(description="实有数 / actual")


@strawberry.type(description="机构编制统计年报 / the annual establishment statistics report")
class AnnualReport:
    year: int = strawberry.field(description="年度 / year")
    region_code: str | None = strawberry.field(description="行政区划代码 / division code")
    lines: list[AnnualReportLine] = strawberry.field(description="各栏目 / the sections' lines")


async def _annual(ctx: HubContext, roots: Any, year: int, region_code: str | None) -> list[Any]:
    try:
        found = await data.annual(ctx, year, region_code)
    except HubError as exc:
        return [exc]
    return [AnnualReport(year=year, region_code=region_code, lines=[
        AnnualReportLine(section=x.section, section_name=data.SECTIONS[x.section], category=x.category, item=x.item,
                         approved=x.approved, actual=x.actual) for x in found])]


@strawberry.type
class AnnualQuery:
    @strawberry.field(
        description="机构编制统计年报：年末机构数（按类别和规格）、编制与实有人员（按编制类型）、领导职数和在任领导、本年进入和退出 / "
                    "the annual rollup: institutions by type and rank, approved and actual staff by quota type, leadership "
                    "posts and leaders at the year's end, entries and exits in the year",
        metadata=batched(_annual))
    async def annual_report(self, info: Info, year: int, region_code: str | None = None) -> AnnualReport | None:
        return await info.context.batchers.load(_annual, self, year=year, region_code=region_code)  # type: ignore[no-any-return]
