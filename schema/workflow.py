"""GraphQL types of the one-window workflow (一网通办): applications, their history, tasks and mutations.

`WorkflowQuery` and `WorkflowMutation` are merged into the root types. Kinds are data
(hub/workflow/kinds/*.yaml), so `kind` is a string and `input` a JSON object whose fields the kind
declares; the engine validates it. Who may submit or decide is the policy's workflow actions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import strawberry
from strawberry.scalars import JSON

from hub.workflow import kinds as kind_defs
from hub.workflow import model
from policies.access import Access
from resolvers import workflow as data
from resolvers.batch import reading, reads
from resolvers.context import HubContext
from resolvers.institutions import InstitutionView
from schema import enums
from schema.enums import graphql_enum
from schema.institution import Institution, institution_field
from schema.masking import mask_id_number, mask_name
from schema.pagination import Connection, Edge, PageInfo, decode_cursor, encode_cursor, page_size
from schema.person import Person
from schema.supervision import PrecheckItem, PrecheckResult

Info = strawberry.Info[HubContext, None]

ApplicationState = graphql_enum(model.State, "申请状态 / application state", {
    "SUBMITTED": "已提交 / submitted", "IN_REVIEW": "审核中 / in review", "RETURNED": "已退回 / returned for changes",
    "REJECTED": "不予通过 / rejected", "WITHDRAWN": "已撤回 / withdrawn", "COMPLETED": "已办结 / completed"},
    name="ApplicationState")
ApplicationDecision = graphql_enum(model.Decision, "审批意见 / decision at a step", {
    "APPROVE": "同意 / approve", "RETURN": "退回修改 / return for changes", "REJECT": "不予通过 / reject"},
    name="ApplicationDecision")


ApplicationFieldType = graphql_enum(kind_defs.FieldType, "申请字段类型 / how an input field is checked", {
    "TEXT": "文本 / text", "INT": "整数（在 minimum–maximum 之间） / an integer within minimum..maximum",
    "DATE": "日期 YYYY-MM-DD / a date", "MONTH": "月份 YYYY-MM / a month",
    "ID_NUMBER": "身份证号（校验位） / a resident ID number, check digit verified",
    "QUOTA_TYPE": "编制类型代码 / a quota type code", "INSTITUTION": "机构代码 / an institution code",
    "CHOICE": "choices 之一 / one of the choices"}, name="ApplicationFieldType")


@strawberry.type(description="申请字段 / one input field of an application kind")
class ApplicationField:
    key: str = strawberry.field(description="字段名（input 的键） / the input key")
    type: ApplicationFieldType = strawberry.field(description="类型 / type")  # type: ignore[valid-type]
    title: str = strawberry.field(description="名称（中文 / English） / title")
    required: bool = strawberry.field(description="是否必填 / required")
    choices: list[str] = strawberry.field(description="可选值（CHOICE） / the values a CHOICE field takes")
    choice_titles: list[str] = strawberry.field(
        description="可选值名称（中文 / English，与 choices 对应；无名称时为代码） / each choice's title, in the order "
                    "of choices (the code itself where no code list names it)")
    minimum: int | None = strawberry.field(description="最小值（INT） / least value")
    maximum: int | None = strawberry.field(description="最大值（INT） / greatest value")


@strawberry.type(description="审批环节 / one review step of an application kind")
class ApplicationStep:
    step: str = strawberry.field(description="环节名（currentSteps 与办理记录所用） / step name")
    title: str = strawberry.field(description="名称（中文 / English） / title")
    stage: int = strawberry.field(description="阶段序号（从 1 起；同一阶段的环节并行） / stage number from 1; "
                                              "the steps of one stage run in parallel")


@strawberry.type(description="申请类型（由类型定义文件生成） / an application kind, as its definition declares it")
class ApplicationKind:
    kind: str = strawberry.field(description="类型，如 ONBOARDING / kind")
    title: str = strawberry.field(description="名称（中文 / English） / title")
    fields: list[ApplicationField] = strawberry.field(description="申请内容字段（按定义顺序） / input fields, in order")
    steps: list[ApplicationStep] = strawberry.field(description="审批环节（按阶段） / review steps, stage by stage")
    precheck_action: str | None = strawberry.field(
        description="提交时所做事前校验（precheck 的 action，如 HIRE） / the precheck action run at submission")
    submittable: bool = strawberry.field(description="调用者能否提交 / whether the caller may submit it")

    @classmethod
    def of(cls, k: kind_defs.Kind, submittable: bool) -> ApplicationKind:
        """The GraphQL view of a kind definition."""
        return cls(kind=k.kind, title=k.title, submittable=submittable, precheck_action=k.precheck.action,
                   fields=[ApplicationField(key=n, type=f.type, title=f.title or n, required=f.required,
                                            choices=list(f.choices), choice_titles=_choice_titles(f.choices),
                                            minimum=f.minimum, maximum=f.maximum)
                           for n, f in k.fields.items()],
                   steps=[ApplicationStep(step=s.name, title=s.title or s.name, stage=i)
                          for i, stage in enumerate(k.stages, 1) for s in stage])


def _choice_titles(choices: Sequence[str]) -> list[str]:
    """The titles of a field's choices: from the code list (GraphQL enum) that has them all, else the codes."""
    for value in vars(enums).values():
        definition = getattr(value, "__strawberry_definition__", None)
        titles = {v.name: v.description for v in getattr(definition, "values", None) or ()}
        if choices and set(choices) <= set(titles):
            return [titles[c] or c for c in choices]
    return list(choices)


