"""Teacher allocation against the demo's raw rows (schools from T_JG, teachers counted by the stats oracle),
the move suggestion on a hand-made banner, settings, row scope and grants."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from hub.core.crosswalk import Identity
from hub.core.settings import Settings
from resolvers.allocation import Enrolment, School, moves, ratio
from resolvers.institutions import InstitutionView
from tests.conftest import Hub
from tests.resolvers.stats_oracle import StatsOracle
from tests.resolvers.test_stats import _institutions

QUERY = """query($r: String) { teacherAllocation(regionCode: $r) {
  schools { institution { code } regionCode schoolType students boarding mongolianMedium need teachers gap }
  bySubject { value teachers expected shortage surplus } byAgeBand { value teachers }
  moves { source { code } target { code } teachers sameRegion } need teachers shortage surplus } }"""
# The standard, as the legacy documentation gives it (students per staff member), and the default allowances.
PER = {"小学": 19.0, "初中": 13.5, "高中": 12.5, "完全中学": 13.0}


def _oracle(demo: Path, region: str) -> tuple[dict[str, tuple[str, int | None, int]], dict[str, int]]:
    """JGID -> (region, need, teachers) of every school in the region, and teachers by subject in those schools."""
    oracle = StatsOracle(demo, region, dt.date.today())
    schools = {}
    teachers = {k[0]: n for k, n in oracle.headcount(["INSTITUTION"], "JS").items()}
    for jgid, name, xzqh, xxlb, zxss in oracle.o.q("SELECT JGID, JGMC, XZQH, XXLB, ZXSS FROM T_JG WHERE XXLB IS NOT NULL AND CXRQ IS NULL"):
        if not oracle.inside("T_JG", jgid):
            continue
        extra = 0.1 * ("寄宿" in name) + 0.1 * ("蒙古族" in name or "蒙授" in name)
        need = math.ceil(round(int(zxss) / PER[xxlb] * (1 + extra), 6)) if zxss is not None else None
        schools[jgid] = (xzqh, need, teachers.get(jgid, 0))
    by_subject: dict[str, int] = defaultdict(int)
    for (jgid, subject), n in oracle.headcount(["INSTITUTION", "SUBJECT"], "JS").items():
        if jgid in schools:
            by_subject[subject] += n
    return schools, dict(by_subject)


def _check_moves(found: dict[str, Any], gaps: dict[str, int], region_of: dict[str, str]) -> None:
    out: dict[str, int] = defaultdict(int)
    into: dict[str, int] = defaultdict(int)
    for m in found["moves"]:
        src, dst = m["source"]["code"], m["target"]["code"]
        assert region_of[src][:6] == region_of[dst][:6] and m["teachers"] > 0
        assert m["sameRegion"] == (region_of[src] == region_of[dst])
        out[src] += m["teachers"]
        into[dst] += m["teachers"]
    assert all(0 < n <= gaps[c] for c, n in out.items()) and all(0 < n <= -gaps[c] for c, n in into.items())
    for banner in {r[:6] for r in region_of.values()}:  # greedy: moves until one side of the banner is used up
        spare = sum(g for c, g in gaps.items() if g > 0 and region_of[c][:6] == banner)
        short = sum(-g for c, g in gaps.items() if g < 0 and region_of[c][:6] == banner)
        assert sum(n for c, n in out.items() if region_of[c][:6] == banner) == min(spare, short)


def test_agrees_with_an_oracle_over_the_raw_rows(hub: Hub, demo_dir: Path) -> None:
    for region in ("152900", "152921"):
        schools, by_subject = _oracle(demo_dir, region)
        body = hub.query(QUERY, {"r": None if region == "152900" else region}, region=region)
        assert "errors" not in body, body
        found = body["data"]["teacherAllocation"]
        local = _institutions(hub)
        got = {local[s["institution"]["code"]]: (s["regionCode"], s["need"], s["teachers"]) for s in found["schools"]}
        assert got == schools and any(v[2] for v in got.values()) and any(v[1] for v in got.values())
        assert {b["value"]: b["teachers"] for b in found["bySubject"]} == by_subject
        assert sum(b["teachers"] for b in found["byAgeBand"]) == found["teachers"] == sum(v[2] for v in schools.values())
        assert math.isclose(sum(b["expected"] for b in found["bySubject"]), found["need"], abs_tol=0.1 * len(by_subject))
        gaps = {s["institution"]["code"]: s["gap"] for s in found["schools"] if s["gap"] is not None}
        assert found["shortage"] == sum(-g for g in gaps.values() if g < 0)
        assert found["surplus"] == sum(g for g in gaps.values() if g > 0)
        _check_moves(found, gaps, {s["institution"]["code"]: s["regionCode"] for s in found["schools"]})


def test_row_scope_and_grants(hub: Hub) -> None:
    banner = hub.query(QUERY, {"r": None}, role="admin", region="152921")["data"]["teacherAllocation"]
    assert banner["schools"] and all(s["regionCode"].startswith("152921") for s in banner["schools"])
    outside = hub.query(QUERY, {"r": "152922"}, region="152921")
    assert outside["data"] is None and outside["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # The teachers' subject, title, education and age are needed whole: an aggregate-only analyst is refused.
    refused = hub.query(QUERY, {"r": None}, role="analyst")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # HR reads subject and title but not the registry's education: refused too, naming what it lacks.
    hr = hub.query(QUERY, {"r": None}, role="officer", department="hr")
    assert hr["errors"][0]["extensions"] == {"code": "FORBIDDEN", "field": "Dimension.EDUCATION"}


def _school(code: str, region: str, need: int, teachers: int) -> School:
    view = InstitutionView(Identity(code, code, region, (), "establishment"), None)
    return School(view, Enrolment("小学", need * 19), False, False, 19.0, 0.0, need, teachers)


def test_moves_closest_first_within_a_banner() -> None:
    short = _school("S", "152921", 10, 4)  # short of 6
    near = _school("A", "152921", 5, 8)  # 3 spare, same division
    nearer_code = _school("B", "152922", 5, 9)  # another banner: never a source
    far = _school("C", "152921001", 5, 10)  # 5 spare, a zone of the banner
    done = moves([short, near, nearer_code, far])
    assert [(m.source.identity.code, m.target.identity.code, m.teachers, m.same_region) for m in done] == [
        ("A", "S", 3, True), ("C", "S", 3, False)]


def test_ratios_and_allowances_are_settings() -> None:
    settings = Settings(teacher_ratio_primary=20, boarding_markers="寄宿, 住校", mongolian_medium_allowance=0.2)
    assert ratio(settings, "小学") == 20 and ratio(Settings(), "高中") == 12.5 and ratio(settings, "职业高中") is None
    assert settings.boarding_markers == ["寄宿", "住校"] and Settings().mongolian_medium_markers == ["蒙古族", "蒙授"]
