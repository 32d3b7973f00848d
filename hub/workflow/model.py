"""Applications as stored: their states, history, the acting person, and the errors a precheck raises."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hub.core.codes import in_scope
from hub.core.errors import HubError


class State(StrEnum):
    """Where an application is."""

    SUBMITTED = "SUBMITTED"  # accepted, no step decided yet
    IN_REVIEW = "IN_REVIEW"  # some step approved, more to go
    RETURNED = "RETURNED"  # sent back for changes: the applicant resubmits or withdraws
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"
    COMPLETED = "COMPLETED"


LIVE = (State.SUBMITTED, State.IN_REVIEW, State.RETURNED)  # still holding what it reserved
UNDER_REVIEW = (State.SUBMITTED, State.IN_REVIEW)  # a step is waiting for a decision


class Decision(StrEnum):
    """What a reviewer decides at a step."""

    APPROVE = "APPROVE"
    RETURN = "RETURN"
    REJECT = "REJECT"


@dataclass(frozen=True, slots=True)
class Event:
    """One transition in an application's history."""

    step: str | None
    decision: str  # SUBMIT / RESUBMIT / WITHDRAW or a Decision
    from_state: str | None
    to_state: str
    actor: str
    department: str | None
    at: dt.datetime
    comment: str | None
    waited_seconds: float | None


@dataclass(frozen=True, slots=True)
class Application:
    """One application as stored."""

    id: str
    kind: str
    state: State
    institution_code: str
    region_code: str | None
    id_number: str | None
    input: dict[str, Any]
    stage: int
    current_steps: tuple[str, ...]
    precheck: dict[str, Any]
    version: int
    submitted_by: str
    submitted_department: str | None
    submitted_at: dt.datetime
    stage_since: dt.datetime
    updated_at: dt.datetime
    completed_at: dt.datetime | None
    history: tuple[Event, ...] = ()


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: subject, department, region, and which Casbin actions (`submit:…`, `approve:…`) they hold."""

    subject: str
    department: str | None
    region: str
    may: Callable[[str], bool] = field(compare=False)

    def covers(self, region_code: str | None) -> bool:
        """Whether a division lies in the actor's region."""
        return in_scope(region_code, self.region)


@dataclass(frozen=True, slots=True)
class Reason:
    """A precheck item: a code and a bilingual message."""

    code: str
    message: str


class Blocked(HubError):
    """The precheck blocks the application; the code is the first blocker's, all blockers are in `blockers`."""

    code = "PRECHECK_BLOCKED"

    def __init__(self, blockers: Sequence[Reason]) -> None:
        super().__init__("；".join(b.message.split(" / ")[0] for b in blockers) + " / "
                         + "; ".join(b.message.partition(" / ")[2] or b.message for b in blockers),
                         blockers=[{"code": b.code, "message": b.message} for b in blockers])
        self.extensions["code"] = blockers[0].code
        self.blockers = list(blockers)
