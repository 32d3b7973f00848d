"""The cross-check engine: streams every source in normalized-ID order, merges per person, applies the rules.

Memory is bounded by a few chunks per source, the current person's records and small per-institution
counters; findings are handed to a sink as they appear. With an institution scope the engine reads
only the persons tied to those institutions (by key, in batches) instead of streaming everything.

A whole run can be split into ID shards (`partitions`, adapters.base.IdShard): every record of a
person falls in one shard, so the person rules of each shard see whole persons; the shards' active
slot counts add up to the headcount the institution rules read. Given `make_sources`, each shard
runs in its own process (its own connections and world) and hands its findings back in batches.
A columnar run given `make_sources` and `partitions` > 1 splits only its flagged persons instead:
the helper processes start with the run (their worlds are built while this process reads the
columns), and each gets its share of the flagged ID numbers once the may-hit pass has picked them.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue as queues_
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from adapters.base import Capability, ColumnReader, IdShard, Need
from adapters.registry import Sources
from hub.core.crosswalk import Crosswalk
from hub.core.errors import BadUserInput, SourceUnavailable
from hub.supervision.deferred import Deferred
from hub.supervision.facts import Facts, PersonView, World
from hub.supervision.merge import Feed, merge
from hub.supervision.model import Finding, Hit, Scope
from hub.supervision.person_rules import PERSON_RULES
from hub.supervision.rules import RULES
from hub.supervision.unit_rules import INSTITUTION_RULES
from hub.supervision.world import (
    available_departments,
    build_world,
    check_month,
    latest_pay_month,
)

Progress = Callable[[str, int, int], None]
Sink = Callable[[Finding], None]
Batch = Callable[[list[Finding]], Awaitable[None]]
SourcesFactory = Callable[[], Sources]  # picklable (e.g. functools.partial(build_sources, settings)) for processes
Emit = Callable[[str, Hit, str | None, tuple[str, ...]], None]

# (PersonView field, entity) of every per-person stream; each is read from the department keeping it.
STREAMS = (
    ("slots", "registry_slot"),
    ("personnel", "personnel"),
    ("posts", "post_assignment"),
    ("insurance", "insurance"),
    ("cadres", "cadre"),
    ("payees", "payee"),
    ("pay", "pay_line"),
)
# The entities recording a person's unit, to find the persons of a scoped institution.
UNIT_FIELDS = ("registry_slot", "personnel", "cadre", "payee", "pay_line")
KEY_BATCH = 500
# Streams whose flagged persons' records the may-hit pass reads by another key its columns hold: the month's pay
# rows by payee code, which a database finds through the (month, payee) key; by ID number the payee list is
# joined to every pay row of the month in each statement (SQLite without statistics starts from the month).
VIA = {"pay": "payee_code"}
Via = tuple[str, dict[str, list[str]]]  # (field, ID number -> its values of the field)
_RUN = "核查 / cross-check"
# What a run asks of the sources (checked with their capabilities when the hub starts).
NEEDS: tuple[Need, ...] = (
    *(Need(entity, Capability.STREAM | Capability.AGGREGATE | Capability.READ, _RUN) for _, entity in STREAMS),
    *(Need(entity, Capability.STREAM, _RUN) for entity in ("unit", "quota", "leadership_post")),
    Need("appointment", Capability.AGGREGATE, _RUN),
    *(need for rule in PERSON_RULES.values() if rule.lookup is not None for need in rule.lookup.needs),
)


@dataclass(slots=True)
class CheckResult:
    """The outcome of one run: findings in scope, the rules evaluated, what could not be checked."""

    month: str
    scope: Scope
    findings: list[Finding] = field(default_factory=list)
    rules: tuple[str, ...] = ()
    skipped: dict[str, str] = field(default_factory=dict)  # rule -> why it did not run
    missing: dict[str, str] = field(default_factory=dict)  # department -> problem
    seen: set[str] = field(default_factory=set)  # fingerprints of every finding computed, in scope or not
    examined: frozenset[str] | None = None  # ID numbers read in a scoped run (None: everyone)
    persons: int = 0
    unplaced: list[tuple[str, str, str | None]] = field(default_factory=list)  # (department, unit, name)
    seconds: float = 0.0


def _finding(rule_id: str, hit: Hit, world: World, id_number: str | None, institutions: tuple[str, ...]) -> Finding:
    rule = RULES[rule_id]
    code = hit.institution_code
    return Finding(rule.id, rule.severity, world.month, id_number, code, world.region(code), hit.facts,
                   hit.evidence, rule.message(hit.evidence), institutions or ((code,) if code else ()))


async def _by_keys(adapter: Any, entity: str, keys: list[str], where: dict[str, Any] | None,
                   via: Via | None = None) -> AsyncIterator[list[Any]]:
    """Chunks of a person entity for sorted ID numbers, fetched in batches (stream order preserved); `via`
    fetches each batch by the ID numbers' values of another field, keeping the records of those ID numbers."""
    for i in range(0, len(keys), KEY_BATCH):
        batch = keys[i:i + KEY_BATCH]
        if via is None:
            rows = await adapter.fetch(entity, "id_number", batch, where)
        else:
            field, values = via
            wanted = set(batch)
            found = await adapter.fetch(entity, field, sorted({v for k in batch for v in values.get(k, ())}), where)
            rows = [r for r in found if r.id_number in wanted]
        rows.sort(key=lambda r: r.id_number or "")
        yield rows


