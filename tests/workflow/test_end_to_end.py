"""Every kind through every department's step over GraphQL, written back into the legacy databases on SQLite,
PostgreSQL and MariaDB, read there in their own shapes with SQL; a department without writes pulls and
acknowledges its changes; the cross-check finds nothing new for the person and institution afterwards."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hub.core.codes import QUOTA_CATEGORIES, QuotaType
from hub.core.crosswalk import Crosswalk, CrosswalkCache, Identity
from hub.core.db import sync_url
from hub.core.settings import SourceSettings
from hub.demo.generate import sqlite_targets
from hub.supervision.engine import run_check
from tests.conftest import DEPARTMENTS, DatabaseFactory, Hub, generate_into, hub_settings, running_hub
from tests.supervision.conftest import sources_for
from tests.workflow.conftest import newcomer
from tests.workflow.test_graphql import BANNER, DECIDE, RESUBMIT, SUBMIT, WITHDRAW, Desk

VACANT = 3
CADRE = "CADRE-E2E"
KEYWORDS = frozenset(["SELECT", "DISTINCT", "COUNT", "FROM", "JOIN", "ON", "WHERE", "AND", "OR", "IS", "NOT", "NULL",
                     "IN", "GROUP", "BY", "ORDER", "DESC", "INSERT", "INTO", "VALUES", "UPDATE", "SET", "DELETE"])
EVENTS = "query($d: Department!) { changeEvents(department: $d, after: 0, first: 100) { id applicationId entity op " \
         "values deliveredAt acknowledgedAt } }"


class Legacy:
    """SQL straight on the departments' databases (not through the hub)."""

    def __init__(self, targets: dict[str, str]) -> None:
        self.targets = targets
        self.engines = {d: sa.create_engine(sync_url(u)) for d, u in targets.items()}

    def _text(self, department: str, statement: str, params: dict[str, Any]) -> sa.TextClause:
        """The statement with its upper-case names quoted where the database folds unquoted ones (PostgreSQL); a tuple
        parameter is a list (`IN :p`)."""
        engine = self.engines[department]
        if engine.dialect.name == "postgresql":
            quote = engine.dialect.identifier_preparer.quote_identifier
            statement = re.sub(r"\b[A-Z][A-Z0-9_]*\b", lambda m: m[0] if m[0] in KEYWORDS else quote(m[0]), statement)
        lists = [sa.bindparam(k, expanding=True) for k, v in params.items() if isinstance(v, tuple)]
        return sa.text(statement).bindparams(*lists)

    def rows(self, department: str, statement: str, **params: Any) -> list[tuple[Any, ...]]:
        with self.engines[department].begin() as conn:
            return [tuple(r) for r in conn.execute(self._text(department, statement, params), params)]

    def run(self, department: str, statement: str, **params: Any) -> None:
        with self.engines[department].begin() as conn:
            conn.execute(self._text(department, statement, params), params)

    def close(self) -> None:
        for engine in self.engines.values():
            engine.dispose()


@dataclass
class Ready:
    """An institution of the banner made ready: VACANT slots of a type, no plan; a unit for a deputy post."""

    ident: Identity
    quota_type: str
    approved: int
    post_ident: Identity
    reference: str  # the latest pay month, 'YYYY-MM'
    crosswalk: Crosswalk

    def month(self, ahead: int) -> str:
        """The month `ahead` months after the entry month, 'YYYY-MM'. People enter in the month after both the
        reference month and today (a plan approved today covers only entries from today on)."""
        today = dt.date.today()
        start = max(int(self.reference[:4]) * 12 + int(self.reference[5:]), today.year * 12 + today.month)
        year, month = divmod(start + ahead - 1, 12)
        return f"{year:04d}-{month + 1:02d}"


