"""Every `hub` command fails with one bilingual line and a non-zero exit, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from hub.cli import app

LONG_RUNNING = {"serve", "demo"}  # they start a server; their failures are the lifespan's (tests/shell/test_console.py serves)
ARGS = {  # the required arguments of each command; a new command must be added here
    "check": [], "generate": ["--persons", "50"], "sources check": [], "sources list": [],
    "token create": ["--role", "admin"], "policy check": [], "policy explain": ["Person.name", "--role", "admin"],
    "audit verify": [], "apikey create": ["--name", "x", "--role", "admin"], "apikey revoke": ["k1"], "apikey list": [],
    "db upgrade": [], "db current": [], "schema export": ["--out", "/dev/null"],
    "documents add": [str(Path(__file__).parent / "regions.graphql")], "documents list": [], "documents remove": ["0" * 64],
    "report export": ["headcount"], "report list": [], "snapshot": [],
    "adapter new": ["newdept", "--url", "sqlite+aiosqlite:////nonexistent/folder/x.db"], "adapter test": ["--department", "hr"],
}
NO_DATABASE = {"policy check", "policy explain", "schema export"}  # succeed whatever the databases
NO_CONNECTION = {"sources list"}  # reads the URLs, connects to none


def commands(group: Any = None, prefix: tuple[str, ...] = ()) -> Iterator[str]:
    """The path of every leaf command of the `hub` command tree."""
    for name, command in (group or typer.main.get_command(app)).commands.items():
        if hasattr(command, "commands"):
            yield from commands(command, (*prefix, name))
        else:
            yield " ".join((*prefix, name))


def test_every_command_is_enumerated() -> None:
    assert set(commands()) == set(ARGS) | LONG_RUNNING


BROKEN = {
    "unknown dialect": "nosuch://x",
    "unreachable server": "postgresql+asyncpg://u@127.0.0.1:1/x",
}


@pytest.mark.parametrize("broken", BROKEN)
@pytest.mark.parametrize("command", sorted(set(ARGS)))
def test_a_command_fails_on_one_bilingual_line(command: str, broken: str, tmp_path: Path) -> None:
    url = BROKEN[broken]
    env = {"HUB_STORE_URL": url, "HUB_DEMO_DIR": str(tmp_path / "nowhere"), "HUB_JWT_SECRET": "",
           **{f"HUB_SOURCE_{d}_URL": url for d in ("ESTABLISHMENT", "ORGANIZATION", "HR", "FINANCE")}}
    args = ARGS[command] + (["--url-hr", url, "--out", str(tmp_path / "out")] if command == "generate" else [])
    result = CliRunner().invoke(app, [*command.split(), *args], env=env)
    if command in NO_DATABASE or (command in NO_CONNECTION and broken == "unreachable server"):
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("错误 / error: ")]
    if command == "sources check" and broken == "unreachable server":
        assert result.exit_code == 1 and "unavailable" in result.stdout  # its verdict: one problem row an entity
        return
    assert len(errors) == 1 and " / " in errors[0], result.stderr
    if broken == "unknown dialect":
        assert result.stderr.splitlines() == errors  # nothing else was printed
    assert not (tmp_path / "out").exists()
