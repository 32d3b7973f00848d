"""The typed per-request context handed to every resolver, and the process-wide state behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adapters.registry import Sources
from hub.core.crosswalk import CrosswalkCache
from hub.core.principal import Principal
from hub.core.settings import Settings
from policies.grants import Grants, PolicyBook
from policies.scope import RowScope, scope_for
from resolvers.batch import Batchers
from resolvers.loaders import Loaders


@dataclass(slots=True)
class HubContext:
    """What one request may use: who asks, what they may see, and fresh loaders bound to that scope."""

    settings: Settings
    sources: Sources
    crosswalk: CrosswalkCache
    principal: Principal
    grants: Grants
    scope: RowScope
    loaders: Loaders
    audit: Any = None  # hub.store.audit.AuditLog, when the store is configured
    store: Any = None  # hub.store.db.Store
    policies: PolicyBook | None = None
    idempotency_key: str | None = None  # the Idempotency-Key header (schema/idempotency.py)
    batchers: Batchers = field(init=False)

    def __post_init__(self) -> None:
        self.batchers = Batchers(self)

    def release(self) -> None:
        """Let go of the request's records once its answer is made.

        The context, its batch loaders and graphql-core's execution context refer to each other,
        so without this everything they loaded waits for a full garbage collection (which the raised
        GC threshold makes rare): under load, memory grew by the records of every request.
        """
        self.batchers.release()
        self.loaders.release()

    def scoped(self, department: str, entity: str, where: dict[str, Any] | None = None) -> dict[str, Any]:
        """A filter narrowed to the principal's row scope (for scans and counts outside the loaders)."""
        return self.scope.where(department, self.sources[department].scope_field(entity), where)


@dataclass(slots=True)
class HubState:
    """Long-lived state made in the app's lifespan and shared by requests."""

    settings: Settings
    sources: Sources
    crosswalk: CrosswalkCache
    policies: PolicyBook
    store: Any = None
    audit: Any = None
    metrics: Any = None  # hub.metrics.HubMetrics: loader batch sizes

    async def context(self, principal: Principal) -> HubContext:
        """A fresh request context (new loaders: aiodataloader binds to the running loop)."""
        scope = scope_for(await self.crosswalk.get(), principal.region)
        grants = self.policies.grants(principal.policy_subjects)
        loaders = Loaders(self.sources, scope, self.metrics.batch if self.metrics is not None else None)
        return HubContext(
            self.settings, self.sources, self.crosswalk, principal, grants, scope, loaders,
            audit=self.audit, store=self.store, policies=self.policies,
        )
