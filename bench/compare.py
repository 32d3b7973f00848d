"""Staffing Hub vs PostGraphile 5 on the same PostgreSQL data: `python -m bench.compare`.

Builds (or reuses) the dataset, checks that both servers return the same data for every query,
counts their SQL statements through a wire-protocol proxy, then times each server alone:
sequential requests, then wrk under concurrent load with its memory sampled. Prints the table
and writes it to bench/results.md. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jwt

from bench import queries
from bench.client import Client, run_sequential
from bench.dataset import Params, ensure_dataset, generator_hash, pg_url, q1_people
from bench.load import run_wrk, wrk_path
from bench.pgwire import CountingProxy, Counts
from bench.queries import CASES, Case, Units, bodies
from bench.report import Measured, markdown, rows, text_table
from bench.servers import PeakRss, Server, free_port, running

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PG_ROLES = {False: "hubbench_reader", True: "hubbench_auditor"}
HUB_ROLES = {False: "admin", True: "auditor"}
LOAD_ROUNDS = 6


def log(message: str) -> None:
    """Progress on stderr."""
    print(message, file=sys.stderr, flush=True)


def _sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # unwinds through `running(...)`, which stops the servers


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__.splitlines()[0])
    p.add_argument("--database", default="hubbench", help="PostgreSQL database on 127.0.0.1:5432 (user postgres)")
    p.add_argument("--persons", type=int, default=100_000)
    p.add_argument("--institutions", type=int, default=2_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rebuild", action="store_true", help="rebuild the dataset even if it matches")
    p.add_argument("--dataset-only", action="store_true", help="build (or check) the dataset, then stop")
    p.add_argument("--only", default="Q1,Q2,Q3,Q3m", help="comma-separated queries to run")
    p.add_argument("--q1-people", type=int, default=100, help="people Q1 cycles through (all are checked)")
    p.add_argument("--max-seconds", type=float, default=60.0, help="cap on each sequential loop (after 5 requests)")
    p.add_argument("--iterations-scale", type=float, default=1.0, help="multiplies each query's sequential count")
    p.add_argument("--concurrency", type=int, default=8, help="wrk connections")
    p.add_argument("--load-seconds", type=int, default=20, help="shortest wrk run")
    p.add_argument("--max-load-seconds", type=int, default=120,
                   help="longest wrk run (a slow query runs for ~6 x concurrency x its median, within these bounds)")
    p.add_argument("--allow-mismatch", action="store_true", help="time the servers even if their answers differ")
    p.add_argument("--hub-env", action="append", default=[], metavar="HUB_NAME=VALUE",
                   help="a hub setting for this run (repeatable), e.g. HUB_ROW_MEMO_ROWS=0")
    p.add_argument("--output", type=Path, default=BENCH / "results.md")
    args = p.parse_args(argv)
    for item in args.hub_env:
        name, sep, _ = item.partition("=")
        if not sep or not name.startswith("HUB_"):
            p.error(f"--hub-env 须为 HUB_名称=值 / --hub-env takes HUB_NAME=VALUE, not {item!r}")
    return args


def node_modules() -> Path:
    """bench/node_modules with PostGraphile and Node 22 (installed from package-lock.json if absent)."""
    node = BENCH / "node_modules" / ".bin" / "node"
    if not (BENCH / "node_modules" / "postgraphile").is_dir() or not node.exists():
        log("npm ci (PostGraphile 5, Node 22) …")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BENCH, check=True, timeout=900)
    return node


def hub_token(env: dict[str, str], role: str) -> str:
    """A bearer token from `hub token create` with the bench's secret."""
    hub_cli = Path(sys.executable).with_name("hub")
    done = subprocess.run([str(hub_cli), "token", "create", "--role", role, "--ttl", "8h"], env=env,
                          capture_output=True, text=True, check=True, timeout=120, cwd=env["HUB_DEMO_DIR"])
    return done.stdout.strip().splitlines()[-1]


def pg_token(secret: str, role: str) -> str:
    """A PostGraphile JWT whose role claim PostGraphile switches to (`SET ROLE` per transaction)."""
    claims = {"role": role, "aud": "postgraphile", "exp": int(time.time()) + 8 * 3600}
    return jwt.encode(claims, secret, algorithm="HS256")


