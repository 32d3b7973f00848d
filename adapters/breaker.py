"""Fail fast while a source is down or stuck: after it fails, reads of it fail at once for a while.

A database that does not answer costs each read the connect or statement timeout. Without this,
every request touching that source would wait that long, so a single dead or locked department
would tie up the hub's connections and requests. After a failure of the source itself (a connect
refused or timed out, a statement that ran past its timeout) the source is "open" for
`retry_seconds`: its reads raise SourceUnavailable at once. After that one read, the trial, tries
the source while the others still fail at once; when it answers the source is closed again (every
read goes through), when it fails the source stays open for another `retry_seconds`. Waiting for
a turn at a busy source (its read limit, a pool checkout) is not a failure of the source: on a
loaded machine that is local contention, and it never opens the breaker.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import TypeVar

from hub.core.errors import SourceUnavailable

T = TypeVar("T")


class Breaker:
    """One source's failures: `admit` before a read, `connect` around a connect, `trip` on a timeout, `close` on an answer."""

    def __init__(self, department: str, retry_seconds: float) -> None:
        self.department = department
        self.retry_seconds = retry_seconds
        self._open_until = 0.0  # 0: closed
        self._trial = False  # a read is trying the source after the retry time
        self._reason = ""

    @property
    def open(self) -> bool:
        """Whether reads other than a trial fail at once now."""
        return bool(self._open_until)

    def admit(self, trial: bool = False) -> bool:
        """Let a read through, or raise SourceUnavailable; True when this read is the trial.

        `trial`: the read is already the trial (it asks again after waiting for its turn).
        """
        if not self._open_until or trial:
            return trial
        if time.monotonic() < self._open_until or self._trial:
            raise SourceUnavailable(self.department, self._reason)
        self._trial = True
        return True

    def end_trial(self) -> None:
        """The trial ended without telling whether the source answers (another error, cancelled): the next read tries."""
        self._trial = False

    def trip(self, reason: str) -> None:
        """The source itself failed: fail its reads at once for `retry_seconds`."""
        self._trial = False
        if self.retry_seconds > 0:
            self._open_until = time.monotonic() + self.retry_seconds
            self._reason = reason

    def close(self) -> None:
        """The source answered: every read goes through."""
        self._open_until = 0.0
        self._trial = False

    async def connect(self, connecting: Awaitable[T]) -> T:
        """The connection; a failure trips the breaker (and propagates)."""
        try:
            return await connecting
        except Exception as exc:
            self.trip(type(exc).__name__)
            raise
