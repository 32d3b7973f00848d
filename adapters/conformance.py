"""The adapter conformance kit: what every adapter must do with every entity its mapping reads.

Used by the test suite (tests/adapters/test_conformance.py, every shipped mapping on SQLite,
PostgreSQL and MariaDB) and by `hub adapter test --department D` (any configured source, custom
entities included). Adapters are used only through the `Adapter` protocol, made by `make()` (a new
adapter each time, as the hub builds them); each check raises `Nonconformance` naming what failed.

- `fetch`: streamed rows, counted rows and a fetch of a few keys agree, and a fetch is one statement;
- `projection`: a fetch reading some fields answers their values as a whole fetch does, leaves the
  others unset, and a keyset page is ordered;
- `id_order`: entities with ID numbers stream in normalized ID order;
- `keyset`: keyset pages visit every record once, in order (by a field unique over the entity);
- `scope`: a row scope limits the rows to the units named;
- `round_trip`: each key and scope value read back through a WHERE finds its record (conversions dump
  what they load);
- `latest`: a fetch asking only each key's newest records (`latest=`) holds, per key, the records with
  the greatest values a whole fetch has, and every record tied with the last of them, from one statement;
- `aggregate`: grouped counts, distinct counts, sums and per-person counts, each one statement, equal
  the same figures counted over the streamed records;
- `distinct`: the distinct values of a field (the key field, and a field of a joined table), from one
  statement, are those of the streamed records;
- `missing`: a database that is not there is SOURCE_UNAVAILABLE naming the source.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.base import Adapter, AnyOf, Capability, Latest
from hub.core.errors import SourceUnavailable

Make = Callable[[], Adapter]
CHUNK = 97  # a stream chunk size that splits any realistic table unevenly


class Nonconformance(AssertionError):
    """An adapter did not do what the contract says."""


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise Nonconformance(message)


async def everything(adapter: Adapter, entity: str, **kw: Any) -> list[Any]:
    """Every record of an entity, streamed in chunks."""
    return [r async for chunk in adapter.stream(entity, chunk_size=CHUNK, **kw) for r in chunk]


def key_field(adapter: Adapter, entity: str) -> str:
    """The field the kit fetches by: the scope field, else the first key (order) field, else the first mapped."""
    spec, _ = adapter.mapping.readable()[entity]
    return spec.scope or (spec.order[0] if spec.order else next(iter(spec.columns)))


async def fetch(adapter: Adapter, entity: str) -> str:
    rows = await everything(adapter, entity)
    _require(bool(rows), f"{entity} has no rows")
    counted = sum(r[-1] for r in await adapter.count(entity))
    _require(counted == len(rows), f"count says {counted}, stream gave {len(rows)}")
    key = key_field(adapter, entity)
    wanted = sorted({getattr(r, key) for r in rows if getattr(r, key) is not None}, key=repr)[:5]
    before = adapter.statements
    fetched = await adapter.fetch(entity, key, wanted)
    _require(adapter.statements == before + 1, f"fetching {len(wanted)} keys took {adapter.statements - before} statements")
    expected = sorted((r for r in rows if getattr(r, key) in wanted), key=repr)
    _require(sorted(fetched, key=repr) == expected, f"fetch by {key} differs from the streamed rows")
    return f"{len(rows)} rows; {len(wanted)} keys in 1 statement"


async def projection(adapter: Adapter, entity: str) -> str:
    spec, _ = adapter.mapping.readable()[entity]
    key = key_field(adapter, entity)
    order = set(spec.order) or set(spec.columns)
    wanted_field = next((f for f in reversed(spec.columns) if f != key), key)
    rows = await everything(adapter, entity)
    keys = sorted({getattr(r, key) for r in rows if getattr(r, key) is not None}, key=repr)[:5]
    whole = await adapter.fetch(entity, key, keys)
    part = await adapter.fetch(entity, key, keys, fields=[wanted_field])
    read = sorted({key, wanted_field} | order)
    _require(sorted((tuple(getattr(r, f) for f in read) for r in part), key=repr)
             == sorted((tuple(getattr(r, f) for f in read) for r in whole), key=repr), "a projection changed values")
    for field in set(spec.columns) - set(read):
        try:
            getattr(part[0], field)
        except AttributeError:
            continue
        raise Nonconformance(f"{field} was not asked for but is set")
    page = await adapter.scan(entity, order_by=key, limit=3, fields=[])
    _require([getattr(r, key) for r in page] == sorted((getattr(r, key) for r in page), key=repr), "a scan page is out of order")
    return f"read {len(read)} of {len(spec.columns)} fields"


async def id_order(adapter: Adapter, entity: str) -> str | None:
    spec, _ = adapter.mapping.readable()[entity]
    if "id_number" not in spec.columns:
        return None
    rows = await everything(adapter, entity, order_by="id_number")
    bodies = [r.id_number[:17] for r in rows if r.id_number]
    _require(bodies == sorted(bodies), "not streamed in normalized ID order")
    return f"{len(bodies)} ID numbers in order"


def unique_key(adapter: Adapter, entity: str) -> str | None:
    """A field unique over the whole entity, if there is one: a unit's code, a custom entity's single-field key
    (a canonical entity's `order` is unique only within one key's records)."""
    if entity == "unit":
        return "local_id"
    custom = adapter.mapping.custom.get(entity)
    return custom.key[0] if custom is not None and len(custom.key) == 1 else None


async def keyset(adapter: Adapter, entity: str) -> str | None:
    key = unique_key(adapter, entity)
    if key is None:
        return None
    seen: list[Any] = []
    after = None
    while page := await adapter.scan(entity, order_by=key, after=after, limit=7):
        seen += [getattr(r, key) for r in page]
        after = seen[-1]
    everyone = [getattr(r, key) for r in await everything(adapter, entity)]
    _require(seen == sorted(seen) and sorted(seen) == sorted(everyone), "keyset pages missed, repeated or misordered records")
    return f"{len(seen)} records in {-(-len(seen) // 7)} pages"


async def scope(adapter: Adapter, entity: str) -> str | None:
    field = adapter.scope_field(entity)
    if field is None:
        return None
    rows = await everything(adapter, entity)
    chosen = sorted({getattr(r, field) for r in rows if getattr(r, field) is not None})[:3]
    scoped = await everything(adapter, entity, where={"*scope": AnyOf(({field: chosen},))})
    _require(sorted(scoped, key=repr) == sorted((r for r in rows if getattr(r, field) in chosen), key=repr),
             f"a scope of {len(chosen)} units did not give their rows only")
    return f"{len(scoped)} rows of {len(chosen)} units"


async def round_trip(adapter: Adapter, entity: str) -> str:
    spec, _ = adapter.mapping.readable()[entity]
    names = [f for f in dict.fromkeys([*spec.order, *([spec.scope] if spec.scope else [])])
             if spec.columns[f].normalize != "name"]
    rows = await everything(adapter, entity)
    for field in names:
        sample = next((r for r in rows if getattr(r, field) is not None), None)
        if sample is None:
            continue
        found = await adapter.fetch(entity, field, [getattr(sample, field)])
        _require(sample in found, f"{field} = {getattr(sample, field)!r} read back through a WHERE finds no record")
    return f"{len(names)} fields read back"


async def latest(adapter: Adapter, entity: str) -> str | None:
    spec = adapter.mapping.entities.get(entity)  # canonical entities: a custom one is listed by its key
    if spec is None or not spec.order:
        return None
    by, notes = spec.order[0], []
    rows = await everything(adapter, entity)
    for key in dict.fromkeys(f for f in (spec.scope, "id_number") if f and f in spec.columns):
        counts: dict[Any, int] = {}
        for r in rows:
            counts[getattr(r, key)] = counts.get(getattr(r, key), 0) + 1
        keys = sorted((k for k, n in counts.items() if k is not None and n > 2), key=repr)[:6]
        if not keys:
            continue
        keys += sorted((k for k, n in counts.items() if k is not None and n <= 2), key=repr)[:2]

        def top(records: list[Any], key: str = key) -> dict[Any, list[Any]]:
            grouped: dict[Any, list[Any]] = {}
            for r in records:
                grouped.setdefault(getattr(r, key), []).append(getattr(r, by))
            return {k: sorted(v, key=lambda x: (x is not None, x), reverse=True)[:2] for k, v in grouped.items()}

        def tied(records: list[Any], key: str = key) -> set[str]:
            """Each key's records whose `by` is at least its 2nd greatest (nulls last): the caller may pick any."""
            grouped: dict[Any, list[Any]] = {}
            for r in records:
                grouped.setdefault(getattr(r, key), []).append(r)
            rank = lambda r: (getattr(r, by) is not None, getattr(r, by))  # noqa: E731
            edges = {k: sorted(map(rank, v), reverse=True)[:2][-1] for k, v in grouped.items()}
            return {repr(r) for r in records if rank(r) >= edges[getattr(r, key)]}

        whole = await adapter.fetch(entity, key, keys)
        before = adapter.statements
        newest = await adapter.fetch(entity, key, keys, latest=Latest(by, 2))
        _require(adapter.statements == before + 1, f"latest by {key}: {adapter.statements - before} statements")
        _require(set(map(repr, newest)) <= set(map(repr, whole)), f"latest by {key}: records a whole fetch does not have")
        _require(top(newest) == top(whole), f"latest by {key}: not each key's newest {by}")
        _require(tied(whole) <= set(map(repr, newest)), f"latest by {key}: a record tied on {by} with the newest left out")
        notes.append(f"{key}: {len(newest)} of {len(whole)}")
    return "; ".join(notes) or None


