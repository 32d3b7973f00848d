"""`stats` against an independent count of the raw legacy rows (stats_oracle.py): every dimension and
measure, at two data sizes, in the league and in one banner, as three roles; the statements it costs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hub.core.stats import round_to
from hub.demo.generate import sqlite_targets
from tests.conftest import Hub, generate_into, hub_settings, running_hub
from tests.resolvers.stats_oracle import StatsOracle

QUERY = """query($m: [Measure!]!, $b: [Dimension!], $f: StatsFilter) {
  stats(measures: $m, by: $b, filter: $f) { rows { keys values suppressed } total { values suppressed } restricted minGroupSize }
}"""
LEAGUE, BANNER = "152900", "152922"
UNIT = ["REGION", "INSTITUTION", "INSTITUTION_TYPE", "FUNDING"]
REGISTRY = ["QUOTA_TYPE", "ETHNIC_GROUP", "EDUCATION"]
PERSON = ["SEX", "AGE_BAND", "TITLE_LEVEL", "POST_CATEGORY", "POST_GRADE", "SUBJECT"]

# (measures, by): every dimension with every measure family it applies to, and the cross-department pairs.
CASES: list[tuple[list[str], list[str]]] = [
    *((["HEADCOUNT", "OCCUPIED"], [d]) for d in UNIT + REGISTRY),
    (["HEADCOUNT", "OCCUPIED"], []),
    (["HEADCOUNT", "OCCUPIED"], ["REGION", "QUOTA_TYPE"]),
    (["HEADCOUNT"], ["INSTITUTION", "EDUCATION"]),
    *((["HEADCOUNT"], [d]) for d in PERSON),
    (["HEADCOUNT"], ["QUOTA_TYPE", "TITLE_LEVEL"]),
    (["HEADCOUNT"], ["REGION", "SEX", "POST_CATEGORY"]),
    (["APPROVED", "VACANT", "OVER", "VACANCY_RATE"], ["REGION", "QUOTA_TYPE"]),
    *((["APPROVED", "VACANT", "OVER"], [d]) for d in ["INSTITUTION", "INSTITUTION_TYPE", "FUNDING"]),
    *((["LEADERSHIP_APPROVED", "LEADERSHIP_FILLED"], [d]) for d in ["REGION", "INSTITUTION", "INSTITUTION_TYPE", "FUNDING"]),
    (["PAY_GROSS_TOTAL", "PAY_GROSS_AVERAGE", "PAY_NET_TOTAL", "PAY_POST_PAY_TOTAL"], ["MONTH"]),
    (["PAY_POSITION_PAY_TOTAL", "PAY_ALLOWANCES_AVERAGE", "PAY_INCOME_TAX_TOTAL", "PAY_HOUSING_FUND_TOTAL"],
     ["REGION", "MONTH"]),
    (["PAY_GROSS_TOTAL"], ["INSTITUTION"]),
]


@pytest.fixture(scope="module", params=[400, 1500], ids=["400", "1500"])
def data(request: pytest.FixtureRequest, demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, Path]]:
    """A hub over the session's demo data (400 persons) and one over 1,500."""
    demo = demo_dir
    if request.param != 400:
        demo = tmp_path_factory.mktemp("stats")
        generate_into(sqlite_targets(demo), persons=request.param, seed=11, out=demo)
    with running_hub(hub_settings(demo)) as hub:
        yield hub, demo


def _institutions(hub: Hub) -> dict[str, str]:
    """The hub's institution code -> the establishment office's unit id (to name groups as the oracle does)."""
    found = hub.query("{ institutions(first: 1000) { edges { node { code sourceUnits { department localCode } } } } }")
    return {e["node"]["code"]: u["localCode"] for e in found["data"]["institutions"]["edges"]
            for u in e["node"]["sourceUnits"] if u["department"].lower() == "establishment"}


def _expected(oracle: StatsOracle, measures: list[str], by: list[str]) -> tuple[dict[tuple[Any, ...], dict[str, float | None]], dict[tuple[Any, ...], int | None]]:
    """Per group, each measure's value and the people behind it (None: no people, quotas only)."""
    values: dict[tuple[Any, ...], dict[str, float | None]] = {}
    support: dict[tuple[Any, ...], int | None] = {}

    def put(key: tuple[Any, ...], measure: str, value: float | None, people: int | None = None) -> None:
        key = tuple(None if v is None else str(v) for v in key)
        values.setdefault(key, {})[measure] = value
        if people is not None:
            support[key] = max(support.get(key) or 0, people)
        else:
            support.setdefault(key, None)

    for m in measures:
        if m == "HEADCOUNT":
            for k, n in oracle.headcount(by).items():
                put(k, m, n, n)
        elif m == "OCCUPIED":
            for k, n in oracle.occupied(by).items():
                put(k, m, n, n)
        elif m in ("APPROVED", "VACANT", "OVER", "VACANCY_RATE"):
            for k, parts in oracle.quota(by).items():
                rate = round(parts["VACANT"] / parts["APPROVED"], 4) if parts["APPROVED"] else None
                put(k, m, rate if m == "VACANCY_RATE" else parts[m])
        elif m.startswith("LEADERSHIP"):
            for k, parts in oracle.posts(by).items():
                put(k, m, parts.get(m, 0), parts.get("LEADERSHIP_FILLED") if m == "LEADERSHIP_FILLED" else None)
        else:
            component = m[4:].rsplit("_", 1)[0].lower()
            for k, (total, lines) in oracle.pay(by, component).items():
                put(k, m, total if m.endswith("TOTAL") else round(total / lines, 2), lines)
    for key in values:  # a group another measure found holds zero of this one
        for m in measures:
            if m not in values[key] and not m.startswith("PAY") and m != "VACANCY_RATE":
                values[key][m] = 0
    return values, support


