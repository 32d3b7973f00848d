"""GraphQL types of people: one facet per department and resolved values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from operator import attrgetter
from typing import Any

import strawberry

from hub.core.errors import HubError, SourceUnavailable
from hub.core.records import Appointment, Cadre, Payee, PayLine, Personnel, RegistrySlot
from resolvers import people as data
from resolvers.batch import batch_field, batched, reading, records
from resolvers.context import HubContext
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
from schema.institution import Institution, by_local

Info = strawberry.Info[HubContext, None]


def institution_of(entity: str, description: str) -> Any:
    """A field: the institution of each record of `entity`, by the unit code of the department keeping it."""

    async def batch(ctx: HubContext, records: Sequence[Any]) -> list[Institution | None]:
        return await by_local(ctx, ctx.sources.holder(entity), [r.unit_local_id for r in records])

    return batch_field(batch, description, reads={"self": {"unit_local_id"}})


def related(department: str, entity: str, description: str) -> Any:
    """A field: each record's related records of an entity a department keeps by ID number."""

    async def batch(ctx: HubContext, parents: Sequence[Any]) -> list[list[Any]]:
        return await data.records(ctx, department, entity, [p.id_number or "" for p in parents])

    return batch_field(batch, description, reads={"self": {"id_number"}, entity: ()})


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
    posts: list[PostRecord] = related("hr", "post_assignment", "岗位聘用 / posts")
    titles: list[TitleRecord] = related("hr", "title", "职称 / professional titles")
    insurance: list[InsuranceRecord] = related("hr", "insurance", "社会保险 / social insurance")


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


async def _appointments(ctx: HubContext, cadres: Sequence[Cadre]) -> list[list[Appointment]]:
    loader = ctx.loaders.by("organization", "appointment", "cadre_id")
    return await loader.load_many([c.cadre_id for c in cadres])  # type: ignore[no-any-return]