async def _scope_ids(sources: Sources, available: set[str], cw: Crosswalk, codes: Iterable[str],
                     window: dict[str, Any]) -> list[str]:
    """The ID numbers any department ties to the scoped institutions."""
    found: set[str] = set()
    holders = sources.holders()
    for entity in UNIT_FIELDS:
        department = holders.get(entity, "")
        local = cw.local_ids(department, codes)
        if department not in available or not local:
            continue
        where = {"unit_local_id": local, **(window if entity == "pay_line" else {})}
        async for chunk in sources[department].stream(entity, where=where):
            found.update(r.id_number for r in chunk if r.id_number)
    return sorted(found)


class Outbox:
    """Findings in scope on their way out: to a sink at once, to an async consumer in batches."""

    def __init__(self, result: CheckResult, sink: Sink | None, on_batch: Batch | None, collect: bool,
                 size: int = 1000) -> None:
        self.result, self.sink, self.on_batch, self.collect, self.size = result, sink, on_batch, collect, size
        self.buffer: list[Finding] = []

    def put(self, finding: Finding) -> None:
        """Hand a finding on (the async consumer gets it at the next drain)."""
        if self.collect:
            self.result.findings.append(finding)
        if self.sink is not None:
            self.sink(finding)
        if self.on_batch is not None:
            self.buffer.append(finding)

    @property
    def full(self) -> bool:
        """Whether a batch is waiting."""
        return len(self.buffer) >= self.size

    async def drain(self) -> None:
        """Give the async consumer what has accumulated."""
        if self.buffer and self.on_batch is not None:
            batch, self.buffer = self.buffer, []
            await self.on_batch(batch)


class _Counter:
    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self, n: int) -> None:
        self.done += n
        if self.progress is not None:
            self.progress("核查人员 / checking persons", self.done, max(self.total, self.done))


# Whole runs pick the persons to check by the columnar may-hit pass unless told to check every person.
COLUMNAR = True


