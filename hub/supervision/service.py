"""One supervised run, end to end: check the sources, persist alerts, resolve by data, propose freezes.

The CLI (`hub check --save`), the GraphQL mutation `runCheck` and the scheduler all call `supervise`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import sqlalchemy as sa

from adapters.registry import Sources
from hub.core.errors import Conflict, NotFound
from hub.store import Store
from hub.store.db import aware, utcnow
from hub.store.tables import check_runs
from hub.supervision import deferrals
from hub.supervision.alerts import SYSTEM, Recorded, record_findings, resolve_missing
from hub.supervision.engine import COLUMNAR, CheckResult, Progress, Sink, SourcesFactory, run_check
from hub.supervision.freezes import propose_for_alerts
from hub.supervision.model import Finding, Scope
from hub.supervision.world import check_month, latest_pay_month


@dataclass(frozen=True, slots=True)
class CheckRun:
    """One run as recorded in the store."""

    id: int
    status: str
    triggered_by: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    reference_month: str | None
    scope_institution: str | None
    scope_region: str | None
    rules: tuple[str, ...] = ()
    persons: int | None = None
    findings: int | None = None
    opened: int | None = None
    reopened: int | None = None
    resolved: int | None = None
    error: str | None = None
    proposed_freezes: tuple[int, ...] = field(default=(), compare=False)


def _run(row: sa.Row[object]) -> CheckRun:
    m = row._mapping
    return CheckRun(m["id"], m["status"], m["triggered_by"], aware(m["started_at"]), aware(m["finished_at"]),  # type: ignore[arg-type]
                    m["reference_month"], m["scope_institution"], m["scope_region"], tuple(m["rules"] or ()),
                    m["persons"], m["findings"], m["opened"], m["reopened"], m["resolved"], m["error"])


async def open_run(store: Store, scope: Scope, actor: str) -> int:
    """Record a run as RUNNING; its id."""
    institution = ",".join(sorted(scope.institutions)) if scope.institutions else None
    async with store.begin() as conn:
        return int((await conn.execute(sa.insert(check_runs).returning(check_runs.c.id), [{
            "started_at": utcnow(), "status": "RUNNING", "triggered_by": actor,
            "scope_institution": institution, "scope_region": scope.region}])).scalar_one())


async def supervise(sources: Sources, store: Store, *, month: str | None = None, scope: Scope | None = None,
                    actor: str = SYSTEM, progress: Progress | None = None, sink: Sink | None = None,
                    lookback: int = 12, chunk_size: int = 2000, wait: bool = False,
                    collect: bool = True, run_id: int | None = None, partitions: int = 1,
                    make_sources: SourcesFactory | None = None, columnar: bool = COLUMNAR) -> tuple[CheckRun, CheckResult]:
    """Run the cross-check and record it; one run at a time per store (CONFLICT unless `wait`).

    Findings are persisted in batches while the run goes on; `collect=False` keeps them out of the
    returned result too, so memory stays bounded on large sources. `run_id` continues a run
    recorded by `open_run` (a request that answers before the run ends). `partitions` and
    `make_sources` split the person pass over processes (engine.run_check).
    """
    if store.lock.locked() and not wait:
        raise Conflict("已有核查正在运行 / a check is already running")
    scope = scope or Scope()
    async with store.lock:
        if run_id is None:
            run_id = await open_run(store, scope, actor)
        try:
            ref = check_month(month) if month else await latest_pay_month(sources)
            deferred = await deferrals.covering(store, ref)
            now = utcnow()
            recorded = Recorded([], [], 0)

            async def persist(batch: list[Finding]) -> None:
                async with store.begin() as conn:
                    done = await record_findings(conn, run_id, batch, now)
                recorded.opened.extend(done.opened)
                recorded.reopened.extend(done.reopened)
                recorded.seen += done.seen

            result = await run_check(sources, month=ref, scope=scope, deferred=deferred, lookback=lookback,
                                     chunk_size=chunk_size, progress=progress, sink=sink, on_batch=persist,
                                     collect=collect, partitions=partitions, make_sources=make_sources, columnar=columnar)
            async with store.begin() as conn:
                resolved = await resolve_missing(conn, run_id, month=ref, rules=result.rules, seen=result.seen,
                                                 institutions=scope.institutions, region=scope.region,
                                                 examined=result.examined, now=now)
                proposed = await propose_for_alerts(conn, recorded.opened + recorded.reopened, now)
                await conn.execute(sa.update(check_runs).where(check_runs.c.id == run_id).values(
                    status="DONE", finished_at=utcnow(), reference_month=ref, rules=list(result.rules),
                    persons=result.persons, findings=recorded.seen, opened=len(recorded.opened),
                    reopened=len(recorded.reopened), resolved=len(resolved)))
        except BaseException as exc:
            async with store.begin() as conn:
                await conn.execute(sa.update(check_runs).where(check_runs.c.id == run_id).values(
                    status="FAILED", finished_at=utcnow(), error=f"{type(exc).__name__}: {exc}"[:2000]))
            raise
    async with store.connect() as conn:
        row = (await conn.execute(sa.select(check_runs).where(check_runs.c.id == run_id))).one()
    return replace(_run(row), proposed_freezes=tuple(proposed)), result


async def recent_runs(store: Store, last: int = 20) -> list[CheckRun]:
    """The latest runs, newest first."""
    async with store.connect() as conn:
        rows = await conn.execute(sa.select(check_runs).order_by(check_runs.c.id.desc()).limit(last))
        return [_run(r) for r in rows]


async def get_run(store: Store, run_id: int) -> CheckRun:
    """One recorded run, or NOT_FOUND."""
    async with store.connect() as conn:
        row = (await conn.execute(sa.select(check_runs).where(check_runs.c.id == run_id))).first()
    if row is None:
        raise NotFound(f"核查运行 {run_id} 不存在 / check run {run_id} does not exist")
    return _run(row)
