"""Policies compiled per role set: a field table (read / mask / deny) looked up, never enforced, per value.

Casbin decides once per (subject, Type.field) when policies load; requests only read the table.
A `mask` line narrows a `read`; Mutation fields need `call`; structural types (connections,
edges, page info) carry no data of their own and are always readable. A role set that sees a field
masked has every field revealing it narrowed as the derivation table says (policies/derivations.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import casbin

from hub.core.stats import AGGREGATE_OBJECTS
from policies.access import Access
from policies.derivations import DERIVATIONS, Derivation, narrow

# Casbin evaluates matchers with ast.parse, which CPython 3.11 does not make safe across threads;
# several apps in one process (tests, embedded use) compile under this one lock.
_CASBIN = threading.Lock()

POLICY_DIR = Path(__file__).parent
MODEL_PATH = POLICY_DIR / "model.conf"
POLICY_PATH = POLICY_DIR / "policy.csv"


def is_structural(type_name: str) -> bool:
    """Connection plumbing and federation internals that carry no data of their own."""
    return type_name in ("PageInfo", "_Service") or type_name.endswith(("Connection", "Edge"))


@dataclass(frozen=True, slots=True)
class Grants:
    """The compiled decisions for one set of subjects."""

    subjects: frozenset[str]
    fields: dict[tuple[str, str], Access]
    masked: frozenset[tuple[str, str]]
    # `aggregate` grants: the dimensions and measures (`Dimension.SEX`, `Measure.HEADCOUNT`) the role may
    # group or count by without reading their field (hub/core/stats.py); answers using them are restricted.
    aggregates: frozenset[str] = frozenset()
    # SHA-256 of the role set and every decision: what caches of per-role work are keyed by (two role
    # sets never share a digest; a policy change that alters a decision makes a new one).
    digest: bytes = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        text = repr((sorted(self.subjects), sorted((k, v.value) for k, v in self.fields.items()), sorted(self.masked),
                     sorted(self.aggregates)))
        object.__setattr__(self, "digest", hashlib.sha256(text.encode()).digest())

    def access(self, type_name: str, field: str) -> Access:
        """read / mask / deny for one field."""
        if is_structural(type_name):
            return Access.READ
        return self.fields.get((type_name, field), Access.DENY)

    def may_aggregate(self, obj: str) -> bool:
        """Whether the role holds the `aggregate` action on a dimension or measure object."""
        return obj in self.aggregates


def new_enforcer(policy: Path | object = POLICY_PATH) -> casbin.Enforcer:
    """A Casbin enforcer over the model file and a policy file (or adapter)."""
    return casbin.Enforcer(str(MODEL_PATH), str(policy) if isinstance(policy, Path) else policy)


class PolicyBook:
    """An enforcer and the grants compiled from it for every role set asked so far."""

    def __init__(
        self,
        enforcer: casbin.Enforcer,
        fields: Iterable[tuple[str, str]],
        maskable: Iterable[tuple[str, str]] = (),
        mutation_type: str = "Mutation",
        derivations: Iterable[Derivation] = DERIVATIONS,
    ) -> None:
        self.enforcer = enforcer
        self.fields = tuple(fields)
        self.maskable = frozenset(maskable)
        self.derivations = tuple(derivations)
        self.mutation_type = mutation_type
        self._by_subject: dict[str, dict[tuple[str, str], Access]] = {}
        self._aggregates: dict[str, frozenset[str]] = {}
        self._by_set: dict[frozenset[str], Grants] = {}
        self._actions: dict[tuple[frozenset[str], str, str], bool] = {}
        self._lock = threading.Lock()

    def _compile_subject(self, subject: str) -> dict[tuple[str, str], Access]:
        with _CASBIN:
            return self._decide_all(subject)

    def _decide_all(self, subject: str) -> dict[tuple[str, str], Access]:
        table: dict[tuple[str, str], Access] = {}
        for type_name, field in self.fields:
            obj = f"{type_name}.{field}"
            if type_name == self.mutation_type:
                allowed = Access.READ if self.enforcer.enforce(subject, obj, "call") else Access.DENY
            elif self.enforcer.enforce(subject, obj, "mask"):
                # A field that cannot be masked is denied rather than shown whole.
                allowed = Access.MASK if (type_name, field) in self.maskable else Access.DENY
            elif self.enforcer.enforce(subject, obj, "read"):
                allowed = Access.READ
            else:
                continue
            if allowed:
                table[(type_name, field)] = allowed
        return table

    def grants(self, subjects: Iterable[str]) -> Grants:
        """The grants of a role set: per field, the widest access any of its subjects has."""
        key = frozenset(subjects)
        found = self._by_set.get(key)
        if found is not None:
            return found
        with self._lock:
            merged: dict[tuple[str, str], Access] = {}
            for subject in sorted(key):
                for k, v in self._subject_table(subject).items():
                    merged[k] = max(merged.get(k, Access.DENY), v)
            merged = narrow(merged, self.derivations, self.maskable)
            masked = frozenset(k for k, v in merged.items() if v is Access.MASK)
            aggregates = frozenset().union(*(self._subject_aggregates(s) for s in key))
            found = self._by_set[key] = Grants(key, merged, masked, aggregates)
        return found

    def policy_access(self, subject: str) -> dict[tuple[str, str], Access]:
        """A subject's field table as its policy lines grant it, before the derivation table narrows it."""
        with self._lock:
            return self._subject_table(subject)

    def _subject_table(self, subject: str) -> dict[tuple[str, str], Access]:
        """(Under the lock.) A subject's policy table, compiled once."""
        found = self._by_subject.get(subject)
        if found is None:
            found = self._by_subject[subject] = self._compile_subject(subject)
        return found

    def _subject_aggregates(self, subject: str) -> frozenset[str]:
        """(Under the lock.) The dimension and measure objects a subject may aggregate, compiled once."""
        found = self._aggregates.get(subject)
        if found is None:
            with _CASBIN:
                found = frozenset(o for o in AGGREGATE_OBJECTS if self.enforcer.enforce(subject, o, "aggregate"))
            self._aggregates[subject] = found
        return found

    def explain(self, subject: str, type_name: str, field: str) -> tuple[Access, list[str]]:
        """The access a subject's policy lines give a field and the line that decided it (before derivations)."""
        obj = f"{type_name}.{field}"
        actions = ("call",) if type_name == self.mutation_type else ("mask", "read")
        for action in actions:
            with _CASBIN:
                ok, rules = self.enforcer.enforce_ex(subject, obj, action)
            if ok:
                return (Access.MASK if action == "mask" else Access.READ), [str(r) for r in rules]
        return Access.DENY, []

    def clear(self) -> None:
        """Drop every compiled table (after the enforcer's policy changed)."""
        with self._lock:
            self._by_subject = {}
            self._aggregates = {}
            self._by_set = {}
            self._actions = {}

    def allows(self, subjects: Iterable[str], obj: str, action: str) -> bool:
        """Whether one of the subjects holds `action` on `obj` (the workflow's `submit:<KIND>` and
        `approve:<KIND>:<step>` on `Application`); decided once per role set."""
        key = (frozenset(subjects), obj, action)
        found = self._actions.get(key)
        if found is None:
            with _CASBIN:
                found = any(self.enforcer.enforce(s, obj, action) for s in sorted(key[0]))
            self._actions[key] = found
        return found

    def precompile(self) -> None:
        """Compile every subject the policy names, so no request pays for it."""
        for subject in self.enforcer.get_all_subjects():
            self.grants([subject])
