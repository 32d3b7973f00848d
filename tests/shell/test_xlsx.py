"""The streaming XLSX writer: what it writes is what openpyxl reads back."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl

from hub import xlsx
from hub.xlsx import XlsxStream, column_letters


def test_column_letters() -> None:
    assert [column_letters(i) for i in (0, 25, 26, 51, 52, 701, 702)] == ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]


def test_values_and_formats_read_back() -> None:
    out = io.BytesIO()
    sheet = XlsxStream(out, "报表", ["名称", "数", "比例", "日期", "时间", "是否"])
    sheet.append(["A&B <c> \x01\"引号\" ", 2147483648, 0.125, dt.date(1965, 1, 31), dt.datetime(2026, 12, 7, 5, 30, 15), True],
                 [0, xlsx.INTEGER, xlsx.DECIMAL, xlsx.DATE, xlsx.DATETIME, 0])
    sheet.append([None, None, -1.5, None, None, False], [0, 0, xlsx.DECIMAL, 0, 0, 0])
    sheet.close()
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    ws = book.active
    assert ws.title == "报表"  # type: ignore[union-attr]
    rows = list(ws.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0] == ("名称", "数", "比例", "日期", "时间", "是否")
    assert rows[1] == ('A&B <c> "引号" ', 2147483648, 0.125, dt.datetime(1965, 1, 31), dt.datetime(2026, 12, 7, 5, 30, 15), True)
    assert rows[2] == (None, None, -1.5, None, None, False)
    assert ws["D2"].number_format == "yyyy-mm-dd" and ws["E2"].number_format == "yyyy-mm-dd hh:mm:ss"  # type: ignore[index]
    assert ws["B2"].number_format == "0" and ws["C2"].number_format == "0.00" and ws["A1"].font.b  # type: ignore[index]
