"""Builds one adapter per department from settings and mapping files, and the department table from them.

The departments are the mappings in use: the shipped ones (adapters/mappings/*.yaml) and any
configured with `HUB_SOURCE_<ID>_MAPPING`; a fifth department is one more mapping file and its
settings, with no code to change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from adapters.base import Adapter, Capability, Need
from adapters.mapping import Mapping, load_mapping, shipped_mappings
from adapters.sql import SqlAdapter
from hub.core.db import sqlite_file_url
from hub.core.departments import Department, Departments
from hub.core.errors import HubError, MappingError
from hub.core.settings import Settings

REGISTRY = "registry_slot"  # the entity whose holder is the registry base (hub.core.crosswalk)

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
        holders: dict[str, list[str]] = {}
        for department, adapter in adapters.items():
            for entity in adapter.entities():
                holders.setdefault(entity, []).append(department)
        self._holders = holders

    def holder(self, entity: str) -> str:
        """The department whose source maps `entity` (MappingError when none or several do).

        Upper layers name entities (`personnel`, `pay_line` …), never departments; which department
        keeps an entity is what its mapping says. `unit` is every department's own and is asked by
        department instead.
        """
        found = self._holders.get(entity, [])
        if len(found) != 1:
            where = "、".join(found) if found else "无 / none"
            raise MappingError(f"实体 {entity!r} 应由且仅由一个部门映射（现为：{where}） / "
                               f"entity {entity!r} must be mapped by exactly one department (now: {where})")
        return found[0]

    def holders(self) -> dict[str, str]:
        """Entity -> the one department mapping it (entities several map, like `unit`, left out)."""
        return {entity: found[0] for entity, found in self._holders.items() if len(found) == 1}

    def trust(self, department: str) -> int:
        """The department's trust rank from its mapping header (lower is trusted first; 100 when it declares none)."""
        return int(getattr(getattr(self._adapters[department], "mapping", None), "trust", 100))

    @property
    def base(self) -> str:
        """The registry base: the department keeping the staffing registry, whose units every
        institution is matched to (hub.core.crosswalk) and whose quotas and slots are counted."""
        return self.holder(REGISTRY)

    def unmet(self, needs: Iterable[Need]) -> list[tuple[str, str, str]]:
        """(department, entity, bilingual problem) for each need a source's adapter lacks a capability for;
        an entity no department maps is not asked."""
        problems: dict[tuple[str, str, str], None] = {}
        for need in needs:
            if need.entity == "*":
                asked = [(d, e) for d, a in self._adapters.items() for e in a.entities()]
            elif need.entity == "unit":
                asked = [(d, "unit") for d, a in self._adapters.items() if a.supports("unit")]
            else:
                asked = [(d, need.entity) for d in self._holders.get(need.entity, [])[:1]]
            for department, entity in asked:
                lacking = need.capability & ~self._adapters[department].capabilities
                if lacking:
                    name = " ".join(lacking.names).upper()
                    problems[department, entity, f"数据源「{department}」的适配器不支持 {entity} 的 {name}（{need.purpose}） / "
                             f"source {department!r}: its adapter cannot {name} {entity} ({need.purpose})"] = None
        return list(problems)

    def check_needs(self, needs: Iterable[Need]) -> None:
        """Refuse (MappingError, bilingual, every problem listed) sources lacking a capability the hub needs."""
        problems = self.unmet(needs)
        if problems:
            raise MappingError("；".join(problem for _, _, problem in problems))

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


def mapping_files(settings: Settings) -> dict[str, tuple[Path, Mapping]]:
    """Each department's mapping file and mapping: its own file when configured, else the shipped one.

    A configured department (`HUB_SOURCE_<ID>_…`) with neither, or whose file declares another
    department, is refused with MappingError.
    """
    files = dict(shipped_mappings())
    for department, src in settings.source.items():
        if src.mapping is not None:
            mapping = load_mapping(src.mapping)
            if mapping.department != department:
                raise MappingError(f"映射文件 {src.mapping} 声明的部门是「{mapping.department}」，不是「{department}」 / "
                                   f"mapping file {src.mapping} declares department {mapping.department!r}, not {department!r}")
            files[department] = (src.mapping, mapping)
        elif department not in files:
            raise MappingError(f"数据源「{department}」没有映射文件（HUB_SOURCE_{department.upper()}_MAPPING） / "
                               f"source {department!r} has no mapping file (HUB_SOURCE_{department.upper()}_MAPPING)")
    return files


def source_mappings(settings: Settings) -> dict[str, Mapping]:
    """The mapping of each department, by department id."""
    return {department: mapping for department, (_, mapping) in mapping_files(settings).items()}


def load_departments(settings: Settings) -> Departments:
    """The department table: one row per mapping in use, named and ranked by the mapping's header."""
    return Departments(Department.titled(m.department, m.title, m.trust, path) for path, m in mapping_files(settings).values())


def _grant_writes(adapter: Adapter, granted: bool) -> None:
    """An adapter writes only where its department grants writes (HUB_SOURCE_<ID>_WRITES), and only if it can."""
    if not granted:
        adapter.capabilities &= ~Capability.WRITE
    elif Capability.WRITE not in adapter.capabilities:
        raise MappingError(f"数据源「{adapter.department}」的适配器不能写入，却设置了 HUB_SOURCE_{adapter.department.upper()}_WRITES / "
                           f"source {adapter.department!r}: writes are granted but its adapter cannot write")


def build_adapter(settings: Settings, department: str, mapping: Mapping, url: str | None = None) -> Adapter:
    """A department's adapter as the hub builds it (at `url`, else its configured one; a shipped department
    without a URL reads its demo SQLite file)."""
    url = url or settings.source_url(department)
    if url is None and department in shipped_mappings():
        url = sqlite_file_url(str(settings.demo_dir.resolve() / f"{department}.db"))
    if url is None:
        raise MappingError(f"数据源「{department}」未配置地址（HUB_SOURCE_{department.upper()}_URL） / "
                           f"no URL for source {department!r} (HUB_SOURCE_{department.upper()}_URL)")
    cls = adapter_class(mapping.adapter)
    options: dict[str, Any] = {"connect_timeout": settings.connect_timeout}
    if cls is SqlAdapter:  # the breaker and the limits are the SQL adapter's own
        options["retry_seconds"] = settings.source_retry_seconds
        options["statement_timeout"] = settings.source_statement_timeout(department)
        options["max_concurrent_reads"] = settings.source_max_concurrent_reads(department)
        options["writes"] = settings.source_writes(department)
    adapter: Adapter = cls(department, mapping, url, **options)
    if cls is not SqlAdapter:  # the grant decides, whatever another adapter class declares
        _grant_writes(adapter, settings.source_writes(department))
    return adapter


def build_sources(settings: Settings) -> Sources:
    """One adapter per department; a shipped department without a URL reads its demo SQLite file."""
    adapters = {department: build_adapter(settings, department, mapping) for department, mapping in source_mappings(settings).items()}
    return Sources(adapters, settings.ready_timeout)
