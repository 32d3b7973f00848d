"""Policies compiled per role set: a field table (read / mask / deny) looked up, never enforced, per value.

Casbin decides once per (subject, Type.field) when policies load; requests only read the table.
A `mask` line narrows a `read`; Mutation fields need `call`; any other action (`freeze:HIRING` on
`Mutation.freezeInstitution`, `approve:<step>`) is compiled per role set into `Grants.actions`,
which resolvers ask with `Grants.may`; structural types (connections,
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
FIELD_ACTIONS = frozenset({"read", "mask", "call"})  # what the field table holds; other actions go to Grants.actions


def is_structural(type_name: str) -> bool:
    """Connection plumbing and federation internals that carry no data of their own."""
    return type_name in ("PageInfo", "_Service") or type_name.endswith(("Connection", "Edge"))


@dataclass(frozen=True, slots=True)
class Grants:
    """The compiled decisions for one set of subjects."""

    subjects: frozenset[str]
    fields: dict[tuple[str, str], Access]
    masked: frozenset[tuple[str, str]]
    # (object, action) pairs beyond read/mask/call the role set holds: `aggregate` on a dimension or
    # measure (`Dimension.SEX`: group or count by it without reading its field, hub/core/stats.py; answers
    # using it are restricted), `freeze:<KIND>` on Mutation.freezeInstitution, the workflow's
    # `submit:<KIND>` and `approve:<KIND>:<step>` on Application.
    actions: frozenset[tuple[str, str]] = frozenset()
    # SHA-256 of the role set and every decision: what caches of per-role work are keyed by (two role
    # sets never share a digest; a policy change that alters a decision makes a new one).
    digest: bytes = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        text = repr((sorted(self.subjects), sorted((k, v.value) for k, v in self.fields.items()), sorted(self.masked),
                     sorted(self.actions)))
        object.__setattr__(self, "digest", hashlib.sha256(text.encode()).digest())

    def access(self, type_name: str, field: str) -> Access:
        """read / mask / deny for one field."""
        if is_structural(type_name):
            return Access.READ
        return self.fields.get((type_name, field), Access.DENY)

    def may(self, obj: str, action: str) -> bool:
        """Whether the role set may take an action beyond read/mask/call on an object (`freeze:PAYROLL`)."""
        return (obj, action) in self.actions

    def may_aggregate(self, obj: str) -> bool:
        """Whether the role holds the `aggregate` action on a dimension or measure object."""
        return (obj, "aggregate") in self.actions


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
        self._subject_actions_: dict[str, frozenset[tuple[str, str]]] = {}
        self._by_set: dict[frozenset[str], Grants] = {}
        self._lock = threading.Lock()

    def _compile_subject(self, subject: str) -> dict[tuple[str, str], Access]:
        with _CASBIN:
            return self._decide_all(subject)

    def _subject_actions(self, subject: str) -> frozenset[tuple[str, str]]:
        """(Under the lock.) The (object, action) pairs beyond read/mask/call the subject may take, compiled once."""
        found = self._subject_actions_.get(subject)
        if found is None:
            with _CASBIN:  # the pairs the policy names, and aggregate on every dimension and measure (wildcards)
                wanted = {(p[1], p[2]) for p in self.enforcer.get_policy() if p[2] not in FIELD_ACTIONS}
                wanted |= {(o, "aggregate") for o in AGGREGATE_OBJECTS}
                found = frozenset(pair for pair in wanted if self.enforcer.enforce(subject, *pair))
            self._subject_actions_[subject] = found
        return found

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
            actions: set[tuple[str, str]] = set()
            for subject in sorted(key):
                for k, v in self._subject_table(subject).items():
                    merged[k] = max(merged.get(k, Access.DENY), v)
                actions |= self._subject_actions(subject)
            merged = narrow(merged, self.derivations, self.maskable)
            masked = frozenset(k for k, v in merged.items() if v is Access.MASK)
            found = self._by_set[key] = Grants(key, merged, masked, frozenset(actions))
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
            self._subject_actions_ = {}
            self._by_set = {}

    def allows(self, subjects: Iterable[str], obj: str, action: str) -> bool:
        """Whether one of the subjects holds `action` on `obj` (the workflow's `submit:<KIND>` and
        `approve:<KIND>:<step>` on `Application`); decided once per role set."""
        return self.grants(subjects).may(obj, action)

    def precompile(self) -> None:
        """Compile every subject the policy names, so no request pays for it."""
        for subject in self.enforcer.get_all_subjects():
            self.grants([subject])
