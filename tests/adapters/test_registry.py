"""The sources registry: which department keeps an entity is what the mappings say."""

from __future__ import annotations

import pytest

from adapters.base import Capability
from adapters.registry import build_sources
from hub.core.errors import MappingError
from hub.core.settings import Settings


def test_each_entity_has_the_department_whose_mapping_maps_it() -> None:
    sources = build_sources(Settings())
    assert {e: sources.holder(e) for e in ("registry_slot", "personnel", "cadre", "payee", "pay_line")} == {
        "registry_slot": "establishment", "personnel": "hr", "cadre": "organization",
        "payee": "finance", "pay_line": "finance",
    }


@pytest.mark.parametrize("entity", ["unit", "no_such_entity"])
def test_an_entity_mapped_by_several_departments_or_none_has_no_single_holder(entity: str) -> None:
    with pytest.raises(MappingError, match="exactly one department"):
        build_sources(Settings()).holder(entity)


def test_only_the_departments_granting_writes_get_the_write_capability(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_SOURCE_FINANCE_WRITES", "true")
    sources = build_sources(Settings())
    assert {d for d, a in sources.items() if Capability.WRITE in a.capabilities} == {"finance"}
