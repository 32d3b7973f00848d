"""Legacy rows -> canonical records: generated builders, one per entity and projection.

A projection is the tuple of fields a query reads of an entity. Its builder converts those
columns only and leaves the other mapped slots of the (slotted, frozen) record unset, so code
that reads a field the query did not ask for fails loudly (AttributeError) instead of seeing a
wrong `None`. Records built without a projection are complete.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from adapters.convert import CONVERTERS, NORMALIZERS
from adapters.mapping import ColumnSpec
from hub.core.errors import MappingError

Builder = Callable[[Sequence[Any]], Any]

_MISSING = object()
_ISO_MONTHS = frozenset(n for n, c in CONVERTERS.items() if c.load is CONVERTERS["iso"].load)  # '202510' -> '2025-10'


def column_loader(spec: ColumnSpec) -> Callable[[Any], Any]:
    """legacy value -> canonical value for one column: convert, then normalize or map values."""
    load = CONVERTERS[spec.convert].load
    if spec.values is not None:
        values = spec.values

        def mapped(raw: Any) -> Any:
            found = values.get(raw)
            return found if found is not None or raw is None else values.get(str(raw).strip())

        return mapped
    if spec.normalize is not None:
        normalize = NORMALIZERS[spec.normalize]
        return lambda raw: normalize(load(raw))
    return load


def builder(record: type, fields: Sequence[str], specs: dict[str, ColumnSpec]) -> Builder:
    """row (the columns of `fields`, in order) -> record, as one generated function.

    Rows are the hot path: no per-field loop. The common conversions are written inline — a
    text column that holds a string is stripped, a value map is looked up, a compact month gets its dash, a
    date, an int or a null passes through —
    and anything else calls the column's loader. Slots are filled directly (a third of the cost of
    the dataclass `__init__`); fields the mapping does not map get their declared defaults; mapped
    fields outside `fields` stay unset.
    """
    env: dict[str, Any] = {"new": object.__new__, "R": record, "M": _MISSING}
    lines = ["def build(row):", "    o = new(R)"]
    for i, field in enumerate(fields):
        spec = specs[field]
        env[f"l{i}"] = column_loader(spec)
        if spec.values is not None:
            env[f"m{i}"] = spec.values
            expr = f"(x if (x := m{i}.get(v := row[{i}], M)) is not M else l{i}(v))"
        elif spec.convert == "text":
            env[f"t{i}"] = CONVERTERS["text"].load
            expr = f"((v.strip() or None) if (v := row[{i}]).__class__ is str else None if v is None else t{i}(v))"
            if spec.normalize is not None:
                env[f"n{i}"] = NORMALIZERS[spec.normalize]
                expr = f"n{i}{expr}"
        elif spec.convert == "date":
            env["D"] = dt.date
            expr = f"(v if (v := row[{i}]).__class__ is D or v is None else l{i}(v))"
        elif spec.convert == "int" and spec.normalize is None:
            expr = f"(v if (v := row[{i}]).__class__ is int or v is None else l{i}(v))"
        elif spec.convert in _ISO_MONTHS and spec.normalize is None:  # a compact month: what _iso makes of it
            expr = f"(f'{{v[:4]}}-{{v[4:]}}' if (v := row[{i}]).__class__ is str and len(v) == 6 and v.isdigit() else l{i}(v))"
        else:
            expr = f"l{i}(row[{i}])"
        env[f"s{i}"] = record.__dict__[field].__set__
        lines.append(f"    s{i}(o, {expr})")
    for j, f in enumerate(f for f in dataclasses.fields(record) if f.name not in specs):
        if f.default is dataclasses.MISSING:
            raise MappingError(f"{record.__name__}.{f.name} 必须映射 / must be mapped")
        env[f"d{j}"], env[f"dv{j}"] = record.__dict__[f.name].__set__, f.default
        lines.append(f"    d{j}(o, dv{j})")
    lines.append("    return o")
    exec("\n".join(lines), env)  # noqa: S102 - the text is made from mapping field names
    return env["build"]  # type: ignore[no-any-return]


def order_key(fields: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """record -> sort key over `fields`, nulls last, as one generated function."""
    parts = ", ".join(f"r.{f} is None, 0 if r.{f} is None else r.{f}" for f in fields)
    env: dict[str, Any] = {}
    exec(f"def order(r):\n    return ({parts},)", env)  # noqa: S102 - the text is made from mapping field names
    return env["order"]  # type: ignore[no-any-return]
