"""Saved reports: saved, listed and run per role through the one execution path, exported to XLSX and CSV."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from starlette.requests import ClientDisconnect

from tests.conftest import Hub, hub_settings, running_hub

PEOPLE = """query($first: Int, $after: String, $quota: QuotaType) {
  people(first: $first, after: $after, quotaType: $quota) {
    pageInfo { hasNextPage endCursor }
    edges { node { idNumber name sex birthDate retirementDate institution { name } registry { quotaType enteredOn } } } } }"""
MASKED = """query($first: Int, $after: String) { people(first: $first, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { idNumber name institution { name } } } } }"""
SAVE = """mutation($r: String!, $d: String!, $v: JSON) { saveReport(report: $r, document: $d, description: "测试", variables: $v) {
  name ownerDepartment } }"""


@pytest.fixture(scope="module")
def hub(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    store = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('reports')}/store.db"
    with running_hub(hub_settings(demo_dir, store_url=store, export_page_rows=37)) as running:
        yield running


def _pages(hub: Hub, query: str, variables: dict[str, Any], role: str = "admin") -> list[dict[str, Any]]:
    out, after = [], None
    while True:
        body = hub.query(query, {**variables, "first": 100, "after": after}, role=role)
        assert "errors" not in body, body
        out += [e["node"] for e in body["data"]["people"]["edges"]]
        if not body["data"]["people"]["pageInfo"]["hasNextPage"]:
            return out
        after = body["data"]["people"]["pageInfo"]["endCursor"]


def _get(hub: Hub, path: str, role: str = "admin", department: str | None = None) -> Any:
    return hub.client.get(path, headers={"Authorization": f"Bearer {hub.token(role, department)}"})


def test_save_list_and_run_per_role(hub: Hub) -> None:
    saved = hub.query(SAVE, {"r": "people-by-quota", "d": PEOPLE, "v": {"quota": "SY"}}, role="officer", department="establishment")
    assert saved["data"]["saveReport"] == {"name": "people-by-quota", "ownerDepartment": "establishment"}
    listed = {r["name"] for r in hub.query("{ reports { name } }")["data"]["reports"]}
    assert "people-by-quota" in listed
    # The analyst's grants do not cover sex and birth dates: not listed, not runnable, not savable.
    assert "people-by-quota" not in {r["name"] for r in hub.query("{ reports { name } }", role="analyst")["data"]["reports"]}
    refused = hub.query('{ runReport(report: "people-by-quota") { data } }', role="analyst")
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    refused = hub.query(SAVE, {"r": "mine", "d": PEOPLE}, role="analyst")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Another department cannot replace it; a mutation is not a report.
    other = hub.query(SAVE, {"r": "people-by-quota", "d": PEOPLE}, role="officer", department="hr")
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = hub.query(SAVE, {"r": "m", "d": 'mutation { runCheck { id } }'})
    assert bad["errors"][0]["extensions"]["code"] in ("BAD_USER_INPUT", "FORBIDDEN")
    looping = hub.query(SAVE, {"r": "loop", "d": '{ runReport(report: "loop") { data } }'})
    assert looping["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # Run: the same answer as the query itself, the saved variables overridden by the caller's.
    ran = hub.query('{ runReport(report: "people-by-quota", variables: {first: 20, quota: "JS"}) { data errors } }')
    direct = hub.query(PEOPLE, {"first": 20, "quota": "JS"})
    assert ran["data"]["runReport"]["data"] == direct["data"] and ran["data"]["runReport"]["errors"] is None


def test_xlsx_export_holds_the_graphql_answer(hub: Hub) -> None:
    hub.query(SAVE, {"r": "people-all", "d": PEOPLE, "v": {}})
    response = _get(hub, "/export/people-all.xlsx")
    assert response.status_code == 200, response.text
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0] == ("公民身份号码", "姓名", "性别", "出生日期", "法定退休日期", "所在机构·机构名称", "实名制信息·编制类型",
                       "实名制信息·入编日期")
    expected = _pages(hub, PEOPLE, {})
    assert len(rows) - 1 == len(expected) == int(response.headers["x-export-rows"]) > 37  # several pages
    for row, node in zip(rows[1:], expected, strict=True):
        birth = dt.date.fromisoformat(node["birthDate"]) if node["birthDate"] else None
        assert row[0] == node["idNumber"] and row[1] == node["name"] and row[2] == node["sex"]
        assert (row[3].date() if row[3] else None) == birth  # a date cell
        assert row[5] == ((node["institution"] or {}).get("name"))
        assert row[6] == "；".join(r["quotaType"] for r in node["registry"])


def test_masks_scope_and_csv(hub: Hub) -> None:
    assert hub.query(SAVE, {"r": "masked-people", "d": MASKED}, role="analyst")["data"]["saveReport"]["ownerDepartment"] is None
    audited = "{ auditEntries(first: 1) { totalCount } }"
    before = hub.query(audited)["data"]["auditEntries"]["totalCount"]
    as_analyst = _get(hub, "/export/masked-people.csv", role="analyst")
    assert as_analyst.status_code == 200
    table = list(csv.reader(io.StringIO(as_analyst.content.decode("utf-8-sig"))))
    pages = -(-(len(table) - 1) // 37)  # HUB_EXPORT_PAGE_ROWS of this hub
    assert hub.query(audited)["data"]["auditEntries"]["totalCount"] - before >= pages > 1  # an entry per page
    assert table[0] == ["公民身份号码", "姓名", "所在机构·机构名称"]
    assert len(table) > 2 and all("*" in r[0] and "*" in r[1] for r in table[1:])
    expected = _pages(hub, MASKED, {}, role="analyst")
    assert [r[:2] for r in table[1:]] == [[n["idNumber"], n["name"]] for n in expected]
    as_admin = list(csv.reader(io.StringIO(_get(hub, "/export/masked-people.csv").content.decode("utf-8-sig"))))
    assert all("*" not in r[0] for r in as_admin[1:])
    banner = _get(hub, "/export/masked-people.csv?first=5", role="admin")  # variables from the URL
    assert banner.status_code == 200
    # Authenticated like /graphql; a role without the fields' grants gets 403; unknown reports 404.
    assert hub.client.get("/export/masked-people.csv").status_code == 401
    assert _get(hub, "/export/people-all.xlsx", role="analyst").status_code == 403
    assert _get(hub, "/export/nothing-here.xlsx").status_code == 404
    assert _get(hub, "/export/masked-people.pdf").status_code == 400


def test_cli_export_matches_the_http_export(hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from hub import cli
    from tests.conftest import TEST_AUDIT_KEY, TEST_SECRET

    hub.query(SAVE, {"r": "masked-people", "d": MASKED}, role="analyst")
    for key, value in {"HUB_DEMO_DIR": str(hub.settings.demo_dir), "HUB_STORE_URL": hub.settings.store_url,
                       "HUB_JWT_SECRET": TEST_SECRET, "HUB_AUDIT_KEY": TEST_AUDIT_KEY}.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "people.xlsx"
    result = CliRunner().invoke(cli.app, ["report", "export", "masked-people", "--format", "xlsx", "--out", str(out),
                                          "--role", "analyst", "--var", "first=50"])
    assert result.exit_code == 0, result.output
    rows = list(openpyxl.load_workbook(out, read_only=True).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    over_http = _get(hub, "/export/masked-people.xlsx?first=50", role="analyst")
    http_rows = list(openpyxl.load_workbook(io.BytesIO(over_http.content), read_only=True).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows == http_rows and len(rows) > 2 and all("*" in r[0] for r in rows[1:])


@pytest.mark.parametrize("client_gone", ["send fails", "disconnect first"])
def test_an_abandoned_export_closes_its_file(hub: Hub, monkeypatch: pytest.MonkeyPatch, client_gone: str) -> None:
    """A client that leaves before reading the body: the response closes the export's temporary file
    (not the body's generator, which may never run, nor the garbage collector).

    ASGI 2.4 servers report a gone client by failing `send` (Starlette raises ClientDisconnect and
    skips background tasks); older ones by `http.disconnect` from `receive` (the body is cancelled).
    """
    from hub import app as hub_app
    from hub.export import chunks

    hub.query(SAVE, {"r": "masked-people", "d": MASKED}, role="analyst")
    files: list[Any] = []
    real = hub_app.export

    async def recording(*args: Any) -> Any:
        file, rows = await real(*args)
        files.append(file)
        return file, rows

    bodies: list[Any] = []  # held, so the file is not closed by the body's generator being collected

    def held(file: Any) -> Any:
        bodies.append(body := chunks(file))
        return body

    monkeypatch.setattr(hub_app, "export", recording)
    monkeypatch.setattr(hub_app, "chunks", held)

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"} if client_gone == "disconnect first" else {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        if client_gone == "send fails":
            raise OSError("connection reset by peer")

    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4" if client_gone == "send fails" else "2.3"},
             "http_version": "1.1", "method": "GET", "scheme": "http", "path": "/export/masked-people.xlsx",
             "raw_path": b"/export/masked-people.xlsx", "root_path": "", "query_string": b"",
             "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {hub.token()}".encode())],
             "client": ("testclient", 50000), "server": ("testserver", 80), "state": hub.client.app_state.copy()}

    async def call() -> None:
        with contextlib.suppress(ClientDisconnect):  # the gone client's error, as a server sees it
            await hub.client.app(scope, receive, send)

    hub.client.portal.call(call)  # type: ignore[union-attr]
    assert len(files) == len(bodies) == 1 and files[0].closed
