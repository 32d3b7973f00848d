"""Kind definitions with routes and planners: a route is a whole kind, chosen by a choice field; bad ones refused."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from hub.core.errors import BadUserInput
from hub.workflow.kinds import KINDS_DIR, parse_kind, shipped_kinds


def _transfer() -> dict[str, Any]:
    return yaml.safe_load((KINDS_DIR / "transfer.yaml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def test_a_route_runs_with_its_own_signers_and_required_fields() -> None:
    kind = shipped_kinds()["TRANSFER"]
    within = kind.routed({"origin": "WITHIN_LEAGUE", "fromInstitutionCode": "X"})
    assert [[s.name for s in stage] for stage in within.stages] == [["slot"], ["personnel", "cadre"], ["pay"]]
    assert within.precheck.holds_slot_at == "fromInstitutionCode" and within.reserve.slot
    assert [e.entity for e in within.effects][:2] == ["registry_slot", "registry_slot"]  # leave, then enter
    with pytest.raises(BadUserInput) as missing:
        kind.routed({"origin": "WITHIN_LEAGUE"})
    assert missing.value.extensions["field"] == "fromInstitutionCode"
    outside = kind.routed({"origin": "OUTSIDE", "name": "甲", "category": "PI_WORKER", "postCategory": "WORKER",
                           "postGrade": 3, "payCategory": "ADMINISTRATIVE"})
    assert {s.keeper for s in outside.steps[:3]} == {"cadre", "personnel", "registry_slot"}  # three sign before pay
    assert outside.precheck.holds_no_slot
    assert shipped_kinds()["REORGANIZATION"].planner == "reorganization"


@pytest.mark.parametrize("breakage", ["route_missing", "stages_at_top", "unknown_required", "bad_route_action"])
def test_bad_routed_kinds_are_refused(breakage: str) -> None:
    data = copy.deepcopy(_transfer())
    if breakage == "route_missing":
        del data["routes"]["OUTSIDE"]
    elif breakage == "stages_at_top":
        data["stages"] = data["routes"]["OUTSIDE"]["stages"]
    elif breakage == "unknown_required":
        data["routes"]["OUTSIDE"]["requires"] = ["nickname"]
    else:
        data["routes"]["OUTSIDE"]["stages"][0][0]["action"] = "approve:ONBOARDING:file"
    with pytest.raises(ValueError):
        parse_kind(data)
