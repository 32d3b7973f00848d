"""GraphQL types of people: one facet per department and resolved values."""

from __future__ import annotations

import datetime as dt

import strawberry

from hub.context import HubContext
from hub.crosswalk import BASE
from hub.records import Appointment, Cadre, Payee, Personnel, RegistrySlot
from resolvers import institutions as inst
from resolvers import people as data
from resolvers.institutions import ACTIVE_SLOT, InstitutionView
from schema.enums import (
    Department,
    EmploymentStatus,
    InsuranceStatus,
    PersonnelCategory,
    PostCategory,
    PostLevel,
    QuotaType,
    Sex,
    SlotStatus,
)
from schema.institution import Institution

Info = strawberry.Info[HubContext, None]


async def _institution(info: Info, department: str, local_id: str | None) -> Institution | None:
    found = (await inst.by_local(info.context, department, [local_id]))[0]
    return Institution(view=found) if found else None


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

    @strawberry.field(description="所在机构 / institution")
    async def institution(self: RegistrySlot, info: Info) -> Institution | None:  # type: ignore[misc]
        return await _institution(info, BASE, self.unit_local_id)


@strawberry.type(description="岗位聘用（人社） / post held (HR)")
class PostRecord:
    category: PostCategory | None = strawberry.field(description="岗位类别 / post category")
    grade: int | None = strawberry.field(description="岗位等级 / post grade")
    start_on: dt.date | None = strawberry.field(description="聘用起始 / from")
    end_on: dt.date | None = strawberry.field(description="聘用终止 / to")


@strawberry.type(description="职称（人社） / professional title (HR)")
class TitleRecord:
    title: str | None = strawberry.field(description="职称名称 / title")
    level: int | None = strawberry.field(description="职称级别 1正高…5员级 / level 1 senior … 5 junior")
    obtained_on: dt.date | None = strawberry.field(description="取得日期 / obtained on")


@strawberry.type(description="社会保险（人社） / social insurance (HR)")
class InsuranceRecord:
    insured_no: str = strawberry.field(description="个人社保编号 / insured number")
    status: InsuranceStatus | None = strawberry.field(description="参保状态 / status")


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

    @strawberry.field(description="所在单位 / institution")
    async def institution(self: Personnel, info: Info) -> Institution | None:  # type: ignore[misc]
        return await _institution(info, "hr", self.unit_local_id)

    @strawberry.field(description="岗位聘用 / posts")
    async def posts(self: Personnel, info: Info) -> list[PostRecord]:  # type: ignore[misc]
        return await data.records(info.context, "hr", "post_assignment", self.id_number or "")

    @strawberry.field(description="职称 / professional titles")
    async def titles(self: Personnel, info: Info) -> list[TitleRecord]:  # type: ignore[misc]
        return await data.records(info.context, "hr", "title", self.id_number or "")

    @strawberry.field(description="社会保险 / social insurance")
    async def insurance(self: Personnel, info: Info) -> list[InsuranceRecord]:  # type: ignore[misc]
        return await data.records(info.context, "hr", "insurance", self.id_number or "")


@strawberry.type(description="任职（组织部） / leadership appointment (organization department)")
class AppointmentRecord:
    title: str | None = strawberry.field(description="职务名称 / post title")
    level_code: str | None = strawberry.field(description="职务层次代码 131… / level code")
    role: PostLevel | None = strawberry.field(description="正职或副职 / head or deputy")
    start_on: dt.date | None = strawberry.field(description="任职时间 / from")
    document: str | None = strawberry.field(description="任职文号 / appointment document")
    end_on: dt.date | None = strawberry.field(description="免职时间 / to")

    @strawberry.field(description="任职机构 / institution")
    async def institution(self: Appointment, info: Info) -> Institution | None:  # type: ignore[misc]
        return await _institution(info, "organization", self.unit_local_id)