async def run_check(
    sources: Sources,
    *,
    month: str | None = None,
    scope: Scope | None = None,
    deferred: Iterable[str] = (),
    lookback: int = 12,
    chunk_size: int = 2000,
    progress: Progress | None = None,
    sink: Sink | None = None,
    on_batch: Batch | None = None,
    collect: bool = True,
    partitions: int = 1,
    make_sources: SourcesFactory | None = None,
    columnar: bool = COLUMNAR,
) -> CheckResult:
    """Cross-check the sources as of a reference month (default: latest finance pay month).

    Findings in scope go to `sink` as they are found, to `on_batch` in batches, and into
    `result.findings` when `collect` (leave it off at scale: memory then stays bounded).
    `columnar` (sources that read columns, one partition or `make_sources`): the may-hit pass picks the
    persons the person rules run on (columnar.py), and `partitions` processes share them (this one and
    helpers made with `make_sources`); off, every person's records are streamed through the rules, in
    `partitions` ID shards (1 to 10) one after the other in this process, or each in its own process when
    `make_sources` is given. A run scoped to institutions reads their persons in this process.
    """
    if not 1 <= partitions <= 10:
        raise BadUserInput("分片数应为 1–10 / partitions must be 1 to 10", field="partitions")
    started = time.monotonic()
    scope = scope or Scope()
    available, missing = await available_departments(sources)
    pay = sources.holder("pay_line")
    if month is None and pay not in available:
        raise SourceUnavailable(pay, missing.get(pay, ""))
    ref = check_month(month) if month else await latest_pay_month(sources)
    world, agg = await build_world(sources, available, ref, frozenset(deferred))
    result = CheckResult(ref, scope, missing=missing)
    result.unplaced = [(d, u.local_id, u.name) for d, u in world.crosswalk.unplaced]
    holders = sources.holders()
    unmet = {r.id: [d for d in r.departments(holders) if d not in available] for r in RULES.values()}
    result.rules = tuple(rid for rid, lacking in unmet.items() if not lacking)
    result.skipped = {rid: "缺少数据源 / source unavailable: " + ", ".join(lacking) for rid, lacking in unmet.items() if lacking}

    outbox = Outbox(result, sink, on_batch, collect)

    def take(finding: Finding) -> None:
        result.seen.add(finding.fingerprint)
        if scope.everything or any(scope.admits_institution(c, world.region(c)) for c in finding.institutions):
            outbox.put(finding)

    def emit(rule_id: str, hit: Hit, id_number: str | None, institutions: tuple[str, ...]) -> None:
        take(_finding(rule_id, hit, world, id_number, institutions))

    # rules reading every department's unit list run now, so the lists can go before the person pass
    early = {rid: list(rule.check(world, agg)) for rid, rule in INSTITUTION_RULES.items()
             if rule.before_persons and rid in result.rules}
    agg.units = {}
    window = {"month": ref}  # earlier months are fetched for the few who need them (deferred.py)
    keys = None
    if scope.institutions is not None:
        unknown = sorted(c for c in scope.institutions if world.crosswalk.identity(c) is None)
        if unknown:
            raise BadUserInput(f"未知机构 / unknown institutions: {', '.join(unknown)}", field="institutionCode")
        keys = await _scope_ids(sources, available, world.crosswalk, scope.institutions, window)
        result.examined = frozenset(keys)
    shards: list[IdShard | None] = [] if keys is not None or partitions == 1 else [IdShard(i, partitions) for i in range(partitions)]
    departments = {sources.holders()[e] for _, e in STREAMS if sources.holders().get(e) in available}
    if columnar and keys is None and (partitions == 1 or make_sources is not None) and _column_readers(sources, departments):
        helpers = _Helpers(make_sources, result, frozenset(deferred), lookback, chunk_size, partitions - 1) \
            if make_sources and partitions > 1 else None
        agg.headcount = await _columnar(sources, available, world, window, chunk_size, progress, result, emit, lookback,
                                        outbox, take, helpers)
    elif make_sources is not None and shards:
        agg.headcount = await _in_processes(make_sources, result, frozenset(deferred), [s for s in shards if s], lookback, chunk_size,
                                            _Counter(progress, await _total(sources, available, window)), take, outbox)
    else:
        counter = _Counter(progress, await _total(sources, available, window)) if keys is None else None
        for shard in shards or [None]:
            part = await _persons(sources, available, world, window, keys, chunk_size, counter, result, emit,
                                  _lookups(sources, world, result, emit, lookback), outbox, shard)
            for key, n in part.items():
                agg.headcount[key] = agg.headcount.get(key, 0) + n
    for rid, rule in INSTITUTION_RULES.items():
        if rid in result.rules:
            for hit in early[rid] if rid in early else rule.check(world, agg):
                emit(rid, hit, None, ())
    await outbox.drain()
    result.seconds = time.monotonic() - started
    return result