class Bench:
    """One run: the dataset, both servers' settings, tokens, and what has been measured."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = BENCH / ".work"
        self.secret = secrets.token_urlsafe(32)
        self.audit_key = secrets.token_urlsafe(32)
        self.cases = [c for c in CASES if c.key in args.only.split(",")]
        self.results: dict[tuple[str, str], Measured] = {}
        self.problems: list[str] = []
        self.mismatch = False
        self.q1_ids: list[str] = []
        self.units: Units = {}
        self.node = Path()
        self.auth: dict[tuple[str, bool], str] = {}

    def hub_env(self, db_port: int, store: Path) -> dict[str, str]:
        """The hub's environment: only the bench's HUB_* settings, whatever the caller's shell has."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        url = pg_url(self.args.database, db_port)
        env |= {f"HUB_SOURCE_{d}_URL": url for d in ("ESTABLISHMENT", "ORGANIZATION", "HR", "FINANCE")}
        env |= {
            "HUB_JWT_SECRET": self.secret,
            "HUB_AUDIT_KEY": self.audit_key,
            "HUB_STORE_URL": f"sqlite+aiosqlite:///{store}",
            "HUB_STORE_AUTO_UPGRADE": "true",  # a fresh store, one worker
            "HUB_MAX_PAGE_SIZE": "10000",
            "HUB_LOG_LEVEL": "warning",
            "HUB_GRAPHIQL": "false",
            "HUB_WORKERS": "1",
            "HUB_DEMO_DIR": str(self.work / "hub"),
        }
        env |= dict(item.split("=", 1) for item in self.args.hub_env)
        return env

    def server(self, side: str, db_port: int, phase: str) -> Server:
        """A fresh server process description for one side, reading PostgreSQL on `db_port`."""
        port = free_port()
        logs = self.work / "logs"
        if side == "hub":
            store = self.work / "hub" / f"store-{phase}.db"
            store.unlink(missing_ok=True)
            argv = [str(Path(sys.executable).with_name("hub")), "serve", "--host", "127.0.0.1", "--port", str(port)]
            return Server("hub", argv, self.hub_env(db_port, store), port, logs / f"hub-{phase}.log",
                          self.work / "hub", auth=self.auth[("hub", False)])
        env = dict(os.environ) | {
            "BENCH_PG_URL": pg_url(self.args.database, db_port, "postgres"),
            "BENCH_PG_PORT": str(port),
            "BENCH_PG_JWT_SECRET": self.secret,
            "GRAPHILE_ENV": "production",
            "NODE_ENV": "production",
        }
        argv = [str(self.node), str(BENCH / "postgraphile" / "server.mjs")]
        return Server("postgraphile", argv, env, port, logs / f"postgraphile-{phase}.log", BENCH,
                      auth=self.auth[("pg", False)])

    def prepare(self) -> dict[str, int]:
        """Tools, dataset, Q1's people, tokens."""
        wrk_path()
        self.node = node_modules()
        (self.work / "hub").mkdir(parents=True, exist_ok=True)
        params = Params(self.args.persons, self.args.institutions, self.args.seed, generator_hash())
        sizes = ensure_dataset(self.args.database, params, self.work / "dataset", self.args.rebuild)
        self.q1_ids = q1_people(self.args.database, self.args.q1_people)
        if not self.q1_ids:
            raise RuntimeError("no person qualifies for Q1 (see dataset.py)")
        env = self.hub_env(5432, self.work / "hub" / "unused.db")
        for masked in (False, True):
            self.auth[("hub", masked)] = "Bearer " + hub_token(env, HUB_ROLES[masked])
            self.auth[("pg", masked)] = "Bearer " + pg_token(self.secret, PG_ROLES[masked])
        return sizes

    def check_and_count(self) -> list[Case]:
        """Through the counting proxy: each server's answers and statements; returns the cases that agree."""
        answers: dict[tuple[str, str], Any] = {}
        with CountingProxy() as proxy:
            for side in ("hub", "pg"):
                log(f"[{side}] checking answers and counting statements")
                with running(self.server(side, proxy.port, "check")) as server:
                    if side == "hub":
                        self.units = self.hub_units(server.port)
                    for case in self.cases:
                        measured = self.results.setdefault((side, case.key), Measured())
                        try:
                            answers[(side, case.key)] = self.answer(proxy, server.port, side, case, measured)
                        except Exception as exc:  # noqa: BLE001 - recorded and reported, the run goes on
                            measured.error = f"{type(exc).__name__}: {exc}"
                            self.problems.append(f"{side} {case.key} failed: {measured.error[:600]}")
                            log(f"  {case.key}: FAILED {measured.error[:300]}")
        agree = []
        for case in self.cases:
            hub, pg = answers.get(("hub", case.key)), answers.get(("pg", case.key))
            if hub is None or pg is None:
                continue
            hub_c = [case.hub_canon(d, self.units) for d in hub]
            pg_c = [case.pg_canon(d, self.units) for d in pg]
            diff = describe_difference(hub_c, pg_c)
            if diff:
                self.mismatch = True
                self.problems.append(f"{case.key}: the servers' answers differ: {diff}")
                log(f"  {case.key}: answers DIFFER: {diff}")
            else:
                log(f"  {case.key}: same answers ({summary(hub_c)})")
                agree.append(case)
        return agree

    def failed(self, case: Case) -> bool:
        """Whether either server failed a case."""
        return any(self.results.get((side, case.key), Measured()).error for side in ("hub", "pg"))

    def hub_units(self, port: int) -> Units:
        """Institution code -> JGID from the hub's crosswalk (institutions list)."""
        client = Client(port, self.auth[("hub", False)])
        try:
            return queries.units_from_hub(client.query(queries.body(queries.HUB_UNITS)))
        finally:
            client.close()

    def answer(self, proxy: CountingProxy, port: int, side: str, case: Case, measured: Measured) -> list[Any]:
        """Every distinct request of a case once (after one warm-up), with its statement counts."""
        client = Client(port, self.auth[(side, case.masked)])
        try:
            reqs = bodies(case, side, self.q1_ids)
            client.post(reqs[0])
            out = []
            for i, body in enumerate(reqs if len(reqs) > 1 else reqs * 2):
                before = settled(proxy)
                proxy.trace = [] if i == 0 else None
                out.append(client.query(body))
                measured.counts.append(settled(proxy) - before)
                if proxy.trace is not None:
                    trace = self.work / "logs" / f"sql-{side}-{case.key}.txt"
                    trace.write_text("\n".join(proxy.trace) + "\n", encoding="utf-8")
                    proxy.trace = None
            if side == "hub":
                missing = set().union(*(queries.codes_in(a) for a in out)) - set(self.units)
                for code in sorted(missing):
                    node = client.query(queries.body(queries.HUB_UNIT, {"code": code}))["institution"]
                    if (unit := queries.establishment_unit(node)) is not None:
                        self.units[code] = unit
            return out if len(reqs) > 1 else out[:1]
        finally:
            client.close()

    def time_servers(self, cases: list[Case]) -> None:
        """Each server alone: sequential loops, then a wrk run per query with memory sampled."""
        for side in ("hub", "pg"):
            log(f"[{side}] timing")
            try:
                with running(self.server(side, 5432, "time")) as server:
                    server.wait_idle()
                    for case in cases:
                        self.sequential(server, side, case)
                    for case in cases:
                        self.load(server, side, case)
                        if server.proc is not None and server.proc.poll() is not None:
                            raise RuntimeError(f"exited with {server.proc.returncode} during {case.key}:\n"
                                               f"{server.log_tail(10)}")
            except RuntimeError as exc:
                self.problems.append(f"{side}: {exc}")
                log(f"  {side} FAILED: {exc}")

    def sequential(self, server: Server, side: str, case: Case) -> None:
        """Sequential latency of one query."""
        measured = self.results.setdefault((side, case.key), Measured())
        if measured.error:
            return
        client = Client(server.port, self.auth[(side, case.masked)])
        try:
            iterations = max(5, round(case.iterations * self.args.iterations_scale))
            measured.sequential = run_sequential(
                client, bodies(case, side, self.q1_ids), warmup=case.warmup, iterations=iterations,
                max_seconds=self.args.max_seconds,
            )
            s = measured.sequential
            log(f"  {case.key} sequential: median {s.median_ms:.1f} ms, p99 {s.p99_ms:.1f} ms, n={len(s.latencies)}")
        except Exception as exc:  # noqa: BLE001
            measured.error = f"{type(exc).__name__}: {exc}"
            self.problems.append(f"{side} {case.key} sequential run failed: {measured.error[:600]}")
            log(f"  {case.key} sequential FAILED: {measured.error[:300]}")
        finally:
            client.close()

    def load(self, server: Server, side: str, case: Case) -> None:
        """wrk against one query, bounded in time, with the server's RSS sampled."""
        measured = self.results[(side, case.key)]
        if measured.error or measured.sequential is None:
            return
        a = self.args
        # Under load each request takes ~concurrency x its sequential time (more if the server degrades):
        # aim for a few such rounds, so that each connection completes several requests.
        wanted = LOAD_ROUNDS * a.concurrency * measured.sequential.median_ms / 1000
        seconds = int(min(max(a.load_seconds, math.ceil(wanted)), a.max_load_seconds))
        try:
            with PeakRss(server) as rss:
                measured.load = run_wrk(server.port, self.auth[(side, case.masked)], bodies(case, side, self.q1_ids),
                                        concurrency=a.concurrency, seconds=seconds, timeout=seconds)
                measured.drain_seconds = server.wait_idle()
            measured.peak_rss_kib = rss.peak_kib
            ld = measured.load
            log(f"  {case.key} load c={a.concurrency} {seconds}s: {ld.rps:.1f} req/s, median {ld.p50_ms:.1f} ms, "
                f"p99 {ld.p99_ms:.1f} ms, peak RSS {rss.peak_kib / 1024:.0f} MiB, failures {ld.failures}, "
                f"busy {measured.drain_seconds:.1f} s after wrk stopped")
            if ld.failures:
                self.problems.append(f"{side} {case.key}: {ld.failures} failed requests under load")
            if ld.requests == 0:
                self.problems.append(f"{side} {case.key}: no request completed under load in {seconds} s")
        except Exception as exc:  # noqa: BLE001
            self.problems.append(f"{side} {case.key} load run failed: {type(exc).__name__}: {str(exc)[:600]}")