def _got(hub: Hub, institutions: dict[str, str], measures: list[str], by: list[str], role: str, region: str,
         department: str | None = None) -> dict[str, Any]:
    answer = hub.query(QUERY, {"m": measures, "b": by}, role=role, department=department, region=region)
    assert "errors" not in answer, answer["errors"]
    stats = answer["data"]["stats"]
    if "INSTITUTION" in by:
        i = by.index("INSTITUTION")
        for row in stats["rows"]:
            row["keys"][i] = institutions.get(row["keys"][i], row["keys"][i])
    return stats  # type: ignore[no-any-return]


def _exact(stats: dict[str, Any], expected: dict[tuple[Any, ...], dict[str, float | None]], measures: list[str]) -> None:
    got = {tuple(r["keys"]): dict(zip(measures, r["values"], strict=True)) for r in stats["rows"]}
    assert not stats["restricted"] and not any(r["suppressed"] for r in stats["rows"])
    assert {k: v for k, v in got.items() if any(v.values())} == {k: v for k, v in expected.items() if any(v.values())}


@pytest.mark.parametrize("region", [LEAGUE, BANNER])
def test_every_measure_and_dimension_agrees_with_the_raw_rows(data: tuple[Hub, Path], region: str) -> None:
    hub, demo = data
    oracle, institutions = StatsOracle(demo, region, dt.date.today()), _institutions(hub)
    for measures, by in CASES:
        expected, _ = _expected(oracle, measures, by)
        stats = _got(hub, institutions, measures, by, "admin", region)
        _exact(stats, expected, measures)
        totals = [sum((v.get(m) or 0) for v in expected.values()) for m in measures]
        for m, got, want in zip(measures, stats["total"]["values"], totals, strict=True):
            if m.endswith("TOTAL") or m in ("HEADCOUNT", "OCCUPIED", "APPROVED", "VACANT", "OVER") or m.startswith("LEADERSHIP"):
                assert got == want, (measures, by, m)


@pytest.mark.parametrize("region", [LEAGUE, BANNER])
def test_an_officer_gets_exact_figures_for_what_it_reads_and_nothing_else(data: tuple[Hub, Path], region: str) -> None:
    hub, demo = data
    oracle, institutions = StatsOracle(demo, region, dt.date.today()), _institutions(hub)
    for measures, by in CASES[:12]:  # registry and person dimensions the establishment office reads
        if set(by) & {"TITLE_LEVEL", "POST_CATEGORY", "POST_GRADE", "SUBJECT"}:
            continue
        stats = _got(hub, institutions, measures, by, "officer", region, "establishment")
        _exact(stats, _expected(oracle, measures, by)[0], measures)
    denied = hub.query(QUERY, {"m": ["PAY_GROSS_TOTAL"], "b": ["MONTH"]}, role="officer", department="establishment",
                       region=region)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    denied = hub.query(QUERY, {"m": ["HEADCOUNT"], "b": ["TITLE_LEVEL"]}, role="officer", department="establishment",
                       region=region)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("region", [LEAGUE, BANNER])
def test_an_analyst_gets_rounded_figures_and_small_groups_suppressed(data: tuple[Hub, Path], region: str) -> None:
    hub, demo = data
    oracle, institutions = StatsOracle(demo, region, dt.date.today()), _institutions(hub)
    k = hub.settings.min_group_size
    for measures, by in CASES:
        if any(m.endswith("AVERAGE") or m == "VACANCY_RATE" for m in measures):
            continue
        expected, support = _expected(oracle, measures, by)
        stats = _got(hub, institutions, measures, by, "analyst", region)
        if not set(by) & set(REGISTRY[1:] + PERSON + ["MONTH"]) and not any(m.startswith("PAY") for m in measures):
            _exact(stats, expected, measures)  # institutions, quotas and posts: what every staff role reads
            continue
        assert stats["restricted"] and stats["minGroupSize"] == k
        rows = {tuple(r["keys"]): r for r in stats["rows"]}
        for key, want in expected.items():
            people = support.get(key)
            if key not in rows:
                assert not any(want.values()), (by, key)
                continue
            row = rows[key]
            if people is not None and 0 < people < k:
                assert row["suppressed"] and row["values"] == [None] * len(measures), (by, key)
            if row["suppressed"]:
                continue
            for m, value in zip(measures, row["values"], strict=True):
                exact = want[m] or 0
                if m in ("VACANT", "OVER") or m.startswith("PAY"):
                    continue  # derived from rounded parts / money, checked in test_stats_restrict
                assert value == round_to(int(exact), k), (by, key, m)


