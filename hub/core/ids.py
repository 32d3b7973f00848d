"""Identifier standards: resident ID numbers (GB 11643), social credit codes (GB 32100), names."""

from __future__ import annotations

import datetime as dt
import functools
import operator
import re
import unicodedata

from hub.core.errors import BadUserInput

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

_ID18 = re.compile(r"^\d{17}[\dX]$")
_ID15 = re.compile(r"^\d{15}$")


def fold(text: str) -> str:
    """Fold full-width characters to ASCII (NFKC) and strip all white space."""
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    # Every white-space character is a separator or a control character, which isprintable()
    # rejects (all but the ASCII space): two C-level checks instead of a regex search.
    return "".join(text.split()) if " " in text or not text.isprintable() else text


def id_check_digit(body17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    if len(body17) != len(ID_WEIGHTS):
        raise ValueError(f"expected 17 digits, got {body17!r}")
    return ID_CHECK[sum(map(operator.mul, map(int, body17), ID_WEIGHTS)) % 11]


def upgrade_id15(id15: str) -> str:
    """Upgrade a 15-digit ID number to 18 digits (insert the century 19, append the check)."""
    body = id15[:6] + "19" + id15[6:]
    return body + id_check_digit(body)


def normalize_id_number(raw: str | None) -> str | None:
    """Canonical form of an ID number: folded, upper-case X, 15 digits upgraded; None if blank.

    The result is not necessarily valid: use `id_number_problem` to check it.
    >>> normalize_id_number("１５２９２１８５０３１５００２")
    '15292119850315002X'
    """
    if raw is None:
        return None
    if raw.__class__ is str and len(raw) == 18 and raw.isascii():  # the common case, kept fast
        if raw.isdigit():
            return raw
        if raw.isalnum():
            return raw.upper()  # canonical but for a lower-case x
    text = fold(str(raw)).upper()
    if not text:
        return None
    if _ID15.match(text):
        return upgrade_id15(text)
    return text


def id_birth_date(id18: str) -> dt.date | None:
    """The birth date in digits 7-14 of an 18-digit ID number, or None if it is not a date."""
    try:
        return dt.date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))
    except ValueError:
        return None


def id_sex(id18: str) -> str:
    """'male' if the 17th digit is odd, else 'female'."""
    return "male" if int(id18[16]) % 2 else "female"


def id_number_problem(id18: str) -> str | None:
    """Why a normalized ID number is invalid (bilingual), or None when it is valid."""
    if not _ID18.match(id18):
        return "身份证号码格式错误 / malformed ID number (18 characters: 17 digits and a check digit or X)"
    if id_birth_date(id18) is None:
        return "身份证号码中的出生日期无效 / the birth date inside the ID number is not a real date"
    if id_check_digit(id18[:17]) != id18[17]:
        return "身份证号码校验位错误 / wrong check digit in the ID number"
    return None


def parse_id_number(raw: str | None) -> str:
    """A lookup key from user input: normalized and valid, else BAD_USER_INPUT (bilingual, field idNumber)."""
    key = normalize_id_number(raw)
    problem = id_number_problem(key) if key else "身份证号码不能为空 / ID number must not be empty"
    if problem:
        raise BadUserInput(f"{problem}: {raw!r}", field="idNumber")
    assert key is not None
    return key


def make_id_number(region: str, birth: dt.date, sequence: int, male: bool) -> str:
    """Build a valid 18-digit ID number; `sequence` (0-499) gives digits 15-17 with the sex parity."""
    parity = 2 * (sequence // 100 % 5) + (1 if male else 0)
    body = f"{region}{birth.year:04d}{birth.month:02d}{birth.day:02d}{sequence % 100:02d}{parity}"
    return body + id_check_digit(body)


def uscc_check_char(body17: str) -> str:
    """The GB 32100 check character of the first 17 characters of a USCC."""
    if len(body17) != len(USCC_WEIGHTS):
        raise ValueError(f"expected 17 characters, got {body17!r}")
    total = sum(map(operator.mul, map(USCC_VALUE.__getitem__, body17), USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


# An organization code's characters: digits are their value, letters A-Z 10-35 (GB 11714).
_ORG_VALUE = {c: int(c, 36) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
_ORG_CHECK = {11 - r: ("X" if r == 1 else "0" if r == 0 else str(11 - r)) for r in range(11)}  # by 11 - total % 11


def org_code_check_char(body8: str) -> str:
    """The check character of an 8-character organization code body (GB 11714)."""
    if len(body8) != len(ORG_WEIGHTS):
        raise ValueError(f"expected 8 characters, got {body8!r}")
    return _ORG_CHECK[11 - sum(map(operator.mul, map(_ORG_VALUE.__getitem__, body8), ORG_WEIGHTS)) % 11]


def normalize_code(raw: str | None) -> str | None:
    """Canonical form of a USCC or organization code: folded, upper case, no '-'; None if blank."""
    if raw is None:
        return None
    text = fold(str(raw)).upper().replace("-", "")
    return text or None


# A run validates each unit's code where the crosswalk places it and again in R10, and the departments share
# institutions' codes: one computation per distinct code (bounded: codes also come from requests).
_CODES_REMEMBERED = 1 << 17


_ORG_CODE = re.compile(r"[0-9A-Z]{8}[0-9X]")
_USCC = re.compile(f"[{USCC_ALPHABET}]{{18}}")


@functools.lru_cache(maxsize=_CODES_REMEMBERED)
def org_code_problem(code: str) -> str | None:
    """Why a 9-character organization code is invalid (bilingual), or None when valid."""
    if not _ORG_CODE.fullmatch(code):
        return "组织机构代码格式错误 / malformed organization code"
    if org_code_check_char(code[:8]) != code[8]:
        return "组织机构代码校验位错误 / wrong check character in the organization code"
    return None


@functools.lru_cache(maxsize=_CODES_REMEMBERED)
def uscc_problem(code: str) -> str | None:
    """Why a normalized USCC is invalid (bilingual), or None when it is valid."""
    if not _USCC.fullmatch(code):
        return "统一社会信用代码格式错误 / malformed unified social credit code"
    if uscc_check_char(code[:17]) != code[17]:
        return "统一社会信用代码校验位错误 / wrong check character in the unified social credit code"
    return org_code_problem(code[8:17])


def make_uscc(registration: str, region: str, org_body8: str) -> str:
    """Build a valid USCC from its 2-character registration type, region and org-code body."""
    body = registration + region + org_body8 + org_code_check_char(org_body8)
    return body + uscc_check_char(body)


def org_code_of(code: str | None) -> str | None:
    """The 9-character organization code of a USCC or organization code."""
    if code is None:
        return None
    if len(code) == 18:
        return code[8:17]
    return code if len(code) == 9 else None


def normalize_name(raw: str | None) -> str | None:
    """Person or unit name without spaces, full-width brackets and letters folded; None if blank."""
    if raw is None:
        return None
    text = fold(str(raw))
    return text or None
