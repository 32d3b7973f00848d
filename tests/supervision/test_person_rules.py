"""Each person rule fires on a minimal bad case and stays silent on the near miss.

The rules are stated in docs/supervision.md §Each rule as the code reads it.
"""

from __future__ import annotations

import datetime as dt

from hub.core import ids
from hub.supervision.person_rules import PERSON_RULES
from tests.supervision.synthetic import (
    MAN,
    WOMAN,
    clean,
    facts,
    insured,
    line,
    payee,
    person,
    post,
    slot,
    world,
)


def fired(rule: str, **records: list[object]) -> bool:
    w = world()
    return PERSON_RULES[rule](facts(w, records), w) is not None


def test_a_clean_person_raises_nothing() -> None:
    w = world()
    f = facts(w, clean())
    assert {rule: check(f, w) for rule, check in PERSON_RULES.items() if check(f, w)} == {}


def test_r01_ghost_pay_names_the_evidence() -> None:
    w = world()
    hit = PERSON_RULES["R01"](facts(w, clean(slots=[slot(status="LEFT", left_on=dt.date(2026, 3, 5))])), w)
    assert hit is not None
    assert hit.evidence["amount"] == "5,820.00" and hit.evidence["lastLeft"] == "2026-03"
    assert hit.institution_code is not None


def test_r01_not_for_an_active_slot_nor_an_off_quota_payee() -> None:
    assert not fired("R01", **clean())
    assert not fired("R01", **clean(slots=[], payees=[payee(on_quota=False)]))


def test_r01_a_slot_left_after_the_reference_month_is_still_active() -> None:
    assert not fired("R01", **clean(slots=[slot(left_on=dt.date(2026, 11, 2))]))
    assert fired("R01", **clean(slots=[slot(left_on=dt.date(2026, 10, 31))]))


def test_r02_unpaid_active_slot_except_self_funded() -> None:
    assert fired("R02", **clean(pay=[]))
    assert not fired("R02", **clean(pay=[], slots=[slot(unit_local_id="JG3")]))
    assert not fired("R02", **clean(pay=[line(month="2026-09")], slots=[slot(unit_local_id="JG3")]))


def test_r02_is_judged_from_the_registry_alone() -> None:
    dead = person(status="DECEASED", status_on=dt.date(2026, 5, 1))
    assert fired("R02", **clean(pay=[], personnel=[dead]))


def test_r03_pay_unit_differs_but_not_when_unplaced() -> None:
    assert fired("R03", **clean(pay=[line(unit_local_id="F2")]))
    assert not fired("R03", **clean())
    assert not fired("R03", **clean(pay=[line(unit_local_id="F9")]))


def test_r05_quota_type_against_category() -> None:
    assert fired("R05", **clean(personnel=[person(category="CIVIL_SERVANT")]))
    assert not fired("R05", **clean(personnel=[person(category="PI_MANAGEMENT")]))
    assert fired("R05", **clean(slots=[slot(quota_type="XZ", unit_local_id="JG2", plan_id="P2")]))


def test_r06_scale_against_quota_type() -> None:
    civil = line(position_pay=0, step_pay=0, post_pay=250000, grade_pay=150000)
    assert fired("R06", **clean(pay=[civil]))
    assert not fired("R06", **clean())
    xz = slot(quota_type="XZ", unit_local_id="JG2", plan_id="P2")
    assert fired("R06", **clean(slots=[xz], pay=[line(unit_local_id="F2")]))
    assert not fired("R06", **clean(slots=[xz], pay=[civil]))


def test_r08_past_retirement_and_the_recorded_deferral() -> None:
    old = ids.make_id_number("152921", dt.date(1960, 5, 1), 3, True)
    records = clean(slots=[slot(id_number=old)])
    w = world()
    assert PERSON_RULES["R08"](facts(w, records, old), w) is not None
    exempt = world(deferred=frozenset({old}))
    assert PERSON_RULES["R08"](facts(exempt, records, old), exempt) is None


