"""Person-level legacy rows in every department, with the formatting noise the hub must normalize."""

from __future__ import annotations

import datetime as dt
import random
import uuid

from hub.core.codes import CIVIL_SERVICE_SCALE, EmploymentStatus, PostCategory
from hub.demo import spellings as S
from hub.demo.draws import randint
from hub.demo.names import REGION_SHORT
from hub.demo.payroll import pay_base, pay_lines
from hub.demo.planting import written_id
from hub.demo.population import Person
from hub.demo.world import World, month_key

Rows = dict[str, list[tuple]]  # legacy table name -> rows to write (GZ_YB: pay lines, made rows when written)
_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
_POST_TOP = {PostCategory.MANAGEMENT: 10, PostCategory.TECHNICAL: 13, PostCategory.WORKER: 5}


def registry_id(id18: str, born_19xx: bool, rng: random.Random) -> str:
    """The ID as the registry holds it: ~5% 15-digit, ~2% full-width, ~3% lowercase x (noise, not findings)."""
    draw = rng.random()
    if draw < 0.05 and born_19xx:
        return id18[:6] + id18[8:17]
    if draw < 0.07:
        return id18.translate(_FULL_WIDTH)
    if id18.endswith("X") and rng.random() < 0.33:
        return id18[:-1] + "x"
    return id18


def _spaced(name: str, surname: int) -> str:
    cut = surname or 2
    return f"{name[:cut]} {name[cut:]}" if len(name) > cut else name


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _doc(p: Person, office: str, day: dt.date, rng: random.Random) -> str:
    return f"{REGION_SHORT.get(p.inst.home, '阿盟')}{office}〔{day.year}〕{randint(rng, 1, 300)}号"


def registry_rows(p: Person, world: World, rng: random.Random, out: Rows) -> None:
    """T_SMZ: one row per slot (history included)."""
    id18 = written_id(p)
    shown = id18 if p.bad_id else registry_id(id18, p.birth.year < 2000, rng)
    birth = p.births.get("registry", p.birth)
    for slot in p.slots:
        out["T_SMZ"].append(
            (
                f"R{world.next_code('slot'):09d}",
                slot.inst.jgid,
                p.names.get("registry", p.name),
                shown,
                S.REGISTRY_SEX[p.sexes.get("registry", p.male)],
                f"{birth:%Y-%m}",
                S.ETHNIC_TEXT[p.ethnic],
                S.EDUCATION_TEXT[p.education],
                slot.quota.value,
                slot.entered,
                slot.left,
                slot.reason,
                S.RYZT[slot.status],
                slot.plan,
            ),
        )


def hr_rows(p: Person, world: World, rng: random.Random, out: Rows) -> None:
    """RS_RYXX, RS_GWPY, RS_ZC (if HR knows the person) and AC01."""
    id18 = written_id(p)
    if p.in_hr:
        rybh = f"{world.next_code('hr'):010d}"
        fate, fate_date = p.hr_fate or (p.fate, p.fate_date)
        category = p.hr_category or p.category
        out["RS_RYXX"].append(
            (
                rybh,
                p.inst.dwbm,
                p.names.get("hr", p.name),
                id18,
                S.HR_SEX[p.sexes.get("hr", p.male)],
                p.births.get("hr", p.birth),
                p.ethnic,
                p.education,
                S.HR_CATEGORY[category],
                p.subject,
                p.start_work,
                S.HR_STATUS[fate],
                fate_date,
            ),
        )
        if p.post:
            post, grade, since, earlier = p.post
            ended = None if p.employed else p.fate_date
            out["RS_GWPY"].append((rybh, S.POST_CATEGORY[post], grade, since, ended))
            if earlier:
                out["RS_GWPY"].append(
                    (rybh, S.POST_CATEGORY[post], min(_POST_TOP[post], grade + 1), earlier, since)
                )
        if p.title:
            out["RS_ZC"].append((rybh, p.title[0], str(p.title[1]), p.title[2]))
    birth = p.births.get("insurance", p.birth)
    out["AC01"].append(
        (
            f"1529{world.next_code('insured'):010d}",
            id18,
            p.names.get("insurance", p.name),
            S.HR_SEX[p.sexes.get("insurance", p.male)],
            int(f"{birth:%Y%m%d}"),
            S.INSURANCE[p.insurance],
        ),
    )


