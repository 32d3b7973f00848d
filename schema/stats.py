"""Statistics: `stats(measures, by, filter)`, grouped counts and sums pushed into the sources (resolvers/stats.py)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from operator import attrgetter
from typing import Any, cast

import strawberry

from hub.core import stats as vocab
from hub.core.errors import HubError
from resolvers import stats as engine
from resolvers.batch import batched, reads
from resolvers.context import HubContext
from schema.enums import InstitutionType, QuotaType, graphql_enum

Info = strawberry.Info[HubContext, None]

_DIMENSIONS = {
    "REGION": "行政区划代码 / division code of the institution",
    "INSTITUTION": "机构代码 / institution code",
    "INSTITUTION_TYPE": "机构类别 / institution type",
    "FUNDING": "经费形式 / funding mode",
    "QUOTA_TYPE": "编制类型 / quota type",
    "SEX": "性别（以身份证号为准） / sex, from the ID number",
    "ETHNIC_GROUP": "民族（实名制） / ethnic group (registry)",
    "EDUCATION": "学历（实名制） / education (registry)",
    "AGE_BAND": "年龄段（以身份证号为准，周岁） / age band from the ID number, completed years",
    "TITLE_LEVEL": "最高职称级别（人社，1 正高…5 员级） / highest title level (HR)",
    "POST_CATEGORY": "现聘岗位类别（人社） / current post category (HR)",
    "POST_GRADE": "现聘岗位等级（人社） / current post grade (HR)",
    "SUBJECT": "任教学科（人社） / teaching subject (HR)",
    "MONTH": "工资月份（仅工资指标） / pay month (pay measures only)",
}
_COMPONENTS = {
    "post_pay": "职务工资 / post pay", "grade_pay": "级别工资 / grade pay", "position_pay": "岗位工资 / position pay",
    "step_pay": "薪级工资 / step pay", "basic_performance": "基础绩效 / basic performance pay",
    "reward_performance": "奖励绩效 / reward performance pay", "allowances": "津贴补贴 / allowances",
    "gross": "应发合计 / gross pay", "pension": "养老保险 / pension", "medical": "医疗保险 / medical insurance",
    "annuity": "职业年金 / annuity", "unemployment": "失业保险 / unemployment insurance",
    "housing_fund": "住房公积金 / housing fund", "income_tax": "个人所得税 / income tax", "net": "实发合计 / net pay",
}
_MEASURES = {
    "HEADCOUNT": "实有人数（按人计，一人多编计一次） / headcount: persons, each once however many slots they hold",
    "OCCUPIED": "占用编制数（按实名制在编记录计） / occupied slots: active registry slots",
    "APPROVED": "核定编制数 / approved quota",
    "VACANT": "空编数（逐机构逐编制类型计） / vacant slots, per institution and quota type",
    "OVER": "超编数（逐机构逐编制类型计） / slots over the quota, per institution and quota type",
    "VACANCY_RATE": "空编率＝空编数÷核定编制数 / vacancy rate = vacant / approved",
    "LEADERSHIP_APPROVED": "核定领导职数 / approved leadership posts",
    "LEADERSHIP_FILLED": "在任领导职务数（组织部） / leadership appointments in post (organization department)",
    **{f"PAY_{c.upper()}_TOTAL": f"{label.split(' / ')[0]}合计（分） / {label.split(' / ')[1]}, total in fen"
       for c, label in _COMPONENTS.items()},
    **{f"PAY_{c.upper()}_AVERAGE": f"{label.split(' / ')[0]}人月均值（分） / {label.split(' / ')[1]}, "
       "average per pay line (person-month) in fen" for c, label in _COMPONENTS.items()},
}
Dimension = graphql_enum(vocab.Dimension, "统计维度 / what a statistic is grouped by", _DIMENSIONS)
Measure = graphql_enum(vocab.Measure, "统计指标 / what a statistic measures", _MEASURES)


@strawberry.input(description="统计筛选（只在调用者范围内收窄） / narrows a statistic within the caller's scope")
class StatsFilter:
    region_code: str | None = strawberry.field(default=None, description="行政区划代码前缀 / division code prefix")
    institution_code: str | None = strawberry.field(default=None, description="机构代码 / institution code")
    quota_type: QuotaType | None = strawberry.field(default=None, description="编制类型 / quota type")
    institution_types: list[InstitutionType] | None = strawberry.field(default=None, description="机构类别 / institution types")


@strawberry.type(description="统计的一组 / one group of a statistic")
class StatsRow:
    keys: list[str | None] = strawberry.field(description="各维度取值，与 by 同序 / the group's value of each dimension, in `by` order")
    values: list[float | None] = strawberry.field(
        description="各指标的值，与 measures 同序；被抑制时为 null / each measure's value in `measures` order; null when suppressed")
    suppressed: bool = strawberry.field(description="是否因人数过少而被抑制 / whether the group was suppressed as too small")


@strawberry.type(description="统计结果 / a statistic")
class StatsResult:
    dimensions: list[Dimension] = strawberry.field(description="分组维度 / the dimensions grouped by")  # type: ignore[valid-type]
    measures: list[Measure] = strawberry.field(description="指标 / the measures")  # type: ignore[valid-type]
    rows: list[StatsRow] = strawberry.field(description="各组，按维度取值排序 / the groups, by their values")
    total: StatsRow = strawberry.field(description="合计 / the total over all groups")
    restricted: bool = strawberry.field(
        description="是否仅凭汇总授权：小组抑制、计数取整 / answered under aggregate-only grants: small groups suppressed, counts rounded")
    min_group_size: int = strawberry.field(description="最小组人数（受限时适用） / the minimum group size (when restricted)")


def _rows(rows: list[engine.Row]) -> list[StatsRow]:
    """The answer's rows: the engine's rows as they are (their attributes are `StatsRow`'s fields, the
    executor copies their keys and values), unless a key holds something other than text or null (a
    title level, a month): then new rows with those values as text. Checked once for all keys, in C."""
    if {*map(type, chain.from_iterable(map(attrgetter("keys"), rows)))} <= {str, type(None)}:
        return cast("list[StatsRow]", rows)
    return cast("list[StatsRow]", [engine.Row(tuple(None if v is None else str(v) for v in row.keys), row.values, row.suppressed)
                                   for row in rows])


async def _stats(ctx: HubContext, roots: Sequence[Any], measures: Sequence[Any], by: Sequence[Any] | None = None,
                 filter: StatsFilter | None = None) -> list[Any]:  # noqa: A002 - the argument's GraphQL name
    measures = [str(m) for m in measures]
    by = [str(d) for d in by or ()]
    try:
        found = await engine.stats(ctx, measures, [vocab.Dimension(d) for d in by], _filter(filter))
    except HubError as exc:
        return [exc]
    return [StatsResult(dimensions=list(by), measures=list(measures), rows=_rows(found.rows),
                        total=_rows([found.total])[0], restricted=found.restricted,
                        min_group_size=found.min_group_size)]


def _filter(given: StatsFilter | None) -> engine.StatsFilter:
    if given is None:
        return engine.StatsFilter()
    return engine.StatsFilter(given.region_code, given.institution_code, given.quota_type.value if given.quota_type else None,
                              tuple(t.value for t in given.institution_types or ()))


@strawberry.type
class StatsQuery:
    @strawberry.field(
        description="统计：按维度分组的指标，在各数据源内以 GROUP BY 计算；人数按人计（非编制记录） / measures grouped by "
        "dimensions, computed as GROUP BY in each source; HEADCOUNT counts persons, not registry slots",
        metadata=batched(_stats, reads()),
    )
    async def stats(
        self, info: Info, measures: list[Measure], by: list[Dimension] | None = None,  # type: ignore[valid-type]
        filter: StatsFilter | None = None,  # noqa: A002 - the GraphQL argument's name
    ) -> StatsResult | None:
        return await info.context.batchers.load(_stats, self, measures=measures, by=by, filter=filter)  # type: ignore[no-any-return]
