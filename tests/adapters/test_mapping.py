"""Mapping files: the shipped ones load; a bad one is refused with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.convert import id_number_variants
from adapters.mapping import default_mappings, load_mapping
from hub.core.errors import MappingError
from hub.core.ids import normalize_id_number
from tests.conftest import DEPARTMENTS


def test_every_department_has_a_mapping() -> None:
    mappings = default_mappings()
    assert set(mappings) == set(DEPARTMENTS)
    assert "registry_slot" in mappings["establishment"].entities
    assert "pay_line" in mappings["finance"].entities


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        ("department: x\ntitle: t\nentities: {nope: {table: T, columns: {a: B}}}", "unknown entity"),
        ("department: x\ntitle: t\nentities: {quota: {table: T, columns: {unit_local_id: A}}}", "required fields"),
        ("department: x\ntitle: t\nentities: {quota: {table: T, columns: {unit_local_id: A, quota_type: B, approved: {column: C, convert: nope}}}}", "unknown converter"),
        ("department: x\ntitle: t\nentities: {quota: {table: T, columns: {unit_local_id: X.A, quota_type: B, approved: C}}}", "not joined"),
        ("department: [", "bad mapping file"),
    ],
)
def test_bad_mapping_is_refused(tmp_path: Path, text: str, fault: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match=fault):
        load_mapping(path)


def test_id_variants_all_normalize_back() -> None:
    key = "15292119850315002X"
    variants = id_number_variants(key)
    assert {"152921850315002", "15292119850315002x", "１５２９２１１９８５０３１５００２Ｘ"} <= set(variants)
    assert {normalize_id_number(v) for v in variants} == {key}


def _reference_variants(key: str) -> set[str]:
    """The spellings, worked out the plain way: the key, lower case, the 15-digit original, each in full width too."""
    spellings = {key, key.lower()}
    if len(key) == 18 and key[6:8] == "19":
        spellings.add(key[:6] + key[8:17])
    return spellings | {s.translate(str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")) for s in spellings}


@pytest.mark.parametrize("key", [
    "15292119850315002X", "152921198503150021", "152921200503150027", "15292120050315002X", "15292119850315002x",
    "15292119850315002A", "152921850315002", "１５２９２１１９８５０３１５００２Ｘ", "1529211985031500２1", "١٥٢٩٢١١٩٨٥٠٣١٥٠٠٢١٢",
    "abc", "", "X", "15292119850315002XX",
])
def test_id_variants_are_the_plain_spellings_each_once(key: str) -> None:
    variants = id_number_variants(key)
    assert len(variants) == len(set(variants))
    assert set(variants) == _reference_variants(key)
