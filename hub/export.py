"""Exporting a saved report to CSV or XLSX: paged through the one execution path, written with bounded memory.

    GET /export/<report>.<csv|xlsx>?<variable>=<value>…   (authenticated like /graphql)
    hub report export NAME --format xlsx

The report's rows are the first list its query selects: a connection's `edges { node }` or a
list of objects. When that field is a connection whose `after` argument is a variable and whose
`pageInfo { hasNextPage endCursor }` is selected, the export asks for one page after another
(`first` set to HUB_EXPORT_PAGE_ROWS when it is a variable too), each page a whole operation
through `Execution.answer` — the caller's grants, masks and row scope, and an audit entry per page.
Rows are written as they come to a temporary file (csv, or XlsxWriter in constant-memory
mode), so memory holds one page, whatever the number of rows; the file is then streamed to the client.

Columns are the row's leaf fields in the order the query selects them; each header is the Chinese
part of the field's schema description (nested fields joined with `·`). Int and Float fields are
numbers, Date and DateTime fields dates, lists joined with `；`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import xlsxwriter
from graphql import (
    FieldNode,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    parse,
    print_ast,
)

from hub.core.errors import BadUserInput, Forbidden, HubError, NotFound, SourceUnavailable
from hub.core.principal import Principal
from hub.store import reports as saved_reports
from hub.store.db import Store

FORMATS = ("csv", "xlsx")
MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
CHUNK = 64 * 1024
JOIN = "；"
NUMBER = {"Int": "0", "Float": "0.00"}  # the number format of a column of that GraphQL type
DATE, DATETIME = "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"


@dataclass(frozen=True, slots=True)
class Column:
    """One column: the response keys leading to the value, its header and its GraphQL type name."""

    path: tuple[str, ...]
    header: str
    kind: str


@dataclass(frozen=True, slots=True)
class Shape:
    """Where a report's rows are in its answer and how to page through them."""

    to_rows: tuple[str, ...]  # response keys from the answer's data to the list
    connection: bool  # rows are edges[].node
    after: str | None  # the variable bound to the list field's `after`, when it pages
    first: str | None  # the variable bound to its `first`
    columns: tuple[Column, ...]


def _label(description: str | None, name: str) -> str:
    if not description:
        return name
    zh = description.split(" / ")[0]
    for mark in ("（", "("):
        zh = zh.split(mark)[0]
    return zh.strip() or name


def _fields(selection: SelectionSetNode | None) -> Iterator[FieldNode]:
    for node in selection.selections if selection else ():
        if isinstance(node, FieldNode):
            yield node


def _leaves(parent: GraphQLObjectType, selection: SelectionSetNode | None, path: tuple[str, ...],
            header: tuple[str, ...]) -> list[Column]:
    out: list[Column] = []
    for node in _fields(selection):
        name = node.name.value
        if name.startswith("__") or name not in parent.fields:
            continue
        field = parent.fields[name]
        key = node.alias.value if node.alias else name
        named: GraphQLNamedType = get_named_type(field.type)
        label = (*header, _label(field.description, name))
        if isinstance(named, GraphQLObjectType):
            out += _leaves(named, node.selection_set, (*path, key), label)
        else:
            out.append(Column((*path, key), "·".join(label), named.name))
    return out


def _variable(node: FieldNode, argument: str) -> str | None:
    for arg in node.arguments or ():
        if arg.name.value == argument and isinstance(arg.value, VariableNode):
            return arg.value.name.value
    return None


