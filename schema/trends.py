"""Trends of the key figures from the monthly snapshots (the data: resolvers/trends.py)."""

from __future__ import annotations

from typing import Any

import strawberry

from hub.core.errors import Forbidden, HubError
from policies.access import Access
from resolvers import trends as data
from resolvers.batch import batched, reads
from resolvers.context import HubContext
from schema.enums import QuotaType, TrendDimension, TrendMeasure

Info = strawberry.Info[HubContext, None]

# Pay totals are shown to those who may read the pay amounts they sum.
PAY_FIELDS = {data.Measure.PAY_GROSS: ("PayrollEntry", "gross"), data.Measure.PAY_NET: ("PayrollEntry", "net")}


@strawberry.type(description="某月的指标值 / one month of a measure")
class TrendPoint:
    month: str = strawberry.field(description="月份 YYYY-MM / month")
    region_code: str | None = strawberry.field(description="地区代码（按地区分列时） / region code (split by region)")
    quota_type: QuotaType | None = strawberry.field(description="编制类型（按编制类型分列时） / quota type (split by quota type)")
    value: float = strawberry.field(description="指标值（工资单位：分） / value (pay in fen)")
    change: float | None = strawberry.field(description="较上一个月的变化（首月为空） / change from the month before (null for the first)")


async def _trend(ctx: HubContext, roots: Any, measure: Any, by: list[Any] | None, from_month: str | None,
                 to_month: str | None, region_code: str | None) -> list[Any]:
    try:
        wanted = data.Measure(measure.value)
        needed = PAY_FIELDS.get(wanted)
        if needed is not None and ctx.grants.access(*needed) < Access.READ:
            raise Forbidden(f"无权查看 {'.'.join(needed)} 的合计 / may not read totals of {'.'.join(needed)}")
        points = await data.trend(ctx, wanted, [data.TrendDimension(b.value) for b in by or []], from_month, to_month,
                                  region_code)
    except HubError as exc:
        return [exc]
    return [[TrendPoint(month=p.month, region_code=p.region_code, quota_type=p.quota_type, value=p.value,  # type: ignore[arg-type]
                        change=p.change) for p in points]]


@strawberry.type
class TrendQuery:
    @strawberry.field(
        description="关键指标的月度趋势（来自月度快照，含编制核定数变化） / monthly trend of a key figure, from the "
                    "monthly snapshots (quota changes included)",
        metadata=batched(_trend, reads()))
    async def trend(
        self, info: Info, measure: TrendMeasure, by: list[TrendDimension] | None = None, from_month: str | None = None,
        to_month: str | None = None, region_code: str | None = None,
    ) -> list[TrendPoint] | None:
        return await info.context.batchers.load(  # type: ignore[no-any-return]
            _trend, self, measure=measure, by=by, from_month=from_month, to_month=to_month, region_code=region_code)
