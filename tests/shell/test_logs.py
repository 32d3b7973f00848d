"""Request ids (hub/middleware.py) and JSON log lines (hub/logs.py)."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from hub.auth import create_token
from hub.logs import config
from tests.conftest import TEST_AUDIT_KEY, TEST_SECRET, Hub, free_port, hub_settings

NEW_ID = re.compile(r"[0-9a-f]{32}")
QUERY = "{ institutions(first: 2) { edges { node { code } } } }"


def post(hub: Hub, request_id: str | bytes | None = None, token: str | None = None) -> Any:
    headers = [(b"authorization", f"Bearer {token or hub.token()}".encode())] if token != "" else []
    if request_id is not None:
        headers.append((b"x-request-id", request_id if isinstance(request_id, bytes) else request_id.encode()))
    return hub.client.post("/graphql", json={"query": QUERY}, headers=headers)


def test_a_well_formed_request_id_is_returned_as_given(hub: Hub) -> None:
    for given in ("3f2b8c1e-5d4a-4e7b-9c0d-1a2b3c4d5e6f", "01HZX3K9Q7ABCDEF0123456789", "lb:7.42_x", "a" * 64):
        answers = [post(hub, given) for _ in range(3)]  # prepared once, then from the prepared-document cache
        assert [a.status_code for a in answers] == [200] * 3
        assert [a.headers["x-request-id"] for a in answers] == [given] * 3
    assert post(hub, "caller-1", token="").headers["x-request-id"] == "caller-1"  # a 401 carries it too


def test_a_missing_or_bad_request_id_is_replaced_by_a_new_one(hub: Hub) -> None:
    given: list[str | bytes | None] = [None, "", "a" * 65, "has space", "semi;colon", "<script>", "id\u00e9".encode("latin-1")]
    made = [post(hub, request_id).headers["x-request-id"] for request_id in given]
    assert all(NEW_ID.fullmatch(rid) for rid in made), made
    assert len(set(made)) == len(made)  # a new one each time


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """The hub's logging config applied, its stderr handler writing into a buffer; the root logger restored after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level, {n: logging.getLogger(n).level for n in ("alembic", "casbin")}
    logging.config.dictConfig(config("info"))
    buffer = io.StringIO()
    root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]
    try:
        yield buffer
    finally:
        root.handlers[:], root.level, levels = saved
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def test_each_line_is_one_json_object_with_its_exception(lines: io.StringIO) -> None:
    log = logging.getLogger("hub.test")
    log.info("plain %s", "line", extra={"department": "finance"})
    try:
        dict[str, int]()["missing"]
    except KeyError:
        log.exception("it failed:\nsecond line")
    logging.getLogger("uvicorn.error").info("Started", extra={"color_message": "\x1b[32mStarted\x1b[0m"})
    logging.getLogger("alembic.runtime").info("start-up chatter")  # quiet below warnings
    plain, failed, uvicorn, *rest = (json.loads(line) for line in lines.getvalue().splitlines())
    assert rest == []
    assert {k: plain[k] for k in ("level", "logger", "request_id", "message", "department")} == {
        "level": "INFO", "logger": "hub.test", "request_id": "-", "message": "plain line", "department": "finance"}
    assert "exception" not in plain and time.time() - _epoch(plain["time"]) < 60
    assert failed["message"] == "it failed:\nsecond line" and failed["level"] == "ERROR"
    assert failed["exception"].startswith("Traceback") and "KeyError: 'missing'" in failed["exception"]
    assert set(uvicorn) == {"time", "level", "logger", "request_id", "message"}  # no coloured copy


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def test_hub_serve_logs_json_lines_with_each_requests_id(demo_dir: Path, tmp_path: Path) -> None:
    """Two worker processes: uvicorn applies the hub's logging in each; its access lines carry the id."""
    port = free_port()
    env = {**os.environ, "HUB_DEMO_DIR": str(demo_dir), "HUB_PORT": str(port), "HUB_WORKERS": "2",
           "HUB_JWT_SECRET": TEST_SECRET, "HUB_AUDIT_KEY": TEST_AUDIT_KEY,
           "HUB_STORE_URL": f"sqlite+aiosqlite:///{tmp_path}/store.db"}
    hub = str(Path(sys.executable).parent / "hub")
    subprocess.run([hub, "db", "upgrade"], env=env, check=True, capture_output=True)  # not by both workers at once
    token = create_token(hub_settings(demo_dir), None, ["admin"], "152900", "1h")
    stderr = tmp_path / "stderr"
    with stderr.open("wb") as sink:
        server = subprocess.Popen([hub, "serve"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=sink)
    try:
        _wait_ready(server, f"http://127.0.0.1:{port}/healthz", stderr)
        sent = {}
        for given in ("from-the-caller", None, "not valid!"):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": QUERY}).encode(), method="POST",
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}",
                         **({"X-Request-ID": given} if given else {})})
            with urllib.request.urlopen(request, timeout=30) as answer:
                sent[answer.headers["X-Request-ID"]] = given
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert list(sent.values()) == ["from-the-caller", None, "not valid!"]
    assert "from-the-caller" in sent and sum(NEW_ID.fullmatch(rid) is not None for rid in sent) == 2
    logged = [json.loads(line) for line in stderr.read_text(encoding="utf-8").splitlines()]  # every line is JSON
    access = {e["request_id"]: e["message"] for e in logged if e["logger"] == "uvicorn.access" and "/graphql" in e["message"]}
    assert set(access) == set(sent) and all('"POST /graphql HTTP/1.1" 200' in m for m in access.values())
    assert any(e["logger"] == "uvicorn.error" and e["request_id"] == "-" for e in logged)  # start-up, outside requests


def _wait_ready(server: subprocess.Popen[bytes], url: str, stderr: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (OSError, urllib.error.URLError):
            assert server.poll() is None and time.monotonic() < deadline, stderr.read_text(encoding="utf-8")[-3000:]
            time.sleep(0.5)
