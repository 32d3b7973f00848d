"""Secrets from files (compose's /run/secrets): a file configured but missing or empty is an error, never a
silent fallback; a hub that can verify no token says so as it starts instead of refusing everyone quietly."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub import cli
from hub.app import NO_TOKEN_KEYS
from hub.auth import create_token
from hub.core.settings import Settings
from tests.conftest import TEST_AUDIT_KEY, TEST_SECRET, running_hub

COMMANDS = {"HUB_JWT_SECRET_FILE": ["token", "create", "--role", "admin"], "HUB_AUDIT_KEY_FILE": ["audit", "verify"]}


@pytest.fixture(autouse=True)
def no_hub_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for variable in ("HUB_JWT_SECRET", "HUB_JWT_SECRET_FILE", "HUB_AUDIT_KEY", "HUB_AUDIT_KEY_FILE", "HUB_DEMO_DIR"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("HUB_DEMO_DIR", str(tmp_path / "no-demo"))  # no development fallback either
    monkeypatch.setenv("HUB_STORE_URL", f"sqlite+aiosqlite:///{tmp_path}/store.db")


@pytest.mark.parametrize("variable", sorted(COMMANDS))
@pytest.mark.parametrize("state", ["missing", "empty"])
def test_a_configured_secret_file_that_is_missing_or_empty_is_refused(variable: str, state: str, tmp_path: Path) -> None:
    path = tmp_path / "secret"
    if state == "empty":
        path.write_text("\n")
    out = CliRunner().invoke(cli.app, COMMANDS[variable], env={variable: str(path)})
    assert out.exit_code == 2 and variable in out.stderr and len(out.stderr.splitlines()) == 1, out.stderr
    assert ("is empty" if state == "empty" else "cannot read") in out.stderr


def test_a_secret_file_is_read_and_trimmed(tmp_path: Path) -> None:
    (tmp_path / "jwt").write_text(TEST_SECRET + "\n")
    (tmp_path / "audit").write_text(f"  {TEST_AUDIT_KEY}\n")
    settings = Settings(jwt_secret_file=tmp_path / "jwt", audit_key_file=tmp_path / "audit")
    assert settings.jwt_shared_secret() == TEST_SECRET and settings.audit_secret() == TEST_AUDIT_KEY.encode()


def test_a_hub_that_can_verify_no_token_warns_as_it_starts(demo_dir: Path, tmp_path: Path,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    store = f"sqlite+aiosqlite:///{tmp_path}/hub.db"
    signed = create_token(Settings(jwt_secret=TEST_SECRET), None, ["admin"])
    for secret, warned, status in ((None, True, 401), (TEST_SECRET, False, 200)):
        caplog.clear()
        settings = Settings(demo_dir=demo_dir, store_url=store, store_auto_upgrade=True, audit_key=TEST_AUDIT_KEY,
                            jwt_secret=secret)
        with caplog.at_level(logging.WARNING), running_hub(settings) as hub:
            answer = hub.client.post("/graphql", json={"query": "{ regions { code } }"},
                                     headers={"Authorization": f"Bearer {signed}"})
        assert answer.status_code == status
        assert (NO_TOKEN_KEYS in [r.getMessage() for r in caplog.records]) is warned
