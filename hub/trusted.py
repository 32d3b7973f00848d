"""Trusted documents: Apollo's automatic persisted queries (APQ) and an allow-list mode.

A client may send `extensions.persistedQuery = {"version": 1, "sha256Hash": <hex SHA-256 of the
query text>}` instead of, or with, the text. `TrustedDocuments.resolve` turns what a request
brings into the text to run, before anything else looks at it (hub/app.py calls it before the
operation reaches schema/execution), so parsing, validation, policies, limits
and audit then treat the text exactly as if the client had sent it. `HUB_TRUSTED_DOCUMENTS`:

- `apq` (default): any query runs. A hash alone runs the document known by it — registered with
  `hub documents add` (the hub store, shared by replicas) or sent earlier to this process with its
  hash — else the answer is Apollo's `PersistedQueryNotFound` (HTTP 200), and the client sends
  hash and text, which registers the text in this process (a bounded cache) once the hash matches.
- `only`: only registered documents run, by hash or by full text (the text's SHA-256 must be
  registered); anything else, clients' registrations included, is `PERSISTED_QUERY_NOT_ALLOWED`.
  GraphiQL's own introspection query is no exception (its page says so).
- `off`: a request with a hash gets `PersistedQueryNotSupported` (Apollo's client then stops
  sending hashes); queries run as sent.

Lookups in the store (found or not) are remembered for `HUB_TRUSTED_DOCUMENTS_CACHE_SECONDS`, so
a document added or removed by `hub documents` counts on every replica within that time; texts
registered by clients are kept until the cache drops them (a hash names one text for good).

`read_documents` reads the files `hub documents add` takes: a `.graphql` file is one document
(the file's text, one or more operations and their fragments), a JSON file is Apollo's
persisted-query manifest (`{"format": "apollo-persisted-query-manifest", "operations": [{"id",
"body", …}]}`) or a `{hash: document}` map (graphql-codegen's persisted documents with
`hashAlgorithm: "sha256"`). Each is checked against the schema before anything is stored.
"""

from __future__ import annotations

import hashlib
import math
import re
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import orjson
from graphql import GraphQLError, GraphQLSchema, OperationDefinitionNode, parse, specified_rules, validate
from sqlalchemy.exc import SQLAlchemyError
from strawberry.extensions.query_depth_limiter import create_validator

from hub.core.caches import ENTRIES, QUERY_CACHE_BYTES, BoundedCache
from hub.core.errors import (
    BadRequest,
    BadUserInput,
    HubError,
    PersistedQueryHashMismatch,
    PersistedQueryNotAllowed,
    PersistedQueryNotFound,
    PersistedQueryNotSupported,
)
from hub.store import documents
from hub.store.db import Store

Mode = Literal["off", "apq", "only"]
_HASH = re.compile(r"[0-9a-f]{64}")
NOT_ALLOWED = ("仅允许运行已登记的文档（hub documents add），此文档未登记 / this hub runs only registered documents "
               "(hub documents add) and this one is not registered")


def sha256(text: str) -> str:
    """The lower-case hex SHA-256 of a text's UTF-8 bytes: the hash clients send and documents are kept by."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _hash_of(persisted: Any) -> str:
    """The sha256Hash of an `extensions.persistedQuery`; BAD_REQUEST unless it is {version: 1, sha256Hash: hex}."""
    if not isinstance(persisted, dict):
        raise BadRequest("extensions.persistedQuery 须为对象 / extensions.persistedQuery must be an object")
    if persisted.get("version") != 1:
        raise BadRequest("不支持的持久化查询版本（仅 1） / unsupported persisted query version (only version 1)")
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _HASH.fullmatch(digest.lower()):
        raise BadRequest("sha256Hash 须为 64 位十六进制 / sha256Hash must be 64 hexadecimal digits")
    return digest.lower()


def _entry_bytes(entry: tuple[float, str | None]) -> int:
    return 100 + sys.getsizeof(entry[1])


class TrustedDocuments:
    """Resolves requests to texts by the mode (see the module docstring); one per process."""

    def __init__(self, store: Store, mode: Mode, ttl: float, max_chars: int) -> None:
        self.store = store
        self.mode = mode
        self.ttl = ttl
        self.max_chars = max_chars
        # hash bytes -> (expiry on the monotonic clock, text or None for "not registered")
        self._texts = BoundedCache("trusted documents", ENTRIES, QUERY_CACHE_BYTES, _entry_bytes)

    async def resolve(self, query: str | None, extensions: Any) -> str | None:
        """The text to run (None when the request brings neither text nor hash).

        Refuses with BAD_REQUEST (a malformed persistedQuery), PERSISTED_QUERY_NOT_FOUND,
        PERSISTED_QUERY_NOT_SUPPORTED, PERSISTED_QUERY_HASH_MISMATCH or PERSISTED_QUERY_NOT_ALLOWED;
        INTERNAL when the store cannot be read.
        """
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if persisted is None:
            if query is not None and self.mode == "only" and await self._registered(sha256(query)) is None:
                raise PersistedQueryNotAllowed(NOT_ALLOWED)
            return query
        if self.mode == "off":
            raise PersistedQueryNotSupported
        digest = _hash_of(persisted)
        if query is None:
            text = await self._registered(digest)
            if text is None:
                raise PersistedQueryNotAllowed(NOT_ALLOWED) if self.mode == "only" else PersistedQueryNotFound()
            return text
        if sha256(query) != digest:
            raise PersistedQueryHashMismatch("sha256Hash 与查询文本的 SHA-256 不符 / provided sha does not match query")
        if self.mode == "only":
            if await self._registered(digest) is None:
                raise PersistedQueryNotAllowed(NOT_ALLOWED)
        elif len(query) <= self.max_chars:  # a longer text is refused before it is parsed, and never kept
            self._texts.put(bytes.fromhex(digest), (math.inf, query))
        return query

    async def _registered(self, digest: str) -> str | None:
        """The text known by this hash: from this process's cache, else the store (remembered either way)."""
        key = bytes.fromhex(digest)
        cached = self._texts.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]  # type: ignore[no-any-return]
        try:
            text = await documents.text(self.store, digest)
        except (SQLAlchemyError, OSError) as exc:  # not remembered: the next request asks again
            raise HubError("无法从枢纽库读取可信文档 / cannot read the trusted documents from the hub store") from exc
        self._texts.put(key, (time.monotonic() + self.ttl, text))
        return text


