"""`hub check`: one finding per line as JSON lines, CSV or a table; --save records alerts."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app


@pytest.fixture
def demo_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    from hub.demo.generate import generate, sqlite_targets

    targets = sqlite_targets(tmp_path)
    manifest = generate(targets, persons=400, seed=31)
    for department, url in targets.items():
        monkeypatch.setenv(f"HUB_SOURCE_{department.upper()}_URL", url)
    monkeypatch.setenv("HUB_STORE_URL", f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}")
    return {"manifest": manifest, "dir": tmp_path}


def _planted(manifest: dict) -> set[tuple[str, str]]:
    return {(a["rule"], a.get("idNumber") or a.get("institutionCode")) for a in manifest["anomalies"]}


def test_jsonl_one_finding_per_line(demo_env: dict) -> None:
    result = CliRunner().invoke(app, ["check", "--no-progress"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {(x["rule"], x.get("idNumber") or x.get("institutionCode")) for x in lines} == _planted(demo_env["manifest"])
    assert all(set(x) >= {"rule", "severity", "evidence"} for x in lines)
    assert not (demo_env["dir"] / "hub.db").exists()  # --no-save is the default and creates no store


def test_csv_and_table_and_out_file(demo_env: dict) -> None:
    out = demo_env["dir"] / "findings.csv"
    result = CliRunner().invoke(app, ["check", "--format", "csv", "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == len(demo_env["manifest"]["anomalies"]) and json.loads(rows[0]["evidence"])
    table = CliRunner().invoke(app, ["check", "--format", "table", "--no-progress", "--region", "152921"])
    assert table.exit_code == 0
    assert table.stdout.strip() and all(line[:1] == "R" for line in table.stdout.splitlines())


def test_save_records_alerts_and_bad_month_is_refused(demo_env: dict) -> None:
    behind = CliRunner().invoke(app, ["check", "--save", "--no-progress", "--reference-month", "2026-10"])
    assert behind.exit_code != 0 and "hub db upgrade" in behind.output  # a new store is not migrated by `check`
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    saved = CliRunner().invoke(app, ["check", "--save", "--no-progress", "--reference-month", "2026-10"])
    assert saved.exit_code == 0, saved.output
    assert (demo_env["dir"] / "hub.db").exists()
    bad = CliRunner().invoke(app, ["check", "--no-progress", "--reference-month", "2026-13"])
    assert bad.exit_code == 2


def test_workers_split_the_run_and_print_the_same_findings(demo_env: dict) -> None:
    one = CliRunner().invoke(app, ["check", "--no-progress"])
    two = CliRunner().invoke(app, ["check", "--no-progress", "--workers", "2"])
    assert one.exit_code == 0 and two.exit_code == 0, two.output
    assert sorted(two.stdout.splitlines()) == sorted(one.stdout.splitlines()) and one.stdout
    assert CliRunner().invoke(app, ["check", "--no-progress", "--workers", "11"]).exit_code != 0
