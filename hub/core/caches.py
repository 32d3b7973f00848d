"""Every cache the hub keeps across requests: bounded in entries and in bytes, keyed by digests.

A cache that keeps what callers send (query texts, tokens, key ids) must not grow with what they
send: each is a `BoundedCache` (cachetools' LRU), whose size counts an entry's estimated bytes and
at least `max_bytes / entries` for any entry, so it never holds more than `entries` entries nor
more than `max_bytes` bytes. Texts are keyed by their SHA-256 digest, never by themselves. Every
cache is listed in `caches()` (a test walks them).
"""

from __future__ import annotations

import contextlib
import hashlib
import weakref
from collections.abc import Callable, Hashable
from typing import Any

import cachetools

ENTRIES = 1024  # entries of a cache of queries at most (the prepared documents)
QUERY_CACHE_BYTES = 4 * 1024 * 1024  # bytes of each cache of queries
AST_BYTES_PER_CHAR = 120  # a parsed document costs ~110 bytes per character of its text (measured)

_ALL: weakref.WeakSet[BoundedCache] = weakref.WeakSet()


class BoundedCache(cachetools.LRUCache):  # type: ignore[type-arg]
    """An LRU cache of at most `entries` entries and `max_bytes` estimated bytes (`sizeof` of a value)."""

    def __init__(self, name: str, entries: int, max_bytes: int, sizeof: Callable[[Any], int] | None = None) -> None:
        floor = max(1, max_bytes // entries)
        measure = sizeof or (lambda _value: 0)
        super().__init__(maxsize=max_bytes, getsizeof=lambda value: max(floor, measure(value)))
        self.name = name
        self.entries = entries
        self.max_bytes = max_bytes
        _ALL.add(self)

    __eq__ = object.__eq__  # a cache is itself (the registry is a set), not its contents
    __hash__ = object.__hash__

    def put(self, key: Hashable, value: Any) -> None:
        """Keep a value; one larger than the whole cache is not kept."""
        with contextlib.suppress(ValueError):  # cachetools: value too large
            self[key] = value


def caches() -> list[BoundedCache]:
    """Every live bounded cache of the process."""
    return list(_ALL)


def digest(text: str | bytes) -> bytes:
    """The SHA-256 digest a text is keyed by."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text).digest()