@strawberry.type(description="干部信息（组织部） / cadre file (organization department)")
class CadreRecord:
    cadre_id: str = strawberry.field(description="干部编号 / cadre id")
    name: str | None = strawberry.field(description="姓名 / name")
    sex: Sex | None = strawberry.field(description="性别 / sex")
    birth: str | None = strawberry.field(description="出生年月 / birth (year-month)")
    ethnic_group: str | None = strawberry.field(description="民族代码 / ethnic group code")

    @strawberry.field(description="任职经历 / appointments")
    async def appointments(self: Cadre, info: Info) -> list[AppointmentRecord]:  # type: ignore[misc]
        return await info.context.loaders.by("organization", "appointment", "cadre_id").load(self.cadre_id)


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

    @strawberry.field(description="财政人员编码 / payee codes")
    def payee_codes(self) -> list[str]:
        return [p.payee_code for p in self.payees]

    @strawberry.field(description="是否在统发名单 / on the payroll")
    def on_payroll(self) -> bool | None:
        return any(p.on_payroll for p in self.payees)

    @strawberry.field(description="财政登记为在编 / registered as on-quota by finance")
    def on_quota(self) -> bool | None:
        return any(p.on_quota for p in self.payees)

    @strawberry.field(description="发放单位 / paying institution")
    async def institution(self, info: Info) -> Institution | None:
        return await _institution(info, "finance", self.payees[0].unit_local_id)

    @strawberry.field(description="月度工资，按月份倒序 / pay by month, newest first")
    async def entries(
        self, info: Info, last: int | None = None, from_month: str | None = None, to_month: str | None = None
    ) -> list[PayrollEntry]:
        lines = await data.records(info.context, "finance", "pay_line", self.id_number)
        chosen = sorted(
            (x for x in lines if (from_month is None or x.month >= from_month) and (to_month is None or x.month <= to_month)),
            key=lambda x: (x.month, x.payee_code),
            reverse=True,
        )
        return chosen[:last] if last is not None else chosen  # type: ignore[return-value]


@strawberry.federation.type(keys=["idNumber"], description="人员：各部门视图与核定值 / a person: each department's view and resolved values")
class Person:
    id_number: str = strawberry.field(description="公民身份号码（18位规范化） / resident ID number, normalized")
    slot: strawberry.Private[RegistrySlot | None] = None  # the registry entry it was listed through

    @strawberry.field(description="姓名（按 编办→人社→组织部→财政 取第一个） / name, from the first source that has it")
    async def name(self, info: Info) -> str | None:
        found = await data.resolve(info.context, self.id_number, lambda r: r.name, self.slot)
        return found.value if found else None

    @strawberry.field(description="姓名取自哪个部门 / which department the name came from")
    async def name_source(self, info: Info) -> Department | None:
        found = await data.resolve(info.context, self.id_number, lambda r: r.name, self.slot)
        return Department(found.source) if found else None

    @strawberry.field(description="性别（以身份证号为准） / sex, from the ID number")
    def sex(self) -> Sex | None:
        return data.sex_from_id(self.id_number)  # type: ignore[return-value]

    @strawberry.field(description="出生日期（以身份证号为准） / birth date, from the ID number")
    def birth_date(self) -> dt.date | None:
        return data.birth_from_id(self.id_number)

    @strawberry.field(description="法定退休日期（2025年渐进式规则） / statutory retirement date (2025 rule)")
    async def retirement_date(self, info: Info) -> dt.date | None:
        return await data.statutory_retirement(info.context, self.id_number)

    @strawberry.field(description="所在机构（实名制优先） / institution, registry first")
    async def institution(self, info: Info) -> Institution | None:
        current = self.slot or data.current_slot(await data.facet(info.context, "registry", self.id_number))
        if current is not None:
            return await _institution(info, BASE, current.unit_local_id)
        personnel = await data.facet(info.context, "personnel", self.id_number)
        return await _institution(info, "hr", personnel[0].unit_local_id) if personnel else None

    @strawberry.field(description="实名制信息（编办） / registry slots (establishment office)")
    async def registry(self, info: Info) -> list[RegistryEntry] | None:
        return await data.facet(info.context, "registry", self.id_number)

    @strawberry.field(description="人事信息（人社局） / personnel record (HR bureau)")
    async def personnel(self, info: Info) -> PersonnelRecord | None:
        found = await data.facet(info.context, "personnel", self.id_number)
        return found[0] if found else None

    @strawberry.field(description="干部信息（组织部） / cadre file (organization department)")
    async def cadre(self, info: Info) -> CadreRecord | None:
        found = await data.facet(info.context, "cadre", self.id_number)
        return found[0] if found else None

    @strawberry.field(description="工资统发（财政局） / payroll (finance bureau)")
    async def payroll(self, info: Info) -> PayrollRecord | None:
        found = await data.facet(info.context, "payroll", self.id_number)
        return PayrollRecord(payees=found, id_number=self.id_number) if found else None

    @classmethod
    async def resolve_reference(cls, info: Info, id_number: str) -> Person:
        return Person(id_number=data.parse_id_number(id_number))


async def people_of_institution(ctx: HubContext, view: InstitutionView, active_only: bool) -> list[Person]:
    """The people holding registry slots of an institution, one batch per level."""
    local = view.identity.local_id(BASE)
    if local is None:
        return []
    if active_only:
        slots = await ctx.loaders.by(BASE, "registry_slot", "unit_local_id", ACTIVE_SLOT, "active").load(local)
    else:
        slots = await ctx.loaders.by(BASE, "registry_slot", "unit_local_id").load(local)
    return [Person(id_number=s.id_number, slot=s) for s in slots if s.id_number]
