"""The results table: hub, PostGraphile and hub/PostGraphile for each figure, as text and markdown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.client import Sequential
from bench.load import Load
from bench.pgwire import Counts


@dataclass(slots=True)
class Measured:
    """Everything measured for one (server, query)."""

    counts: list[Counts] = field(default_factory=list)
    sequential: Sequential | None = None
    load: Load | None = None
    peak_rss_kib: int = 0
    drain_seconds: float | None = None
    error: str | None = None


def _median(values: list[int]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    return (ordered[n // 2] + ordered[(n - 1) // 2]) / 2 if n else float("nan")


# (label, how to read it from a Measured, decimals)
FIGURES: list[tuple[str, Callable[[Measured], float | None], int]] = [
    ("sequential median ms", lambda m: m.sequential.median_ms if m.sequential else None, 1),
    ("sequential p99 ms", lambda m: m.sequential.p99_ms if m.sequential else None, 1),
    ("sequential req/s", lambda m: m.sequential.rps if m.sequential else None, 1),
    ("load median ms", lambda m: m.load.p50_ms if m.load and m.load.requests else None, 1),
    ("load p99 ms", lambda m: m.load.p99_ms if m.load and m.load.requests else None, 1),
    ("load req/s", lambda m: m.load.rps if m.load else None, 1),
    ("SQL statements / request", lambda m: _median([c.statements for c in m.counts]) if m.counts else None, 1),
    ("DB round trips / request", lambda m: _median([c.round_trips for c in m.counts]) if m.counts else None, 1),
    ("KiB from PostgreSQL / request",
     lambda m: _median([c.bytes_from_server for c in m.counts]) / 1024 if m.counts else None, 1),
    ("response KiB", lambda m: m.sequential.response_bytes / 1024 if m.sequential else None, 1),
    ("peak RSS during load MiB", lambda m: m.peak_rss_kib / 1024 if m.peak_rss_kib else None, 0),
    ("busy after wrk stopped s", lambda m: m.drain_seconds, 1),
]


def _fmt(value: float | None, decimals: int) -> str:
    if value is None:
        return "—"
    return f"{value:,.{decimals}f}"


def _ratio(hub: float | None, pg: float | None) -> str:
    if hub is None or pg is None or pg == 0:
        return "—"
    return f"{hub / pg:,.2f}"


def _samples(m: Measured) -> str:
    return f"{len(m.sequential.latencies) if m.sequential else 0} / {m.load.requests if m.load else 0}"


def rows(cases: list[tuple[str, str]], results: dict[tuple[str, str], Measured]) -> list[list[str]]:
    """Table rows: query, figure, hub, PostGraphile, hub/PostGraphile."""
    out = []
    for key, _title in cases:
        hub, pg = results.get(("hub", key), Measured()), results.get(("pg", key), Measured())
        for label, read, decimals in FIGURES:
            h, p = read(hub), read(pg)
            out.append([key, label, _fmt(h, decimals), _fmt(p, decimals), _ratio(h, p)])
        out.append([key, "requests timed: sequential / load", _samples(hub), _samples(pg), ""])
    return out


HEADER = ["query", "figure", "hub", "PostGraphile", "hub/PostGraphile"]


def text_table(table: list[list[str]]) -> str:
    """An aligned plain-text table."""
    widths = [max(len(r[i]) for r in [HEADER, *table]) for i in range(len(HEADER))]
    right = {2, 3, 4}

    def line(r: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))

    out = [line(HEADER), "  ".join("-" * w for w in widths)]
    previous = None
    for r in table:
        if previous is not None and r[0] != previous:
            out.append("")
        out.append(line(r))
        previous = r[0]
    return "\n".join(out)


def markdown(
    table: list[list[str]],
    cases: list[tuple[str, str]],
    meta: dict[str, Any],
    notes: list[str],
    problems: list[str],
) -> str:
    """results.md: what was run, the table, and how each figure was measured."""
    lines = ["# Staffing Hub vs PostGraphile", "", f"Run {meta['when']} with `{meta['command']}`.", ""]
    lines += [f"- **{k}**: {v}" for k, v in meta.items() if k not in ("when", "command")]
    lines += ["", "| query | what |", "|---|---|", *(f"| {k} | {t} |" for k, t in cases), ""]
    lines += ["| " + " | ".join(HEADER) + " |", "|---|---|--:|--:|--:|"]
    lines += ["| " + " | ".join(r) + " |" for r in table]
    if problems:
        lines += ["", "## Problems seen during the run", "", *(f"- {p}" for p in problems)]
    lines += ["", "## How it was measured", "", *(f"- {n}" for n in notes), ""]
    return "\n".join(lines)
