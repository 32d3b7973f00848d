"""GB 11643 ID numbers and GB 32100 credit codes (docs/domain.md §Worked examples)."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.core import ids


def test_id_check_digit_example() -> None:
    assert ids.id_check_digit("15292119850315002") == "X"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("152921850315002", "15292119850315002X"),  # 15 digits upgraded
        ("15292119850315002x", "15292119850315002X"),  # lower-case x
        ("１５２９２１１９８５０３１５００２Ｘ", "15292119850315002X"),  # full width
        (" 152921 19850315002X ", "15292119850315002X"),  # spaces
        ("", None),
        (None, None),
    ],
)
def test_normalize_id_number(raw: str | None, expected: str | None) -> None:
    assert ids.normalize_id_number(raw) == expected


def test_id_problems() -> None:
    assert ids.id_number_problem("15292119850315002X") is None
    assert "校验位" in (ids.id_number_problem("152921198503150021") or "")
    assert "出生日期" in (ids.id_number_problem("152921198502300021") or "")
    assert "格式" in (ids.id_number_problem("15292119850315") or "")


def test_make_id_number_is_valid_with_sex_parity() -> None:
    for seq in range(0, 500, 37):
        for male in (True, False):
            number = ids.make_id_number("152922", dt.date(1990, 2, 28), seq, male)
            assert ids.id_number_problem(number) is None
            assert ids.id_sex(number) == ("male" if male else "female")
            assert ids.id_birth_date(number) == dt.date(1990, 2, 28)


def test_uscc_example_and_problems() -> None:
    assert ids.uscc_check_char("12152900MB1957031") == "D"
    assert ids.uscc_problem("12152900MB1957031D") is None
    assert ids.uscc_problem("12152900MB1957031E") is not None
    assert ids.uscc_problem("12152900MB195703") is not None
    assert ids.org_code_problem("MB1957031") is None
    assert ids.org_code_problem("MB1957032") is not None


def test_make_uscc_valid_and_org_code_inside() -> None:
    code = ids.make_uscc("11", "152921", "MB000123")
    assert ids.uscc_problem(code) is None
    assert ids.org_code_of(code) == code[8:17]
    assert ids.normalize_code(code.lower()) == code


def test_normalize_name_folds_spaces_and_brackets() -> None:
    assert ids.normalize_name("张 三") == "张三"
    assert ids.normalize_name("阿拉善盟（机关）") == "阿拉善盟(机关)"
