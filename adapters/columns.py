"""Columnar reads for the bulk cross-check: an entity's canonical fields as a Polars frame.

The SQL a source runs is the adapter's own (mapping tables, joins, filters); the rows come back as
columns through ConnectorX (SQLite, PostgreSQL; other backends as raw rows through SQLAlchemy) in Arrow
batches, each converted in Polars as it comes (`batches`: one raw batch in memory at a time), never one
Python record per row. Conversion follows the row path (adapters.rows.column_loader) exactly: the
loader is applied to each *distinct* legacy value of a column (once per statement, whatever the
batches) and the results are mapped back, so codes and dates cost one Python call per distinct value.
Columns with a distinct value per row are converted in Polars: plain text (stripped, blank -> null)
and whole numbers; ID numbers and names take Polars for their common spelling (`COMMON`: 18 ASCII
letters and digits; CJK ideographs only) and the loader for the rest.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from collections.abc import Callable, Iterable, Sequence
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


Known = dict[Any, Any]  # legacy value -> canonical value, kept across the batches of one column
_UNSEEN = object()


def _loaded(raw: pl.Series, spec: ColumnSpec, known: Known) -> tuple[pl.Series, pl.Series]:
    """(distinct legacy values, their canonical values) of a column, through the row path's loader (once per
    value: `known` remembers the values of earlier batches)."""
    load = column_loader(spec)
    distinct = raw.drop_nulls().unique()
    values = []
    for v in distinct.to_list():
        c = known.get(v, _UNSEEN)
        if c is _UNSEEN:
            c = known[v] = load(v)
        values.append(c)
    return distinct, pl.Series(raw.name, values, strict=False)


def _by_distinct(raw: pl.Series, spec: ColumnSpec, known: Known) -> pl.Series:
    distinct, converted = _loaded(raw, spec, known)
    if converted.dtype == pl.Null:  # no value at all: nulls of the type the converter gives
        return pl.Series(raw.name, [None] * len(raw), dtype=_NULL_TYPES.get(spec.convert, pl.String) if spec.values is None else pl.String)
    return raw.replace_strict(distinct, converted, default=None, return_dtype=converted.dtype)


def _when(mask: pl.Series, then: pl.Series | None, otherwise: pl.Series) -> pl.Series:
    frame = pl.DataFrame({"m": mask, "o": otherwise, **({"t": then} if then is not None else {})})
    return frame.select(pl.when(pl.col("m")).then(pl.col("t") if then is not None else None)
                        .otherwise(pl.col("o"))).to_series().alias(otherwise.name)


def convert(raw: pl.Series, spec: ColumnSpec, known: Known | None = None) -> pl.Series:
    """A legacy column as canonical values (what adapters.rows would give, row by row); `known`: the values
    loaded for the column's earlier batches."""
    known = {} if known is None else known
    if spec.values is None and spec.normalize is None:
        if spec.convert == "text":
            text = raw.cast(pl.String).str.strip_chars()
            return _when(text == "", None, text)
        if spec.convert == "int" and raw.dtype.is_integer():
            return raw.cast(pl.Int64)
    common = COMMON.get(spec.normalize or "") if spec.values is None and spec.convert == "text" else None
    if common is not None and raw.dtype == pl.String:
        pattern, canonical = common
        usual = raw.str.contains(pattern).fill_null(False)
        distinct, converted = _loaded(raw.filter(~usual), spec, known)
        rest = raw.replace_strict(distinct, converted.cast(pl.String), default=None, return_dtype=pl.String)
        return _when(usual, canonical(raw), rest)
    return _by_distinct(raw, spec, known)


# Normalized text columns whose common spelling Polars converts (the loader takes the rest, per distinct value):
# normalizer -> (the common spelling, its canonical value). An ID number of 18 ASCII letters and digits is
# upper-cased; a name of CJK unified ideographs only (no white space, nothing NFKC changes) is itself.
COMMON: dict[str, tuple[str, Callable[[pl.Series], pl.Series]]] = {
    "id_number": (r"^[0-9A-Za-z]{18}$", lambda s: s.str.to_uppercase()),
    "name": (r"^[\x{4e00}-\x{9fff}]+$", lambda s: s),
}


def frame(table: Any, fields: Sequence[str], specs: dict[str, ColumnSpec], known: dict[str, Known] | None = None) -> pl.DataFrame:
    """Canonical columns (named by field) from a frame of raw columns c0, c1, … in `fields` order (`known`: per
    field, the values loaded for earlier batches of the same statement)."""
    raw = table if isinstance(table, pl.DataFrame) else pl.from_arrow(table)
    assert isinstance(raw, pl.DataFrame)
    known = known if known is not None else {}
    return pl.DataFrame([convert(raw.get_column(f"c{i}"), specs[f], known.setdefault(f, {})).alias(f) for i, f in enumerate(fields)])


def batches(reader: Iterable[Any], fields: Sequence[str], specs: dict[str, ColumnSpec], record: type,
            wanted: Sequence[str]) -> pl.DataFrame:
    """The canonical frame of a stream of raw Arrow batches, converted batch by batch (only one raw batch is held
    at a time; each distinct legacy value is loaded once across them). An error of the reader is `ReadFailed`."""
    known: dict[str, Known] = {}
    parts = []
    batch_iter = iter(reader)
    while True:
        try:
            batch = next(batch_iter)
        except StopIteration:
            break
        except Exception as exc:  # noqa: BLE001 - the reader's own (e.g. ConnectorX's Rust) error types
            raise ReadFailed(str(exc)) from exc
        parts.append(typed(frame(batch, fields, specs, known), record, wanted))
    return pl.concat(parts) if parts else empty(record, wanted)


class ReadFailed(Exception):
    """The columnar reader could not read the statement (the caller reads raw rows instead)."""


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
