"""graphql-http's GraphQL-over-HTTP server audits (tests/http/package.json pins them) against a live `hub serve`.

Every audit must be ok: no error and no warning. The hub authenticates every /graphql request,
so audit.cjs adds an admin's bearer token to each of the audits' requests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hub.auth import create_token
from hub.core.settings import Settings
from tests.conftest import TEST_SECRET

HERE = Path(__file__).parent
AUDITS = 61  # in graphql-http 1.23.1


def node_and_npm() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("HUB_REQUIRE_SERVICES") == "1":
            pytest.fail("node and npm required (apt-get install nodejs npm) but not installed")
        pytest.skip("node or npm not installed")
    return node, npm


def install_audits(npm: str) -> None:
    """`npm ci` of the pinned audits into tests/http/node_modules, unless the lock is installed already."""
    installed = HERE / "node_modules" / ".package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= (HERE / "package-lock.json").stat().st_mtime:
        return
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=HERE, check=True, timeout=300,
                   capture_output=True)


def test_every_graphql_over_http_audit_is_ok(served: str) -> None:
    node, npm = node_and_npm()
    install_audits(npm)
    token = create_token(Settings(jwt_secret=TEST_SECRET), None, ["admin"], "152900", "1h")
    run = subprocess.run([node, str(HERE / "audit.cjs"), served, token], capture_output=True, text=True, timeout=300,
                         check=True)
    results = json.loads(run.stdout)
    assert len(results) == AUDITS
    assert [(r["id"], r["status"], r["name"], r["reason"]) for r in results if r["status"] != "ok"] == []
