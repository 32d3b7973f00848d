"""The compiled read path: a query answered a level at a time, not a field at a time.

graphql-core resolves every field of every object separately (~3 µs a field, far more when the
resolver is async). This executor walks the same validated, authorized document breadth-first,
following its plan (plan.py, made once per prepared document): per selected field it makes one
call for all parents at that level — an attribute read, a plain getter, or the field's batch
function (resolvers/batch.py, the same definition graphql-core's path uses) — and writes the
answer's dictionaries directly, masking leaves as masks.py says. Leaves are serialized by graphql-core's own coercion (a list of plain
strings or finite floats, or a tuple of them, is copied as a list; a level of unmasked strings, 32-bit
ints or booleans is written as it is: what that coercion gives back); objects of a
level are queued as flat lists, and an object's place in the answer (its path) is worked out only
when an error needs it. Errors and nulls follow graphql-core: an error is recorded at the nearest
nullable position, which becomes null, and later errors under a nulled position are dropped.
Anything the plan cannot cover (abstract types, introspection, mutations, resolvers it cannot call
per level) is left to graphql-core's field-by-field execution (the base class) for the whole
operation. A differential test holds this executor to that base class alone, the reference.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from itertools import chain, repeat
from math import isfinite
from operator import attrgetter, is_not, itemgetter
from typing import Any

from graphql import GraphQLError, GraphQLList, GraphQLNonNull, GraphQLObjectType, located_error
from graphql.pyutils import Path, is_iterable

from schema.execution.executor.limits import LimitedExecutor
from schema.execution.executor.plan import MEMO_LIMIT, Plan, Selected, arguments, nullable, plan


class _Level:
    """The objects one field queued for the next level: where they sit is looked up only for errors."""

    __slots__ = ("up", "outs", "key", "_where")

    def __init__(self, up: _Level | None, outs: list[dict[str, Any]], key: str | None) -> None:
        self.up, self.outs, self.key = up, outs, key
        self._where: dict[int, tuple[int, tuple[Any, ...]]] | None = None

    def where(self, out: dict[str, Any]) -> tuple[int, tuple[Any, ...]]:
        """(index of the parent, response path below it) of one queued object's answer."""
        if self._where is None:
            found: dict[int, tuple[int, tuple[Any, ...]]] = {}

            def walk(value: Any, owner: int, steps: tuple[Any, ...]) -> None:
                if isinstance(value, dict):
                    found[id(value)] = (owner, steps)
                elif isinstance(value, list):
                    for index, item in enumerate(value):
                        walk(item, owner, (*steps, index))

            for owner, parent in enumerate(self.outs):
                walk(parent.get(self.key), owner, (self.key,))  # type: ignore[arg-type]
            self._where = found
        return self._where[id(out)]


