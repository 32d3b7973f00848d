"""The hub behind a real Apollo Federation gateway, beside a second subgraph.

tests/e2e/federation/package.json pins @apollo/composition, @apollo/gateway 2.14, @apollo/server and
@apollo/subgraph. enrolment.cjs is a small subgraph extending the hub's `Institution` (by `code`)
and `Person` (by `idNumber`) with values derived from the key; gateway.cjs composes the hub's
`_service { sdl }` (fetched with an admin's token) with it and serves the supergraph, sending each
caller's own token to both subgraphs. A query through the gateway must answer what the two
subgraphs answer when asked directly with the same token: the hub's masks, row scope, denials
and 401 hold through the gateway.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hub.auth import create_token
from hub.core.settings import Settings
from tests.conftest import TEST_SECRET
from tests.node import node_peer

HERE = Path(__file__).parent
SETTINGS = Settings(jwt_secret=TEST_SECRET)
LEAGUE, BANNER = "152900", "152921"

Json = dict[str, Any]


def post(url: str, query: str, variables: Json | None = None, authorization: str | None = None) -> tuple[int, Json]:
    """POST a GraphQL request; the HTTP status and the JSON body (errors included)."""
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    request = urllib.request.Request(url, json.dumps({"query": query, "variables": variables or {}}).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error)


@contextmanager
def peer(command: list[str], stderr: Path, env: dict[str, str] | None = None) -> Iterator[Json]:
    """Run a Node peer; yields the JSON of its first stdout line (its URL), and stops it after."""
    with stderr.open("w") as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True, cwd=HERE,
                                   env={**os.environ, **(env or {})})
    assert process.stdout is not None
    try:
        ready, _, _ = select.select([process.stdout], [], [], 60)
        line = process.stdout.readline() if ready else ""
        if not line:
            pytest.fail(f"{Path(command[1]).name} did not start:\n{stderr.read_text(encoding='utf-8')}")
        yield json.loads(line)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


@dataclass
class Federation:
    hub: str
    enrolment: str
    gateway: str
    hints: list[Json]
    log: Path

    def seen_since(self, offset: int) -> list[Json]:
        """The enrolment subgraph's requests logged after `offset` bytes of its log."""
        with self.log.open("rb") as log:
            log.seek(offset)
            return [json.loads(line) for line in log.read().splitlines()]


@pytest.fixture(scope="module")
def node() -> str:
    return node_peer(HERE)