def _prepare(targets: dict[str, str], legacy: Legacy) -> Ready:
    local, quota_type, occupied = legacy.rows(
        "establishment", "SELECT s.JGID, s.BZLX, COUNT(*) FROM T_SMZ s JOIN T_JG j ON j.JGID = s.JGID JOIN T_BZ b ON "
        "b.JGID = s.JGID AND b.BZLX = s.BZLX WHERE s.RYZT = '在编' AND s.CBRQ IS NULL AND j.XZQH = :r "
        "GROUP BY s.JGID, s.BZLX ORDER BY COUNT(*) DESC, s.JGID", r=BANNER)[0]
    legacy.run("establishment", "UPDATE T_BZ SET HDS = :n WHERE JGID = :u AND BZLX = :t", n=occupied + VACANT, u=local,
               t=quota_type)
    legacy.run("establishment", "DELETE FROM T_YBJH WHERE JGID = :u", u=local)
    reference = max(r[0] for r in legacy.rows("finance", "SELECT DISTINCT GZNY FROM GZ_YB"))
    in_post = {r[0] for r in legacy.rows("organization", "SELECT A0201B FROM A02 WHERE A0265 IS NULL OR A0265 = ''")}

    async def crosswalk() -> tuple[Identity, Identity, Crosswalk]:
        sources = sources_for(targets)
        try:
            cw = await CrosswalkCache(sources).get()
        finally:
            await sources.close()
        ident = cw.by_code[cw.code_of("establishment", local) or ""]
        post = next(i for i in cw.by_code.values() if i.region_code == BANNER and i.local_id("establishment")
                    and i.local_id("organization") and i.local_id("organization") not in in_post)
        return ident, post, cw

    ident, post_ident, cw = asyncio.run(crosswalk())
    legacy.run("establishment", "DELETE FROM T_LDZS WHERE JGID = :u AND ZWCC = '副职' AND ZSLX = '内设'",
               u=post_ident.local_id("establishment"))
    legacy.run("establishment", "INSERT INTO T_LDZS (JGID, ZWCC, ZSLX, HDZS) VALUES (:u, '副职', '内设', 1)",
               u=post_ident.local_id("establishment"))
    return Ready(ident, quota_type, occupied + VACANT, post_ident, f"{reference[:4]}-{reference[-2:]}", cw)


def _desks(hub: Hub) -> tuple[Desk, ...]:
    return tuple(Desk(hub, d) for d in ("establishment", "organization", "hr", "finance"))


def _walk(desks: dict[str, Desk], app: dict[str, Any], *departments: str) -> dict[str, Any]:
    for department in departments:
        app = desks[department].do(DECIDE, id=app["id"], d="APPROVE")
    return app


def _onboarding(ready: Ready, n: int, **changes: Any) -> dict[str, Any]:
    entered = ready.month(1)
    return {"institutionCode": ready.ident.code, "idNumber": newcomer(n), "name": f"新人{n}",
            "quotaType": ready.quota_type, "enteredOn": f"{entered}-01", "payFrom": entered, "category": "PI_TECHNICAL",
            "postCategory": "TECHNICAL", "postGrade": 12, "payCategory": "PUBLIC_INSTITUTION", **changes}


def _day(value: Any) -> str:
    return str(value)[:10]


def _all_findings(targets: dict[str, str], month: str) -> list[Any]:
    """Every finding of the cross-check in the month."""

    async def run() -> list[Any]:
        sources = sources_for(targets)
        try:
            return list((await run_check(sources, month=month)).findings)
        finally:
            await sources.close()

    return asyncio.run(run())


def _findings(targets: dict[str, str], month: str, person: str, code: str) -> set[tuple[str, str | None, str | None]]:
    """What the cross-check finds about the person or the institution in the month (rule, person, institution)."""
    return {(f.rule, f.id_number, f.institution_code) for f in _all_findings(targets, month)
            if f.id_number == person or f.institution_code == code or code in f.institutions}


def _about(targets: dict[str, str], month: str, people: set[str]) -> set[tuple[str, str | None]]:
    """What the cross-check finds about any of the people in the month (rule, person), wherever they are."""
    return {(f.rule, f.id_number) for f in _all_findings(targets, month) if f.id_number in people}


