"""Builds one adapter per department from settings and mapping files."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Any

from adapters.base import Adapter
from adapters.mapping import Mapping, default_mappings, load_mapping
from adapters.sql import SqlAdapter
from hub.core.db import sqlite_file_url
from hub.core.errors import HubError, MappingError
from hub.core.settings import DEPARTMENTS, Settings

ENTRY_POINT_GROUP = "staffing_hub.adapters"


def adapter_class(name: str) -> Any:
    """The adapter class a mapping names: 'sql', or an entry point of group staffing_hub.adapters."""
    if name == "sql":
        return SqlAdapter
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return ep.load()
    raise MappingError(f"未知的适配器 {name!r} / unknown adapter {name!r}")


class Sources:
    """The department sources of one hub process, by department id."""

    def __init__(self, adapters: dict[str, Adapter], ready_timeout: float = 2.0) -> None:
        self._adapters = adapters
        self.ready_timeout = ready_timeout

    def __getitem__(self, department: str) -> Adapter:
        return self._adapters[department]

    def __iter__(self) -> Iterator[str]:
        return iter(self._adapters)

    def items(self) -> list[tuple[str, Adapter]]:
        """(department, adapter) pairs."""
        return list(self._adapters.items())

    async def readiness(self) -> dict[str, str | None]:
        """Each source's problem, or None when it reads a row of each mapped table within `ready_timeout`."""
        timeout = self.ready_timeout

        async def check(adapter: Adapter) -> str | None:
            try:
                async with asyncio.timeout(timeout):
                    await adapter.ping()
            except TimeoutError:
                return f"数据源「{adapter.department}」{timeout:g} 秒内未答 / source '{adapter.department}' did not answer within {timeout:g} s"
            except HubError as exc:
                return exc.message
            return None

        problems = await asyncio.gather(*(check(a) for a in self._adapters.values()))
        return dict(zip(self._adapters, problems, strict=True))

    async def close(self) -> None:
        """Release every source's connections."""
        await asyncio.gather(*(a.close() for a in self._adapters.values()))


def source_mappings(settings: Settings) -> dict[str, Mapping]:
    """The mapping of each department: its own file when configured, else the shipped one."""
    mappings = default_mappings()
    for department, src in settings.source.items():
        if src.mapping is not None:
            mappings[department] = load_mapping(src.mapping)
    return mappings


def build_sources(settings: Settings) -> Sources:
    """One adapter per department; a department without a URL reads the demo SQLite file."""
    adapters: dict[str, Adapter] = {}
    for department, mapping in source_mappings(settings).items():
        url = settings.source_url(department)
        if url is None and department in DEPARTMENTS:
            url = sqlite_file_url(str(settings.demo_dir.resolve() / f"{department}.db"))
        if url is None:
            raise MappingError(f"数据源「{department}」未配置地址 / no URL for source '{department}'")
        cls = adapter_class(mapping.adapter)
        options: dict[str, Any] = {"connect_timeout": settings.connect_timeout}
        if cls is SqlAdapter:  # the row memo, the breaker and the limits are the SQL adapter's own
            options["row_memo_rows"] = settings.row_memo_rows
            options["retry_seconds"] = settings.source_retry_seconds
            options["statement_timeout"] = settings.source_statement_timeout(department)
            options["max_concurrent_reads"] = settings.source_max_concurrent_reads(department)
        adapters[department] = cls(department, mapping, url, **options)
    return Sources(adapters, settings.ready_timeout)
