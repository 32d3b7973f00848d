"""Credentials, API keys, the audit trail, policy tooling and policies changed at run time."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from typer.testing import CliRunner

from hub.cli import app as cli
from policies.check import check_policy
from policies.grants import new_enforcer
from schema import build_schema, schema_fields
from schema.masking import MASKABLE
from tests.conftest import TEST_AUDIT_KEY, TEST_SECRET, Hub, hub_settings, running_hub

PEOPLE = "{ people(first: 5) { edges { node { idNumber name } } } }"
runner = CliRunner()


def cli_env(hub: Hub) -> dict[str, str]:
    return {"HUB_STORE_URL": hub.settings.store_url, "HUB_JWT_SECRET": TEST_SECRET, "HUB_AUDIT_KEY": TEST_AUDIT_KEY}


def post(hub: Hub, query: str, headers: dict[str, str]) -> Any:
    return hub.client.post("/graphql", json={"query": query}, headers=headers)


@pytest.fixture(scope="module")
def fresh_hub(tmp_path_factory: pytest.TempPathFactory, demo_dir: Path) -> Any:
    """A hub with its own store (so audit counts start at zero), keys checked without caching."""
    store = tmp_path_factory.mktemp("store") / "hub.db"
    settings = hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{store}", apikey_cache_seconds=0)
    with running_hub(settings) as hub:
        yield hub


def test_api_key_works_until_revoked(fresh_hub: Hub) -> None:
    made = runner.invoke(cli, ["apikey", "create", "--name", "payroll-sync", "--department", "finance", "--role", "officer"], env=cli_env(fresh_hub))
    assert made.exit_code == 0, made.output
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("shk_")
    ok = post(fresh_hub, PEOPLE, {"X-API-Key": key})
    assert ok.status_code == 200 and "errors" not in ok.json()
    listed = json.loads(runner.invoke(cli, ["apikey", "list"], env=cli_env(fresh_hub)).stdout)
    assert [k["name"] for k in listed] == ["payroll-sync"] and "key_hash" not in listed[0]
    assert runner.invoke(cli, ["apikey", "revoke", listed[0]["key_id"]], env=cli_env(fresh_hub)).exit_code == 0
    assert post(fresh_hub, PEOPLE, {"X-API-Key": key}).status_code == 401
    assert post(fresh_hub, PEOPLE, {"X-API-Key": key[:-2] + "xx"}).status_code == 401
    again = runner.invoke(cli, ["apikey", "revoke", listed[0]["key_id"]], env=cli_env(fresh_hub))
    assert again.exit_code == 1


def _verify(hub: Hub, at_least: int) -> tuple[int, str]:
    """`hub audit verify`, waiting (briefly) until the writer task appended `at_least` entries."""
    deadline = time.monotonic() + 10
    while True:
        result = runner.invoke(cli, ["audit", "verify"], env=cli_env(hub))
        count = int(result.stdout.split()[1]) if result.stdout.startswith("ok:") else -1
        if result.exit_code != 0 or count >= at_least or time.monotonic() > deadline:
            return result.exit_code, result.stdout
        time.sleep(0.1)


def test_personal_reads_are_audited_and_tampering_is_caught(fresh_hub: Hub) -> None:
    fresh_hub.query("query Roster " + PEOPLE, role="officer", department="hr")
    fresh_hub.query("{ regions { code } institutions(first: 2) { totalCount } }")  # nothing personal
    fresh_hub.query("{ people(first: 2) { edges { node { cadre { cadreId } } } } }", role="officer", department="finance")
    code, out = _verify(fresh_hub, 2)
    assert code == 0 and out.startswith("ok:")
    db = fresh_hub.settings.store_url.split("///", 1)[1]
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT id, actor, operation, fields, rows, outcome FROM audit_log ORDER BY id").fetchall()
    roster = next(r for r in rows if r[2] == "Roster")
    assert json.loads(roster[3]) == ["Person.idNumber", "Person.name"] and roster[4] == 5 and roster[5] == "ok"
    assert any(r[5] == "denied" and "Person.cadre" in json.loads(r[3]) for r in rows)
    assert not any(r[1].startswith("admin") for r in rows)  # the institutions query read nothing personal
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE audit_log SET rows = 500 WHERE id = ?", (roster[0],))
    code, out = _verify(fresh_hub, 0)
    assert code == 1 and f"broken at entry {roster[0]}" in out


def test_tokens_expired_wrong_audience_or_key_are_refused(hub: Hub) -> None:
    now = dt.datetime.now(dt.UTC)
    claims = {"sub": "x", "dept": "finance", "roles": ["officer"], "region": "152900", "iss": "staffing-hub",
              "aud": "staffing-hub", "exp": now + dt.timedelta(hours=1)}
    good = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    assert post(hub, PEOPLE, {"Authorization": f"Bearer {good}"}).status_code == 200
    for bad in (
        jwt.encode({**claims, "exp": now - dt.timedelta(minutes=1)}, TEST_SECRET, algorithm="HS256"),
        jwt.encode({**claims, "aud": "someone-else"}, TEST_SECRET, algorithm="HS256"),
        jwt.encode(claims, "another-secret-of-sufficient-length-xx", algorithm="HS256"),
        jwt.encode({**claims, "region": "999999"}, TEST_SECRET, algorithm="HS256"),
    ):
        response = post(hub, PEOPLE, {"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401, bad
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_remembered_token_still_expires(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    exp = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    claims = {"sub": "y", "roles": ["admin"], "region": "152900", "iss": "staffing-hub", "aud": "staffing-hub", "exp": exp}
    token = {"Authorization": f"Bearer {jwt.encode(claims, TEST_SECRET, algorithm='HS256')}"}
    assert post(hub, PEOPLE, token).status_code == 200
    assert post(hub, PEOPLE, token).status_code == 200  # verified once, remembered
    later = exp.timestamp() + 1
    monkeypatch.setattr("hub.auth.time.time", lambda: later)
    response = post(hub, PEOPLE, token)
    assert response.status_code == 401
    assert "过期 / token expired" in response.json()["errors"][0]["message"]


def test_rs256_tokens_from_a_jwks_file(tmp_path: Path, demo_dir: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]}))
    settings = hub_settings(demo_dir, jwt_jwks_file=tmp_path / "jwks.json", store_url=f"sqlite+aiosqlite:///{tmp_path}/s.db")
    claims = {"sub": "ext", "roles": ["admin"], "region": "152900", "iss": "staffing-hub", "aud": "staffing-hub",
              "exp": dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)}
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    with running_hub(settings) as hub:
        assert post(hub, "{ regions { code } }", {"Authorization": f"Bearer {token}"}).status_code == 200
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(claims, other, algorithm="RS256", headers={"kid": "k1"})
        assert post(hub, "{ regions { code } }", {"Authorization": f"Bearer {forged}"}).status_code == 401


def test_token_cli_prints_only_a_token() -> None:
    out = runner.invoke(cli, ["token", "create", "--department", "finance", "--role", "officer", "--region", "152921", "--ttl", "30m"],
                        env={"HUB_JWT_SECRET": TEST_SECRET})
    assert out.exit_code == 0
    token = out.stdout.strip()
    claims = jwt.decode(token, TEST_SECRET, algorithms=["HS256"], audience="staffing-hub")
    assert (claims["dept"], claims["roles"], claims["region"]) == ("finance", ["officer"], "152921")
    refused = runner.invoke(cli, ["token", "create", "--department", "nowhere", "--role", "officer"], env={"HUB_JWT_SECRET": TEST_SECRET})
    assert refused.exit_code == 2 and "unknown department" in refused.output


def test_policy_check_finds_unknown_objects_unused_roles_and_shadowed_rules(tmp_path: Path) -> None:
    fields = schema_fields(build_schema())
    assert check_policy(new_enforcer(), fields, MASKABLE) == []
    bad = tmp_path / "policy.csv"
    bad.write_text(
        "p, admin, *, read\n"
        "p, admin, Person.name, read\n"  # shadowed by the line above
        "p, finance.officer, Person.nickname, read\n"  # no such field
        "p, finance.officer, PayrollEntry.gross, mask\n"  # cannot be masked
        "p, ghost_role, Person.name, read\n",  # nobody has this role
        encoding="utf-8",
    )
    problems = "\n".join(check_policy(new_enforcer(bad), fields, MASKABLE))
    assert "shadowed" in problems and "Person.name" in problems
    assert "Person.nickname" in problems
    assert "cannot be masked" in problems
    assert "ghost_role" in problems


def test_policy_explain_names_the_deciding_rule() -> None:
    out = runner.invoke(cli, ["policy", "explain", "--role", "auditor", "Person.idNumber"])
    assert out.exit_code == 0 and "mask" in out.stdout and "auditor, Person.idNumber, mask" in out.stdout


ANALYST_SEX = "{ people(first: 3) { edges { node { sex } } } }"


def test_policy_changed_at_run_time_reaches_every_replica(tmp_path: Path, demo_dir: Path) -> None:
    store = f"sqlite+aiosqlite:///{tmp_path}/shared.db"
    settings = hub_settings(demo_dir, store_url=store, policy_source="store", policy_poll_seconds=0.2)
    with running_hub(settings) as replica_a, running_hub(settings) as replica_b:
        before = replica_b.query(ANALYST_SEX, role="analyst")
        assert before["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        added = replica_a.query('mutation { addPolicyRule(subject: "analyst", object: "Person.sex", action: "read") }')
        assert added == {"data": {"addPolicyRule": True}}
        denied = replica_a.query('mutation { addPolicyRule(subject: "x", object: "y", action: "read") }', role="analyst")
        assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        deadline = time.monotonic() + 5
        while "errors" in (after := replica_b.query(ANALYST_SEX, role="analyst")) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "errors" not in after
        assert {e["node"]["sex"] for e in after["data"]["people"]["edges"]} <= {"MALE", "FEMALE"}
        rules = replica_b.query('{ policyRules(subject: "analyst") { object action } }')["data"]["policyRules"]
        assert {"object": "Person.sex", "action": "read"} in rules
        bad = replica_a.query('mutation { addPolicyRule(subject: "analyst", object: "Person.sex", action: "write") }')
        assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "errors" not in replica_b.query(ANALYST_SEX, role="analyst")  # a repeat: its prepared document, for the new grants
        removed = replica_a.query('mutation { removePolicyRule(subject: "analyst", object: "Person.sex", action: "read") }')
        assert removed == {"data": {"removePolicyRule": True}}
        deadline = time.monotonic() + 5
        while "errors" not in (gone := replica_b.query(ANALYST_SEX, role="analyst")) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert gone["errors"][0]["extensions"]["code"] == "FORBIDDEN"  # the remembered answer is not served
