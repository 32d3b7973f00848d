"""The one way an operation is answered: from its text, variables and caller to the answer and its audit entry.

    execution = Execution(schema, PreparedDocuments(settings.prepared_cache_bytes), slots)
    result = await execution.answer(context, query, variables, operation_name)

1. **Prepare** (prepared.py), once per grants, text, operation and Boolean variable values: parse;
   validate (the specification's rules, the depth limit, literal values coded BAD_USER_INPUT:
   extensions/errors.py); check every field and filter argument against the caller's grants
   (extensions/policy.py), noting what the document reads for the audit log. A document with any
   error stops here (HTTP 4xx with application/graphql-response+json).
2. **Execute** with `HubExecutor` (executor/), once an operation slot is free (hub/core/slots.py):
   limits, row scope on arguments, masks, and the compiled level-by-level path where the plan covers
   the operation (graphql-core's field-by-field execution elsewhere).
3. **Errors** coded, internal ones masked, ordered by path (extensions/errors.py).
4. **Audit** (extensions/audit.py), with the operation slot given back: an answer that read
   personal fields leaves only once its entry is committed; else it is replaced by
   AUDIT_UNAVAILABLE. Policy denials are counted.
5. The request's loaders and batchers are dropped with its answer (`HubContext.release`): they, the
   context and graphql-core's executor refer to each other, and would otherwise hold the records
   read until the next full garbage collection.

The HTTP view (hub/app.py) only turns a request into these arguments and the result into a
response; nothing else executes operations (`HubSchema.execute` refuses to).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from inspect import isawaitable
from typing import Any

from graphql import ASTValidationRule, GraphQLError, GraphQLSchema, execute, parse, validate
from strawberry.exceptions import MissingQueryError
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.extensions import QueryDepthLimiter
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.utils.operation import get_first_operation, get_operation_type

from hub.core.errors import AuditUnavailable
from hub.core.slots import OperationSlots
from resolvers.context import HubContext, required
from schema.execution.executor import HubExecutor
from schema.execution.extensions.audit import record_read
from schema.execution.extensions.errors import VALIDATION_RULES, by_path, coded
from schema.execution.extensions.policy import policy_rule
from schema.execution.prepared import Prepared, PreparedDocuments, prepared_key

QUERIES_AND_MUTATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})


class Execution:
    """Answers operations on one schema (see the module); made by the app's lifespan, shared by its requests.

    `executor` is `HubExecutor` but in the differential test; `policy=False` leaves out the policy
    rule and the audit log (only the benchmark measuring what they cost does that).
    """

    def __init__(
        self,
        schema: Any,
        prepared: PreparedDocuments,
        operations: OperationSlots | None = None,
        *,
        max_depth: int,
        executor: type = HubExecutor,
        policy: bool = True,
    ) -> None:
        self.schema: GraphQLSchema = schema._schema
        self.prepared = prepared
        self.operations = operations
        self.executor = executor
        self.policy = policy
        self.rules: tuple[type[ASTValidationRule], ...] = (*VALIDATION_RULES, *QueryDepthLimiter(max_depth).validation_rules)

    async def answer(
        self,
        context: HubContext,
        query: str | None,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
        allowed: Iterable[OperationType] = QUERIES_AND_MUTATIONS,
    ) -> ExecutionResult:
        """The answer to one operation. Raises (as strawberry's view expects) for a request without a query,
        whose operation cannot be found, or of a type `allowed` does not include (a mutation by GET)."""
        if not query:
            raise MissingQueryError
        if operation_name is not None and not isinstance(operation_name, str):
            raise CannotGetOperationTypeError(operation_name)  # no operation has such a name
        grants = required(context).grants  # fail closed, whatever let the request in: no context, nothing runs
        try:
            async with self.operations or nullcontext():
                prepared = self.prepare(grants, query, operation_name, variables)
                if prepared.document is not None:
                    if prepared.operation is None:
                        raise CannotGetOperationTypeError(operation_name)
                    if OperationType(prepared.operation) not in allowed:
                        raise InvalidOperationTypeError(OperationType(prepared.operation))
                if prepared.errors:
                    result: ExecutionResult = PreExecutionError(data=None, errors=list(prepared.errors))
                else:
                    result = await self._execute(context, prepared, variables, operation_name)
            # The audit entry is awaited with the operation slot given back: the operation's work is done,
            # and waiting for the store's commit while holding a slot capped throughput at
            # HUB_MAX_CONCURRENT_OPERATIONS commits at a time (Q1 under 8 connections: 290-460 req/s
            # holding it, 690-760 not; bench/compare.py, same machine and hour).
            if self.policy:
                try:
                    await record_read(self.schema, context, query, prepared.name, result.data, result.errors or [], prepared.seen)
                except AuditUnavailable as exc:  # no entry, no answer
                    result = ExecutionResult(data=None, errors=[GraphQLError(exc.message, extensions=exc.extensions)])
            return result
        finally:
            context.release()

    def prepare(self, grants: Any, query: str, operation_name: str | None, variables: dict[str, Any] | None) -> Prepared:
        """The prepared document of a request (see prepared.py), made and kept if not kept already."""
        key = prepared_key(grants, query, operation_name, variables)
        found: Prepared | None = self.prepared.get(key)
        if found is not None:
            return found
        try:
            document = parse(query)
        except GraphQLError as error:
            made = Prepared(None, tuple(coded([error])), None, "", frozenset())
        else:
            try:
                operation: str | None = get_operation_type(document, operation_name).value
            except RuntimeError:
                operation = None
            first = get_first_operation(document)
            name = operation_name if operation_name is not None else (first.name.value if first and first.name else "")
            errors = validate(self.schema, document, self.rules)
            seen: set[tuple[tuple[str, ...], str]] = set()
            if self.policy:
                errors += validate(self.schema, document, [policy_rule(grants, seen)])
            made = Prepared(document, tuple(coded(errors)), operation, name, frozenset(seen))
        self.prepared.put(key, made)
        return made

    async def _execute(self, context: HubContext, prepared: Prepared, variables: dict[str, Any] | None,
                       operation_name: str | None) -> ExecutionResult:
        try:
            result = execute(self.schema, prepared.document,  # type: ignore[arg-type]  # checked by the caller
                             None, context, variables, operation_name, executor_class=self.executor,
                             is_awaitable=optimized_is_awaitable, prepared=prepared)  # type: ignore[arg-type]
            if isawaitable(result):
                result = await result
        except Exception as exc:  # reported as INTERNAL, logged with its traceback
            return PreExecutionError(data=None, errors=coded([GraphQLError(str(exc), original_error=exc)]))
        return ExecutionResult(data=result.data, errors=by_path(coded(result.errors)) if result.errors else None)


__all__ = ["Execution", "Prepared", "PreparedDocuments"]
