"""One error handler for every `hub` command: a known failure is one bilingual line on stderr.

The root command group (`HubGroup`) catches what a command lets escape. A known failure — a
HubError, a bad or unknown database URL, a database that cannot be reached or does not exist, a
file that cannot be read or written — prints `错误 / error: …` on one line and exits 2 when the
command line asked for something wrong (bad input, a bad URL) or 1 when it could not be done.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from typing import Any

import typer
from sqlalchemy import exc as sa_exc
from typer.core import TyperGroup

from hub.core.errors import BadUserInput, HubError

USAGE, FAILED = 2, 1
MAX_DETAIL = 300


def _one_line(text: object) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= MAX_DETAIL else line[: MAX_DETAIL - 1] + "…"


def describe(exc: BaseException) -> tuple[str, int] | None:
    """The bilingual message and exit code for a known failure; None for anything else."""
    if isinstance(exc, HubError):
        return exc.message, USAGE if isinstance(exc, BadUserInput) else FAILED
    if isinstance(exc, sa_exc.NoSuchModuleError):
        return f"未知的数据库类型 / unknown database dialect or driver: {_one_line(exc)}", USAGE
    if isinstance(exc, sa_exc.ArgumentError):
        return f"数据库地址无效 / invalid database URL: {_one_line(exc)}", USAGE
    if isinstance(exc, sa_exc.DBAPIError):
        return f"无法访问数据库 / cannot use the database: {_one_line(exc.orig)}", FAILED
    if isinstance(exc, OSError):
        return f"无法访问 / cannot reach or open: {_one_line(exc)}", FAILED
    return None


class HubGroup(TyperGroup):
    """The `hub` command group: every subcommand runs inside `invoke`, so inside this handler."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:  # typer's own Exit and usage errors are not known failures: they pass
            known = describe(exc)
            if known is None:
                raise
            message, code = known
            typer.echo(f"错误 / error: {_one_line(message)}", err=True)
            raise typer.Exit(code) from exc
