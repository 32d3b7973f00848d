"""Custom entities: a department's data beyond the canonical records, declared in its mapping only.

A mapping's `custom:` section declares entities the hub has no record class for (an education
bureau's enrolment, say): the legacy table, typed fields, a key, and how each joins the hub's
graph — to `Institution` by the department's own unit code (the crosswalk finds the institution),
to `Person` by ID number. The hub builds a record class, a GraphQL type and the joining field
from the declaration when it starts (schema/custom.py); nothing in code names the entity.
Example::

    custom:
      enrolment:
        type: Enrolment                      # the GraphQL type
        description: 在校生数 / enrolment by grade and year
        table: XX_ZSQK
        key: [school, year, grade]           # unique per row: a list's order
        institution: {field: enrolment, by: school, description: 在校生 / enrolment}
        fields:
          school: {column: XXDM, description: 学校代码 / school code}
          year: {column: XN, type: int, description: 学年 / school year}
          grade: {column: NJ, type: code, values: {"1": G1, "7": G7}, description: 年级 / grade}
          students: {column: ZXRS, type: int, description: 在校生数 / students}

Field types: `string`, `int`, `date`, `decimal`, `boolean` and `code` (a code list: `values` maps
each legacy code to a GraphQL enum value). A field may name a converter (`convert:`, e.g.
`yuan_to_fen`, `date8`), a normalizer and a mask (`mask: name`, see schema/masking.py).
"""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
import re
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, PrivateAttr, field_validator, model_validator

from adapters.convert import NORMALIZERS
from hub.core.records import RECORDS

# Field type -> (the Python type of its values, the converter it uses unless one is named, the converters allowed).
FIELD_TYPES: dict[str, tuple[type, str, frozenset[str]]] = {
    "string": (str, "text", frozenset({"text", "iso", "iso_compact", "iso_int", "iso_date"})),
    "int": (int, "int", frozenset({"int", "yuan_to_fen"})),
    "date": (dt.date, "date", frozenset({"date", "date8"})),
    "decimal": (Decimal, "decimal", frozenset({"decimal", "fen_to_yuan"})),
    "boolean": (bool, "boolean", frozenset({"boolean"})),
    "code": (str, "text", frozenset({"text"})),
}
MASKS = frozenset({"id_number", "name", "tail", "year"})  # schema.masking.MASKERS, for string fields
JOINS = {"institution": "Institution", "person": "Person"}

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TYPE = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_CODE = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class CustomField(BaseModel):
    """One typed field of a custom entity, read from one legacy column."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    type: str = "string"
    description: str = ""
    convert: str | None = None
    normalize: str | None = None
    values: dict[str, str] | None = None  # code lists: legacy code -> enum value
    mask: str | None = None

    @field_validator("values", mode="before")
    @classmethod
    def _string_keys(cls, value: dict[Any, Any] | None) -> dict[str, str] | None:
        return None if value is None else {str(k): str(v) for k, v in value.items()}

    @model_validator(mode="after")
    def _consistent(self) -> CustomField:
        if self.type not in FIELD_TYPES:
            raise ValueError(f"unknown field type {self.type!r}; known: {sorted(FIELD_TYPES)}")
        allowed = FIELD_TYPES[self.type][2]
        if self.convert is not None and self.convert not in allowed:
            raise ValueError(f"a {self.type} field cannot use converter {self.convert!r}; allowed: {sorted(allowed)}")
        if (self.type == "code") != (self.values is not None):
            raise ValueError("a code field needs `values` (legacy code -> enum value), and only a code field has them")
        bad = [v for v in (self.values or {}).values() if not _CODE.match(v)]
        if bad:
            raise ValueError(f"code values must be upper-case names (A_Z0_9): {bad}")
        if self.normalize is not None and (self.normalize not in NORMALIZERS or self.type != "string"):
            raise ValueError(f"normalizer {self.normalize!r}: unknown, or not on a string field")
        if self.mask is not None and (self.mask not in MASKS or self.type != "string"):
            raise ValueError(f"mask {self.mask!r}: unknown ({sorted(MASKS)}), or not on a string field")
        return self

    @property
    def converter(self) -> str:
        """The converter from the legacy value (the type's unless one is named)."""
        return self.convert or FIELD_TYPES[self.type][1]

    @property
    def python_type(self) -> builtins.type:
        """The Python type of the canonical values."""
        return FIELD_TYPES[self.type][0]


class CustomJoin(BaseModel):
    """A field added to `Institution` or `Person` listing a custom entity's records of each."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str  # the new field's name (snake_case; camelCase in GraphQL)
    by: str  # the entity field holding the department's unit code (institution) or the ID number (person)
    description: str = ""


class CustomEntity(BaseModel):
    """A custom entity: one legacy table, typed fields, a key, and its joins."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    description: str = ""
    table: str
    key: list[str]
    institution: CustomJoin | None = None
    person: CustomJoin | None = None
    fields: dict[str, CustomField]
    _record: builtins.type | None = PrivateAttr(default=None)

    @field_validator("fields", mode="before")
    @classmethod
    def _shorthand(cls, value: dict[str, Any]) -> dict[str, Any]:
        return {k: {"column": v} if isinstance(v, str) else v for k, v in value.items()}

    @model_validator(mode="after")
    def _consistent(self) -> CustomEntity:
        if not _TYPE.match(self.type):
            raise ValueError(f"type {self.type!r} must be a GraphQL type name in PascalCase")
        bad = [f for f in self.fields if not _NAME.match(f)]
        if bad:
            raise ValueError(f"field names must be snake_case: {bad}")
        if not self.key or set(self.key) - set(self.fields):
            raise ValueError(f"key {self.key} must name mapped fields")
        if self.institution is None and self.person is None:
            raise ValueError("a custom entity joins `institution` or `person` (else nothing reaches it)")
        for join in (self.institution, self.person):
            if join is not None and (join.by not in self.fields or not _NAME.match(join.field)):
                raise ValueError(f"join {join.field!r}: `by` must name a mapped field ({join.by!r})")
        if self.person is not None and self.fields[self.person.by].normalize != "id_number":
            raise ValueError(f"{self.person.by}: the field joining a person must have `normalize: id_number`")
        return self

    @property
    def scope(self) -> str | None:
        """The field holding the department's unit code, for row scope (the institution join's)."""
        return self.institution.by if self.institution else None

    def record(self, entity: str) -> builtins.type:
        """The record class (frozen, slotted, every field optional), made once per declaration."""
        if self._record is None:
            made = dataclasses.make_dataclass(
                "".join(p.title() for p in entity.split("_")) + "Record",
                [(name, spec.python_type | None,  # type: ignore[operator]
                  dataclasses.field(default=None)) for name, spec in self.fields.items()],
                namespace={"__entity__": entity, "__doc__": self.description or entity},
                frozen=True, slots=True,
            )
            object.__setattr__(self, "_record", made)
        assert self._record is not None
        return self._record


def check_custom(custom: dict[str, CustomEntity]) -> None:
    """ValueError unless custom entity names are new entities and their type names distinct."""
    clash = sorted(set(custom) & set(RECORDS))
    if clash:
        raise ValueError(f"custom entities {clash} are canonical entities: map them under `entities`")
    bad = [name for name in custom if not _NAME.match(name)]
    if bad:
        raise ValueError(f"custom entity names must be snake_case: {bad}")
    types = [c.type for c in custom.values()]
    if len(types) != len(set(types)):
        raise ValueError(f"custom type names repeat: {types}")
