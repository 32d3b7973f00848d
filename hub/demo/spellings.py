"""How each legacy system spells canonical values (the adapters' mapping files hold the reverse)."""

from __future__ import annotations

from hub.core.codes import (
    EmploymentStatus,
    Funding,
    InstitutionType,
    InsuranceStatus,
    PersonnelCategory,
    PlanStatus,
    PostCategory,
    PostLevel,
    PostScope,
    QuotaType,
    Rank,
    SlotStatus,
)

# 编办 (establishment office): Chinese text codes.
JGLB = {
    InstitutionType.AGENCY: "行政机关",
    InstitutionType.CIVIL_SERVICE_PI: "参公事业单位",
    InstitutionType.PI_CLASS_1: "公益一类",
    InstitutionType.PI_CLASS_2: "公益二类",
    InstitutionType.COMMERCIAL_PI: "经营类",
    InstitutionType.MASS_ORG: "群团",
}
JGGG = {
    Rank.DEPARTMENT_HEAD: "正处",
    Rank.DEPARTMENT_DEPUTY: "副处",
    Rank.SECTION_HEAD: "正科",
    Rank.SECTION_DEPUTY: "副科",
    Rank.UNIT: "股级",
}
JFXS = {Funding.FULL: "全额", Funding.PARTIAL: "差额", Funding.SELF: "自收自支"}
RYZT = {SlotStatus.ACTIVE: "在编", SlotStatus.SECONDED: "借调", SlotStatus.LEFT: "出编"}
PLAN_ZT = {PlanStatus.APPROVED: "已批准", PlanStatus.USED_UP: "已用完", PlanStatus.REVOKED: "已撤销"}
ZWCC = {PostLevel.HEAD: "正职", PostLevel.DEPUTY: "副职"}
ZSLX = {PostScope.UNIT: "单位", PostScope.INTERNAL: "内设"}
REGISTRY_SEX = {True: "男", False: "女"}
ETHNIC_TEXT = {
    "01": "汉族",
    "02": "蒙古族",
    "03": "回族",
    "04": "藏族",
    "05": "维吾尔族",
    "11": "满族",
    "97": "其他",
}
# GB/T 4658 codes the generator uses, and the registry's text for them.
EDUCATION_TEXT = {"14": "研究生", "21": "本科", "31": "专科", "41": "中专", "61": "高中", "71": "初中"}
# Why a slot was left (T_SMZ.CBYY).
LEFT_REASON = {
    EmploymentStatus.RETIRED: "退休",
    EmploymentStatus.RESIGNED: "辞职",
    EmploymentStatus.DECEASED: "死亡",
    EmploymentStatus.TRANSFERRED_OUT: "调出",
}
TRANSFER_REASON = "调动"  # left one slot for another inside the league (HR still says 在职)

# 组织部 (organization department): national cadre standard codes.
CADRE_SEX = {True: "1", False: "2"}
CADRE_ROLE = {PostLevel.HEAD: "1", PostLevel.DEPUTY: "2"}
FULL_TIME = {True: "1", False: "2"}

# 人社局 (HR and social security): GB codes.
HR_SEX = {True: "1", False: "2"}
HR_CATEGORY = {
    PersonnelCategory.CIVIL_SERVANT: "01",
    PersonnelCategory.CIVIL_SERVICE_PI: "02",
    PersonnelCategory.PI_MANAGEMENT: "03",
    PersonnelCategory.PI_TECHNICAL: "04",
    PersonnelCategory.PI_WORKER: "05",
}
HR_STATUS = {
    EmploymentStatus.EMPLOYED: "在职",
    EmploymentStatus.RETIRED: "退休",
    EmploymentStatus.TRANSFERRED_OUT: "调出",
    EmploymentStatus.DECEASED: "死亡",
    EmploymentStatus.RESIGNED: "辞职",
}
POST_CATEGORY = {PostCategory.MANAGEMENT: "1", PostCategory.TECHNICAL: "2", PostCategory.WORKER: "3"}
INSURANCE = {InsuranceStatus.INSURED: "1", InsuranceStatus.SUSPENDED: "2", InsuranceStatus.ENDED: "3"}

# 财政局 (finance): its own conventions; note 0 is female here, unlike GB/T 2261.1.
FINANCE_SEX = {True: "1", False: "0"}
PAYEE_ACTIVE_CIVIL, PAYEE_ACTIVE_PI, PAYEE_RETIRED = "行政", "事业", "退休"
ON_QUOTA, OFF_QUOTA = "在编", "编外"
ON_PAYROLL = {True: "Y", False: "N"}
CHANGE_START, CHANGE_STOP, CHANGE_RAISE, CHANGE_TRANSFER = "新增", "停发", "调资", "调动"

# Quota types are written as their canonical codes (XZ, ZF, CG, SY, JS, GQ) by every system.
BZLX = {q: q.value for q in QuotaType}
