"""GraphQL types of custom entities, made from the mappings when the schema is built.

Each custom entity (adapters/custom.py) becomes an object type named as its mapping says, with
one field per declared field (code lists as enums), marked `@records(entity)` like the canonical
types, so the compiled path reads only the columns an answer selects. Its joins become fields
of `Institution` or `Person` (a batch field over a named loader: one statement per source per
level), added to those types by the schema (HubSchema.get_fields) without touching their
classes: two schemas built from different settings never share fields. Policies name the new
`Type.field`s like any other; masks declared in the mapping join the maskable fields, and a type
joined to `Person` is personal (its reads are audited).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import strawberry
from strawberry.types.field import StrawberryField

from adapters.custom import CustomEntity
from adapters.mapping import Mapping
from hub.core.errors import MappingError
from resolvers import custom as data
from resolvers.batch import BatchFn, batch_field, reads, records
from resolvers.context import HubContext


@dataclass
class CustomSchema:
    """What the mappings' custom entities add to the schema."""

    types: list[type] = field(default_factory=list)  # the new object types
    fields: dict[str, list[StrawberryField]] = field(default_factory=dict)  # "Institution" / "Person" -> fields added
    maskable: dict[tuple[str, str], str] = field(default_factory=dict)  # (Type, field) -> mask (schema.masking.MASKERS)
    personal: frozenset[str] = frozenset()  # types about a person


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def _enum(type_name: str, field_name: str, values: Iterable[str], description: str) -> Any:
    name = type_name + "".join(p.title() for p in field_name.split("_"))
    codes = StrEnum(name, [(v, v) for v in dict.fromkeys(values)])  # type: ignore[misc]
    return strawberry.enum(codes, name=name, description=description or name)


def _object(entity: str, spec: CustomEntity) -> type:
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__module__": __name__}
    for name, f in spec.fields.items():
        kind = _enum(spec.type, name, (f.values or {}).values(), f.description) if f.type == "code" else f.python_type
        annotations[name] = kind | None
        namespace[name] = strawberry.field(description=f.description or None)
    cls = type(spec.type, (), {"__annotations__": annotations, **namespace})
    return records(entity)(strawberry.type(cls, name=spec.type, description=spec.description or spec.type))


def _views(insts: Sequence[Any]) -> list[Any]:
    return [i.view for i in insts]


def _institution_batch(fn: Any) -> BatchFn:
    async def batch(ctx: HubContext, insts: Sequence[Any]) -> list[list[Any]]:
        return await fn(ctx, _views(insts))  # type: ignore[no-any-return]

    return batch


def _join_field(owner: str, name: str, target: type, fn: BatchFn, description: str, entity: str, by: str) -> StrawberryField:
    """A batch field `name: [target!]!`, made through a throwaway type so strawberry resolves it fully."""
    holder = type(f"{owner}{target.__name__}Join", (), {
        "__annotations__": {name: list[target]},  # type: ignore[valid-type]
        name: batch_field(fn, description, reads(**{entity: {by}})),  # type: ignore[arg-type]
        "__module__": __name__,
    })
    made: StrawberryField = strawberry.type(holder).__strawberry_definition__.fields[0]  # type: ignore[attr-defined]
    return made


def custom_schema(mappings: Iterable[Mapping]) -> CustomSchema:
    """The types and fields the mappings' `custom:` sections declare."""
    out = CustomSchema()
    personal: set[str] = set()
    seen: dict[str, str] = {}
    for mapping in mappings:
        for entity, spec in mapping.custom.items():
            if spec.type in seen or entity in seen.values():
                raise MappingError(f"自定义实体 {entity}（{spec.type}）与部门「{mapping.department}」之外的映射重名 / custom entity "
                                   f"{entity} ({spec.type}) of {mapping.department!r}: another mapping declares the same entity or type")
            seen[spec.type] = entity
            cls = _object(entity, spec)
            out.types.append(cls)
            record = spec.record(entity)
            out.maskable |= {(spec.type, _camel(n)): f.mask for n, f in spec.fields.items() if f.mask}
            if spec.institution is not None:
                join = spec.institution
                fn = _institution_batch(data.of_institutions(data.by_unit(spec.type, record, join.by)))
                out.fields.setdefault("Institution", []).append(
                    _join_field("Institution", join.field, cls, fn, join.description or spec.description, entity, join.by))
            if spec.person is not None:
                join = spec.person
                personal.add(spec.type)
                fn = data.of_people(data.by_person(spec.type, record, join.by))
                out.fields.setdefault("Person", []).append(
                    _join_field("Person", join.field, cls, fn, join.description or spec.description, entity, join.by))
    out.personal = frozenset(personal)
    return out
