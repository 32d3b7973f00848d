"""Monthly snapshots and trends: back-filled from the demo's dates, held to the raw rows, in the caller's scope."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from hub.core import ids
from hub.core.retirement import month_end
from tests.conftest import hub_settings, running_hub

TREND = """query($m: TrendMeasure!, $by: [TrendDimension!], $from: String, $to: String) {
  trend(measure: $m, by: $by, fromMonth: $from, toMonth: $to) { month regionCode quotaType value change } }"""


@pytest.fixture(scope="module")
def trended(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from adapters.registry import build_sources
    from hub.core.crosswalk import CrosswalkCache
    from hub.store.db import open_store
    from resolvers.trends import months_back, take

    store_url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('trends')}/store.db"
    settings = hub_settings(demo_dir, store_url=store_url)
    reference = sqlite3.connect(demo_dir / "finance.db").execute("SELECT max(GZNY) FROM GZ_YB").fetchone()[0]
    reference = f"{reference[:4]}-{reference[4:]}"
    months = months_back(reference, 24)
    with running_hub(settings) as hub:  # migrates the store

        async def backfill() -> int:
            sources = build_sources(settings)
            store = await open_store(store_url)
            try:
                return await take(sources, await CrosswalkCache(sources).get(), store, months)
            finally:
                await store.close()
                await sources.close()

        assert asyncio.run(backfill()) > 0
        yield hub, months


def _raw(demo: Path, month: str) -> dict[str, int]:
    """The figures of a month from the raw legacy rows (league-wide)."""
    end = month_end(month).isoformat()
    est = sqlite3.connect(demo / "establishment.db")
    slots = est.execute("SELECT SFZH FROM T_SMZ WHERE RBRQ IS NOT NULL AND RBRQ <= ? AND (CBRQ IS NULL OR CBRQ > ?)",
                        (end, end)).fetchall()
    approved = est.execute("SELECT coalesce(sum(HDS), 0) FROM T_BZ WHERE PZRQ IS NULL OR PZRQ <= ?", (end,)).fetchone()[0]
    institutions = est.execute("SELECT count(*) FROM T_JG WHERE (CLRQ IS NULL OR CLRQ <= ?) AND (CXRQ IS NULL OR CXRQ > ?)",
                               (end, end)).fetchone()[0]
    gross = sqlite3.connect(demo / "finance.db").execute(
        "SELECT coalesce(sum(YFHJ), 0) FROM GZ_YB WHERE GZNY = ?", (month.replace("-", ""),)).fetchone()[0]
    persons = {ids.normalize_id_number(s) for (s,) in slots if s} - {None}
    return {"OCCUPIED": len(slots), "APPROVED": approved, "INSTITUTIONS": institutions, "PAY_GROSS": gross,
            "PERSONS": len(persons)}


def test_backfilled_months_agree_with_the_raw_rows(trended: Any, demo_dir: Path) -> None:
    hub, months = trended
    for measure in ("OCCUPIED", "APPROVED", "INSTITUTIONS", "PERSONS", "PAY_GROSS"):
        body = hub.query(TREND, {"m": measure})
        assert "errors" not in body, body
        points = body["data"]["trend"]
        assert [p["month"] for p in points] == months if measure != "PAY_GROSS" else True
        by_month = {p["month"]: p["value"] for p in points}
        for month in (months[0], months[11], months[-1]):
            assert by_month.get(month, 0) == _raw(demo_dir, month)[measure], (measure, month)
        for before, after in zip(points, points[1:], strict=False):
            assert after["change"] == after["value"] - before["value"]
        assert points[0]["change"] is None
    # Quota changes show: the approved quota grows over the two years as quotas are approved.
    approved = [p["value"] for p in hub.query(TREND, {"m": "APPROVED"})["data"]["trend"]]
    assert approved[-1] >= approved[0]


def test_split_scope_and_grants(trended: Any) -> None:
    hub, months = trended
    last = months[-1]
    whole = hub.query(TREND, {"m": "OCCUPIED", "from": last, "to": last})["data"]["trend"]
    by_quota = hub.query(TREND, {"m": "OCCUPIED", "by": ["QUOTA_TYPE"], "from": last, "to": last})["data"]["trend"]
    by_region = hub.query(TREND, {"m": "OCCUPIED", "by": ["REGION"], "from": last, "to": last})["data"]["trend"]
    assert sum(p["value"] for p in by_quota) == whole[0]["value"] == sum(p["value"] for p in by_region)
    banner = hub.query(TREND, {"m": "OCCUPIED", "from": last, "to": last}, region="152921")["data"]["trend"]
    assert banner[0]["value"] == sum(p["value"] for p in by_region if (p["regionCode"] or "").startswith("152921"))
    assert 0 < banner[0]["value"] < whole[0]["value"]
    # Pay totals only for roles that read the amounts.
    refused = hub.query(TREND, {"m": "PAY_GROSS"}, role="officer", department="hr")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "errors" not in hub.query(TREND, {"m": "PAY_GROSS"}, role="officer", department="finance")
    bad = hub.query(TREND, {"m": "OCCUPIED", "from": "2026-13"})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_hub_snapshot_takes_a_month_again(trended: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from hub import cli

    hub, months = trended
    before = hub.query(TREND, {"m": "OCCUPIED", "from": months[-1], "to": months[-1]})["data"]["trend"]
    monkeypatch.setenv("HUB_DEMO_DIR", str(hub.settings.demo_dir))
    monkeypatch.setenv("HUB_STORE_URL", hub.settings.store_url)
    result = CliRunner().invoke(cli.app, ["snapshot", "--month", months[-1]])
    assert result.exit_code == 0, result.output
    assert f"snapshots {months[-1]} … {months[-1]}" in result.output
    assert hub.query(TREND, {"m": "OCCUPIED", "from": months[-1], "to": months[-1]})["data"]["trend"] == before
    bad = CliRunner().invoke(cli.app, ["snapshot", "--month", "2026-13"])
    assert bad.exit_code != 0 and "YYYY-MM" in bad.output
