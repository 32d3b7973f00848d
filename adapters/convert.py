"""Value converters named in mapping files: legacy column value <-> canonical value, both ways.

Each converter reads a legacy value (`load`), turns a canonical value into the legacy value a filter
compares with (`dump`), and, for write-back (adapters/write.py), into the value a column is written
with (`store`, with the kind of column it writes: text, int or date). Canonical values may arrive as
JSON (the outbox keeps dates as ISO text), so `store` accepts ISO text for dates.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hub.core import ids


def _text(raw: Any) -> str | None:
    if raw.__class__ is not str:
        raw = None if raw is None else str(raw)
        if raw is None:
            return None
    return raw.strip() or None


def _int(raw: Any) -> int | None:
    return None if raw is None or raw == "" else int(raw)


def _date(raw: Any) -> dt.date | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw).strip().replace("-", "").replace("/", "")
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8])) if len(text) >= 8 else None


_ISO = re.compile(r"\d{4}-\d{2}(?:-\d{2})?")


def _iso(raw: Any) -> str | None:
    """Any date-like legacy value ('1975-08', '197508', 19750820, DATE) as an ISO (partial) string."""
    if raw is None or raw == "":
        return None
    if raw.__class__ is str:
        if raw.isalnum():  # no separator, no white space: compact ('197508'), the other common case
            return f"{raw[:4]}-{raw[4:]}" if len(raw) == 6 else "-".join(p for p in (raw[:4], raw[4:6], raw[6:8]) if p)
        if _ISO.fullmatch(raw):
            return raw  # already ISO: the common case, kept fast
    if isinstance(raw, dt.date):
        return raw.isoformat()[:10]
    digits = str(raw).strip().replace("-", "").replace("/", "").replace(".", "")
    parts = [digits[:4], digits[4:6], digits[6:8]]
    return "-".join(p for p in parts if p)


def _iso_to_compact(value: Any) -> str:
    return str(value).replace("-", "")


def _iso_to_int(value: Any) -> int:
    return int(_iso_to_compact(value))


def _iso_to_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _same(value: Any) -> Any:
    return value


def _to_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def _to_date8(value: Any) -> str:
    return _iso_to_date(value).strftime("%Y%m%d")


def _iso_text(value: Any) -> str:
    return value.isoformat()[:10] if isinstance(value, dt.date) else str(value)


def exact(raw: Any) -> Decimal:
    """A legacy number as the Decimal it was written as: a float by its shortest repr (0.1 -> 0.1, not
    0.1000000000000000055…), so a REAL column's yuan amount is the amount the clerk typed."""
    if isinstance(raw, Decimal):
        return raw
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise ValueError(f"not a finite number: {raw!r}")
        return Decimal(repr(raw))
    return Decimal(str(raw).strip())


def _decimal(raw: Any) -> Decimal | None:
    return None if raw is None or raw == "" else exact(raw)


def yuan_to_fen(raw: Any) -> int | None:
    """An amount in yuan (REAL, NUMERIC or text) as integer fen, rounded half up to the fen."""
    if raw is None or raw == "":
        return None
    return int((exact(raw) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fen_to_yuan(fen: Any) -> Decimal:
    """Integer fen as yuan with two decimals (the legacy value a fen amount stands for)."""
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


_TRUE = frozenset({"1", "y", "yes", "t", "true", "是", "有"})
_FALSE = frozenset({"0", "n", "no", "f", "false", "否", "无"})


def _flag(value: Any) -> int:
    return 1 if value else 0


def _boolean(raw: Any) -> bool | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a yes/no value: {raw!r}")


def _iso_month_text(value: Any) -> str:
    return _iso_text(value)[:7]


@dataclass(frozen=True, slots=True)
class Converter:
    """legacy -> canonical (`load`), canonical -> legacy for WHERE (`dump`) and for writing (`store`, None:
    the converter cannot be inverted, so an entity using it cannot be writable); `kind` is the column
    type `store` writes: "text", "int" or "date"."""

    load: Callable[[Any], Any]
    dump: Callable[[Any], Any]
    store: Callable[[Any], Any] | None = None
    kind: str = "text"


CONVERTERS: dict[str, Converter] = {
    "text": Converter(_text, _same, _to_text),
    "int": Converter(_int, int, int, "int"),  # whole numbers, money in fen
    "date": Converter(_date, _iso_to_date, _iso_to_date, "date"),  # DATE column -> date
    "date8": Converter(_date, _to_date8, _to_date8),  # '20190301' -> date
    "iso": Converter(_iso, _same, _iso_text),  # text kept in ISO form ('1975-08')
    "iso_month": Converter(_iso, _same, _iso_month_text),  # the same, written at month precision ('1975-08')
    "iso_compact": Converter(_iso, _iso_to_compact, _iso_to_compact),  # '197508' / '202510' -> '1975-08'
    "iso_int": Converter(_iso, _iso_to_int, _iso_to_int, "int"),  # 19750820 -> '1975-08-20'
    "iso_date": Converter(_iso, _iso_to_date, _iso_to_date, "date"),  # DATE column -> '1975-08-20' (a full date only)
    "decimal": Converter(_decimal, _same),  # NUMERIC / REAL / text -> Decimal, exactly as written (not writable)
    "yuan_to_fen": Converter(yuan_to_fen, fen_to_yuan),  # 1234.56 (yuan, REAL or NUMERIC) -> 123456 fen
    "fen_to_yuan": Converter(lambda raw: None if raw is None or raw == "" else fen_to_yuan(raw),
                             lambda yuan: yuan_to_fen(yuan)),  # 123456 (fen) -> Decimal('1234.56') yuan
    "boolean": Converter(_boolean, _flag, _flag, "int"),  # 1/0, Y/N, 是/否 -> bool
}

NORMALIZERS: dict[str, Callable[[Any], str | None]] = {
    "id_number": ids.normalize_id_number,
    "credit_code": ids.normalize_code,
    "name": ids.normalize_name,
}

_FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")
_CHECK = frozenset("0123456789X")  # the check characters of a normalized number


def id_number_variants(key: str) -> list[str]:
    """Legacy spellings that normalize to an ID number, for an index-friendly `IN (...)` lookup.

    Covers what departments' systems hold: 18 digits, lower-case x, the 15-digit original of an
    ID issued before 1999, and a whole number typed in full-width mode.

    A key of 17 ASCII digits and a check character (every normalized number) is translated to full
    width once and its other spellings cut from the two forms (a Q4 request lists ~7,400 keys' spellings).
    """
    if len(key) == 18 and key[17] in _CHECK and key.isascii() and key[:17].isdigit():
        wide = key.translate(_FULL_WIDTH)
        out = [key, wide]
        if key[17] == "X":
            out += [key[:17] + "x", wide[:17] + "ｘ"]
        if key[6:8] == "19":
            out += [key[:6] + key[8:17], wide[:6] + wide[8:17]]
        return out
    lower = key.lower()
    spellings = [key] if lower == key else [key, lower]
    if len(key) == 18 and key[6:8] == "19":
        spellings.append(key[:6] + key[8:17])
    spellings += [s.translate(_FULL_WIDTH) for s in spellings]
    return list(dict.fromkeys(spellings))  # each once, in a fixed order (a batch of 4,000 people: 16,000 of them)


KEY_VARIANTS: dict[str, Callable[[str], list[str]]] = {
    "id_number": id_number_variants,
    "credit_code": lambda key: [key, key.lower()],
}
