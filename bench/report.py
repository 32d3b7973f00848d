"""The results tables: per mode and query, each server's figures (medians over rounds), the hub /
PostGraphile ratios with the targets of issue 17 beside them, as text and markdown."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.client import Sequential
from bench.load import Load
from bench.pgwire import Counts


@dataclass(slots=True)
class Measured:
    """Everything timed for one (mode, server, query): one Sequential and one Load per round."""

    sequential: list[Sequential] = field(default_factory=list)
    load: list[Load] = field(default_factory=list)
    peak_rss_kib: int = 0
    drain_seconds: list[float] = field(default_factory=list)
    error: str | None = None

    @property
    def sequential_median_ms(self) -> float:
        """The median over rounds of each round's median latency."""
        return statistics.median(s.median_ms for s in self.sequential)

    def describe(self, phase: str) -> str:
        """A short progress line for the rounds of a phase ('sequential' or 'load')."""
        if self.error:
            return "FAILED"
        if phase == "sequential":
            return "median " + ", ".join(f"{s.median_ms:.1f}" for s in self.sequential) + " ms"
        rps = ", ".join(f"{ld.rps:.1f}" for ld in self.load)
        return f"{rps} req/s, peak RSS {self.peak_rss_kib / 1024:.0f} MiB"


NAMES = {"hub": "hub", "off": "hub, caches off", "pg": "PostGraphile"}
Read = Callable[[Measured], list[float]]  # a figure's value in each round (one value: not per round)


def _pooled_p99(m: Measured) -> list[float]:
    latencies = sorted(x for s in m.sequential for x in s.latencies)
    return [latencies[max(0, math.ceil(0.99 * len(latencies)) - 1)] * 1000] if latencies else []


# (label, per-round values of a Measured, target as (comparison, ratio) or None, decimals)
TIMED: list[tuple[str, Read, tuple[str, float] | None, int]] = [
    ("sequential median ms", lambda m: [s.median_ms for s in m.sequential], ("≤", 0.80), 1),
    ("sequential p99 ms (all rounds)", _pooled_p99, None, 1),
    ("load req/s", lambda m: [ld.rps for ld in m.load], ("≥", 1.25), 1),
    ("load median ms", lambda m: [ld.p50_ms for ld in m.load if ld.requests], None, 1),
    ("peak RSS during load MiB", lambda m: [m.peak_rss_kib / 1024] if m.peak_rss_kib else [], ("≤", 1.00), 0),
    ("response KiB", lambda m: [s.response_bytes / 1024 for s in m.sequential], None, 1),
    ("busy after wrk stopped s", lambda m: m.drain_seconds, None, 1),
]
COUNTED: list[tuple[str, Callable[[Counts], float]]] = [
    ("SQL statements / request", lambda c: c.statements),
    ("DB round trips / request", lambda c: c.round_trips),
    ("KiB from PostgreSQL / request", lambda c: c.bytes_from_server / 1024),
]


def _fmt(value: float | None, decimals: int) -> str:
    return "—" if value is None else f"{value:,.{decimals}f}"


def _met(ratio: float, target: tuple[str, float]) -> bool:
    op, bound = target
    return ratio <= bound if op == "≤" else ratio >= bound


@dataclass(frozen=True, slots=True)
class Table:
    """One mode's table: its header, rows, and the targets met per hub server."""

    mode: str
    header: list[str]
    rows: list[list[str]]
    met: dict[str, tuple[int, int]]  # hub server -> (targets met, targets measured)


