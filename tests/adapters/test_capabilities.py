"""Adapter capabilities are typed and checked when the hub starts against what it needs of each entity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import adapters.registry as registry
from adapters.base import Capability, Need
from adapters.mapping import MAPPINGS_DIR
from adapters.registry import build_sources
from adapters.sql import SqlAdapter
from hub.core.errors import MappingError
from hub.core.settings import Settings, SourceSettings
from hub.supervision.engine import NEEDS as CHECK_NEEDS
from schema import NEEDS as QUERY_NEEDS
from tests.conftest import hub_settings, running_hub


class ReadOnly(SqlAdapter):
    """A source that answers lookups by key and pages, but cannot stream or count."""

    capabilities = Capability.READ


@pytest.fixture
def read_only_hr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, SourceSettings]:
    """The HR mapping served by an adapter named `readonly` (ReadOnly)."""
    text = (MAPPINGS_DIR / "hr.yaml").read_text(encoding="utf-8").replace("entities:", "adapter: readonly\nentities:", 1)
    (tmp_path / "hr.yaml").write_text(text, encoding="utf-8")
    named = registry.adapter_class

    def adapter_class(name: str) -> Any:
        return ReadOnly if name == "readonly" else named(name)

    monkeypatch.setattr(registry, "adapter_class", adapter_class)
    return {"hr": SourceSettings(mapping=tmp_path / "hr.yaml")}


def test_the_shipped_sources_can_do_what_queries_and_the_cross_check_need() -> None:
    sources = build_sources(Settings())
    sources.check_needs([*QUERY_NEEDS, *CHECK_NEEDS])
    assert sources["finance"].capabilities.names == ["read", "stream", "aggregate"]
    assert Capability.WRITE not in sources["finance"].capabilities


def test_a_source_lacking_a_needed_capability_is_named_with_entity_and_capability(
        read_only_hr: dict[str, SourceSettings]) -> None:
    sources = build_sources(Settings(source=read_only_hr))
    sources.check_needs(QUERY_NEEDS[:1])  # reading is all it is asked here
    with pytest.raises(MappingError) as refused:
        sources.check_needs(CHECK_NEEDS)
    message = refused.value.message
    assert "数据源「hr」的适配器不支持 personnel 的 STREAM AGGREGATE（核查 / cross-check）" in message
    assert "source 'hr': its adapter cannot STREAM AGGREGATE personnel (核查 / cross-check)" in message
    assert "'establishment'" not in message and "'finance'" not in message  # only the lacking source is named
    with pytest.raises(MappingError, match="source 'hr': its adapter cannot STREAM unit"):
        sources.check_needs([Need("unit", Capability.STREAM, "机构对照 / the institution crosswalk")])


def test_the_hub_refuses_to_start_over_a_source_lacking_a_capability(
        demo_dir: Path, read_only_hr: dict[str, SourceSettings]) -> None:
    settings = hub_settings(demo_dir).model_copy(update={"source": read_only_hr})
    with pytest.raises(MappingError, match="source 'hr': its adapter cannot"), running_hub(settings):
        pass


async def test_sources_check_reports_the_capabilities_a_source_lacks(
        demo_dir: Path, read_only_hr: dict[str, SourceSettings]) -> None:
    from hub.sources_check import check_sources

    results = await check_sources(Settings(demo_dir=demo_dir, source=read_only_hr))
    lacking = {(r.department, r.entity) for r in results if r.problem and "cannot" in r.problem}
    assert ("hr", "personnel") in lacking and ("hr", "unit") in lacking
    assert {d for d, _ in lacking} == {"hr"}
    assert all(r.problem is None for r in results if r.rows is not None)  # every table still reads


def test_writes_granted_to_an_adapter_that_cannot_write_are_refused(read_only_hr: dict[str, SourceSettings]) -> None:
    assert Capability.WRITE not in build_sources(Settings(source=read_only_hr))["hr"].capabilities
    granted = {"hr": read_only_hr["hr"].model_copy(update={"writes": True})}
    with pytest.raises(MappingError, match="writes are granted but its adapter cannot write"):
        build_sources(Settings(source=granted))


def test_a_mapping_may_withhold_aggregate_and_statistics_then_refuse_to_start(tmp_path: Path) -> None:
    text = (MAPPINGS_DIR / "finance.yaml").read_text(encoding="utf-8").replace(
        "entities:", "capabilities: [read, stream]\nentities:", 1)
    (tmp_path / "finance.yaml").write_text(text, encoding="utf-8")
    sources = build_sources(Settings(source={"finance": SourceSettings(mapping=tmp_path / "finance.yaml")}))
    assert sources["finance"].capabilities.names == ["read", "stream"]
    assert sources["hr"].capabilities.names == ["read", "stream", "aggregate"]
    with pytest.raises(MappingError, match="source 'finance': its adapter cannot AGGREGATE pay_line \\(统计 / statistics\\)"):
        sources.check_needs(QUERY_NEEDS)
