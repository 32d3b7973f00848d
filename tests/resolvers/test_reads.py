"""What fields declare they read (resolvers/batch.py) names real entities and record fields."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from graphql import GraphQLObjectType

from hub.core.records import RECORDS
from resolvers.batch import field_meta, records_of
from schema import build_schema


def test_declared_reads_name_record_fields(tmp_path: Path) -> None:
    schema = build_schema()
    record_fields = {entity: {f.name for f in dataclasses.fields(cls)} for entity, cls in RECORDS.items()}
    checked = 0
    for gql in schema._schema.type_map.values():
        if not isinstance(gql, GraphQLObjectType) or gql.name.startswith("__"):
            continue
        origin = getattr((gql.extensions or {}).get("strawberry-definition"), "origin", None)
        own = records_of(origin)
        assert own is None or own in RECORDS, gql.name
        for name, field in gql.fields.items():
            definition = (field.extensions or {}).get("strawberry-definition")
            if definition is None:
                continue
            meta = field_meta(definition)
            if own is not None and definition.base_resolver is None and meta is None:
                assert definition.python_name in record_fields[own], f"{gql.name}.{name}"
                checked += 1
            if meta is None or meta.reads is None:
                continue
            declared = [(own, meta.reads.own)] if meta.reads.own else []
            declared += [*meta.reads.entities.items(), *((n.entity, f) for n, f in meta.reads.via.items())]
            for target, names in declared:
                assert target in RECORDS, f"{gql.name}.{name} reads unknown entity {target}"
                assert set(names) <= record_fields[target], f"{gql.name}.{name}: {set(names) - record_fields[target]}"
                checked += 1
    assert checked > 50  # the read schema's fields were seen