# --- reading and checking documents for `hub documents add` ------------------------------------


def read_documents(paths: Iterable[Path], schema: GraphQLSchema, max_depth: int, max_chars: int) -> list[documents.Document]:
    """The documents in these files, each valid against the schema; BAD_USER_INPUT naming the first problem."""
    found: list[documents.Document] = []
    for path in paths:
        try:
            raw = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise BadUserInput(f"{path}: 不是 UTF-8 文本 / not UTF-8 text") from exc
        entries = _manifest(path, raw) if path.suffix.lower() == ".json" else [(sha256(raw), raw, str(path))]
        for digest, text, source in entries:
            found.append(documents.Document(digest, text, _checked(text, source, schema, max_depth, max_chars), source))
    return found


def _manifest(path: Path, raw: str) -> list[tuple[str, str, str]]:
    """(hash, text, source) of each entry of an Apollo manifest or a {hash: document} map."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadUserInput(f"{path}: 不是有效的 JSON / not valid JSON: {exc}") from exc
    if isinstance(data, dict) and data.get("format") == "apollo-persisted-query-manifest":
        operations = data.get("operations")
        if data.get("version") != 1 or not isinstance(operations, list):
            raise BadUserInput(f"{path}: 仅支持 Apollo 清单第 1 版（含 operations 列表） / only version 1 of Apollo's "
                               "manifest, with a list of operations, is supported")
        pairs = [(o.get("id"), o.get("body")) if isinstance(o, dict) else (None, None) for o in operations]
    elif isinstance(data, dict):
        pairs = list(data.items())
    else:
        raise BadUserInput(f"{path}: 应为 Apollo 清单或 {{哈希: 文档}} 对象 / expected Apollo's persisted-query manifest "
                           "or a {hash: document} object")
    entries = []
    for n, (digest, text) in enumerate(pairs):
        source = f"{path}#{n}"
        if not isinstance(digest, str) or not isinstance(text, str):
            raise BadUserInput(f"{source}: 每项须有字符串哈希与文档 / each entry needs a hash and a document, both strings")
        if digest.lower() != sha256(text):
            raise BadUserInput(f"{source}: 哈希 {digest[:80]} 不是其文档的 SHA-256（请用 sha256 生成） / the hash is not "
                               "the SHA-256 of its document: generate ids with sha256")
        entries.append((digest.lower(), text, source))
    return entries


def _checked(text: str, source: str, schema: GraphQLSchema, max_depth: int, max_chars: int) -> tuple[str, ...]:
    """The names of a document's operations once it parses, validates and fits the limits; else BAD_USER_INPUT."""
    if len(text) > max_chars:
        raise BadUserInput(f"{source}: 文档超过 {max_chars} 个字符（HUB_MAX_QUERY_CHARS） / the document is longer than "
                           f"{max_chars} characters (HUB_MAX_QUERY_CHARS)")
    try:
        document = parse(text)
    except GraphQLError as exc:
        raise BadUserInput(f"{source}: 无法解析 / does not parse: {exc.message}") from exc
    errors = validate(schema, document, (*specified_rules, create_validator(max_depth, None)))
    if errors:
        raise BadUserInput(f"{source}: 不符合模式 / does not validate against the schema: "
                           + "; ".join(e.message for e in errors[:3]))
    return tuple(d.name.value if d.name else "" for d in document.definitions if isinstance(d, OperationDefinitionNode))

