"""Leaders and cadres: who holds which leadership post (组织部 A02) within a unit's approved posts."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hub.core.codes import (
    CIVIL_SERVICE_SCALE,
    UNIT_LEVELS,
    InstitutionType,
    PersonnelCategory,
    PostCategory,
    PostLevel,
    PostScope,
    QuotaType,
    SlotStatus,
)
from hub.demo.institutions import Institution
from hub.demo.world import World, years_after

if TYPE_CHECKING:
    from hub.demo.population import Person

C = PersonnelCategory
LEVEL_ORDER = ("131", "132", "141", "142", "150", "160")
# PI management grade that goes with a leadership level (管理岗位 5级 = 正处 … 10级 = 办事员).
MANAGEMENT_GRADE = {"131": 5, "132": 6, "141": 7, "142": 8, "150": 9, "160": 10}
HEAD_TITLES = (
    ("局", "局长"),
    ("院", "院长"),
    ("学", "校长"),
    ("校", "校长"),
    ("政府", "镇长"),
    ("委员会", "主任"),
)
# Units whose leaders hold civil-service slots (XZ/ZF/CG); the others' leaders hold SY slots.
CIVIL_SERVICE_UNITS = frozenset(
    {InstitutionType.AGENCY, InstitutionType.CIVIL_SERVICE_PI, InstitutionType.MASS_ORG}
)


@dataclass(slots=True, eq=False)
class Appointment:
    """A leadership post held now (A0265 empty), possibly after an earlier post in the same unit."""

    level: PostLevel
    scope: PostScope
    code: str
    title: str
    start: dt.date
    previous: tuple[str, str, dt.date] | None = None


def level_codes(inst: Institution) -> dict[tuple[PostLevel, PostScope], str]:
    """The A0221 level code of each kind of post in an institution of this rank."""
    head, deputy = UNIT_LEVELS[inst.rank]
    if not head:
        return {}
    rest = LEVEL_ORDER[LEVEL_ORDER.index(deputy or head) + 1 :]
    codes = {(PostLevel.HEAD, PostScope.UNIT): head, (PostLevel.HEAD, PostScope.INTERNAL): rest[0]}
    if deputy:
        codes[(PostLevel.DEPUTY, PostScope.UNIT)] = deputy
    codes[(PostLevel.DEPUTY, PostScope.INTERNAL)] = rest[1] if len(rest) > 1 else rest[0]
    return codes


def _title(inst: Institution, level: PostLevel, scope: PostScope, code: str) -> str:
    if scope == PostScope.INTERNAL:
        head = "科长" if code < "150" else "股长"
    else:
        name = inst.name.split("（")[0]
        head = next((t for s, t in HEAD_TITLES if name.endswith(s)), "主任")
    return head if level == PostLevel.HEAD else "副" + head


def appoint(inst: Institution, people: list[Person], rng: random.Random, world: World) -> None:
    """Choose the unit's leaders (within its approved posts) and its other cadres."""
    if not inst.kind.cadres:
        return
    codes = level_codes(inst)
    pool = [
        p
        for p in people
        if p.employed
        and p.slots[-1].status == SlotStatus.ACTIVE
        and p.category != C.PI_WORKER
        and (p.quota in CIVIL_SERVICE_SCALE) == (inst.type in CIVIL_SERVICE_UNITS)
        and p.quota != QuotaType.GQ
    ]
    pool.sort(key=lambda p: (p.birth + dt.timedelta(days=rng.randint(0, 3000)), p.seq))
    for (level, scope), approved in inst.posts.items():
        filled = approved if rng.random() < 0.7 or approved == 1 else approved - 1
        for _ in range(filled):
            if not pool:
                return
            p = pool.pop(0)
            code = codes[(level, scope)]
            entered = p.slots[-1].entered
            start = min(world.ref_end, max(entered, years_after(world.ref_end, -rng.uniform(0.2, 8.0))))
            p.appointment = Appointment(level, scope, code, _title(inst, level, scope, code), start)
            if rng.random() < 0.4 and start > entered + dt.timedelta(days=800):
                lower = LEVEL_ORDER[min(len(LEVEL_ORDER) - 1, LEVEL_ORDER.index(code) + 1)]
                earlier = max(entered, years_after(start, -3))
                p.appointment.previous = (lower, "副" + p.appointment.title.lstrip("副"), earlier)
            p.cadre = True
            if p.category in (C.PI_TECHNICAL, C.PI_MANAGEMENT):
                p.category = C.PI_MANAGEMENT
                p.post = (PostCategory.MANAGEMENT, MANAGEMENT_GRADE[code], start, None)
                p.title = p.subject = None
    for p in pool:
        senior = p.category == C.CIVIL_SERVANT and p.birth < years_after(world.ref_end, -42)
        if senior and rng.random() < 0.04:
            p.cadre = True  # non-leading cadres (一级主任科员 and the like) are on 组织部's books too
