"""A PostgreSQL wire-protocol proxy that counts the statements and round trips its clients send.

Neither server needs to be changed and PostgreSQL needs no `pg_stat_statements` (it is not in
`shared_preload_libraries` here, and loading it takes a server restart): each server under test
connects to this proxy instead of PostgreSQL during a separate counting pass, never while timing.
Data statements are simple queries ('Q') and executions of a freshly bound portal ('E'); BEGIN,
COMMIT, ROLLBACK, SET, set_config() and empty pings are counted apart as control statements.
"""

from __future__ import annotations

import asyncio
import re
import struct
import threading
from dataclasses import dataclass, field

_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_CONTROL = re.compile(
    r"^\s*(?:;|$|begin\b|start\s+transaction|commit\b|end\b|rollback\b|abort\b|set\b|reset\b|show\b|savepoint\b"
    r"|release\b|discard\b|deallocate\b|listen\b|unlisten\b|select\s+set_config\s*\()",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Counts:
    """What the clients of the proxy have sent (and received) so far."""

    statements: int = 0
    control: int = 0
    round_trips: int = 0
    bytes_from_server: int = 0

    def __sub__(self, other: Counts) -> Counts:
        return Counts(
            self.statements - other.statements,
            self.control - other.control,
            self.round_trips - other.round_trips,
            self.bytes_from_server - other.bytes_from_server,
        )


@dataclass(slots=True)
class _Session:
    """Per-connection protocol state: prepared statements and bound portals by name."""

    statements: dict[bytes, str] = field(default_factory=dict)
    portals: dict[bytes, list[object]] = field(default_factory=dict)


def is_control(sql: str) -> bool:
    """Whether a statement is transaction control, a setting or an empty ping rather than data access."""
    return bool(_CONTROL.match(sql))


class CountingProxy:
    """Listens on a free loopback port, forwards to PostgreSQL and counts client messages."""

    def __init__(self, upstream_host: str = "127.0.0.1", upstream_port: int = 5432) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self._lock = threading.Lock()
        self._counts = [0, 0, 0, 0]
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._started = threading.Event()
        self.trace: list[str] | None = None  # when a list, every statement is appended to it

    def __enter__(self) -> CountingProxy:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> int:
        """Start serving in a background thread; returns the port."""
        self._thread = threading.Thread(target=self._run, name="pg-counting-proxy", daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("counting proxy did not start")
        return self.port

    def snapshot(self) -> Counts:
        """The counts so far."""
        with self._lock:
            return Counts(*self._counts)

    def stop(self) -> None:
        """Close the listener and every proxied connection."""
        loop = self._loop
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._server = loop.run_until_complete(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._started.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.close()

    def _add(self, index: int, n: int = 1) -> None:
        with self._lock:
            self._counts[index] += n

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_w.close()
            return
        up = asyncio.ensure_future(self._client_to_server(client_r, client_w, server_w))
        down = asyncio.ensure_future(self._server_to_client(server_r, client_w))
        try:
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (up, down):
                task.cancel()
            for writer in (client_w, server_w):
                writer.close()

    async def _server_to_client(self, server_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        while data := await server_r.read(1 << 16):
            self._add(3, len(data))
            client_w.write(data)
            await client_w.drain()

    async def _client_to_server(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter, server_w: asyncio.StreamWriter
    ) -> None:
        try:
            while True:  # startup: no type byte; refuse TLS/GSS so the stream stays readable
                head = await client_r.readexactly(8)
                length, code = struct.unpack("!ii", head)
                if length == 8 and code in (_SSL_REQUEST, _GSSENC_REQUEST):
                    client_w.write(b"N")
                    await client_w.drain()
                    continue
                server_w.write(head + await client_r.readexactly(length - 8))
                break
            session = _Session()
            while True:
                kind = await client_r.readexactly(1)
                size = await client_r.readexactly(4)
                payload = await client_r.readexactly(struct.unpack("!i", size)[0] - 4)
                self._observe(session, kind, payload)
                server_w.write(kind + size + payload)
                await server_w.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return

    def _statement(self, sql: str) -> None:
        control = is_control(sql)
        self._add(1 if control else 0)
        trace = self.trace
        if trace is not None:
            trace.append(("-- control: " if control else "") + " ".join(sql.split()))

    def _observe(self, session: _Session, kind: bytes, payload: bytes) -> None:
        if kind == b"Q":
            self._add(2)
            self._statement(payload[:-1].decode("utf-8", "replace"))
        elif kind == b"P":
            name, _, rest = payload.partition(b"\0")
            session.statements[name] = rest.partition(b"\0")[0].decode("utf-8", "replace")
        elif kind == b"B":
            portal, _, rest = payload.partition(b"\0")
            statement = rest.partition(b"\0")[0]
            session.portals[portal] = [session.statements.get(statement, ""), True]
        elif kind == b"E":
            entry = session.portals.get(payload.partition(b"\0")[0])
            if entry is not None and entry[1]:
                entry[1] = False
                self._statement(str(entry[0]))
        elif kind == b"S":
            self._add(2)
