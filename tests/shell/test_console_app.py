"""The people's console (/console) in a real browser: headless system Chromium over the DevTools protocol.

Signed in as three roles (administrator, a banner's establishment officer, the auditor) through the
demo list, each page is checked against the GraphQL answer the same principal gets, and a
screenshot of each is written to tests/shell/artifacts/ (gitignored).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from hub.core.ids import id_number_problem, make_id_number, normalize_id_number
from hub.demo.generate import sqlite_targets
from tests.conftest import (
    TEST_AUDIT_KEY,
    TEST_SECRET,
    Hub,
    generate_into,
    hub_settings,
    running_hub,
    serve_hub,
)
from tests.shell.browser import Page, chromium, open_page, wait
from tests.shell.test_console import references

ARTIFACTS = Path(__file__).parent / "artifacts"
SIZE = (1366, 768)
MAIN = "document.getElementById('main')"
ADMIN, OFFICER, AUDITOR = "demo-admin-152900", "demo-establishment-152921", "demo-auditor-152900"
ANALYST = "demo-analyst-152900"
BANNER = "152921"


def post(base: str, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The GraphQL answer's data for a token (no error allowed)."""
    request = urllib.request.Request(f"{base}/graphql", json.dumps({"query": query, "variables": variables or {}}).encode(),
                                     {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        body = json.load(response)
    assert not body.get("errors"), body["errors"]
    return body["data"]  # type: ignore[no-any-return]


def demo_tokens(base: str) -> dict[str, str]:
    with urllib.request.urlopen(f"{base}/console/demo-users", timeout=30) as response:
        return {user["subject"]: user["token"] for user in json.load(response)}


def take_snapshots(demo: Path, store_dir: Path) -> None:
    """`hub snapshot` back-fills the 24 months ending with the demo's reference month (as `hub demo` does)."""
    month = json.loads((demo / "manifest.json").read_text(encoding="utf-8"))["referenceMonth"]
    env = {**os.environ, "HUB_DEMO_DIR": str(demo), "HUB_JWT_SECRET": TEST_SECRET, "HUB_AUDIT_KEY": TEST_AUDIT_KEY,
           "HUB_STORE_URL": f"sqlite+aiosqlite:///{store_dir}/store.db"}
    subprocess.run([str(Path(sys.executable).parent / "hub"), "snapshot", "--month", month, "--backfill", "24"],
                   env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def console(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The hub in demo mode over a copy of the session's demo data (applications completed here write to it), its
    cross-check run once (alerts to show), 24 months of snapshots."""
    here = tmp_path_factory.mktemp("console")
    shutil.copytree(demo_dir, here / "demo")
    with serve_hub(here / "demo", here, HUB_CONSOLE_DEMO_USERS="true") as base:
        take_snapshots(here / "demo", here)
        tokens = demo_tokens(base)
        post(base, tokens[ADMIN], "mutation { runCheck(wait: true) { status } }")
        yield base, tokens


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    with open_page(chromium(), tmp_path_factory.mktemp("chromium"), SIZE) as page:
        yield page


def ready(page: Page, what: str) -> None:
    wait(lambda: page.js(f"{MAIN}.getAttribute('data-ready')"), f"{what}: the page did not finish", 60)
    assert not page.exceptions, page.exceptions


def sign_in(page: Page, base: str, subject: str) -> None:
    """Open the console afresh, pick a demo user from the list and wait for the overview."""
    page.call("Page.navigate", url=f"{base}/console#/overview")
    wait(lambda: page.js("document.readyState") == "complete", "page load")
    page.js("sessionStorage.clear(); window.stale = true")
    page.call("Page.reload")
    wait(lambda: page.js("!window.stale && document.readyState === 'complete'"), "a fresh page")
    button = f"document.querySelector('#demo-users button[data-subject=\"{subject}\"]')"
    wait(lambda: page.js(f"!!{button}"), f"{subject} in the demo list")
    page.js(f"{button}.click()")
    ready(page, f"{subject}'s overview")


def visit(page: Page, route: str, shot: str | None = None, whole: bool = False) -> str:
    """Go to a route of the console; the text of its main area (and a screenshot, of the whole page if `whole`)."""
    page.js(f"{MAIN}.removeAttribute('data-ready'); window.location.hash = {json.dumps(route)}")
    ready(page, route)
    if shot:
        page.screenshot(ARTIFACTS / f"console-{shot}.png", whole)
    return str(page.js(f"{MAIN}.innerText"))


def type_in(page: Page, selector: str, value: str, event: str = "input") -> None:
    """Set a form control's value and tell the page, as typing or choosing would."""
    page.js(f"(e => {{ e.value = {json.dumps(value)}; e.dispatchEvent(new Event('{event}')); }})(document.querySelector('{selector}'))")


def assert_keyboard_reachable(page: Page) -> None:
    unlabelled = page.js("""Array.from(document.querySelectorAll('main input, main select, main textarea, main button'))
        .filter(e => e.tabIndex < 0 || (e.tagName !== 'BUTTON' && !e.labels.length && !e.getAttribute('aria-label'))).length""")
    assert unlabelled == 0, "every control is reachable by keyboard and labelled"


def charts(page: Page) -> dict[str, dict[str, Any]]:
    """Each chart's labels and figures (Chart.js keeps them) and how many of its pixels are drawn."""
    return page.js("""Object.fromEntries(Array.from(document.querySelectorAll('canvas[data-chart]')).map(c => {
        const chart = Chart.getChart(c), pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let drawn = 0; for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) drawn++;
        return [c.dataset.chart, {labels: chart.data.labels, data: chart.data.datasets.map(d => d.data), drawn}];
    }))""")  # type: ignore[return-value]


def stats(base: str, token: str, measures: list[str], by: list[str] | None = None) -> dict[str, Any]:
    return post(base, token, "query($m: [Measure!]!, $b: [Dimension!]) { stats(measures: $m, by: $b) { "
                             "rows { keys values suppressed } total { values suppressed } restricted } }",
                {"m": measures, "b": by})["stats"]  # type: ignore[no-any-return]


def number(value: float | None) -> int | None:
    return None if value is None else int(value)


def load_below_the_fold(page: Page) -> None:
    """Scroll to each card the overview draws when it comes into view, and wait until it is drawn."""
    for i in range(int(str(page.js("document.querySelectorAll('section[data-lazy]').length")))):
        card = f"document.querySelectorAll('section[data-lazy]')[{i}]"
        page.js(f"{card}.scrollIntoView()")
        wait(lambda card=card: page.js(f"{card}.hasAttribute('data-loaded')"), "a card below the fold", 60)  # type: ignore[misc]
    wait(lambda: page.js(f"{MAIN}.hasAttribute('data-complete-ms')"), "the whole overview", 60)
    page.js("window.scrollTo(0, 0)")


def statistics_match_the_api(page: Page, base: str, token: str) -> dict[str, dict[str, Any]]:
    """The overview's charts and figures hold the numbers of `stats`, `retirementForecast` and `trend` for the same token."""
    load_below_the_fold(page)
    drawn = charts(page)
    assert {"quota-by-type", "quota-by-region", "retirement-curve", "headcount-trend"} <= set(drawn), set(drawn)
    assert all(chart["drawn"] > 2000 for chart in drawn.values()), {k: c["drawn"] for k, c in drawn.items()}
    by_type = {r["keys"][0]: r["values"] for r in stats(base, token, ["APPROVED", "OCCUPIED", "VACANT"], ["QUOTA_TYPE"])["rows"]}
    types = [label.split()[0] for label in drawn["quota-by-type"]["labels"]]
    assert set(types) == set(by_type)
    assert drawn["quota-by-type"]["data"] == [[by_type[t][i] for t in types] for i in (1, 2, 0)]
    figure = "document.querySelector('[data-figure=\"{}\"] .value').innerText.replace(/[^0-9]/g, '')"
    headcount = stats(base, token, ["HEADCOUNT"])["total"]["values"][0]
    assert int(str(page.js(figure.format("persons")))) == headcount
    approved = stats(base, token, ["APPROVED"])["total"]["values"][0]
    assert int(str(page.js(figure.format("approved")))) == approved
    leaders = stats(base, token, ["LEADERSHIP_APPROVED", "LEADERSHIP_FILLED"])["total"]["values"]
    assert str(page.js(figure.format("leaders"))) == f"{int(leaders[1])}{int(leaders[0])}"
    use = stats(base, token, ["OCCUPIED", "VACANT"], ["REGION", "QUOTA_TYPE"])["rows"]
    assert sum(v or 0 for d in drawn["quota-by-region"]["data"] for v in d) == sum(r["values"][0] for r in use)
    schooling = stats(base, token, ["HEADCOUNT"], ["EDUCATION"])["rows"]
    assert drawn["education"]["data"] == [[r["values"][0] for r in schooling]]
    assert sum(r["values"][0] for r in schooling) == headcount
    forecast = post(base, token, "{ retirementForecast(years: 5) { rows { year persons } } }")["retirementForecast"]["rows"]
    assert drawn["retirement-curve"]["labels"] == [str(r["year"]) for r in forecast]
    assert drawn["retirement-curve"]["data"] == [[r["persons"] for r in forecast]]
    trend = post(base, token, "{ trend(measure: PERSONS) { month value } }")["trend"][-24:]
    assert len(trend) == 24 and drawn["headcount-trend"]["labels"] == [p["month"] for p in trend]
    assert drawn["headcount-trend"]["data"] == [[p["value"] for p in trend]]
    return drawn


def test_page_and_assets_are_the_hubs_own(hub: Hub) -> None:
    page = hub.client.get("/console")
    assert page.status_code == 200 and "chart.umd.min.js" in page.text
    for url in references(page.text):
        assert url.startswith(("/static/", "#", "data:")), f"external reference {url}"
        if url.startswith("/static/"):
            assert hub.client.get(url).status_code == 200, url


def test_whoami_names_the_principal(hub: Hub) -> None:
    assert hub.client.get("/console/whoami").status_code == 401
    assert hub.client.get("/console/whoami", headers={"Accept": "text/html"}).status_code == 401
    assert hub.client.get("/console/whoami", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    me = hub.client.get("/console/whoami", headers={"Authorization": f"Bearer {hub.token('officer', 'finance', BANNER)}"})
    assert me.json() | {"subject": None} == {"subject": None, "department": "finance", "departmentZh": "财政局",
                                             "departmentEn": "Finance bureau", "roles": ["officer"], "region": BANNER,
                                             "regionName": "阿拉善左旗", "via": "jwt"}



def test_demo_users_only_in_the_demo(demo_dir: Path) -> None:
    with running_hub(hub_settings(demo_dir, console_demo_users=False)) as hub:
        assert hub.client.get("/console/demo-users").status_code == 404  # not the demo: no tokens handed out
    with running_hub(hub_settings(demo_dir, console_demo_users=True)) as hub:
        users = hub.client.get("/console/demo-users").json()
        assert {(u["department"], u["region"]) for u in users} >= {(None, "152900"), ("establishment", BANNER)}
        for user in users:
            me = hub.client.get("/console/whoami", headers={"Authorization": f"Bearer {user['token']}"}).json()
            assert me == {k: v for k, v in user.items() if k != "token"}


def test_admin_overview_draws_the_numbers_of_the_api(console: tuple[str, dict[str, str]], browser: Page) -> None:
    base, tokens = console
    sign_in(browser, base, ADMIN)
    who = str(browser.js("document.getElementById('who').innerText"))
    assert ADMIN in who and "admin" in who and "152900" in who
    browser.screenshot(ARTIFACTS / "console-overview-admin.png")
    drawn = charts(browser)
    drawn = statistics_match_the_api(browser, base, tokens[ADMIN])
    assert {"alerts-by-rule", "alerts-by-banner"} <= set(drawn)
    types = [label.split()[0] for label in drawn["quota-by-type"]["labels"]]
    totals = {r["keys"][0]: r["values"][0] for r in stats(base, tokens[ADMIN], ["APPROVED"], ["QUOTA_TYPE"])["rows"]}
    institutions = post(base, tokens[ADMIN], "{ institutions(first: 1) { totalCount } }")["institutions"]["totalCount"]
    figure = "document.querySelector('[data-figure=\"{}\"] .value').innerText.replace(/[^0-9]/g, '')"
    assert int(str(browser.js(figure.format("institutions")))) == institutions
    rules = [r for r in post(base, tokens[ADMIN], "{ alertSummary(by: RULE) { key total open } }")["alertSummary"] if r["total"]]
    assert [label.split()[0] for label in drawn["alerts-by-rule"]["labels"]] == [r["key"] for r in rules]
    assert drawn["alerts-by-rule"]["data"][0] == [r["open"] for r in rules]
    pay = stats(base, tokens[ADMIN], ["PAY_GROSS_TOTAL"], ["MONTH"])["rows"][-1]
    shown = str(browser.js("document.querySelector('[data-figure=\"pay\"]').innerText"))
    assert pay["keys"][0] in shown and f"{pay['values'][0] / 100:,.2f}" in shown, (shown, pay)

    # Hovering a bar shows its numbers; clicking it opens the rows behind it.
    point = browser.js("""(() => { const c = document.querySelector('canvas[data-chart="quota-by-type"]'), r = c.getBoundingClientRect(),
        bar = Chart.getChart(c).getDatasetMeta(2).data[0]; c.scrollIntoView(); const s = c.getBoundingClientRect();
        return [s.left + bar.x, s.top + (bar.y + bar.base) / 2]; })()""")
    browser.call("Input.dispatchMouseEvent", type="mouseMoved", x=point[0], y=point[1])  # type: ignore[index]
    wait(lambda: browser.js("Chart.getChart(document.querySelector('canvas[data-chart=\"quota-by-type\"]')).tooltip.opacity > 0"),
         "a tooltip on hover")
    tip = browser.js("Chart.getChart(document.querySelector('canvas[data-chart=\"quota-by-type\"]')).tooltip.body.map(b => b.lines.join(' '))")
    first = types[0]
    assert any(str(int(totals[first])) in line for line in tip), tip  # type: ignore[union-attr]
    browser.js(f"{MAIN}.removeAttribute('data-ready')")
    for kind in ("mousePressed", "mouseReleased"):
        browser.call("Input.dispatchMouseEvent", type=kind, x=point[0], y=point[1], button="left", clickCount=1)  # type: ignore[index]
    ready(browser, "the institutions behind the bar")
    assert browser.js("window.location.hash") == f"#/institutions?quotaType={first}"
    behind = post(base, tokens[ADMIN], "query($t: QuotaType) { institutions(quotaType: $t) { totalCount } }", {"t": first})
    assert browser.js("document.querySelector('[data-total]').dataset.total") == str(behind["institutions"]["totalCount"])


def test_alert_acknowledged_on_the_page_is_acknowledged_in_the_api(console: tuple[str, dict[str, str]], browser: Page) -> None:
    base, tokens = console
    sign_in(browser, base, ADMIN)
    visit(browser, "#/alerts?status=OPEN", "alerts")
    alert = browser.js("document.querySelector('button[data-action=\"acknowledgeAlert\"]').dataset.alert")
    browser.js(f"{MAIN}.removeAttribute('data-ready');"
               f"document.querySelector('button[data-action=\"acknowledgeAlert\"][data-alert=\"{alert}\"]').click()")
    ready(browser, "alerts after acknowledging")
    status = post(base, tokens[ADMIN], "query($id: ID!) { alert(id: $id) { status } }", {"id": alert})["alert"]["status"]
    assert status == "ACKNOWLEDGED"
    assert not browser.js(f"!!document.querySelector('button[data-action=\"acknowledgeAlert\"][data-alert=\"{alert}\"]')")
    visit(browser, "#/alerts?status=ACKNOWLEDGED")
    assert browser.js(f"!!document.querySelector('button[data-action=\"resolveAlert\"][data-alert=\"{alert}\"]')")


def test_banner_officer_sees_only_the_banner(console: tuple[str, dict[str, str]], browser: Page) -> None:
    base, tokens = console
    sign_in(browser, base, OFFICER)
    who = str(browser.js("document.getElementById('who').innerText"))
    assert "编办" in who and BANNER in who and "officer" in who
    browser.screenshot(ARTIFACTS / "console-overview-banner-officer.png")
    assert not browser.js("!!document.querySelector('[data-figure=\"pay\"]')"), "the establishment office may not read pay"
    names = {r["code"]: r["name"] for r in post(base, tokens[OFFICER], "{ regions { code name } }")["regions"]}
    banner_names = {name for code, name in names.items() if code.startswith(BANNER)}
    drawn = statistics_match_the_api(browser, base, tokens[OFFICER])
    assert set(drawn["quota-by-region"]["labels"]) <= banner_names
    institutions = post(base, tokens[OFFICER], "{ institutions(first: 1) { totalCount } }")["institutions"]["totalCount"]
    admin_institutions = post(base, tokens[ADMIN], "{ institutions(first: 1) { totalCount } }")["institutions"]["totalCount"]
    assert 0 < institutions < admin_institutions
    league = stats(base, tokens[ADMIN], ["HEADCOUNT"])["total"]["values"][0]
    assert 0 < stats(base, tokens[OFFICER], ["HEADCOUNT"])["total"]["values"][0] < league
    visit(browser, "#/institutions", "institutions-banner-officer")
    assert browser.js("document.querySelector('[data-total]').dataset.total") == str(institutions)
    shown_regions = browser.js("Array.from(document.querySelectorAll('main tbody tr')).map(r => r.cells[2].innerText)")
    assert shown_regions and set(shown_regions) <= banner_names  # type: ignore[arg-type]
    visit(browser, "#/alerts", "alerts-banner-officer")
    codes = browser.js("Array.from(document.querySelectorAll('#alert-list tbody tr')).map(r => r.cells[3].innerText)")
    mine = post(base, tokens[OFFICER], "{ institutions(first: 500) { edges { node { code } } } }")
    assert set(codes) - {"—"} <= {e["node"]["code"] for e in mine["institutions"]["edges"]}  # type: ignore[arg-type]
    everyone = post(base, tokens[ADMIN], "{ alerts(first: 1) { totalCount } }")["alerts"]["totalCount"]
    assert int(str(browser.js("document.querySelector('#alert-list [data-total]').dataset.total"))) < everyone


def test_auditor_sees_people_masked(console: tuple[str, dict[str, str]], browser: Page) -> None:
    base, tokens = console
    sign_in(browser, base, AUDITOR)
    code = post(base, tokens[AUDITOR], "{ institutions(first: 1) { edges { node { code } } } }")["institutions"]["edges"][0]["node"]["code"]
    visit(browser, f"#/institution/{code}", "institution-auditor")
    ids = browser.js("Array.from(document.querySelectorAll('#people tbody tr')).map(r => r.cells[0].innerText)")
    assert ids and all("*" in i for i in ids)  # type: ignore[union-attr]
    assert not browser.js("!!document.querySelector('#people a')"), "no link to a person the auditor sees masked"
    visit(browser, "#/people", "people-auditor")
    assert all("*" in i for i in browser.js("Array.from(document.querySelectorAll('main tbody tr')).map(r => r.cells[0].innerText)"))  # type: ignore[union-attr]


def test_analyst_sees_suppressed_cells_marked(console: tuple[str, dict[str, str]], browser: Page) -> None:
    base, tokens = console
    sign_in(browser, base, ANALYST)
    browser.screenshot(ARTIFACTS / "console-overview-analyst.png")
    load_below_the_fold(browser)
    schooling = stats(base, tokens[ANALYST], ["HEADCOUNT"], ["EDUCATION"])
    hidden = sum(r["suppressed"] for r in schooling["rows"])
    assert schooling["restricted"] and hidden, f"the demo has small groups the analyst may not see: {schooling}"
    assert browser.js("!!document.getElementById('restricted')"), "the page says the figures are restricted"
    note = "document.querySelector('[data-chart=\"education\"]').closest('section').querySelector('.suppressed-cells')"
    assert int(str(browser.js(f"{note}.dataset.suppressed"))) == hidden
    drawn = charts(browser)["education"]
    assert sum(v is None for d in drawn["data"] for v in d) == hidden  # a suppressed cell draws no bar
    assert drawn["data"] == [[r["values"][0] for r in schooling["rows"]]]
    assert all(v is None or v % 5 == 0 for d in drawn["data"] for v in d), "restricted counts come rounded"
    browser.js("document.querySelector('[data-chart=\"education\"]').scrollIntoView()")
    browser.screenshot(ARTIFACTS / "console-overview-analyst-education.png")
    assert browser.js("document.querySelectorAll('main .error').length") == 0, browser.js(f"{MAIN}.innerText")
    assert not browser.js("!!document.querySelector('[data-figure=\"pay\"]')")
    assert browser.js("!!document.querySelector('main .unavailable')"), "the retirement forecast is not the analyst's"


def allow_downloads(page: Page, into: Path) -> None:
    into.mkdir(parents=True, exist_ok=True)
    page.call("Browser.setDownloadBehavior", behavior="allow", downloadPath=str(into))


def downloaded(into: Path, name: str) -> bytes:
    wait(lambda: (into / name).exists() and not list(into.glob("*.crdownload")), f"{name} downloaded", 60)
    return (into / name).read_bytes()


def test_report_saved_run_and_exported_from_the_page(console: tuple[str, dict[str, str]], browser: Page, tmp_path: Path) -> None:
    base, tokens = console
    sign_in(browser, base, ADMIN)
    visit(browser, "#/reports", "reports-admin")
    name = f"console-people-{int(time.time())}"
    document = ("query($first: Int, $after: String, $region: String) { people(first: $first, after: $after, regionCode: $region) "
                "{ pageInfo { hasNextPage endCursor } edges { node { idNumber name institution { name } } } } }")
    variables = {"first": 30, "region": BANNER}
    for control, value in (("#save-name", name), ("#save-description", "控制台测试 / console test"),
                           ("#save-document", document), ("#save-variables", json.dumps(variables))):
        browser.js(f"document.querySelector('{control}').value = {json.dumps(value)}")
    browser.js(f"{MAIN}.removeAttribute('data-ready'); document.getElementById('save-submit').click()")
    ready(browser, "the saved report")
    assert browser.js("window.location.hash") == f"#/reports/{name}"
    saved = post(base, tokens[ADMIN], "{ reports { name document variables } }")["reports"]
    assert {"name": name, "document": document, "variables": variables} in saved

    browser.js("document.getElementById('report-run').click()")
    wait(lambda: browser.js(f"document.getElementById('report-output').dataset.report === {json.dumps(name)}"), "the report's answer")
    browser.screenshot(ARTIFACTS / "console-report-run.png")
    answer = post(base, tokens[ADMIN], "query($r: String!) { runReport(report: $r) { data errors } }", {"r": name})["runReport"]
    nodes = [e["node"] for e in answer["data"]["people"]["edges"]]
    assert nodes and answer["errors"] in (None, [])
    shown = browser.js("Array.from(document.querySelectorAll('#report-output tbody tr')).map(r => Array.from(r.cells).map(c => c.innerText))")
    assert shown == [[n["idNumber"], n["name"], n["institution"]["name"]] for n in nodes]

    # The export is every page of the report (not only the first 30), as the hub's export gives it.
    everyone = post(base, tokens[ADMIN], "query($r: String) { people(first: 1000, regionCode: $r) { edges { node { idNumber name "
                                         "institution { name } } } } }", {"r": BANNER})["people"]["edges"]
    expected = [[e["node"]["idNumber"], e["node"]["name"], e["node"]["institution"]["name"]] for e in everyone]
    into = tmp_path / "downloads"
    allow_downloads(browser, into)
    browser.js("document.getElementById('report-csv').click()")
    rows = list(csv.reader(io.StringIO(downloaded(into, f"{name}.csv").decode("utf-8-sig"))))
    assert rows[1:] == expected and len(rows[0]) == 3
    browser.js("document.getElementById('report-xlsx').click()")
    sheet = load_workbook(io.BytesIO(downloaded(into, f"{name}.xlsx")), read_only=True).worksheets[0]
    cells = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert cells[0] == tuple(rows[0]) or cells[0] == rows[0]
    assert [list(r) for r in cells[1:]] == expected
    assert browser.js("document.getElementById('report-status').dataset.downloaded") == "xlsx"
    browser.screenshot(ARTIFACTS / "console-report-exported.png")


def test_person_page_across_departments_and_the_other_pages(console: tuple[str, dict[str, str]], browser: Page) -> None:
    base, tokens = console
    sign_in(browser, base, ADMIN)
    person = post(base, tokens[ADMIN], "{ people(first: 1) { edges { node { idNumber name } } } }")["people"]["edges"][0]["node"]
    text = visit(browser, f"#/person/{person['idNumber']}", "person-admin")
    assert person["name"] in text and "slotId" in text and "personNo" in text  # the registry's and HR's records
    for route, shot in (("#/institutions", "institutions"), ("#/people", "people"), ("#/inbox", "inbox"),
                        ("#/submit", "submit"), ("#/reports", "reports")):
        visit(browser, route, shot)
    browser.js("document.getElementById('lang').click()")
    wait(lambda: "Overview" in str(browser.js("document.getElementById('nav').innerText")), "English on request")
    ready(browser, "the page in English")
    browser.screenshot(ARTIFACTS / "console-reports-english.png")
    browser.js("document.getElementById('lang').click()")
    wait(lambda: "概览" in str(browser.js("document.getElementById('nav').innerText")), "back to Chinese")


def test_submit_form_checks_as_one_types(console: tuple[str, dict[str, str]], browser: Page) -> None:
    base, tokens = console
    sign_in(browser, base, OFFICER)
    visit(browser, "#/submit/ONBOARDING")
    assert_keyboard_reachable(browser)
    kinds = post(base, tokens[OFFICER], "{ applicationKinds { kind fields { key } } }")["applicationKinds"]
    assert browser.js("Array.from(document.querySelectorAll('main nav a')).map(a => a.dataset.kind)") == [k["kind"] for k in kinds]
    fields = browser.js("Array.from(document.querySelectorAll('#submit-form [name]')).map(e => e.name)")
    assert fields == [f["key"] for f in next(k for k in kinds if k["kind"] == "ONBOARDING")["fields"]]  # the definition's
    assert "公务员" in str(browser.js("document.querySelector('#f-category option[value=CIVIL_SERVANT]').innerText"))

    good = make_id_number(BANNER, dt.date(1990, 5, 17), 12, True)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    type_in(browser, "#f-idNumber", bad)
    assert "校验位" in str(browser.js("document.getElementById('f-idNumber-check').innerText"))
    assert browser.js("document.getElementById('f-idNumber').getAttribute('aria-invalid')") == "true"
    type_in(browser, "#f-idNumber", good)
    assert browser.js("document.getElementById('f-idNumber').getAttribute('aria-invalid')") == "false"
    found = post(base, tokens[OFFICER], "{ institutions(first: 1, regionCode: \"152921\", quotaType: SY) { edges { node { code "
                                      "quotas { quotaType vacant } } } } }")["institutions"]["edges"][0]["node"]
    code = found["code"]
    type_in(browser, "#f-institutionCode", code)
    type_in(browser, "#f-quotaType", "SY", "change")
    wait(lambda: browser.js("!!document.querySelector('#blockers [data-allowed]')"), "the hub's precheck is shown")
    vacant = next(q["vacant"] for q in found["quotas"] if q["quotaType"] == "SY")
    assert str(browser.js("document.getElementById('vacant').innerText")).endswith(f" {vacant}")
    expected = post(base, tokens[OFFICER], "query($c: String!, $i: String) { precheck(action: HIRE, institutionCode: $c, "
                                         "idNumber: $i, quotaType: SY) { allowed blockers { code } } }", {"c": code, "i": good})
    assert browser.js("document.querySelector('#blockers [data-allowed]').dataset.allowed") == str(expected["precheck"]["allowed"]).lower()
    shown = str(browser.js("document.getElementById('blockers').innerText"))
    assert all(b["code"] in shown for b in expected["precheck"]["blockers"])
    browser.screenshot(ARTIFACTS / "console-submit-precheck.png")
    visit(browser, "#/submit/VACANCY_PLAN")
    type_in(browser, "#f-places", "0")
    assert "1–500" in str(browser.js("document.getElementById('f-places-check').innerText"))
    type_in(browser, "#f-places", "3")
    assert browser.js("document.getElementById('f-places').getAttribute('aria-invalid')") == "false"


def officer(department: str) -> str:
    return f"demo-{department}-{BANNER}"


APPLICATION = "query($id: ID!) { application(id: $id) { state currentSteps input history { step decision department comment } } }"


def fill_onboarding(page: Page, code: str, quota_type: str, id_number: str, name: str) -> None:
    for field, value in (("institutionCode", code), ("idNumber", id_number), ("name", name), ("enteredOn", "2026-12-01"),
                         ("payFrom", "2026-12"), ("postGrade", "9")):
        type_in(page, f"#f-{field}", value)
    for field, value in (("quotaType", quota_type), ("category", "PI_TECHNICAL"), ("postCategory", "TECHNICAL"),
                         ("payCategory", "PUBLIC_INSTITUTION")):
        type_in(page, f"#f-{field}", value, "change")


def click_and_wait(page: Page, selector: str, what: str) -> None:
    """Click a control that re-renders the page, and wait for the page."""
    page.js(f"{MAIN}.removeAttribute('data-ready'); document.querySelector({json.dumps(selector)}).click()")
    ready(page, what)


def hiring_places(base: str, token: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """(institution, quota type) of the banner where the precheck lets a newcomer in, and one where it blocks."""
    found = post(base, token, "{ institutions(first: 500, regionCode: \"152921\") { edges { node { code "
                              "quotas { quotaType approved vacant } } } } }")["institutions"]["edges"]
    newcomer = make_id_number(BANNER, dt.date(1996, 4, 9), 871, True)
    open_place = blocked = None
    for node in (e["node"] for e in found):
        for quota in node["quotas"]:
            check = post(base, token, "query($c: String!, $i: String, $t: QuotaType) { precheck(action: HIRE, institutionCode: $c, "
                                      "idNumber: $i, quotaType: $t) { allowed blockers { code } } }",
                         {"c": node["code"], "i": newcomer, "t": quota["quotaType"]})["precheck"]
            codes = {b["code"] for b in check["blockers"]}
            if check["allowed"] and quota["vacant"] >= 2 and open_place is None:
                open_place = (node["code"], quota["quotaType"])
            elif codes & {"QUOTA_EXCEEDED", "NO_VACANCY_PLAN"} and blocked is None:
                blocked = (node["code"], quota["quotaType"])
        if open_place and blocked:
            return open_place, blocked
    raise AssertionError("the demo banner has no institution with two vacant places and an approved plan with places left")


def test_onboarding_through_every_departments_inbox(console: tuple[str, dict[str, str]], browser: Page) -> None:
    """Submitted in the form by the banner's establishment office, returned once by HR and resubmitted, then approved
    in each department's inbox in turn: COMPLETED on the page and in the API. A blocked one shows its blocker first;
    one withdrawn on its page is withdrawn in the API."""
    base, tokens = console
    (code, quota_type), (blocked_code, blocked_type) = hiring_places(base, tokens[OFFICER])
    sign_in(browser, base, OFFICER)

    # Blocked before submitting: the blocker is shown and the button stays disabled.
    visit(browser, "#/submit/ONBOARDING")
    fill_onboarding(browser, blocked_code, blocked_type, make_id_number(BANNER, dt.date(1994, 2, 3), 873, False), "王试")
    wait(lambda: browser.js("!!document.querySelector('#blockers [data-allowed]')"), "the precheck of the blocked place")
    shown = browser.js("Array.from(document.querySelectorAll('#blockers [data-code]')).map(e => e.dataset.code)")
    assert set(shown) & {"QUOTA_EXCEEDED", "NO_VACANCY_PLAN"}, shown  # type: ignore[arg-type]
    assert browser.js("document.getElementById('f-submit').disabled")
    browser.screenshot(ARTIFACTS / "console-submit-blocked.png")

    # Withdrawn on its page.
    spare = post(base, tokens[OFFICER], "mutation($i: JSON!) { submitApplication(kind: \"ONBOARDING\", input: $i) { id } }",
                 {"i": {"institutionCode": code, "idNumber": make_id_number(BANNER, dt.date(1993, 6, 1), 875, True), "name": "赵试",
                        "quotaType": quota_type, "enteredOn": "2026-12-01", "payFrom": "2026-12", "category": "PI_TECHNICAL",
                        "postCategory": "TECHNICAL", "postGrade": 9, "payCategory": "PUBLIC_INSTITUTION"}})["submitApplication"]["id"]
    visit(browser, f"#/inbox/{spare}")
    type_in(browser, "#withdraw-comment", "重复提交")
    click_and_wait(browser, "#withdraw-button", "withdrawn")
    assert browser.js("document.getElementById('state').dataset.state") == "WITHDRAWN"
    assert post(base, tokens[OFFICER], APPLICATION, {"id": spare})["application"]["state"] == "WITHDRAWN"

    # Submitted in the form.
    visit(browser, "#/submit/ONBOARDING")
    newcomer = make_id_number(BANNER, dt.date(1996, 4, 9), 871, True)
    fill_onboarding(browser, code, quota_type, newcomer, "李试")
    wait(lambda: browser.js("document.querySelector('#blockers [data-allowed=\"true\"]') && !document.getElementById('f-submit').disabled"),
         "the precheck passes and the form may be sent")
    assert str(browser.js("document.getElementById('vacant').innerText")).split()[-1] != "0"
    browser.screenshot(ARTIFACTS / "console-submit-onboarding.png")
    browser.js(f"{MAIN}.removeAttribute('data-ready'); document.getElementById('f-submit').click()")
    wait(lambda: str(browser.js("window.location.hash")).startswith("#/inbox/"), "the new application's page")
    ready(browser, "the new application")
    app = str(browser.js("window.location.hash")).split("/")[-1]
    assert browser.js("document.getElementById('state').dataset.state") == "SUBMITTED"

    def decide(department: str, decision: str, comment: str) -> None:
        if officer(department) != browser.js("document.querySelector('#who .subject').innerText"):
            sign_in(browser, base, officer(department))
        visit(browser, "#/inbox", f"inbox-{department}")
        assert browser.js(f"!!document.querySelector('#tasks a[href=\"#/inbox/{app}\"]')"), f"{department} has the task"
        visit(browser, f"#/inbox/{app}", f"application-{department}", whole=True)
        assert_keyboard_reachable(browser)
        type_in(browser, "#comment", comment)
        click_and_wait(browser, f"#decide button[data-decision={decision}]", f"{department} decided")

    decide("establishment", "APPROVE", "用编同意")
    decide("hr", "RETURN", "请核对姓名")
    assert post(base, tokens[OFFICER], APPLICATION, {"id": app})["application"]["state"] == "RETURNED"

    # Back at the establishment office: in its returned list; resubmitted with the name corrected.
    sign_in(browser, base, OFFICER)
    visit(browser, "#/inbox", "inbox-returned")
    assert browser.js(f"!!document.querySelector('#returned a[href=\"#/inbox/{app}\"]')")
    visit(browser, f"#/inbox/{app}", "application-returned", whole=True)
    assert "请核对姓名" in str(browser.js("document.getElementById('history').innerText"))
    assert browser.js("document.getElementById('f-name').value") == "李试"  # the form holds the input as it was
    type_in(browser, "#f-name", "李试改")
    wait(lambda: browser.js("!document.getElementById('f-submit').disabled"), "the resubmit form may be sent")
    click_and_wait(browser, "#f-submit", "resubmitted")
    assert browser.js("document.getElementById('state').dataset.state") in ("SUBMITTED", "IN_REVIEW")

    for _ in range(3):  # each department approves what waits for it, stage by stage
        for department in ("establishment", "hr", "organization", "finance"):
            steps = post(base, tokens[OFFICER], APPLICATION, {"id": app})["application"]["currentSteps"]
            waiting = post(base, tokens[officer(department)], "{ myTasks { edges { node { id } } } }")["myTasks"]["edges"]
            if steps and app in {e["node"]["id"] for e in waiting}:
                decide(department, "APPROVE", f"{department} 同意")
    assert browser.js("document.getElementById('state').dataset.state") == "COMPLETED"
    assert "已办结" in str(browser.js("document.getElementById('state').innerText"))
    browser.screenshot(ARTIFACTS / "console-application-completed.png", whole=True)
    browser.js("document.getElementById('lang').click()")
    wait(lambda: browser.js("document.getElementById('state')?.innerText") == "completed", "the application in English")
    assert "Each department's decision" in str(browser.js(f"{MAIN}.innerText"))
    browser.screenshot(ARTIFACTS / "console-application-completed-english.png")
    browser.js("document.getElementById('lang').click()")
    wait(lambda: browser.js("document.getElementById('state')?.innerText") == "已办结", "back to Chinese")
    done = post(base, tokens[ADMIN], APPLICATION, {"id": app})["application"]
    assert done["state"] == "COMPLETED" and done["input"]["name"] == "李试改"
    approved_by = {e["department"] for e in done["history"] if e["decision"] == "APPROVE"}
    assert approved_by == {"establishment", "hr", "organization", "finance"}
    decisions = str(browser.js("document.getElementById('steps').innerText"))
    assert decisions.count("同意") >= 4 and all(d in decisions for d in ("编办", "人社局", "组织部", "财政局"))  # every department's
    events = post(base, tokens["demo-establishment-152900"], "{ changeEvents(department: ESTABLISHMENT, first: 500) "
                                                             "{ applicationId entity op } }")["changeEvents"]
    assert {(e["entity"], e["op"]) for e in events if e["applicationId"] == app} >= {("registry_slot", "INSERT")}  # the slot, for the registry


def test_id_number_checks_in_the_browser_are_the_hubs(console: tuple[str, dict[str, str]], browser: Page) -> None:
    base, _ = console
    sign_in(browser, base, ADMIN)
    samples = []
    for i in range(60):
        valid = make_id_number(("152921", "152922", "110101")[i % 3], dt.date(1950, 1, 1) + dt.timedelta(days=i * 397), i * 7, i % 2 == 0)
        samples += [valid, valid[:17] + "0123456789X"[i % 11], valid.lower(), valid[:6] + valid[8:17]]
    samples += ["１５２９２１８５０３１５００２", " 15292119850315002x ", "152921198502300012", "15292119850315002", "",
                "ABCDEFGHIJKLMNOPQR", "152921000001010010", "152921200002290017", "152921190002290014"]
    python = [[normalize_id_number(s), (id_number_problem(n) if (n := normalize_id_number(s)) else None)] for s in samples]
    browser_side = browser.js(f"{json.dumps(samples)}.map(s => {{ const n = HubIds.normalize(s); return [n, n ? HubIds.problem(n) : null]; }})")
    assert browser_side == python


def test_overview_of_ten_thousand_persons_renders_within_two_seconds(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The 10,000-person demo (as `hub demo` makes it: 24 months of snapshots), its cross-check run; the overview as the administrator."""
    demo = tmp_path_factory.mktemp("demo10k")
    generate_into(sqlite_targets(demo), persons=10_000, seed=1, out=demo)
    with serve_hub(demo, demo, HUB_CONSOLE_DEMO_USERS="true") as base:
        take_snapshots(demo, demo)
        tokens = demo_tokens(base)
        post(base, tokens[ADMIN], "mutation { runCheck(wait: true) { status } }")
        with open_page(chromium(), tmp_path_factory.mktemp("chromium10k"), SIZE) as page:
            sign_in(page, base, ADMIN)  # warms the hub's caches as a first visit would
            timings = []
            for _ in range(3):
                page.js("window.stale = true")
                page.call("Page.reload")
                wait(lambda: page.js("!window.stale && !!document.getElementById('main')?.getAttribute('data-ready')"),
                     "the overview", 60)
                timings.append((int(str(page.js(f"{MAIN}.dataset.readyMs"))), int(str(page.js(f"{MAIN}.dataset.renderedMs")))))
                started = time.monotonic()
                load_below_the_fold(page)
                timings[-1] += (int((time.monotonic() - started) * 1000),)
            assert len(charts(page)) == 7 and not page.exceptions
            assert "¥" in str(page.js("document.querySelector('[data-figure=\"pay\"]').innerText")), "pay this month is part of the render"
            page.screenshot(ARTIFACTS / "console-overview-10k.png")
    loads = ", ".join(f"{load} ms (of which figures and charts {own} ms; the cards below the fold {below} ms more)"
                      for load, own, below in timings)
    print(f"\noverview of 10,000 persons, page load to the first screen drawn (pay this month included): {loads}")
    assert min(load for load, _, _ in timings) < 2000
