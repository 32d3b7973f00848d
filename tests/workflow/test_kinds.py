"""Kinds are data: definitions are checked when loaded, and a new kind runs on the engine unchanged."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from hub.core.errors import Forbidden
from hub.store import Store
from hub.store.outbox import events
from hub.workflow.kinds import parse_kind, shipped_kinds
from hub.workflow.model import Decision, State
from tests.workflow.conftest import League, actor, engine

TITLE = """
kind: TITLE_AWARD
title: 职称认定 / professional title
submit: submit:TITLE_AWARD
fields:
  institutionCode: {type: institution}
  idNumber: {type: id_number}
  title: {type: choice, choices: [SENIOR, INTERMEDIATE]}
  obtainedOn: {type: date}
stages:
  - - {name: review, keeper: title, action: "approve:TITLE_AWARD:review"}
effects:
  - entity: title
    op: INSERT
    values: {person_no: $person.personnel.person_no, id_number: $input.idNumber, unit_local_id: $institution.local_id,
             title: $input.title, obtained_on: $input.obtainedOn}
"""


def _broken(**changes: Any) -> dict[str, Any]:
    data = yaml.safe_load(TITLE)
    data.update(changes)
    return data  # type: ignore[no-any-return]


def test_the_shipped_kinds_load() -> None:
    kinds = shipped_kinds()
    assert {"VACANCY_PLAN", "ONBOARDING", "LEAVING", "QUOTA_ADJUSTMENT", "PAYROLL_CHANGE", "LEADERSHIP_POST"} <= set(kinds)
    onboarding = kinds["ONBOARDING"]
    assert [[s.name for s in stage] for stage in onboarding.stages][1] == ["qualification_personnel", "qualification_cadre"]
    assert [e.entity for e in onboarding.effects][:1] == ["registry_slot"] and onboarding.effects[-1].entity == "payroll_change"


@pytest.mark.parametrize("changes", [
    {"submit": "submit:OTHER"},
    {"fields": {"idNumber": {"type": "id_number"}}},  # no institutionCode
    {"stages": []},
    {"stages": [[{"name": "review", "keeper": "no_such_entity", "action": "approve:TITLE_AWARD:review"}]]},
    {"stages": [[{"name": "review", "keeper": "title", "action": "approve:OTHER:review"}]]},
    {"effects": [{"entity": "title", "op": "INSERT", "values": {"no_such_field": 1}}]},
    {"effects": [{"entity": "title", "op": "DELETE", "values": {}}]},
    {"effects": [{"entity": "title", "op": "INSERT", "values": {"title": "$input.missing"}}]},
    {"reserve": {"slot": True}},  # reserving needs a quota type field
    {"effects": [{"entity": "title", "op": "UPDATE", "key": {"person_no": "$new"}, "values": {"title": "SENIOR"}}]},
    # `$new.<entity>.<field>` names a record an earlier effect inserts
    {"effects": [{"entity": "title", "op": "INSERT", "values": {"person_no": "$new.personnel.person_no"}}]},
    {"colour": "red"},
])
def test_a_broken_definition_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        parse_kind(_broken(**changes))


async def test_a_new_kind_runs_without_engine_code(league: League, store: Store) -> None:
    ident = league.crosswalk.identity(league.code)
    assert ident is not None
    person = next(r[0] for r in league.sql("hr", "SELECT GMSFHM FROM RS_RYXX WHERE DWBM = ? AND length(GMSFHM) = 18 "
                                           "ORDER BY RYBH", ident.local_id("hr")))
    kind = parse_kind(yaml.safe_load(TITLE))
    wf = engine(league, store, kinds={kind.kind: kind})
    hr = actor("hr")
    app = await wf.submit("TITLE_AWARD", {"institutionCode": league.code, "idNumber": person, "title": "SENIOR",
                                          "obtainedOn": "2026-10-01"}, hr)
    with pytest.raises(Forbidden):  # finance keeps no title records
        await wf.decide(app.id, Decision.APPROVE, None, actor("finance"))
    done = await wf.decide(app.id, Decision.APPROVE, None, hr)
    assert done.state == State.COMPLETED
    (change,) = [e.change for e in await events(store, "hr", application_id=app.id)]
    assert (change.entity, change.values["title"], change.values["unit_local_id"]) == ("title", "SENIOR", ident.local_id("hr"))
    assert change.values["person_no"]
