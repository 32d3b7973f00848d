"""Conversions that cannot lose data: a mapping's columns sampled and each value's conversion checked.

A mapping names how each legacy column becomes a canonical value; a wrong choice can lose data
without an error: a pay column kept in yuan as REAL and mapped with `convert: int` truncates
1234.56 to 1234 (read as fen: a hundredth of the pay). `lossy` says, for one raw value, whether
its column's conversion would lose or invent something:

- `int`: a value with a fraction (a REAL or NUMERIC column holding yuan, say), or text that is no number;
- `yuan_to_fen`: an amount finer than a fen (rounding would change it);
- `date`, `date8`, `decimal`, `boolean`: a value that does not parse;
- a code list (`values`): a value the list does not have (it would read as null).

`column_problems` samples an entity's rows (SqlAdapter.sample) and reports each column whose
values lose, with examples; `hub sources check` fails on any.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.convert import CONVERTERS, exact
from adapters.mapping import ColumnSpec

EXAMPLES = 3  # examples named per lossy column


@dataclass(frozen=True, slots=True)
class ColumnProblem:
    """A column whose conversion loses data: where, why, and a few of the values."""

    entity: str
    field: str
    column: str
    convert: str
    reason_zh: str
    reason_en: str
    examples: tuple[str, ...]
    count: int  # lossy values in the sample

    @property
    def message(self) -> str:
        """'中文 / English', naming the column, the conversion and the examples."""
        shown = "、".join(self.examples)
        return (f"列 {self.column}（{self.entity}.{self.field}，{self.convert}）转换有损：{self.reason_zh}，"
                f"抽样 {self.count} 个值，例：{shown} / column {self.column} ({self.entity}.{self.field}, {self.convert}) "
                f"converts with loss: {self.reason_en}; {self.count} sampled values, e.g. {', '.join(self.examples)}")


def _number(raw: Any) -> Decimal | None:
    try:
        return exact(raw)
    except (InvalidOperation, ValueError):
        return None


def lossy(spec: ColumnSpec, raw: Any) -> tuple[str, str] | None:
    """(Chinese, English) reason why converting `raw` under `spec` loses data, or None when it is exact."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if spec.values is not None:
        if raw in spec.values or str(raw).strip() in spec.values:
            return None
        return "值不在代码表中（将读作空）", "a value outside the code list (it would read as null)"
    if spec.convert == "int":
        number = _number(raw)
        if number is None:
            return "不是数字", "not a number"
        if number != number.to_integral_value():
            return "小数部分将被截断（金额若以元存为 REAL，请用 yuan_to_fen）", \
                "the fraction would be cut off (an amount kept in yuan as REAL needs yuan_to_fen)"
        return None
    if spec.convert == "yuan_to_fen":
        number = _number(raw)
        if number is None:
            return "不是金额", "not an amount"
        if number * 100 != (number * 100).to_integral_value():
            return "金额小于一分的部分将被舍入", "the amount is finer than a fen (rounding would change it)"
        return None
    if spec.convert in ("date", "date8", "decimal", "boolean", "fen_to_yuan"):
        try:
            value = CONVERTERS[spec.convert].load(raw)
        except (ValueError, TypeError, InvalidOperation, IndexError):
            value = None
        if value is None or (spec.convert in ("date", "date8") and not isinstance(value, dt.date)):
            return "无法解析", "does not parse"
    return None


def column_problems(entity: str, specs: dict[str, ColumnSpec], fields: Sequence[str], rows: Sequence[Sequence[Any]]
                    ) -> list[ColumnProblem]:
    """Each column whose sampled values (rows of `fields`, in order) convert with loss."""
    problems = []
    for i, field in enumerate(fields):
        spec = specs[field]
        bad: dict[tuple[str, str], list[Any]] = {}
        for row in rows:
            reason = lossy(spec, row[i])
            if reason is not None:
                bad.setdefault(reason, []).append(row[i])
        for (zh, en), values in bad.items():
            shown = tuple(dict.fromkeys(repr(v) if not isinstance(v, str) else v for v in values))[:EXAMPLES]
            problems.append(ColumnProblem(entity, field, spec.column, spec.convert if spec.values is None else "values",
                                          zh, en, shown, len(values)))
    return problems
