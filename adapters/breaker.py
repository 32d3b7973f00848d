"""Fail fast while a source is down or stuck: after it fails, reads of it fail at once for a while.

A database that does not answer costs each read the connect or statement timeout. Without this,
every request touching that source would wait that long, so a single dead or locked department
would tie up the hub's connections and requests. After a failure of the source itself (a connect
refused or timed out, a statement that ran past its timeout) the source is "open" for
`retry_seconds`: its reads raise SourceUnavailable at once; the first read after that tries again.
Waiting for a turn at a busy source (its read limit, a pool checkout) is not such a failure: on a
loaded machine that is local contention, and it never opens the breaker.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import TypeVar

from hub.errors import SourceUnavailable

T = TypeVar("T")


class Breaker:
    """One source's failures: `check` before a read, `connect` around making a connection, `trip` on a timeout."""

    def __init__(self, department: str, retry_seconds: float) -> None:
        self.department = department
        self.retry_seconds = retry_seconds
        self._open_until = 0.0
        self._reason = ""

    @property
    def open(self) -> bool:
        """Whether reads fail at once now."""
        return bool(self._open_until) and time.monotonic() < self._open_until

    def check(self) -> None:
        """Raise SourceUnavailable while the last failure was less than `retry_seconds` ago."""
        if self.open:
            raise SourceUnavailable(self.department, self._reason)

    def trip(self, reason: str) -> None:
        """The source itself failed: fail its reads at once for `retry_seconds`."""
        if self.retry_seconds > 0:
            self._open_until = time.monotonic() + self.retry_seconds
            self._reason = reason

    async def connect(self, connecting: Awaitable[T]) -> T:
        """The connection; a failure trips the breaker (and propagates), a success closes it."""
        try:
            connection = await connecting
        except Exception as exc:
            self.trip(type(exc).__name__)
            raise
        self._open_until = 0.0
        return connection
