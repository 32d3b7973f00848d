"""Every mutation takes an idempotency key: the `idempotencyKey` argument, or the `Idempotency-Key` header.

`idempotent(Mutation)` gives each field of the root mutation type (a copy of it: the classes merged
into the root are untouched) the `IdempotencyKey` field extension, which adds the argument and runs
the field through hub.store.idempotency.once: the first request with a key runs and its answer is
stored; a retry with the same key and arguments gets that answer and writes nothing; the same key
with other arguments is BAD_USER_INPUT. A mutation added later gets all this without a line of its own.

The header names the whole HTTP request: each mutation field of the operation is recorded under the
header's key and its response name, so an operation of several mutations can be retried as a whole.
The argument names one field; when both are given, the argument wins.

What is stored is the resolver's return value, encoded along the field's GraphQL type (objects by
their fields, enums by value, dates in ISO form) and decoded back into the same types on a retry,
whose selection is then resolved from the first answer.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from enum import Enum
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

from strawberry.annotation import StrawberryAnnotation
from strawberry.extensions import FieldExtension
from strawberry.types.arguments import StrawberryArgument
from strawberry.types.base import StrawberryList, StrawberryOptional, has_object_definition
from strawberry.types.enum import StrawberryEnumDefinition
from strawberry.types.field import StrawberryField

from hub.store.idempotency import once, ticket

KEY_ARGUMENT = "idempotencyKey"  # declared "not scoped": it names the request, not data
KEY_HEADER = "idempotency-key"


class IdempotencyKey(FieldExtension):
    """Adds `idempotencyKey: String` to a mutation field and answers retries from the store."""

    def apply(self, field: StrawberryField) -> None:
        if any(a.python_name == "idempotency_key" for a in field.arguments):
            return
        field.arguments = [*field.arguments, StrawberryArgument(
            python_name="idempotency_key", graphql_name=KEY_ARGUMENT, type_annotation=StrawberryAnnotation(str | None),
            default=None, description="幂等键：重试时带同一键，返回首次结果且不重复写入 / idempotency key: a retry with "
                                      "the same key gets the first answer and writes nothing",
        )]

    async def resolve_async(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        key, slot = kwargs.pop("idempotency_key", None), ""
        if key is None:
            key, slot = info.context.idempotency_key, str(info.path.key)
        if key is None:
            return await next_(source, info, **kwargs)
        ctx = info.context
        principal = ctx.principal
        request = ticket(f"{getattr(principal, 'via', 'jwt')}:{principal.subject}", key, info.field_name, kwargs, slot)
        kind = info.return_type
        return await once(ctx.require_store(), request, lambda: next_(source, info, **kwargs),
                          lambda value: encode(value, kind), lambda data: decode(data, kind),
                          ttl=ctx.settings.idempotency_ttl_seconds, wait=ctx.settings.idempotency_wait_seconds)


def idempotent(mutation: type) -> type:
    """The root mutation type with every field carrying `IdempotencyKey`."""
    definition = mutation.__strawberry_definition__  # type: ignore[attr-defined]
    definition.fields = [_keyed(f) for f in definition.fields]
    return mutation


def _keyed(field: StrawberryField) -> StrawberryField:
    keyed = copy.copy(field)
    keyed.extensions = [*keyed.extensions, IdempotencyKey()]
    return keyed


def encode(value: Any, kind: Any) -> Any:
    """A value of a GraphQL output type as JSON."""
    if value is None:
        return None
    if isinstance(kind, StrawberryOptional):
        return encode(value, kind.of_type)
    if isinstance(kind, StrawberryList):
        return [encode(v, kind.of_type) for v in value]
    if isinstance(kind, StrawberryEnumDefinition):
        return kind.wrapped_cls(value).value
    if has_object_definition(kind):
        return {f.python_name: encode(getattr(value, f.python_name), f.type) for f in _stored(kind)}
    return _plain(value)


def decode(data: Any, kind: Any) -> Any:
    """The value `encode` made JSON of."""
    if data is None:
        return None
    if isinstance(kind, StrawberryOptional):
        return decode(data, kind.of_type)
    if isinstance(kind, StrawberryList):
        return [decode(v, kind.of_type) for v in data]
    if isinstance(kind, StrawberryEnumDefinition):
        return kind.wrapped_cls(data)
    if has_object_definition(kind):
        return kind(**{f.python_name: decode(data[f.python_name], f.type) for f in _stored(kind)})
    return _unplain(data, kind)


def _plain(value: Any) -> Any:
    """A Python value kept by an object (a private field's record included) as JSON."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.date):  # and datetime
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _unplain(data: Any, kind: Any) -> Any:
    """The value `_plain` made JSON of, by its annotation (`Private[...]`, optionals, records)."""
    if data is None:
        return None
    if get_origin(kind) is Annotated:  # strawberry.Private[T]
        return _unplain(data, get_args(kind)[0])
    if isinstance(kind, UnionType) or get_origin(kind) is Union:
        return _unplain(data, next(a for a in get_args(kind) if a is not type(None)))
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = get_type_hints(kind)
        return kind(**{f.name: _unplain(data[f.name], hints[f.name]) for f in dataclasses.fields(kind)})
    if kind is dt.datetime or kind is dt.date:
        return kind.fromisoformat(data)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(data)
    return data


def _stored(kind: Any) -> list[StrawberryField]:
    """The fields an object keeps (those with resolvers compute from them)."""
    return [f for f in kind.__strawberry_definition__.fields if f.base_resolver is None]
