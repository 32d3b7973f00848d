"""Staffing Hub vs PostGraphile 5 on the same PostgreSQL data: `python -m bench.compare`.

Builds (or reuses) the dataset, checks that both servers return the same data for every query,
counts their SQL statements through a wire-protocol proxy, then times each server alone:
sequential requests, then wrk under concurrent load with its memory sampled. Prints the table
and writes it to bench/results.md. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import json
import math
import os
import platform
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt

from bench import queries
from bench.client import Client, run_sequential
from bench.dataset import Params, ensure_dataset, generator_hash, pg_url, q1_people
from bench.load import run_wrk, wrk_path
from bench.pgwire import CountingProxy, Counts
from bench.queries import CASES, MODES, Case, Units, Variants, bodies, plan, walk_cursors
from bench.report import Measured, markdown, rows, text_table
from bench.servers import PeakRss, Server, free_port, running

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PG_ROLES = {False: "hubbench_reader", True: "hubbench_auditor"}
HUB_ROLES = {False: "admin", True: "auditor"}
COUNTED = 20  # distinct requests of a query whose statements are counted (all pages; Q1's first 20 people)
LOAD_ROUNDS = 2  # a wrk run lasts ~LOAD_ROUNDS x concurrency x the sequential median, within bounds


def log(message: str) -> None:
    """Progress on stderr."""
    print(message, file=sys.stderr, flush=True)


def _sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # unwinds through `running(...)`, which stops the servers


# The hub's caches of earlier answers' work; `--hub-caches off` runs the hub without them.
CACHES_OFF = {"HUB_PREPARED_CACHE_BYTES": "0"}
# --quick: a before/after check in a few minutes (fewer rounds, requests and seconds).
QUICK = {"mode": "varied", "hub_caches": "on", "rounds": 2, "iterations_scale": 0.3, "max_seconds": 5.0,
         "load_seconds": 3, "max_load_seconds": 10}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__.splitlines()[0])
    p.add_argument("--database", default="hubbench", help="PostgreSQL database on 127.0.0.1:5432 (user postgres)")
    p.add_argument("--persons", type=int, default=100_000)
    p.add_argument("--institutions", type=int, default=2_000)
    p.add_argument("--seed", type=int, default=1, help="the dataset's seed")
    p.add_argument("--rebuild", action="store_true", help="rebuild the dataset even if it matches")
    p.add_argument("--dataset-only", action="store_true", help="build (or check) the dataset, then stop")
    p.add_argument("--only", default=",".join(c.key for c in CASES), help="comma-separated queries to run")
    p.add_argument("--mode", choices=("varied", "repeated", "both"), default="both",
                   help="varied: a random person or page per request; repeated: the same request (Q1: people in turn)")
    p.add_argument("--hub-caches", choices=("on", "off", "both"), default="both",
                   help="the hub with its cache of prepared documents on, off, or both (off: varied mode only)")
    p.add_argument("--quick", action="store_true",
                   help="a few minutes: " + ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in QUICK.items()))
    p.add_argument("--rounds", type=int, default=3, help="rounds per query; the servers take turns in each")
    p.add_argument("--load-rounds", type=int, default=2, help="wrk rounds per query")
    p.add_argument("--request-seed", type=int, default=17, help="seed of the varied requests' sequence")
    p.add_argument("--q1-people", type=int, default=1000, help="people Q1 picks from (all are checked)")
    p.add_argument("--institution-pages", type=int, default=20, help="pages of institutions Q2 and Q4 pick from")
    p.add_argument("--person-pages", type=int, default=10, help="pages of people Q3 and Q3m pick from")
    p.add_argument("--max-seconds", type=float, default=15.0,
                   help="cap on each server's sequential requests in a round (after 5 requests)")
    p.add_argument("--iterations-scale", type=float, default=1.0, help="multiplies each query's sequential count")
    p.add_argument("--concurrency", type=int, default=8, help="wrk connections")
    p.add_argument("--load-seconds", type=int, default=6, help="shortest wrk run (one server, one round)")
    p.add_argument("--max-load-seconds", type=int, default=20,
                   help="longest wrk run (a slow query runs for ~2 x concurrency x its median, within these bounds)")
    p.add_argument("--allow-mismatch", action="store_true", help="time the servers even if their answers differ")
    p.add_argument("--hub-env", action="append", default=[], metavar="HUB_NAME=VALUE",
                   help="a hub setting for this run (repeatable), e.g. HUB_MAX_CONCURRENT_OPERATIONS=4")
    p.add_argument("--output", type=Path, default=BENCH / "results.md")
    args = p.parse_args(argv)
    if args.quick:
        p.set_defaults(**QUICK)  # options given explicitly win over the preset
        args = p.parse_args(argv)
    for item in args.hub_env:
        name, sep, _ = item.partition("=")
        if not sep or not name.startswith("HUB_"):
            p.error(f"--hub-env 须为 HUB_名称=值 / --hub-env takes HUB_NAME=VALUE, not {item!r}")
    if args.rounds < 1 or args.load_rounds < 1:
        p.error("--rounds 与 --load-rounds 至少为 1 / --rounds and --load-rounds must be at least 1")
    unknown = set(args.only.split(",")) - {c.key for c in CASES}
    if unknown:
        p.error(f"未知查询 / unknown queries: {', '.join(sorted(unknown))}")
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


# The servers timed (the hub, the hub with its caches off, PostGraphile): whose queries and tokens each uses.
SIDE = {"hub": "hub", "off": "hub", "pg": "pg"}
Turn = Callable[[Server, str, str, Case, int, Measured], None]  # (server, mode, its name, query, round, results)


class Bench:
    """One run: the dataset, both servers' settings, tokens, and what has been measured."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work = BENCH / ".work"
        self.secret = secrets.token_urlsafe(32)
        self.audit_key = secrets.token_urlsafe(32)
        self.cases = [c for c in CASES if c.key in args.only.split(",")]
        self.modes = MODES if args.mode == "both" else (args.mode,)
        self.results: dict[tuple[str, str, str], Measured] = {}  # (mode, server, query)
        self.counts: dict[tuple[str, str], list[Counts]] = {}  # (side, query) -> one per distinct request
        self.errors: dict[tuple[str, str], str] = {}  # (side, query) -> why its answers could not be checked
        self.problems: list[str] = []
        self.mismatch = False
        self.people: list[str] = []
        self.cursors: dict[tuple[str, str], list[str | None]] = {}
        self.units: Units = {}
        self.node = Path()
        self.auth: dict[tuple[str, bool], str] = {}

    @property
    def variants(self) -> Variants:
        """Q1's people and both servers' page cursors."""
        return Variants(self.people, self.cursors)

    def servers_timed(self, mode: str) -> tuple[str, ...]:
        """Which servers a mode times: with `--hub-caches both`, the caches-off hub only with varied requests."""
        if self.args.hub_caches == "both":
            return ("hub", "off", "pg") if mode == "varied" else ("hub", "pg")
        return ("hub" if self.args.hub_caches == "on" else "off", "pg")

    def hub_env(self, db_port: int, store: Path, caches: bool = True) -> dict[str, str]:
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
        return env if caches else env | CACHES_OFF

    def server(self, name: str, db_port: int, phase: str) -> Server:
        """A fresh server process description ('hub', 'off' or 'pg'), reading PostgreSQL on `db_port`."""
        port = free_port()
        logs = self.work / "logs"
        if SIDE[name] == "hub":
            label = "hub" if name == "hub" else "hub-caches-off"
            store = self.work / "hub" / f"store-{label}-{phase}.db"
            store.unlink(missing_ok=True)
            argv = [str(Path(sys.executable).with_name("hub")), "serve", "--host", "127.0.0.1", "--port", str(port)]
            return Server(label, argv, self.hub_env(db_port, store, caches=name == "hub"), port,
                          logs / f"{label}-{phase}.log", self.work / "hub", auth=self.auth[("hub", False)])
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
        self.people = q1_people(self.args.database, self.args.q1_people)
        if not self.people:
            raise RuntimeError("no person qualifies for Q1 (see dataset.py)")
        env = self.hub_env(5432, self.work / "hub" / "unused.db")
        for masked in (False, True):
            self.auth[("hub", masked)] = "Bearer " + hub_token(env, HUB_ROLES[masked])
            self.auth[("pg", masked)] = "Bearer " + pg_token(self.secret, PG_ROLES[masked])
        return sizes

    def check_and_count(self) -> list[Case]:
        """Through the counting proxy: each server's page cursors, its answers to every distinct request and
        their statements; returns the cases whose answers agree."""
        answers: dict[tuple[str, str], Any] = {}
        pages = {"institutions": self.args.institution_pages, "people": self.args.person_pages,
                 "masked people": self.args.person_pages}
        with CountingProxy() as proxy:
            for side in ("hub", "pg"):
                log(f"[{side}] walking pages, checking answers and counting statements")
                with running(self.server(side, proxy.port, "check")) as server:
                    if side == "hub":
                        with contextlib.closing(Client(server.port, self.auth[(side, False)])) as client:
                            self.units = queries.units_from_hub(client.query)
                    for case in self.cases:  # each kind of page walked as the role its queries run as
                        if case.varies != "person" and (side, case.varies) not in self.cursors:
                            with contextlib.closing(Client(server.port, self.auth[(side, case.masked)])) as client:
                                self.cursors[(side, case.varies)] = walk_cursors(
                                    client.query, side, case.varies, pages[case.varies])
                    for case in self.cases:
                        try:
                            answers[(side, case.key)] = self.answer(proxy, server.port, side, case)
                        except Exception as exc:  # noqa: BLE001 - recorded and reported, the run goes on
                            self.errors[(side, case.key)] = f"{type(exc).__name__}: {exc}"
                            self.problems.append(f"{side} {case.key} failed: {self.errors[(side, case.key)][:600]}")
                            log(f"  {case.key}: FAILED {self.errors[(side, case.key)][:300]}")
        for kind in sorted({k for _, k in self.cursors}):
            hub_pages, pg_pages = len(self.cursors[("hub", kind)]), len(self.cursors[("pg", kind)])
            log(f"  pages of {kind}: hub {hub_pages}, PostGraphile {pg_pages}")
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
        return any((side, case.key) in self.errors for side in ("hub", "pg"))

    def answer(self, proxy: CountingProxy, port: int, side: str, case: Case) -> list[Any]:
        """Every distinct request of a case once (after one warm-up), the first COUNTED with their statement counts."""
        client = Client(port, self.auth[(side, case.masked)])
        counts = self.counts.setdefault((side, case.key), [])
        try:
            reqs = bodies(case, side, self.variants)
            client.post(reqs[0])
            out = []
            before = settled(proxy)
            for i, body in enumerate(reqs):
                proxy.trace = [] if i == 0 else None
                out.append(client.query(body))
                if i < COUNTED:  # waiting for the counts to settle takes ~0.1 s a request
                    after = settled(proxy)
                    counts.append(after - before)
                    before = after
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
            return out
        finally:
            client.close()

    def time_servers(self, cases: list[Case]) -> None:
        """Per mode, fresh servers all up at once (memory held since an earlier mode's large pages does not
        count against the next); per query, the servers take turns in each round: sequential rounds first,
        then wrk rounds (the server going first rotates), so drift hits them alike."""
        for mode in self.modes:
            names = self.servers_timed(mode)
            log(f"[{mode}] starting {', '.join(names)}")
            with contextlib.ExitStack() as stack:
                try:
                    servers = {n: stack.enter_context(running(self.server(n, 5432, mode))) for n in names}
                except RuntimeError as exc:
                    self.problems.append(f"a server did not start: {exc}")
                    log(f"  FAILED: {exc}")
                    return
                for server in servers.values():
                    server.wait_idle()
                for case in cases:
                    log(f"[{mode}] {case.key}")
                    self.rounds(mode, case, servers)

    def rounds(self, mode: str, case: Case, servers: dict[str, Server]) -> None:
        """One query in one mode: `rounds` sequential turns per server, then `load_rounds` wrk turns, all
        as long as the slowest server needs (under load each request takes ~concurrency x its sequential
        time, more if the server degrades: aim for a couple of such rounds per turn)."""
        self.turns(mode, case, servers, "sequential", self.args.rounds, self.sequential)
        medians = [m.sequential_median_ms for n in servers if (m := self.results[(mode, n, case.key)]).sequential]
        if medians:
            a = self.args
            wanted = math.ceil(LOAD_ROUNDS * a.concurrency * max(medians) / 1000)
            seconds = int(min(max(a.load_seconds, wanted), a.max_load_seconds))
            self.turns(mode, case, servers, "load", a.load_rounds, functools.partial(self.load, seconds=seconds))

    def turns(self, mode: str, case: Case, servers: dict[str, Server], phase: str, count: int, run: Turn) -> None:
        """`count` rounds in which every server takes a turn, the first one rotating from round to round."""
        order = list(servers)
        for r in range(count):
            for name in order[r % len(order):] + order[:r % len(order)]:
                measured = self.results.setdefault((mode, name, case.key), Measured())
                if measured.error is None:
                    run(servers[name], mode, name, case, r, measured)
        log(f"  {phase}: " + "; ".join(f"{n} {self.results[(mode, n, case.key)].describe(phase)}" for n in order))

    def sequential(self, server: Server, mode: str, name: str, case: Case, r: int, measured: Measured) -> None:
        """One server's sequential turn in round r: warm-up, then its share of the query's requests."""
        side = SIDE[name]
        client = Client(server.port, self.auth[(side, case.masked)])
        try:
            share = max(5, round(case.iterations * self.args.iterations_scale / self.args.rounds))
            reqs = plan(case, side, self.variants, mode, self.args.request_seed, r).take(case.warmup + share)
            measured.sequential.append(
                run_sequential(client, reqs, warmup=case.warmup, max_seconds=self.args.max_seconds))
        except Exception as exc:  # noqa: BLE001
            measured.error = f"{type(exc).__name__}: {exc}"
            self.problems.append(f"{mode} {name} {case.key} sequential run failed: {measured.error[:600]}")
            log(f"  {name} {case.key} sequential FAILED: {measured.error[:300]}")
        finally:
            client.close()

    def load(self, server: Server, mode: str, name: str, case: Case, r: int, measured: Measured, *, seconds: int) -> None:
        """One server's wrk turn in round r, `seconds` long, with its RSS sampled."""
        if not measured.sequential:
            return
        a = self.args
        side = SIDE[name]
        run = plan(case, side, self.variants, mode, a.request_seed, 1000 + r)
        try:
            with PeakRss(server) as rss:
                ld = run_wrk(server.port, self.auth[(side, case.masked)], run.bodies, run.seed,
                             concurrency=a.concurrency, seconds=seconds, timeout=seconds)
                measured.drain_seconds.append(server.wait_idle())
            measured.load.append(ld)
            measured.peak_rss_kib = max(measured.peak_rss_kib, rss.peak_kib)
            if ld.failures:
                self.problems.append(f"{mode} {name} {case.key}: {ld.failures} failed requests under load")
            if ld.requests == 0:
                self.problems.append(f"{mode} {name} {case.key}: no request completed under load in {seconds} s")
            if server.proc is not None and server.proc.poll() is not None:
                raise RuntimeError(f"exited with {server.proc.returncode}:\n{server.log_tail(10)}")
        except Exception as exc:  # noqa: BLE001
            measured.error = f"{type(exc).__name__}: {str(exc)[:600]}"
            self.problems.append(f"{mode} {name} {case.key} load run failed: {measured.error}")


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
    "Both servers read the same PostgreSQL database, on the same 2 cores as PostgreSQL and the load generator. "
    "The servers timed (the hub, the hub with its caches off, PostGraphile), started afresh for each mode, run "
    "at the same time but only one is sent requests at a time: per query, each round gives every server a sequential turn, and then each round a "
    "wrk turn, the server going first rotating from round to round, so that drift on the machine hits them alike. "
    "Figures are medians over rounds; a ratio's range in brackets is its lowest and highest per round.",
    "Varied requests (as users send them): Q1 one of 1,000 people, Q2 and Q4 one of the pages of 100 institutions "
    "(all 2,000), Q3 and Q3m one of the pages of 10,000 people, picked per request by a Park–Miller generator from "
    "a seed (bench/queries.py `picks`; bench/post.lua computes the same numbers for wrk), the same sequence for "
    "every server. Each server's keyset cursors of the pages are collected once by walking its own pages "
    "(endCursor). Repeated requests: the first page every time, Q1's first 100 people in turn (the earlier "
    "benchmark).",
    "Hub, caches off: `HUB_PREPARED_CACHE_BYTES=0` (every request prepared afresh; rows are always converted), "
    "timed with varied requests only.",
    "Before timing, every distinct request's answers from both servers are compared after normalising field names "
    "and values (ID numbers and names with hub.core.ids; institutions as the establishment office's JGID, the hub's "
    "codes mapped through its own `sourceUnits`; people and pay rows as sorted lists): every person of Q1, every "
    "page of Q2–Q4.",
    "Hub: `hub serve` with `HUB_SOURCE_<ID>_URL` of all four departments on the database, a fresh SQLite hub "
    "store, `HUB_MAX_PAGE_SIZE=10000`, log level warning, audit log on (its default). Tokens from "
    "`hub token create --role admin` (Q1–Q4) and `--role auditor` (Q3m).",
    "PostGraphile: 5.x amber preset + postgraphile-plugin-connection-filter + lazy JWT, over the raw legacy "
    "tables with `@foreignKey` smart tags (bench/postgraphile/server.mjs); filters on unindexed columns "
    "allowed. Its JWT's role claim is switched to per request: `hubbench_reader` for Q1–Q4, "
    "`hubbench_auditor` for Q3m, which may read only a view with the ID number and name masked in SQL "
    "(bench/postgraphile/setup.sql); sex and birth date come from the ID number in SQL for both roles, "
    "as the hub derives them; Q4's pay rows come from a computed column (`TSmz.lastPay`) that looks the "
    "payees up by the ID number's legacy spellings, as the hub does.",
    "Sequential: one keep-alive connection per turn, warm-up requests first, then the server's share of the "
    "query's requests or the time cap per turn (at least 5 requests). p99 pools all rounds (nearest rank, so "
    "with few samples it is the maximum).",
    "Load: wrk (closed loop, 1 thread, N connections each waiting for its answer); every server's turns of a "
    "query last the same time, ~2 × connections × the slowest server's sequential median within the bounds. "
    "req/s counts the requests completed within a turn (those in flight when it stops are not counted, "
    "which understates the slow pages' req/s); answers with errors count as failures. When wrk stops, the requests it leaves in flight may "
    "still be worked on: the next turn waits until the server is idle (its CPU use under 5 % of a core), and "
    "'busy after wrk stopped' reports how long that took.",
    "SQL statements / request: counted in a separate pass (not while timing), the median over every page (Q1: "
    "its first 20 people), by a PostgreSQL wire-protocol proxy between each server and PostgreSQL (bench/pgwire.py): simple "
    "queries plus executions of freshly bound prepared statements, not counting BEGIN/COMMIT/ROLLBACK, SET, "
    "set_config() or empty pings (the hub's pool pre-ping); round trips are Sync and simple-query messages, "
    "including those control statements. The caches do not change the hub's statements.",
    "Peak RSS: highest VmRSS of the server's process group sampled every 50 ms during that query's load turns "
    "(the server process only; PostgreSQL's backends are not included). A process seldom gives memory back, so "
    "a query's figure includes what the mode's earlier queries (Q1 to Q4, smallest first) left resident.",
    "Targets (issue 17), hub / PostGraphile with varied requests: sequential median ≤ 0.80, req/s under load "
    "≥ 1.25, peak RSS ≤ 1.00.",
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
        log(f"dataset: {json.dumps(sizes)}; Q1 picks from {len(bench.people)} people")
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
    tables = [rows(mode, cases, bench.servers_timed(mode), bench.results, bench.counts) for mode in bench.modes]
    print("\n\n".join(text_table(t) for t in tables))
    meta = {
        "when": started.strftime("%Y-%m-%d %H:%M %Z"),
        "command": " ".join(["python -m bench.compare", *(argv if argv is not None else sys.argv[1:])]),
        **versions,
        "dataset": f"`hub generate --persons {args.persons} --institutions {args.institutions} --seed {args.seed}` "
                   f"into one database ({', '.join(f'{t} {n:,}' for t, n in sizes.items())} rows)",
        "rounds": f"{args.rounds} sequential, {args.load_rounds} under load; sequential requests × {args.iterations_scale} (≤ {args.max_seconds:g} s a turn); "
                  f"wrk {args.concurrency} connections, {args.load_seconds}–{args.max_load_seconds} s a turn; "
                  f"request seed {args.request_seed}",
        "machine load average (1, 5, 15 min)": f"{_loads(load_before)} at the start, {_loads(os.getloadavg())} "
                                               "at the end (other work on the machine skews the figures)",
    }
    args.output.write_text(markdown(tables, cases, meta, NOTES, bench.problems), encoding="utf-8")
    log(f"written {args.output}")
    for p in bench.problems:
        log(f"problem: {p}")
    return 2 if bench.mismatch else 1 if bench.problems else 0


if __name__ == "__main__":
    sys.exit(main())
