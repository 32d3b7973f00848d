"""The GraphiQL console works without internet: every asset comes from the hub, and it renders."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from hub.console import STATIC
from hub.console.fetch import PINS
from tests.conftest import TEST_SECRET, Hub
from tests.shell.browser import chromium, open_page, wait

ARTIFACTS = Path(__file__).parent / "artifacts"
CONTENT_TYPES = {".js": "text/javascript", ".css": "text/css"}


class References(HTMLParser):
    """Every src= and href= of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def references(html: str) -> list[str]:
    parser = References()
    parser.feed(html)
    return parser.urls


def test_page_and_every_asset_it_references_are_served_by_the_hub(hub: Hub) -> None:
    page = hub.client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    urls = references(page.text)
    assert {urlsplit(u).path.rsplit(".", 1)[-1] for u in urls if not u.startswith("data:")} == {"js", "css"}
    for url in urls:
        parts = urlsplit(url)
        assert not parts.netloc and parts.scheme in ("", "data"), f"external reference {url}"
        if parts.scheme == "data":
            continue
        asset = hub.client.get(url)  # no credentials: the console's files are public
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].startswith(CONTENT_TYPES[Path(parts.path).suffix]), url
    assert "unpkg.com" not in page.text and "jsdelivr" not in page.text


def test_vendored_files_are_the_pinned_ones_with_their_licences() -> None:
    manifest = json.loads((STATIC / "vendor" / "manifest.json").read_text(encoding="utf-8"))
    assert [(p["name"], p["version"]) for p in manifest] == [(p.name, p.version) for p in PINS]
    for package, pin in zip(manifest, PINS, strict=True):
        assert set(package["files"]) == {*pin.files, pin.licence} and package["license"]
        assert package["page"] == pin.page
        folder = STATIC / "vendor" / package["folder"]
        for name, digest in package["files"].items():
            assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, f"{folder / name} changed"
    kept = {p.relative_to(STATIC / "vendor").as_posix() for p in (STATIC / "vendor").rglob("*") if p.is_file()}
    listed = {f"{p['folder']}/{name}" for p in manifest for name in p["files"]}
    assert kept == listed | {"manifest.json"}, "a vendored file is not in the manifest"


def test_graphiql_renders_in_a_headless_browser(served: str) -> None:
    browser = chromium()
    ARTIFACTS.mkdir(exist_ok=True)
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000",
             "--window-size=1280,800"]
    dom = subprocess.run([*flags, "--dump-dom", served], capture_output=True, text=True, timeout=120, check=True).stdout
    (ARTIFACTS / "graphiql.html").write_text(dom, encoding="utf-8")
    assert "graphiql-query-editor" in dom and "graphiql-execute-button" in dom, "GraphiQL did not render"
    assert "Loading" not in dom
    subprocess.run([*flags, f"--screenshot={ARTIFACTS / 'graphiql.png'}", served],
                   capture_output=True, timeout=120, check=True)
    assert (ARTIFACTS / "graphiql.png").stat().st_size > 10_000


def test_token_entered_once_is_sent_and_kept_for_the_tab(served: str, tmp_path: Path) -> None:
    response = "(document.querySelector('.graphiql-response') || {}).innerText || ''"
    stored = "sessionStorage.getItem('staffing-hub.token')"
    token = subprocess.run([str(Path(sys.executable).parent / "hub"), "token", "create", "--role", "admin"],
                           env={**os.environ, "HUB_JWT_SECRET": TEST_SECRET}, capture_output=True, text=True,
                           check=True).stdout.strip()
    with open_page(chromium(), tmp_path) as page:
        page.call("Page.navigate", url=served)
        wait(lambda: "UNAUTHENTICATED" in str(page.js(response)), "without a token the schema read is refused")
        page.js(f"document.getElementById('token').value = {json.dumps(token)};"
                "document.getElementById('token-bar').requestSubmit()")
        wait(lambda: page.js(stored) == token, "the token is kept in the tab's session storage")
        editor = "document.querySelector('.graphiql-query-editor .CodeMirror')"
        wait(lambda: page.js(f"!!{editor}") and "UNAUTHENTICATED" not in str(page.js(response)),
             "GraphiQL is shown afresh, its response pane empty")
        page.js(f"{editor}.CodeMirror.setValue('{{ __typename }}');"
                "document.querySelector('.graphiql-execute-button').click()")  # once: a second click stops it
        wait(lambda: '"__typename": "Query"' in str(page.js(response)), "the token is sent with the query")
        assert token not in str(page.js("JSON.stringify(localStorage)")), "the token never reaches localStorage"
        page.call("Page.reload")
        wait(lambda: page.js("document.getElementById('token-state').textContent") == "已设置令牌 / token set",
             "after a reload the tab still has its token")
        page.js("document.getElementById('forget').click()")
        wait(lambda: page.js(stored) is None, "clear forgets the token")