def _movers(legacy: Legacy, ready: Ready) -> tuple[tuple[str, str], tuple[str, str, dict[str, int]]]:
    """Someone of the banner to transfer in (ID number, institution code) and a small institution of the banner to
    merge into the ready one (code, local id, active slots per legacy quota type): people with one active slot, a
    personnel record and a payee, no planted fault, well before retirement."""
    local = ready.ident.local_id("establishment")
    known = {r[0] for r in legacy.rows("hr", "SELECT GMSFHM FROM RS_RYXX")} & {
        r[0] for r in legacy.rows("finance", "SELECT SFZH FROM GZ_RY")}
    faulty = {f.id_number for f in _all_findings(legacy.targets, ready.reference)}
    active = legacy.rows("establishment", "SELECT s.SFZH, s.JGID, s.BZLX FROM T_SMZ s JOIN T_JG j ON j.JGID = s.JGID "
                         "WHERE s.RYZT = '在编' AND s.CBRQ IS NULL AND j.XZQH = :r AND s.JGID != :u ORDER BY s.RYID",
                         r=BANNER, u=local)
    admits = QUOTA_CATEGORIES.get(QuotaType(ready.quota_type))
    kept_type = {i for i, _, t in active if QUOTA_CATEGORIES.get(QuotaType(t)) == admits}  # same category, no R05
    slots: dict[str, int] = {}
    for id_number, _, _ in active:
        slots[id_number] = slots.get(id_number, 0) + 1

    def fine(id_number: str) -> bool:
        return (slots[id_number] == 1 and len(id_number) == 18 and id_number in known and id_number not in faulty
                and "1975" < id_number[6:10] < "1995")

    units: dict[str, list[tuple[str, str]]] = {}
    for id_number, unit, quota_type in active:
        units.setdefault(unit, []).append((id_number, quota_type))
    merged = next(u for u, people in sorted(units.items(), key=lambda kv: (len(kv[1]), kv[0]))
                  if 2 <= len(people) <= 6 and all(fine(i) for i, _ in people) and ready.crosswalk.code_of("establishment", u))
    mover = next(i for i, u, _ in active if u != merged and fine(i) and i in kept_type
                 and ready.crosswalk.code_of("establishment", u))
    by_type: dict[str, int] = {}
    for _, quota_type in units[merged]:
        by_type[quota_type] = by_type.get(quota_type, 0) + 1
    return ((mover, ready.crosswalk.code_of("establishment", next(u for i, u, _ in active if i == mover)) or ""),
            (ready.crosswalk.code_of("establishment", merged) or "", merged, by_type))


