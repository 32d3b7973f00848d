"""Conversions that cannot lose money: yuan and fen with Decimal, and `sources check` sampling every column.

The case from the field: a legacy pay column kept in yuan as REAL, mapped with `convert: int`,
read 1234.56 yuan as 1234 fen. `sources check` now fails on it naming the column with examples; the
mapping fixed with `convert: yuan_to_fen` answers the exact fen.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.convert import CONVERTERS, fen_to_yuan, yuan_to_fen
from adapters.mapping import MAPPINGS_DIR, ColumnSpec, load_mapping
from adapters.sampling import column_problems, lossy
from adapters.sql import SqlAdapter
from hub.cli import app
from hub.core.settings import Settings, SourceSettings
from hub.sources_check import check_sources


def test_yuan_and_fen_are_exact_and_rounded_half_up() -> None:
    assert yuan_to_fen(1234.56) == 123456  # a REAL: its shortest repr, not the binary fraction's 1234.5599…
    assert yuan_to_fen(0.1 + 0.2) == 30
    assert yuan_to_fen("88.5") == 8850 and yuan_to_fen(Decimal("0.005")) == 1 and yuan_to_fen(None) is None
    assert fen_to_yuan(123456) == Decimal("1234.56") and yuan_to_fen(fen_to_yuan(7)) == 7
    assert CONVERTERS["yuan_to_fen"].dump(123456) == Decimal("1234.56")  # a WHERE on fen asks the yuan
    assert CONVERTERS["decimal"].load(2.75) == Decimal("2.75") and CONVERTERS["boolean"].load("是") is True


@pytest.mark.parametrize(("spec", "raw", "says"), [
    (ColumnSpec(column="X", convert="int"), 1234.56, "fraction would be cut off"),
    (ColumnSpec(column="X", convert="int"), "12a", "not a number"),
    (ColumnSpec(column="X", convert="yuan_to_fen"), 1.005, "finer than a fen"),
    (ColumnSpec(column="X", convert="date8"), "2019-13-45", "does not parse"),
    (ColumnSpec(column="X", convert="date8"), "2019", "does not parse"),
    (ColumnSpec(column="X", values={"1": "MALE", "2": "FEMALE"}), "9", "outside the code list"),
])
def test_a_lossy_value_is_named(spec: ColumnSpec, raw: object, says: str) -> None:
    found = lossy(spec, raw)
    assert found is not None and says in found[1]


@pytest.mark.parametrize(("spec", "raw"), [
    (ColumnSpec(column="X", convert="int"), 1234.0), (ColumnSpec(column="X", convert="int"), "42"),
    (ColumnSpec(column="X", convert="yuan_to_fen"), 1234.56), (ColumnSpec(column="X", convert="date8"), "20190301"),
    (ColumnSpec(column="X", convert="date"), dt.date(2019, 3, 1)), (ColumnSpec(column="X", values={"1": "MALE"}), 1),
    (ColumnSpec(column="X", convert="int"), None), (ColumnSpec(column="X", values={"1": "MALE"}), " "),
])
def test_an_exact_value_passes(spec: ColumnSpec, raw: object) -> None:
    assert lossy(spec, raw) is None


def test_problems_name_the_column_and_examples_in_both_languages() -> None:
    spec = {"post_pay": ColumnSpec(column="ZWGZ_Y", convert="int")}
    [problem] = column_problems("pay_line", spec, ["post_pay"], [(1234.56,), (88.5,), (100.0,), (88.5,)])
    assert problem.count == 3 and problem.examples == ("1234.56", "88.5")
    assert "列 ZWGZ_Y（pay_line.post_pay，int）转换有损" in problem.message
    assert "column ZWGZ_Y (pay_line.post_pay, int) converts with loss" in problem.message and "yuan_to_fen" in problem.message


@pytest.fixture
def yuan_finance(demo_dir: Path, tmp_path: Path) -> dict[str, Path]:
    """The demo finance database with its gross pay also kept in yuan as REAL (YFHJ_Y), and two mappings of it."""
    db = tmp_path / "finance.db"
    shutil.copy(demo_dir / "finance.db", db)
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE GZ_YB ADD COLUMN YFHJ_Y REAL")
        conn.execute("UPDATE GZ_YB SET YFHJ_Y = YFHJ / 100.0")
    text = (MAPPINGS_DIR / "finance.yaml").read_text(encoding="utf-8")
    assert "gross: {column: YFHJ, convert: int}" in text
    lossy_map, fixed_map = tmp_path / "lossy.yaml", tmp_path / "fixed.yaml"
    lossy_map.write_text(text.replace("gross: {column: YFHJ, convert: int}", "gross: {column: YFHJ_Y, convert: int}"), encoding="utf-8")
    fixed_map.write_text(text.replace("gross: {column: YFHJ, convert: int}", "gross: {column: YFHJ_Y, convert: yuan_to_fen}"),
                         encoding="utf-8")
    return {"db": db, "lossy": lossy_map, "fixed": fixed_map, "demo": demo_dir}


def _settings(case: dict[str, Path], mapping: str) -> Settings:
    return Settings(demo_dir=case["demo"], source={"finance": SourceSettings(url=f"sqlite+aiosqlite:///{case['db']}", mapping=case[mapping])})


def test_sources_check_fails_on_yuan_read_as_int_and_passes_the_fixed_mapping(yuan_finance: dict[str, Path]) -> None:
    results = asyncio.run(check_sources(_settings(yuan_finance, "lossy")))
    [bad] = [r for r in results if r.problem]
    assert (bad.department, bad.entity) == ("finance", "pay_line")
    assert "列 YFHJ_Y（pay_line.gross，int）转换有损：小数部分将被截断" in bad.problem  # type: ignore[operator]
    assert "column YFHJ_Y (pay_line.gross, int) converts with loss: the fraction would be cut off" in bad.problem  # type: ignore[operator]
    assert not [r for r in asyncio.run(check_sources(_settings(yuan_finance, "fixed"))) if r.problem]
    cli = CliRunner().invoke(app, ["sources", "check"], env={"HUB_DEMO_DIR": str(yuan_finance["demo"]),
                             "HUB_SOURCE_FINANCE_URL": f"sqlite+aiosqlite:///{yuan_finance['db']}",
                             "HUB_SOURCE_FINANCE_MAPPING": str(yuan_finance["lossy"])})
    assert cli.exit_code == 1 and "YFHJ_Y" in cli.output


def test_the_fixed_mapping_answers_exact_fen(yuan_finance: dict[str, Path]) -> None:
    with sqlite3.connect(yuan_finance["db"]) as conn:
        fen = dict(conn.execute("SELECT RYBM || GZNY, YFHJ FROM GZ_YB WHERE YFHJ % 100 <> 0 LIMIT 50"))
    assert fen, "the demo has pay with fen"

    async def read() -> dict[str, int]:
        adapter = SqlAdapter("finance", load_mapping(yuan_finance["fixed"]), f"sqlite+aiosqlite:///{yuan_finance['db']}")
        try:
            lines = [r for chunk in [c async for c in adapter.stream("pay_line")] for r in chunk]
        finally:
            await adapter.close()
        return {r.payee_code + r.month.replace("-", ""): r.gross for r in lines}

    found = asyncio.run(read())
    assert {k: found[k] for k in fen} == fen
