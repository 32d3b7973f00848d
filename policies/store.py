"""Policies kept in the hub store: edited at run time, picked up by every replica within seconds.

The rules live in Casbin's own `casbin_rule` table (casbin-async-sqlalchemy-adapter), seeded from
policies/policy.csv when empty; a one-row version counter tells replicas that something changed.
"""

from __future__ import annotations

import asyncio
import csv
import logging
from pathlib import Path

import casbin
import sqlalchemy as sa
from casbin_async_sqlalchemy_adapter import Adapter

from hub.core.errors import BadUserInput
from hub.store.db import Store, utcnow
from hub.store.tables import casbin_rule, policy_version
from policies.grants import MODEL_PATH, POLICY_PATH, PolicyBook

log = logging.getLogger(__name__)
ACTIONS = ("read", "mask", "call")


def read_policy_file(path: Path) -> list[list[str]]:
    """The rows of a Casbin policy CSV (comments and blank lines skipped)."""
    rows = []
    with path.open(encoding="utf-8") as handle:
        for row in csv.reader(handle, skipinitialspace=True):
            if row and not row[0].lstrip().startswith("#"):
                rows.append([c.strip() for c in row])
    return rows


async def store_enforcer(store: Store, seed: Path = POLICY_PATH) -> casbin.AsyncEnforcer:
    """An enforcer over the store's rules, seeded from the policy file the first time."""
    await seed_rules(store, seed)
    enforcer = casbin.AsyncEnforcer(str(MODEL_PATH), Adapter(store.engine))
    await enforcer.load_policy()
    return enforcer


async def seed_rules(store: Store, seed: Path) -> bool:
    """Copy the policy file's rules into a store that has none, in one transaction; whether this call did.

    Replicas starting at once on a new store must neither both seed it nor load it half seeded: each
    first moves the version row (its row lock on PostgreSQL, the write lock on SQLite, makes the others
    wait for this transaction to end), then seeds only if the rules are still empty. The very first
    inserts of the version row meet on its key instead: the one that loses tries once more.
    """
    count = sa.select(sa.func.count()).select_from(casbin_rule)
    async with store.connect() as conn:
        if (await conn.execute(count)).scalar():
            return False
    lines = dict.fromkeys(tuple(row) for row in read_policy_file(seed) if row[0] in ("p", "g"))  # in order, once each
    rows = [{"ptype": ptype, **{f"v{i}": values[i] if i < len(values) else None for i in range(6)}}
            for ptype, *values in lines]
    for attempt in range(2):
        try:
            async with store.begin() as conn:
                moved = await conn.execute(policy_version.update().where(policy_version.c.id == 1)
                                           .values(version=policy_version.c.version + 1, changed_at=utcnow()))
                if not moved.rowcount:
                    await conn.execute(policy_version.insert().values(id=1, version=1, changed_at=utcnow()))
                if (await conn.execute(count)).scalar():
                    return False  # another replica seeded it while this one waited
                await conn.execute(casbin_rule.insert(), rows)
                return True
        except sa.exc.IntegrityError:
            if attempt:
                raise
    return False


async def current_version(store: Store) -> int:
    """The policy version counter (0 before any change)."""
    async with store.connect() as conn:
        return int((await conn.execute(sa.select(policy_version.c.version))).scalar() or 0)


async def bump_version(store: Store) -> int:
    """Record that the rules changed."""
    async with store.begin() as conn:
        current = (await conn.execute(sa.select(policy_version.c.version))).scalar()
        if current is None:
            await conn.execute(policy_version.insert().values(id=1, version=1, changed_at=utcnow()))
            return 1
        await conn.execute(policy_version.update().values(version=current + 1, changed_at=utcnow()))
        return int(current) + 1


async def change_rule(store: Store, book: PolicyBook, add: bool, subject: str, obj: str, action: str) -> bool:
    """Add or remove one `p` rule; returns whether anything changed. Replicas follow via the version."""
    if action not in (*ACTIONS, "aggregate") and not action.startswith(("approve:", "submit:", "freeze:")):
        raise BadUserInput(f"未知动作 {action!r} / unknown action; use one of {', '.join(ACTIONS)}, aggregate, "
                           "submit:<kind>, approve:<kind>:<step> or freeze:<KIND>")
    if not subject.strip() or not obj.strip():
        raise BadUserInput("主体和对象不能为空 / subject and object must not be empty")
    enforcer = book.enforcer
    changed = await (enforcer.add_policy(subject, obj, action) if add else enforcer.remove_policy(subject, obj, action))
    if changed:
        await bump_version(store)
        book.clear()
        book.precompile()  # in the loop: casbin parses with ast, which is not thread-safe here
    return bool(changed)


class PolicyWatcher:
    """Polls the version counter and reloads the rules when another replica changed them."""

    def __init__(self, store: Store, book: PolicyBook, interval: float = 2.0) -> None:
        self.store = store
        self.book = book
        self.interval = interval
        self.version = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Remember the current version and start polling."""
        self.version = await current_version(self.store)
        self._task = asyncio.create_task(self._run())

    async def check(self) -> bool:
        """Reload if the version moved; returns whether it did."""
        version = await current_version(self.store)
        if version == self.version:
            return False
        await self.book.enforcer.load_policy()
        self.book.clear()
        self.book.precompile()
        self.version = version
        log.info("policies reloaded at version %d", version)
        return True

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception:  # the store may be briefly unreachable: keep the last good rules
                log.exception("policy watcher could not check the store")

    async def close(self) -> None:
        """Stop polling."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
