"""`hub policy check`: every object names schema fields, every role is used, no rule is shadowed, and
no role can reconstruct a field it sees masked from another field it may read (derivations.csv)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

import casbin
from casbin.util import key_match

from adapters.mapping import shipped_mappings
from hub.core.principal import GLOBAL_ROLES
from hub.core.stats import AGGREGATE_OBJECTS
from policies.derivations import DERIVATIONS, Derivation, reconstructible
from policies.grants import PolicyBook


def _covers(pattern: str, obj: str) -> bool:
    return key_match(obj.rstrip("*"), pattern) if obj.endswith("*") else key_match(obj, pattern)


def check_policy(
    enforcer: casbin.Enforcer,
    fields: Iterable[tuple[str, str]],
    maskable: Iterable[tuple[str, str]],
    derivations: Sequence[Derivation] = DERIVATIONS,
    departments: Collection[str] | None = None,
) -> list[str]:
    """Problems found in the loaded policy (bilingual lines); empty when it is sound.

    `departments` are the ids a `<department>.<role>` subject may name (the department table;
    the shipped mappings' departments when not given).
    """
    departments = set(shipped_mappings()) if departments is None else set(departments)
    fields, maskable = list(fields), list(maskable)
    known = {f"{t}.{f}" for t, f in fields}
    maskable_names = {f"{t}.{f}" for t, f in maskable}
    policy = [tuple(p[:3]) for p in enforcer.get_policy()]
    grouping = [tuple(g[:2]) for g in enforcer.get_grouping_policy()]
    problems = []
    for sub, obj, act in policy:
        if act.startswith(("approve:", "submit:")):
            continue
        if act == "aggregate":
            if not any(_covers(obj, name) for name in AGGREGATE_OBJECTS):
                problems.append(f"无此维度或指标 / no dimension or measure matches: {sub}, {obj}, {act}")
            continue
        if not any(_covers(obj, name) for name in known):
            problems.append(f"对象不存在 / no schema field matches: {sub}, {obj}, {act}")
        if act == "mask" and "*" not in obj and obj not in maskable_names:
            problems.append(f"字段不可脱敏，将被拒绝 / field cannot be masked and will be denied: {sub}, {obj}")
    inherited = {role for _, role in grouping}
    for sub in {p[0] for p in policy} | {g[0] for g in grouping}:
        is_principal = sub in GLOBAL_ROLES or sub.split(".", 1)[0] in departments
        if not is_principal and sub not in inherited:
            problems.append(f"角色未被使用 / role is never assigned: {sub}")
    for role in inherited - {p[0] for p in policy}:
        problems.append(f"角色没有任何规则 / role has no rules: {role}")
    for sub, obj, act in policy:
        roles = {sub, *enforcer.get_implicit_roles_for_user(sub)}
        for other in policy:
            if other == (sub, obj, act) or other[2] != act or other[0] not in roles:
                continue
            if other[1] != obj and _covers(other[1], obj):
                problems.append(f"规则被覆盖 / rule shadowed by ({', '.join(other)}): {sub}, {obj}, {act}")
                break
    return problems + check_derivations(PolicyBook(enforcer, fields, maskable, derivations=derivations), known)


def check_derivations(book: PolicyBook, known: set[str]) -> list[str]:
    """Per role: a derivation naming no schema field, a compiled table that still reveals a masked
    field, and a policy line granting more than the derivation table lets the role have."""
    problems = [
        f"推导表字段不存在 / derivation names no schema field: {'.'.join(f)}"
        for d in book.derivations for f in (d.derived, d.source) if ".".join(f) not in known
    ]
    explicit = {(sub, obj): act for sub, obj, act, *_ in book.enforcer.get_policy() if "*" not in obj}
    for subject in sorted(book.enforcer.get_all_subjects()):
        grants = book.grants([subject])
        problems += [f"{subject}: {p}" for p in reconstructible(grants.fields, book.derivations, book.maskable)]
        for (type_name, field), wanted in book.policy_access(subject).items():
            act = explicit.get((subject, f"{type_name}.{field}"))
            if act in ("read", "mask") and grants.access(type_name, field) < wanted:
                problems.append(
                    f"规则被推导表收窄 / rule narrowed by the derivation table: {subject}, {type_name}.{field}, {act} "
                    f"-> {grants.access(type_name, field).name.lower()}"
                )
    return problems