@pytest.fixture(scope="module")
def federation(node: str, served: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """The enrolment subgraph and the gateway in front of it and the hub (Node and the packages first)."""
    folder = tmp_path_factory.mktemp("federation")
    log = folder / "enrolment.jsonl"
    log.touch()
    admin = create_token(SETTINGS, None, ["admin"], LEAGUE, "1h")
    with ExitStack() as stack:
        enrolment = stack.enter_context(peer([node, "enrolment.cjs", str(log)], folder / "enrolment.err"))
        gateway = stack.enter_context(peer([node, "gateway.cjs", f"hub={served}", f"enrolment={enrolment['url']}"],
                                           folder / "gateway.err", {"SDL_AUTHORIZATION": f"Bearer {admin}"}))
        yield Federation(served, enrolment["url"], gateway["url"], gateway["hints"], log)


@dataclass(frozen=True)
class Principal:
    role: str
    department: str | None = None
    region: str = LEAGUE

    def authorization(self, subject: str | None = None) -> str:
        return f"Bearer {create_token(SETTINGS, self.department, [self.role], self.region, '1h', subject)}"


ADMIN = Principal("admin")
ANALYST = Principal("analyst")  # sees ID numbers and names masked
FINANCE = Principal("officer", "finance")  # may not read Person.sex
BANNER_HR = Principal("officer", "hr", BANNER)  # reads the rows of one banner only

SPANNING = """query Spanning {
  institutions(first: 4) { totalCount edges { node { code name enrolment } } }
  people(first: 4) { totalCount edges { node { idNumber name enrolledCourses } } }
}"""
ENROLMENT_FIELDS = re.compile(r"\s(enrolment|enrolledCourses)\b")
ENROLMENT_ENTITIES = """query($r: [_Any!]!) {
  _entities(representations: $r) { ... on Institution { enrolment } ... on Person { enrolledCourses } }
}"""


def enrolment_of(federation: Federation, authorization: str, representations: list[Json]) -> list[Json]:
    """The enrolment subgraph's own answer for the given entities."""
    status, body = post(federation.enrolment, ENROLMENT_ENTITIES, {"r": representations}, authorization)
    assert status == 200 and "errors" not in body, body
    return body["data"]["_entities"]  # type: ignore[no-any-return]


def institution(code: str) -> Json:
    return {"__typename": "Institution", "code": code}


def person(id_number: str) -> Json:
    return {"__typename": "Person", "idNumber": id_number}


def errors(body: Json) -> list[tuple[str, str]]:
    return [(e["message"], e["extensions"]["code"]) for e in body["errors"]]


def test_the_supergraph_composes_without_hints(federation: Federation) -> None:
    assert federation.hints == []


@pytest.mark.parametrize("principal", [ADMIN, ANALYST, FINANCE, BANNER_HR],
                         ids=lambda p: f"{p.department or p.role}-{p.region}")
def test_a_query_spanning_both_is_what_each_subgraph_answers(federation: Federation, principal: Principal) -> None:
    subject = f"gateway-{principal.department or principal.role}-{principal.region}"
    authorization = principal.authorization(subject)
    offset = federation.log.stat().st_size
    status, through = post(federation.gateway, SPANNING, authorization=authorization)
    seen = federation.seen_since(offset)

    assert status == 200 and "errors" not in through, through
    status, direct = post(federation.hub, ENROLMENT_FIELDS.sub("", SPANNING), authorization=authorization)
    assert status == 200 and "errors" not in direct, direct
    institutions = [e["node"] for e in direct["data"]["institutions"]["edges"]]
    people = [e["node"] for e in direct["data"]["people"]["edges"]]
    assert institutions and people
    extra = enrolment_of(federation, authorization,
                         [institution(i["code"]) for i in institutions] + [person(p["idNumber"]) for p in people])
    for node, more in zip(institutions + people, extra, strict=True):
        node.update(more)
    assert through == direct

    # the caller's token reached both subgraphs: the enrolment subgraph logged it, the hub audited its subject
    assert seen and {s["authorization"] for s in seen} == {authorization}
    _, audit = post(federation.hub, "query($a: String!) { auditEntries(actor: $a) { edges { node { operation } } } }",
                    {"a": subject}, ADMIN.authorization())
    assert "Spanning__hub__0" in [e["node"]["operation"] for e in audit["data"]["auditEntries"]["edges"]]

    # masks and row scope are the hub's: the other subgraph gets a masked key, never the whole ID number
    keys = [r["idNumber"] for s in seen for r in (s["variables"] or {}).get("representations", []) if "idNumber" in r]
    assert keys == [p["idNumber"] for p in people]
    assert all("*" in key for key in keys) is (principal == ANALYST)
    _, league = post(federation.hub, "{ institutions { totalCount } }", authorization=ADMIN.authorization())
    fewer = through["data"]["institutions"]["totalCount"] < league["data"]["institutions"]["totalCount"]
    assert fewer is (principal == BANNER_HR)


def test_the_hubs_entities_through_the_gateway(federation: Federation) -> None:
    """The enrolment subgraph's root fields return hub entities: the gateway asks the hub's `_entities` for their fields."""
    authorization = ADMIN.authorization()
    _, page = post(federation.hub, "{ people(first: 3) { edges { node { idNumber } } } }", authorization=authorization)
    ids = [e["node"]["idNumber"] for e in page["data"]["people"]["edges"]]
    status, through = post(federation.gateway, """query Learners($ids: [String!]!) {
      learners(idNumbers: $ids) { idNumber enrolledCourses name institution { code name enrolment } }
    }""", {"ids": ids}, authorization)
    assert status == 200 and "errors" not in through, through
    expected = []
    for key in ids:
        _, found = post(federation.hub, "query($k: String!) { person(idNumber: $k) { idNumber name institution { code name } } }",
                        {"k": key}, authorization)
        learner = found["data"]["person"]
        courses, enrolment = enrolment_of(federation, authorization, [person(key), institution(learner["institution"]["code"])])
        expected.append({**learner, **courses, "institution": {**learner["institution"], **enrolment}})
    assert through["data"]["learners"] == expected

    by_code = {p["institution"]["code"]: p["institution"] for p in expected}
    _, ranked = post(federation.gateway, "query Ranking($c: [String!]!) { enrolmentRanking(codes: $c) { code enrolment name } }",
                     {"c": sorted(by_code)}, authorization)
    assert ranked["data"]["enrolmentRanking"] == sorted(by_code.values(), key=lambda i: -i["enrolment"])


def test_a_field_the_caller_may_not_read_is_the_hubs_denial(federation: Federation) -> None:
    query = "query Sexes { people(first: 2) { edges { node { idNumber sex %s } } } }"
    _, through = post(federation.gateway, query % "enrolledCourses", authorization=FINANCE.authorization())
    _, direct = post(federation.hub, query % "", authorization=FINANCE.authorization())
    assert direct["data"] is None and [c for _, c in errors(direct)] == ["FORBIDDEN"]
    assert errors(through) == errors(direct)
    assert through["data"] == {"people": None}


def test_an_entity_outside_the_callers_banner_is_refused_by_the_hub(federation: Federation) -> None:
    _, other = post(federation.hub, '{ institutions(first: 1, regionCode: "152922") { edges { node { code } } } }',
                    authorization=ADMIN.authorization())
    code = other["data"]["institutions"]["edges"][0]["node"]["code"]
    _, through = post(federation.gateway, "query($c: [String!]!) { enrolmentRanking(codes: $c) { code name } }",
                      {"c": [code]}, BANNER_HR.authorization())
    _, direct = post(federation.hub, "query($r: [_Any!]!) { _entities(representations: $r) { ... on Institution { name } } }",
                     {"r": [institution(code)]}, BANNER_HR.authorization())
    assert [c for _, c in errors(direct)] == ["FORBIDDEN"]
    assert errors(through) == errors(direct)
    assert through["data"] == {"enrolmentRanking": [{"code": code, "name": None}]}  # nothing from the hub


@pytest.mark.parametrize("authorization", [
    "Bearer not-a-token",
    f"Bearer {create_token(Settings(jwt_secret='another-secret-of-sufficient-length-for-hs256'), None, ['admin'])}",
    None,
], ids=["malformed", "another-secret", "none"])
def test_a_caller_the_hub_does_not_know_gets_its_unauthenticated(federation: Federation, authorization: str | None) -> None:
    status, direct = post(federation.hub, "{ institutions { totalCount } }", authorization=authorization)
    assert status == 401 and [c for _, c in errors(direct)] == ["UNAUTHENTICATED"]
    _, through = post(federation.gateway, "{ institutions { totalCount edges { node { enrolment } } } }",
                      authorization=authorization)
    assert errors(through) == errors(direct)
    assert through["data"] == {"institutions": None}


def test_a_composition_error_stops_the_gateway(federation: Federation, node: str) -> None:
    """The hub composed with itself defines every field twice without `@shareable`: the gateway refuses to start."""
    run = subprocess.run([node, "gateway.cjs", f"hub={federation.hub}", f"copy={federation.hub}"], cwd=HERE, timeout=60,
                         capture_output=True, text=True, env={**os.environ, "SDL_AUTHORIZATION": ADMIN.authorization()})
    assert run.returncode == 1 and run.stdout == ""
    assert "composition error: INVALID_FIELD_SHARING: " in run.stderr
