"""The hub's web pages, served entirely by the hub: no script or stylesheet from another host.

GraphiQL (here) at /graphql, and the people's console at /console (hub/console/web.py, docs/console.md).

The page (graphiql.html) loads the vendored React and GraphiQL builds listed in
static/vendor/manifest.json (refreshed by `python -m hub.console.fetch`) and static/console.js,
which asks for a bearer token once, keeps it in the tab's sessionStorage and sends it as
`Authorization: Bearer …` with every request. The static files are public (no credentials).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
PREFIX = "/static"


def vendored(suffix: str, page: str = "graphiql") -> list[str]:
    """URLs of the vendored files of `page` ending in `suffix`, in the manifest's (load) order."""
    manifest = json.loads((STATIC / "vendor" / "manifest.json").read_text(encoding="utf-8"))
    return [f"{PREFIX}/vendor/{package['folder']}/{name}" for package in manifest if package["page"] == page
            for name in package["files"] if name.endswith(suffix)]


TRUSTED_ONLY = ('<p id="trusted-only">仅运行已登记的文档（HUB_TRUSTED_DOCUMENTS=only）：未登记的查询，包括本页读取模式的'
                '内省查询，都会被拒绝 / trusted documents only (HUB_TRUSTED_DOCUMENTS=only): queries not registered with '
                '<code>hub documents add</code>, this page\'s introspection included, are refused</p>')


@cache
def page(trusted_only: bool = False) -> str:
    """The console's HTML: vendored styles and scripts first, then the hub's own; in allow-list mode, a notice."""
    styles = [*vendored(".css"), f"{PREFIX}/console.css"]
    scripts = [*vendored(".js"), f"{PREFIX}/console.js"]
    template = (Path(__file__).parent / "graphiql.html").read_text(encoding="utf-8")
    return template.format(
        styles="\n".join(f'<link rel="stylesheet" href="{url}">' for url in styles),
        scripts="\n".join(f'<script src="{url}"></script>' for url in scripts),
        notice=TRUSTED_ONLY if trusted_only else "",
    )


def static_mount() -> Mount:
    """The console's files under /static, outside authentication (only /graphql is behind it)."""
    return Mount(PREFIX, StaticFiles(directory=STATIC), name="static")