def cadre_rows(p: Person, rng: random.Random, out: Rows) -> None:
    """A01, A02 (current and earlier posts) and A08 for a cadre."""
    a0100 = _guid(rng)
    out["A01"].append(
        (a0100, p.name, S.CADRE_SEX[p.male], f"{p.birth:%Y%m}", p.ethnic, written_id(p), p.inst.b0111)
    )
    a = p.appointment
    if a:
        out["A02"].append(
            (
                _guid(rng),
                a0100,
                p.inst.b0111,
                a.title,
                a.code,
                S.CADRE_ROLE[a.level],
                f"{a.start:%Y%m%d}",
                _doc(p, "党干字", a.start, rng),
                None,
            ),
        )
        if a.previous:
            code, title, start = a.previous
            out["A02"].append(
                (
                    _guid(rng),
                    a0100,
                    p.inst.b0111,
                    title,
                    code,
                    "2",
                    f"{start:%Y%m%d}",
                    _doc(p, "党干字", start, rng),
                    f"{a.start:%Y%m%d}",
                ),
            )
    graduated = {"14": 25, "21": 22, "31": 21, "41": 19, "61": 18, "71": 15}
    if p.education == "14" and rng.random() < 0.5:  # a first degree, then a master's while working
        out["A08"].append((a0100, "21", S.FULL_TIME[True], f"{p.birth.year + 22}0701"))
        out["A08"].append((a0100, "14", S.FULL_TIME[False], f"{p.birth.year + randint(rng, 28, 36)}0701"))
    else:
        out["A08"].append(
            (a0100, p.education, S.FULL_TIME[True], f"{p.birth.year + graduated[p.education]}0701")
        )


def pay_span(p: Person, world: World) -> tuple[int, int]:
    """First and last paid month index in the window (last < first: none)."""
    first = max(0, world.month_index(p.slots[0].entered))
    if p.pay_to is not None:
        return first, p.pay_to
    if p.employed:
        return first, world.last
    assert p.fate_date is not None
    return first, min(world.month_index(p.fate_date), world.last - 1)  # never paid in the reference month


def finance_rows(p: Person, world: World, rng: random.Random, out: Rows) -> None:
    """GZ_RY (one payee, two for R09), GZ_YB pay lines and GZ_YD changes."""
    if not p.payee:
        return
    first, last = pay_span(p, world)
    paid_now = last == world.last and first <= last
    unit = p.pay_unit or p.inst
    category = (
        S.PAYEE_RETIRED
        if p.fate == EmploymentStatus.RETIRED
        else (S.PAYEE_ACTIVE_CIVIL if p.quota in CIVIL_SERVICE_SCALE else S.PAYEE_ACTIVE_PI)
    )
    on_quota = S.OFF_QUOTA if p.off_quota else S.ON_QUOTA if p.employed else None
    name = _spaced(p.name, p.surname) if rng.random() < 0.04 else p.name
    sex = S.FINANCE_SEX[p.sexes.get("finance", p.male)]
    id18 = written_id(p)
    rybm = f"{world.next_code('payee'):08d}"
    out["GZ_RY"].append(
        (
            rybm,
            unit.dwdm,
            p.names.get("finance", name),
            id18,
            sex,
            category,
            on_quota,
            S.ON_PAYROLL[paid_now],
        ),
    )
    base = pay_base(p, (world.ref_end - p.start_work).days // 365, rng)
    january = world.january
    moved = world.month_index(p.slots[-1].entered) if p.transferred else -1
    before, after = p.slots[0].inst.dwdm, unit.dwdm
    months = [
        (world.pay_months[i], before if i < moved else after, i >= january) for i in range(first, last + 1)
    ]
    out["GZ_YB"].append(pay_lines(base, rybm, months, rng))
    changes: list[tuple[str, str | None, str | None]] = [
        (S.CHANGE_START, month_key(p.slots[0].entered), None)
    ]
    if p.transferred:
        changes.append((S.CHANGE_TRANSFER, month_key(p.slots[-1].entered), None))
    if first <= january <= last:
        changes.append((S.CHANGE_RAISE, world.pay_months[january], None))
    if last < world.last:
        changes.append(
            (
                S.CHANGE_STOP,
                None,
                world.pay_months[last] if last >= 0 else month_key(p.fate_date or world.ref_end),
            )
        )
    for kind, since, until in changes:
        out["GZ_YD"].append(
            (
                f"YD{world.next_code('change'):010d}",
                rybm,
                kind,
                since,
                until,
                _doc(p, "财工资", world.ref_end, rng),
            ),
        )
    if p.extra_payee:  # R09: the same person on the payroll a second time
        other, start = p.extra_payee
        second = f"{world.next_code('payee'):08d}"
        out["GZ_RY"].append((second, other.dwdm, p.name, id18, sex, category, S.ON_QUOTA, S.ON_PAYROLL[True]))
        months = [(world.pay_months[i], other.dwdm, i >= january) for i in range(start, world.last + 1)]
        out["GZ_YB"].append(pay_lines(base, second, months, rng))
        out["GZ_YD"].append(
            (
                f"YD{world.next_code('change'):010d}",
                second,
                S.CHANGE_START,
                world.pay_months[start],
                None,
                _doc(p, "财工资", world.ref_end, rng),
            ),
        )


def person_rows(p: Person, world: World, rng: random.Random, out: Rows) -> None:
    """Every department's rows about one person."""
    if p.in_registry:
        registry_rows(p, world, rng, out)
    hr_rows(p, world, rng, out)
    if p.cadre:
        cadre_rows(p, rng, out)
    finance_rows(p, world, rng, out)