def rows(
    mode: str,
    cases: list[tuple[str, str]],
    servers: tuple[str, ...],
    results: dict[tuple[str, str, str], Measured],
    counts: dict[tuple[str, str], list[Counts]],
) -> Table:
    """The table of one mode: query, figure, each server, each hub server / PostGraphile, target, met."""
    hubs = [s for s in servers if s != "pg"]
    header = ["query", "figure", *(NAMES[s] for s in servers), *(f"{NAMES[h]} / PG" for h in hubs), "target", "met"]
    met = {h: [0, 0] for h in hubs}
    out: list[list[str]] = []
    for key, _title in cases:
        measured = {s: results.get((mode, s, key), Measured()) for s in servers}
        for label, read, target, decimals in TIMED:
            values = {s: read(m) for s, m in measured.items()}
            medians = {s: statistics.median(v) if v else None for s, v in values.items()}
            ratios, verdicts = [], []
            for h in hubs:
                hv, pv = values[h], values["pg"]
                if not hv or not pv or not pv[0]:
                    ratios.append("—")
                    continue
                ratio = statistics.median(hv) / statistics.median(pv)
                cell = f"{ratio:.2f}"
                if target and len(hv) == len(pv) > 1:  # per round, the servers having taken turns
                    each = [a / b for a, b in zip(hv, pv, strict=True) if b]
                    cell += f" ({min(each):.2f}–{max(each):.2f})"
                ratios.append(cell)
                if target:
                    ok = _met(ratio, target)
                    met[h][0] += ok
                    met[h][1] += 1
                    verdicts.append("yes" if ok else "no")
            goal = f"{target[0]} {target[1]:.2f}" if target else ""
            out.append([key, label, *(_fmt(medians[s], decimals) for s in servers), *ratios, goal, " / ".join(verdicts)])
        for label, count in COUNTED:
            per = {s: [count(c) for c in counts.get((s, key), [])] if s in ("hub", "pg") else [] for s in servers}
            med = {s: statistics.median(v) if v else None for s, v in per.items()}
            hub_med, pg_med = med.get("hub"), med["pg"]
            shares = [f"{hub_med / pg_med:.2f}" if h == "hub" and hub_med is not None and pg_med else "—" for h in hubs]
            out.append([key, label, *(_fmt(med[s], 1) for s in servers), *shares, "", ""])
        timed = [f"{sum(len(s.latencies) for s in m.sequential)} / {sum(ld.requests for ld in m.load)}"
                 for m in measured.values()]
        out.append([key, "requests timed: sequential / load", *timed, *([""] * len(hubs)), "", ""])
    return Table(mode, header, out, {h: (a, b) for h, (a, b) in met.items()})


def verdict(table: Table) -> str:
    """One line: how many targets each hub server met in a mode."""
    return f"{table.mode} requests: targets met " + ", ".join(
        f"{NAMES[h]} {a} of {b}" for h, (a, b) in table.met.items())


def text_table(table: Table) -> str:
    """An aligned plain-text table with its verdict."""
    all_rows = [table.header, *table.rows]
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(table.header))]

    def line(r: list[str]) -> str:
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))

    out = [f"== {table.mode} requests ==", line(table.header), "  ".join("-" * w for w in widths)]
    previous = None
    for r in table.rows:
        if previous is not None and r[0] != previous:
            out.append("")
        out.append(line(r))
        previous = r[0]
    return "\n".join([*out, verdict(table)])


def markdown(
    tables: list[Table],
    cases: list[tuple[str, str]],
    meta: dict[str, Any],
    notes: list[str],
    problems: list[str],
) -> str:
    """results.md: what was run, a table per mode, and how each figure was measured."""
    lines = ["# Staffing Hub vs PostGraphile", "", f"Run {meta['when']} with `{meta['command']}`.", ""]
    lines += [f"- **{k}**: {v}" for k, v in meta.items() if k not in ("when", "command")]
    lines += ["", "| query | what |", "|---|---|", *(f"| {k} | {t} |" for k, t in cases)]
    for table in tables:
        lines += ["", f"## {table.mode.capitalize()} requests", "", verdict(table) + ".", ""]
        lines += ["| " + " | ".join(table.header) + " |", "|---|---|" + "--:|" * (len(table.header) - 2)]
        lines += ["| " + " | ".join(r) + " |" for r in table.rows]
    if problems:
        lines += ["", "## Problems seen during the run", "", *(f"- {p}" for p in problems)]
    lines += ["", "## How it was measured", "", *(f"- {n}" for n in notes), ""]
    return "\n".join(lines)
