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
    capabilities: [read, stream, aggregate]   # optional: what the hub may do here
    entities:
      payee:
        table: GZ_RY
        columns:
          payee_code: RYBM
          id_number: {column: SFZH, normalize: id_number}
          sex: {column: XB, values: {"1": MALE, "0": FEMALE}}
        write:                       # optional: completed applications may change this entity
          ids: {payee_code: "9#######"}  # generated for inserted rows (adapters/write.py)

An entity with `write` (`write: true`, or a block with `ids`) takes changes (hub.core.changes) back into
its table: canonical values go back through the inverted value maps (the first legacy spelling listed
for a canonical value is the one written) and the converters' `store`. Only the entity's own table is
written, never a joined one. A writable entity whose mapping cannot be inverted is refused here.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any, Literal

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


class WriteSpec(BaseModel):
    """How changes are written back to an entity's table.

    `ids`: field -> template of the value an inserted row gets when the change does not carry it,
    derived from the change's (application_id, seq) so the hub knows it without reading back: each
    `#` is a digit, anything else is kept (`R9########`); `uuid` is a UUID (version 5).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    ids: dict[str, str] = Field(default_factory=dict)


class EntitySpec(BaseModel):
    """One canonical entity read from one legacy table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str
    join: JoinSpec | None = None
    scope: str | None = None  # the field holding the department's unit code, for row scope
    order: list[str] = Field(default_factory=list)  # how a key's records are listed: fields unique per key
    columns: dict[str, ColumnSpec]
    write: WriteSpec | None = None  # writable: completed applications change it (adapters/write.py)

    @field_validator("columns", mode="before")
    @classmethod
    def _shorthand(cls, value: dict[str, Any]) -> dict[str, Any]:
        return {k: {"column": v} if isinstance(v, str) else v for k, v in value.items()}

    @field_validator("write", mode="before")
    @classmethod
    def _write_flag(cls, value: Any) -> Any:
        if value is True:
            return {}
        return None if value is False else value

    def writable_fields(self) -> dict[str, ColumnSpec]:
        """The fields written back: those in the entity's own table (joined columns are read only)."""
        return {f: c for f, c in self.columns.items() if c.table is None}


def write_problems(entity: str, spec: EntitySpec, record: type) -> list[str]:
    """Why a writable entity's mapping cannot be inverted (bilingual), empty when it can."""
    problems: list[str] = []
    own = spec.writable_fields()
    by_column: dict[str, str] = {}
    for field, col in own.items():
        if col.values is None and CONVERTERS[col.convert].store is None:
            problems.append(f"{entity}.{field}: 转换器 {col.convert} 不可逆 / converter {col.convert!r} cannot be inverted")
        if col.values is not None and not all(v is None or isinstance(v, str | bool | int) for v in col.values.values()):
            problems.append(f"{entity}.{field}: 代码表须映射到单一值 / the value map must map to plain values")
        other = by_column.setdefault(col.name.upper(), field)
        if other != field:
            problems.append(f"{entity}: {other} 与 {field} 同写列 {col.name} / {other} and {field} write one column {col.name}")
    required = [f.name for f in dataclasses.fields(record) if f.default is dataclasses.MISSING]
    problems += [f"{entity}.{f}: 必填字段来自关联表，无法插入 / a required field read through the join cannot be inserted"
                 for f in required if f not in own]
    for field, template in (spec.write.ids if spec.write else {}).items():
        if field not in own:
            problems.append(f"{entity}.{field}: 生成编号的字段须为本表列 / a generated id must be a column of the entity's own table")
        elif template != "uuid" and "#" not in template:
            problems.append(f"{entity}.{field}: 编号模板 {template!r} 须含 # 或为 uuid / id template needs '#' digits or 'uuid'")
    return problems


class Mapping(BaseModel):
    """A department's mapping file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    department: str
    title: str  # '中文 / English'
    trust: int = 100  # identity fields (name, birth date, sex) are taken from the lowest rank first
    adapter: str = "sql"
    # What the department lets the hub do with its database, of what the adapter can (None: all of it).
    # A department that does not want grouped statements run on its server leaves out `aggregate`;
    # the hub then refuses to start if a part of it needs them (statistics, the cross-check).
    capabilities: list[Literal["read", "stream", "aggregate", "write"]] | None = None
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
            problems = write_problems(entity, spec, record) if spec.write is not None else []
            if problems:
                raise ValueError(f"可写实体 {entity} 的映射不可逆 / writable entity {entity!r} cannot be written back: "
                                 + "; ".join(problems))
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
