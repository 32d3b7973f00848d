"""A source that does not answer is tried once per retry period: the reads between fail at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from adapters.breaker import Breaker
from adapters.mapping import default_mappings
from adapters.sql import SqlAdapter
from hub.core.errors import SourceUnavailable

MAPPING = default_mappings()["establishment"]


class Silent:
    """A TCP server that accepts connections and never says a word (a hung database host)."""

    def __init__(self) -> None:
        self.connections = 0
        self._writers: list[asyncio.StreamWriter] = []

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)

    async def __aenter__(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def __aexit__(self, *exc: object) -> None:
        for writer in self._writers:
            writer.close()
        self._server.close()


@pytest.fixture
async def silent() -> AsyncIterator[tuple[Silent, int]]:
    server = Silent()
    async with server as port:
        yield server, port


@pytest.mark.parametrize("driver", ["postgresql+asyncpg", "mysql+asyncmy"])
async def test_a_hung_source_is_not_tried_again_until_the_retry_time(silent: tuple[Silent, int], driver: str) -> None:
    server, port = silent
    adapter = SqlAdapter("establishment", MAPPING, f"{driver}://u@127.0.0.1:{port}/db", connect_timeout=0.5, retry_seconds=0.5)
    try:
        with pytest.raises(SourceUnavailable):
            await adapter.fetch("unit", "local_id", ["1"])
        tried = server.connections
        assert tried >= 1  # the connect was made, and timed out
        for call in (adapter.fetch("unit", "local_id", ["1"]), adapter.ping(), adapter.count("unit")):
            with pytest.raises(SourceUnavailable) as caught:
                await call
            assert caught.value.extensions == {"code": "SOURCE_UNAVAILABLE", "source": "establishment"}
        with pytest.raises(SourceUnavailable):
            await anext(adapter.stream("unit"))
        assert server.connections == tried  # none of them tried to connect
        await asyncio.sleep(0.6)
        with pytest.raises(SourceUnavailable):
            await adapter.fetch("unit", "local_id", ["1"])
        assert server.connections > tried  # after the retry time, the next read tries again
    finally:
        await adapter.close()


async def test_after_the_retry_time_one_read_tries_and_its_answer_closes_the_breaker(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr("adapters.breaker.time.monotonic", lambda: now[0])

    async def fails() -> None:
        raise OSError("connection refused")

    breaker = Breaker("hr", retry_seconds=5)
    assert breaker.admit() is False  # closed: every read goes through, none is a trial
    with pytest.raises(OSError):
        await breaker.connect(fails())
    with pytest.raises(SourceUnavailable, match="OSError"):
        breaker.admit()
    now[0] += 5.1
    assert breaker.admit() is True  # the retry time is over: this read is the trial
    assert breaker.admit(True) is True  # it may ask again (after waiting for its turn)
    with pytest.raises(SourceUnavailable):
        breaker.admit()  # the others still fail at once while it tries
    breaker.trip("timeout")  # it timed out: open for another retry time
    with pytest.raises(SourceUnavailable, match="timeout"):
        breaker.admit()
    now[0] += 5.1
    assert breaker.admit() is True
    breaker.end_trial()  # it ended without an answer (cancelled): the next read is the trial
    assert breaker.admit() is True
    breaker.close()  # it answered
    assert breaker.admit() is False and breaker.admit() is False and not breaker.open
    never = Breaker("hr", retry_seconds=0)
    with pytest.raises(OSError):
        await never.connect(fails())
    assert never.admit() is False