def one_window(targets: dict[str, str], store_dir: Path) -> None:
    """Every shipped kind through its departments' steps, all departments writing; then the legacy rows."""
    legacy = Legacy(targets)
    try:
        ready = _prepare(targets, legacy)
        code, local, quota_type = ready.ident.code, ready.ident.local_id("establishment"), ready.quota_type
        person = newcomer(2)  # even: male
        before = _findings(targets, ready.reference, person, code)
        (mover, mover_from), (merged, merged_local, merged_types) = _movers(legacy, ready)
        merged_people = {r[0] for r in legacy.rows("establishment", "SELECT SFZH FROM T_SMZ WHERE JGID = :u AND "
                                                   "RYZT = '在编' AND CBRQ IS NULL", u=merged_local)}
        moved_before = _about(targets, ready.reference, merged_people | {mover})
        # Room for the merged institution's quota types and leaders at the receiving one.
        for quota in set(merged_types) - {r[0] for r in legacy.rows(
                "establishment", "SELECT BZLX FROM T_BZ WHERE JGID = :u", u=local)}:
            legacy.run("establishment", "INSERT INTO T_BZ (JGID, BZLX, HDS) VALUES (:u, :t, 0)", u=local, t=quota)
        legacy.run("establishment", "DELETE FROM T_LDZS WHERE JGID = :u", u=local)
        legacy.run("establishment", "INSERT INTO T_LDZS (JGID, ZWCC, ZSLX, HDZS) VALUES (:u, '正职', '单位', 50), "
                   "(:u, '副职', '单位', 50)", u=local)
        approved_before = dict(legacy.rows("establishment", "SELECT BZLX, HDS FROM T_BZ WHERE JGID = :u", u=merged_local))
        settings = hub_settings(store_dir, targets, delivery_interval=0)
        for department, url in targets.items():
            settings.source[department] = SourceSettings(url=url, writes=True)
        with running_hub(settings) as hub:
            est, org, hr, fin = _desks(hub)
            desks = {"est": est, "org": org, "hr": hr, "fin": fin}

            plan = est.do(SUBMIT, kind="VACANCY_PLAN", input={"institutionCode": code, "quotaType": quota_type,
                                                              "places": 3, "document": "阿编计〔2026〕1号"})
            plan = _walk(desks, plan, "est", "fin")
            assert plan["state"] == "COMPLETED"
            [(plan_id, planned, used, status)] = legacy.rows(
                "establishment", "SELECT JHID, JHS, YYS, ZT FROM T_YBJH WHERE JGID = :u", u=local)
            assert (int(planned), int(used), status) == (3, 0, "已批准") and plan_id.startswith("JH9")

            # Returned, resubmitted with a corrected name, then approved by every department.
            first = est.do(SUBMIT, kind="ONBOARDING", input=_onboarding(ready, 2))
            est.do(DECIDE, id=first["id"], d="APPROVE")
            assert hr.do(DECIDE, id=first["id"], d="RETURN", c="缺学历证明")["state"] == "RETURNED"
            est.do(RESUBMIT, id=first["id"], input=_onboarding(ready, 2, name="新人贰"))
            first = _walk(desks, first, "est", "org", "hr", "fin")
            assert first["state"] == "COMPLETED"
            # Rejected, withdrawn, blocked: nothing written for them.
            second = est.do(SUBMIT, kind="ONBOARDING", input=_onboarding(ready, 4))
            assert est.do(DECIDE, id=second["id"], d="REJECT", c="不符合条件")["state"] == "REJECTED"
            third = est.do(SUBMIT, kind="ONBOARDING", input=_onboarding(ready, 6))
            assert est.do(WITHDRAW, id=third["id"])["state"] == "WITHDRAWN"
            # The hub reads the slot it has just written: the same person cannot enter again.
            assert est.refused(SUBMIT, kind="ONBOARDING", input=_onboarding(ready, 8, idNumber=person)) \
                == "ALREADY_IN_SLOT"
            registry = est.do('query($id: String!) { person(idNumber: $id) { registry { status quotaType } } }',
                              id=person)["registry"]
            assert registry == [{"status": "ACTIVE", "quotaType": quota_type}]

            [(slot_id, slot_status, sex, entered, slot_plan, left_on)] = legacy.rows(
                "establishment", "SELECT RYID, RYZT, XB, RBRQ, JHID, CBRQ FROM T_SMZ WHERE SFZH = :p", p=person)
            assert (slot_status, sex, _day(entered), slot_plan, left_on) == (
                "在编", "男", f"{ready.month(1)}-01", plan_id, None)
            assert legacy.rows("establishment", "SELECT YYS FROM T_YBJH WHERE JHID = :j", j=plan_id) == [(1,)]
            [(person_no, hr_status, category)] = legacy.rows(
                "hr", "SELECT RYBH, ZT, RYLB FROM RS_RYXX WHERE GMSFHM = :p", p=person)
            assert (hr_status, category) == ("在职", "04")
            assert legacy.rows("hr", "SELECT GWLB, GWDJ FROM RS_GWPY WHERE RYBH = :n", n=person_no) == [("2", 12)]
            [(payee, on_quota, payee_unit)] = legacy.rows(
                "finance", "SELECT RYBM, BZQK, DWDM FROM GZ_RY WHERE SFZH = :p", p=person)
            assert on_quota == "在编" and payee_unit == ready.ident.local_id("finance")
            started = ready.month(1).replace("-", "")
            assert legacy.rows("finance", "SELECT YDLX, QXNY FROM GZ_YD WHERE RYBM = :c", c=payee) == [("新增", started)]

            # A pay change of that person (HR post, then finance), then the person leaves (slot, HR, pay).
            raise_input = {"institutionCode": code, "idNumber": person, "postCategory": "TECHNICAL", "postGrade": 11,
                           "fromMonth": ready.month(2), "document": "阿人社〔2026〕3号"}
            raised = _walk(desks, hr.do(SUBMIT, kind="PAYROLL_CHANGE", input=raise_input), "hr", "fin")
            assert raised["state"] == "COMPLETED"
            assert legacy.rows("hr", "SELECT GWDJ FROM RS_GWPY WHERE RYBH = :n", n=person_no) == [(11,)]
            leave_input = {"institutionCode": code, "idNumber": person, "leftOn": f"{ready.month(2)}-20",
                           "reason": "RESIGNED", "payStopFrom": ready.month(3)}
            leaving = _walk(desks, est.do(SUBMIT, kind="LEAVING", input=leave_input), "est", "hr", "fin")
            assert leaving["state"] == "COMPLETED"

            # A new approved count with its document (finance signs the budget).
            adjusted = est.do(SUBMIT, kind="QUOTA_ADJUSTMENT", input={
                "institutionCode": code, "quotaType": quota_type, "approved": ready.approved + 2,
                "document": "阿编发〔2026〕7号"})
            assert _walk(desks, adjusted, "est", "fin")["state"] == "COMPLETED"

            # A deputy appointed within the approved posts: the establishment office, then the organization department.
            post_unit = ready.post_ident.local_id("organization")
            legacy.run("organization", "INSERT INTO A01 (A0100, A0101, A0184, A0157) VALUES (:c, '某某', :p, :u)",
                       c=CADRE, p=newcomer(10), u=post_unit)
            appointment = org.do(SUBMIT, kind="LEADERSHIP_POST", input={
                "institutionCode": ready.post_ident.code, "idNumber": newcomer(10), "role": "DEPUTY", "levelCode": "999",
                "title": "副科长", "startOn": f"{ready.month(1)}-01", "document": "阿组任〔2026〕1号"})
            assert _walk(desks, appointment, "est", "org")["state"] == "COMPLETED"

            # A transfer within the league into the institution: the establishment office, HR ∥ the organization
            # department, then finance; the person's old slot is left and a new one entered, HR and pay move along.
            transfer = est.do(SUBMIT, kind="TRANSFER", input={
                "institutionCode": code, "origin": "WITHIN_LEAGUE", "idNumber": mover, "fromInstitutionCode": mover_from,
                "quotaType": quota_type, "enteredOn": f"{ready.month(2)}-01", "payFrom": ready.month(2),
                "document": "阿人社调〔2026〕7号"})
            assert _walk(desks, transfer, "est", "org", "hr", "fin")["state"] == "COMPLETED"

            # A reform merging a small institution of the banner into this one with its people and quotas.
            reform = est.do(SUBMIT, kind="REORGANIZATION", input={
                "institutionCode": code, "document": "阿盟编发〔2026〕1号", "effectiveOn": f"{ready.month(2)}-01",
                "moves": [{"fromInstitution": merged, "to": code}], "abolish": [merged],
                "quotaTransfers": [{"from": merged, "to": code, "quotaType": t, "count": n}
                                   for t, n in sorted(merged_types.items())]})
            assert _walk(desks, reform, "est", "org", "hr", "fin")["state"] == "COMPLETED"
            pending = [e for d in ("ESTABLISHMENT", "ORGANIZATION", "HR", "FINANCE")
                       for e in hub.query(EVENTS, {"d": d})["data"]["changeEvents"]]
            assert pending and all(e["deliveredAt"] for e in pending)

        # The legacy rows after all of it, in the departments' own shapes.
        [(slot_status, left_on, left_reason)] = legacy.rows(
            "establishment", "SELECT RYZT, CBRQ, CBYY FROM T_SMZ WHERE RYID = :s", s=slot_id)
        assert (slot_status, _day(left_on), left_reason) == ("出编", f"{ready.month(2)}-20", "RESIGNED")
        assert legacy.rows("hr", "SELECT ZT FROM RS_RYXX WHERE RYBH = :n", n=person_no) == [("辞职",)]
        assert sorted(legacy.rows("finance", "SELECT YDLX, QXNY FROM GZ_YD WHERE RYBM = :c", c=payee)) == sorted([
            ("新增", started), ("调资", ready.month(2).replace("-", "")), ("停发", ready.month(3).replace("-", ""))])
        assert legacy.rows("establishment", "SELECT HDS, PZWH FROM T_BZ WHERE JGID = :u AND BZLX = :t", u=local,
                           t=quota_type) == [(ready.approved + 2, "阿编发〔2026〕7号")]
        assert legacy.rows("organization", "SELECT A0219, A0221, A0245, A0243 FROM A02 WHERE A0100 = :c", c=CADRE) == [
            ("2", "999", "阿组任〔2026〕1号", f"{ready.month(1)}-01".replace("-", ""))]
        assert legacy.rows("finance", "SELECT COUNT(*) FROM GZ_RY WHERE SFZH IN (:a, :b)", a=newcomer(4),
                           b=newcomer(6)) == [(0,)]
        # The transfer: the old slot left, a new one here with a plan place; HR, the post and the payee moved.
        mover_slots = legacy.rows("establishment", "SELECT JGID, RYZT, CBYY, RBRQ, CBRQ, JHID FROM T_SMZ WHERE SFZH = :p "
                                  "ORDER BY RBRQ", p=mover)
        assert [(u, status, reason) for u, status, reason, *_ in mover_slots] == [
            (ready.crosswalk.by_code[mover_from].local_id("establishment"), "出编", "TRANSFERRED_OUT"), (local, "在编", None)]
        assert _day(mover_slots[0][4]) == _day(mover_slots[1][3]) == f"{ready.month(2)}-01" and mover_slots[1][5] == plan_id
        assert legacy.rows("establishment", "SELECT YYS FROM T_YBJH WHERE JHID = :j", j=plan_id) == [(2,)]
        assert legacy.rows("hr", "SELECT DWBM FROM RS_RYXX WHERE GMSFHM = :p", p=mover) == [(ready.ident.local_id("hr"),)]
        [(mover_payee, mover_unit)] = legacy.rows("finance", "SELECT RYBM, DWDM FROM GZ_RY WHERE SFZH = :p", p=mover)
        assert mover_unit == ready.ident.local_id("finance")
        assert ("调动", ready.month(2).replace("-", "")) in legacy.rows(
            "finance", "SELECT YDLX, QXNY FROM GZ_YD WHERE RYBM = :c", c=mover_payee)
        # The reform: the merged institution abolished, its people's slots, HR records and payees here, its approved
        # quota moved.
        merged_ident = ready.crosswalk.by_code[merged]
        [(abolished,)] = legacy.rows("establishment", "SELECT CXRQ FROM T_JG WHERE JGID = :u", u=merged_local)
        assert _day(abolished) == f"{ready.month(2)}-01"
        assert {(i, u, _day(d), j) for i, u, d, j in legacy.rows(
            "establishment", "SELECT SFZH, JGID, RBRQ, JHID FROM T_SMZ WHERE SFZH IN :p AND RYZT = '在编' AND CBRQ IS NULL",
            p=tuple(merged_people))} == {(i, local, f"{ready.month(2)}-01", None) for i in merged_people}
        assert {(i, u, r, _day(d)) for i, u, r, d in legacy.rows(
            "establishment", "SELECT SFZH, JGID, CBYY, CBRQ FROM T_SMZ WHERE JGID = :u AND RYZT = '出编' AND SFZH IN :p",
            u=merged_local, p=tuple(merged_people))} == {
            (i, merged_local, "REORGANIZED", f"{ready.month(2)}-01") for i in merged_people}
        assert dict(legacy.rows("establishment", "SELECT BZLX, HDS FROM T_BZ WHERE JGID = :u", u=merged_local)) == {
            t: n - merged_types.get(t, 0) for t, n in approved_before.items()}
        assert set(legacy.rows("hr", "SELECT DWBM FROM RS_RYXX WHERE GMSFHM IN :p", p=tuple(merged_people))) == {
            (ready.ident.local_id("hr"),)}
        assert set(legacy.rows("finance", "SELECT DWDM FROM GZ_RY WHERE SFZH IN :p", p=tuple(merged_people))) == {
            (ready.ident.local_id("finance"),)}
        assert merged_ident.local_id("hr") != ready.ident.local_id("hr")
        # Pay starts only after the slot and stops with it: the check (as `hub check` runs it, at the latest pay
        # month) finds nothing new about the person or the institution, nor about the person in the months of
        # entering and after leaving.
        # (The people moved in are left out here: the registry keeps only a slot's current status, so in a month
        # before a move's date they show as holding no slot; their check is below, from the month they moved.)
        assert {f for f in _findings(targets, ready.reference, person, code) if f[1] not in merged_people | {mover}} \
            <= before
        for month in (ready.month(1), ready.month(3)):
            assert not {f for f in _findings(targets, month, person, code) if f[1] == person}, month
        # Nor anything new about the people moved, by the transfer or the reform, from the month they moved (the
        # demo's payroll ends at the reference month, so everyone in a slot is unpaid later on: R02).
        for month in (ready.month(2), ready.month(3)):
            assert {f for f in _about(targets, month, merged_people | {mover}) if f[0] != "R02"} <= moved_before, month
    finally:
        legacy.close()


