"""A streaming XLSX writer: one worksheet, rows written into the zip entry as they come, strings inline.

What a report export needs and no more (hub/export.py): text, numbers, booleans, dates and times with
a number format, a header row. Strings are written inline (`t="inlineStr"`), not into a shared
string table, so nothing grows with the number of rows: memory holds one row, whatever the file's
size (openpyxl's write-only mode keeps every distinct string in memory until it saves). The parts
are the minimal SpreadsheetML package Excel, LibreOffice and openpyxl open (ECMA-376 Part 1).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Sequence
from typing import IO, Any
from xml.sax.saxutils import escape

EPOCH = dt.datetime(1899, 12, 30)  # Excel's day 0 (1900 date system, past the 1900-02-29 bug)
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0

# Cell styles (cellXfs indexes): 0 general, 1 date, 2 date and time, 3 integer, 4 two decimals.
DATE, DATETIME, INTEGER, DECIMAL = 1, 2, 3, 4

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets>
</workbook>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>"""
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/><numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/></numFmts>
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="6">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""
_SHEET_HEAD = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"""
_SHEET_TAIL = "</sheetData></worksheet>"
_BOLD = 5


def column_letters(index: int) -> str:
    """A 0-based column index as letters: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(value: str) -> str:
    return escape(_ILLEGAL.sub("", value))


class XlsxStream:
    """Writes one worksheet of rows to a file as an XLSX package; `close()` finishes it (the file stays open)."""

    def __init__(self, out: IO[bytes], sheet: str, headers: Sequence[str]) -> None:
        self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=5)
        for name, text in (("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _RELS),
                           ("xl/workbook.xml", _WORKBOOK.format(name=_text(sheet)[:31])),
                           ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS), ("xl/styles.xml", _STYLES)):
            self.zip.writestr(name, text)
        self.sheet = self.zip.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
        self.sheet.write(_SHEET_HEAD.encode())
        self.letters = [column_letters(i) for i in range(len(headers))]
        self.rows = 0
        self._row(headers, [_BOLD] * len(headers))

    def append(self, values: Sequence[Any], styles: Sequence[int]) -> None:
        """One row; `styles` gives each number's or date's format (DATE, DATETIME, INTEGER, DECIMAL; 0 general)."""
        self._row(values, styles)

    def _row(self, values: Sequence[Any], styles: Sequence[int]) -> None:
        self.rows += 1
        n = self.rows
        parts = [f'<row r="{n}">']
        for letter, value, style in zip(self.letters, values, styles, strict=False):
            ref = f"{letter}{n}"
            s = f' s="{style}"' if style else ""
            if value is None:
                continue
            if isinstance(value, bool):
                parts.append(f'<c r="{ref}"{s} t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, int | float):
                parts.append(f'<c r="{ref}"{s}><v>{value!r}</v></c>')
            elif isinstance(value, dt.datetime):
                serial = (value.replace(tzinfo=None) - EPOCH).total_seconds() / 86400
                parts.append(f'<c r="{ref}"{s}><v>{serial!r}</v></c>')
            elif isinstance(value, dt.date):
                parts.append(f'<c r="{ref}"{s}><v>{(value - EPOCH.date()).days}</v></c>')
            else:
                parts.append(f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{_text(str(value))}</t></is></c>')
        parts.append("</row>")
        self.sheet.write("".join(parts).encode())

    def close(self) -> None:
        """Finish the sheet and the package."""
        self.sheet.write(_SHEET_TAIL.encode())
        self.sheet.close()
        self.zip.close()