@strawberry.type(description="办理记录 / one transition of an application")
class ApplicationEvent:
    step: str | None = strawberry.field(description="环节（提交、撤回时为空） / step decided (none: submit, withdraw)")
    decision: str = strawberry.field(description="SUBMIT / RESUBMIT / WITHDRAW / APPROVE / RETURN / REJECT")
    from_state: str | None = strawberry.field(description="原状态 / from")
    to_state: str = strawberry.field(description="新状态 / to")
    actor: str = strawberry.field(description="办理人 / who")
    department: str | None = strawberry.field(description="办理部门 / department")
    at: dt.datetime = strawberry.field(description="时间 / when")
    comment: str | None = strawberry.field(description="意见 / comment")
    waited_seconds: float | None = strawberry.field(description="该环节用时（秒） / the step's time in seconds")


async def _institutions(ctx: HubContext, apps: Sequence[Any]) -> list[InstitutionView | None]:
    return await data.institutions(ctx, [a.stored for a in apps])


def _masked(value: Any, ids_readable: bool, names_readable: bool) -> Any:
    """The input with every `idNumber` and `name` masked for a reader without access, nested lists (a plan's moves) too."""
    if isinstance(value, list):
        return [_masked(v, ids_readable, names_readable) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: _masked(v, ids_readable, names_readable) for k, v in value.items()}
    if "idNumber" in out and not ids_readable:
        out["idNumber"] = mask_id_number(str(out["idNumber"]))
    if "name" in out and not names_readable:
        out["name"] = mask_name(str(out["name"]))
    return out


@strawberry.type(description="一网通办申请 / a one-window application")
class Application:
    id: strawberry.ID = strawberry.field(description="申请编号 / application id")
    kind: str = strawberry.field(description="申请类型，如 ONBOARDING / kind")
    state: ApplicationState = strawberry.field(description="状态 / state")  # type: ignore[valid-type]
    current_steps: list[str] = strawberry.field(description="待办环节 / steps waiting for a decision")
    institution_code: str = strawberry.field(description="机构代码 / institution code")
    region_code: str | None = strawberry.field(description="行政区划 / division code")
    precheck: PrecheckResult = strawberry.field(description="最近一次事前校验 / the latest precheck")
    history: list[ApplicationEvent] = strawberry.field(description="办理记录 / history")
    submitted_by: str = strawberry.field(description="提交人 / submitted by")
    submitted_at: dt.datetime = strawberry.field(description="提交时间 / submitted at")
    completed_at: dt.datetime | None = strawberry.field(description="办结时间 / completed at")
    stored: strawberry.Private[model.Application]

    institution: Institution | None = institution_field(_institutions, "所涉机构 / the institution", reads())

    @strawberry.field(description="所涉人员 / the person (when the kind names one)", metadata=reading())
    def person(self) -> Person | None:
        return Person(id_number=self.stored.id_number) if self.stored.id_number else None

    @strawberry.field(description="申请内容（个人信息按读者权限脱敏） / the input, personal values masked for the reader",
                      metadata=reading())
    def input(self, info: Info) -> JSON:
        grants = info.context.grants
        return _masked(self.stored.input, grants.access("Person", "idNumber") is Access.READ,  # type: ignore[return-value]
                       grants.access("Person", "name") is Access.READ)

    @classmethod
    def of(cls, a: model.Application) -> Application:
        """The GraphQL view of a stored application."""
        items = a.precheck
        return cls(id=strawberry.ID(a.id), kind=a.kind, state=a.state, current_steps=list(a.current_steps),
                   institution_code=a.institution_code, region_code=a.region_code,
                   precheck=PrecheckResult(allowed=not items.get("blockers"),
                                           blockers=[PrecheckItem(**i) for i in items.get("blockers", [])],
                                           warnings=[PrecheckItem(**i) for i in items.get("warnings", [])]),
                   history=[ApplicationEvent(step=e.step, decision=e.decision, from_state=e.from_state,
                                             to_state=e.to_state, actor=e.actor, department=e.department, at=e.at,
                                             comment=e.comment, waited_seconds=e.waited_seconds) for e in a.history],
                   submitted_by=a.submitted_by, submitted_at=a.submitted_at, completed_at=a.completed_at,
                   stored=dataclasses.replace(a, history=()))  # the history is above; kept plain for retries


