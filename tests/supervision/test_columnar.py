"""The columnar may-hit pass finds exactly what the per-person engine finds.

The per-person pass over every person's records is the reference: with the may-hit pass choosing
whom the rules run on, a run must give the same findings (rule, subject, severity, evidence,
message, institutions), the same fingerprints and the same number of persons, on the demo data
with its planted anomalies, on SQLite and PostgreSQL, and in the served hub (GraphQL `runCheck`)
with a department that does not answer. A rule declared without a may-hit still sees every person.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from adapters import columns as columns_module
from adapters.registry import Sources, build_sources
from hub.supervision import columnar, engine
from hub.supervision.engine import CheckResult, run_check
from hub.supervision.facts import Facts, World
from hub.supervision.model import Hit
from hub.supervision.person_rules import PERSON_RULES, PersonRule
from tests.conftest import DEPARTMENTS, DatabaseFactory, generate_into, hub_settings, running_hub
from tests.supervision.conftest import Demo, sources_for


def _lines(result: CheckResult) -> list[str]:
    return sorted(json.dumps([f.to_json(), f.institutions], sort_keys=True, ensure_ascii=False) for f in result.findings)


async def _same(sources: Sources) -> CheckResult:
    reference = await run_check(sources, columnar=False)
    fast = await run_check(sources)
    assert reference.findings and _lines(fast) == _lines(reference)
    assert fast.seen == reference.seen and fast.persons == reference.persons
    return reference


@pytest.mark.parametrize(("persons", "seed"), [(700, 5), (400, 1), (300, 13)])
async def test_columnar_finds_what_the_per_person_pass_finds(demo: Demo, persons: int, seed: int) -> None:
    sources, manifest, _ = await demo(persons=persons, seed=seed)
    reference = await _same(sources)
    planted = {a["rule"] for a in manifest["anomalies"]}
    assert planted <= {f.rule for f in reference.findings} | {"R07"}  # the planted person anomalies are checked


async def test_columnar_on_postgresql(pg_database: DatabaseFactory) -> None:
    url = pg_database()
    targets = {d: url for d in DEPARTMENTS}
    generate_into(targets, persons=400, seed=13)
    sources = sources_for(targets)
    try:
        await _same(sources)
    finally:
        await sources.close()


async def test_the_may_hit_pass_runs_the_rules_on_few_persons(demo: Demo) -> None:
    sources, _, _ = await demo(persons=500, seed=3)
    result = await run_check(sources)
    frames = await columnar.read(sources, set(DEPARTMENTS), engine.STREAMS, result.month, True)
    world, _ = await engine.build_world(sources, set(DEPARTMENTS), result.month, frozenset())
    frame, _ = columnar.persons(frames, world)
    keys = columnar.flagged(frame, result.rules)
    assert frame.height == result.persons and 0 < len(keys) < frame.height // 2
    # built in parts by ID number, the frame flags the same persons and counts the same slots
    assert columnar.scan(frames, world, result.rules, part_rows=400) == (keys, frame.height, columnar.persons(frames, world)[1])


def _everyone_named(p: Facts, w: World) -> Hit | None:
    return Hit({}, {"names": p.id_number}, p.home(w)) if p.id_number.endswith("7") else None


async def test_a_rule_without_may_hit_sees_every_person(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    sources, _, _ = await demo(persons=300, seed=2)
    monkeypatch.setitem(PERSON_RULES, "R12", PersonRule(_everyone_named))  # R12's message reads {names}
    reference = await run_check(sources, columnar=False)
    fast = await run_check(sources)
    hits = [f for f in fast.findings if f.rule == "R12"]
    assert len(hits) > 20 and _lines(fast) == _lines(reference)
    # with a may-hit that flags nobody it runs only on persons other rules flag: the declaration decides
    monkeypatch.setitem(PERSON_RULES, "R12", replace(PERSON_RULES["R12"], may_hit="FALSE"))
    assert len([f for f in (await run_check(sources)).findings if f.rule == "R12"]) < len(hits)


async def test_raw_rows_read_the_same_columns_as_connectorx(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    # the path of backends ConnectorX does not read here (MySQL/MariaDB) or that it fails on
    sources, _, _ = await demo(persons=300, seed=21)
    monkeypatch.setattr("adapters.columns.cx_url", lambda url: None)
    await _same(sources)


async def test_small_batches_read_the_same_columns(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    # the columns come in Arrow batches, each converted as it comes: many small ones give the same frames
    sources, _, _ = await demo(persons=300, seed=8)
    month = (await run_check(sources, columnar=False)).month
    whole = await columnar.read(sources, set(DEPARTMENTS), engine.STREAMS, month, True)
    monkeypatch.setattr("adapters.sql.COLUMN_BATCH", 37)
    calls: list[Any] = []
    loader = columns_module.column_loader

    def counted(spec: Any) -> Any:
        load = loader(spec)
        return lambda raw: calls.append((id(spec), raw)) or load(raw)

    monkeypatch.setattr(columns_module, "column_loader", counted)
    batched = await columnar.read(sources, set(DEPARTMENTS), engine.STREAMS, month, True)
    assert whole.keys() == batched.keys() and whole["slots"].height > 37
    for name, frame in whole.items():  # (the counts per plan come in no particular order)
        assert frame.sort(frame.columns).equals(batched[name].sort(frame.columns)), name
    assert calls and len(calls) == len(set(calls))  # each legacy value of a column (a statement's) loaded once
    await _same(sources)


ALERTS = """{ alerts(first: 1000) { totalCount edges { node {
  rule idNumber institutionCode regionCode message evidence } } } }"""


def _alert(f: dict[str, Any]) -> str:
    return json.dumps([f["rule"], f.get("idNumber"), f.get("institutionCode"), f.get("regionCode"), f["message"],
                       f["evidence"]], sort_keys=True, ensure_ascii=False)


@pytest.mark.parametrize("down", [(), ("hr",), ("establishment",)], ids=["all", "hr-silent", "establishment-silent"])
def test_served_run_check_finds_what_the_per_person_pass_finds(demo_dir: Path, tmp_path: Path, down: tuple[str, ...],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # the hub's own runs take the may-hit pass; a department that does not answer leaves its columns empty,
    # typed as a source's would be, and the rules that need it skipped, as the per-person pass does
    scans = []
    scan = columnar.scan
    monkeypatch.setattr(columnar, "scan", lambda *a, **k: scans.append(1) or scan(*a, **k))
    urls = {d: f"sqlite+aiosqlite:///{tmp_path / 'absent' / d}.db" for d in down}
    settings = hub_settings(demo_dir, urls=urls, store_url=f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    with running_hub(settings) as hub:
        run = hub.query("mutation { runCheck(wait: true) { status findings } }", role="auditor")
        assert run.get("data") and run["data"]["runCheck"]["status"] == "DONE", run
        alerts = hub.query(ALERTS)["data"]["alerts"]
    assert scans and alerts["totalCount"] == len(alerts["edges"]) == run["data"]["runCheck"]["findings"]

    async def reference() -> CheckResult:
        sources = build_sources(settings)
        try:
            return await run_check(sources, columnar=False)
        finally:
            await sources.close()

    expected = asyncio.run(reference())
    assert expected.findings and bool(expected.skipped) == bool(down)  # the rules of a silent department are skipped
    assert sorted(_alert(e["node"]) for e in alerts["edges"]) == sorted(_alert(f.to_json()) for f in expected.findings)
