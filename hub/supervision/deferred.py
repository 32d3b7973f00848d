"""Rules that need a lookup by key for some persons: buffered and looked up one bounded batch at a time.

Holding every vacancy plan (about one per two persons) or streaming every pay month for everyone
would make memory or time grow with the whole table; instead the engine queues the persons a
rule needs extra data for, and one statement per batch fetches it:

- R14 needs pay months before the reference month, only for payees who left, died or resigned;
- R13 needs the vacancy plans the person's entries cite, and how many entries cite each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from adapters.base import Range
from hub.supervision.facts import Facts, World, add_month
from hub.supervision.model import Hit
from hub.supervision.person_rules import PersonCheck
from hub.supervision.plans import excess_entries

Emit = Callable[[str, Hit, str | None, tuple[str, ...]], None]


class Deferred:
    """A bounded queue of persons awaiting one rule's lookup."""

    def __init__(self, source: Any, world: World, rule_id: str, check: PersonCheck, emit: Emit, batch: int = 1000) -> None:
        self.source = source
        self.world = world
        self.rule_id = rule_id
        self.check = check
        self.emit = emit
        self.batch = batch
        self.pending: list[Facts] = []

    async def add(self, facts: Facts) -> None:
        """Queue a person; a full batch is looked up and checked at once."""
        self.pending.append(facts)
        if len(self.pending) >= self.batch:
            await self.flush()

    async def flush(self) -> None:
        """Look up the queued persons' data and apply the rule to each."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        world = await self.load(pending)
        for facts in pending:
            hit = self.check(facts, world)
            if hit is not None:
                self.emit(self.rule_id, hit, facts.id_number, facts.institutions(world))

    async def load(self, pending: list[Facts]) -> World:
        """Fetch what the batch needs; the world the rule sees."""
        raise NotImplementedError


class PayHistory(Deferred):
    """R14: the months before the reference month, by payee code (one statement a batch)."""

    def __init__(self, source: Any, world: World, rule_id: str, check: PersonCheck, emit: Emit, lookback: int,
                 batch: int = 1000) -> None:
        super().__init__(source, world, rule_id, check, emit, batch)
        self.months = Range(low=add_month(world.month, 1 - max(lookback, 1)), high=add_month(world.month, -1))

    async def load(self, pending: list[Facts]) -> World:
        codes = sorted({p.payee_code for f in pending for p in f.view.payees})
        by_code: dict[str, list[Any]] = {}
        if codes and self.months.low <= self.months.high:
            for line in await self.source.fetch("pay_line", "payee_code", codes, {"month": self.months}):
                by_code.setdefault(line.payee_code, []).append(line)
        for facts in pending:
            have = {(line.month, line.payee_code) for line in facts.view.pay}
            for payee in facts.view.payees:
                facts.view.pay.extend(x for x in by_code.get(payee.payee_code, ()) if (x.month, x.payee_code) not in have)
        return self.world


class PlanLookup(Deferred):
    """R13: the cited plans, entries per plan, and the entries of over-used plans (a few statements a batch)."""

    async def load(self, pending: list[Facts]) -> World:
        ids = sorted({s.plan_id for f in pending for s in f.view.slots if s.plan_id})
        if not ids:
            return self.world
        plans = {p.plan_id: p for p in await self.source.fetch("vacancy_plan", "plan_id", ids)}
        counts = await self.source.count("registry_slot", group_by=["plan_id"], where={"plan_id": ids})
        over = sorted(pid for pid, n in counts if pid in plans and n > plans[pid].planned)
        excess: set[str] = set()
        if over:
            entries = await self.source.fetch("registry_slot", "plan_id", over)
            excess = excess_entries({pid: plans[pid] for pid in over}, entries)
        return replace(self.world, plans=plans, plan_excess=frozenset(excess))
