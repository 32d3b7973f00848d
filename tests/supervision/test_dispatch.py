"""Rules are dispatched by what they declare: the entities they read and the lookup they defer to.

A rule is added by declaring it (rule table + PersonRule/InstitutionRule); the engine names no rule.
"""

from __future__ import annotations

from typing import Any

import pytest

from hub.supervision import engine, person_rules, rules, unit_rules
from hub.supervision.deferred import PayHistory
from hub.supervision.engine import run_check
from hub.supervision.facts import Facts, World
from hub.supervision.model import Hit, Rule, Severity
from hub.supervision.person_rules import PersonRule, needs_pay_history
from hub.supervision.unit_rules import InstitutionRule
from tests.supervision.conftest import Demo, sources_for

CADRE_RULE = Rule("R90", Severity.NOTICE, frozenset({"cadre"}), "person", "干部", "a cadre", "{n} 条", "{n} records")
PAID_BEFORE = Rule("R91", Severity.NOTICE, frozenset({"pay_line", "payee"}), "person", "曾发薪", "paid before",
                   "{months}", "{months}")
UNITS_RULE = Rule("R92", Severity.NOTICE, frozenset({"appointment"}), "institution", "机构", "units", "{n}", "{n}")


def _cadre(p: Facts, w: World) -> Hit | None:
    return Hit({}, {"n": len(p.view.cadres)}, p.home(w)) if p.view.cadres else None


def _paid_before(p: Facts, w: World) -> Hit | None:
    earlier = sorted({line.month for line in p.view.pay if line.month < w.month})
    return Hit({"months": earlier}, {"months": ", ".join(earlier)}, p.home(w)) if earlier else None


def _appointing_units(w: World, agg: Any) -> list[Hit]:
    return [Hit({}, {"n": len(w.appointing_units)}, None)]


@pytest.fixture
def declared(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three new rules, each only declared: a person rule, one with a deferred lookup, an institution rule."""
    monkeypatch.setitem(rules.RULES, "R90", CADRE_RULE)
    monkeypatch.setitem(rules.RULES, "R91", PAID_BEFORE)
    monkeypatch.setitem(rules.RULES, "R92", UNITS_RULE)
    monkeypatch.setitem(person_rules.PERSON_RULES, "R90", PersonRule(_cadre))
    monkeypatch.setitem(person_rules.PERSON_RULES, "R91", PersonRule(_paid_before, PayHistory, needs_pay_history))
    monkeypatch.setitem(unit_rules.INSTITUTION_RULES, "R92", InstitutionRule(_appointing_units))
    assert engine.RULES is rules.RULES and engine.PERSON_RULES is person_rules.PERSON_RULES


async def test_a_declared_rule_runs_with_its_lookup_and_nothing_else_changes(demo: Demo, declared: None) -> None:
    sources, manifest, _ = await demo(persons=400, seed=61)
    result = await run_check(sources)
    by_rule: dict[str, int] = {}
    for f in result.findings:
        by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
    assert by_rule["R90"] > 0 and by_rule["R92"] == 1
    # R91 sees earlier months only through the PayHistory lookup, as R14 does, for the persons R14 wants
    assert by_rule["R91"] > 0 and all(f.facts["months"] < [result.month] for f in result.findings if f.rule == "R91")
    planted = {(a["rule"], a.get("idNumber") or a.get("institutionCode")) for a in manifest["anomalies"]}
    assert {(f.rule, f.subject) for f in result.findings if f.rule < "R90"} == planted


async def test_a_declared_rule_is_skipped_when_the_keeper_of_its_entity_is_down(demo: Demo, declared: None) -> None:
    _, _, targets = await demo(persons=200, seed=62)
    broken = sources_for({**targets, "organization": "sqlite+aiosqlite:////nonexistent/dir/organization.db"})
    try:
        result = await run_check(broken)
    finally:
        await broken.close()
    assert result.skipped["R90"] == result.skipped["R92"] == "缺少数据源 / source unavailable: organization"
    assert "R91" in result.rules and not any(f.rule in ("R90", "R92") for f in result.findings)