class CompiledExecutor(LimitedExecutor):
    """graphql-core's executor, answering queries level by level where the whole document allows.

    What the root fields name is checked first, as on every path (schema/execution/executor/row_scope.py).
    """

    def answer_root(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: Any,
        serially: bool,
        position_context: Any,
    ) -> Any:
        found = None if serially else plan(self, root_type, grouped_field_set)
        if found is None:
            return super().answer_root(root_type, root_value, grouped_field_set, serially, position_context)
        return self._run(found, root_value)

    # --- a level at a time ------------------------------------------------------------------------

    async def _run(self, planned: Plan, root_value: Any) -> dict[str, Any] | None:
        """The answer's data; errors are noted on the way and listed at the end, in document order (of
        several errors nulling one position, the first in document order is kept, whatever finished first)."""
        if planned.reads is not None:  # before any load: the adapters build only the fields the answer reads
            self.context_value.loaders.fields.update(planned.reads)
        answer: dict[str, Any] = {}
        self._answer, self._nulled, self._root = answer, False, planned.fields
        self._pending: list[tuple[tuple[int, ...], GraphQLError, Path | None]] = []
        try:
            await self._fill(planned.fields, [root_value], [answer], _Level(None, [answer], None))
        finally:
            del self._answer  # the executor ends up in reference cycles: the answer must not wait for the GC
        self._pending.sort(key=itemgetter(0))
        for _, error, position in self._pending:
            self.collected_errors.add(error, position)  # dropped when inside a position nulled before
        return None if self._nulled else answer

    async def _fill(self, fields: dict[str, Selected], parents: list[Any], outs: list[dict[str, Any]], level: _Level) -> None:
        """Fill every selected field of `outs` (one dict per parent), a field at a time over all parents.

        So every dict gets its keys in the document's order. The batch functions of a level run together.
        """
        batched = [f for f in fields.values() if f.batch is not None]
        if len(batched) == 1:
            found = {batched[0].key: await self._batch(batched[0], parents)}
        else:
            found = dict(zip([f.key for f in batched], await asyncio.gather(*(self._batch(f, parents) for f in batched)), strict=True))
        for selected in fields.values():
            if selected.return_type is None:  # __typename
                for out in outs:
                    out[selected.key] = selected.parent_type.name
                continue
            values = found[selected.key] if selected.batch is not None else self._read(selected, parents)
            if selected.leaf is not None:
                self._leaves(selected, level, outs, values)
            else:
                await self._objects(selected, level, outs, values)

    async def _batch(self, selected: Selected, parents: list[Any]) -> list[Any]:
        """A batch field's values for all parents."""
        assert selected.batch is not None
        try:
            args = selected.args if selected.args is not None else arguments(self, selected)
            return list(await selected.batch(self.context_value, list(parents), **args))
        except Exception as exc:  # the whole level failed: each parent gets the error
            return [exc] * len(parents)

    def _read(self, selected: Selected, parents: list[Any]) -> list[Any]:
        """An attribute or plain getter over all parents; one that raises is that parent's error (as in strawberry)."""
        if selected.attribute is not None:
            read = attrgetter(selected.attribute)
            try:
                return list(map(read, parents))
            except Exception:
                return [_call(read, p) for p in parents]
        getter = selected.getter
        assert getter is not None
        try:
            return [getter(p) for p in parents]
        except Exception:
            return [_call(getter, p) for p in parents]

    def _leaves(self, selected: Selected, level: _Level, outs: list[dict[str, Any]], values: list[Any]) -> None:
        """Leaf values serialized in a tight loop; enums, dates and masks are made once per value."""
        key = selected.key
        masker = selected.masker
        memo = selected.memo
        if memo is not None and len(memo) > MEMO_LIMIT:
            memo.clear()
        kind = selected.passthrough
        if kind is not None and masker is None and {*map(type, values)} == {kind} and (
                kind is not int or (min(values) >= _INT_MIN and max(values) <= _INT_MAX)):
            _put(outs, key, values)  # the whole level its own answer (checked per distinct type, copied in C)
            return
        if kind is int:
            for out, value in zip(outs, values, strict=True):
                if value.__class__ is int and _INT_MIN <= value <= _INT_MAX:
                    out[key] = value
                else:  # a bool, a float, out of range, None, an error: as graphql-core completes it
                    self._settle(selected, level, out, value, [], [])
            return
        if kind is str:
            for out, value in zip(outs, values, strict=True):
                if value.__class__ is not str:
                    self._settle(selected, level, out, value, [], [])
                elif masker is None:
                    out[key] = value
                else:  # a str, as GraphQLString gives it back
                    masked = memo.get(value)  # type: ignore[union-attr]
                    if masked is None:
                        masked = memo[value] = masker(value)  # type: ignore[index]
                    out[key] = masked
            return
        coerce = selected.leaf.coerce_output_value
        for out, value in zip(outs, values, strict=True):
            try:
                result = memo.get(value) if memo is not None else None
                if result is None and value is not None and not isinstance(value, Exception):
                    result = coerce(value if masker is None else masker(str(value)))
                    if memo is not None and result is not None:
                        memo[value] = result
            except Exception:
                result = None  # the general path below reports it
            if result is None:
                self._settle(selected, level, out, value, [], [])
            else:
                out[key] = result

    async def _objects(self, selected: Selected, level: _Level, outs: list[dict[str, Any]], values: list[Any]) -> None:
        """Objects queued for the next level: a dict each, placed now and filled there."""
        key = selected.key
        kids: list[dict[str, Any]] = []
        objs: list[Any] = []
        if selected.general:
            own = selected.items_pass
            if own is not None and {*map(type, values)} <= _SEQUENCES and _own_answer(chain.from_iterable(values), own, selected.items_null):
                _put(outs, key, map(list, values))  # the whole level at once, the usual case: each a copy, as a list
                return
            for out, value in zip(outs, values, strict=True):
                if own is not None and value.__class__ in _SEQUENCES and _own_answer(value, own, selected.items_null):
                    out[key] = list(value)
                else:
                    self._settle(selected, level, out, value, kids, objs)
        elif selected.items is None:  # one object per parent
            if _plain(values):
                kids = [{} for _ in values]
                for out, kid in zip(outs, kids, strict=True):
                    out[key] = kid
                objs = values
            else:
                for out, value in zip(outs, values, strict=True):
                    if value is None or isinstance(value, Exception):
                        self._settle(selected, level, out, value, kids, objs)
                    else:
                        out[key] = kid = {}
                        kids.append(kid)
                        objs.append(value)
        else:  # a list of objects per parent
            for out, value in zip(outs, values, strict=True):
                if value.__class__ is list and _plain(value):
                    items: list[dict[str, Any]] = [{} for _ in value]
                    out[key] = items
                    kids += items
                    objs += value
                else:
                    self._settle(selected, level, out, value, kids, objs)
        if kids:
            assert selected.object_type is not None
            await self._fill(selected.sub, objs, kids, _Level(level, outs, key))

    # --- the general path: graphql-core's completion, value by value ---------------------------------

    def _settle(self, selected: Selected, level: _Level, out: dict[str, Any], value: Any, kids: list[Any], objs: list[Any]) -> None:
        """One parent's field, shaped as graphql-core completes it; its objects join the level's queue."""
        mine: list[Any] = []
        theirs: list[Any] = []
        try:
            out[selected.key] = self._shape(selected.return_type, value, selected, level, out, (selected.key,), mine, theirs)
        except Exception as exc:
            out[selected.key] = None
            steps = self._steps(level, out)
            self._record(located_error(exc, selected.nodes, [*steps, selected.key]), len(steps) + 1)
            return
        kids += mine
        objs += theirs

    def _shape(
        self,
        gql_type: Any,
        value: Any,
        selected: Selected,
        level: _Level,
        out: dict[str, Any],
        below: tuple[Any, ...],
        kids: list[Any],
        objs: list[Any],
    ) -> Any:
        """graphql-core's complete_value for one value: leaves now, objects queued; errors raised."""
        if isinstance(value, Exception):
            raise value
        if isinstance(gql_type, GraphQLNonNull):
            shaped = self._shape(gql_type.of_type, value, selected, level, out, below, kids, objs)
            if shaped is None:
                raise TypeError(f"Cannot return null for non-nullable field {selected.parent_type.name}.{selected.name}.")
            return shaped
        if value is None:
            return None
        if isinstance(gql_type, GraphQLList):
            if not is_iterable(value):
                raise GraphQLError(f"Expected Iterable, but did not find one for field '{selected.parent_type.name}.{selected.name}'.")
            items: list[Any] = []
            for index, item in enumerate(value):
                try:
                    items.append(self._shape(gql_type.of_type, item, selected, level, out, (*below, index), kids, objs))
                except Exception as exc:
                    steps = [*self._steps(level, out), *below, index]
                    error = located_error(exc, selected.nodes, steps)
                    if isinstance(gql_type.of_type, GraphQLNonNull):
                        raise error from None
                    self._record(error, len(steps))
                    items.append(None)
            return items
        if isinstance(gql_type, GraphQLObjectType):
            child: dict[str, Any] = {}
            kids.append(child)
            objs.append(value)
            return child
        if selected.masker is not None:
            value = selected.masker(str(value))
        return self.complete_leaf_value(gql_type, value)

    def _steps(self, level: _Level, out: dict[str, Any]) -> list[Any]:
        """The response path of an object's answer dict."""
        if level.up is None:
            return []
        owner, below = level.where(out)
        return [*self._steps(level.up, level.outs[owner]), *below]

    def _record(self, error: GraphQLError, depth: int) -> None:
        """Note an error at its nearest nullable position and null that position.

        Positions deeper than `depth` steps are nulled by the caller, which is still building them.
        """
        steps = error.path or []
        cut, order = self._locate(steps)
        position = None
        for step in steps[:cut]:
            position = Path(position, step, None)
        self._pending.append((order, error, position))
        if cut == 0:
            self._nulled = True
        elif cut < depth:
            container: Any = self._answer
            for step in steps[: cut - 1]:
                container = container[step]
                if container is None:
                    return  # inside a position nulled already
            container[steps[cut - 1]] = None

    def _locate(self, steps: Sequence[Any]) -> tuple[int, tuple[int, ...]]:
        """(how many steps lead to the deepest nullable position (0: the data), the path in document order)."""
        fields = self._root
        gql_type: Any = None
        depth = 0
        order = []
        for n, step in enumerate(steps, 1):
            if isinstance(step, int):
                gql_type = nullable(gql_type).of_type
                order.append(step)
            else:
                order.append(list(fields).index(step))
                selected = fields[step]
                gql_type, fields = selected.return_type, selected.sub
            if not isinstance(gql_type, GraphQLNonNull):
                depth = n
        return depth, tuple(order)


_NONE = type(None)
_SEQUENCES = frozenset({list, tuple})  # lists of leaves given as lists or tuples (records' fields), answered as lists
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1  # GraphQL's Int


def _put(outs: Iterable[dict[str, Any]], key: str, values: Iterable[Any]) -> None:
    """out[key] = value for each answer dict and its value (a loop in C)."""
    deque(map(dict.__setitem__, outs, repeat(key), values), 0)


def _plain(values: list[Any]) -> bool:
    """Whether a list holds neither nulls nor errors (checked per distinct type, not per value)."""
    return not any(t is _NONE or issubclass(t, Exception) for t in {*map(type, values)})


def _own_answer(items: Iterable[Any], kind: type, nulls: bool) -> bool:
    """Whether a list of leaves is its own answer: only values of exactly `kind` (finite, for floats) and,
    where its items may be null, nulls (checked per distinct type, in C)."""
    items = items if isinstance(items, list) else list(items)
    if not {*map(type, items)} <= ({kind, _NONE} if nulls else {kind}):
        return False
    return kind is not float or all(map(isfinite, filter(partial(is_not, None), items)))


def _call(getter: Callable[[Any], Any], parent: Any) -> Any:
    try:
        return getter(parent)
    except Exception as exc:
        return exc
