"""The retirement forecast (the data: resolvers/forecast.py)."""

from __future__ import annotations

from typing import Any

import strawberry

from hub.core.errors import HubError
from resolvers import forecast as data
from resolvers import people as persons
from resolvers.batch import batched, reads
from resolvers.context import HubContext
from schema.enums import ForecastDimension, QuotaType, RetirementCategory, Sex
from schema.institution import Institution
from schema.person import Person

Info = strawberry.Info[HubContext, None]

@strawberry.type(description="按编制类型腾出的编制 / slots freed, by quota type")
class QuotaVacancy:
    quota_type: QuotaType | None = strawberry.field(description="编制类型 / quota type")
    slots: int = strawberry.field(description="腾出的实名制编制数 / registry slots freed")


@strawberry.type(description="某年达到法定退休年龄的人员（一组） / people reaching statutory retirement in a year (one group)")
class RetirementForecastRow:
    year: int = strawberry.field(description="退休年份 / year")
    region_code: str | None = strawberry.field(description="地区代码（按地区分组时） / region code (grouped by region)")
    institution: Institution | None = strawberry.field(description="机构（按机构分组时） / institution (grouped by institution)")
    quota_type: QuotaType | None = strawberry.field(description="编制类型（按编制类型分组时） / quota type (grouped by quota type)")
    category: RetirementCategory | None = strawberry.field(description="退休类别（按类别分组时） / retirement category (grouped by category)")
    sex: Sex | None = strawberry.field(description="性别（按性别分组时） / sex (grouped by sex)")
    education: str | None = strawberry.field(description="学历代码（按学历分组时） / education code (grouped by education)")
    ethnic_group: str | None = strawberry.field(description="民族代码（按民族分组时） / ethnic group code (grouped by ethnic group)")
    persons: int = strawberry.field(description="退休人数（人，非编制） / persons retiring (persons, not slots)")
    vacancies: list[QuotaVacancy] = strawberry.field(description="腾出的编制，按编制类型 / slots freed, by quota type")
    people: list[Person] = strawberry.field(description="退休人员（个人字段按权限） / the people (their fields as the caller's grants allow)")


@strawberry.type(description="退休预测 / retirement forecast")
class RetirementForecast:
    from_year: int = strawberry.field(description="起始年份 / first year")
    years: int = strawberry.field(description="年数 / number of years")
    rows: list[RetirementForecastRow] = strawberry.field(description="按年份和维度分组 / by year and dimension values")
    persons: int = strawberry.field(description="范围内在编人数（人） / persons holding a registry slot in scope")
    already_due: int = strawberry.field(description="起始年份前已到退休日期仍在编的人数 / persons past their retirement date before the first year, still holding a slot")
    from_recorded: int = strawberry.field(description="身份证号无效、按各部门登记的出生日期和性别推算的人数 / persons placed from the departments' recorded birth date and sex (invalid ID number)")
    unplaced: int = strawberry.field(description="任何来源都无出生日期或性别、无法推算的人数 / persons no source gives a birth date or sex for")
    undecided: int = strawberry.field(description="因部门数据源不可用而无法推算的人数 / persons left undecided because a source was down")


def _row(row: data.ForecastRow) -> RetirementForecastRow:
    k = row.keys
    D = data.ForecastDimension
    return RetirementForecastRow(
        year=row.year, region_code=k.get(D.REGION), institution=Institution(view=row.institution) if row.institution else None,
        quota_type=k.get(D.QUOTA_TYPE), category=k.get(D.CATEGORY), sex=k.get(D.SEX), education=k.get(D.EDUCATION),
        ethnic_group=k.get(D.ETHNIC_GROUP), persons=len(row.people),
        vacancies=[QuotaVacancy(quota_type=q or None, slots=n) for q, n in sorted(row.vacancies.items())],  # type: ignore[arg-type]
        people=row.people,  # type: ignore[arg-type]  # Listed people stand for Person objects
    )


async def _forecast(ctx: HubContext, roots: Any, years: int, by: list[Any] | None, from_year: int | None,
                    region_code: str | None, institution_code: str | None) -> list[Any]:
    try:
        found = await data.forecast(ctx, years, [data.ForecastDimension(d.value) for d in by or []], from_year, region_code,
                                    institution_code)
    except HubError as exc:
        return [exc]
    return [RetirementForecast(from_year=found.from_year, years=found.years, rows=[_row(r) for r in found.rows],
                               persons=found.persons, already_due=found.already_due, from_recorded=found.from_recorded,
                               unplaced=found.unplaced, undecided=found.undecided)]


FORECAST_READS = reads(
    registry_slot=data.SLOT_FIELDS | persons.FACT_FIELDS["registry_slot"],
    personnel={"id_number", "birth", "sex", "category"}, cadre={"id_number", "birth", "sex"}, payee={"id_number", "sex"},
    post_assignment={"id_number", "category", "end_on"},
)


@strawberry.type
class ForecastQuery:
    @strawberry.field(
        description="退休预测：今后若干年每年达到法定退休年龄的人员，按维度分组，并按编制类型列出腾出的编制 / who reaches "
                    "statutory retirement in each of the next years, by dimension, with the slots it frees per quota type",
        metadata=batched(_forecast, FORECAST_READS))
    async def retirement_forecast(
        self, info: Info, years: int = 5, by: list[ForecastDimension] | None = None, from_year: int | None = None,
        region_code: str | None = None, institution_code: str | None = None,
    ) -> RetirementForecast | None:
        return await info.context.batchers.load(  # type: ignore[no-any-return]
            _forecast, self, years=years, by=by, from_year=from_year, region_code=region_code, institution_code=institution_code)
