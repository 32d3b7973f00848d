"""Minimal synthetic records for rule tests: one league with two institutions, one person at a time."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from adapters.mapping import default_mappings
from hub.core import ids
from hub.core.crosswalk import build_crosswalk
from hub.core.records import (
    Insurance,
    Payee,
    PayLine,
    Personnel,
    PostAssignment,
    RegistrySlot,
    Unit,
    VacancyPlan,
)
from hub.supervision.facts import Facts, PersonView, World

MONTH = "2026-10"
A = ids.make_uscc("12", "152921", "MB000011")  # 阿拉善左旗第一中学
B = ids.make_uscc("11", "152922", "00000022")  # 阿拉善右旗财政局
C = ids.make_uscc("12", "152923", "MB000033")  # a self-funded unit
MAN = ids.make_id_number("152921", dt.date(1985, 3, 15), 1, True)
WOMAN = ids.make_id_number("152922", dt.date(1975, 3, 10), 2, False)

UNITS = {
    "establishment": [
        Unit("JG1", "阿拉善左旗第一中学", A, "152921", "PI_CLASS_1", "SECTION_HEAD", "FULL"),
        Unit("JG2", "阿拉善右旗财政局", B, "152922", "AGENCY", "SECTION_HEAD", "FULL"),
        Unit("JG3", "阿拉善额济纳旗服务中心", C, "152923", "COMMERCIAL_PI", "UNIT", "SELF"),
    ],
    "finance": [Unit("F1", "阿拉善左旗第一中学", A), Unit("F2", "阿拉善右旗财政局", None), Unit("F9", "无名单位", None)],
    "organization": [Unit("O1", "阿拉善左旗第一中学", A[8:17]), Unit("O2", "阿拉善右旗财政局", B)],
    "hr": [Unit("H1", "阿拉善左旗第一中学", A, "152921")],
}
PLANS = {
    "P1": VacancyPlan("P1", "JG1", "JS", 2, 1, dt.date(2010, 1, 1), "APPROVED"),
    "P2": VacancyPlan("P2", "JG2", "XZ", 1, 1, dt.date(2010, 1, 1), "APPROVED"),
    "PX": VacancyPlan("PX", "JG1", "JS", 1, 0, dt.date(2010, 1, 1), "REVOKED"),
}


def world(**changes: Any) -> World:
    """The test league at the reference month."""
    holders = {e: d for d, m in default_mappings().items() for e in m.entities if e != "unit"}
    w = World(MONTH, build_crosswalk(UNITS, "establishment"), holders, plans=dict(PLANS))
    w.units = {u.local_id: u for u in UNITS["establishment"]}
    w.appointing_units = {u.local_id: u for u in UNITS["organization"]}
    for key, value in changes.items():
        setattr(w, key, value)
    return w


def slot(**changes: Any) -> RegistrySlot:
    """An active JS slot at JG1 entered in 2010 under plan P1."""
    base = RegistrySlot("S1", "JG1", MAN, "张三", "MALE", "1985-03", "01", "20", "JS", dt.date(2010, 9, 1),
                        None, None, "ACTIVE", "P1")
    return replace(base, **changes)


def payee(**changes: Any) -> Payee:
    """An on-quota payee of F1 on the payroll."""
    return replace(Payee("Y1", MAN, "F1", "张三", "MALE", "PUBLIC_INSTITUTION", True, True), **changes)


def line(**changes: Any) -> PayLine:
    """A pay line of the reference month on the PI scale with pension deducted."""
    base = PayLine(MONTH, "Y1", MAN, "F1", position_pay=250000, step_pay=150000, basic_performance=100000,
                   gross=582000, pension=40000)
    return replace(base, **changes)


def person(**changes: Any) -> Personnel:
    """An employed PI technical person at H1."""
    base = Personnel("R1", MAN, "H1", "张三", "MALE", "1985-03-15", "01", "21", "PI_TECHNICAL", None,
                     dt.date(2008, 7, 1), "EMPLOYED", None)
    return replace(base, **changes)


def insured(**changes: Any) -> Insurance:
    """An insured social-insurance record."""
    return replace(Insurance("I1", MAN, "H1", "张三", "MALE", "1985-03-15", "INSURED"), **changes)


def post(**changes: Any) -> PostAssignment:
    """A current technical post."""
    return replace(PostAssignment("R1", MAN, "H1", "TECHNICAL", 10, dt.date(2015, 1, 1), None), **changes)


def facts(w: World | None, records: dict[str, list[Any]], id_number: str = MAN) -> Facts:
    """A person's facts from records by kind (slots, pay, payees, personnel, …)."""
    view = PersonView(id_number)
    for name, value in records.items():
        setattr(view, name, value)
    return Facts(view, w or world())


def clean(**overrides: list[Any]) -> dict[str, list[Any]]:
    """The records of a person with nothing wrong, with some kinds replaced."""
    records: dict[str, list[Any]] = {"slots": [slot()], "personnel": [person()], "posts": [post()],
                                     "insurance": [insured()], "payees": [payee()], "pay": [line()]}
    records.update(overrides)
    return records
