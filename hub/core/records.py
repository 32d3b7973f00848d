"""Canonical records: what adapters return, whatever the department's legacy shape.

Plain frozen slotted dataclasses (cheap to build, safe to share across a request). Dates are
`datetime.date`; months are 'YYYY-MM' strings; birth dates are ISO strings at the precision the
source holds ('1975-08' or '1975-08-20'); money is integer fen; codes are the enums of hub.core.codes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Unit:
    """One department's record of an institution (编办 T_JG, 组织部 B01, 人社 RS_DW, 财政 GZ_DW)."""

    local_id: str
    name: str | None = None
    credit_code: str | None = None  # USCC, or a 9-character organization code
    region_code: str | None = None
    type: str | None = None
    rank: str | None = None
    funding: str | None = None
    parent_local_id: str | None = None
    school_type: str | None = None
    students: int | None = None
    established_on: dt.date | None = None
    abolished_on: dt.date | None = None
    head_posts: int | None = None
    deputy_posts: int | None = None


@dataclass(frozen=True, slots=True)
class Quota:
    """Approved staffing quota of one type for a unit."""

    unit_local_id: str
    quota_type: str
    approved: int
    document: str | None = None
    approved_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class LeadershipPostQuota:
    """Approved leadership posts (领导职数) of a unit by head/deputy and unit/internal."""

    unit_local_id: str
    level: str
    scope: str
    approved: int


@dataclass(frozen=True, slots=True)
class RegistrySlot:
    """A real-name registry (实名制) entry: one person holding one quota slot."""

    slot_id: str
    unit_local_id: str
    id_number: str | None
    name: str | None = None
    sex: str | None = None
    birth: str | None = None
    ethnic_group: str | None = None
    education: str | None = None
    quota_type: str | None = None
    entered_on: dt.date | None = None
    left_on: dt.date | None = None
    left_reason: str | None = None
    status: str | None = None
    plan_id: str | None = None


@dataclass(frozen=True, slots=True)
class VacancyPlan:
    """An approved vacancy-filling plan (空编补员计划)."""

    plan_id: str
    unit_local_id: str
    quota_type: str
    planned: int
    used: int | None = None
    approved_on: dt.date | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class Cadre:
    """A cadre file (组织部 A01)."""

    cadre_id: str
    id_number: str | None
    name: str | None = None
    sex: str | None = None
    birth: str | None = None
    ethnic_group: str | None = None
    unit_local_id: str | None = None


@dataclass(frozen=True, slots=True)
class Appointment:
    """A leadership appointment (任职, 组织部 A02)."""

    appointment_id: str
    cadre_id: str
    id_number: str | None = None
    unit_local_id: str | None = None
    title: str | None = None
    level_code: str | None = None
    role: str | None = None
    start_on: dt.date | None = None
    document: str | None = None
    end_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class CadreEducation:
    """A cadre's education record (组织部 A08)."""

    cadre_id: str
    id_number: str | None = None
    unit_local_id: str | None = None
    education: str | None = None
    full_time: bool | None = None
    graduated_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Personnel:
    """A personnel record (人社 RS_RYXX)."""

    person_no: str
    id_number: str | None
    unit_local_id: str | None = None
    name: str | None = None
    sex: str | None = None
    birth: str | None = None
    ethnic_group: str | None = None
    education: str | None = None
    category: str | None = None
    subject: str | None = None
    work_start: dt.date | None = None
    status: str | None = None
    status_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class PostAssignment:
    """A public-institution post (岗位) held by a person (人社 RS_GWPY)."""

    person_no: str
    id_number: str | None = None
    unit_local_id: str | None = None
    category: str | None = None
    grade: int | None = None
    start_on: dt.date | None = None
    end_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Title:
    """A professional title (职称, 人社 RS_ZC)."""

    person_no: str
    id_number: str | None = None
    unit_local_id: str | None = None
    title: str | None = None
    level: int | None = None
    obtained_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Insurance:
    """A social-insurance record (人社 AC01)."""

    insured_no: str
    id_number: str | None
    unit_local_id: str | None = None
    name: str | None = None
    sex: str | None = None
    birth: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class Payee:
    """A person on the unified payroll's list (财政 GZ_RY)."""

    payee_code: str
    id_number: str | None
    unit_local_id: str | None = None
    name: str | None = None
    sex: str | None = None
    category: str | None = None
    on_quota: bool | None = None
    on_payroll: bool | None = None


@dataclass(frozen=True, slots=True)
class PayLine:
    """One person-month of pay (财政 GZ_YB), integer fen."""

    month: str
    payee_code: str
    id_number: str | None = None
    unit_local_id: str | None = None
    post_pay: int = 0
    grade_pay: int = 0
    position_pay: int = 0
    step_pay: int = 0
    basic_performance: int = 0
    reward_performance: int = 0
    allowances: int = 0
    gross: int = 0
    pension: int = 0
    medical: int = 0
    annuity: int = 0
    unemployment: int = 0
    housing_fund: int = 0
    income_tax: int = 0
    net: int = 0


@dataclass(frozen=True, slots=True)
class PayrollChange:
    """A payroll change (劳资异动, 财政 GZ_YD)."""

    change_id: str
    payee_code: str
    id_number: str | None = None
    unit_local_id: str | None = None
    kind: str | None = None
    from_month: str | None = None
    to_month: str | None = None
    document: str | None = None


RECORDS: dict[str, type] = {
    "unit": Unit,
    "quota": Quota,
    "leadership_post": LeadershipPostQuota,
    "registry_slot": RegistrySlot,
    "vacancy_plan": VacancyPlan,
    "cadre": Cadre,
    "appointment": Appointment,
    "cadre_education": CadreEducation,
    "personnel": Personnel,
    "post_assignment": PostAssignment,
    "title": Title,
    "insurance": Insurance,
    "payee": Payee,
    "pay_line": PayLine,
    "payroll_change": PayrollChange,
}