@records("cadre")
@strawberry.type(description="干部信息（组织部） / cadre file (organization department)")
class CadreRecord:
    cadre_id: str = strawberry.field(description="干部编号 / cadre id")
    name: str | None = strawberry.field(description="姓名 / name")
    sex: Sex | None = strawberry.field(description="性别 / sex")
    birth: str | None = strawberry.field(description="出生年月 / birth (year-month)")
    ethnic_group: str | None = strawberry.field(description="民族代码 / ethnic group code")
    appointments: list[AppointmentRecord] = batch_field(
        _appointments, "任职经历 / appointments", reads={"self": {"cadre_id"}, "appointment": ()}
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


async def _entries(
    ctx: HubContext, payrolls: Sequence[PayrollRecord], last: int | None, from_month: str | None, to_month: str | None
) -> list[list[PayLine]]:
    """Each payroll's months in the window, newest first, at most `last`."""
    found = await data.records(ctx, "finance", "pay_line", [p.id_number for p in payrolls])
    out = []
    for lines in found:
        chosen = sorted(
            (x for x in lines if (from_month is None or x.month >= from_month) and (to_month is None or x.month <= to_month)),
            key=lambda x: (x.month, x.payee_code),
            reverse=True,
        )
        out.append(chosen[:last] if last is not None else chosen)
    return out


async def _paying_institutions(ctx: HubContext, payrolls: Sequence[PayrollRecord]) -> list[Institution | None]:
    return await by_local(ctx, "finance", [p.payees[0].unit_local_id for p in payrolls])


@strawberry.type(description="工资统发信息（财政局） / payroll record (finance bureau)")
class PayrollRecord:
    payees: strawberry.Private[list[Payee]]
    id_number: strawberry.Private[str]
    institution: Institution | None = batch_field(_paying_institutions, "发放单位 / paying institution", reads={"payee": {"unit_local_id"}})

    @strawberry.field(description="财政人员编码 / payee codes", metadata=reading({"payee": {"payee_code"}}))
    def payee_codes(self) -> list[str]:
        return [p.payee_code for p in self.payees]

    @strawberry.field(description="是否在统发名单 / on the payroll", metadata=reading({"payee": {"on_payroll"}}))
    def on_payroll(self) -> bool | None:
        return any(p.on_payroll for p in self.payees)

    @strawberry.field(description="财政登记为在编 / registered as on-quota by finance", metadata=reading({"payee": {"on_quota"}}))
    def on_quota(self) -> bool | None:
        return any(p.on_quota for p in self.payees)

    @strawberry.field(description="月度工资，按月份倒序 / pay by month, newest first", metadata=batched(_entries, {"pay_line": {"month", "payee_code"}}))
    async def entries(
        self, info: Info, last: int | None = None, from_month: str | None = None, to_month: str | None = None
    ) -> list[PayrollEntry]:
        return await info.context.batchers.load(_entries, self, last=last, from_month=from_month, to_month=to_month)  # type: ignore[no-any-return]


_NAME = attrgetter("name")
# A resolved name reads each facet's name; the registry's describing slot is the listed or current one.
_NAME_READS = {"registry_slot": {"name"}, **data.CURRENT_SLOT_READS, "personnel": {"name"}, "cadre": {"name"}, "payee": {"name"}}


async def _names(ctx: HubContext, people: Sequence[Person]) -> list[Any]:
    return (await data.resolve(ctx, people, _NAME))[0]


async def _name_sources(ctx: HubContext, people: Sequence[Person]) -> list[Any]:
    values, sources = await data.resolve(ctx, people, _NAME)
    return [v if isinstance(v, HubError) else s for v, s in zip(values, sources, strict=True)]


async def _institutions(ctx: HubContext, people: Sequence[Person]) -> list[Institution | None]:
    """Registry first (the listed or current slot), then the HR unit."""
    slots = await data.slots_of(ctx, people)
    from_registry = await by_local(ctx, ctx.sources.base, [s.unit_local_id if s else None for s in slots])
    missing = [i for i, s in enumerate(slots) if s is None]
    if missing:
        staff = await data.facets(ctx, "personnel", [people[i].id_number for i in missing])
        from_hr = await by_local(ctx, "hr", [s[0].unit_local_id if s else None for s in staff])
        for i, found in zip(missing, from_hr, strict=True):
            from_registry[i] = found
    return from_registry


async def _facet_lists(name: str, ctx: HubContext, people: Sequence[Person]) -> list[list[Any]]:
    return await data.facets(ctx, name, [p.id_number for p in people])


async def _registry(ctx: HubContext, people: Sequence[Person]) -> list[list[RegistrySlot]]:
    return await _facet_lists("registry", ctx, people)


async def _personnel(ctx: HubContext, people: Sequence[Person]) -> list[Personnel | None]:
    return [f[0] if f else None for f in await _facet_lists("personnel", ctx, people)]


async def _cadre(ctx: HubContext, people: Sequence[Person]) -> list[Cadre | None]:
    return [f[0] if f else None for f in await _facet_lists("cadre", ctx, people)]


async def _payroll(ctx: HubContext, people: Sequence[Person]) -> list[PayrollRecord | None]:
    found = await _facet_lists("payroll", ctx, people)
    return [PayrollRecord(payees=f, id_number=p.id_number) if f else None for p, f in zip(people, found, strict=True)]


@strawberry.federation.type(keys=["idNumber"], description="人员：各部门视图与核定值 / a person: each department's view and resolved values")
class Person:
    id_number: str = strawberry.field(description="公民身份号码（18位规范化） / resident ID number, normalized")
    slot: strawberry.Private[RegistrySlot | None] = None  # the registry entry it was listed through
    name: str | None = batch_field(_names, "姓名（按 编办→人社→组织部→财政 取第一个） / name, from the first source that has it", reads=_NAME_READS)
    name_source: Department | None = batch_field(_name_sources, "姓名取自哪个部门 / which department the name came from", reads=_NAME_READS)
    retirement_date: dt.date | None = batch_field(
        data.statutory_retirement, "法定退休日期（2025年渐进式规则） / statutory retirement date (2025 rule)",
        reads={"registry_slot": {"quota_type"}, **data.CURRENT_SLOT_READS, "personnel": {"category"}, "post_assignment": {"category", "end_on"}},
    )
    institution: Institution | None = batch_field(
        _institutions, "所在机构（实名制优先） / institution, registry first",
        reads={"registry_slot": {"unit_local_id"}, **data.CURRENT_SLOT_READS, "personnel": {"unit_local_id"}},
    )
    registry: list[RegistryEntry] | None = batch_field(_registry, "实名制信息（编办） / registry slots (establishment office)", reads={"registry_slot": ()})
    personnel: PersonnelRecord | None = batch_field(_personnel, "人事信息（人社局） / personnel record (HR bureau)", reads={"personnel": ()})
    cadre: CadreRecord | None = batch_field(_cadre, "干部信息（组织部） / cadre file (organization department)", reads={"cadre": ()})
    payroll: PayrollRecord | None = batch_field(_payroll, "工资统发（财政局） / payroll (finance bureau)", reads={"payee": ()})

    @strawberry.field(description="性别（以身份证号为准） / sex, from the ID number", metadata=reading({}))
    def sex(self) -> Sex | None:
        facts = data.id_facts(self.id_number)
        return facts[1] if facts else None  # type: ignore[return-value]

    @strawberry.field(description="出生日期（以身份证号为准） / birth date, from the ID number", metadata=reading({}))
    def birth_date(self) -> dt.date | None:
        facts = data.id_facts(self.id_number)
        return facts[0] if facts else None

    @classmethod
    async def resolve_reference(cls, info: Info, **representation: Any) -> Person | None:
        """A federation entity `{__typename: "Person", idNumber}`: the person as `Query.person` finds one."""
        raw = representation.get("idNumber")
        return await find_person(info.context, raw if isinstance(raw, str) else "")


async def find_person(ctx: HubContext, id_number: str) -> Person | None:
    """The person if any department knows the ID number (or one that is down might)."""
    key = data.parse_id_number(id_number)
    unsure = False
    for facet in data.RESOLUTION_ORDER:  # most people are in the registry: usually one statement
        try:
            if (await data.facets(ctx, facet, [key]))[0]:
                return Person(id_number=key)
        except SourceUnavailable:
            unsure = True
    return Person(id_number=key) if unsure else None


def listed(slots: Iterable[RegistrySlot]) -> list[Person]:
    """The people of registry slots that carry an ID number, each described by its slot.

    Made without the dataclass __init__, as schema.pagination.edges (one per listed row).
    """
    out = []
    for slot in slots:
        if slot.id_number:
            person = _new(Person)
            person.id_number = slot.id_number
            person.slot = slot
            out.append(person)
    return out


_new = object.__new__


async def people_of_institutions(ctx: HubContext, views: Sequence[InstitutionView], active_only: bool) -> list[list[Person]]:
    """The people holding registry slots of each institution, one batch per level."""
    base = ctx.sources.base
    locals_ = [v.identity.local_id(base) for v in views]
    if active_only:
        loader = ctx.loaders.by(base, "registry_slot", "unit_local_id", ACTIVE_SLOT, "active")
    else:
        loader = ctx.loaders.by(base, "registry_slot", "unit_local_id")
    known = [lid for lid in locals_ if lid is not None]
    by_unit = dict(zip(known, await loader.load_many(known), strict=True))
    return [listed(by_unit.get(lid, ())) if lid else [] for lid in locals_]
