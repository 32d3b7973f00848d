"""The hub's GraphQL schema: an Apollo Federation v2 subgraph assembled from the domain modules."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLObjectType, GraphQLSyntaxError
from strawberry.extensions import MaskErrors, QueryDepthLimiter
from strawberry.federation.schema import FederationAny
from strawberry.tools import merge_types

from hub.core.errors import HubError
from hub.core.settings import Settings
from schema.admin import AdminMutation, AdminQuery
from schema.execution.executor.compiled import CompiledExecutor
from schema.execution.executor.limits import BadValues, LimitedExecutor
from schema.execution.extensions.audit import AuditPersonalReads
from schema.execution.extensions.policy import PolicyGuard
from schema.federation import FEDERATION_VERSION, Info, ServiceQuery, check_representations
from schema.idempotency import idempotent
from schema.institution import Institution
from schema.masking import install_masking
from schema.parsing import DigestParserCache
from schema.person import Person
from schema.query import Query
from schema.supervision import SupervisionMutation, SupervisionQuery

log = logging.getLogger(__name__)


def _is_internal(error: GraphQLError) -> bool:
    """Errors that are neither ours nor GraphQL's own are internal: their text is not shown."""
    original = error.original_error
    return original is not None and not isinstance(original, HubError | GraphQLError)


class ErrorCodes(MaskErrors):
    """Every error gets extensions.code (GraphQL's own: GRAPHQL_PARSE_FAILED for a text that does not
    parse, else GRAPHQL_VALIDATION_FAILED); internal errors are masked (logged, never shown)."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_is_internal, error_message="内部错误 / internal error")

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        out = []
        for error in errors:
            if _is_internal(error):
                log.error("internal error at %s", error.path, exc_info=error.original_error)
                masked = self.anonymise_error(error)
                masked.extensions = {"code": "INTERNAL"}
                out.append(masked)
            else:
                if not (error.extensions or {}).get("code"):
                    code = "GRAPHQL_PARSE_FAILED" if isinstance(error, GraphQLSyntaxError) else "GRAPHQL_VALIDATION_FAILED"
                    error.extensions = {**(error.extensions or {}), "code": code}
                out.append(error)
        return out


class HubSchema(strawberry.federation.Schema):
    """The federation schema; expected errors (with a code) are answers, not log noise."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        for error in errors:
            if (error.extensions or {}).get("code") in (None, "INTERNAL") and error.original_error is None:
                log.warning("graphql error: %s", error.message)

    def entities_resolver(self, info: Info, representations: list[FederationAny]) -> list[FederationAny]:
        """strawberry's `_entities`, after every representation is checked to name an entity type."""
        check_representations(info, representations)
        return super().entities_resolver(info, representations)


def build_schema(settings: Settings, policy: bool = True, compiled: bool | None = None) -> HubSchema:
    """The schema with depth limits, the policy guard, masking, auditing and error codes.

    `policy=False` leaves out the guard, masking and auditing: only the benchmark that measures
    what the policy layer costs builds such a schema. `compiled` answers queries level by level
    (schema/compiled.py); without it every field goes through strawberry's executor.
    """
    guard = [PolicyGuard, AuditPersonalReads] if policy else []
    compiled = settings.compiled if compiled is None else compiled
    schema = HubSchema(
        query=merge_types("Query", (Query, AdminQuery, SupervisionQuery, ServiceQuery)),
        mutation=idempotent(merge_types("Mutation", (AdminMutation, SupervisionMutation))),
        types=[Institution, Person],
        extensions=[BadValues, DigestParserCache, lambda: QueryDepthLimiter(max_depth=settings.max_depth), *guard, ErrorCodes],
        execution_context_class=CompiledExecutor if compiled else LimitedExecutor,
        federation_version=FEDERATION_VERSION,
    )
    if policy:
        install_masking(schema._schema)
    return schema


def schema_fields(schema: HubSchema) -> list[tuple[str, str]]:
    """Every (Type, field) of the schema's object types, the objects policies speak of."""
    return [
        (name, field)
        for name, gql_type in schema._schema.type_map.items()
        if isinstance(gql_type, GraphQLObjectType) and not name.startswith("__")
        for field in gql_type.fields
    ]
