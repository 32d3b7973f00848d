"""Fail fast while a source is down: after a failed connect, reads of it fail at once for a while.

A database that does not answer costs each read the connect timeout (3 s by default). Without
this, every request touching that source would wait that long while holding one of the hub's few
operation slots (`HUB_MAX_CONCURRENT_OPERATIONS`), so a single dead department would stall the
whole service. After a failed connect the source is "open" for `retry_seconds`: its reads raise
SourceUnavailable at once; the first read after that tries again.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import TypeVar

from hub.errors import SourceUnavailable

T = TypeVar("T")


class Breaker:
    """One source's connect failures: `check` before a read, `connect` around making a connection."""

    def __init__(self, department: str, retry_seconds: float) -> None:
        self.department = department
        self.retry_seconds = retry_seconds
        self._open_until = 0.0
        self._reason = ""

    def check(self) -> None:
        """Raise SourceUnavailable while the last connect failed less than `retry_seconds` ago."""
        if self._open_until and time.monotonic() < self._open_until:
            raise SourceUnavailable(self.department, self._reason)

    async def connect(self, connecting: Awaitable[T]) -> T:
        """The connection; a failure opens the breaker (and propagates)."""
        try:
            connection = await connecting
        except Exception as exc:
            if self.retry_seconds > 0:
                self._open_until = time.monotonic() + self.retry_seconds
                self._reason = type(exc).__name__
            raise
        self._open_until = 0.0
        return connection
