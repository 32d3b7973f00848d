"""Masked values: which fields can be masked and how (the executor applies them: schema/execution/executor/masks.py)."""

from __future__ import annotations

from collections.abc import Callable

_STARS = ["*" * n for n in range(65)]  # masks run per value: no string multiplication for usual lengths


def mask_id_number(value: str) -> str:
    """Keep the first 6 and last 4 characters: 152921********123X."""
    n = len(value)
    if 10 < n <= 74:
        return value[:6] + _STARS[n - 10] + value[-4:]
    return value[:6] + "*" * (n - 10) + value[-4:] if n > 10 else "*" * n


def mask_name(value: str) -> str:
    """Keep the first character: 张*."""
    n = len(value)
    return value[:1] + (_STARS[n - 1] if 0 < n <= 65 else "*" * (n - 1))


def mask_tail(value: str) -> str:
    """Keep the last 4 characters (phone, bank account, insured number)."""
    return "*" * max(len(value) - 4, 0) + value[-4:]


def year_only(value: str) -> str:
    """A date at any precision coarsened to its year: 1978-12-14 -> 1978."""
    return value[:4]


MASKERS: dict[str, Callable[[str], str]] = {
    "id_number": mask_id_number, "name": mask_name, "tail": mask_tail, "year": year_only,
}

# Fields that can be masked and how. A policy `mask` line on any other field denies it instead.
# The derivation table (policies/derivations.csv) masks some of them for roles that see another masked.
MASKABLE: dict[tuple[str, str], str] = {
    ("Person", "idNumber"): "id_number",
    ("Person", "name"): "name",
    ("RegistryEntry", "name"): "name",
    ("PersonnelRecord", "name"): "name",
    ("CadreRecord", "name"): "name",
    ("InsuranceRecord", "insuredNo"): "tail",
    ("Alert", "idNumber"): "id_number",
    ("RetirementDeferral", "idNumber"): "id_number",
    ("RegistryEntry", "birth"): "year",
    ("PersonnelRecord", "birth"): "year",
    ("CadreRecord", "birth"): "year",
}
