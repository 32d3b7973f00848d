"""The partitioned cross-check: ID shards, in turn or in processes, find exactly what one pass finds.

One whole pass over the person streams is the reference; a run split into shards by ID number
must give the same findings (rule, subject, severity, evidence, message, institutions), the same
fingerprints (which resolve alerts) and the same number of persons.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import pytest

from adapters.base import IdShard
from adapters.registry import build_sources
from hub.core.errors import BadUserInput, SourceUnavailable
from hub.core.settings import Settings, SourceSettings
from hub.supervision import engine
from hub.supervision.engine import CheckResult, run_check
from hub.supervision.model import Scope
from tests.conftest import DEPARTMENTS, DatabaseFactory, generate_into
from tests.supervision.conftest import Demo, sources_for


def _lines(result: CheckResult) -> list[str]:
    return sorted(json.dumps([f.to_json(), f.institutions], sort_keys=True, ensure_ascii=False) for f in result.findings)


def test_shards_split_the_digits_and_refuse_bad_counts() -> None:
    for count in range(1, 11):
        digits = [d for i in range(count) for d in IdShard(i, count).digits]
        assert sorted(digits) == list("0123456789")
    for index, count in ((0, 0), (2, 2), (0, 11), (-1, 3)):
        with pytest.raises(ValueError):
            IdShard(index, count)


async def test_two_shards_in_turn_find_what_one_pass_finds(demo: Demo) -> None:
    sources, manifest, _ = await demo(persons=700, seed=5)
    whole = await run_check(sources)
    split = await run_check(sources, partitions=2)
    assert whole.findings and _lines(split) == _lines(whole)
    assert split.seen == whole.seen and split.persons == whole.persons
    assert {f.rule for f in whole.findings} >= {"R01", "R04", "R10", "R12", "R13", "R14"}  # person and unit rules
    # each shard alone holds part of the persons, and together exactly all of them, none twice
    sizes = []
    for index in range(2):
        shard = IdShard(index, 2)
        counts = await sources[sources.holder("registry_slot")].count("registry_slot", where={"id_number": shard})
        sizes.append(counts[0][-1])
    total = await sources[sources.holder("registry_slot")].count("registry_slot")
    assert all(sizes) and sum(sizes) == total[0][-1]
    with pytest.raises(BadUserInput):
        await run_check(sources, partitions=11)


@pytest.mark.parametrize("columnar", [False, True], ids=["id-shards", "flagged-shares"])
async def test_processes_find_what_one_pass_finds(demo: Demo, columnar: bool) -> None:
    """Per person: each process streams an ID shard. Columnar: the may-hit pass runs here and each process
    (this one included) checks a share of the flagged persons."""
    sources, _, targets = await demo(persons=500, seed=9)
    whole = await run_check(sources, scope=Scope(region="152921"), columnar=False)
    settings = Settings(source={d: SourceSettings(url=u) for d, u in targets.items()})
    seen: list[int] = []
    split = await run_check(sources, scope=Scope(region="152921"), partitions=3, columnar=columnar,
                            make_sources=partial(build_sources, settings), progress=lambda _s, done, _t: seen.append(done))
    assert whole.findings and _lines(split) == _lines(whole)
    assert split.seen == whole.seen and split.persons == whole.persons
    assert seen and seen[-1] > 0


@pytest.mark.parametrize("columnar", [False, True], ids=["id-shards", "flagged-shares"])
async def test_a_process_that_fails_fails_the_run(demo: Demo, tmp_path: Path, columnar: bool) -> None:
    sources, _, targets = await demo(persons=200, seed=2)
    broken = {**targets, "finance": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"}  # no tables: finance is down
    settings = Settings(source={d: SourceSettings(url=u) for d, u in broken.items()})
    with pytest.raises(SourceUnavailable):  # never a silent partial result
        await run_check(sources, partitions=2, make_sources=partial(build_sources, settings), columnar=columnar)


def test_flagged_persons_are_shared_out_whole_and_in_order() -> None:
    keys = [f"{n:03d}" for n in range(10)]
    for count in (1, 2, 3, 4, 11):
        shares = engine._shares(keys, count)
        assert len(shares) == count and [k for s in shares for k in s] == keys
        assert max(map(len, shares)) - min(map(len, shares)) <= 1
    assert engine._shares([], 3) == [[], [], []]


async def test_shards_on_postgresql_find_what_one_pass_finds(pg_database: DatabaseFactory) -> None:
    url = pg_database()
    targets = {d: url for d in DEPARTMENTS}  # the four departments' tables in one database
    generate_into(targets, persons=400, seed=13)
    sources = sources_for(targets)
    try:
        whole = await run_check(sources)
        settings = Settings(source={d: SourceSettings(url=u) for d, u in targets.items()})
        split = await run_check(sources, partitions=2, make_sources=partial(build_sources, settings))
        shards = await run_check(sources, partitions=2, make_sources=partial(build_sources, settings), columnar=False)
        turns = await run_check(sources, partitions=3)
    finally:
        await sources.close()
    assert whole.findings and _lines(split) == _lines(whole) == _lines(shards) == _lines(turns)
    assert split.seen == whole.seen == shards.seen and split.persons == whole.persons == shards.persons == turns.persons