def _column_readers(sources: Sources, departments: set[str]) -> bool:
    """Whether every department of the person streams reads columns (else the records are streamed)."""
    return all(isinstance(sources[d], ColumnReader) for d in departments)


async def _columnar(sources: Sources, available: set[str], world: World, window: dict[str, Any], chunk_size: int,
                    progress: Progress | None, result: CheckResult, emit: Emit, lookback: int, outbox: Outbox,
                    take: Callable[[Finding], None], helpers: _Helpers | None) -> dict[tuple[str, str], int]:
    """The may-hit pass, then the person rules on the flagged persons read by ID number (a share of them in each
    of the `helpers`' processes). Returns the headcount."""
    from hub.supervision import columnar as columns  # Polars loads only for a whole run

    try:
        frames = await columns.read(sources, available, STREAMS, world.month, "R13" in result.rules, lookback)
        # Polars work in a thread: a served hub keeps answering while a large run scans its columns
        keys, total, headcount = await asyncio.to_thread(columns.scan, frames, world, result.rules)
        via = {name: (field, columns.values_of(frames[name], field, keys)) for name, field in VIA.items()}
        del frames
        counter = _Counter(progress, len(keys))
        shares = _shares(keys, 1 + (helpers.count if helpers else 0))
        mine = _persons(sources, available, world, window, shares[0], chunk_size, None, result, emit,
                        _lookups(sources, world, result, emit, lookback), outbox, via=_via_of(via, shares[0]))
        if helpers is None:
            await mine
        else:
            for inbox, share in zip(helpers.inboxes, shares[1:], strict=True):
                inbox.put((share, _via_of(via, share)))
            try:
                async with asyncio.TaskGroup() as group:  # a failure on either side stops the other
                    group.create_task(mine)
                    group.create_task(helpers.workers.take_all(take, outbox, counter=None, done=lambda _m: None))
            except ExceptionGroup as failed:  # the failure itself, as one process would raise it
                raise failed.exceptions[0] from None
    finally:
        if helpers is not None:
            helpers.workers.stop()
    counter(len(keys))
    result.persons = total
    return headcount


def _shares(keys: list[str], count: int) -> list[list[str]]:
    """Sorted keys cut into `count` runs of (nearly) equal length."""
    size, rest = divmod(len(keys), count)
    starts = [i * size + min(i, rest) for i in range(count + 1)]
    return [keys[starts[i]:starts[i + 1]] for i in range(count)]


def _via_of(via: dict[str, Via], keys: list[str]) -> dict[str, Via]:
    """The `via` values of some ID numbers only."""
    return {name: (field, {k: values[k] for k in keys if k in values}) for name, (field, values) in via.items()}


def _lookups(sources: Sources, world: World, result: CheckResult, emit: Emit, lookback: int) -> dict[str, Deferred]:
    """The deferred lookups of the person rules that run (one queue per rule; one set per pass)."""
    return {rid: rule.lookup(sources, world, rid, rule.check, emit, lookback=lookback)
            for rid, rule in PERSON_RULES.items() if rule.lookup is not None and rid in result.rules}


async def _total(sources: Sources, available: set[str], window: dict[str, Any], shard: IdShard | None = None) -> int:
    """Rows the person pass will stream (for progress)."""
    holders = sources.holders()
    total = 0
    for _, ent in STREAMS:
        if holders.get(ent) in available:
            where = {**(window if ent == "pay_line" else {}), **({"id_number": shard} if shard else {})}
            rows = await sources[holders[ent]].count(ent, where=where or None)
            total += int(sum(r[-1] for r in rows))
    return total


