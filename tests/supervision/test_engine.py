"""The engine: merge-join order, scopes, unavailable sources, reference month, streaming output."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass

import pytest

from hub.core.codes import in_scope
from hub.core.crosswalk import CrosswalkCache
from hub.core.errors import BadUserInput
from hub.store import Store
from hub.supervision.engine import run_check
from hub.supervision.merge import Feed, merge
from hub.supervision.model import Finding, Scope
from hub.supervision.schedule import CheckScheduler
from tests.supervision.conftest import Demo, sources_for


@dataclass
class Row:
    id_number: str | None
    n: int = 0


async def chunks(*parts: list[Row]) -> AsyncIterator[list[Row]]:
    for part in parts:
        await asyncio.sleep(0)
        yield part


async def test_merge_groups_by_id_body_across_chunk_boundaries() -> None:
    a = Feed("a", chunks([Row("111", 1), Row("222", 1)], [Row("222", 2), Row(None), Row("333", 1)]))
    b = Feed("b", chunks([Row("222X", 3)], [], [Row("444", 1)]))
    groups = [(key, {name: [(r.id_number, r.n) for r in rows] for name, rows in group.items()})
              async for key, group in merge([a, b])]
    # keys are the first 17 characters of the ID; the real ones are 18 long, here 3 stand for 17
    assert [k for k, _ in groups] == ["111", "222", "222X", "333", "444"]
    assert groups[1][1] == {"a": [("222", 1), ("222", 2)]} and a.blank == 1


async def test_merge_stops_its_readers_when_abandoned() -> None:
    feeds = [Feed("a", chunks(*[[Row(f"{i:03d}")] for i in range(100)]))]
    async with aclosing(merge(feeds)) as groups:
        async for _ in groups:
            break
    assert feeds[0]._task is not None and feeds[0]._task.done()


def _keys(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.rule, f.subject) for f in findings}


async def test_institution_scope_reads_only_its_persons_and_agrees_with_a_full_run(demo: Demo) -> None:
    sources, _, _ = await demo(persons=600, seed=41)
    full = await run_check(sources)
    code = max({c for f in full.findings if f.institution_code for c in f.institutions},
               key=lambda c: sum(c in f.institutions for f in full.findings))
    scoped = await run_check(sources, scope=Scope(frozenset({code})))
    expected = {(f.rule, f.subject) for f in full.findings if code in f.institutions}
    assert _keys(scoped.findings) == expected and expected
    assert scoped.examined is not None and scoped.persons < full.persons
    with pytest.raises(BadUserInput):
        await run_check(sources, scope=Scope(frozenset({"no-such-institution"})))


async def test_region_scope_reports_findings_touching_the_region(demo: Demo) -> None:
    sources, _, _ = await demo(persons=600, seed=42)
    cw = await CrosswalkCache(sources).get()
    full = await run_check(sources)
    result = await run_check(sources, scope=Scope(region="152922"))

    def touches(f: Finding) -> bool:
        return any(in_scope(ident.region_code, "152922") for c in f.institutions if (ident := cw.identity(c)))

    assert _keys(result.findings) == {(f.rule, f.subject) for f in full.findings if touches(f)}
    assert result.findings and result.seen == full.seen


async def test_a_source_down_skips_only_the_rules_that_need_it(demo: Demo) -> None:
    _, manifest, targets = await demo(persons=400, seed=43)
    broken = sources_for({**targets, "organization": "sqlite+aiosqlite:////nonexistent/dir/organization.db"})
    try:
        result = await run_check(broken)
    finally:
        await broken.close()
    assert "R07" in result.skipped and "organization" in result.missing
    # R07 needs the organization department; a bad code written only in its B01 cannot be seen either
    expected = {(a["rule"], a.get("idNumber") or a.get("institutionCode")) for a in manifest["anomalies"]
                if a["rule"] != "R07" and not a["detail"].startswith("B01")}
    assert _keys(result.findings) == expected


async def test_reference_month_override_and_streamed_output(demo: Demo) -> None:
    sources, manifest, _ = await demo(persons=400, seed=44)
    seen: list[Finding] = []
    result = await run_check(sources, month="2026-09", sink=seen.append, collect=False)
    assert result.month == "2026-09" and result.findings == [] and seen
    ghosts = {a["idNumber"] for a in manifest["anomalies"] if a["rule"] == "R01" and "ghost" in a["detail"]}
    assert ghosts <= {f.id_number for f in seen if f.rule == "R01"}


async def test_the_schedule_runs_and_records(demo: Demo, store: Store) -> None:
    sources, manifest, _ = await demo(persons=400, seed=45)
    scheduler = CheckScheduler(sources, store, interval=3600, delay=0)
    scheduler.start()
    for _ in range(200):
        if scheduler.last is not None:
            break
        await asyncio.sleep(0.05)
    await scheduler.stop()
    assert scheduler.last is not None and scheduler.last.findings == len(manifest["anomalies"])
    assert not CheckScheduler(sources, store, interval=0).enabled

