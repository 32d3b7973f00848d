"""Masked values: which fields can be masked, how, and the resolver wrapper that masks per role."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema, default_field_resolver

_STARS = ["*" * n for n in range(65)]  # masks run per value: no string multiplication for usual lengths


def mask_id_number(value: str) -> str:
    """Keep the first 6 and last 4 characters: 152921********123X."""
    n = len(value)
    if 10 < n <= 74:
        return value[:6] + _STARS[n - 10] + value[-4:]
    return value[:6] + "*" * (n - 10) + value[-4:] if n > 10 else "*" * n


def mask_name(value: str) -> str:
    """Keep the first character: 张*."""
    n = len(value)
    return value[:1] + (_STARS[n - 1] if 0 < n <= 65 else "*" * (n - 1))


def mask_tail(value: str) -> str:
    """Keep the last 4 characters (phone, bank account, insured number)."""
    return "*" * max(len(value) - 4, 0) + value[-4:]


def year_only(value: str) -> str:
    """A date at any precision coarsened to its year: 1978-12-14 -> 1978."""
    return value[:4]


MASKERS: dict[str, Callable[[str], str]] = {
    "id_number": mask_id_number, "name": mask_name, "tail": mask_tail, "year": year_only,
}

# Fields that can be masked and how. A policy `mask` line on any other field denies it instead.
# The derivation table (policies/derivations.csv) masks some of them for roles that see another masked.
MASKABLE: dict[tuple[str, str], str] = {
    ("Person", "idNumber"): "id_number",
    ("Person", "name"): "name",
    ("RegistryEntry", "name"): "name",
    ("PersonnelRecord", "name"): "name",
    ("CadreRecord", "name"): "name",
    ("InsuranceRecord", "insuredNo"): "tail",
    ("Alert", "idNumber"): "id_number",
    ("RetirementDeferral", "idNumber"): "id_number",
    ("RegistryEntry", "birth"): "year",
    ("PersonnelRecord", "birth"): "year",
    ("CadreRecord", "birth"): "year",
}


def _masked(value: Any, masker: Callable[[str], str]) -> Any:
    if value is None:
        return None
    return masker(str(value))


def _wrap(resolve: Callable[..., Any], key: tuple[str, str], masker: Callable[[str], str]) -> Callable[..., Any]:
    async def resolve_async(root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        value = await resolve(root, info, **args)
        return _masked(value, masker) if key in info.context.grants.masked else value

    def resolve_sync(root: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        value = resolve(root, info, **args)
        if inspect.isawaitable(value):
            return _finish(value, info, key, masker)
        return _masked(value, masker) if key in info.context.grants.masked else value

    return resolve_async if inspect.iscoroutinefunction(resolve) else resolve_sync


async def _finish(value: Any, info: GraphQLResolveInfo, key: tuple[str, str], masker: Callable[[str], str]) -> Any:
    resolved = await value
    return _masked(resolved, masker) if key in info.context.grants.masked else resolved


def install_masking(schema: GraphQLSchema) -> None:
    """Wrap the resolver of every maskable field so roles with a `mask` grant see masked values."""
    for (type_name, field_name), kind in MASKABLE.items():
        gql_type = schema.type_map.get(type_name)
        if not isinstance(gql_type, GraphQLObjectType) or field_name not in gql_type.fields:
            raise KeyError(f"maskable field {type_name}.{field_name} is not in the schema")
        field = gql_type.fields[field_name]
        field.resolve = _wrap(field.resolve or default_field_resolver, (type_name, field_name), MASKERS[kind])