async def aggregate(adapter: Adapter, entity: str) -> str | None:
    spec = adapter.mapping.entities.get(entity)
    if spec is None or Capability.AGGREGATE not in adapter.capabilities:
        return None
    group = [f for f in (spec.scope, next((f for f, c in spec.columns.items() if c.values), None)) if f]
    sums = [f for f, c in spec.columns.items() if c.convert == "int"]
    distinct = next(iter(spec.order), None)
    rows = await everything(adapter, entity)
    before = adapter.statements
    got = await adapter.aggregate(entity, group_by=group, sums=sums, distinct=distinct)
    _require(adapter.statements == before + 1, f"aggregate took {adapter.statements - before} statements")
    want: dict[tuple[Any, ...], list[Any]] = {}
    for r in rows:
        found = want.setdefault(tuple(getattr(r, f) for f in group), [0, set(), *([0] * len(sums))])
        found[0] += 1
        found[1].add(getattr(r, distinct) if distinct else None)
        for i, f in enumerate(sums):
            found[2 + i] += getattr(r, f) or 0
    expected = {k: [v[0], len(v[1] - {None}) if distinct else v[0], *v[2:]] for k, v in want.items()}
    _require({tuple(g[:len(group)]): list(g[len(group):]) for g in got} == expected, "grouped figures differ from the stream's")
    if "id_number" in spec.columns:
        first: dict[str, Any] = {}
        for r in sorted((r for r in rows if r.id_number), key=adapter.order_key(entity)):
            first.setdefault(r.id_number[:17], r)
        people: dict[tuple[Any, ...], int] = {}
        for r in first.values():
            k = tuple(getattr(r, f) for f in group)
            people[k] = people.get(k, 0) + 1
        counted = await adapter.aggregate(entity, group_by=group, per_person="id_number")
        _require({tuple(g[:len(group)]): g[len(group)] for g in counted} == people, "per-person counts differ from the stream's")
    return f"{len(got)} groups"


