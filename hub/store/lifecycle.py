"""Compare-and-set state transitions: a row leaves the state it was read in, with its history row, in one transaction.

Two requests that both read an alert as ACKNOWLEDGED and both move it on must not both succeed. So
the UPDATE names the state that was read (`... WHERE id = :id AND status = :seen`): only the first
writer changes the row; the others change none (rowcount 0) and are answered CONFLICT. The history
row is inserted in the same transaction, so the history holds exactly the transitions that
happened. PostgreSQL (READ COMMITTED) re-evaluates that WHERE against the row as the first writer
committed it; SQLite transactions begin IMMEDIATE (`Store.begin`), so they are serial anyway.

Alerts and freezes (and the workflow) declare a `Lifecycle` and call `advance` for a person's step,
or `advance_many` for the system's batch steps (resolved by data, reopened).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.core.errors import Conflict, NotFound

BATCH = 500
S = TypeVar("S", bound=str)  # a lifecycle's states (a StrEnum)


@dataclass(frozen=True, slots=True)
class Lifecycle(Generic[S]):
    """A table whose rows move between states (columns id, status, updated_at) and its history table."""

    noun: str  # "预警 / alert"
    table: sa.Table
    history: sa.Table  # columns <owner>, from_status, to_status, actor, at, note
    owner: str  # the history column naming the row
    steps: Mapping[S, frozenset[S]]  # the steps people may take: from-state -> to-states
    labels: Mapping[S, str]  # state -> "中文 / English"

    def missing(self, row_id: int) -> NotFound:
        """NOT_FOUND for a row that does not exist."""
        zh, en = self.noun.split(" / ")
        return NotFound(f"{zh} {row_id} 不存在 / {en} {row_id} does not exist")

    def conflict(self, row_id: int, state: str, to: str) -> Conflict:
        """CONFLICT: the row is in `state`, from which it cannot move to `to`."""
        zh, en = self.noun.split(" / ")
        (now_zh, now_en), (to_zh, to_en) = (self._label(state), self._label(to))
        return Conflict(f"{zh} {row_id} 状态为「{now_zh}」，不能改为「{to_zh}」 / "
                        f"{en} {row_id} is {now_en}; it cannot become {to_en}", status=str(state))

    def _label(self, state: str) -> tuple[str, str]:
        zh, _, en = self.labels.get(state, f"{state} / {state}").partition(" / ")  # type: ignore[arg-type]
        return zh, en


async def advance(conn: AsyncConnection, life: Lifecycle[Any], row_id: int, to: str, *, actor: str, note: str | None,
                  now: dt.datetime, **history: Any) -> str:
    """Move one row to `to` by a step people may take, with its history row; returns the state it left.

    NOT_FOUND if there is no such row; CONFLICT if its state does not allow the step, or if another
    transaction moved it after it was read. Run it inside the transaction that should commit it.
    """
    table = life.table
    seen = (await conn.execute(sa.select(table.c.status).where(table.c.id == row_id))).scalar()
    if seen is None:
        raise life.missing(row_id)
    if to not in life.steps.get(seen, frozenset()):
        raise life.conflict(row_id, seen, to)
    if not await advance_many(conn, life, {row_id: seen}, to, actor=actor, note=note, now=now, **history):
        current: str = (await conn.execute(sa.select(table.c.status).where(table.c.id == row_id))).scalar_one()
        raise life.conflict(row_id, current, to)
    return str(seen)


async def advance_many(conn: AsyncConnection, life: Lifecycle[Any], seen: Mapping[int, str], to: str, *, actor: str,
                       note: str | None, now: dt.datetime, **history: Any) -> list[int]:
    """Move rows from the states they were read in (`seen`: id -> state) to `to`; the ids that moved.

    A row another transaction moved meanwhile is left alone and gets no history row. No step check:
    the system's own steps (resolved by data, reopened) choose their rows by state.
    """
    table = life.table
    moved: list[int] = []
    by_state: dict[str, list[int]] = {}
    for row_id, state in seen.items():
        by_state.setdefault(state, []).append(row_id)
    for state, ids in by_state.items():
        for part in _batches(ids):
            result = await conn.execute(
                sa.update(table).where(table.c.id.in_(part), table.c.status == state)
                .values(status=to, updated_at=now).returning(table.c.id)
            )
            done = sorted(r.id for r in result)
            if done:
                await conn.execute(sa.insert(life.history), [
                    {life.owner: i, "from_status": state, "to_status": to, "actor": actor, "at": now, "note": note,
                     **history} for i in done
                ])
            moved.extend(done)
    return moved


def _batches(ids: Iterable[int]) -> Iterable[list[int]]:
    items = list(ids)
    for start in range(0, len(items), BATCH):
        yield items[start:start + BATCH]
