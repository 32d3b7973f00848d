"""The annual rollup against the demo's raw rows (league and one banner, two years), its XLSX export through a
saved report (Chinese headers), bad input and grants."""

from __future__ import annotations

import io
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from hub.core import ids
from tests.conftest import Hub

ANNUAL = """query($y: Int!, $r: String) { annualReport(year: $y, regionCode: $r) {
  lines { section sectionName category item approved actual } } }"""
SAVE = """mutation($d: String!, $v: JSON) { saveReport(report: "annual", document: $d, description: "年报", variables: $v) { name } }"""
TYPES = {"行政机关": "AGENCY", "参公事业单位": "CIVIL_SERVICE_PI", "公益一类": "PI_CLASS_1", "公益二类": "PI_CLASS_2",
         "经营类": "COMMERCIAL_PI", "群团": "MASS_ORG"}


def _oracle(demo: Path, year: int, region: str) -> Counter[tuple[str, Any, Any, str]]:
    """(section, category, item, figure) -> value, from the raw rows (region by the establishment unit's XZQH)."""
    db = sqlite3.connect(":memory:")
    for dept in ("establishment", "organization"):
        db.execute(f"ATTACH DATABASE '{demo / f'{dept}.db'}' AS {dept}")
    end, start = f"{year}-12-31", f"{year}-01-01"
    inside = {j for j, x in db.execute("SELECT JGID, XZQH FROM T_JG") if region == "152900" or (x or "").startswith(region)}
    out: Counter[tuple[str, Any, Any, str]] = Counter()
    ranks = {r[0]: r[1] for r in db.execute("SELECT DISTINCT JGGG, JGGG FROM T_JG")}
    for jgid, jglb, jggg, clrq, cxrq in db.execute("SELECT JGID, JGLB, JGGG, CLRQ, CXRQ FROM T_JG"):
        if jgid in inside and (clrq is None or clrq <= end) and (cxrq is None or cxrq > end):
            out[("INSTITUTIONS", TYPES[jglb], ranks[jggg], "actual")] += 1
    for jgid, bzlx, hds in db.execute("SELECT JGID, BZLX, HDS FROM T_BZ"):
        if jgid in inside:
            out[("QUOTAS", bzlx, None, "approved")] += int(hds)
    people: dict[str, set[str]] = {}
    for jgid, sfzh, bzlx, rbrq, cbrq, cbyy in db.execute("SELECT JGID, SFZH, BZLX, RBRQ, CBRQ, CBYY FROM T_SMZ ORDER BY RBRQ, RYID"):
        if jgid not in inside:
            continue
        if (rbrq is None or rbrq <= end) and (cbrq is None or cbrq > end):
            key = ids.normalize_id_number(sfzh)
            if key and not any(key in s for s in people.values()):
                people.setdefault(bzlx, set()).add(key)
        if rbrq and start <= rbrq <= end:
            out[("ENTRIES", bzlx, None, "actual")] += 1
        if cbrq and start <= cbrq <= end:
            out[("EXITS", cbyy, None, "actual")] += 1
    for bzlx, keys in people.items():
        out[("QUOTAS", bzlx, None, "actual")] += len(keys)
    for jgid, n in db.execute("SELECT JGID, HDZS FROM T_LDZS"):
        if jgid in inside:
            out[("LEADERSHIP", "*", "*", "approved")] += int(n)
    return +out


def _flatten(lines: list[dict[str, Any]]) -> Counter[tuple[str, Any, Any, str]]:
    out: Counter[tuple[str, Any, Any, str]] = Counter()
    for x in lines:
        for figure in ("approved", "actual"):
            if x[figure] is None or x["section"] == "LEADERS":
                continue
            key = ("*", "*") if x["section"] == "LEADERSHIP" else (x["category"], x["item"])
            out[(x["section"], *key, figure)] += x[figure]
    return +out


@pytest.mark.parametrize(("year", "region"), [(2025, "152900"), (2024, "152921")])
def test_agrees_with_the_raw_rows(hub: Hub, demo_dir: Path, year: int, region: str) -> None:
    body = hub.query(ANNUAL, {"y": year, "r": None if region == "152900" else region}, region=region)
    assert "errors" not in body, body
    lines = body["data"]["annualReport"]["lines"]
    expected = _oracle(demo_dir, year, region)
    # Ranks are codes in the hub and text in T_JG: compare institutions by type, the rest line by line.
    got = _flatten(lines)
    by_type: Counter[str] = Counter()
    for k, v in expected.items():
        if k[0] == "INSTITUTIONS":
            by_type[k[1]] += v
    assert Counter(x["category"] for x in lines if x["section"] == "INSTITUTIONS" for _ in range(x["actual"])) == by_type
    assert {k: v for k, v in got.items() if k[0] != "INSTITUTIONS"} == {k: v for k, v in expected.items() if k[0] != "INSTITUTIONS"}
    assert any(k[0] == "EXITS" for k in expected) and any(k[0] == "ENTRIES" for k in expected)
    leaders = [x for x in lines if x["section"] == "LEADERS"]
    assert leaders and all(x["item"] in ("HEAD", "DEPUTY", None) for x in leaders)
    assert {x["sectionName"] for x in lines} <= {"机构数", "编制与实有人员", "领导职数", "在任领导人员", "本年进入", "本年退出"}


def test_exports_to_xlsx_with_chinese_headers(hub: Hub) -> None:
    assert "errors" not in hub.query(SAVE, {"d": ANNUAL, "v": {"y": 2025}})
    response = hub.client.get("/export/annual.xlsx", headers={"Authorization": f"Bearer {hub.token()}"})
    assert response.status_code == 200, response.text
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0] == ("栏目代码", "栏目", "类别", "项目", "核定数", "实有数")
    lines = hub.query(ANNUAL, {"y": 2025})["data"]["annualReport"]["lines"]
    assert [tuple(r) for r in rows[1:]] == [(x["section"], x["sectionName"], x["category"], x["item"], x["approved"], x["actual"])
                                            for x in lines]


def test_bad_input_and_grants(hub: Hub) -> None:
    assert hub.query(ANNUAL, {"y": 1800})["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "errors" not in hub.query(ANNUAL, {"y": 2025}, role="officer", department="establishment")
    assert hub.query(ANNUAL, {"y": 2025}, role="officer", department="finance")["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    outside = hub.query(ANNUAL, {"y": 2025, "r": "152922"}, region="152921")
    assert outside["errors"][0]["extensions"]["code"] == "FORBIDDEN"
