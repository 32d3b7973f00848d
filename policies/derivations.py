"""Which fields reveal another field's value, and how a role that sees that field masked is narrowed.

The table is data (derivations.csv beside the policy). `narrow` applies it to a compiled field
table (policies/grants.py, once per role set); `reconstructible` lists what a table would still
reveal (policies/check.py runs it over every role). Both work on tables, never on rows.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from policies.access import Access

DERIVATIONS_PATH = Path(__file__).parent / "derivations.csv"

Field = tuple[str, str]


class Treatment(StrEnum):
    """What a derived field becomes for a role that sees its source masked."""

    SAME = "same"  # the same value: masked too (both ways), denied if it cannot be masked
    COARSEN = "coarsen"  # shown through its own mask (a birth date's year), denied if it has none
    DENY = "deny"
    KEEP = "keep"  # reveals only what the source's mask shows


@dataclass(frozen=True, slots=True)
class Derivation:
    """`derived` reveals (part of) `source`'s value."""

    derived: Field
    source: Field
    treatment: Treatment
    why: str

    def edges(self) -> list[tuple[Field, Field]]:
        """(masked field, field to narrow) pairs: a SAME value narrows in both directions."""
        forward = [(self.source, self.derived)]
        return forward + [(self.derived, self.source)] if self.treatment is Treatment.SAME else forward


def _field(text: str) -> Field:
    type_name, _, name = text.strip().partition(".")
    if not type_name or not name:
        raise ValueError(f"推导表字段应为 Type.field / a derivation field must be Type.field: {text!r}")
    return type_name, name


def load_derivations(path: Path = DERIVATIONS_PATH) -> tuple[Derivation, ...]:
    """The derivation table of a CSV file (comments start with #)."""
    with path.open(encoding="utf-8") as f:
        rows = [r for r in csv.reader(line for line in f if line.strip() and not line.startswith("#"))]
    out = []
    for row in rows:
        if len(row) < 4:
            raise ValueError(f"推导表行须有四列 / a derivation row needs four columns: {row}")
        if row[2].strip() not in Treatment.__members__.values():
            raise ValueError(f"未知处理方式 / unknown treatment {row[2].strip()!r} (same, coarsen, deny, keep): {row}")
        out.append(Derivation(_field(row[0]), _field(row[1]), Treatment(row[2].strip()), ",".join(row[3:]).strip()))
    return tuple(out)


DERIVATIONS = load_derivations()


def ceiling(treatment: Treatment, field: Field, maskable: Collection[Field]) -> Access:
    """The widest access a derived field keeps when its source is masked."""
    if treatment is Treatment.KEEP:
        return Access.READ
    if treatment is Treatment.DENY:
        return Access.DENY
    return Access.MASK if field in maskable else Access.DENY


def narrow(table: dict[Field, Access], derivations: Iterable[Derivation], maskable: Collection[Field]) -> dict[Field, Access]:
    """A field table with every field derived from a masked one narrowed (until nothing changes)."""
    out = dict(table)
    edges = [(masked, derived, ceiling(d.treatment, derived, maskable)) for d in derivations for masked, derived in d.edges()]
    changed = True
    while changed:
        changed = False
        for masked, derived, cap in edges:
            if out.get(masked) is Access.MASK and out.get(derived, Access.DENY) > cap:
                if cap is Access.DENY:
                    del out[derived]
                else:
                    out[derived] = cap
                changed = True
    return out


def reconstructible(table: dict[Field, Access], derivations: Sequence[Derivation], maskable: Collection[Field]) -> list[str]:
    """What a field table reveals of the fields it masks (bilingual lines; empty when nothing)."""
    problems = []
    for d in derivations:
        for masked, derived in d.edges():
            cap = ceiling(d.treatment, derived, maskable)
            if table.get(masked) is Access.MASK and table.get(derived, Access.DENY) > cap:
                problems.append(
                    f"{'.'.join(derived)} 可还原被脱敏的 {'.'.join(masked)} / reveals masked {'.'.join(masked)} "
                    f"({table[derived].name.lower()}, at most {cap.name.lower()}: {d.why})"
                )
    return problems
