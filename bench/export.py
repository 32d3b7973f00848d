"""Export of a saved report to XLSX at scale: time, rows and the process's memory while it runs.

    .venv/bin/python -m bench.export                  # 100,000 persons in SQLite (generated once into --dir)
    .venv/bin/python -m bench.export --persons 20000 --format csv

Generates the demo data (once per directory and size), saves a report listing every person of the
registry (ID number, name, sex, birth date, retirement date, institution, quota type, entry date) and
exports it as the administrator through `hub.export.export` inside the app's lifespan — the path
`GET /export/…` and `hub report export` take: one operation per page of HUB_EXPORT_PAGE_ROWS rows.
RSS is sampled every 0.2 s from /proc; the figures are printed with the wall time, the process's
CPU time (the steadier figure on a loaded machine) and the load average. `--profile FILE` writes a
cProfile of the exports (read it with `python -m pstats FILE`).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import threading
import time
from pathlib import Path

DOCUMENT = """query($first: Int, $after: String) { people(first: $first, after: $after) {
  pageInfo { hasNextPage endCursor }
  edges { node { idNumber name sex birthDate retirementDate institution { name } registry { quotaType enteredOn } } } } }"""


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--format", default="xlsx", choices=("xlsx", "csv"))
    parser.add_argument("--dir", type=Path, default=Path("/tmp/hub-bench-export"))
    parser.add_argument("--repeat", type=int, default=2, help="exports in one process (a bounded RSS levels off)")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the exports to this file")
    args = parser.parse_args()
    out = args.dir / str(args.persons)
    os.environ.update({"HUB_DEMO_DIR": str(out), "HUB_STORE_URL": f"sqlite+aiosqlite:///{out}/store.db",
                       "HUB_AUDIT_KEY": "bench-audit-key-of-sufficient-length-0123456789",
                       "HUB_STORE_AUTO_UPGRADE": "true"})
    if not (out / "manifest.json").exists():
        from hub.cli import run_generate
        from hub.demo.generate import sqlite_targets

        out.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        run_generate(sqlite_targets(out), args.persons, 1, None, out / "manifest.json")
        print(f"generated {args.persons} persons in {time.perf_counter() - started:.0f} s")

    from hub.app import create_app
    from hub.core.principal import Principal
    from hub.core.settings import Settings
    from hub.export import export
    from hub.store import reports

    samples: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(rss_mib())
            time.sleep(0.2)

    answering = [0.0, 0.0]  # wall, CPU

    class Timed:
        """The app's runner, timing the answers (the rest of the export is writing)."""

        def __init__(self, runner: object) -> None:
            self.runner = runner

        async def answer(self, *args: object) -> object:
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return await self.runner.answer(*args)  # type: ignore[attr-defined]
            finally:
                answering[0] += time.perf_counter() - started
                answering[1] += time.process_time() - cpu

    profile = cProfile.Profile() if args.profile else None

    async def run() -> None:
        settings = Settings()
        app = create_app(settings)
        async with app.router.lifespan_context(app) as state:
            assert state is not None
            await reports.put(state["hub"].store, "bench-people", DOCUMENT, {}, "bench", None, "bench")
            for turn in range(1, args.repeat + 1):
                samples.clear()
                answering[:] = [0.0, 0.0]
                done.clear()
                before = rss_mib()
                thread = threading.Thread(target=sample, daemon=True)
                thread.start()
                load = os.getloadavg()[0]
                started, cpu = time.perf_counter(), time.process_time()
                if profile is not None:
                    profile.enable()
                file, rows = await export(Timed(state["exports"]), state["hub"].store, state["schema"]._schema,
                                          Principal("bench", None, ("admin",), "152900"), "bench-people", args.format, {},
                                          settings.export_page_rows, settings.export_max_rows)
                if profile is not None:
                    profile.disable()
                elapsed, spent = time.perf_counter() - started, time.process_time() - cpu
                done.set()
                thread.join()
                size = file.seek(0, 2)
                file.close()
                third = max(1, len(samples) // 3)
                print(f"export {turn}, {args.format}: {rows} rows, {size / 2**20:.1f} MiB, {elapsed:.1f} s wall, "
                      f"{spent:.1f} s CPU ({rows / elapsed:,.0f} rows/s); answering the pages {answering[0]:.1f} s "
                      f"({answering[1]:.1f} s CPU), writing {elapsed - answering[0]:.1f} s ({spent - answering[1]:.1f} s CPU)")
                print(f"  RSS MiB: before {before:.0f}; during: first third max {max(samples[:third]):.0f}, "
                      f"last third max {max(samples[-third:]):.0f}, peak {max(samples):.0f}; "
                      f"load average {load:.1f} → {os.getloadavg()[0]:.1f}")
        if profile is not None:
            profile.dump_stats(args.profile)
            print(f"profile: {args.profile}")

    asyncio.run(run())


if __name__ == "__main__":
    main()