async def distinct(adapter: Adapter, entity: str) -> str:
    spec, _ = adapter.mapping.readable()[entity]
    joined = next((f for f, c in spec.columns.items() if c.table), None)
    fields = list(dict.fromkeys(f for f in (key_field(adapter, entity), joined) if f))
    rows = await everything(adapter, entity)
    for f in fields:
        before = adapter.statements
        got = await adapter.distinct(entity, f)
        _require(adapter.statements == before + 1, f"distinct took {adapter.statements - before} statements")
        want = {v for r in rows if (v := getattr(r, f)) is not None and v != ""}
        _require(len(got) == len(set(got)) and set(got) == want, f"distinct values of {f} differ from the stream's")
    return ", ".join(fields)


async def missing(make_missing: Make) -> str:
    adapter = make_missing()
    try:
        await adapter.ping()
    except SourceUnavailable as exc:
        _require(exc.extensions == {"code": "SOURCE_UNAVAILABLE", "source": adapter.department}, f"wrong error {exc.extensions}")
        return "SOURCE_UNAVAILABLE"
    finally:
        await adapter.close()
    raise Nonconformance("a database that is not there answered")


ENTITY_CHECKS: dict[str, Callable[[Adapter, str], Awaitable[str | None]]] = {
    "fetch": fetch, "projection": projection, "id_order": id_order, "keyset": keyset, "scope": scope, "round_trip": round_trip,
    "latest": latest, "aggregate": aggregate, "distinct": distinct,
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """One check of one entity: passed (with a note), skipped (nothing to check) or failed (why)."""

    entity: str
    check: str
    passed: bool | None  # None: not applicable
    detail: str


async def run_check(make: Make, entity: str, check: str) -> Outcome:
    """One check on a fresh adapter (closed after)."""
    adapter = make()
    try:
        note = await ENTITY_CHECKS[check](adapter, entity)
    except Nonconformance as exc:
        return Outcome(entity, check, False, str(exc))
    except Exception as exc:  # noqa: BLE001 - a report names what broke, whatever it was
        return Outcome(entity, check, False, f"{type(exc).__name__}: {exc}")
    finally:
        await adapter.close()
    return Outcome(entity, check, None if note is None else True, note or "")


async def run_kit(make: Make, make_missing: Make, entities: list[str] | None = None) -> list[Outcome]:
    """Every check on every entity (or those named), then the missing database."""
    probe = make()
    names = entities or list(probe.entities())
    await probe.close()
    out = [await run_check(make, entity, check) for entity in names for check in ENTITY_CHECKS]
    try:
        out.append(Outcome("*", "missing", True, await missing(make_missing)))
    except Nonconformance as exc:
        out.append(Outcome("*", "missing", False, str(exc)))
    return out


def missing_url(folder: Path) -> str:
    """A SQLite URL of a database that does not exist (the folder does not either)."""
    return f"sqlite+aiosqlite:///{folder / 'absent' / 'missing.db'}"
