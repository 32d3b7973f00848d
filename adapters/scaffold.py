"""A first mapping for a department, guessed from its live database (`hub adapter new`).

The tables and columns are read with SQLAlchemy's inspector. The table that looks like the
department's list of units (a credit-code column and a name column) becomes its `unit` entity, so
its units join the crosswalk; every other table becomes a custom entity (adapters/custom.py) with
a field per column, typed from the column's SQL type, keyed by its primary key, and joined to
`Institution` by the unit table's key column where it has one. Everything guessed is marked
`# TODO review`: names, descriptions, types (an amount kept in yuan as REAL wants
`convert: yuan_to_fen` on an `int` field), code lists, joins. The result is a starting point an
integrator edits, then checks with `hub sources check` and `hub adapter test`.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from hub.core.db import sync_url

_CREDIT = re.compile(r"(?i)(TYSHXYDM|TYXYDM|XYDM|USCC|CREDIT)")
_NAME = re.compile(r"(?i)(MC|NAME)$")
_REGION = re.compile(r"(?i)^(XZQH|REGION.*|QHDM)$")
TODO = "# TODO review"


def _field_type(column_type: Any) -> str:
    if isinstance(column_type, sa.Boolean):
        return "boolean"
    if isinstance(column_type, sa.Integer):
        return "int"
    if isinstance(column_type, sa.Numeric | sa.Float):  # REAL too: amounts want yuan_to_fen on an int field
        return "decimal"
    if isinstance(column_type, sa.Date | sa.DateTime):
        return "date"
    return "string"


def _snake(name: str) -> str:
    text = re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_").lower() or "field"
    return text if text[0].isalpha() else f"f_{text}"


def _pascal(name: str) -> str:
    return "".join(p.title() for p in _snake(name).split("_"))


def inspect_tables(url: str) -> dict[str, dict[str, Any]]:
    """table -> {"columns": [(name, SQL type)], "key": [primary key columns]} of a live database."""
    engine = sa.create_engine(sync_url(url))
    try:
        inspector = sa.inspect(engine)
        return {
            table: {"columns": [(c["name"], c["type"]) for c in inspector.get_columns(table)],
                    "key": list(inspector.get_pk_constraint(table).get("constrained_columns") or [])}
            for table in sorted(inspector.get_table_names())
        }
    finally:
        engine.dispose()


def _unit_table(tables: dict[str, dict[str, Any]]) -> str | None:
    for table, found in tables.items():
        names = [c for c, _ in found["columns"]]
        if any(_CREDIT.search(c) for c in names) and any(_NAME.search(c) for c in names):
            return table
    return None


def scaffold(department: str, title: str, tables: dict[str, dict[str, Any]]) -> str:
    """The mapping text guessed from the tables (see the module)."""
    lines = [f"# {title}: 由 hub adapter new 生成，请逐项核对 / made by hub adapter new: review every line {TODO}",
             f"department: {department}", f"title: {title}  {TODO}", "trust: 100", "entities:"]
    unit = _unit_table(tables)
    unit_key: str | None = None
    if unit is not None:
        columns = [c for c, _ in tables[unit]["columns"]]
        unit_key = (tables[unit]["key"] or columns)[0]
        name = next(c for c in columns if _NAME.search(c))
        credit = next(c for c in columns if _CREDIT.search(c))
        lines += ["  unit:", f"    table: {unit}", "    scope: local_id", "    order: [local_id]", "    columns:",
                  f"      local_id: {unit_key}  {TODO}: the department's own unit code",
                  f"      name: {{column: {name}, normalize: name}}  {TODO}",
                  f"      credit_code: {{column: {credit}, normalize: credit_code}}  {TODO}"]
        region = next((c for c in columns if _REGION.match(c)), None)
        if region:
            lines.append(f"      region_code: {region}  {TODO}")
    else:
        lines.append(f"  {{}}  {TODO}: no table looks like a list of units (a credit code and a name column)")
    lines.append("custom:")
    for table, found in tables.items():
        if table == unit:
            continue
        columns = found["columns"]
        fields = {c: _snake(c) for c, _ in columns}
        key = [fields[c] for c in found["key"]] or [fields[columns[0][0]]]
        entity = _snake(table)
        lines += [f"  {entity}:", f"    type: {_pascal(table)}  {TODO}: the GraphQL type name",
                  f"    description: {table} / {table}  {TODO}: '中文 / English'", f"    table: {table}",
                  f"    key: [{', '.join(key)}]  {TODO}: unique per row"]
        if unit_key is not None and unit_key in fields:
            lines.append(f"    institution: {{field: {entity}, by: {fields[unit_key]}}}  {TODO}: the field on Institution")
        else:
            lines.append(f"    # institution: {{field: {entity}, by: <the unit code field>}}  {TODO}: no join found")
        lines.append("    fields:")
        for column, column_type in columns:
            kind = _field_type(column_type)
            hint = f" ({column_type}: an amount in yuan? int with convert: yuan_to_fen)" if kind == "decimal" else ""
            lines.append(f"      {fields[column]}: {{column: {column}, type: {kind}}}  {TODO}{hint}")
    return "\n".join(lines) + "\n"
