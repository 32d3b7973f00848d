"""GraphQL types of people: one facet per department and resolved values (the data: resolvers/people.py).

A `Person` object is a `Person` (looked up by ID number) or a `resolvers.people.Listed` (listed
through a registry slot): its fields read `id_number` and `slot` of either.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

import strawberry

from hub.core.errors import HubError
from hub.core.records import Payee, RegistrySlot
from resolvers import people as data
from resolvers.batch import batch_field, batched, reading, reads, records
from resolvers.context import HubContext
from resolvers.loaders import (
    AppointmentsByCadre,
    CadresByPerson,
    EducationByPerson,
    InsuranceByPerson,
    PayeesByPerson,
    PayrollChangesByPerson,
    PersonnelByPerson,
    PostsByPerson,
    SlotsByPerson,
    TitlesByPerson,
)
from schema.enums import (
    Department,
    EmploymentStatus,
    InsuranceStatus,
    PayrollChangeKind,
    PersonnelCategory,
    PostCategory,
    PostLevel,
    QuotaType,
    Sex,
    SlotStatus,
)
from schema.institution import Institution, institution_field, institution_of

Info = strawberry.Info[HubContext, None]


@records("registry_slot")
@strawberry.type(description="实名制信息（编办） / real-name registry slot (establishment office)")
class RegistryEntry:
    slot_id: str = strawberry.field(description="实名制人员编号 / registry entry id")
    name: str | None = strawberry.field(description="姓名 / name")
    sex: Sex | None = strawberry.field(description="性别 / sex")
    birth: str | None = strawberry.field(description="出生年月 / birth (year-month)")
    ethnic_group: str | None = strawberry.field(description="民族代码 GB 3304 / ethnic group code")
    education: str | None = strawberry.field(description="学历代码 GB/T 4658 / education code")
    quota_type: QuotaType | None = strawberry.field(description="编制类型 / quota type")
    entered_on: dt.date | None = strawberry.field(description="入编日期 / entered the slot")
    left_on: dt.date | None = strawberry.field(description="出编日期 / left the slot")
    left_reason: str | None = strawberry.field(description="出编原因 / reason for leaving")
    status: SlotStatus | None = strawberry.field(description="状态 / status")
    plan_id: str | None = strawberry.field(description="使用的空编补员计划 / vacancy plan used")
    institution: Institution | None = institution_of("registry_slot", "所在机构 / institution")


@records("post_assignment")
@strawberry.type(description="岗位聘用（人社） / post held (HR)")
class PostRecord:
    category: PostCategory | None = strawberry.field(description="岗位类别 / post category")
    grade: int | None = strawberry.field(description="岗位等级 / post grade")
    start_on: dt.date | None = strawberry.field(description="聘用起始 / from")
    end_on: dt.date | None = strawberry.field(description="聘用终止 / to")


@records("title")
@strawberry.type(description="职称（人社） / professional title (HR)")
class TitleRecord:
    title: str | None = strawberry.field(description="职称名称 / title")
    level: int | None = strawberry.field(description="职称级别 1正高…5员级 / level 1 senior … 5 junior")
    obtained_on: dt.date | None = strawberry.field(description="取得日期 / obtained on")


@records("insurance")
@strawberry.type(description="社会保险（人社） / social insurance (HR)")
class InsuranceRecord:
    insured_no: str = strawberry.field(description="个人社保编号 / insured number")
    status: InsuranceStatus | None = strawberry.field(description="参保状态 / status")


@records("personnel")
@strawberry.type(description="人事档案信息（人社局） / personnel record (HR bureau)")
class PersonnelRecord:
    person_no: str = strawberry.field(description="人员编号 / personnel number")
    name: str | None = strawberry.field(description="姓名 / name")
    sex: Sex | None = strawberry.field(description="性别 / sex")
    birth: str | None = strawberry.field(description="出生日期 / birth date")
    ethnic_group: str | None = strawberry.field(description="民族代码 / ethnic group code")
    education: str | None = strawberry.field(description="学历代码 / education code")
    category: PersonnelCategory | None = strawberry.field(description="人员身份 / personnel category")
    subject: str | None = strawberry.field(description="任教学科 / teaching subject")
    work_start: dt.date | None = strawberry.field(description="参加工作日期 / started work")
    status: EmploymentStatus | None = strawberry.field(description="人员状态 / status")
    status_on: dt.date | None = strawberry.field(description="状态日期 / status since")
    institution: Institution | None = institution_of("personnel", "所在单位 / institution")
    posts: list[PostRecord] = batch_field(data.each(PostsByPerson), "岗位聘用 / posts", reads({"id_number"}, post_assignment=()))
    titles: list[TitleRecord] = batch_field(data.each(TitlesByPerson), "职称 / professional titles", reads({"id_number"}, title=()))
    insurance: list[InsuranceRecord] = batch_field(
        data.each(InsuranceByPerson), "社会保险 / social insurance", reads({"id_number"}, insurance=()))


@records("appointment")
@strawberry.type(description="任职（组织部） / leadership appointment (organization department)")
class AppointmentRecord:
    title: str | None = strawberry.field(description="职务名称 / post title")
    level_code: str | None = strawberry.field(description="职务层次代码 131… / level code")
    role: PostLevel | None = strawberry.field(description="正职或副职 / head or deputy")
    start_on: dt.date | None = strawberry.field(description="任职时间 / from")
    document: str | None = strawberry.field(description="任职文号 / appointment document")
    end_on: dt.date | None = strawberry.field(description="免职时间 / to")
    institution: Institution | None = institution_of("appointment", "任职机构 / institution")


_CADRE_ID = attrgetter("cadre_id")


@records("cadre")
@strawberry.type(description="干部信息（组织部） / cadre file (organization department)")
class CadreRecord:
    cadre_id: str = strawberry.field(description="干部编号 / cadre id")
    name: str | None = strawberry.field(description="姓名 / name")
    sex: Sex | None = strawberry.field(description="性别 / sex")
    birth: str | None = strawberry.field(description="出生年月 / birth (year-month)")
    ethnic_group: str | None = strawberry.field(description="民族代码 / ethnic group code")
    appointments: list[AppointmentRecord] = batch_field(
        data.each(AppointmentsByCadre, key=_CADRE_ID), "任职经历 / appointments", reads({"cadre_id"}, appointment=())
    )


@records("pay_line")
@strawberry.type(description="月度工资（财政统发，金额单位：分） / one month of pay (unified payroll, amounts in fen)")
class PayrollEntry:
    month: str = strawberry.field(description="工资年月 YYYY-MM / pay month")
    post_pay: int = strawberry.field(description="职务（职级）工资 / post pay (civil-servant scale)")
    grade_pay: int = strawberry.field(description="级别工资 / grade pay (civil-servant scale)")
    position_pay: int = strawberry.field(description="岗位工资 / post pay (PI scale)")
    step_pay: int = strawberry.field(description="薪级工资 / step pay (PI scale)")
    basic_performance: int = strawberry.field(description="基础绩效 / basic performance pay")
    reward_performance: int = strawberry.field(description="奖励绩效 / reward performance pay")
    allowances: int = strawberry.field(description="津贴补贴 / allowances")
    gross: int = strawberry.field(description="应发合计 / gross")
    pension: int = strawberry.field(description="养老保险扣款 / pension deduction")
    medical: int = strawberry.field(description="医疗保险扣款 / medical deduction")
    annuity: int = strawberry.field(description="职业年金扣款 / annuity deduction")
    unemployment: int = strawberry.field(description="失业保险扣款 / unemployment deduction")
    housing_fund: int = strawberry.field(description="住房公积金扣款 / housing fund deduction")
    income_tax: int = strawberry.field(description="个人所得税 / income tax")
    net: int = strawberry.field(description="实发合计 / net")
    payee_code: str = strawberry.field(description="财政人员编码 / payee code")


@strawberry.type(description="工资统发信息（财政局） / payroll record (finance bureau)")
class PayrollRecord:
    payees: strawberry.Private[list[Payee]]
    id_number: strawberry.Private[str]
    institution: Institution | None = institution_field(data.paying_institutions, "发放单位 / paying institution", reads(payee={"unit_local_id"}))

    @strawberry.field(description="财政人员编码 / payee codes", metadata=reading(payee={"payee_code"}))
    def payee_codes(self) -> list[str]:
        return [p.payee_code for p in self.payees]

    @strawberry.field(description="是否在统发名单 / on the payroll", metadata=reading(payee={"on_payroll"}))
    def on_payroll(self) -> bool | None:
        return any(p.on_payroll for p in self.payees)

    @strawberry.field(description="财政登记为在编 / registered as on-quota by finance", metadata=reading(payee={"on_quota"}))
    def on_quota(self) -> bool | None:
        return any(p.on_quota for p in self.payees)

    @strawberry.field(description="月度工资，按月份倒序 / pay by month, newest first", metadata=batched(data.pay_entries, reads(pay_line={"month", "payee_code"}, payee={"payee_code"})))
    async def entries(
        self, info: Info, last: int | None = None, from_month: str | None = None, to_month: str | None = None
    ) -> list[PayrollEntry]:
        return await info.context.batchers.load(  # type: ignore[no-any-return]
            data.pay_entries, self, last=last, from_month=from_month, to_month=to_month)


@records("cadre_education")
@strawberry.type(description="学历学位（组织部 A08） / an education record of a cadre (organization department)")
class EducationRecord:
    education: str | None = strawberry.field(description="学历代码 GB/T 4658 / education code")
    full_time: bool | None = strawberry.field(description="是否全日制教育 / full-time education (else in-service)")
    graduated_on: dt.date | None = strawberry.field(description="毕业日期 / graduated on")


@records("payroll_change")
@strawberry.type(description="劳资异动（财政局 GZ_YD） / a payroll change (finance bureau)")
class PayrollChangeRecord:
    change_id: str = strawberry.field(description="异动编号 / change id")
    payee_code: str = strawberry.field(description="财政人员编码 / payee code")
    kind: PayrollChangeKind | None = strawberry.field(description="异动类型 / kind of change")
    from_month: str | None = strawberry.field(description="起薪（生效）年月 YYYY-MM / effective from month")
    to_month: str | None = strawberry.field(description="停薪年月 YYYY-MM / until month")
    document: str | None = strawberry.field(description="批准文号 / approval document")
    unit_local_id: str | None = strawberry.field(description="发放单位（财政单位编码） / paying unit (finance's unit code)")


# A resolved name reads each facet's name; the registry's describing slot is the listed or current one.
_NAME_READS = reads(registry_slot={"name"}, personnel={"name"}, cadre={"name"}, payee={"name"}, via=data.CURRENT_SLOT_READS)


# Birth date and sex read each facet's recorded values (only for people whose ID number is invalid).
_FACTS_READS = reads(via=data.CURRENT_SLOT_READS, **data.FACT_FIELDS)


async def _name_sources(ctx: HubContext, people: Sequence[Person]) -> list[Any]:
    return [s if isinstance(s, HubError) else s or None for s in await data.name_sources(ctx, people)]


async def _payroll(ctx: HubContext, people: Sequence[Person]) -> list[PayrollRecord | None]:
    found = await _payees(ctx, people)
    return [PayrollRecord(payees=f, id_number=p.id_number) if f else None for p, f in zip(people, found, strict=True)]


_payees = data.each(PayeesByPerson)


@strawberry.federation.type(keys=["idNumber"], description="人员：各部门视图与核定值 / a person: each department's view and resolved values")
class Person:
    id_number: str = strawberry.field(description="公民身份号码（18位规范化） / resident ID number, normalized")
    slot: strawberry.Private[RegistrySlot | None] = None  # the registry entry it was listed through
    name: str | None = batch_field(data.names, "姓名（按 编办→人社→组织部→财政 取第一个） / name, from the first source that has it", _NAME_READS)
    name_source: Department | None = batch_field(_name_sources, "姓名取自哪个部门 / which department the name came from", _NAME_READS)
    retirement_date: dt.date | None = batch_field(
        data.statutory_retirement,
        "法定退休日期（2025年渐进式规则；出生日期、性别取自身份证号，无效时取各部门登记值） / statutory retirement date "
        "(2025 rule; birth date and sex from the ID number, else the departments' recorded values)",
        _FACTS_READS | (reads(registry_slot={"quota_type"}, personnel={"category"}, post_assignment={"category", "end_on"})),
    )
    sex: Sex | None = batch_field(
        data.sexes, "性别（以身份证号为准，无效时按信任顺序取各部门登记值） / sex, from the ID number, else the recorded values in trust order",
        _FACTS_READS)
    sex_source: Department | None = batch_field(
        data.sex_sources, "性别取自哪个部门（空：取自身份证号或无从得知） / which department the sex came from "
        "(null: the ID number, or unknown)", _FACTS_READS)
    birth_date: dt.date | None = batch_field(
        data.birth_dates, "出生日期（以身份证号为准，无效时按信任顺序取各部门登记值；只有年月时取该月1日） / birth date, from the "
        "ID number, else the recorded values in trust order (a year-month as the month's first day)", _FACTS_READS)
    birth_date_source: Department | None = batch_field(
        data.birth_date_sources, "出生日期取自哪个部门（空：取自身份证号或无从得知） / which department the birth "
        "date came from (null: the ID number, or unknown)", _FACTS_READS)
    institution: Institution | None = institution_field(
        data.institutions, "所在机构（实名制优先） / institution, registry first",
        reads(registry_slot={"unit_local_id"}, personnel={"unit_local_id"}, via=data.CURRENT_SLOT_READS),
    )
    registry: list[RegistryEntry] | None = batch_field(
        data.each(SlotsByPerson), "实名制信息（编办） / registry slots (establishment office)", reads(registry_slot=()))
    personnel: PersonnelRecord | None = batch_field(
        data.first(PersonnelByPerson), "人事信息（人社局） / personnel record (HR bureau)", reads(personnel=()))
    cadre: CadreRecord | None = batch_field(
        data.first(CadresByPerson), "干部信息（组织部） / cadre file (organization department)", reads(cadre=()))
    payroll: PayrollRecord | None = batch_field(_payroll, "工资统发（财政局） / payroll (finance bureau)", reads(payee=()))
    payroll_changes: list[PayrollChangeRecord] = batch_field(
        data.each(PayrollChangesByPerson), "劳资异动（财政局） / payroll changes (finance bureau)", reads(payroll_change=()))
    education: list[EducationRecord] = batch_field(
        data.each(EducationByPerson), "学历学位（组织部 A08） / education records (organization department)",
        reads(cadre_education=()))

    @classmethod
    async def resolve_reference(cls, info: Info, **representation: Any) -> Person | None:
        """A federation entity `{__typename: "Person", idNumber}`: the person as `Query.person` finds one."""
        raw = representation.get("idNumber")
        return await find_person(info.context, raw if isinstance(raw, str) else "")


async def find_person(ctx: HubContext, id_number: str) -> Person | None:
    """The person if any department knows the ID number (or one that is down might); BAD_USER_INPUT if malformed."""
    key = await data.find(ctx, id_number)
    return None if key is None else Person(id_number=key)