async def _persons(sources: Sources, available: set[str], world: World, window: dict[str, Any], keys: list[str] | None,
                   chunk_size: int, counter: Callable[[int], None] | None, result: CheckResult,
                   emit: Emit, queues: dict[str, Deferred], outbox: Outbox,
                   shard: IdShard | None = None, via: dict[str, Via] | None = None) -> dict[tuple[str, str], int]:
    """The per-person pass (of one ID shard); returns active slots per (JGID, quota type) for R04.

    `counter` is told the rows read from the streams; `via`: streams read by another key (_by_keys).
    """
    holders = sources.holders()
    specs = [(name, holders[ent], ent) for name, ent in STREAMS if holders.get(ent) in available]
    feeds = []
    for name, dep, ent in specs:
        where = {**(window if ent == "pay_line" else {}), **({"id_number": shard} if shard else {})} or None
        if keys is None:
            chunks = sources[dep].stream(ent, order_by="id_number", where=where, chunk_size=chunk_size)
            feeds.append(Feed(name, chunks, counter))
        else:
            feeds.append(Feed(name, _by_keys(sources[dep], ent, keys, window if ent == "pay_line" else None,
                                             (via or {}).get(name))))
    # one person's records of a stream in the mapping's order, not the database's order of ties (which
    # differs between plans and shards on PostgreSQL): evidence listing several records reads the same
    orders = {name: sources[dep].order_key(ent) for name, dep, ent in specs}
    checks = [(rid, rule.check) for rid, rule in PERSON_RULES.items() if rid in result.rules and rid not in queues]
    wants = [(want, queue) for rid, queue in queues.items() if (want := PERSON_RULES[rid].wants) is not None]
    headcount: dict[tuple[str, str], int] = {}
    async with aclosing(merge(feeds)) as groups:  # an error below must stop the readers too
        async for _, group in groups:
            views: dict[str, PersonView] = {}
            for name, records in group.items():
                for record in records:
                    view = views.get(record.id_number)
                    if view is None:
                        view = views[record.id_number] = PersonView(record.id_number)
                    getattr(view, name).append(record)
                if len(records) > 1:
                    for view in views.values():
                        getattr(view, name).sort(key=orders[name])
            for view in views.values():
                result.persons += 1
                facts = Facts(view, world)
                for slot in facts.active:
                    key = (slot.unit_local_id, slot.quota_type or "")
                    headcount[key] = headcount.get(key, 0) + 1
                for rule_id, check in checks:
                    hit = check(facts, world)
                    if hit is not None:
                        emit(rule_id, hit, view.id_number, facts.institutions(world))
                for want, queue in wants:
                    if want(facts, world):
                        await queue.add(facts)
            if outbox.full:
                await outbox.drain()
    for queue in queues.values():
        await queue.flush()
    return headcount


ROWS_REPORTED = 20_000  # a shard's process reports progress every this many rows


def _process(make_sources: SourcesFactory, month: str, deferred: frozenset[str], rules: tuple[str, ...],
             job: IdShard | Any, lookback: int, chunk_size: int, out: Any) -> None:
    """A helper process of a run: its own sources and world, its persons; findings and a total go to `out`."""
    try:
        asyncio.run(_helper_pass(make_sources, month, deferred, rules, job, lookback, chunk_size, out))
    except BaseException as exc:  # handed to the parent, which re-raises it
        try:
            out.put(("error", exc))
        except Exception:  # an exception that does not pickle
            out.put(("error", RuntimeError(repr(exc))))


