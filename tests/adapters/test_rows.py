"""Generated row builders (adapters/rows.py): their inline fast paths answer what the column's loader answers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from adapters.convert import CONVERTERS
from adapters.mapping import ColumnSpec
from adapters.rows import builder, column_loader

RAWS: list[Any] = [None, "", " ", 0, 7, -3, 2**40, True, " 12 ", "12", "202510", "２０２５１０", "20251a", "19750820", "2025-10", 12.0, Decimal("12"),
                   dt.date(2025, 10, 1), dt.datetime(2025, 10, 1, 8, 30), "１５２９２１８５０３１５００２", "abc"]


@dataclass(slots=True)
class _Row:
    value: Any = None


def _outcome(call: Any, raw: Any) -> tuple[str, Any]:
    try:
        result = call(raw)
    except Exception as exc:  # noqa: BLE001 - the kind of failure is part of the answer
        return "error", type(exc).__name__
    return "value", (type(result).__name__, result)


@pytest.mark.parametrize("spec", [ColumnSpec(column="C", convert=c) for c in CONVERTERS]
                         + [ColumnSpec(column="C", normalize=n) for n in ("id_number", "name", "credit_code")]
                         + [ColumnSpec(column="C", convert="int", normalize="id_number")],
                         ids=lambda s: f"{s.convert}-{s.normalize}")
def test_a_builder_converts_as_the_loader_does(spec: ColumnSpec) -> None:
    build, load = builder(_Row, ("value",), {"value": spec}), column_loader(spec)
    for raw in RAWS:
        assert _outcome(lambda r: build((r,)).value, raw) == _outcome(load, raw), raw
