"""Arguments that filter on a field: filtering needs the same right as reading that field.

A role that sees a name masked must not confirm a name by filtering on it (`people(name: "…")`
answering one row). Each such argument names the field it filters on; the policy rule
(schema/policy.py) refuses the argument unless the role reads that field whole. A test walks every
argument of the schema and fails for one named like a masked or derived field that is not listed.
"""

from __future__ import annotations

Field = tuple[str, str]

# (type, field, argument) -> the field whose value the argument matches
FILTERS: dict[tuple[str, str, str], Field] = {
    ("Query", "person", "idNumber"): ("Person", "idNumber"),
    ("Query", "people", "name"): ("Person", "name"),
    ("Query", "institutions", "name"): ("Institution", "name"),
    ("Query", "_entities", "representations"): ("Person", "idNumber"),  # Person representations carry idNumber
    ("Query", "alerts", "idNumber"): ("Alert", "idNumber"),
    ("Query", "precheck", "idNumber"): ("Person", "idNumber"),
    ("Query", "retirementDeferrals", "idNumber"): ("RetirementDeferral", "idNumber"),
    ("Mutation", "recordRetirementDeferral", "idNumber"): ("RetirementDeferral", "idNumber"),
}

BY_FIELD: dict[Field, dict[str, Field]] = {}
for (_type, _field, _arg), _target in FILTERS.items():
    BY_FIELD.setdefault((_type, _field), {})[_arg] = _target
