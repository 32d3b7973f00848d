"""Freezes and their history; the precheck the workflow calls before it starts an action."""

from __future__ import annotations

import pytest

from hub.core.crosswalk import CrosswalkCache
from hub.core.errors import BadUserInput, Conflict
from hub.store import Store
from hub.supervision import freezes
from hub.supervision.freezes import FreezeStatus
from hub.supervision.model import FreezeKind
from hub.supervision.precheck import Action, precheck
from hub.supervision.service import supervise
from tests.supervision.conftest import Demo


def _codes(result: object, kind: str) -> set[str]:
    return {i.code for i in getattr(result, kind)}


async def test_freeze_blocks_the_action_it_names_until_lifted(demo: Demo, store: Store) -> None:
    sources, manifest, _ = await demo(persons=400, seed=11)
    cw = await CrosswalkCache(sources).get()
    code = next(a["institutionCode"] for a in manifest["anomalies"] if a["rule"] == "R04")

    made = await freezes.freeze(store, code, None, kinds=[FreezeKind.HIRING], reason="超编 / over quota",
                                alert_ids=[], actor="bianban-1", note="先冻结")
    assert made.status == FreezeStatus.ACTIVE
    hire = await precheck(sources, cw, store, Action.HIRE, code)
    assert "INSTITUTION_FROZEN" in _codes(hire, "blockers") and not hire.allowed
    pay = await precheck(sources, cw, store, Action.PAY_CHANGE, code)
    assert "INSTITUTION_FROZEN" not in _codes(pay, "blockers")

    lifted = await freezes.decide(store, made.id, FreezeStatus.LIFTED, "bianban-2", "已整改 / rectified")
    assert lifted.status == FreezeStatus.LIFTED
    assert "INSTITUTION_FROZEN" not in _codes(await precheck(sources, cw, store, Action.HIRE, code), "blockers")
    with pytest.raises(Conflict):
        await freezes.decide(store, made.id, FreezeStatus.LIFTED, "bianban-2")
    async with store.connect() as conn:
        steps = [(e.from_status, e.to_status, e.actor, e.note) for e in (await freezes.freeze_history(conn, [made.id]))[made.id]]
    assert steps == [(None, "ACTIVE", "bianban-1", "先冻结"), ("ACTIVE", "LIFTED", "bianban-2", "已整改 / rectified")]
    with pytest.raises(BadUserInput):
        await freezes.freeze(store, code, None, kinds=[], reason="x", alert_ids=[], actor="a")


async def test_precheck_quota_plans_alerts_and_person(demo: Demo, store: Store) -> None:
    sources, manifest, _ = await demo(persons=400, seed=12)
    run, _ = await supervise(sources, store)
    cw = await CrosswalkCache(sources).get()
    over = next(a for a in manifest["anomalies"] if a["rule"] == "R04")
    blocked = await precheck(sources, cw, store, Action.HIRE, over["institutionCode"], quota_type=over["detail"])
    assert "QUOTA_EXCEEDED" in _codes(blocked, "blockers")
    assert "OPEN_SEVERE_ALERTS" in _codes(blocked, "warnings")
    assert "FREEZE_PROPOSED" in _codes(blocked, "warnings")  # the severe R04 alert proposed a hiring freeze
    # A caller deciding vacancy and freezes itself (the workflow) gets the rest: those checks are not run.
    rest = await precheck(sources, cw, store, Action.HIRE, over["institutionCode"], quota_type=over["detail"],
                          decided={"QUOTA_EXCEEDED", "NO_VACANCY_PLAN", "INSTITUTION_FROZEN", "FREEZE_PROPOSED"})
    assert rest.allowed and _codes(rest, "warnings") == _codes(blocked, "warnings") - {"FREEZE_PROPOSED"}
    vacancy_only = await precheck(sources, cw, store, Action.HIRE, over["institutionCode"], quota_type=over["detail"],
                                  decided={"QUOTA_EXCEEDED"})  # a check is left out only when all its codes are
    assert "QUOTA_EXCEEDED" in _codes(vacancy_only, "blockers")

    results = [await precheck(sources, cw, store, Action.HIRE, code) for code, ident in cw.by_code.items()
               if ident.local_id(cw.base)]
    assert any(r.allowed for r in results), "some institution has a vacant slot and a plan with places left"
    assert any("NO_VACANCY_PLAN" in _codes(r, "blockers") for r in results)

    holder = next(a["idNumber"] for a in manifest["anomalies"] if a["rule"] == "R12")
    ghost = next(a["idNumber"] for a in manifest["anomalies"] if a["rule"] == "R01")
    code = next(iter(cw.by_code))
    assert "ALREADY_IN_SLOT" in _codes(await precheck(sources, cw, store, Action.HIRE, code, holder), "blockers")
    start = await precheck(sources, cw, store, Action.PAY_START, code, ghost)
    assert "NO_SLOT" in _codes(start, "blockers") and "PERSON_SEVERE_ALERTS" in _codes(start, "warnings")
    with pytest.raises(BadUserInput):
        await precheck(sources, cw, store, Action.HIRE, "no-such-code")
    with pytest.raises(BadUserInput):
        await precheck(sources, cw, store, Action.HIRE, code, "15292119850315002")
    assert run.id
