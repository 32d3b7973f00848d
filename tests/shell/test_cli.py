"""The `hub` command line: version, demo secret and port, generate writes all or nothing, clear refusals."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import jwt
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from hub import cli
from hub.core.db import sync_url
from hub.core.settings import Settings
from hub.demo.writer import Sink
from tests.conftest import DEPARTMENTS, DatabaseFactory

HUB = str(Path(sys.executable).parent / "hub")
ROOT = Path(__file__).parents[2]


def test_version() -> None:
    out = CliRunner().invoke(cli.app, ["--version"])
    assert out.exit_code == 0 and out.stdout.strip() == f"staffing-hub {version('staffing-hub')}"


def test_policy_explain_refuses_an_unknown_role_or_field() -> None:
    for args in (["Person.name", "--role", "nobody"], ["Person.nothing", "--role", "finance.officer"]):
        out = CliRunner().invoke(cli.app, ["policy", "explain", *args])
        assert out.exit_code == 2 and out.stderr.startswith("错误 / error: 未知") and len(out.stderr.splitlines()) == 1
    known = CliRunner().invoke(cli.app, ["policy", "explain", "Person.name", "--role", "finance.officer"])
    assert known.exit_code == 0 and ": read" in known.stdout


def test_generated_demo_has_a_secret_that_token_create_finds_from_any_directory(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    for key in ("HUB_DEMO_DIR", "HUB_JWT_SECRET", "HUB_JWT_SECRET_FILE"):
        env.pop(key, None)
    subprocess.run([HUB, "generate", "--persons", "50"], env=env, cwd=tmp_path, check=True, capture_output=True)
    demo = tmp_path / "data" / "staffing-hub" / "demo-data"
    assert sorted(p.name for p in demo.iterdir()) == sorted(
        [*(f"{d}.db" for d in (*DEPARTMENTS, "education")), "manifest.json", "jwt-secret", "audit-key"])
    assert (demo / "jwt-secret").stat().st_mode & 0o077 == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    token = subprocess.run([HUB, "token", "create", "--role", "admin"], env=env, cwd=elsewhere, check=True,
                           capture_output=True, text=True).stdout.strip()
    secret = (demo / "jwt-secret").read_text(encoding="utf-8")
    assert jwt.decode(token, secret, algorithms=["HS256"], audience="staffing-hub")["roles"] == ["admin"]


def test_generate_with_a_bad_url_writes_nothing(tmp_path: Path) -> None:
    out = CliRunner().invoke(cli.app, ["generate", "--out", str(tmp_path / "demo"), "--persons", "50",
                                       "--url-finance", "postgresql://u@127.0.0.1:1/x"])
    assert out.exit_code == 1 and out.stderr.startswith("错误 / error: 无法访问数据库 / cannot use the database")
    assert list(tmp_path.iterdir()) == []  # neither the folder nor its staging copy


def test_generate_failing_midway_drops_the_tables_it_made(pg_database: DatabaseFactory, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    url = pg_database()

    def broken(self: Sink, progress: object = None) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(Sink, "finish", broken)
    out = CliRunner().invoke(cli.app, ["generate", "--out", str(tmp_path / "demo"), "--persons", "50", "--url-hr", url])
    assert out.exit_code == 1 and "disk full" in out.stderr
    assert list(tmp_path.iterdir()) == []
    engine = sa.create_engine(sync_url(url))
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_demo_serves_on_hub_port_unless_told(demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    demo = shutil.copytree(demo_dir, tmp_path / "demo")  # `hub demo` adds a jwt-secret
    served: list[Settings] = []
    monkeypatch.setattr(cli, "_serve", served.append)
    monkeypatch.delenv("HUB_PORT", raising=False)
    # the demo joins the education bureau by these settings; None: unset here, and unset again after each run
    joined = dict.fromkeys(("HUB_SOURCE_EDUCATION_URL", "HUB_SOURCE_EDUCATION_MAPPING", "HUB_POLICY_FILE"))
    env: dict[str, str | None] = {"HUB_DEMO_DIR": str(demo), "HUB_PORT": "8123", **joined}
    assert CliRunner().invoke(cli.app, ["demo"], env=env).exit_code == 0
    assert CliRunner().invoke(cli.app, ["demo", "--port", "8100"], env=env).exit_code == 0
    assert [s.port for s in served] == [8123, 8100]
    assert all("education" in s.source for s in served) and (demo / "policy.csv").exists()
    dry = subprocess.run(["make", "-n", "--no-print-directory", "demo", "PORT=8100"], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert dry.stdout.rstrip().splitlines()[-1].endswith("hub demo --port 8100")
