"""The cross-check engine: streams every source in normalized-ID order, merges per person, applies the rules.

Memory is bounded by a few chunks per source, the current person's records and small per-institution
counters; findings are handed to a sink as they appear. With an institution scope the engine reads
only the persons tied to those institutions (by key, in batches) instead of streaming everything.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from adapters.base import Capability, Need
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


async def _by_keys(adapter: Any, entity: str, keys: list[str], where: dict[str, Any] | None) -> AsyncIterator[list[Any]]:
    """Chunks of a person entity for sorted ID numbers, fetched in batches (stream order preserved)."""
    for i in range(0, len(keys), KEY_BATCH):
        rows = await adapter.fetch(entity, "id_number", keys[i:i + KEY_BATCH], where)
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
) -> CheckResult:
    """Cross-check the sources as of a reference month (default: latest finance pay month).

    Findings in scope go to `sink` as they are found, to `on_batch` in batches, and into
    `result.findings` when `collect` (leave it off at scale: memory then stays bounded).
    """
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

    def emit(rule_id: str, hit: Hit, id_number: str | None, institutions: tuple[str, ...]) -> None:
        finding = _finding(rule_id, hit, world, id_number, institutions)
        result.seen.add(finding.fingerprint)
        if scope.everything or any(scope.admits_institution(c, world.region(c)) for c in finding.institutions):
            outbox.put(finding)

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
    queues: dict[str, Deferred] = {
        rid: rule.lookup(sources, world, rid, rule.check, emit, lookback=lookback)
        for rid, rule in PERSON_RULES.items() if rule.lookup is not None and rid in result.rules
    }
    agg.headcount = await _persons(sources, available, world, window, keys, chunk_size, progress, result, emit,
                                   queues, outbox)
    for rid, rule in INSTITUTION_RULES.items():
        if rid in result.rules:
            for hit in early[rid] if rid in early else rule.check(world, agg):
                emit(rid, hit, None, ())
    await outbox.drain()
    result.seconds = time.monotonic() - started
    return result


async def _persons(sources: Sources, available: set[str], world: World, window: dict[str, Any], keys: list[str] | None,
                   chunk_size: int, progress: Progress | None, result: CheckResult,
                   emit: Callable[[str, Hit, str | None, tuple[str, ...]], None],
                   queues: dict[str, Deferred], outbox: Outbox) -> dict[tuple[str, str], int]:
    """The per-person pass; returns active slots per (JGID, quota type) for R04."""
    holders = sources.holders()
    specs = [(name, holders[ent], ent) for name, ent in STREAMS if holders.get(ent) in available]
    total = 0
    if keys is None:
        for _, dep, ent in specs:
            rows = await sources[dep].count(ent, where=window if ent == "pay_line" else None)
            total += int(sum(r[-1] for r in rows))
    counter = _Counter(progress, total)
    feeds = []
    for name, dep, ent in specs:
        where = window if ent == "pay_line" else None
        if keys is None:
            chunks = sources[dep].stream(ent, order_by="id_number", where=where, chunk_size=chunk_size)
            feeds.append(Feed(name, chunks, counter))
        else:
            feeds.append(Feed(name, _by_keys(sources[dep], ent, keys, where)))
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
