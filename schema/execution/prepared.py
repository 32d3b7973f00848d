"""Prepared documents: what an operation needs before it executes, worked out once per request shape.

A prepared document is a query text parsed, validated (the schema's rules, the depth limit, literal
values of the wrong type coded BAD_USER_INPUT) and checked against one caller's grants (the policy
rule, schema/execution/extensions/policy.py), with the (response path, Type.field) pairs it reads
for the audit log and, once executed, the compiled path's plan (schema/execution/executor/plan.py).
All of it depends on the query text, the operation chosen, the caller's grants and the values of
the Boolean variables (`@include`/`@skip`), and nothing else: it is kept under the SHA-256 digest
of those four, in one cache bounded in bytes that the app owns (made in its lifespan, passed to
`Execution`). So two role sets never share a prepared document, a policy change (new grants,
a new digest) matches none of the old ones, and no key holds an object whose `id()` could be reused.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLError

from hub.core.caches import AST_BYTES_PER_CHAR, ENTRIES, BoundedCache
from policies.grants import Grants

UNPLANNED: Any = object()  # `Prepared.plan` before the first execution made it
_PAIR_BYTES = 400  # an error, or a (response path, Type.field) pair, with its tuple and strings


@dataclass(eq=False, slots=True)
class Prepared:
    """One query text prepared for one set of grants, operation and Boolean variable values."""

    document: DocumentNode | None  # None: the text does not parse
    errors: tuple[GraphQLError, ...]  # parse, validation and policy errors (coded): nothing executes
    operation: str | None  # "query" or "mutation" (None: no such operation in the document)
    name: str  # the operation's name, as the audit log records it ("" if it has none)
    seen: frozenset[tuple[tuple[str, ...], str]]  # (response path, Type.field) pairs, from the policy rule
    plan: Any = UNPLANNED  # the compiled path's plan (None: not compiled), made at the first execution

    def size(self) -> int:
        """Estimated bytes: the syntax tree, the plan (about as large again) and the verdict."""
        loc = self.document.loc if self.document is not None else None
        tree = AST_BYTES_PER_CHAR * (loc.end if loc is not None else 0)
        return 2 * tree + _PAIR_BYTES * (len(self.errors) + len(self.seen))


def prepared_key(grants: Grants, query: str, operation_name: str | None, variables: dict[str, Any] | None) -> bytes:
    """The digest a prepared document is kept under: grants, text, operation and Boolean variable values."""
    flags = sorted((k, v) for k, v in (variables or {}).items() if v.__class__ is bool)
    h = hashlib.sha256(grants.digest)
    h.update(query.encode("utf-8", "surrogatepass"))
    h.update(b"\0" + (b"-" if operation_name is None else b"=" + operation_name.encode("utf-8", "surrogatepass")))
    h.update(b"\0" + repr(flags).encode("utf-8", "surrogatepass"))
    return h.digest()


class PreparedDocuments(BoundedCache):
    """The prepared-document cache: at most `max_bytes` estimated bytes (0 keeps nothing)."""

    def __init__(self, max_bytes: int, entries: int = ENTRIES) -> None:
        super().__init__("prepared documents", entries, max(max_bytes, 0), Prepared.size)
