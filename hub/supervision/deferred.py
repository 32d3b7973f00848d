"""Rules that need a lookup by key for some persons: buffered and looked up one bounded batch at a time.

Holding every vacancy plan (about one per two persons) or streaming every pay month for everyone
would make memory or time grow with the whole table; instead the engine queues the persons a
rule needs extra data for, and one statement per batch fetches it. A rule declares its lookup
(person_rules.PersonRule): the kinds are

- PayHistory: pay months before the reference month (R14: payees who left, died or resigned);
- PlanLookup: the vacancy plans the person's entries cite, and how many entries cite each (R13).

A lookup finds its source by the entities it reads (`Sources.holder`) and declares what it asks
of them (`needs`, checked with the sources' capabilities).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

from adapters.base import Capability, Need, Range
from adapters.registry import Sources
from hub.supervision.facts import Facts, PersonCheck, World, add_month
from hub.supervision.model import Hit
from hub.supervision.plans import excess_entries

Emit = Callable[[str, Hit, str | None, tuple[str, ...]], None]


class Deferred:
    """A bounded queue of persons awaiting one rule's lookup."""

    needs: ClassVar[tuple[Need, ...]] = ()  # what the lookup asks of the sources

    def __init__(self, sources: Sources, world: World, rule_id: str, check: PersonCheck, emit: Emit, *,
                 lookback: int, batch: int = 1000) -> None:
        self.sources = sources
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
    """The `lookback` months before the reference month, by payee code (one statement a batch)."""

    needs = (Need("pay_line", Capability.READ, "核查：历史工资 / cross-check: pay history"),)

    def __init__(self, sources: Sources, world: World, rule_id: str, check: PersonCheck, emit: Emit, *,
                 lookback: int, batch: int = 1000) -> None:
        super().__init__(sources, world, rule_id, check, emit, lookback=lookback, batch=batch)
        self.months = Range(low=add_month(world.month, 1 - max(lookback, 1)), high=add_month(world.month, -1))

    async def load(self, pending: list[Facts]) -> World:
        codes = sorted({p.payee_code for f in pending for p in f.view.payees})
        by_code: dict[str, list[Any]] = {}
        if codes and self.months.low <= self.months.high:
            pay = self.sources[self.sources.holder("pay_line")]
            for line in await pay.fetch("pay_line", "payee_code", codes, {"month": self.months}):
                by_code.setdefault(line.payee_code, []).append(line)
        for facts in pending:
            have = {(line.month, line.payee_code) for line in facts.view.pay}
            for payee in facts.view.payees:
                facts.view.pay.extend(x for x in by_code.get(payee.payee_code, ()) if (x.month, x.payee_code) not in have)
        return self.world


class PlanLookup(Deferred):
    """The cited plans, entries per plan, and the entries of over-used plans (a few statements a batch)."""

    needs = (Need("vacancy_plan", Capability.READ, "核查：空编补员计划 / cross-check: vacancy plans"),
             Need("registry_slot", Capability.READ | Capability.AGGREGATE, "核查：计划使用数 / cross-check: plan use"))

    async def load(self, pending: list[Facts]) -> World:
        ids = sorted({s.plan_id for f in pending for s in f.view.slots if s.plan_id})
        if not ids:
            return self.world
        plans_source = self.sources[self.sources.holder("vacancy_plan")]
        slots_source = self.sources[self.sources.holder("registry_slot")]
        plans = {p.plan_id: p for p in await plans_source.fetch("vacancy_plan", "plan_id", ids)}
        counts = await slots_source.count("registry_slot", group_by=["plan_id"], where={"plan_id": ids})
        over = sorted(pid for pid, n in counts if pid in plans and n > plans[pid].planned)
        excess: set[str] = set()
        if over:
            entries = await slots_source.fetch("registry_slot", "plan_id", over)
            excess = excess_entries({pid: plans[pid] for pid in over}, entries)
        return replace(self.world, plans=plans, plan_excess=frozenset(excess))