async def _helper_pass(make_sources: SourcesFactory, month: str, deferred: frozenset[str], rules: tuple[str, ...],
                       job: IdShard | Any, lookback: int, chunk_size: int, out: Any) -> None:
    """The persons of an ID shard (`job` an IdShard), or the flagged ID numbers (and their `via` values) that
    arrive on `job`, a queue, once the parent's may-hit pass has picked them."""
    sources = make_sources()
    try:
        available, missing = await available_departments(sources)
        lacking = sorted(d for r in rules for d in RULES[r].departments(sources.holders()) if d not in available)
        if lacking:
            raise SourceUnavailable(lacking[0], missing.get(lacking[0], ""))
        world, _ = await build_world(sources, available, month, deferred)
        result = CheckResult(month, Scope(), rules=rules)

        async def send(batch: list[Finding]) -> None:
            out.put(("findings", batch))

        outbox = Outbox(result, None, send, collect=False)
        rows = [0]

        def counter(n: int) -> None:
            rows[0] += n
            if rows[0] >= ROWS_REPORTED:
                out.put(("rows", rows[0]))
                rows[0] = 0

        def emit(rule_id: str, hit: Hit, id_number: str | None, institutions: tuple[str, ...]) -> None:
            outbox.put(_finding(rule_id, hit, world, id_number, institutions))

        shard, keys, via = (job, None, None) if isinstance(job, IdShard) else (None, *await asyncio.to_thread(job.get))
        headcount = await _persons(sources, available, world, {"month": month}, keys, chunk_size, counter if shard else None,
                                   result, emit, _lookups(sources, world, result, emit, lookback), outbox, shard, via)
        await outbox.drain()
        out.put(("done", headcount, result.persons, rows[0]))
    finally:
        await sources.close()


class _Workers:
    """The spawned helper processes of a run, one per job, all reporting on one queue."""

    def __init__(self, make_sources: SourcesFactory, result: CheckResult, deferred: frozenset[str], jobs: list[Any],
                 lookback: int, chunk_size: int) -> None:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited connections or loop
        self.out = context.Queue(maxsize=64)
        self.processes = [context.Process(target=_process, name=f"hub-check-{i}", daemon=True,
                                          args=(make_sources, result.month, deferred, result.rules, job, lookback,
                                                chunk_size, self.out))
                          for i, job in enumerate(jobs)]
        for process in self.processes:
            process.start()
        self.running = len(self.processes)

    async def take_all(self, take: Callable[[Finding], None], outbox: Outbox, counter: _Counter | None,
                       done: Callable[[tuple[Any, ...]], None]) -> None:
        """Take every finding the processes send (`done` gets each one's closing message) until all are done."""
        while self.running:
            try:
                message = await asyncio.to_thread(self.out.get, True, 1.0)
            except queues_.Empty:
                if not any(p.is_alive() for p in self.processes) and self.out.empty():
                    raise RuntimeError("核查进程意外退出 / a cross-check process died") from None
                continue
            kind = message[0]
            if kind == "findings":
                for finding in message[1]:
                    take(finding)
                if outbox.full:
                    await outbox.drain()
            elif kind == "rows" and counter is not None:
                counter(message[1])
            elif kind == "done":
                self.running -= 1
                done(message)
            elif kind == "error":
                raise message[1]

    def stop(self) -> None:
        """End the processes that are still running (after a failure), and wait for them."""
        for process in self.processes:
            if process.is_alive() and self.running:
                process.terminate()
            process.join(timeout=10)


class _Helpers:
    """Helper processes for the flagged persons of a columnar run: started at once, given their keys later."""

    def __init__(self, make_sources: SourcesFactory, result: CheckResult, deferred: frozenset[str], lookback: int,
                 chunk_size: int, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.count = count
        self.inboxes = [context.Queue() for _ in range(count)]
        self.workers = _Workers(make_sources, result, deferred, list(self.inboxes), lookback, chunk_size)


async def _in_processes(make_sources: SourcesFactory, result: CheckResult, deferred: frozenset[str],
                        shards: list[IdShard], lookback: int, chunk_size: int, counter: _Counter,
                        take: Callable[[Finding], None], outbox: Outbox) -> dict[tuple[str, str], int]:
    """Each shard's person pass in its own process; their findings taken in as they come. Returns the headcount."""
    workers = _Workers(make_sources, result, deferred, list(shards), lookback, chunk_size)
    headcount: dict[tuple[str, str], int] = {}

    def done(message: tuple[Any, ...]) -> None:
        for key, n in message[1].items():
            headcount[key] = headcount.get(key, 0) + n
        result.persons += message[2]
        counter(message[3])

    try:
        await workers.take_all(take, outbox, counter, done)
    finally:
        workers.stop()
    return headcount
