"""The hub's GraphQL schema: an Apollo Federation v2 subgraph assembled from the domain modules."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaskErrors, QueryDepthLimiter
from graphql import GraphQLError

from hub.errors import HubError
from hub.settings import Settings
from schema.institution import Institution
from schema.person import Person
from schema.query import Query


def _is_internal(error: GraphQLError) -> bool:
    """Errors that are neither ours nor GraphQL's own are internal: their text is not shown."""
    original = error.original_error
    return original is not None and not isinstance(original, HubError | GraphQLError)


class ErrorCodes(MaskErrors):
    """Every error gets extensions.code; internal errors are masked (logged, never shown)."""

    def __init__(self) -> None:
        super().__init__(
            should_mask_error=_is_internal,
            error_message="内部错误 / internal error",
        )

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL"}
        return masked

    async def on_operation(self):  # type: ignore[no-untyped-def,override]
        async for _ in super().on_operation():  # type: ignore[attr-defined]
            yield
        result = self.execution_context.result
        for error in (result.errors or []) if result else []:
            if not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}


def build_schema(settings: Settings) -> strawberry.federation.Schema:
    """The schema with depth limits and error codes; same SDL for every settings."""
    return strawberry.federation.Schema(
        query=Query,
        types=[Institution, Person],
        extensions=[QueryDepthLimiter(max_depth=settings.max_depth), ErrorCodes],
    )
