"""Application kinds as data: each kind is one YAML file under hub/workflow/kinds/, validated here.

A kind declares its input fields (and how each is checked), its review stages (a stage is a set
of steps that run in parallel; each step is acted on by the department that keeps an entity, under
a Casbin action such as `approve:ONBOARDING:qualification`), the precheck it runs at submission and
again at the final step, the freeze kinds that block it, what it reserves while it is under
review, and its effects: templates of canonical `Change`s made when it completes. Departments are
never named: a step names the entity whose keeper acts, an effect the entity it changes. A new kind
is a new file plus policy lines; the engine has no code of its own per kind. A kind may instead declare
`routes` chosen by a choice field (`route_by`), each route a whole review of its own, or name a
`planner` (hub/workflow/planners.py) when its changes are a list no template can spell.

Templates: a string value starting with `$` is a reference, resolved when the application
completes — `$input.<field>`, `$institution.code|local_id|region_code` (the local id is the one of
the department the change goes to), `$person.<entity>.<field>` (the person's record in that entity
at the institution, read at completion), `$from.<entity>.<field>` (the same at the institution of the
`precheck.holds_slot_at` field: the one a transfer leaves), `$plan.<field>` (the reserved vacancy plan: `plan_id`,
`used_after`), `$new` (in an INSERT: an id the department's mapping generates for the new record),
`$new.<entity>.<field>` (a field of the record an earlier effect inserts), `$today`, `$month` (the
current month); `$$` starts a literal `$`. Anything else is a literal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hub.core import ids
from hub.core.changes import ChangeOp
from hub.core.codes import QuotaType
from hub.core.errors import BadUserInput
from hub.core.records import RECORDS

KINDS_DIR = Path(__file__).parent / "kinds"
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class FieldType(StrEnum):
    """How an input field is checked and normalized."""

    TEXT = "text"
    INT = "int"
    DATE = "date"  # ISO date
    MONTH = "month"  # YYYY-MM
    ID_NUMBER = "id_number"  # GB 11643, check digit verified (15 digits upgraded)
    QUOTA_TYPE = "quota_type"  # a canonical quota type code
    INSTITUTION = "institution"  # a canonical institution code (checked against the crosswalk by the engine)
    CHOICE = "choice"  # one of `choices`
    LIST = "list"  # a JSON list (of objects or codes), checked item by item by the kind's planner


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputField(_Strict):
    """One field of a kind's input."""

    type: FieldType
    required: bool = True
    title: str = ""  # 中文 / English
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


class Step(_Strict):
    """One review step: the keeper of `keeper` acts under `action`."""

    name: str
    keeper: str  # a canonical entity; the department that keeps it acts
    action: str  # the Casbin action, `approve:<KIND>:<step>`
    title: str = ""


class Effect(_Strict):
    """One canonical change the kind makes when completed (in the order declared)."""

    entity: str
    op: ChangeOp
    values: dict[str, Any] = Field(default_factory=dict)
    key: dict[str, Any] = Field(default_factory=dict)
    optional: bool = False  # skipped when a `$person` record it refers to does not exist (else completing fails)


class Precheck(_Strict):
    """The supervision precheck run at submission and at the final step."""

    action: str | None = None  # hub.supervision.precheck.Action; None: only freezes and the kind's own checks
    promote: tuple[str, ...] = ()  # precheck warnings that block this kind (e.g. PAST_RETIREMENT)
    person_exclusive: bool = False  # one live application of such a kind per person at a time
    holds_slot_at: str | None = None  # an institution input field: the person must hold an active slot there (NO_SLOT)
    holds_no_slot: bool = False  # the person must hold no active slot anywhere (ALREADY_IN_SLOT)


class Reserve(_Strict):
    """What an accepted application holds until it completes, is rejected or withdrawn."""

    slot: bool = False  # one vacant slot of (institution, quotaType)
    plan: bool = False  # one place of an approved vacancy plan of that quota type
    entering: str | None = None  # a date input field: the plan must be approved on or before it (the entry date)
    plan_places: str | None = None  # an int input field: a plan of that many places must fit the vacancy
    approved_floor: str | None = None  # an int input field: a new approved count, at least the occupied and held
    post: bool = False  # one leadership post of the input's `role` at `levelCode`, within the approved posts


    @property
    def counts(self) -> bool:
        """Whether the kind counts the vacancy of its quota type."""
        return bool(self.slot or self.plan or self.plan_places or self.approved_floor)


class Route(_Strict):
    """One route of a kind whose route the input chooses (`route_by`): its own review, checks and effects."""

    title: str = ""
    requires: tuple[str, ...] = ()  # input fields required on this route (optional at the kind's level)
    stages: tuple[tuple[Step, ...], ...]
    precheck: Precheck = Precheck()
    freezes: tuple[str, ...] = ()
    reserve: Reserve = Reserve()
    effects: tuple[Effect, ...] = ()


