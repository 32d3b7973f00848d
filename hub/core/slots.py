"""The operation slots (HUB_MAX_CONCURRENT_OPERATIONS), which an operation gives up while a source keeps it waiting.

At most `limit` GraphQL operations execute at once: the hub is one thread, and more large answers
at once only hold more memory. But an operation waiting on a slow department database does no
work: if it kept its slot, a few requests to a locked department would hold every slot, and a
query reading no department at all (`{ regions { code } }`) would wait with them. So a read that
has waited `STEP_OUT_AFTER` seconds hands its operation's slot to the next operation in line, and
the operation takes a slot again (in arrival order) when the read ends. Reads that answer sooner,
as healthy ones do, never give the slot up, so normal operation is as before.

`OperationSlots` is used as `async with slots:` around an operation (by schema.execution.Execution,
the one place operations are answered); adapters wrap their waits in `async with away():`, which does nothing outside
an operation (the CLI, the scheduled check, /readyz).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar, Token
from types import TracebackType

STEP_OUT_AFTER = 0.05  # seconds a read waits before its operation gives its slot to the next one


class _Slot:
    """One operation's place: held while it works, given up while a source keeps it waiting."""

    __slots__ = ("done", "held", "slots", "token", "turn")

    def __init__(self, slots: asyncio.Semaphore) -> None:
        self.slots = slots
        self.held = True
        self.done = False
        self.turn = asyncio.Lock()  # one of the operation's reads takes the slot back at a time
        self.token: Token[_Slot | None] | None = None

    def leave(self) -> None:
        """The operation is over: its slot (if held) goes to the next one."""
        if self.token is not None:
            _current.reset(self.token)
        self.done = True
        self.step_out()

    def step_out(self) -> None:
        if self.held:
            self.held = False
            self.slots.release()

    async def step_in(self) -> None:
        async with self.turn:
            if not self.held and not self.done:  # a read outliving its operation takes no slot
                await self.slots.acquire()
                self.held = True


_current: ContextVar[_Slot | None] = ContextVar("operation_slot", default=None)


class OperationSlots:
    """At most `limit` operations at once, in arrival order; `async with` one around each operation."""

    def __init__(self, limit: int) -> None:
        self._slots = asyncio.Semaphore(limit)

    async def __aenter__(self) -> None:
        await self._slots.acquire()
        slot = _Slot(self._slots)
        slot.token = _current.set(slot)

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        slot = _current.get()
        if slot is not None:
            slot.leave()


@asynccontextmanager
async def away() -> AsyncIterator[None]:
    """Around a wait on a source: past `STEP_OUT_AFTER`, the operation's slot goes to the next operation."""
    slot = _current.get()
    if slot is None:
        yield
        return
    handle = asyncio.get_running_loop().call_later(STEP_OUT_AFTER, slot.step_out)
    try:
        yield
    finally:
        handle.cancel()
        if not slot.held:
            await slot.step_in()
