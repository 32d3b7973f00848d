"""Mapping files: the only place that knows a department's legacy table, column and code names.

The header declares the department (hub.core.departments): its id (lower-case letters and digits,
also the settings key HUB_SOURCE_<ID>_URL), its title '中文 / English' and its trust rank for a
person's identity fields (lowest first). A mapping names, per canonical entity (see hub.core.records.RECORDS), the legacy table, an optional
join (to reach e.g. the ID number of a pay row), and per canonical field the column, a converter
(adapters.convert.CONVERTERS), a key normalizer and a value map; `custom:` declares entities
beyond the canonical ones (adapters/custom.py). Example::

    department: finance
    title: 财政局 / Finance bureau
    trust: 4
    entities:
      payee:
        table: GZ_RY
        columns:
          payee_code: RYBM
          id_number: {column: SFZH, normalize: id_number}
          sex: {column: XB, values: {"1": MALE, "0": FEMALE}}
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from adapters.convert import CONVERTERS, NORMALIZERS
from adapters.custom import CustomEntity, check_custom
from hub.core.departments import DEPARTMENT_ID
from hub.core.errors import MappingError
from hub.core.records import RECORDS

MAPPINGS_DIR = Path(__file__).parent / "mappings"


class ColumnSpec(BaseModel):
    """How one canonical field is read from one legacy column."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    convert: str = "text"
    normalize: str | None = None
    values: dict[str, Any] | None = None

    @field_validator("convert")
    @classmethod
    def _known_converter(cls, value: str) -> str:
        if value not in CONVERTERS:
            raise ValueError(f"unknown converter {value!r}; known: {sorted(CONVERTERS)}")
        return value

    @field_validator("normalize")
    @classmethod
    def _known_normalizer(cls, value: str | None) -> str | None:
        if value is not None and value not in NORMALIZERS:
            raise ValueError(f"unknown normalizer {value!r}; known: {sorted(NORMALIZERS)}")
        return value

    @field_validator("values", mode="before")
    @classmethod
    def _string_keys(cls, value: dict[Any, Any] | None) -> dict[str, Any] | None:
        return None if value is None else {str(k): v for k, v in value.items()}

    @property
    def table(self) -> str | None:
        """The table qualifier of `column` ('GZ_RY.SFZH' -> 'GZ_RY'), None for the entity's own table."""
        return self.column.split(".", 1)[0] if "." in self.column else None

    @property
    def name(self) -> str:
        """The bare column name."""
        return self.column.split(".", 1)[-1]


class JoinSpec(BaseModel):
    """A second table joined to the entity's table: `match` maps own columns to the joined table's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str
    match: dict[str, str]


class EntitySpec(BaseModel):
    """One canonical entity read from one legacy table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str
    join: JoinSpec | None = None
    scope: str | None = None  # the field holding the department's unit code, for row scope
    order: list[str] = Field(default_factory=list)  # how a key's records are listed: fields unique per key
    columns: dict[str, ColumnSpec]

    @field_validator("columns", mode="before")
    @classmethod
    def _shorthand(cls, value: dict[str, Any]) -> dict[str, Any]:
        return {k: {"column": v} if isinstance(v, str) else v for k, v in value.items()}


class Mapping(BaseModel):
    """A department's mapping file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    department: str
    title: str  # '中文 / English'
    trust: int = 100  # identity fields (name, birth date, sex) are taken from the lowest rank first
    adapter: str = "sql"
    entities: dict[str, EntitySpec] = Field(default_factory=dict)
    custom: dict[str, CustomEntity] = Field(default_factory=dict)  # entities beyond the canonical ones (adapters/custom.py)

    @field_validator("custom")
    @classmethod
    def _custom(cls, value: dict[str, CustomEntity]) -> dict[str, CustomEntity]:
        check_custom(value)
        return value

    def readable(self) -> dict[str, tuple[EntitySpec, type]]:
        """Every entity the source reads, canonical and custom, as (how it is read, its record class)."""
        found = {name: (spec, RECORDS[name]) for name, spec in self.entities.items()}
        for name, custom in self.custom.items():
            columns = {
                field: ColumnSpec(column=f.column, convert=f.converter, normalize=f.normalize, values=f.values)
                for field, f in custom.fields.items()
            }
            found[name] = (EntitySpec(table=custom.table, scope=custom.scope, order=custom.key, columns=columns),
                           custom.record(name))
        return found

    @model_validator(mode="after")
    def _fields_exist(self) -> Mapping:
        for entity, spec in self.entities.items():
            record = RECORDS.get(entity)
            if record is None:
                raise ValueError(f"unknown entity {entity!r}; known: {sorted(RECORDS)}")
            fields = {f.name: f for f in dataclasses.fields(record)}
            unknown = set(spec.columns) - set(fields)
            if unknown:
                raise ValueError(f"{entity}: unknown fields {sorted(unknown)}")
            missing = [
                name
                for name, f in fields.items()
                if f.default is dataclasses.MISSING and name not in spec.columns
            ]
            if missing:
                raise ValueError(f"{entity}: required fields not mapped {missing}")
            if set(spec.order) - set(spec.columns):
                raise ValueError(f"{entity}: order fields not mapped {sorted(set(spec.order) - set(spec.columns))}")
            if spec.scope is not None and spec.scope not in spec.columns:
                raise ValueError(f"{entity}: scope field {spec.scope!r} is not mapped")
            for field, col in spec.columns.items():
                if col.table and (spec.join is None or col.table != spec.join.table):
                    raise ValueError(f"{entity}.{field}: table {col.table!r} is not joined")
        return self


    @field_validator("department")
    @classmethod
    def _department_id(cls, value: str) -> str:
        if not DEPARTMENT_ID.match(value):
            raise ValueError(f"department id {value!r} must be lower-case letters and digits, starting with a letter")
        return value


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; a bad file raises MappingError naming the file and the fault."""
    try:
        return Mapping.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise MappingError(f"映射文件有误 / bad mapping file {path}: {exc}") from exc


@functools.cache
def shipped_mappings() -> dict[str, tuple[Path, Mapping]]:
    """The shipped mapping files (read once), by the department id each declares."""
    found = ((p, load_mapping(p)) for p in sorted(MAPPINGS_DIR.glob("*.yaml")))
    return {m.department: (p, m) for p, m in found}


def default_mappings() -> dict[str, Mapping]:
    """The shipped mapping of each department, by department id."""
    return {department: mapping for department, (_, mapping) in shipped_mappings().items()}
