"""The typed per-request context handed to every resolver."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.registry import Sources
from hub.crosswalk import CrosswalkCache
from hub.settings import Settings
from resolvers.loaders import Loaders


@dataclass(slots=True)
class HubContext:
    """What one request may use: settings, sources, the crosswalk and its own fresh loaders."""

    settings: Settings
    sources: Sources
    crosswalk: CrosswalkCache
    loaders: Loaders
    request_id: str = ""


@dataclass(slots=True)
class HubState:
    """Long-lived state made in the app's lifespan and shared by requests."""

    settings: Settings
    sources: Sources
    crosswalk: CrosswalkCache

    def context(self, request_id: str = "") -> HubContext:
        """A fresh request context (new loaders: aiodataloader binds to the running loop)."""
        return HubContext(self.settings, self.sources, self.crosswalk, Loaders(self.sources), request_id)
