"""`hub check`: run the cross-check on demand; one finding per line on stdout, progress on stderr.

The lead registers it with `app.command("check")(check_command)` in hub/cli.py.
"""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from collections import Counter
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated, TextIO

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hub.core.settings import Settings
from hub.supervision.model import Finding, Scope

CSV_COLUMNS = ("rule", "severity", "month", "idNumber", "institutionCode", "regionCode", "message", "evidence")


class OutputFormat(StrEnum):
    """How findings are printed."""

    JSONL = "jsonl"
    CSV = "csv"
    TABLE = "table"


class Printer:
    """Writes findings one per line in the chosen format, as they arrive."""

    def __init__(self, out: TextIO, fmt: OutputFormat) -> None:
        self.out, self.fmt = out, fmt
        self.counts: Counter[str] = Counter()
        self._csv = csv.writer(out, lineterminator="\n") if fmt == OutputFormat.CSV else None
        if self._csv is not None:
            self._csv.writerow(CSV_COLUMNS)

    def __call__(self, finding: Finding) -> None:
        self.counts[finding.rule] += 1
        data = finding.to_json()
        if self._csv is not None:
            self._csv.writerow([data.get(c, "") if c != "evidence" else json.dumps(data["evidence"], ensure_ascii=False)
                                for c in CSV_COLUMNS])
        elif self.fmt == OutputFormat.TABLE:
            subject = finding.id_number or finding.institution_code or ""
            self.out.write(f"{finding.rule:<4} {finding.severity.value:<8} {subject:<22} {finding.message}\n")
        else:
            self.out.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")


def _store_wanted(url: str, save: bool) -> bool:
    """Read the store (deferrals) when saving, or when it exists; never create one just to read it."""
    if save:
        return True
    parsed = sa.make_url(url)
    return parsed.get_backend_name() != "sqlite" or bool(parsed.database and Path(parsed.database).exists())


async def run(settings: Settings, printer: Printer, *, month: str | None, scope: Scope, save: bool, lookback: int,
              chunk_size: int, console: Console, show_progress: bool, workers: int, columnar: bool) -> None:
    """Build the sources (and store), run the check with a progress bar, print a summary on stderr."""
    from adapters.registry import build_sources
    from hub.store import open_store
    from hub.supervision import deferrals
    from hub.supervision.engine import NEEDS, run_check
    from hub.supervision.service import supervise

    sources = build_sources(settings)
    sources.check_needs(NEEDS)
    # --workers N: the flagged persons shared by N processes (--per-person: N ID shards), each with its own connections
    make_sources = partial(build_sources, settings) if workers > 1 else None
    store = await open_store(settings.store_url) if _store_wanted(settings.store_url, save) else None
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=console, disable=not show_progress, transient=False)
    task = bar.add_task("核查人员 / checking persons", total=None)

    def progress(stage: str, done: int, total: int) -> None:
        bar.update(task, completed=done, total=total or None)

    try:
        with bar:
            if save and store is not None:
                run_row, result = await supervise(sources, store, month=month, scope=scope, actor="cli", progress=progress,
                                                  sink=printer, lookback=lookback, chunk_size=chunk_size, wait=True,
                                                  collect=False, partitions=workers, make_sources=make_sources,
                                                  columnar=columnar)
                console.print(f"run {run_row.id}: {run_row.opened} new, {run_row.reopened} reopened, "
                              f"{run_row.resolved} resolved by data, {len(run_row.proposed_freezes)} freezes proposed")
            else:
                from hub.supervision.world import check_month, latest_pay_month

                ref = check_month(month) if month else await latest_pay_month(sources)
                deferred = await deferrals.covering(store, ref) if store is not None else frozenset()
                result = await run_check(sources, month=ref, scope=scope, deferred=deferred, lookback=lookback,
                                         chunk_size=chunk_size, progress=progress, sink=printer, collect=False, partitions=workers,
                                         make_sources=make_sources, columnar=columnar)
    finally:
        await sources.close()
        if store is not None:
            await store.close()
    summary = ", ".join(f"{rule} {n}" for rule, n in sorted(printer.counts.items())) or "none"
    console.print(f"reference month {result.month}: {result.persons} persons, {sum(printer.counts.values())} findings "
                  f"({summary}) in {result.seconds:.1f}s")
    for rule, why in sorted(result.skipped.items()):
        console.print(f"[yellow]skipped {rule}[/]: {why}")
    if result.unplaced:
        console.print(f"[yellow]{len(result.unplaced)} units could not be placed in the crosswalk[/] "
                      "(数据质量 / data quality): " + ", ".join(f"{d}:{u}" for d, u, _ in result.unplaced[:10]))


def check_command(
    fmt: Annotated[OutputFormat, typer.Option("--format", help="输出格式 / output format")] = OutputFormat.JSONL,
    reference_month: Annotated[str | None, typer.Option(help="基准月份 YYYY-MM（默认财政最新工资月） / reference month")] = None,
    institution: Annotated[list[str] | None, typer.Option(help="只核查这些机构（统一社会信用代码） / institution codes")] = None,
    region: Annotated[str | None, typer.Option(help="只核查该行政区划 / division code prefix")] = None,
    save: Annotated[bool, typer.Option("--save/--no-save", help="结果写入枢纽库形成预警 / record alerts in the hub store")] = False,
    out: Annotated[Path | None, typer.Option(help="输出文件（默认标准输出） / output file (default stdout)")] = None,
    lookback: Annotated[int, typer.Option(min=1, max=120, help="R14 回看月数 / months of pay history for R14")] = 12,
    chunk_size: Annotated[int, typer.Option(min=100, help="每批读取行数 / rows per streamed chunk")] = 2000,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="显示进度条 / show a progress bar")] = True,
    workers: Annotated[int, typer.Option(min=1, max=10, help="核查人员的进程数（逐人核查时每进程一个身份证号分片） / processes checking persons (with --per-person: one ID shard each)")] = 1,
    per_person: Annotated[bool, typer.Option("--per-person", help="不做列式预筛，逐人核查全部人员（参照实现） / run every rule on every person (the reference engine)")] = False,
) -> None:
    """三方交叉核查 / Cross-check registry, personnel and payroll; one finding per line."""
    console = Console(stderr=True)
    scope = Scope(frozenset(institution) if institution else None, region)
    target: TextIO = open(out, "w", encoding="utf-8", newline="") if out else sys.stdout  # noqa: SIM115
    try:
        asyncio.run(run(Settings(), Printer(target, fmt), month=reference_month, scope=scope, save=save,
                        lookback=lookback, chunk_size=chunk_size, console=console, show_progress=progress,
                        workers=workers, columnar=not per_person))
    finally:
        if out:
            target.close()
        else:
            target.flush()


if __name__ == "__main__":  # `python -m hub.supervision.cli` until `hub check` is registered
    typer.run(check_command)
