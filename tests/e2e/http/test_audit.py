"""graphql-http's GraphQL-over-HTTP server audits (tests/e2e/http/package.json pins them) against a live `hub serve`.

Every audit must be ok: no error and no warning. The hub authenticates every /graphql request,
so audit.cjs adds an admin's bearer token to each of the audits' requests.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from hub.auth import create_token
from hub.core.settings import Settings
from tests.conftest import TEST_SECRET
from tests.node import node_peer

HERE = Path(__file__).parent
AUDITS = 61  # in graphql-http 1.23.1


def test_every_graphql_over_http_audit_is_ok(served: str) -> None:
    node = node_peer(HERE)
    token = create_token(Settings(jwt_secret=TEST_SECRET), None, ["admin"], "152900", "1h")
    run = subprocess.run([node, str(HERE / "audit.cjs"), served, token], capture_output=True, text=True, timeout=300,
                         check=True)
    results = json.loads(run.stdout)
    assert len(results) == AUDITS
    assert [(r["id"], r["status"], r["name"], r["reason"]) for r in results if r["status"] != "ok"] == []
