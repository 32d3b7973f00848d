"""Columnar reads for the bulk cross-check: an entity's canonical fields as a Polars frame.

The SQL a source runs is the adapter's own (mapping tables, joins, filters); the rows come back as
columns through ConnectorX (SQLite, PostgreSQL; other backends as raw rows through SQLAlchemy) and are converted in Polars, never one
Python record per row. Conversion follows the row path (adapters.rows.column_loader) exactly: the
loader is applied to each *distinct* legacy value of a column and the results are mapped back, so
codes, dates and names cost one Python call per distinct value. Two columns with a distinct value
per row are converted in Polars: plain text (stripped, blank -> null) and whole numbers; ID numbers
take Polars for the common spelling (18 ASCII letters and digits) and the loader for the rest.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from collections.abc import Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa

from adapters.mapping import ColumnSpec
from adapters.rows import column_loader


def cx_url(url: sa.URL) -> str | None:
    """The ConnectorX form of a SQLAlchemy URL (driver dropped), None for a backend it does not read."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        return f"sqlite://{url.database}" if url.database and url.database != ":memory:" else None
    if backend == "postgresql":  # MySQL/MariaDB is read as raw rows: not yet tested through ConnectorX here
        return url.set(drivername=backend).render_as_string(hide_password=False)
    return None


def literal_sql(stmt: sa.Select[Any], dialect: Any) -> str:
    """A statement with its values written in (ConnectorX takes no parameters)."""
    return str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


_NULL_TYPES = {"int": pl.Int64, "yuan_to_fen": pl.Int64, "date": pl.Date, "date8": pl.Date, "boolean": pl.Boolean}


def _loaded(raw: pl.Series, spec: ColumnSpec) -> tuple[pl.Series, pl.Series]:
    """(distinct legacy values, their canonical values) of a column, through the row path's loader."""
    load = column_loader(spec)
    distinct = raw.drop_nulls().unique()
    converted = pl.Series(raw.name, [load(v) for v in distinct.to_list()], strict=False)
    return distinct, converted


def _by_distinct(raw: pl.Series, spec: ColumnSpec) -> pl.Series:
    distinct, converted = _loaded(raw, spec)
    if converted.dtype == pl.Null:  # no value at all: nulls of the type the converter gives
        return pl.Series(raw.name, [None] * len(raw), dtype=_NULL_TYPES.get(spec.convert, pl.String) if spec.values is None else pl.String)
    return raw.replace_strict(distinct, converted, default=None, return_dtype=converted.dtype)


def _when(mask: pl.Series, then: pl.Series | None, otherwise: pl.Series) -> pl.Series:
    frame = pl.DataFrame({"m": mask, "o": otherwise, **({"t": then} if then is not None else {})})
    return frame.select(pl.when(pl.col("m")).then(pl.col("t") if then is not None else None)
                        .otherwise(pl.col("o"))).to_series().alias(otherwise.name)


def convert(raw: pl.Series, spec: ColumnSpec) -> pl.Series:
    """A legacy column as canonical values (what adapters.rows would give, row by row)."""
    if spec.values is None and spec.normalize is None:
        if spec.convert == "text":
            text = raw.cast(pl.String).str.strip_chars()
            return _when(text == "", None, text)
        if spec.convert == "int" and raw.dtype.is_integer():
            return raw.cast(pl.Int64)
    if spec.values is None and spec.normalize == "id_number" and spec.convert == "text" and raw.dtype == pl.String:
        common = raw.str.contains(r"^[0-9A-Za-z]{18}$").fill_null(False)
        distinct, converted = _loaded(raw.filter(~common), spec)
        rest = raw.replace_strict(distinct, converted.cast(pl.String), default=None, return_dtype=pl.String)
        return _when(common, raw.str.to_uppercase(), rest)
    return _by_distinct(raw, spec)


def frame(table: Any, fields: Sequence[str], specs: dict[str, ColumnSpec]) -> pl.DataFrame:
    """Canonical columns (named by field) from a frame of raw columns c0, c1, … in `fields` order."""
    raw = table if isinstance(table, pl.DataFrame) else pl.from_arrow(table)
    assert isinstance(raw, pl.DataFrame)
    return pl.DataFrame([convert(raw.get_column(f"c{i}"), specs[f]).alias(f) for i, f in enumerate(fields)])


def from_rows(rows: Sequence[Sequence[Any]], fields: Sequence[str], specs: dict[str, ColumnSpec]) -> pl.DataFrame:
    """The same from raw rows (the fallback when ConnectorX cannot read the source)."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in fields]
    raw = pl.DataFrame({f"c{i}": pl.Series(f"c{i}", list(col), strict=False) for i, col in enumerate(columns)})
    return frame(raw, fields, specs)


def dtypes(record: type) -> dict[str, pl.DataType]:
    """The Polars type of each field of a canonical record: dates, whole numbers and flags as such, the rest text."""
    types: dict[str, pl.DataType] = {}
    for name, hint in typing.get_type_hints(record).items():
        kinds = set(typing.get_args(hint) or (hint,)) - {type(None)}
        types[name] = (pl.Date() if dt.date in kinds else pl.Boolean() if bool in kinds
                       else pl.Int64() if int in kinds else pl.String())
    return types


def empty(record: type, fields: Sequence[str]) -> pl.DataFrame:
    """No rows, the fields typed as the record's (what `typed` gives a source without records)."""
    types = dtypes(record)
    return pl.DataFrame(schema={f: types[f] for f in fields})


def typed(frame: pl.DataFrame, record: type, fields: Sequence[str]) -> pl.DataFrame:
    """The frame in `fields` order, each column of its record type, the fields a mapping leaves out at the
    record's declared default: the same schema whatever the source (an empty column or a missing field too)."""
    types = dtypes(record)
    defaults = {f.name: None if f.default is dataclasses.MISSING else f.default for f in dataclasses.fields(record)}
    missing = [pl.lit(defaults.get(f)).alias(f) for f in fields if f not in frame.columns]
    return (frame.with_columns(missing) if missing else frame).select(pl.col(f).cast(types[f]) for f in fields)
