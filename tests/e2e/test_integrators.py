"""docs/integrators.md, followed word by word, and the education bureau added on every dialect.

The guide's `sh` blocks are run in order in one shell in a temporary directory (after its files,
the blocks starting `# file: NAME`, are written there); its GraphQL blocks are then asked of a hub
configured by the environment the guide exported: as an admin, and as the bureau's banner officer
whose token the guide made. Then the bureau is added from scratch — its database on SQLite,
PostgreSQL and MariaDB, the shipped mapping, one settings entry and the policy lines — `hub adapter
test` passes on each, and its enrolment is queried through `institution { enrolment }`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from typer.testing import CliRunner

from hub import cli
from hub.core.settings import Settings, SourceSettings
from hub.demo import education
from hub.demo.institutions import build_institutions
from policies.grants import POLICY_PATH
from tests.conftest import (
    MARIADB_ADMIN,
    PG_ADMIN,
    TEST_AUDIT_KEY,
    _factory,
    hub_settings,
    running_hub,
)

GUIDE = Path(__file__).parents[2] / "docs" / "integrators.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def blocks(kind: str) -> list[str]:
    """The guide's fenced blocks of one kind, in order."""
    return [body for lang, body in BLOCK.findall(GUIDE.read_text(encoding="utf-8")) if lang == kind]


@pytest.fixture(scope="module")
def followed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The guide's files written and commands run; the HUB_* environment they left."""
    work = tmp_path_factory.mktemp("guide")
    for lang in ("yaml", "csv"):
        for body in blocks(lang):
            name = re.match(r"# file: (\S+)\n", body)
            if name:
                (work / name.group(1)).write_text(body, encoding="utf-8")
    script = "set -euo pipefail\n" + "\n".join(blocks("sh")) + "\nenv | grep '^HUB_' > hub.env\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    done = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert int(re.search(r"^(\d+)$", done.stdout, re.M).group(1)) > 10  # type: ignore[union-attr]  # the scaffold's guesses
    assert ", 0 failed" in done.stdout and "FAIL" not in done.stdout
    found = dict(line.split("=", 1) for line in (work / "hub.env").read_text(encoding="utf-8").splitlines())
    found["officer"] = (work / "officer.token").read_text(encoding="utf-8").strip()
    found["work"] = str(work)
    return found


def test_the_guide_runs_and_its_queries_answer_the_bureaus_data(followed: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in followed.items():
        if key.startswith("HUB_"):
            monkeypatch.setenv(key, value)
    settings = Settings(store_url=f"sqlite+aiosqlite:///{followed['work']}/store.db", audit_key=TEST_AUDIT_KEY,
                        store_auto_upgrade=True)
    claims = jwt.decode(followed["officer"], options={"verify_signature": False})
    assert (claims["dept"], claims["region"]) == ("education", "152921")
    admin_query, officer_query = blocks("graphql")[:2]
    with running_hub(settings) as hub:
        found = hub.query(admin_query)
        assert "errors" not in found, found
        nodes = [e["node"] for e in found["data"]["institutions"]["edges"]]
        assert any(n["enrolment"] for n in nodes) and any(n["schoolProfile"] for n in nodes)
        response = hub.client.post("/graphql", json={"query": officer_query},
                                   headers={"Authorization": f"Bearer {followed['officer']}"})
        scoped = response.json()
        assert "errors" not in scoped, scoped
        nodes = [e["node"] for e in scoped["data"]["institutions"]["edges"]]
        assert nodes and all(n["regionCode"].startswith("152921") for n in nodes)
        assert any(n["enrolment"] for n in nodes)


def test_no_code_names_the_bureau() -> None:
    root = GUIDE.parents[1]
    # the department's id as code would use it (its settings, its file, its roles, a source looked up or compared
    # by it), not the canonical `education` field of a person (a registry or cadre record's education level)
    department = re.compile(r"""HUB_SOURCE_EDUCATION|["']education\.|\[["']education["']\]|[=!]=\s*["']education["']""")
    named = [str(p.relative_to(root)) for folder in ("hub", "schema", "resolvers") for p in (root / folder).rglob("*.py")
             if department.search(p.read_text(encoding="utf-8")) and "demo" not in p.parts]
    assert named == [], named


@pytest.fixture(scope="module", params=["sqlite", "postgresql", "mariadb"])
def bureau_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The bureau's database, from scratch, on one dialect (the demo's institutions, seed 7)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('bureau') / 'education.db'}"
        factories = None
    else:
        factories = _factory(*((PG_ADMIN, '"') if request.param == "postgresql" else (MARIADB_ADMIN, "`")))
        url = next(factories)()
    education.write(url, build_institutions(60, 400, 7), 7)
    yield url
    if factories is not None:
        next(factories, None)


def test_the_bureau_added_from_scratch_passes_the_kit_and_answers_scoped(
        bureau_url: str, demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(education.MAPPING, tmp_path / "education.yaml")
    (tmp_path / "policy.csv").write_text(POLICY_PATH.read_text(encoding="utf-8") + "\n" + education.POLICY.read_text(encoding="utf-8"),
                                         encoding="utf-8")
    env = {"HUB_DEMO_DIR": str(demo_dir), "HUB_SOURCE_EDUCATION_URL": bureau_url,
           "HUB_SOURCE_EDUCATION_MAPPING": str(tmp_path / "education.yaml"), "HUB_POLICY_FILE": str(tmp_path / "policy.csv")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    kit = CliRunner().invoke(cli.app, ["adapter", "test", "--department", "education"])
    assert kit.exit_code == 0 and ", 0 failed" in kit.stdout, kit.output
    settings = hub_settings(demo_dir, policy_file=tmp_path / "policy.csv")
    fifth = SourceSettings(url=bureau_url, mapping=tmp_path / "education.yaml")
    query = "{ institutions(first: 100) { edges { node { regionCode enrolment { year grade students } } } } }"
    with running_hub(settings.model_copy(update={"source": {"education": fifth}})) as hub:
        everything: Any = hub.query(query)
        assert "errors" not in everything, everything
        scoped: Any = hub.query(query, role="officer", department="education", region="152921")
        assert "errors" not in scoped, scoped
    every = [e["node"] for e in everything["data"]["institutions"]["edges"]]
    banner = [e["node"] for e in scoped["data"]["institutions"]["edges"]]
    assert any(n["enrolment"] for n in every) and any(n["enrolment"] for n in banner)
    assert all(n["regionCode"].startswith("152921") for n in banner)
