"""GraphQL enums: the canonical code lists of hub.core.codes, each value described in Chinese and English."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLEnumType, GraphQLEnumValue, GraphQLSchema

from hub.core import codes
from hub.core.departments import Departments
from hub.core.retirement import RetirementGroup
from resolvers.forecast import ForecastDimension as ForecastDimensionCode
from resolvers.trends import Measure as TrendMeasureCode
from resolvers.trends import TrendDimension as TrendDimensionCode


def graphql_enum(cls: type[Enum], description: str, labels: dict[str, str], name: str | None = None) -> Any:
    """Expose an enum to GraphQL (under its class name unless `name`) with a bilingual description for each value."""
    strawberry.enum(cls, name=name, description=description)
    for value in cls.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = labels.get(value.name)
    return cls


InstitutionType = graphql_enum(codes.InstitutionType, "机构类别 / institution type", {
    "AGENCY": "行政机关 / government agency",
    "CIVIL_SERVICE_PI": "参公事业单位 / public institution managed as civil service",
    "PI_CLASS_1": "公益一类事业单位 / public institution, class 1",
    "PI_CLASS_2": "公益二类事业单位 / public institution, class 2",
    "COMMERCIAL_PI": "经营类事业单位 / commercial public institution",
    "MASS_ORG": "群团组织 / mass organisation",
})
Rank = graphql_enum(codes.Rank, "机构规格 / institution rank", {
    "DEPARTMENT_HEAD": "正处级 / division head level",
    "DEPARTMENT_DEPUTY": "副处级 / deputy division level",
    "SECTION_HEAD": "正科级 / section head level",
    "SECTION_DEPUTY": "副科级 / deputy section level",
    "UNIT": "股级 / unit level",
})
Funding = graphql_enum(codes.Funding, "经费形式 / funding mode", {
    "FULL": "全额拨款 / fully funded",
    "PARTIAL": "差额拨款 / partly funded",
    "SELF": "自收自支 / self-funded",
})
QuotaType = graphql_enum(codes.QuotaType, "编制类型 / staffing quota type", {
    "XZ": "行政编制 / administrative",
    "ZF": "政法专项编制 / political-legal special",
    "CG": "参公事业编制 / PI managed as civil service",
    "SY": "事业编制 / public institution",
    "JS": "中小学教职工编制 / primary and secondary school staff",
    "GQ": "工勤编制 / skilled worker",
})
PersonnelCategory = graphql_enum(codes.PersonnelCategory, "人员身份 / personnel category", {
    "CIVIL_SERVANT": "公务员 / civil servant",
    "CIVIL_SERVICE_PI": "参公人员 / managed as civil servant",
    "PI_MANAGEMENT": "事业单位管理人员 / PI management staff",
    "PI_TECHNICAL": "事业单位专业技术人员 / PI technical staff",
    "PI_WORKER": "事业单位工勤技能人员 / PI skilled worker",
})
Sex = graphql_enum(codes.Sex, "性别 (GB/T 2261.1) / sex", {
    "UNKNOWN": "未知的性别 / unknown",
    "MALE": "男 / male",
    "FEMALE": "女 / female",
    "UNSTATED": "未说明的性别 / not stated",
})
PostLevel = graphql_enum(codes.PostLevel, "领导职务层次 / head or deputy", {
    "HEAD": "正职 / head",
    "DEPUTY": "副职 / deputy",
})
PostScope = graphql_enum(codes.PostScope, "领导职数类别 / unit-level or internal posts", {
    "UNIT": "单位领导职数 / unit-level posts",
    "INTERNAL": "内设机构领导职数 / internal-unit posts",
})
SlotStatus = graphql_enum(codes.SlotStatus, "实名制状态 / registry slot status", {
    "ACTIVE": "在编 / holding the slot",
    "SECONDED": "借调 / seconded",
    "LEFT": "出编 / left the slot",
})
EmploymentStatus = graphql_enum(codes.EmploymentStatus, "人员状态 / employment status", {
    "EMPLOYED": "在职 / employed",
    "RETIRED": "退休 / retired",
    "TRANSFERRED_OUT": "调出 / transferred out",
    "DECEASED": "死亡 / deceased",
    "RESIGNED": "辞职 / resigned",
})
PostCategory = graphql_enum(codes.PostCategory, "岗位类别 / post category", {
    "MANAGEMENT": "管理岗位 / management",
    "TECHNICAL": "专业技术岗位 / technical",
    "WORKER": "工勤技能岗位 / skilled worker",
})
InsuranceStatus = graphql_enum(codes.InsuranceStatus, "参保状态 / insurance status", {
    "INSURED": "参保缴费 / insured",
    "SUSPENDED": "暂停缴费 / suspended",
    "ENDED": "终止参保 / ended",
})
PlanStatus = graphql_enum(codes.PlanStatus, "空编补员计划状态 / vacancy plan status", {
    "APPROVED": "已批准 / approved",
    "USED_UP": "已用完 / used up",
    "REVOKED": "已撤销 / revoked",
})

PayrollChangeKind = graphql_enum(codes.PayrollChangeKind, "劳资异动类型 / payroll change kind", {
    "START": "新增（起薪） / pay starts",
    "STOP": "停发 / pay stops",
    "RAISE": "调资 / pay standard changed",
    "TRANSFER": "调动 / transferred to another paying institution",
})


ForecastDimension = graphql_enum(ForecastDimensionCode, "退休预测的分组维度 / what a retirement forecast groups by", {
    "REGION": "地区（旗区） / region",
    "INSTITUTION": "机构 / institution",
    "QUOTA_TYPE": "编制类型 / quota type",
    "CATEGORY": "退休类别（男、女干部、女工人） / retirement category (men, women cadre, women worker)",
    "SEX": "性别 / sex",
    "EDUCATION": "学历（实名制） / education (registry)",
    "ETHNIC_GROUP": "民族（实名制） / ethnic group (registry)",
}, name="ForecastDimension")
RetirementCategory = graphql_enum(RetirementGroup, "退休类别（2025年渐进式规则） / retirement category (2025 rule)", {
    "MEN": "男性（原60岁） / men (formerly 60)",
    "WOMEN_CADRE": "女干部、管理和专业技术岗位（原55岁） / women in cadre, management or technical posts (formerly 55)",
    "WOMEN_WORKER": "女工人岗位（原50岁） / women in worker posts (formerly 50)",
}, name="RetirementCategory")


TrendMeasure = graphql_enum(TrendMeasureCode, "月度快照的指标 / a key figure kept monthly", {
    "INSTITUTIONS": "机构数 / institutions",
    "APPROVED": "核定编制数 / approved quota",
    "OCCUPIED": "实有（占用）编制数 / slots occupied",
    "VACANT": "空编数 / vacant slots",
    "PERSONS": "在编人数（人） / persons holding a slot",
    "LEADERS": "在任领导职务数 / leadership appointments in force",
    "PAY_GROSS": "应发工资合计（分） / gross pay (fen)",
    "PAY_NET": "实发工资合计（分） / net pay (fen)",
}, name="TrendMeasure")
TrendDimension = graphql_enum(TrendDimensionCode, "趋势的分列维度 / what a trend is split by", {
    "REGION": "地区（旗区） / region",
    "QUOTA_TYPE": "编制类型（编制类指标） / quota type (quota measures)",
}, name="TrendDimension")


@strawberry.enum(description="数据来源部门 / source department")
class Department(Enum):
    """The departments are data (hub.core.departments), not code: this class only names the GraphQL
    type; `install_departments` gives it one value per department of the configured table when the
    schema is built, and fields of this type return the department id as it is."""

    UNCONFIGURED = strawberry.enum_value("", description="（构建时替换） / replaced when the schema is built")


class DepartmentId(str):
    """A department id given as a `Department` argument (strawberry wraps an enum's input values in a class)."""

    __slots__ = ()

    @property
    def value(self) -> str:
        """The id, as an enum member's value (strawberry compares it when a field returns one)."""
        return str(self)


def install_departments(schema: GraphQLSchema, departments: Departments) -> None:
    """Make the `Department` enum list the table's departments: name the id upper-cased, value the id."""
    enum = schema.type_map[Department.__name__]
    assert isinstance(enum, GraphQLEnumType)
    enum.values = {d.id.upper(): GraphQLEnumValue(d.id, description=d.label) for d in departments}
    enum.__dict__.pop("_value_lookup", None)  # graphql-core's cached value -> name map
    enum.wrapped_cls = DepartmentId  # type: ignore[attr-defined]  # strawberry wraps input values in it