def test_one_window_writes_back_on_sqlite(tmp_path: Path) -> None:
    targets = sqlite_targets(tmp_path)
    generate_into(targets, persons=150, seed=5)
    one_window(targets, tmp_path)


def _server(factory: DatabaseFactory, tmp_path: Path) -> None:
    targets = {d: factory() for d in DEPARTMENTS}
    generate_into(targets, persons=150, seed=5)
    one_window(targets, tmp_path)


def test_one_window_writes_back_on_postgresql(pg_database: DatabaseFactory, tmp_path: Path) -> None:
    _server(pg_database, tmp_path)


def test_one_window_writes_back_on_mariadb(mariadb_database: DatabaseFactory, tmp_path: Path) -> None:
    _server(mariadb_database, tmp_path)


def test_a_department_without_writes_pulls_and_acknowledges_its_changes(tmp_path: Path) -> None:
    targets = sqlite_targets(tmp_path)
    generate_into(targets, persons=150, seed=5)
    legacy = Legacy(targets)
    try:
        ready = _prepare(targets, legacy)
        person = newcomer(12)
        settings = hub_settings(tmp_path, targets, delivery_interval=0)
        for department, url in targets.items():
            settings.source[department] = SourceSettings(url=url, writes=department != "finance")
        with running_hub(settings) as hub:
            est, org, hr, fin = _desks(hub)
            desks = {"est": est, "org": org, "hr": hr, "fin": fin}
            _walk(desks, est.do(SUBMIT, kind="VACANCY_PLAN", input={
                "institutionCode": ready.ident.code, "quotaType": ready.quota_type, "places": 1}), "est", "fin")
            app = _walk(desks, est.do(SUBMIT, kind="ONBOARDING", input=_onboarding(ready, 12)), "est", "org", "hr", "fin")
            assert app["state"] == "COMPLETED"

            def pulled() -> list[dict[str, Any]]:
                body = hub.query(EVENTS, {"d": "FINANCE"}, role="integration", department="finance")
                assert "errors" not in body, body
                return body["data"]["changeEvents"]  # type: ignore[no-any-return]

            events = pulled()
            assert [(e["applicationId"], e["entity"], e["op"]) for e in events] == [
                (app["id"], "payee", "INSERT"), (app["id"], "payroll_change", "INSERT")]
            payee, change = (e["values"] for e in events)
            assert change["payee_code"] == payee["payee_code"] and change["kind"] == "START"
            assert not any(e["deliveredAt"] or e["acknowledgedAt"] for e in events)
            other = hub.query(EVENTS, {"d": "HR"}, role="integration", department="finance")
            assert other.get("errors"), other  # only its own department's
            acknowledged = hub.query("mutation($d: Department!, $n: Int!) { acknowledgeChangeEvents(department: $d, "
                                     "upTo: $n) }", {"d": "FINANCE", "n": events[-1]["id"]},
                                     role="integration", department="finance")
            assert acknowledged["data"]["acknowledgeChangeEvents"] == 2
            assert all(e["acknowledgedAt"] and not e["deliveredAt"] for e in pulled())
            hr_events = hub.query(EVENTS, {"d": "HR"})["data"]["changeEvents"]
            assert [e["entity"] for e in hr_events] == ["personnel", "post_assignment"]
            assert all(e["deliveredAt"] for e in hr_events)
        # The writing departments have the person; finance's own system has still to apply its events.
        assert legacy.rows("establishment", "SELECT RYZT FROM T_SMZ WHERE SFZH = :p", p=person) == [("在编",)]
        assert legacy.rows("hr", "SELECT ZT FROM RS_RYXX WHERE GMSFHM = :p", p=person) == [("在职",)]
        assert legacy.rows("finance", "SELECT COUNT(*) FROM GZ_RY WHERE SFZH = :p", p=person) == [(0,)]
    finally:
        legacy.close()
