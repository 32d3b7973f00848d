"""Fixtures of the supervision tests: demo databases generated per test, a fresh hub store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.registry import Sources, build_sources
from hub.core.settings import Settings, SourceSettings
from hub.store import Store, open_store

Demo = Callable[..., Awaitable[tuple[Sources, dict[str, Any], dict[str, str]]]]


def sources_for(targets: dict[str, str]) -> Sources:
    """Sources reading the given department URLs."""
    return build_sources(Settings(source={d: SourceSettings(url=u) for d, u in targets.items()}))


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    """Call with persons= and seed= to generate demo databases; returns (sources, manifest, targets)."""
    from hub.demo.generate import generate, sqlite_targets

    opened: list[Sources] = []

    async def make(persons: int = 400, seed: int = 1, name: str = "demo") -> tuple[Sources, dict[str, Any], dict[str, str]]:
        out = tmp_path / f"{name}-{persons}-{seed}"
        out.mkdir()
        targets = sqlite_targets(out)
        manifest = generate(targets, persons=persons, seed=seed)
        sources = sources_for(targets)
        opened.append(sources)
        return sources, manifest, targets

    yield make
    for sources in opened:
        await sources.close()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh, migrated SQLite hub store."""
    opened = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}", migrate=True)
    yield opened
    await opened.close()