def shape(schema: GraphQLSchema, document: str) -> Shape:
    """The rows and columns of a report's query (BAD_USER_INPUT when it selects no list)."""
    operation = next(d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode))
    query = schema.query_type
    assert query is not None

    def find(parent: GraphQLObjectType, selection: SelectionSetNode | None, path: tuple[str, ...]) -> Shape | None:
        for node in _fields(selection):
            name = node.name.value
            if name.startswith("__") or name not in parent.fields:
                continue
            field = parent.fields[name]
            key = (*path, node.alias.value if node.alias else name)
            named = get_named_type(field.type)
            if not isinstance(named, GraphQLObjectType):
                continue
            if "edges" in named.fields and "pageInfo" in named.fields:
                edges = next((n for n in _fields(node.selection_set) if n.name.value == "edges"), None)
                node_sel = next((n for n in _fields(edges.selection_set if edges else None) if n.name.value == "node"), None)
                if edges is None or node_sel is None:
                    continue
                item = get_named_type(get_named_type(named.fields["edges"].type).fields["node"].type)  # type: ignore[union-attr]
                info = next((n for n in _fields(node.selection_set) if n.name.value == "pageInfo"), None)
                keys = {n.name.value for n in _fields(info.selection_set if info else None)}
                pages = {"hasNextPage", "endCursor"} <= keys and not any(n.alias for n in _fields(node.selection_set))
                return Shape((*key, edges.alias.value if edges.alias else "edges"), True,
                             _variable(node, "after") if pages else None, _variable(node, "first"),
                             tuple(_leaves(item, node_sel.selection_set, (node_sel.alias.value if node_sel.alias else "node",), ())))  # type: ignore[arg-type]
            if isinstance(get_nullable_type(field.type), GraphQLList):
                return Shape(key, False, None, None, tuple(_leaves(named, node.selection_set, (), ())))
            found = find(named, node.selection_set, key)
            if found is not None:
                return found
        return None

    found = find(query, operation.selection_set, ())
    if found is None or not found.columns:
        raise BadUserInput("报表未选择任何列表，无法导出 / the report selects no list to export")
    return found


def variables_from(document: str, params: dict[str, str]) -> dict[str, Any]:
    """URL parameters as the query's variables: String and ID variables as given, others as JSON values."""
    operation = next(d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode))
    types = {v.variable.name.value: print_ast(v.type).strip("!") for v in operation.variable_definitions or ()}
    out: dict[str, Any] = {}
    for name, raw in params.items():
        if name not in types:
            raise BadUserInput(f"报表没有变量 {name!r} / the report has no variable {name!r}", field=name)
        if types[name] in ("String", "ID"):
            out[name] = raw
        else:
            try:
                out[name] = json.loads(raw)
            except ValueError:
                out[name] = raw  # an enum value
    return out


def _at(value: Any, path: tuple[str, ...]) -> Any:
    for i, key in enumerate(path):
        if value is None:
            return None
        if isinstance(value, list):
            parts = [_at(v, path[i:]) for v in value]
            return JOIN.join("" if p is None else str(p) for p in parts)
        value = value.get(key)
    if isinstance(value, list):
        return JOIN.join("" if v is None else str(v) for v in value)
    return value


def _typed(value: Any, kind: str) -> Any:
    if value is None or not isinstance(value, str):
        return value
    try:
        if kind == "Date":
            return dt.date.fromisoformat(value)
        if kind == "DateTime":
            return dt.datetime.fromisoformat(value).astimezone(dt.UTC).replace(tzinfo=None)
    except ValueError:
        return value
    return value