def settled(proxy: CountingProxy) -> Counts:
    """The proxy's counts once they stop moving (a server may finish a transaction after answering)."""
    last = proxy.snapshot()
    while True:
        time.sleep(0.05)
        now = proxy.snapshot()
        if now == last:
            return now
        last = now


def summary(canon: list[Any]) -> str:
    """How much was compared."""
    first = canon[0] if canon else None
    if isinstance(first, list):
        return f"{len(first)} items"
    return f"{len(canon)} answer(s)"


def describe_difference(hub: Any, pg: Any, path: str = "", limit: int = 3) -> str:
    """'' if equal, else the first few differences with their paths."""
    found: list[str] = []

    def walk(a: Any, b: Any, where: str) -> None:
        if len(found) >= limit or a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
            for k in a:
                walk(a[k], b[k], f"{where}.{k}")
        elif isinstance(a, list | tuple) and isinstance(b, list | tuple) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{where}[{i}]")
        else:
            found.append(f"{where or '.'}: hub {json.dumps(a, ensure_ascii=False, default=str)[:200]} "
                         f"≠ PostGraphile {json.dumps(b, ensure_ascii=False, default=str)[:200]}")

    walk(hub, pg, path)
    return "; ".join(found)


def describe_machine() -> dict[str, str]:
    """Machine, software and code versions for the report."""
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())

    def run(*argv: str, cwd: Path = ROOT) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    dirty = run("git", "status", "--porcelain", "--untracked-files=no")
    pg_version = run("psql", "-h", "127.0.0.1", "-U", "postgres", "-Atc", "SHOW server_version")
    node_modules()  # a fresh checkout installs PostGraphile first
    postgraphile = json.loads((BENCH / "node_modules" / "postgraphile" / "package.json").read_text())["version"]
    return {
        "machine": f"{os.cpu_count()} CPUs ({cpu}), {platform.python_implementation()} {platform.python_version()}",
        "hub": f"{run('git', 'rev-parse', '--short', 'HEAD')}{' + uncommitted changes' if dirty else ''}, "
               "`hub serve`, 1 worker",
        "PostGraphile": f"{postgraphile} on Node {run(str(BENCH / 'node_modules' / '.bin' / 'node'), '--version')}, "
                        "1 process",
        "PostgreSQL": pg_version,
    }


