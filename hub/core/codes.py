"""Canonical code lists of the hub (docs/domain.md §Code lists).

Legacy spellings live only in the mapping files.
"""

from __future__ import annotations

from enum import StrEnum


class InstitutionType(StrEnum):
    """机构类别 institution type."""

    AGENCY = "AGENCY"  # 行政机关
    CIVIL_SERVICE_PI = "CIVIL_SERVICE_PI"  # 参公事业单位
    PI_CLASS_1 = "PI_CLASS_1"  # 公益一类
    PI_CLASS_2 = "PI_CLASS_2"  # 公益二类
    COMMERCIAL_PI = "COMMERCIAL_PI"  # 经营类
    MASS_ORG = "MASS_ORG"  # 群团


class Rank(StrEnum):
    """机构规格 institution rank."""

    DEPARTMENT_HEAD = "DEPARTMENT_HEAD"  # 正处
    DEPARTMENT_DEPUTY = "DEPARTMENT_DEPUTY"  # 副处
    SECTION_HEAD = "SECTION_HEAD"  # 正科
    SECTION_DEPUTY = "SECTION_DEPUTY"  # 副科
    UNIT = "UNIT"  # 股级


class Funding(StrEnum):
    """经费形式 funding mode."""

    FULL = "FULL"  # 全额
    PARTIAL = "PARTIAL"  # 差额
    SELF = "SELF"  # 自收自支


class QuotaType(StrEnum):
    """编制类型 quota type; types are not interchangeable."""

    XZ = "XZ"  # 行政编制
    ZF = "ZF"  # 政法专项编制
    CG = "CG"  # 参公事业编制
    SY = "SY"  # 事业编制
    JS = "JS"  # 中小学教职工编制
    GQ = "GQ"  # 工勤编制


class PersonnelCategory(StrEnum):
    """人员身份 personnel category."""

    CIVIL_SERVANT = "CIVIL_SERVANT"  # 01 公务员
    CIVIL_SERVICE_PI = "CIVIL_SERVICE_PI"  # 02 参公
    PI_MANAGEMENT = "PI_MANAGEMENT"  # 03 事业管理
    PI_TECHNICAL = "PI_TECHNICAL"  # 04 事业专技
    PI_WORKER = "PI_WORKER"  # 05 事业工勤


class Sex(StrEnum):
    """性别 GB/T 2261.1."""

    UNKNOWN = "UNKNOWN"
    MALE = "MALE"
    FEMALE = "FEMALE"
    UNSTATED = "UNSTATED"


class PostLevel(StrEnum):
    """领导职数 head or deputy."""

    HEAD = "HEAD"  # 正职
    DEPUTY = "DEPUTY"  # 副职


class PostScope(StrEnum):
    """领导职数 unit-level or internal-unit posts."""

    UNIT = "UNIT"  # 单位
    INTERNAL = "INTERNAL"  # 内设


class SlotStatus(StrEnum):
    """实名制 registry slot status."""

    ACTIVE = "ACTIVE"  # 在编
    SECONDED = "SECONDED"  # 借调
    LEFT = "LEFT"  # 出编


# The reason a slot is left when a reorganization (转隶) moves its holder to a slot at another institution
# on the same day; the new slot needs no vacancy plan (R13), the quota having moved with the people.
REORGANIZED = "REORGANIZED"


class EmploymentStatus(StrEnum):
    """人社 personnel status."""

    EMPLOYED = "EMPLOYED"  # 在职
    RETIRED = "RETIRED"  # 退休
    TRANSFERRED_OUT = "TRANSFERRED_OUT"  # 调出
    DECEASED = "DECEASED"  # 死亡
    RESIGNED = "RESIGNED"  # 辞职


class PostCategory(StrEnum):
    """岗位类别 public-institution post category."""

    MANAGEMENT = "MANAGEMENT"
    TECHNICAL = "TECHNICAL"
    WORKER = "WORKER"


class InsuranceStatus(StrEnum):
    """AC01 social-insurance status."""

    INSURED = "INSURED"
    SUSPENDED = "SUSPENDED"
    ENDED = "ENDED"


class PayrollChangeKind(StrEnum):
    """劳资异动 kind (finance GZ_YD.YDLX)."""

    START = "START"  # 新增（起薪）
    STOP = "STOP"  # 停发
    RAISE = "RAISE"  # 调资
    TRANSFER = "TRANSFER"  # 调动


class PlanStatus(StrEnum):
    """空编补员计划 status."""

    APPROVED = "APPROVED"  # 已批准
    USED_UP = "USED_UP"  # 已用完
    REVOKED = "REVOKED"  # 已撤销


REGIONS: dict[str, str] = {
    "152900": "阿拉善盟",
    "152921": "阿拉善左旗",
    "152922": "阿拉善右旗",
    "152923": "额济纳旗",
    "152971": "阿拉善高新技术产业开发区",
    # Zones without a county code get internal sub-codes under their banner [? configurable].
    "15292101": "腾格里经济技术开发区",
    "15292102": "孪井滩生态移民示范区",
    "15292301": "策克口岸经济开发区",
}

LEAGUE = "152900"

# Quota types whose holders are paid on the civil-servant scale (ZWGZ/JBGZ); the rest on GWGZ/XJGZ.
CIVIL_SERVICE_SCALE = frozenset({QuotaType.XZ, QuotaType.ZF, QuotaType.CG})

# Which personnel categories may hold a slot of each quota type (R05).
QUOTA_CATEGORIES: dict[QuotaType, frozenset[PersonnelCategory]] = {
    QuotaType.XZ: frozenset({PersonnelCategory.CIVIL_SERVANT}),
    QuotaType.ZF: frozenset({PersonnelCategory.CIVIL_SERVANT}),
    QuotaType.CG: frozenset({PersonnelCategory.CIVIL_SERVICE_PI}),
    QuotaType.SY: frozenset(
        {PersonnelCategory.PI_MANAGEMENT, PersonnelCategory.PI_TECHNICAL, PersonnelCategory.PI_WORKER}
    ),
    QuotaType.JS: frozenset(
        {PersonnelCategory.PI_MANAGEMENT, PersonnelCategory.PI_TECHNICAL, PersonnelCategory.PI_WORKER}
    ),
    QuotaType.GQ: frozenset({PersonnelCategory.PI_WORKER}),
}

# Leadership level codes (组织部 A0221) that are a unit's own head / deputy level, by rank (R07).
UNIT_LEVELS: dict[Rank, tuple[str, str | None]] = {
    Rank.DEPARTMENT_HEAD: ("131", "132"),
    Rank.DEPARTMENT_DEPUTY: ("132", "141"),
    Rank.SECTION_HEAD: ("141", "142"),
    Rank.SECTION_DEPUTY: ("142", None),
    Rank.UNIT: ("", None),
}


def region_of(code: str | None) -> str | None:
    """The banner-level (6-digit) region a division or zone code belongs to."""
    return code[:6] if code else None


def in_scope(region: str | None, scope: str) -> bool:
    """Whether a division code lies inside a scope (152900 is the whole league)."""
    if scope == LEAGUE:
        return True
    return region is not None and region.startswith(scope)
