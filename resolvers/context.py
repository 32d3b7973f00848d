"""The typed per-request context handed to every resolver, and the process-wide state behind it.

A request executes only with a `HubContext` (`required`): there is no context without a caller,
its compiled grants and its row scope, so nothing can skip the policy by leaving them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from adapters.registry import Sources
from hub.core.crosswalk import CrosswalkCache
from hub.core.errors import HubError
from hub.core.principal import Principal
from hub.core.settings import Settings
from hub.store.audit import AuditLog
from hub.store.db import Store
from hub.workflow.engine import AfterCommit
from policies.grants import Grants, PolicyBook
from policies.scope import RowScope, scope_for
from resolvers.batch import Batchers
from resolvers.loaders import Loaders


class NoContext(TypeError):
    """Asked to execute without a HubContext: a bug in the caller, never a request to answer."""


def required(value: object) -> HubContext:
    """The request context, or NoContext: nothing executes without one (no grants, no policy check)."""
    if not isinstance(value, HubContext):
        raise NoContext(f"执行需要请求上下文 / executing needs a HubContext, not {type(value).__name__}")
    return value


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
    audit: AuditLog | None = None  # when the store is configured
    store: Store | None = None
    policies: PolicyBook | None = None
    idempotency_key: str | None = None  # the Idempotency-Key header (schema/idempotency.py)
    after_commit: AfterCommit | None = None  # called with a completed application's changes (hub.workflow.engine)
    reports: Any = None  # what runs saved reports (schema/reports.py ReportRunner), when the app serves them
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

    def require_store(self) -> Store:
        """The hub store (HubState opens it in the lifespan), or an error saying it is not configured."""
        if self.store is None:
            raise HubError("枢纽库未配置 / the hub store is not configured")
        return self.store

    def scoped(self, department: str, entity: str, where: dict[str, Any] | None = None) -> dict[str, Any]:
        """A filter narrowed to the principal's row scope (for scans and counts outside the loaders)."""
        return self.scope.where(department, self.sources[department].scope_field(entity), where)


class BatchMetrics(Protocol):
    """Where loader batch sizes are counted (hub.metrics.HubMetrics)."""

    def batch(self, source: str, entity: str, size: int) -> None: ...


@dataclass(slots=True)
class HubState:
    """Long-lived state made in the app's lifespan and shared by requests."""

    settings: Settings
    sources: Sources
    crosswalk: CrosswalkCache
    policies: PolicyBook
    store: Store | None = None
    audit: AuditLog | None = None
    metrics: BatchMetrics | None = None
    after_commit: AfterCommit | None = None  # delivers a completed application's changes; None: they wait in the outbox
    reports: Any = None  # schema/reports.py ReportRunner, set by the app's lifespan

    async def context(self, principal: Principal) -> HubContext:
        """A fresh request context (new loaders: they bind to the running loop)."""
        scope = scope_for(await self.crosswalk.get(), principal.region)
        grants = self.policies.grants(principal.policy_subjects)
        loaders = Loaders(self.sources, scope, self.metrics.batch if self.metrics is not None else None)
        return HubContext(
            self.settings, self.sources, self.crosswalk, principal, grants, scope, loaders,
            audit=self.audit, store=self.store, policies=self.policies, after_commit=self.after_commit, reports=self.reports,
        )