NOTES = [
    "Both servers read the same PostgreSQL database; only one server runs at a time, on the same 2 cores as "
    "PostgreSQL and the load generator.",
    "Before timing, every query's answers from both servers are compared after normalising field names and "
    "values (ID numbers and names with hub.core.ids; institutions as the establishment office's JGID, the hub's "
    "codes mapped through its own `sourceUnits`; hub people lists compared as sorted lists). Q1 is compared "
    "for every person it cycles through.",
    "Hub: `hub serve` with `HUB_SOURCE_<ID>_URL` of all four departments on the database, a fresh SQLite hub "
    "store, `HUB_MAX_PAGE_SIZE=10000`, log level warning, audit log on (its default). Tokens from "
    "`hub token create --role admin` (Q1–Q3) and `--role auditor` (Q3m).",
    "PostGraphile: 5.x amber preset + postgraphile-plugin-connection-filter + lazy JWT, over the raw legacy "
    "tables with `@foreignKey` smart tags (bench/postgraphile/server.mjs); filters on unindexed columns "
    "allowed. Its JWT's role claim is switched to per request: `hubbench_reader` for Q1–Q3, "
    "`hubbench_auditor` for Q3m, which may read only a view with the ID number and name masked in SQL "
    "(bench/postgraphile/setup.sql); sex and birth date come from the ID number in SQL for both roles, "
    "as the hub derives them.",
    "Sequential: one keep-alive connection, warm-up requests first, then up to the query's iteration count or "
    "the time cap (at least 5 requests); Q1 cycles through the same people on both servers. p99 is the "
    "nearest-rank 99th percentile, so with few samples it is the maximum.",
    "Load: wrk (closed loop, 1 thread, N connections each waiting for its answer), Q1 bodies taken in turn; "
    "a slow query's run is lengthened to ~6 × connections × its sequential median within the bounds, so each "
    "connection completes a few requests. req/s counts completed requests; answers with errors count as failures. "
    "When wrk stops, the requests it leaves in flight may still be worked on (neither server cancels a request "
    "whose client went away): the next run waits until the server is idle (its CPU use under 5 % of a core), "
    "and 'busy after wrk stopped' reports how long that took.",
    "SQL statements / request: counted in a separate pass (not while timing) by a PostgreSQL wire-protocol "
    "proxy between each server and PostgreSQL (bench/pgwire.py): simple queries plus executions of freshly "
    "bound prepared statements, not counting BEGIN/COMMIT/ROLLBACK, SET, set_config() or empty pings (the "
    "hub's pool pre-ping); round trips are Sync and simple-query messages, including those control statements. "
    "pg_stat_statements is not preloaded on this server and loading it needs a restart.",
    "Peak RSS: highest VmRSS of the server's process group sampled every 50 ms during that query's load run "
    "(the server process only; PostgreSQL's backends are not included).",
]


