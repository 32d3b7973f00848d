"""A headless system Chromium driven over the DevTools protocol: enough for the console's tests.

No browser download and no driver: `chromium` from the distribution's packages (.ci/run installs it)
and a websocket to its page. Exceptions thrown by the page are collected, so a test can fail on them.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from websockets.sync.client import ClientConnection, connect

from tests.conftest import unavailable


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        unavailable("chromium not installed (apt-get install chromium)")
    return found


class Page:
    """One tab: call DevTools methods, evaluate JavaScript, take screenshots."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.calls = 0
        self.exceptions: list[str] = []

    def call(self, method: str, **params: object) -> dict:
        self.calls += 1
        self.socket.send(json.dumps({"id": self.calls, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("method") == "Runtime.exceptionThrown":
                details = message["params"]["exceptionDetails"]
                self.exceptions.append(str(details.get("exception", {}).get("description") or details.get("text")))
            if message.get("id") == self.calls:
                assert "error" not in message, message
                return message["result"]  # type: ignore[no-any-return]

    def js(self, expression: str) -> object:
        """The value of an expression (awaited when it is a promise); None when it throws (a page still loading)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result["result"].get("value")

    def screenshot(self, path: Path, whole: bool = False) -> None:
        """A PNG of the viewport, or of the whole page (`whole`: below the fold too)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        params: dict[str, object] = {"format": "png"}
        if whole:
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params |= {"captureBeyondViewport": True,
                       "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}}
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", **params)["data"]))


def wait(ready: Callable[[], object], what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@contextmanager
def open_page(browser: str, profile: Path, size: tuple[int, int] = (1280, 800)) -> Iterator[Page]:
    """Start a headless Chromium with remote debugging and connect to its tab."""
    process = subprocess.Popen([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--window-size={size[0]},{size[1]}",
                                f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        active = profile / "DevToolsActivePort"
        wait(lambda: active.exists() and len(active.read_text().split()) == 2, "chromium did not start")
        with urllib.request.urlopen(f"http://127.0.0.1:{active.read_text().split()[0]}/json/list", timeout=10) as listing:
            tab = next(t for t in json.load(listing) if t["type"] == "page")
        with connect(tab["webSocketDebuggerUrl"], max_size=None) as socket:
            page = Page(socket)
            page.call("Runtime.enable")
            yield page
    finally:
        process.terminate()
        process.wait(timeout=30)
