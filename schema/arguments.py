"""What each argument of a root field or mutation names: the one declaration of arguments.

Every argument of the root `Query` and `Mutation` types is declared here, by its GraphQL name:
either the kind of thing it names — an institution, a person, a region, an alert, a freeze,
federation entity representations, or something that spans the whole league — or `NOTHING`
(paging, value filters, notes, choices). `schema/row_scope.py` checks every named thing against
the caller's row scope before a resolver runs; `tests/security/test_scope_arguments.py` fails
for any root argument declared nowhere, so a field added later cannot forget its arguments.

An argument name with one meaning wherever it appears is declared once in `BY_NAME` (a new
field taking `idNumber` is scoped by default); a name whose meaning depends on the field (`id`,
`code`, `subject`) is declared per field in `BY_FIELD`, which wins. `Argument` is a record so
that other per-argument facts (say, the `Type.field` a filter reads, for read rights) can be
declared in the same place.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Names(StrEnum):
    """The kind of thing an argument's value names."""

    INSTITUTION = "institution"  # a canonical institution code (USCC or crosswalk code)
    PERSON = "person"  # a resident ID number
    REGION = "region"  # a division code
    ALERT = "alert"  # an alert id (or a list of them)
    FREEZE = "freeze"  # a freeze id
    ENTITIES = "entities"  # federation representations: Institution {code}, Person {idNumber}
    LEAGUE = "league"  # something in force for the whole league (a policy rule's subject)
    NOTHING = "nothing"  # names nothing row scope applies to


@dataclass(frozen=True, slots=True)
class Argument:
    """What one argument is declared to be."""

    names: Names


INSTITUTION, PERSON, REGION = Argument(Names.INSTITUTION), Argument(Names.PERSON), Argument(Names.REGION)
ALERT, FREEZE, NOTHING = Argument(Names.ALERT), Argument(Names.FREEZE), Argument(Names.NOTHING)

BY_NAME: dict[str, Argument] = {
    "institutionCode": INSTITUTION,
    "idNumber": PERSON,
    "regionCode": REGION,
    "alertIds": ALERT,
    "representations": Argument(Names.ENTITIES),
    **dict.fromkeys(
        ("first", "after", "last", "note", "reason", "document", "types", "quotaType", "name", "includeLeft", "rule",
         "status", "severity", "month", "by", "action", "hiring", "payroll", "wait", "referenceMonth", "until",
         "actor", "object", "idempotencyKey"),
        NOTHING,
    ),
}

BY_FIELD: dict[tuple[str, str, str], Argument] = {
    ("Query", "institution", "code"): INSTITUTION,
    ("Query", "alert", "id"): ALERT,
    **{("Mutation", m, "id"): ALERT for m in ("acknowledgeAlert", "startRectifyingAlert", "resolveAlert", "dismissAlert")},
    **{("Mutation", m, "id"): FREEZE for m in ("confirmFreeze", "rejectFreeze", "unfreezeInstitution")},
    ("Query", "policyRules", "subject"): NOTHING,  # reading the rules in force
    ("Mutation", "addPolicyRule", "subject"): Argument(Names.LEAGUE),  # a rule binds the role league-wide
    ("Mutation", "removePolicyRule", "subject"): Argument(Names.LEAGUE),
}


def declared(type_name: str, field: str, argument: str) -> Argument | None:
    """The declaration of a root field's argument (GraphQL names), or None when it has none."""
    return BY_FIELD.get((type_name, field, argument)) or BY_NAME.get(argument)