def _loads(avg: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.2f}" for x in avg)


def main(argv: list[str] | None = None) -> int:
    """Run everything; exit 0 when all went well, 2 if the servers' answers differ, 1 on other problems."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _sigterm)
    bench = Bench(args)
    started = dt.datetime.now().astimezone()
    load_before = os.getloadavg()
    versions = describe_machine()  # before the servers start: the code they run is the working tree now
    try:
        sizes = bench.prepare()
        log(f"dataset: {json.dumps(sizes)}; Q1 cycles through {len(bench.q1_ids)} people")
        if args.dataset_only:
            return 0
        agree = bench.check_and_count()
        timed = [c for c in bench.cases if c in agree or (args.allow_mismatch and not bench.failed(c))]
        if len(timed) < len(bench.cases):
            log(f"not timing {', '.join(c.key for c in bench.cases if c not in timed)}: answers differ or failed "
                "(--allow-mismatch times differing answers anyway)")
        bench.time_servers(timed)
    except KeyboardInterrupt:
        log("interrupted: servers stopped")
        return 130
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        log(f"failed: {exc}")
        return 1
    cases = [(c.key, c.title) for c in bench.cases]
    table = rows(cases, bench.results)
    print(text_table(table))
    meta = {
        "when": started.strftime("%Y-%m-%d %H:%M %Z"),
        "command": " ".join(["python -m bench.compare", *(argv if argv is not None else sys.argv[1:])]),
        **versions,
        "dataset": f"`hub generate --persons {args.persons} --institutions {args.institutions} --seed {args.seed}` "
                   f"into one database ({', '.join(f'{t} {n:,}' for t, n in sizes.items())} rows)",
        "load": f"{args.concurrency} connections, {args.load_seconds}–{args.max_load_seconds} s per query",
        "machine load average (1, 5, 15 min)": f"{_loads(load_before)} at the start, {_loads(os.getloadavg())} "
                                               "at the end (other work on the machine skews the figures)",
    }
    args.output.write_text(markdown(table, cases, meta, NOTES, bench.problems), encoding="utf-8")
    log(f"written {args.output}")
    for p in bench.problems:
        log(f"problem: {p}")
    return 2 if bench.mismatch else 1 if bench.problems else 0


if __name__ == "__main__":
    sys.exit(main())