def _connection(rows: list[model.Application], more: bool, count: Callable[[], Awaitable[int]]
                ) -> Connection[Application]:
    edges = [Edge(node=Application.of(a), position=data.cursor_of(a)) for a in rows]
    end = encode_cursor(data.cursor_of(rows[-1])) if rows else None
    return Connection(edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=end), _count=count)


@strawberry.type
class WorkflowQuery:
    @strawberry.field(description="可提交的申请类型及其字段与环节（默认只列调用者可提交的） / the application kinds "
                                  "the caller may submit, with their fields and steps (submittable: false lists all)")
    def application_kinds(self, info: Info, submittable: bool = True) -> list[ApplicationKind]:
        return [ApplicationKind.of(k, may) for k, may in data.kinds(info.context) if may or not submittable]

    @strawberry.field(description="按编号查申请 / one application")
    async def application(self, info: Info, id: strawberry.ID) -> Application:
        return Application.of(await data.one(info.context, str(id)))

    @strawberry.field(description="申请列表（新者在前，键集分页） / applications, newest first, keyset-paged")
    async def applications(
        self, info: Info, first: int | None = 100, after: str | None = None, kind: str | None = None,
        state: ApplicationState | None = None, institution_code: str | None = None,  # type: ignore[valid-type]
        submitted_from: dt.datetime | None = None, submitted_to: dt.datetime | None = None,
    ) -> Connection[Application]:
        flt = data.application_filter(info.context, kind, model.State(state).value if state else None, institution_code,
                                      submitted_from, submitted_to)
        rows, more = await data.page(info.context, flt, page_size(first, info.context.settings.max_page_size),
                                     decode_cursor(after, str))
        return _connection(rows, more, lambda: data.count(info.context, flt))

    @strawberry.field(description="我的待办：本部门、本区划现在须审批的申请（先到先办） / what your department and "
                                  "region must decide now, oldest first")
    async def my_tasks(self, info: Info, first: int | None = 100, after: str | None = None) -> Connection[Application]:
        rows, more = await data.tasks(info.context, page_size(first, info.context.settings.max_page_size),
                                      decode_cursor(after, str))
        return _connection(rows, more, lambda: data.count_tasks(info.context))


@strawberry.type
class WorkflowMutation:
    @strawberry.mutation(description="提交申请（先做事前校验，不通过则不写入） / submit an application (prechecked; "
                                     "nothing is written when it is blocked)")
    async def submit_application(self, info: Info, kind: str, input: JSON) -> Application:  # noqa: A002
        return Application.of(await data.submit(info.context, kind, input))  # type: ignore[arg-type]

    @strawberry.mutation(description="审批本部门的环节 / decide your department's step of an application")
    async def decide_application(self, info: Info, id: strawberry.ID, decision: ApplicationDecision,  # type: ignore[valid-type]
                                 comment: str | None = None) -> Application:
        return Application.of(await data.decide(info.context, str(id), model.Decision(decision), comment))

    @strawberry.mutation(description="撤回申请 / withdraw an application")
    async def withdraw_application(self, info: Info, id: strawberry.ID, comment: str | None = None) -> Application:
        return Application.of(await data.withdraw(info.context, str(id), comment))

    @strawberry.mutation(description="退回后重新提交（可修改内容） / resubmit a returned application, input changed or not")
    async def resubmit_application(self, info: Info, id: strawberry.ID, input: JSON | None = None,  # noqa: A002
                                   comment: str | None = None) -> Application:
        return Application.of(await data.resubmit(info.context, str(id), input, comment))  # type: ignore[arg-type]
