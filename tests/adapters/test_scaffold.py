"""`hub adapter new`: a first mapping guessed from a live database, every guess marked for review."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from adapters.mapping import Mapping, load_mapping
from hub import cli
from hub.demo import education
from hub.demo.institutions import build_institutions
from tests.conftest import DatabaseFactory


def test_the_scaffold_of_the_bureaus_database_is_a_mapping_with_its_units_and_tables(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "draft.yaml"
    made = CliRunner().invoke(cli.app, ["adapter", "new", "education", "--url", f"sqlite:///{demo_dir / 'education.db'}",
                                        "--title", "教育局 / Education bureau", "--out", str(out)])
    assert made.exit_code == 0, made.output
    mapping = load_mapping(out)
    assert mapping.department == "education" and mapping.entities["unit"].table == "XX_JBXX"
    assert mapping.entities["unit"].columns["credit_code"].column == "TYSHXYDM"
    enrolment = mapping.custom["xx_zsqk"]
    assert enrolment.key == ["xxdm", "xn", "nj"] and enrolment.institution is not None and enrolment.institution.by == "xxdm"
    assert enrolment.fields["zxrs"].type == "int" and mapping.custom["xx_ksqk"].fields["zks"].type == "decimal"
    text = out.read_text(encoding="utf-8")
    assert all("# TODO review" in line for line in text.splitlines() if ": {column:" in line)
    assert "yuan_to_fen" in text  # the REAL column carries the hint
    assert yaml.safe_load(text)["trust"] == 100


def test_a_bad_department_id_or_an_existing_file_is_refused(demo_dir: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{demo_dir / 'education.db'}"
    bad = CliRunner().invoke(cli.app, ["adapter", "new", "Education_1", "--url", url])
    assert bad.exit_code == 2 and "lower-case letters and digits" in bad.output
    (tmp_path / "taken.yaml").write_text("x", encoding="utf-8")
    taken = CliRunner().invoke(cli.app, ["adapter", "new", "education", "--url", url, "--out", str(tmp_path / "taken.yaml")])
    assert taken.exit_code == 2 and "not overwritten" in taken.output
    assert (tmp_path / "taken.yaml").read_text(encoding="utf-8") == "x"


def test_adapter_test_names_an_unknown_department(demo_dir: Path) -> None:
    found = CliRunner().invoke(cli.app, ["adapter", "test", "--department", "sports"], env={"HUB_DEMO_DIR": str(demo_dir)})
    assert found.exit_code == 2 and "unknown department" in found.output


def test_the_scaffold_reads_a_postgresql_database(pg_database: DatabaseFactory) -> None:
    url = pg_database()
    education.write(url, build_institutions(60, 400, 7), 7)
    made = CliRunner().invoke(cli.app, ["adapter", "new", "education", "--url", url])
    assert made.exit_code == 0, made.output
    mapping = Mapping.model_validate(yaml.safe_load(made.stdout))
    assert mapping.entities["unit"].table == "XX_JBXX" and set(mapping.custom) == {"xx_bj", "xx_ksqk", "xx_zsqk"}
    assert mapping.custom["xx_ksqk"].fields["zks"].type == "decimal"
