"""The education bureau's demo database: its own shape and codes, joined to the others by credit code."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hub.demo.education import LEVELS, rows
from hub.demo.institutions import build_institutions


def test_schools_have_their_own_codes_levels_and_flags(demo_dir: Path) -> None:
    with sqlite3.connect(demo_dir / "education.db") as db:
        schools = db.execute("SELECT XXDM, TYSHXYDM, XXLB, SFJS, MYSK, JXNY FROM XX_JBXX").fetchall()
        with sqlite3.connect(demo_dir / "establishment.db") as est:
            known = {code for (code,) in est.execute("SELECT TYSHXYDM FROM T_JG WHERE XXLB IS NOT NULL")}
        enrolment = db.execute("SELECT XXDM, XN, NJ, ZXRS, JSRS FROM XX_ZSQK").fetchall()
        classes = dict(db.execute("SELECT XXDM || '/' || XN || '/' || NJ, SUM(BJRS) FROM XX_BJ GROUP BY XXDM, XN, NJ"))
        hours = db.execute("SELECT DISTINCT XKDM FROM XX_KSQK").fetchall()
    assert schools and all(code.startswith("JY") for code, *_ in schools)
    assert {level for _, _, level, *_ in schools} <= {code for code, _ in LEVELS.values()}
    assert {b for *_, b, _, _ in schools} <= {"是", "否"} and {m for *_, m, _ in schools} <= {"0", "1"}
    with_code = [uscc for _, uscc, *_ in schools if uscc]
    assert 0.8 < len(with_code) / len(schools) < 1  # mostly present, some blank
    assert sum(uscc in known for uscc in with_code) / len(with_code) > 0.8  # the same schools the establishment office lists
    assert all(boarders <= students for *_, students, boarders in enrolment)
    assert all(classes[f"{s}/{y}/{g}"] == students for s, y, g, students, _ in enrolment)  # classes add up to the enrolment
    assert len(hours) >= 6


def test_the_bureaus_rows_are_deterministic_for_a_seed() -> None:
    units = build_institutions(80, 2000, 3)
    first, second = list(rows(units, 3)), list(rows(units, 3))
    assert first == second and list(rows(units, 4)) != first


def test_the_demo_joins_the_bureau_by_settings_only(demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from typer.testing import CliRunner

    from adapters.registry import load_departments
    from hub import cli
    from hub.core.settings import Settings
    from hub.demo.generate import join_demo_departments

    for key in ("HUB_SOURCE_EDUCATION_URL", "HUB_SOURCE_EDUCATION_MAPPING", "HUB_POLICY_FILE"):
        monkeypatch.setenv(key, "")  # remembered as before, so what the demo sets is undone after the test
        monkeypatch.delenv(key)
    shutil.copy(demo_dir / "education.db", tmp_path / "education.db")
    monkeypatch.setenv("HUB_DEMO_DIR", str(demo_dir))
    join_demo_departments(tmp_path)
    assert "education" in load_departments(Settings()).ids
    assert (tmp_path / "policy.csv").exists()
    checked = CliRunner().invoke(cli.app, ["policy", "check"])
    assert checked.exit_code == 0, checked.output
