"""GraphQL types of supervision: alerts and their lifecycle, summaries, freezes, runs, prechecks.

`SupervisionQuery` and `SupervisionMutation` are merged into the root types (strawberry.tools.merge_types);
every field is a plain declared field, so the compiled policy can allow or deny each one by name.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from strawberry.scalars import JSON

from hub.core.errors import BadUserInput
from hub.supervision import alert_queries as q
from hub.supervision import alerts as al
from hub.supervision import deferrals as df
from hub.supervision import freezes as fz
from hub.supervision import precheck as pc
from hub.supervision import service as sv
from hub.supervision.model import FREEZE_KIND_LABELS
from hub.supervision.model import FreezeKind as FreezeKindCode
from hub.supervision.model import Severity as SeverityCode
from hub.supervision.rules import RULES
from resolvers import supervision as data
from resolvers.context import HubContext
from schema.alert_masks import reader_masks
from schema.enums import QuotaType, graphql_enum
from schema.pagination import Connection, Edge, PageInfo, decode_cursor, encode_cursor, page_size

Info = strawberry.Info[HubContext, None]

Severity = graphql_enum(SeverityCode, "预警级别 / severity", {
    "SEVERE": "严重（建议冻结） / severe (proposes a freeze)", "WARNING": "警告 / warning", "NOTICE": "提示 / notice"})
AlertStatus = graphql_enum(al.AlertStatus, "预警状态 / alert status", {
    "OPEN": "待处理 / open", "ACKNOWLEDGED": "已确认 / acknowledged", "RECTIFYING": "整改中 / rectifying",
    "RESOLVED": "已整改 / resolved", "DISMISSED": "误报 / dismissed as a false positive",
    "RESOLVED_BY_DATA": "核查未再发现 / resolved by data (no longer found)"})
FreezeStatus = graphql_enum(fz.FreezeStatus, "冻结状态 / freeze status", {
    "PROPOSED": "建议冻结 / proposed", "ACTIVE": "冻结中 / frozen", "LIFTED": "已解冻 / lifted",
    "REJECTED": "不予冻结 / rejected"})
FreezeKind = graphql_enum(FreezeKindCode, "冻结事项（谁可冻结哪一项由策略规定） / what a freeze stops (the policy says who may freeze which)",
                          {k.value: f"{zh} / {en}" for k, (zh, en) in FREEZE_KIND_LABELS.items()}, name="FreezeKind")
SummaryDimension = graphql_enum(q.Dimension, "汇总维度 / summary dimension", {
    "RULE": "规则 / rule", "REGION": "旗县区 / banner", "INSTITUTION": "机构 / institution",
    "MONTH": "首次发现月份 / month first found"}, name="SummaryDimension")
PrecheckAction = graphql_enum(pc.Action, "拟办事项 / intended action", {
    "HIRE": "入编（招录、聘用） / hire into a slot", "TRANSFER_IN": "调入 / transfer in",
    "PAY_START": "起薪 / start pay", "PAY_CHANGE": "工资变动 / payroll change", "LEAVE": "出编 / leave a slot",
    "APPOINT": "干部任免 / appoint or remove a cadre"},
    name="PrecheckAction")


@strawberry.type(description="处理记录 / one step of a lifecycle")
class LifecycleEvent:
    from_status: str | None = strawberry.field(description="原状态 / from")
    to_status: str = strawberry.field(description="新状态 / to")
    actor: str = strawberry.field(description="操作人 / who")
    at: dt.datetime = strawberry.field(description="时间 / when")
    note: str | None = strawberry.field(description="说明 / note")


def _events(events: list[Any]) -> list[LifecycleEvent]:
    return [LifecycleEvent(from_status=e.from_status, to_status=e.to_status, actor=e.actor, at=e.at, note=e.note)
            for e in events]


@strawberry.type(description="核查规则 / a cross-check rule")
class SupervisionRule:
    id: str = strawberry.field(description="规则编号 R01… / rule id")
    severity: Severity = strawberry.field(description="级别 / severity")  # type: ignore[valid-type]
    title_zh: str = strawberry.field(description="名称（中文） / title in Chinese")
    title_en: str = strawberry.field(description="名称（英文） / title in English")
    needs: list[str] = strawberry.field(description="所需数据源 / departments it reads")


@strawberry.type(description="核查预警 / an alert raised by the cross-check")
class Alert:
    id: strawberry.ID = strawberry.field(description="预警编号 / alert id")
    rule: str = strawberry.field(description="规则编号 / rule id")
    rule_title: str = strawberry.field(description="规则名称 / rule title (中文 / English)")
    severity: Severity = strawberry.field(description="级别 / severity")  # type: ignore[valid-type]
    status: AlertStatus = strawberry.field(description="状态 / status")  # type: ignore[valid-type]
    id_number: str | None = strawberry.field(description="身份证号（人员类预警） / ID number (person alerts)")
    institution_code: str | None = strawberry.field(description="机构代码 / institution code")
    region_code: str | None = strawberry.field(description="行政区划 / division code")
    first_month: str = strawberry.field(description="首次发现的基准月 / reference month first found")
    last_month: str = strawberry.field(description="最近发现的基准月 / reference month last found")
    first_seen: dt.datetime = strawberry.field(description="首次发现时间 / first seen")
    last_seen: dt.datetime = strawberry.field(description="最近发现时间 / last seen")
    history: list[LifecycleEvent] = strawberry.field(description="处理记录 / lifecycle history")
    stored: strawberry.Private[al.Alert]

    @strawberry.field(description="说明（中文 / English），按读者的脱敏规则生成 / message naming the evidence, masked for the reader")
    def message(self, info: Info) -> str:
        rule = RULES.get(self.stored.rule)
        return rule.message(self.stored.evidence, reader_masks(info, self.stored)) if rule else self.stored.rule

    @strawberry.field(description="证据（个人信息按读者的脱敏规则） / evidence, personal values masked for the reader")
    def evidence(self, info: Info) -> JSON:
        rule = RULES.get(self.stored.rule)
        return rule.evidence(self.stored.evidence, reader_masks(info, self.stored)) if rule else {}  # type: ignore[return-value]

    @classmethod
    def of(cls, a: al.Alert, events: list[al.AlertEvent]) -> Alert:
        """The GraphQL view of a stored alert."""
        rule = RULES.get(a.rule)
        return cls(id=strawberry.ID(str(a.id)), rule=a.rule,
                   rule_title=f"{rule.title_zh} / {rule.title_en}" if rule else a.rule,
                   severity=SeverityCode(a.severity), status=a.status, id_number=a.id_number,
                   institution_code=a.institution_code, region_code=a.region_code,
                   first_month=a.first_month, last_month=a.last_month,
                   first_seen=a.first_seen, last_seen=a.last_seen, history=_events(events), stored=a)


@strawberry.type(description="预警汇总 / alert counts of one group")
class AlertSummary:
    key: str = strawberry.field(description="分组值（规则、区划、机构或月份） / group value")
    total: int = strawberry.field(description="预警总数 / all alerts")
    open: int = strawberry.field(description="未结预警 / alerts still open")
    severe_open: int = strawberry.field(description="未结严重预警 / severe alerts still open")


@strawberry.type(description="冻结 / a freeze of some kinds of change of an institution (quota use, hiring, payroll, appointments)")
class Freeze:
    id: strawberry.ID = strawberry.field(description="冻结编号 / freeze id")
    institution_code: str = strawberry.field(description="机构代码 / institution code")
    region_code: str | None = strawberry.field(description="行政区划 / division code")
    kinds: list[FreezeKind] = strawberry.field(description="冻结的事项 / the kinds of change it stops")  # type: ignore[valid-type]
    hiring: bool = strawberry.field(description="冻结招聘进人（kinds 含 HIRING） / hiring frozen (kinds has HIRING)")
    payroll: bool = strawberry.field(description="冻结工资变动（kinds 含 PAYROLL） / payroll changes frozen (kinds has PAYROLL)")
    status: FreezeStatus = strawberry.field(description="状态 / status")  # type: ignore[valid-type]
    reason: str = strawberry.field(description="理由 / reason")
    alert_ids: list[strawberry.ID] = strawberry.field(description="依据的预警 / alerts it rests on")
    created_by: str = strawberry.field(description="发起人 / created by")
    created_at: dt.datetime = strawberry.field(description="发起时间 / created at")
    history: list[LifecycleEvent] = strawberry.field(description="处理记录 / history (proposal, freeze, lifting)")

    @classmethod
    def of(cls, f: fz.Freeze, events: list[fz.FreezeEvent]) -> Freeze:
        """The GraphQL view of a stored freeze."""
        return cls(id=strawberry.ID(str(f.id)), institution_code=f.institution_code, region_code=f.region_code,
                   kinds=list(f.kinds), hiring=f.hiring, payroll=f.payroll, status=f.status, reason=f.reason,
                   alert_ids=[strawberry.ID(str(i)) for i in f.alert_ids], created_by=f.created_by,
                   created_at=f.created_at, history=_events(events))


@strawberry.type(description="核查运行 / one cross-check run")
class CheckRun:
    id: strawberry.ID = strawberry.field(description="运行编号 / run id")
    status: str = strawberry.field(description="RUNNING / DONE / FAILED")
    triggered_by: str = strawberry.field(description="发起人（schedule、cli 或用户） / who started it")
    started_at: dt.datetime = strawberry.field(description="开始 / started")
    finished_at: dt.datetime | None = strawberry.field(description="结束 / finished")
    reference_month: str | None = strawberry.field(description="基准月 / reference month")
    persons: int | None = strawberry.field(description="核查人数 / persons checked")
    findings: int | None = strawberry.field(description="发现问题数 / findings")
    opened: int | None = strawberry.field(description="新增预警 / new alerts")
    reopened: int | None = strawberry.field(description="重新打开 / reopened alerts")
    resolved: int | None = strawberry.field(description="数据消除 / alerts resolved by data")
    error: str | None = strawberry.field(description="失败原因 / error")

    @classmethod
    def of(cls, r: sv.CheckRun) -> CheckRun:
        """The GraphQL view of a recorded run."""
        return cls(id=strawberry.ID(str(r.id)), status=r.status, triggered_by=r.triggered_by, started_at=r.started_at,
                   finished_at=r.finished_at, reference_month=r.reference_month, persons=r.persons,
                   findings=r.findings, opened=r.opened, reopened=r.reopened, resolved=r.resolved, error=r.error)


@strawberry.type(description="校验意见 / one reason that blocks or warns")
class PrecheckItem:
    code: str = strawberry.field(description="代码，如 INSTITUTION_FROZEN / code")
    message: str = strawberry.field(description="说明 / message")


@strawberry.type(description="事前校验结果 / what blocks or warns against an intended action")
class PrecheckResult:
    allowed: bool = strawberry.field(description="是否可办 / whether nothing blocks it")
    blockers: list[PrecheckItem] = strawberry.field(description="阻止事项 / blockers")
    warnings: list[PrecheckItem] = strawberry.field(description="提醒事项 / warnings")


@strawberry.type(description="延迟退休备案 / a recorded retirement deferral")
class RetirementDeferral:
    id: strawberry.ID = strawberry.field(description="编号 / id")
    id_number: str = strawberry.field(description="身份证号 / ID number")
    until: dt.date = strawberry.field(description="延迟至 / deferred until")
    document: str | None = strawberry.field(description="批准文号 / approval document")
    note: str | None = strawberry.field(description="说明 / note")
    recorded_by: str = strawberry.field(description="登记人 / recorded by")
    recorded_at: dt.datetime = strawberry.field(description="登记时间 / recorded at")


def _deferral(d: df.Deferral) -> RetirementDeferral:
    return RetirementDeferral(id=strawberry.ID(str(d.id)), id_number=d.id_number, until=d.until, document=d.document,
                              note=d.note, recorded_by=d.recorded_by, recorded_at=d.recorded_at)


def _id(value: strawberry.ID) -> int:
    try:
        return int(value)
    except ValueError:
        raise BadUserInput(f"无效的编号 / invalid id: {value!r}") from None


def _filter(info: Info, rule: list[str] | None, status: list[Any] | None, severity: list[Any] | None,
            region_code: str | None, institution_code: str | None, id_number: str | None,
            month: str | None) -> q.AlertFilter:
    return data.alert_filter(info.context, rules=rule, statuses=status, severities=severity, region=region_code,
                             institution_code=institution_code, id_number=id_number, month=month)


@strawberry.type
class SupervisionQuery:
    @strawberry.field(description="核查预警（键集分页，新者在前） / alerts, newest first, keyset-paged")
    async def alerts(
        self, info: Info, first: int | None = 100, after: str | None = None, rule: list[str] | None = None,
        status: list[AlertStatus] | None = None, severity: list[Severity] | None = None,  # type: ignore[valid-type]
        region_code: str | None = None, institution_code: str | None = None, id_number: str | None = None,
        month: str | None = None,
    ) -> Connection[Alert]:
        flt = _filter(info, rule, status, severity, region_code, institution_code, id_number, month)
        cursor = decode_cursor(after, int)
        rows, more, events = await data.alerts_page(info.context, flt, page_size(first, info.context.settings.max_page_size),
                                                    int(cursor) if cursor is not None else None)
        edges = [Edge(node=Alert.of(a, events[a.id]), position=a.id) for a in rows]
        end = encode_cursor(rows[-1].id) if rows else None
        return Connection(edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=end),
                          _count=lambda: data.alert_count(info.context, flt))

    @strawberry.field(description="按编号查预警 / one alert")
    async def alert(self, info: Info, id: strawberry.ID) -> Alert:
        found, events = await data.alert(info.context, _id(id))
        return Alert.of(found, events)

    @strawberry.field(description="预警汇总（按规则、旗县区、机构或月份） / alert counts by rule, banner, institution or month")
    async def alert_summary(
        self, info: Info, by: SummaryDimension, rule: list[str] | None = None,  # type: ignore[valid-type]
        status: list[AlertStatus] | None = None, region_code: str | None = None,  # type: ignore[valid-type]
        institution_code: str | None = None, month: str | None = None,
    ) -> list[AlertSummary]:
        flt = _filter(info, rule, status, None, region_code, institution_code, None, month)
        rows = await data.summary(info.context, q.Dimension(by), flt)
        return [AlertSummary(key=r.key, total=r.total, open=r.open, severe_open=r.severe_open) for r in rows]

    @strawberry.field(description="冻结记录（新者在前；kinds：涉及其一） / freezes, newest first (kinds: covering any of them)")
    async def freezes(
        self, info: Info, institution_code: str | None = None, status: list[FreezeStatus] | None = None,  # type: ignore[valid-type]
        region_code: str | None = None, kinds: list[FreezeKind] | None = None,  # type: ignore[valid-type]
    ) -> list[Freeze]:
        found, events = await data.freeze_list(info.context, institution_code, status, region_code,
                                               [FreezeKindCode(k) for k in kinds] if kinds else None)
        return [Freeze.of(f, events[f.id]) for f in found]

    @strawberry.field(description="事前校验：拟办事项有何阻止或提醒 / what blocks or warns against an intended action")
    async def precheck(
        self, info: Info, action: PrecheckAction, institution_code: str, id_number: str | None = None,  # type: ignore[valid-type]
        quota_type: QuotaType | None = None,  # type: ignore[valid-type]
    ) -> PrecheckResult:
        result = await data.check(info.context, pc.Action(action), institution_code, id_number,
                                  quota_type.value if quota_type else None)
        return PrecheckResult(allowed=result.allowed,
                              blockers=[PrecheckItem(code=i.code, message=i.message) for i in result.blockers],
                              warnings=[PrecheckItem(code=i.code, message=i.message) for i in result.warnings])

    @strawberry.field(description="最近的核查运行 / the latest cross-check runs")
    async def check_runs(self, info: Info, last: int = 20) -> list[CheckRun]:
        return [CheckRun.of(r) for r in await data.runs(info.context, last)]

    @strawberry.field(description="核查规则表 / the cross-check rules")
    def supervision_rules(self, info: Info) -> list[SupervisionRule]:
        holders = info.context.sources.holders()
        return [SupervisionRule(id=r.id, severity=r.severity, title_zh=r.title_zh, title_en=r.title_en,
                                needs=r.departments(holders)) for r in RULES.values()]

    @strawberry.field(description="延迟退休备案 / a person's recorded retirement deferrals")
    async def retirement_deferrals(self, info: Info, id_number: str) -> list[RetirementDeferral]:
        return [_deferral(d) for d in await data.deferrals_of(info.context, id_number)]


async def _step(info: Info, id: strawberry.ID, to: al.AlertStatus, note: str | None) -> Alert:
    found, events = await data.alert_step(info.context, _id(id), to, note)
    return Alert.of(found, events)


async def _freeze_step(info: Info, id: strawberry.ID, to: fz.FreezeStatus, note: str | None) -> Freeze:
    found, events = await data.freeze_step(info.context, _id(id), to, note)
    return Freeze.of(found, events)


@strawberry.type
class SupervisionMutation:
    @strawberry.mutation(description="确认预警 / acknowledge an open alert")
    async def acknowledge_alert(self, info: Info, id: strawberry.ID, note: str | None = None) -> Alert:
        return await _step(info, id, al.AlertStatus.ACKNOWLEDGED, note)

    @strawberry.mutation(description="开始整改 / start rectifying an acknowledged alert")
    async def start_rectifying_alert(self, info: Info, id: strawberry.ID, note: str | None = None) -> Alert:
        return await _step(info, id, al.AlertStatus.RECTIFYING, note)

    @strawberry.mutation(description="整改完成 / mark an alert resolved")
    async def resolve_alert(self, info: Info, id: strawberry.ID, note: str | None = None) -> Alert:
        return await _step(info, id, al.AlertStatus.RESOLVED, note)

    @strawberry.mutation(description="标记误报（须说明理由） / dismiss an alert as a false positive (note required)")
    async def dismiss_alert(self, info: Info, id: strawberry.ID, note: str) -> Alert:
        return await _step(info, id, al.AlertStatus.DISMISSED, note)

    @strawberry.mutation(description=(
        "冻结机构的用编、招聘进人、工资变动或干部任免（各部门限其主管事项与辖区；hiring/payroll 为旧参数，"
        "均未给出且无 kinds 时冻结进人） / freeze an institution's quota use, hiring, payroll changes or appointments "
        "(each department its own kinds, in its region; hiring/payroll are the older flags: with neither and no "
        "kinds, hiring is frozen)"))
    async def freeze_institution(
        self, info: Info, institution_code: str, reason: str, kinds: list[FreezeKind] | None = None,  # type: ignore[valid-type]
        hiring: bool | None = None, payroll: bool | None = None,
        alert_ids: list[strawberry.ID] | None = None, note: str | None = None,
    ) -> Freeze:
        chosen = [FreezeKindCode(k) for k in kinds or []]
        chosen += [k for k, flag in ((FreezeKindCode.HIRING, hiring), (FreezeKindCode.PAYROLL, payroll)) if flag]
        if kinds is None and hiring is None and payroll is None:
            chosen = [FreezeKindCode.HIRING]  # what the mutation froze before it took kinds
        found, events = await data.freeze_create(info.context, institution_code, chosen, reason,
                                                 [_id(i) for i in alert_ids or []], note)
        return Freeze.of(found, events)

    @strawberry.mutation(description="采纳冻结建议 / confirm a proposed freeze")
    async def confirm_freeze(self, info: Info, id: strawberry.ID, note: str | None = None) -> Freeze:
        return await _freeze_step(info, id, fz.FreezeStatus.ACTIVE, note)

    @strawberry.mutation(description="不予冻结 / reject a proposed freeze")
    async def reject_freeze(self, info: Info, id: strawberry.ID, note: str | None = None) -> Freeze:
        return await _freeze_step(info, id, fz.FreezeStatus.REJECTED, note)

    @strawberry.mutation(description="解除冻结 / lift a freeze")
    async def unfreeze_institution(self, info: Info, id: strawberry.ID, note: str | None = None) -> Freeze:
        return await _freeze_step(info, id, fz.FreezeStatus.LIFTED, note)

    @strawberry.mutation(description="运行交叉核查（默认后台运行，立即返回） / run the cross-check (in the background unless wait)")
    async def run_check(
        self, info: Info, institution_code: str | None = None, region_code: str | None = None,
        reference_month: str | None = None, wait: bool = False,
    ) -> CheckRun:
        return CheckRun.of(await data.start_check(info.context, institution_code, region_code, reference_month, wait))

    @strawberry.mutation(description="登记延迟退休（R08 豁免） / record an approved retirement deferral (exempts from R08)")
    async def record_retirement_deferral(
        self, info: Info, id_number: str, until: dt.date, document: str | None = None, note: str | None = None,
    ) -> RetirementDeferral:
        return _deferral(await data.defer(info.context, id_number, until, document, note))
