"""The XLSX side of a report export: what the writer writes is what openpyxl reads back."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl

from hub.export import Column, Writer


def _columns(*kinds: str) -> tuple[Column, ...]:
    return tuple(Column(header=f"列{i}", path=(f"c{i}",), kind=k) for i, k in enumerate(kinds))


def test_values_and_formats_read_back() -> None:
    writer = Writer("xlsx", _columns("String", "Int", "Float", "Date", "DateTime", "Boolean"))
    writer.write(["=1+1 A&B <c> \"引号\" ", 2147483648, 0.125, dt.date(1965, 1, 31), dt.datetime(2026, 12, 7, 5, 30, 15), True])
    writer.write([None, None, -1.5, None, None, False])
    with writer.file() as file:
        book = openpyxl.load_workbook(io.BytesIO(file.read()))
    ws = book.active
    assert ws.title == "报表"  # type: ignore[union-attr]
    rows = list(ws.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0] == ("列0", "列1", "列2", "列3", "列4", "列5")
    # text that looks like a formula stays text
    assert rows[1] == ('=1+1 A&B <c> "引号" ', 2147483648, 0.125, dt.datetime(1965, 1, 31), dt.datetime(2026, 12, 7, 5, 30, 15), True)
    assert rows[2] == (None, None, -1.5, None, None, False)
    assert ws["D2"].number_format == "yyyy-mm-dd" and ws["E2"].number_format == "yyyy-mm-dd hh:mm:ss"  # type: ignore[index]
    assert ws["B2"].number_format == "0" and ws["C2"].number_format == "0.00" and ws["A1"].font.b  # type: ignore[index]
