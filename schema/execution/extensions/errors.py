"""Every error an answer carries has `extensions.code`; internal ones are masked; all are ordered by path.

- GraphQL's own errors get GRAPHQL_PARSE_FAILED (a text that does not parse) or
  GRAPHQL_VALIDATION_FAILED; literal values of the wrong type or out of range are the request's
  fault: BAD_USER_INPUT (`first: 10000000000000`, `ValuesOfCorrectType`).
- Errors that are neither the hub's (HubError) nor GraphQL's are internal: logged with their
  traceback, answered as "内部错误 / internal error" with code INTERNAL.
- The errors of an answer are listed by their response path (errors without a path first, in the
  order they were made): batches finish in whatever order the sources answer, the list does not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError, ValuesOfCorrectTypeRule, specified_rules

from hub.core.errors import HubError

log = logging.getLogger("schema")
INTERNAL = "内部错误 / internal error"


class ValuesOfCorrectType(ValuesOfCorrectTypeRule):
    """graphql-core's rule for literal values, its errors coded BAD_USER_INPUT."""

    def report_error(self, error: GraphQLError) -> None:
        error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
        super().report_error(error)


# The specification's validation rules, literal values' errors coded as the request's fault.
VALIDATION_RULES = tuple(ValuesOfCorrectType if rule is ValuesOfCorrectTypeRule else rule for rule in specified_rules)


def _is_internal(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, HubError | GraphQLError)


def coded(errors: Iterable[GraphQLError]) -> list[GraphQLError]:
    """The errors as answered: each with a code, internal ones masked."""
    out = []
    for error in errors:
        if _is_internal(error):
            log.error("internal error at %s", error.path, exc_info=error.original_error)
            out.append(GraphQLError(INTERNAL, error.nodes, error.source, error.positions, error.path,
                                    extensions={"code": "INTERNAL"}))
            continue
        if not (error.extensions or {}).get("code"):
            if error.original_error is None:
                log.warning("graphql error: %s", error.message)
            code = "GRAPHQL_PARSE_FAILED" if isinstance(error, GraphQLSyntaxError) else "GRAPHQL_VALIDATION_FAILED"
            error.extensions = {**(error.extensions or {}), "code": code}
        out.append(error)
    return out


def _step(step: Any) -> tuple[int, Any]:
    return (0, step) if isinstance(step, int) else (1, str(step))


def by_path(errors: list[GraphQLError]) -> list[GraphQLError]:
    """The errors ordered by response path (stable: those without a path keep their order, first)."""
    return sorted(errors, key=lambda e: (bool(e.path), tuple(map(_step, e.path or ()))))