def test_r08_a_woman_in_a_worker_post_retires_earlier() -> None:
    # born 1975-03: worker group 50 + 2 months -> 2025-05; cadre group 55 + 7 months -> 2030-10
    w = world()
    gq = clean(slots=[slot(id_number=WOMAN, quota_type="GQ")], posts=[])
    assert PERSON_RULES["R08"](facts(w, gq, WOMAN), w) is not None
    cadre = clean(slots=[slot(id_number=WOMAN)], posts=[post(category="TECHNICAL")])
    assert PERSON_RULES["R08"](facts(w, cadre, WOMAN), w) is None
    worker_post = clean(slots=[slot(id_number=WOMAN)], posts=[post(category="WORKER")])
    assert PERSON_RULES["R08"](facts(w, worker_post, WOMAN), w) is not None


def test_r09_two_slots_or_paid_twice_but_a_transfer_is_one_slot() -> None:
    second = slot(slot_id="S2", unit_local_id="JG2", quota_type="XZ", plan_id="P2")
    assert fired("R09", **clean(slots=[slot(), second]))
    moved = slot(slot_id="S0", unit_local_id="JG2", status="LEFT", left_on=dt.date(2024, 1, 1), left_reason="调动")
    assert not fired("R09", **clean(slots=[moved, slot()]))
    assert fired("R09", **clean(pay=[line(), line(payee_code="Y2")], payees=[payee(), payee(payee_code="Y2")]))
    assert not fired("R09", **clean(pay=[line(), line(month="2026-09")]))


def test_r10_invalid_id_number() -> None:
    bad = MAN[:17] + ("0" if MAN[17] != "0" else "1")
    w = world()
    assert PERSON_RULES["R10"](facts(w, clean(), bad), w) is not None
    assert not fired("R10", **clean())


def test_r11_compares_at_each_sources_precision() -> None:
    assert not fired("R11", **clean())  # registry '1985-03' agrees with the ID's 1985-03-15
    assert fired("R11", **clean(slots=[slot(birth="1985-04")]))
    assert fired("R11", **clean(personnel=[person(birth="1985-03-16")]))
    assert fired("R11", **clean(payees=[payee(sex="FEMALE")]))


def test_r12_different_names() -> None:
    assert fired("R12", **clean(payees=[payee(name="张叁")]))
    assert not fired("R12", **clean())


def test_r13_plans() -> None:
    assert not fired("R13", **clean())
    assert fired("R13", **clean(slots=[slot(plan_id=None)]))
    assert fired("R13", **clean(slots=[slot(plan_id="PX")]))  # revoked
    assert fired("R13", **clean(slots=[slot(plan_id="P2")]))  # another unit's plan
    assert fired("R13", **clean(slots=[slot(entered_on=dt.date(2009, 6, 1))]))  # approved after entry
    w = world(plan_excess=frozenset({"S1"}))
    assert PERSON_RULES["R13"](facts(w, clean()), w) is not None


def test_r14_pay_after_leaving_but_a_transfer_is_not() -> None:
    left = slot(status="LEFT", left_on=dt.date(2026, 3, 5), left_reason="辞职")
    assert fired("R14", **clean(slots=[left], pay=[line(month="2026-05")]))
    assert not fired("R14", **clean(slots=[left], pay=[line(month="2026-03")]))
    transfer = slot(slot_id="S2", unit_local_id="JG2", quota_type="XZ", plan_id="P2", entered_on=dt.date(2026, 3, 5))
    assert not fired("R14", **clean(slots=[left, transfer]))


def test_r14_death_or_resignation_with_the_slot_still_active() -> None:
    dead = person(status="DECEASED", status_on=dt.date(2026, 6, 1))
    assert fired("R14", **clean(personnel=[dead]))
    retired = person(status="RETIRED", status_on=dt.date(2026, 6, 1))
    assert not fired("R14", **clean(personnel=[retired]))


def test_r15_pension_against_insurance() -> None:
    assert fired("R15", **clean(insurance=[insured(status="SUSPENDED")]))
    assert fired("R15", **clean(pay=[line(pension=0)]))
    assert not fired("R15", **clean())
    assert not fired("R15", **clean(pay=[], insurance=[insured(status="ENDED")]))


def test_r16_both_ways() -> None:
    assert fired("R16", **clean(payees=[payee(on_quota=False)]))
    assert fired("R16", **clean(slots=[]))
    assert not fired("R16", **clean())


def test_the_rule_table_covers_r01_to_r16() -> None:
    from hub.supervision.rules import RULES

    assert sorted(RULES) == [f"R{i:02d}" for i in range(1, 17)]
    assert set(PERSON_RULES) | {"R04", "R07"} == set(RULES)
