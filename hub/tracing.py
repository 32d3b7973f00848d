"""Optional OpenTelemetry traces: a span per GraphQL operation and one per source read.

Only when `HUB_OTLP_ENDPOINT` is set; the packages come with the `otel` extra
(`pip install 'staffing-hub[otel]'`). Each app has its own tracer provider (never the global one).
A read's span is a child of its operation's span: the span in progress follows the asyncio tasks.
"""

from __future__ import annotations

from typing import Any

from hub.core.errors import BadUserInput
from hub.core.settings import Settings


def tracer_provider(settings: Settings, exporter: Any = None) -> Any:
    """A tracer provider exporting to the OTLP endpoint (or to `exporter`, in tests); None without either."""
    if not settings.otlp_endpoint and exporter is None:
        return None
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError:
        raise BadUserInput("已设置 HUB_OTLP_ENDPOINT 但未安装 OpenTelemetry，请安装 staffing-hub[otel] / HUB_OTLP_ENDPOINT "
                           "is set but OpenTelemetry is not installed: pip install 'staffing-hub[otel]'") from None
    provider = TracerProvider(resource=Resource.create({"service.name": "staffing-hub"}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=settings.otlp_endpoint)))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider
