"""Optional OpenTelemetry traces (hub/tracing.py): a span per operation, a child span per source read."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hub.core.errors import BadUserInput
from hub.core.settings import Settings
from hub.tracing import tracer_provider
from tests.conftest import hub_settings, running_hub

ROSTER = "query Roster { people(first: 20) { edges { node { idNumber name institution { code name } } } } }"


def test_no_endpoint_no_tracing() -> None:
    assert tracer_provider(Settings()) is None


def test_an_endpoint_without_the_packages_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)  # as if the extra were not installed
    with pytest.raises(BadUserInput, match=r"staffing-hub\[otel\]"):
        tracer_provider(Settings(otlp_endpoint="http://127.0.0.1:4318/v1/traces"))


def test_an_operation_and_its_source_reads_are_spans(demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    monkeypatch.setattr("hub.app.tracer_provider", lambda settings: tracer_provider(settings, exporter))
    with running_hub(hub_settings(demo_dir, store_url=f"sqlite+aiosqlite:///{tmp_path}/hub.db")) as hub:
        for _ in range(2):  # the repeat is answered from its prepared document: traced all the same
            response = hub.client.post("/graphql", json={"query": ROSTER, "operationName": "Roster"},
                                       headers={"Authorization": f"Bearer {hub.token()}"})
            assert "errors" not in response.json()
    spans = exporter.get_finished_spans()
    operations = [s for s in spans if s.name == "graphql operation"]
    assert [s.attributes["graphql.operation.name"] for s in operations] == ["Roster", "Roster"]
    assert all(s.attributes["hub.outcome"] == "ok" for s in operations)
    for operation in operations:
        reads = [s for s in spans if s.name == "source read" and s.parent is not None
                 and s.parent.span_id == operation.context.span_id]
        assert {s.attributes["hub.source"] for s in reads} >= {"establishment"}
