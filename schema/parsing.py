"""Parsed documents, kept by the digest of their text in a cache bounded in entries and bytes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import SchemaExtension

from hub.core.caches import ENTRIES, QUERY_CACHE_BYTES, BoundedCache, digest, document_bytes

DOCUMENTS = BoundedCache("documents", ENTRIES, QUERY_CACHE_BYTES, document_bytes)


def parsed(query: str) -> DocumentNode:
    """The document of a query text (GraphQLError if it does not parse), parsed once while it is kept."""
    key = digest(query)
    document: DocumentNode | None = DOCUMENTS.get(key)
    if document is None:
        document = parse(query)
        DOCUMENTS.put(key, document)
    return document


class DigestParserCache(SchemaExtension):
    """strawberry's parse step through `parsed` (a text that does not parse is left to strawberry to report)."""

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.query is not None and ec.graphql_document is None:
            with contextlib.suppress(GraphQLError):  # strawberry parses it again and reports the error
                ec.graphql_document = parsed(ec.query)
        yield
