"""Refresh the vendored GraphiQL assets: `python -m hub.console.fetch` (needs npm and its registry).

Each pinned package is fetched with `npm pack` (which checks the registry's integrity hash); only
the files the console page loads and the package's licence are kept, under
hub/console/static/vendor/<name>@<version>/, and vendor/manifest.json records for each package
its version, licence, npm integrity and every kept file's sha256. The page (hub/console) loads the
manifest's scripts and stylesheets in its order, so changing a pin here and running this is the
whole upgrade. The files are committed: a fresh clone and an installed wheel need no network.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

VENDOR = Path(__file__).parent / "static" / "vendor"


@dataclass(frozen=True)
class Pin:
    """One npm package at a fixed version, the files of it a page loads (paths in the package), its
    licence file and the page that loads it (`graphiql` or `console`)."""

    name: str
    version: str
    files: tuple[str, ...]
    page: str = "graphiql"
    licence: str = "LICENSE"


# In load order: GraphiQL's UMD build expects the React and ReactDOM globals. The console's charts
# are Chart.js (MIT, one UMD file, canvas, no dependencies).
PINS = (
    Pin("react", "18.2.0", ("umd/react.production.min.js",)),
    Pin("react-dom", "18.2.0", ("umd/react-dom.production.min.js",)),
    Pin("graphiql", "3.8.3", ("graphiql.min.css", "graphiql.min.js")),
    Pin("chart.js", "4.6.2", ("dist/chart.umd.min.js",), page="console", licence="LICENSE.md"),
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pack(pin: Pin, work: Path) -> tuple[Path, dict]:
    """`npm pack name@version` into `work`: the tarball and npm's description of it."""
    done = subprocess.run(
        ["npm", "pack", f"{pin.name}@{pin.version}", "--json", "--pack-destination", str(work)],
        capture_output=True, text=True, check=True, cwd=work,
    )
    info = json.loads(done.stdout)[0]
    return work / info["filename"], info


def _extract(tarball: Path, wanted: tuple[str, ...], into: Path) -> dict[str, str]:
    """Copy `wanted` (its licence file included) out of an npm tarball; returns {relative path: sha256}."""
    kept: dict[str, str] = {}
    with tarfile.open(tarball, "r:gz") as tar:
        for name in wanted:
            member = tar.getmember(f"package/{name}")
            source = tar.extractfile(member)
            if source is None:
                raise ValueError(f"{tarball.name}: {name} is not a file")
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read())
            kept[name] = sha256(target)
    return kept


def _licence(tarball: Path) -> str:
    with tarfile.open(tarball, "r:gz") as tar:
        package = tar.extractfile("package/package.json")
        assert package is not None
        return str(json.load(package).get("license", "UNKNOWN"))


def fetch(vendor: Path = VENDOR) -> list[dict]:
    """Replace `vendor` with the pinned files and their manifest; returns the manifest."""
    with tempfile.TemporaryDirectory() as tmp:
        work, staged = Path(tmp), Path(tmp) / "vendor"
        manifest = []
        for pin in PINS:
            tarball, info = _pack(pin, work)
            folder = f"{pin.name}@{pin.version}"
            files = _extract(tarball, (*pin.files, pin.licence), staged / folder)
            manifest.append({"name": pin.name, "version": pin.version, "license": _licence(tarball),
                             "integrity": info["integrity"], "folder": folder, "page": pin.page, "files": files})
        (staged / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        shutil.rmtree(vendor, ignore_errors=True)
        shutil.copytree(staged, vendor)
    return manifest


if __name__ == "__main__":
    for entry in fetch():
        print(f"{entry['name']}@{entry['version']} ({entry['license']}): {', '.join(entry['files'])}", file=sys.stderr)