class Writer:
    """Rows into a temporary file in one format; `file()` rewinds and hands it over.

    XLSX through XlsxWriter in constant-memory mode: each row is written out as it comes, strings
    inline, so memory holds one row whatever the file's size. Text is never read as a formula, a
    number or a link.
    """

    def __init__(self, fmt: str, columns: tuple[Column, ...]) -> None:
        self.fmt, self.columns = fmt, columns
        self.out: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115  # handed to the response, which closes it
        self.rows = 0
        headers = [c.header for c in columns]
        if fmt == "csv":
            self.text = io.TextIOWrapper(self.out, encoding="utf-8-sig", newline="")  # BOM: Excel reads it as UTF-8
            self.csv = csv.writer(self.text)
            self.csv.writerow(headers)
            return
        self.book = xlsxwriter.Workbook(self.out, {
            "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
            "strings_to_urls": False, "remove_timezone": True})
        self.sheet = self.book.add_worksheet("报表")
        self.formats = {f: self.book.add_format({"num_format": f}) for f in (DATE, DATETIME, *NUMBER.values())}
        self.sheet.write_row(0, 0, headers, self.book.add_format({"bold": True}))
        self.closed = False
        # One call per cell, chosen by the value's type; each column's number format made once.
        sheet, date, stamp = self.sheet, self.formats[DATE], self.formats[DATETIME]
        self.numbers = [self.formats.get(NUMBER.get(c.kind, "")) for c in columns]
        self.cells: dict[type, Callable[[int, int, Any, Any], Any]] = {
            str: lambda r, c, v, _: sheet.write_string(r, c, v),
            bool: lambda r, c, v, _: sheet.write_boolean(r, c, v),
            int: sheet.write_number, float: sheet.write_number,
            dt.datetime: lambda r, c, v, _: sheet.write_datetime(r, c, v, stamp),
            dt.date: lambda r, c, v, _: sheet.write_datetime(r, c, v, date),
        }

    def write(self, values: list[Any]) -> None:
        self.rows += 1
        if self.fmt == "csv":
            self.csv.writerow(["" if v is None else ("true" if v is True else "false" if v is False else v) for v in values])
            return
        row, cells, numbers = self.rows, self.cells, self.numbers
        for col, v in enumerate(values):
            if v is not None:
                cell = cells.get(v.__class__)  # by exact type: a bool is not written as a number
                if cell is None:
                    self.sheet.write_string(row, col, str(v))
                else:
                    cell(row, col, v, numbers[col])

    def note(self, text: str) -> None:
        """A last line saying the export is cut short."""
        self.write([text, *[None] * (len(self.columns) - 1)])

    def _close_book(self) -> None:
        if self.fmt == "xlsx" and not self.closed:
            self.closed = True
            self.book.close()

    def discard(self) -> None:
        """Drop what was written."""
        self._close_book()
        self.out.close()

    def file(self) -> IO[bytes]:
        if self.fmt == "csv":
            self.text.flush()
            self.text.detach()
        else:
            self._close_book()
        self.out.seek(0)
        return self.out


def _raise(errors: list[dict[str, Any]]) -> None:
    codes = {(e.get("extensions") or {}).get("code") for e in errors}
    text = "；".join(e.get("message", "") for e in errors[:5])
    if "FORBIDDEN" in codes:
        raise Forbidden(f"导出被拒绝 / export refused: {text}")
    if "SOURCE_UNAVAILABLE" in codes:
        raise SourceUnavailable(f"部门数据源不可用，导出未完成 / a department source is unavailable, export not made: {text}")
    raise BadUserInput(f"导出失败 / export failed: {text}")


async def export(runner: Any, store: Store, schema: GraphQLSchema, principal: Principal, name: str, fmt: str,
                 params: dict[str, str], page_rows: int, max_rows: int) -> tuple[IO[bytes], int]:
    """Run a saved report for a principal page by page into a file of the format; (the file, rows written)."""
    if fmt not in FORMATS:
        raise BadUserInput(f"导出格式只能是 csv 或 xlsx / the format is csv or xlsx: {fmt!r}", field="format")
    report = await saved_reports.get(store, saved_reports.check_name(name))
    if report is None:
        raise NotFound(f"没有名为 {name!r} 的报表 / no report named {name!r}")
    layout = shape(schema, report.document)
    variables = {**report.variables, **variables_from(report.document, params)}
    if layout.first and layout.after:
        variables[layout.first] = page_rows
    writer = Writer(fmt, layout.columns)
    try:
        while True:
            result = await runner.answer(principal, report.document, variables)
            if result.errors:
                _raise([e.formatted for e in result.errors])
            holder: Any = result.data
            for key in layout.to_rows[:-1]:
                holder = (holder or {}).get(key)
            items = (holder or {}).get(layout.to_rows[-1]) or []
            for item in items:
                if writer.rows >= max_rows:
                    writer.note(f"仅导出前 {max_rows} 行 / only the first {max_rows} rows exported")
                    return writer.file(), writer.rows
                writer.write([_typed(_at(item, c.path), c.kind) for c in layout.columns])
            page = (holder or {}).get("pageInfo") or {}
            if not (layout.after and page.get("hasNextPage") and page.get("endCursor") and items):
                return writer.file(), writer.rows
            variables[layout.after] = page["endCursor"]
    except BaseException:
        writer.discard()
        raise


async def chunks(file: IO[bytes]) -> AsyncIterator[bytes]:
    """The file's bytes in chunks, then closed."""
    try:
        while chunk := file.read(CHUNK):
            yield chunk
    finally:
        file.close()


__all__ = ["FORMATS", "MEDIA", "HubError", "chunks", "export"]
