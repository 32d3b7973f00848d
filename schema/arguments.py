"""What each argument of a root field or mutation names: the one declaration of arguments.

Every argument of the root `Query` and `Mutation` types is declared here, by its GraphQL name:
either the kind of thing it names — an institution, a person, a region, an alert, a freeze,
federation entity representations, something that spans the whole league, a department's own feed — or `NOTHING`
(paging, value filters, notes, choices). `schema/execution/executor/row_scope.py` checks every named thing against
the caller's row scope before a resolver runs; `tests/security/test_scope_arguments.py` fails
for any root argument declared nowhere, so a field added later cannot forget its arguments.

An argument name with one meaning wherever it appears is declared once in `BY_NAME` (a new
field taking `idNumber` is scoped by default); a name whose meaning depends on the field (`id`,
`code`, `subject`) is declared per field in `BY_FIELD`, which wins.

An argument that filters on a field also names that field (`reads`): filtering needs the same
right as reading it whole (a role that sees names masked must not confirm a name by filtering on
it), which the policy rule (schema/execution/extensions/policy.py) checks for arguments of any type's fields;
`tests/security/test_masking.py` fails for an argument named like a masked or derived field that
declares no `reads`.
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
    APPLICATION = "application"  # a workflow application id
    APPLICATION_INPUT = "application_input"  # a workflow application's input: the institution it names
    ENTITIES = "entities"  # federation representations: Institution {code}, Person {idNumber}
    LEAGUE = "league"  # something in force for the whole league (a policy rule's subject)
    DEPARTMENT = "department"  # a department's own feed (change events): its own principals, at league scope
    NOTHING = "nothing"  # names nothing row scope applies to


@dataclass(frozen=True, slots=True)
class Argument:
    """What one argument is declared to be."""

    names: Names
    reads: tuple[str, str] | None = None  # the field whose value the argument matches, if it filters on one


PERSON_ID = ("Person", "idNumber")
INSTITUTION, PERSON, REGION = Argument(Names.INSTITUTION), Argument(Names.PERSON, PERSON_ID), Argument(Names.REGION)
ALERT, FREEZE, NOTHING = Argument(Names.ALERT), Argument(Names.FREEZE), Argument(Names.NOTHING)

BY_NAME: dict[str, Argument] = {
    "institutionCode": INSTITUTION,
    "institutionCodes": INSTITUTION,  # a list: each is checked
    "idNumber": PERSON,
    "regionCode": REGION,
    "alertIds": ALERT,
    "representations": Argument(Names.ENTITIES, PERSON_ID),  # Person representations carry idNumber
    "department": Argument(Names.DEPARTMENT),
    **dict.fromkeys(
        ("first", "after", "last", "note", "reason", "document", "types", "quotaType", "name", "includeLeft", "rule",
         "status", "severity", "month", "by", "action", "hiring", "payroll", "kinds", "wait", "referenceMonth", "until",
         "actor", "object", "idempotencyKey", "upTo", "kind", "decision", "comment", "state", "submittedFrom",
         "submittedTo", "years", "fromYear", "measure", "fromMonth", "toMonth", "report", "variables", "description",
         "measures", "submittable", "targetQuotas", "targetPosts", "year"),
        NOTHING,
    ),
}

BY_FIELD: dict[tuple[str, str, str], Argument] = {
    ("Query", "institution", "code"): INSTITUTION,
    ("Query", "alert", "id"): ALERT,
    **{("Mutation", m, "id"): ALERT for m in ("acknowledgeAlert", "startRectifyingAlert", "resolveAlert", "dismissAlert")},
    **{("Mutation", m, "id"): FREEZE for m in ("confirmFreeze", "rejectFreeze", "unfreezeInstitution")},
    ("Query", "application", "id"): Argument(Names.APPLICATION),
    **{("Mutation", m, "id"): Argument(Names.APPLICATION)
       for m in ("decideApplication", "withdrawApplication", "resubmitApplication")},
    **{("Mutation", m, "input"): Argument(Names.APPLICATION_INPUT) for m in ("submitApplication", "resubmitApplication")},
    ("Query", "people", "name"): Argument(Names.NOTHING, ("Person", "name")),
    ("Query", "institutions", "name"): Argument(Names.NOTHING, ("Institution", "name")),
    ("Query", "alerts", "idNumber"): Argument(Names.PERSON, ("Alert", "idNumber")),
    ("Query", "retirementDeferrals", "idNumber"): Argument(Names.PERSON, ("RetirementDeferral", "idNumber")),
    ("Mutation", "recordRetirementDeferral", "idNumber"): Argument(Names.PERSON, ("RetirementDeferral", "idNumber")),
    ("Query", "policyRules", "subject"): NOTHING,
    # Narrows within the row scope the statistic always carries (resolvers/stats.py); it never names
    # anything outside it, and its dimensions are checked like `by` (read, or aggregate-only).
    ("Query", "stats", "filter"): NOTHING,  # reading the rules in force
    ("Mutation", "addPolicyRule", "subject"): Argument(Names.LEAGUE),  # a rule binds the role league-wide
    ("Mutation", "removePolicyRule", "subject"): Argument(Names.LEAGUE),
}


def declared(type_name: str, field: str, argument: str) -> Argument | None:
    """The declaration of a field's argument (GraphQL names), or None when it has none."""
    return BY_FIELD.get((type_name, field, argument)) or BY_NAME.get(argument)


def filtered_field(type_name: str, field: str, argument: str) -> tuple[str, str] | None:
    """The field an argument filters on (reading it whole is needed to filter on it), if any."""
    found = declared(type_name, field, argument)
    return found.reads if found else None
