"""The servers under test as child processes: free ports, readiness, memory, always stopped."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _group_members(pgid: int) -> list[int]:
    """Processes of a process group (the server and anything it forked)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                members.append(int(entry.name))
    return members


@dataclass
class Server:
    """One server process started in its own process group; `ready` is a GraphQL POST body."""

    name: str
    argv: list[str]
    env: dict[str, str]
    port: int
    log: Path
    cwd: Path
    auth: str = ""
    ready_body: bytes = b'{"query":"{ __typename }"}'
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, timeout: float = 180.0) -> None:
        """Start the process and wait until /graphql answers 200; raise with the log's tail if not."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            if self._answers():
                return
            time.sleep(0.25)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def _answers(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            headers = {"Content-Type": "application/json", "Authorization": self.auth}
            conn.request("POST", "/graphql", self.ready_body, headers)
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it after 10 s."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    @property
    def pid(self) -> int:
        """The server's process id."""
        if self.proc is None:
            raise RuntimeError(f"{self.name} is not running")
        return self.proc.pid

    def rss_kib(self) -> int:
        """Resident memory of the server's process group now."""
        return sum(_status_kib(pid, "VmRSS") for pid in _group_members(self.pid))

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server's process group."""
        ticks = 0
        for pid in _group_members(self.pid):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def wait_idle(self, timeout: float = 180.0, interval: float = 0.5, busy: float = 0.05) -> float:
        """Wait until the server uses under `busy` of a core over `interval`; returns the seconds waited.

        A load generator that stops leaves requests in flight that the server may go on working
        through; the next measurement must not start before that work is done.
        """
        started = time.monotonic()
        last = self.cpu_seconds()
        while time.monotonic() - started < timeout:
            time.sleep(interval)
            now = self.cpu_seconds()
            if now - last < busy * interval:
                break
            last = now
        return time.monotonic() - started

    def hwm_kib(self) -> int:
        """The server process's peak resident memory since it started (VmHWM)."""
        return _status_kib(self.pid, "VmHWM")

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of the server's log."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextlib.contextmanager
def running(server: Server) -> Iterator[Server]:
    """Start a server for the block and stop it afterwards, also on errors and interrupts."""
    try:
        server.start()
        yield server
    finally:
        server.stop()


class PeakRss:
    """Samples a server's resident memory every 50 ms in a thread; `peak_kib` is the highest seen."""

    def __init__(self, server: Server, interval: float = 0.05) -> None:
        self.server = server
        self.interval = interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)

    def __enter__(self) -> PeakRss:
        self.peak_kib = self.server.rss_kib()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak_kib = max(self.peak_kib, self.server.rss_kib())