class Kind(_Strict):
    """An application kind."""

    kind: str
    title: str
    submit: str  # the Casbin action that lets a role submit it, `submit:<KIND>`
    fields: dict[str, InputField]
    stages: tuple[tuple[Step, ...], ...] = ()  # empty only for a routed kind (each route has its own)
    precheck: Precheck = Precheck()
    freezes: tuple[str, ...] = ()  # freeze kinds (hub.supervision.model.FreezeKind names) that block it
    reserve: Reserve = Reserve()
    effects: tuple[Effect, ...] = ()
    route_by: str | None = None  # a choice input field; each of its choices names a route in `routes`
    routes: dict[str, Route] = Field(default_factory=dict)
    planner: str | None = None  # a planner module (hub.workflow.planners) that validates the whole input,
    # reserves and makes the changes, for kinds whose changes are a list no template can spell (REORGANIZATION)

    @model_validator(mode="after")
    def _coherent(self) -> Kind:
        if self.routes or self.route_by:
            return self._routes_coherent()
        if "institutionCode" not in self.fields or self.fields["institutionCode"].type != FieldType.INSTITUTION:
            raise ValueError(f"{self.kind}: needs an institutionCode field of type institution")
        names = [s.name for stage in self.stages for s in stage]
        if not self.stages or any(not stage for stage in self.stages) or len(names) != len(set(names)):
            raise ValueError(f"{self.kind}: stages must be non-empty and step names unique")
        for step in (s for stage in self.stages for s in stage):
            if not step.action.startswith(f"approve:{self.kind}:"):
                raise ValueError(f"{self.kind}: step {step.name} must use an action approve:{self.kind}:<name>")
        entities = {e.entity for e in self.effects} | {s.keeper for stage in self.stages for s in stage}
        unknown = sorted(entities - set(RECORDS))
        if unknown:
            raise ValueError(f"{self.kind}: unknown entities {unknown}")
        inserted: set[str] = set()
        for effect in self.effects:
            record = {f.name for f in dataclasses.fields(RECORDS[effect.entity])}
            if effect.op is not ChangeOp.INSERT and "$new" in [*effect.values.values(), *effect.key.values()]:
                raise ValueError(f"{self.kind}: {effect.entity}: $new names the id of a record an INSERT makes")
            bad = sorted((set(effect.values) | set(effect.key)) - set(record))
            if bad:
                raise ValueError(f"{self.kind}: {effect.entity} has no fields {bad}")
            for ref in _refs([*effect.values.values(), *effect.key.values()]):
                head, _, rest = ref.partition(".")
                if head == "input" and rest not in self.fields:
                    raise ValueError(f"{self.kind}: ${ref} names no input field")
                if head == "new" and rest and rest.partition(".")[0] not in inserted:
                    raise ValueError(f"{self.kind}: ${ref} names no record an earlier effect inserts")
            if effect.op is ChangeOp.INSERT:
                inserted.add(effect.entity)
        if self.reserve.counts and "quotaType" not in self.fields:
            raise ValueError(f"{self.kind}: reserving needs a quotaType field")
        entering = self.reserve.entering
        if entering and (entering not in self.fields or self.fields[entering].type != FieldType.DATE):
            raise ValueError(f"{self.kind}: reserve.entering must name a date input field")
        if self.reserve.post and not {"role", "levelCode"} <= set(self.fields):
            raise ValueError(f"{self.kind}: reserving a post needs role and levelCode fields")
        if self.submit != f"submit:{self.kind}":
            raise ValueError(f"{self.kind}: submit action must be submit:{self.kind}")
        return self

    def _routes_coherent(self) -> Kind:
        spec = self.fields.get(self.route_by or "")
        if spec is None or spec.type != FieldType.CHOICE or set(spec.choices) != set(self.routes):
            raise ValueError(f"{self.kind}: route_by must name a choice field whose choices are the routes")
        if self.stages or self.effects:
            raise ValueError(f"{self.kind}: a routed kind declares its stages and effects per route")
        for name, route in self.routes.items():
            unknown = sorted(set(route.requires) - set(self.fields))
            if unknown:
                raise ValueError(f"{self.kind}: route {name} requires unknown fields {unknown}")
            self._on(route)  # each route is a whole kind
        return self

    def _on(self, route: Route) -> Kind:
        data = {**self.model_dump(exclude={"routes", "route_by"}), **route.model_dump(exclude={"requires", "title"})}
        return Kind.model_validate(data)

    def routed(self, values: Mapping[str, Any]) -> Kind:
        """The kind as it runs for a validated input: the chosen route's stages, checks and effects
        (BAD_USER_INPUT when a field that route requires is missing); the kind itself when it has no routes."""
        if not self.route_by:
            return self
        route = self.routes[values[self.route_by]]
        for name in route.requires:
            if values.get(name) in (None, ""):
                raise BadUserInput(f"缺少必填字段 {name}（{self.route_by}={values[self.route_by]}） / {name} is required "
                                   f"when {self.route_by} is {values[self.route_by]}", field=name)
        return self._on(route)

    @property
    def steps(self) -> list[Step]:
        """Every step, stage by stage."""
        return [s for stage in self.stages for s in stage]

    def step(self, name: str) -> Step:
        """A step by name."""
        return next(s for s in self.steps if s.name == name)

    def validate_input(self, raw: Mapping[str, Any] | None) -> dict[str, Any]:
        """The input normalized (JSON values: dates as ISO text), or BAD_USER_INPUT naming the field.

        An invalid ID number is BAD_USER_INPUT with the code INVALID_ID_NUMBER in `reason`."""
        if not isinstance(raw, Mapping):
            raise BadUserInput("申请内容须为对象 / the input must be an object", field="input")
        unknown = sorted(set(raw) - set(self.fields))
        if unknown:
            raise BadUserInput(f"未知字段 {unknown} / unknown fields for {self.kind}: {unknown}", field="input")
        out: dict[str, Any] = {}
        for name, spec in self.fields.items():
            value = raw.get(name)
            if value is None or value == "":
                if spec.required:
                    raise BadUserInput(f"缺少必填字段 {name} / {name} is required", field=name)
                continue
            out[name] = _checked(name, spec, value)
        return out


