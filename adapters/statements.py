"""Filters as statement shapes: the SQL of a read is built and compiled once per shape.

A filter (adapters.base.Where) splits into its shape — which fields, which kind of condition,
the values taken out — and the values, dumped to the legacy column's form. Two reads of the same
shape share one statement with bind parameters `p0, p1, …` in the order the values come. A list
of values is one parameter: `= ANY($n)` (an array) where the dialect has arrays, so the statement
does not change with the number of keys; an expanding `IN (…)` elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa

from adapters.base import AnyOf, Contains, IdShard, Prefix, Range, Where
from adapters.sqlexpr import normalized_id_body

Shape = tuple[Any, ...]
ColumnOf = Callable[[str], sa.ColumnElement[Any]]
DumperOf = Callable[[str], Callable[[Any], list[Any]]]


def split(where: Where | None, dumper: DumperOf) -> tuple[Shape, list[Any]]:
    """(shape, values) of a filter; `dumper(field)` turns a canonical value into its legacy spellings."""
    shape: list[Any] = []
    values: list[Any] = []
    for field, cond in (where or {}).items():
        shape.append(_part(field, cond, dumper, values))
    return tuple(shape), values


def _part(field: str, cond: Any, dumper: DumperOf, values: list[Any]) -> Shape:
    if isinstance(cond, AnyOf):
        alternatives = []
        for alt in cond.alternatives:
            shape, found = split(alt, dumper)
            alternatives.append(shape)
            values.extend(found)
        return ("any", tuple(alternatives))
    dump = dumper(field)  # also checks that the field is mapped
    if isinstance(cond, IdShard):
        return ("shard", field, cond.index, cond.count)
    if cond is None:
        return ("null", field)
    if isinstance(cond, Prefix):
        values.append(_escape(cond.value) + "%")
        return ("like", field)
    if isinstance(cond, Contains):
        values.append("%" + _escape(cond.value) + "%")
        return ("like", field)
    if isinstance(cond, Range):
        ends = [end for end in (cond.low, cond.high) if end is not None]
        values.extend(dump(end)[0] for end in ends)
        return ("range", field, cond.low is not None, cond.high is not None)
    raw = [r for value in cond for r in dump(value)] if isinstance(cond, list | tuple | set | frozenset) else dump(cond)
    if not raw:
        return ("false",)
    if len(raw) == 1 and not isinstance(cond, list | tuple | set | frozenset):
        values.append(raw[0])
        return ("eq", field)
    values.append(raw)
    return ("in", field)


class Binder:
    """Builds the clauses of a shape with numbered bind parameters."""

    def __init__(self, column: ColumnOf, arrays: bool) -> None:
        self.column = column
        self.arrays = arrays
        self._numbers: Iterator[int] = iter(range(1 << 30))

    def param(self, expanding: bool = False) -> sa.BindParameter[Any]:
        """The next bind parameter."""
        return sa.bindparam(f"p{next(self._numbers)}", expanding=expanding)

    def clauses(self, shape: Shape) -> list[sa.ColumnElement[bool]]:
        """The WHERE conditions of a shape (an AND)."""
        return [self._clause(part) for part in shape]

    def _clause(self, part: Shape) -> sa.ColumnElement[bool]:
        kind = part[0]
        if kind == "false":
            return sa.false()
        if kind == "any":
            alternatives = [sa.and_(sa.true(), *self.clauses(alt)) for alt in part[1]]
            return sa.or_(*alternatives) if alternatives else sa.false()
        col = self.column(part[1])
        if kind == "null":
            return col.is_(None)
        if kind == "like":
            return col.like(self.param(), escape="\\")
        if kind == "range":
            ends = [col >= self.param()] if part[2] else []
            if part[3]:
                ends.append(col <= self.param())
            return sa.and_(sa.true(), *ends)
        if kind == "eq":
            return col == self.param()
        if kind == "shard":
            return _shard(col, IdShard(part[2], part[3]))
        return col == sa.any_(self.param()) if self.arrays else col.in_(self.param(expanding=True))


def params(values: list[Any]) -> dict[str, Any]:
    """The bind parameters of a statement, by name."""
    return {f"p{i}": v for i, v in enumerate(values)}


def _shard(col: sa.ColumnElement[Any], shard: IdShard) -> sa.ColumnElement[bool]:
    """The rows of an ID shard, by the 17th character of the normalized number: one `IN` over constants,
    so the normalization is evaluated once a row (SQLite does not share it between comparisons)."""
    if shard.count == 1:
        return sa.true()
    char = sa.func.substr(normalized_id_body(col), 17, 1, type_=sa.String)
    if shard.index:
        return char.in_([sa.literal_column(f"'{d}'") for d in shard.digits])
    others: list[sa.ColumnElement[Any]] = [sa.literal_column(f"'{d}'") for d in "0123456789" if d not in shard.digits]
    return sa.func.coalesce(char.not_in(others), sa.true())  # a blank number: NULL, kept by shard 0


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

