"""Who is asking: the authenticated caller, its department, roles and region, and the role vocabulary."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from hub.core.codes import LEAGUE, REGIONS
from hub.core.errors import BadUserInput

GLOBAL_ROLES = frozenset({"auditor", "analyst", "admin"})
# Held within a department: the subject `<department>.officer`; `integration` is a department system's
# account (pulls and acknowledges its change events).
DEPARTMENT_ROLES = frozenset({"officer", "integration"})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: department, roles and the region whose rows it may see."""

    subject: str
    department: str | None
    roles: tuple[str, ...]
    region: str = LEAGUE
    via: str = "jwt"
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def policy_subjects(self) -> frozenset[str]:
        """The Casbin subjects: `auditor`, `analyst`, `admin`, or `<department>.<role>`."""
        return frozenset(r if r in GLOBAL_ROLES else f"{self.department}.{r}" for r in self.roles)

    @property
    def league_wide(self) -> bool:
        """Whether the principal sees every region."""
        return self.region == LEAGUE


def check_claims(department: Any, roles: Any, region: Any, departments: Collection[str]) -> None:
    """Refuse unknown departments, regions or roles, and anything not of their types (BAD_USER_INPUT, bilingual).

    A department is None or one of `departments` (the department table's ids); roles a non-empty flat list of known role names;
    the region a known region code (a string).
    """
    if department is not None and (not isinstance(department, str) or department not in departments):
        raise BadUserInput(f"未知部门 {department!r} / unknown department; known: {', '.join(departments)}")
    if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles):
        raise BadUserInput("角色须为非空的角色名列表 / roles must be a non-empty list of role names")
    unknown = [r for r in roles if r not in GLOBAL_ROLES | DEPARTMENT_ROLES]
    if unknown:
        raise BadUserInput(f"未知角色 {unknown!r} / unknown roles; known: {', '.join(sorted(GLOBAL_ROLES | DEPARTMENT_ROLES))}")
    if not isinstance(region, str) or region not in REGIONS:
        raise BadUserInput(f"未知行政区划 {region!r} / unknown region; known: {', '.join(REGIONS)}")
    if department is None and not set(roles) <= GLOBAL_ROLES:
        raise BadUserInput("部门角色需要指定部门 / a department role needs a department")
