"""On the demo data the cross-check finds every planted anomaly and nothing else (two seeds, two sizes)."""

from __future__ import annotations

import pytest

from hub.supervision.engine import run_check
from tests.supervision.conftest import Demo


def _key(entry: dict[str, object]) -> tuple[object, object]:
    return entry["rule"], entry.get("idNumber") or entry.get("institutionCode")


@pytest.mark.parametrize(("persons", "seed"), [(400, 1), (400, 2), (1500, 1), (1500, 2)])
async def test_recall_and_precision_against_the_manifest(demo: Demo, persons: int, seed: int) -> None:
    sources, manifest, _ = await demo(persons=persons, seed=seed)
    result = await run_check(sources)
    planted = {_key(a) for a in manifest["anomalies"]}
    found = {_key(f.to_json()) for f in result.findings}
    assert result.month == manifest["referenceMonth"]
    assert planted - found == set(), "missed (recall < 100%)"
    assert found - planted == set(), "reported on records that were not planted"
    assert {r for r, _ in planted} == {f"R{i:02d}" for i in range(1, 17)}


async def test_findings_carry_the_stable_line_format(demo: Demo) -> None:
    sources, _, _ = await demo(persons=400, seed=3)
    result = await run_check(sources)
    for f in result.findings:
        line = f.to_json()
        assert set(line) >= {"rule", "severity", "evidence", "message"}
        assert ("idNumber" in line) or ("institutionCode" in line)
        assert " / " in line["message"]
