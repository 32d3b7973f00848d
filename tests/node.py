"""Node peers of the tests (tests/e2e/http, tests/e2e/federation): Node from the machine, npm packages from the folder's lock.

Each folder has a package.json and its committed package-lock.json; `npm ci` installs them into
the folder's node_modules when the lock is newer than the last install. Node or npm missing, a
Node older than the folder's `engines.node`, or an install that fails skip the test, or fail it
under HUB_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from tests.conftest import unavailable


def node_peer(folder: Path) -> str:
    """The `node` executable, once the folder's locked packages are installed."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        unavailable("node or npm not installed (apt-get install nodejs npm)")
    wanted = json.loads((folder / "package.json").read_text(encoding="utf-8")).get("engines", {}).get("node")
    if wanted is not None:
        match = re.fullmatch(r">=\s*(\d+)", wanted)
        assert match, f"{folder}/package.json: engines.node must read '>=N', not {wanted!r}"
        minimum = int(match[1])
        version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
        if int(version.lstrip("v").split(".")[0]) < minimum:
            unavailable(f"{folder.name}'s packages need Node {wanted}, this machine has {version}")
    installed = folder / "node_modules" / ".package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < (folder / "package-lock.json").stat().st_mtime:
        run = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=folder, timeout=300,
                             capture_output=True, text=True)
        if run.returncode != 0:
            unavailable(f"npm ci in {folder} failed: {run.stderr.strip()[-2000:]}")
    return node