def _refs(values: list[Any]) -> list[str]:
    return [v[1:] for v in values if isinstance(v, str) and v.startswith("$") and not v.startswith("$$")]


class InvalidIdNumber(BadUserInput):
    """An ID number that fails GB 11643 (format, birth date or check digit)."""

    code = "INVALID_ID_NUMBER"


def _checked(name: str, spec: InputField, value: Any) -> Any:
    def bad(zh: str, en: str) -> BadUserInput:
        return BadUserInput(f"{name}: {zh} / {en}: {value!r}", field=name)

    match spec.type:
        case FieldType.ID_NUMBER:
            key = ids.normalize_id_number(value) if isinstance(value, str) else None
            problem = ids.id_number_problem(key) if key else "身份证号码格式错误 / malformed ID number"
            if problem:
                raise InvalidIdNumber(f"{problem}: {value!r}", field=name)
            return key
        case FieldType.INT:
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad("须为整数", "must be an integer")
            if (spec.minimum is not None and value < spec.minimum) or (spec.maximum is not None and value > spec.maximum):
                raise bad(f"须在 {spec.minimum}–{spec.maximum} 之间", f"must lie in {spec.minimum}..{spec.maximum}")
            return value
        case FieldType.DATE:
            try:
                return dt.date.fromisoformat(str(value)).isoformat()
            except ValueError:
                raise bad("日期格式应为 YYYY-MM-DD", "a date is YYYY-MM-DD") from None
        case FieldType.MONTH:
            if not isinstance(value, str) or not MONTH.match(value):
                raise bad("月份格式应为 YYYY-MM", "a month is YYYY-MM")
            return value
        case FieldType.QUOTA_TYPE:
            if value not in QuotaType.__members__:
                raise bad("未知编制类型", f"unknown quota type (one of {', '.join(QuotaType)})")
            return value
        case FieldType.LIST:
            if not isinstance(value, list) or len(value) > 10000:
                raise bad("须为列表（不超过 10000 项）", "must be a list of at most 10000 items")
            return value
        case FieldType.CHOICE:
            if value not in spec.choices:
                raise bad(f"须为 {', '.join(spec.choices)} 之一", f"must be one of {', '.join(spec.choices)}")
            return value
        case _:  # TEXT, INSTITUTION
            if not isinstance(value, str) or not value.strip() or len(value) > 200:
                raise bad("须为非空文本（不超过 200 字）", "must be non-empty text of at most 200 characters")
            return value.strip()


def parse_kind(data: Any) -> Kind:
    """A kind from its YAML data (ValueError when it is not a valid definition)."""
    return Kind.model_validate(data)


@cache
def shipped_kinds() -> dict[str, Kind]:
    """The kinds shipped under hub/workflow/kinds/, by name."""
    kinds = [parse_kind(yaml.safe_load(p.read_text(encoding="utf-8"))) for p in sorted(KINDS_DIR.glob("*.yaml"))]
    return {k.kind: k for k in kinds}


def kind_of(name: str, kinds: Mapping[str, Kind] | None = None) -> Kind:
    """A kind by name, or BAD_USER_INPUT."""
    found = (kinds if kinds is not None else shipped_kinds()).get(name)
    if found is None:
        raise BadUserInput(f"未知申请类型 {name!r} / unknown application kind", field="kind")
    return found


Decision = Literal["APPROVE", "RETURN", "REJECT"]
