"""Benchmark `hub check`: generate N persons into SQLite, run the cross-check, report time and peak memory.

    python bench/crosscheck.py                      # 1,000,000 persons, seed 1
    python bench/crosscheck.py --persons 50000 --keep
    python bench/crosscheck.py --persons 100000 --keep --workers 2   # the flagged persons checked in two processes
    python bench/crosscheck.py --persons 100000 --keep --per-person  # every rule on every person (the reference)

Generation and the check run as separate processes, so the peak RSS reported is the check's own.
It also scores the findings against the generator's manifest (recall and precision).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPARTMENTS = ("establishment", "organization", "hr", "finance")


# Runs a module as __main__ and writes its own peak RSS (KiB on Linux), the largest of its child processes'
# (the shard processes of --workers), and its and its children's CPU seconds to a file when it exits.
MEASURED = """
import resource, runpy, sys
out, target, sys.argv = sys.argv[1], sys.argv[2], sys.argv[2:]
try:
    if target.endswith(".py"):
        runpy.run_path(target, run_name="__main__")
    else:
        runpy.run_module(target, run_name="__main__")
finally:
    usage, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime + kids.ru_utime + kids.ru_stime
    open(out, "w").write(f"{usage.ru_maxrss} {kids.ru_maxrss} {cpu}")
"""


def _child(target: str, args: list[str], env: dict[str, str] | None, rss_file: Path,
           workers: int = 0) -> tuple[float, int, float]:
    """Run a module or script in a child process; (wall seconds, peak RSS in MiB, CPU seconds with its children's).

    With `workers` shard processes the peak is an upper bound: its own peak plus `workers` times the largest
    shard process's peak (they need not peak at the same moment).
    """
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", MEASURED, str(rss_file), target, *args], check=True, cwd=ROOT, env=env)
    seconds = time.monotonic() - started
    rss, kids, cpu = rss_file.read_text().split()
    return seconds, (int(rss) + workers * int(kids)) // 1024, float(cpu)


def _helpers(workers: int, per_person: bool) -> int:
    """Processes `hub check --workers N` starts besides its own: N ID shards per person; N - 1 helpers sharing the
    flagged persons with it after the may-hit pass."""
    if workers <= 1:
        return 0
    return workers if per_person else workers - 1


def _score(findings: Path, manifest: dict) -> dict[str, object]:
    def key(d: dict) -> tuple[str, str]:
        return d["rule"], d.get("idNumber") or d.get("institutionCode") or ""

    want = {key(a) for a in manifest["anomalies"]}
    got = {key(json.loads(line)) for line in findings.read_text(encoding="utf-8").splitlines() if line}
    return {"planted": len(want), "found": len(got), "missed": len(want - got), "extra": len(got - want),
            "recall": round(len(want & got) / max(len(want), 1), 4), "precision": round(len(want & got) / max(len(got), 1), 4)}


def main() -> None:
    """Generate (unless present), check, print one JSON line with the measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=None, help="data directory (default bench-data/crosscheck-<N>)")
    parser.add_argument("--keep", action="store_true", help="keep the generated databases")
    parser.add_argument("--workers", type=int, default=1, help="hub check --workers (processes checking persons)")
    parser.add_argument("--per-person", action="store_true", help="hub check --per-person (the reference engine)")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    data = (args.dir or ROOT / "bench-data" / f"crosscheck-{args.persons}-{args.seed}").resolve()
    data.mkdir(parents=True, exist_ok=True)
    manifest_path = data / "manifest.json"
    if args.generate_only:
        from hub.demo.generate import generate, sqlite_targets

        generate(sqlite_targets(data), persons=args.persons, seed=args.seed, manifest_path=manifest_path)
        return
    generated = None
    if not manifest_path.exists():
        for d in DEPARTMENTS:
            (data / f"{d}.db").unlink(missing_ok=True)
        generated = _child(__file__, ["--generate-only", "--persons", str(args.persons), "--seed", str(args.seed),
                                      "--dir", str(data)], None, data / "generate.rss")
    env = dict(os.environ)
    for d in DEPARTMENTS:
        env[f"HUB_SOURCE_{d.upper()}_URL"] = f"sqlite+aiosqlite:///{data / f'{d}.db'}"
    env["HUB_STORE_URL"] = f"sqlite+aiosqlite:///{data / 'hub.db'}"
    out = data / "findings.jsonl"
    seconds, peak, cpu = _child("hub.supervision.cli", ["--format", "jsonl", "--out", str(out), "--no-progress",
                                                       "--workers", str(args.workers), *(["--per-person"] if args.per_person else [])], env,
                           data / "check.rss", _helpers(args.workers, args.per_person))
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    size = sum((data / f"{d}.db").stat().st_size for d in DEPARTMENTS) // 2**20
    report = {"persons": args.persons, "seed": args.seed, "workers": args.workers, "per_person": args.per_person, "institutions": manifest["institutions"], "sqlite_mib": size,
              "generate_seconds": round(generated[0], 1) if generated else None,
              "generate_peak_rss_mib": generated[1] if generated else None,
              "check_seconds": round(seconds, 1), "check_cpu_seconds": round(cpu, 1), "check_peak_rss_mib": peak,
              "cpus": os.cpu_count(), **_score(out, manifest)}
    print(json.dumps(report))
    if not args.keep and generated:
        for d in DEPARTMENTS:
            (data / f"{d}.db").unlink(missing_ok=True)
        manifest_path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