def test_row_scope_narrows_every_statement(data: tuple[Hub, Path]) -> None:
    hub, demo = data
    league = hub.query(QUERY, {"m": ["HEADCOUNT", "APPROVED", "LEADERSHIP_FILLED"], "b": ["REGION"]})["data"]["stats"]
    banner = hub.query(QUERY, {"m": ["HEADCOUNT", "APPROVED", "LEADERSHIP_FILLED"], "b": ["REGION"]},
                       region=BANNER)["data"]["stats"]
    assert banner["rows"] and all(r["keys"][0].startswith(BANNER) for r in banner["rows"])
    inside = [r for r in league["rows"] if r["keys"][0].startswith(BANNER)]
    assert [r["values"][1:] for r in banner["rows"]] == [r["values"][1:] for r in inside]
    # A person holding slots in two banners counts once in the league (at their first slot) and in each banner.
    assert all(b["values"][0] >= r["values"][0] for b, r in zip(banner["rows"], inside, strict=True))
    outside = hub.query(QUERY, {"m": ["HEADCOUNT"], "b": ["REGION"], "f": {"regionCode": "152921"}}, region=BANNER)
    assert outside["data"]["stats"]["rows"] == []  # a filter narrows within the scope, never beyond it


def _statements(hub: Hub) -> dict[str, int]:
    return {d: a.statements for d, a in hub.client.app_state["hub"].sources.items()}


@pytest.mark.parametrize(("measures", "by", "expected"), [
    (["HEADCOUNT"], ["REGION", "QUOTA_TYPE"], {"establishment": 1}),  # the persons' GROUP BY
    (["HEADCOUNT", "OCCUPIED"], ["INSTITUTION", "EDUCATION"], {"establishment": 2}),  # persons, slots
    (["APPROVED", "VACANT"], ["INSTITUTION_TYPE"], {"establishment": 3}),  # unit types, quotas, slots
    (["LEADERSHIP_APPROVED", "LEADERSHIP_FILLED"], ["REGION"], {"establishment": 1, "organization": 1}),
    (["PAY_GROSS_TOTAL", "PAY_NET_AVERAGE"], ["REGION", "MONTH"], {"finance": 1}),
    (["HEADCOUNT"], ["QUOTA_TYPE", "TITLE_LEVEL", "SUBJECT"], {"establishment": 1, "hr": 2}),  # three streams
])
def test_one_statement_per_source_and_family(hub: Hub, measures: list[str], by: list[str], expected: dict[str, int]) -> None:
    hub.query(QUERY, {"m": measures, "b": by})  # the crosswalk is read once, before
    before = _statements(hub)
    for flt in ({}, {"regionCode": BANNER}):  # the same count whatever the groups
        hub.query(QUERY, {"m": measures, "b": by, "f": flt})
    after = _statements(hub)
    ran = {d: (after[d] - before[d]) // 2 for d in after if after[d] != before[d]}
    assert ran == expected


def test_persons_lists_each_person_once_and_people_lists_slots(hub: Hub) -> None:
    query = """query($after: String) { personCount persons(first: 37, after: $after) {
        totalCount edges { node { idNumber } } pageInfo { hasNextPage endCursor } } }"""
    seen: list[str] = []
    after = None
    while True:
        page = hub.query(query, {"after": after})["data"]
        seen += [e["node"]["idNumber"] for e in page["persons"]["edges"]]
        if not page["persons"]["pageInfo"]["hasNextPage"]:
            break
        after = page["persons"]["pageInfo"]["endCursor"]
    slots = hub.query("{ people(first: 1000) { totalCount edges { node { idNumber } } } }")["data"]["people"]
    headcount = hub.query(QUERY, {"m": ["HEADCOUNT"], "b": []})["data"]["stats"]["total"]["values"][0]
    assert len(seen) == len(set(seen)) == page["personCount"] == page["persons"]["totalCount"] == headcount
    assert set(seen) == {e["node"]["idNumber"] for e in slots["edges"]}
    assert slots["totalCount"] > len(seen)  # someone holds two slots: listed twice there, once here


@pytest.mark.parametrize("by", [["INSTITUTION", "EDUCATION"], ["REGION", "QUOTA_TYPE"], ["QUOTA_TYPE", "TITLE_LEVEL"], ["MONTH"]])
def test_rows_come_sorted_by_their_keys_nulls_last(hub: Hub, by: list[str]) -> None:
    measures = ["PAY_GROSS_TOTAL"] if by == ["MONTH"] else ["HEADCOUNT"]
    rows = hub.query(QUERY, {"m": measures, "b": by})["data"]["stats"]["rows"]
    keys = [r["keys"] for r in rows]
    assert len(keys) > 3 and all(len(k) == len(by) and len(r["values"]) == 1 for k, r in zip(keys, rows, strict=True))
    assert keys == sorted(keys, key=lambda k: [(v is None, v or "") for v in k])
    assert len({tuple(k) for k in keys}) == len(keys)
