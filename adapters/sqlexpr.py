"""Portable SQL expressions the generic adapter needs beyond SQLAlchemy Core's own."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

_FOLD = tuple(zip("０１２３４５６７８９ｘＸ", "0123456789XX", strict=True))


def _length(name: str, sqlite: str, doc: str) -> type[FunctionElement[int]]:
    """A length function rendered as `name(x)`, and on SQLite (which lacks it) as the `sqlite` template."""
    element = type(name, (FunctionElement,), {"__doc__": doc, "type": sa.Integer(), "inherit_cache": True, "name": name})

    @compiles(element)
    def _default(fn: Any, compiler: Any, **kw: Any) -> str:
        return f"{name}({compiler.process(fn.clauses, **kw)})"

    @compiles(element, "sqlite")
    def _sqlite(fn: Any, compiler: Any, **kw: Any) -> str:
        return sqlite.format(compiler.process(fn.clauses, **kw))

    return element


char_length = _length("char_length", "length({})", "Length in characters (SQLite has no CHAR_LENGTH).")
octet_length = _length("octet_length", "length(CAST({} AS BLOB))",
                       "Length in bytes of the text's encoding (SQLite has no OCTET_LENGTH).")


class binary_order(FunctionElement[str]):  # noqa: N801
    """An expression compared byte by byte (the order Python's str comparison gives for ASCII)."""

    type = sa.String()
    inherit_cache = True
    name = "binary_order"


@compiles(binary_order)
def _binary_order(element: binary_order, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(binary_order, "postgresql")
def _binary_order_pg(element: binary_order, compiler: Any, **kw: Any) -> str:
    return f'({compiler.process(element.clauses, **kw)}) COLLATE "C"'


@compiles(binary_order, "mysql")
def _binary_order_mysql(element: binary_order, compiler: Any, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)}) AS BINARY)"


class ascii_upper(FunctionElement[str]):  # noqa: N801
    """Upper case of a text known to be ASCII: PostgreSQL's under the "C" collation (a plain a-z loop,
    a third of the locale's cost; Python's `str.upper` of ASCII in any locale); UPPER elsewhere (MySQL
    and MariaDB do not change the case of binary strings; SQLite's is ASCII-only already)."""

    type = sa.String()
    inherit_cache = True
    name = "ascii_upper"


@compiles(ascii_upper)
def _ascii_upper(element: ascii_upper, compiler: Any, **kw: Any) -> str:
    return f"upper({compiler.process(element.clauses, **kw)})"


@compiles(ascii_upper, "postgresql")
def _ascii_upper_pg(element: ascii_upper, compiler: Any, **kw: Any) -> str:
    return f'upper(({compiler.process(element.clauses, **kw)}) COLLATE "C")'


def _lit(value: str | int) -> sa.ColumnElement[Any]:
    """A constant written into the SQL (not a bind parameter: statements with only the caller's values as
    parameters run on asyncpg by position). Only the fixed characters and numbers below are passed."""
    return sa.literal_column(f"'{value}'" if isinstance(value, str) else str(int(value)))


def normalized_id_body(col: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    """SQL for the first 17 characters of the normalized ID number in a raw column.

    Folds full-width digits and x, upper-cases, and turns a 15-digit number into its 18-digit
    body; the 18th character is the check digit, determined by these 17. Its constants are written
    into the SQL, so it has no parameters of its own.

    Most values are 18 ASCII characters (as many bytes as characters): folding leaves those as they
    are, so their body is the upper-cased first 17 characters, without the twelve replacements
    (the same value, at a fraction of the cost of the full fold in a window's PARTITION BY).
    """
    folded: sa.ColumnElement[Any] = sa.func.upper(col, type_=sa.String)
    for wide, narrow in _FOLD:
        folded = sa.func.replace(folded, _lit(wide), _lit(narrow), type_=sa.String)
    upgraded = sa.func.substr(folded, _lit(1), _lit(6), type_=sa.String).concat(_lit("19")).concat(
        sa.func.substr(folded, _lit(7), _lit(9), type_=sa.String))
    ascii18 = sa.and_(char_length(col) == _lit(18), octet_length(col) == _lit(18))
    return sa.case(
        (ascii18, ascii_upper(sa.func.substr(col, _lit(1), _lit(17), type_=sa.String))),
        (char_length(folded) == _lit(15), upgraded),
        else_=sa.func.substr(folded, _lit(1), _lit(17), type_=sa.String),
    )


def normalized_id_sort_key(col: sa.ColumnElement[Any]) -> tuple[sa.ColumnElement[str]]:
    """ORDER BY terms that stream rows in the order of `normalized_id[:17]` in Python."""
    return (binary_order(normalized_id_body(col)),)


# Converters whose canonical order is the order of the legacy value with its separators taken out
# ('2025-10' and '202510' both order as '202510'); fetch(latest=...) orders by it in SQL.
_SEPARATED = frozenset({"iso", "iso_compact", "date8"})
_AS_STORED = frozenset({"date", "int", "iso_int", "iso_date"})
ORDERED_IN_SQL = _SEPARATED | _AS_STORED  # the converters `canonical_order` has an expression for


def canonical_order(col: sa.ColumnElement[Any], convert: str) -> sa.ColumnElement[Any] | None:
    """A SQL expression ordering rows as the converter's canonical values order, None where there is none."""
    if convert in _AS_STORED:
        return col
    if convert in _SEPARATED:
        text: sa.ColumnElement[Any] = sa.cast(col, sa.String())
        for sep in ("-", "/", "."):
            text = sa.func.replace(text, sa.literal_column(f"'{sep}'"), sa.literal_column("''"))  # literals: not parameters
        return binary_order(sa.func.trim(text))
    return None
