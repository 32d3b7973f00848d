"""Alerts across runs: one alert per finding, first/last seen, resolved-by-data, reopening, lifecycle."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
import sqlalchemy as sa

from hub.core.errors import BadUserInput, Conflict, NotFound
from hub.store import Store
from hub.store.tables import alert_events, alerts, freeze_alerts, freeze_kinds, freezes
from hub.supervision.alerts import AlertStatus, transition
from hub.supervision.rules import RULES
from hub.supervision.service import supervise
from tests.supervision.conftest import Demo


def _db(targets: dict[str, str], department: str) -> sqlite3.Connection:
    return sqlite3.connect(sa.make_url(targets[department]).database)  # type: ignore[arg-type]


async def _alerts(store: Store) -> dict[tuple[str, str | None], Any]:
    async with store.connect() as conn:
        rows = await conn.execute(sa.select(alerts))
        return {(r.rule, r.id_number or r.institution_code): r for r in rows}


def _ghost(manifest: dict[str, Any]) -> str:
    ghosts = {a["idNumber"] for a in manifest["anomalies"] if a["rule"] == "R01" and "ghost" in a["detail"]}
    return sorted(ghosts)[0]


def _renamed(manifest: dict[str, Any]) -> str:
    return sorted(a["idNumber"] for a in manifest["anomalies"] if a["rule"] == "R12")[0]


async def test_same_findings_are_one_alert_and_vanished_ones_resolve_by_data(demo: Demo, store: Store) -> None:
    # given two runs over the same data
    sources, manifest, targets = await demo(persons=400, seed=5)
    first, _ = await supervise(sources, store)
    before = await _alerts(store)
    second, _ = await supervise(sources, store)
    after = await _alerts(store)
    # then every finding is one alert, seen twice, first seen unchanged
    assert first.opened == len(manifest["anomalies"]) == len(before)
    assert (second.opened, second.reopened, second.resolved) == (0, 0, 0)
    assert before.keys() == after.keys()
    for key, row in after.items():
        assert row.first_seen == before[key].first_seen and row.last_seen > before[key].last_seen
        assert row.first_run_id == first.id and row.last_run_id == second.id

    # when a ghost stops being paid and a clean payee is flagged off-quota
    ghost, flagged = _ghost(manifest), _renamed(manifest)
    with _db(targets, "finance") as fin:
        codes = [r[0] for r in fin.execute("SELECT RYBM FROM GZ_RY WHERE SFZH = ?", (ghost,))]
        fin.execute(f"DELETE FROM GZ_YB WHERE GZNY = '202610' AND RYBM IN ({','.join('?' * len(codes))})", codes)
        fin.execute("UPDATE GZ_RY SET BZQK = '编外' WHERE SFZH = ?", (flagged,))
    third, _ = await supervise(sources, store)
    now = await _alerts(store)

    # then the ghost's alerts are resolved by data, the new finding is a new alert
    assert now[("R01", ghost)].status == now[("R16", ghost)].status == AlertStatus.RESOLVED_BY_DATA
    assert now[("R16", flagged)].status == AlertStatus.OPEN and now[("R16", flagged)].first_run_id == third.id
    assert (third.opened, third.resolved) == (1, 2)
    async with store.connect() as conn:
        steps = [(e.to_status, e.actor) for e in await conn.execute(
            sa.select(alert_events).where(alert_events.c.alert_id == now[("R01", ghost)].id).order_by(alert_events.c.id))]
    assert steps == [("OPEN", "system"), ("RESOLVED_BY_DATA", "system")]

    # when the ghost is paid again, its alerts reopen (the same alert, not a new one)
    with _db(targets, "finance") as fin:
        fin.execute("INSERT INTO GZ_YB SELECT '202610', RYBM, DWDM, ZWGZ, JBGZ, GWGZ, XJGZ, JCJX, JLJX, JTBT, YFHJ, "
                    "DK_YL, DK_YB, DK_NJ, DK_SY, DK_GJJ, DK_SDS, SFHJ FROM GZ_YB WHERE GZNY = '202609' AND RYBM IN "
                    f"({','.join('?' * len(codes))})", codes)
    fourth, _ = await supervise(sources, store)
    again = await _alerts(store)
    assert again[("R01", ghost)].id == now[("R01", ghost)].id and again[("R01", ghost)].status == AlertStatus.OPEN
    assert fourth.reopened == 2 and fourth.opened == 0


async def test_a_scoped_run_resolves_only_inside_its_scope(demo: Demo, store: Store) -> None:
    sources, manifest, targets = await demo(persons=400, seed=6)
    await supervise(sources, store)
    ghost = _ghost(manifest)
    unit = (await _alerts(store))[("R01", ghost)].institution_code
    with _db(targets, "finance") as fin:
        fin.execute("DELETE FROM GZ_YB WHERE GZNY = '202610' AND RYBM IN (SELECT RYBM FROM GZ_RY WHERE SFZH = ?)",
                    (ghost,))
    from hub.supervision.model import Scope

    other = next(code for (_, _), r in (await _alerts(store)).items() if (code := r.institution_code) not in (unit, None))
    run, _ = await supervise(sources, store, scope=Scope(frozenset({other})))
    assert run.resolved == 0
    run, _ = await supervise(sources, store, scope=Scope(frozenset({unit})))
    assert (run.resolved or 0) >= 1 and (await _alerts(store))[("R01", ghost)].status == AlertStatus.RESOLVED_BY_DATA


async def test_lifecycle_steps_and_illegal_ones(demo: Demo, store: Store) -> None:
    sources, _, _ = await demo(persons=400, seed=7)
    await supervise(sources, store)
    ids = sorted(r.id for r in (await _alerts(store)).values())
    a, b = ids[0], ids[1]

    done = await transition(store, a, AlertStatus.ACKNOWLEDGED, "officer-1", "看到了 / seen")
    assert done.status == AlertStatus.ACKNOWLEDGED
    await transition(store, a, AlertStatus.RECTIFYING, "officer-1", "整改中")
    resolved = await transition(store, a, AlertStatus.RESOLVED, "officer-2", "已追回 / recovered")
    assert resolved.status == AlertStatus.RESOLVED

    with pytest.raises(Conflict) as err:
        await transition(store, b, AlertStatus.RESOLVED, "officer-1")
    assert err.value.extensions["code"] == "CONFLICT" and " / " in err.value.message
    with pytest.raises(BadUserInput):
        await transition(store, b, AlertStatus.DISMISSED, "officer-1", "  ")
    await transition(store, b, AlertStatus.DISMISSED, "officer-1", "核实为正常调动 / a normal transfer")
    with pytest.raises(Conflict):
        await transition(store, b, AlertStatus.ACKNOWLEDGED, "officer-1")
    with pytest.raises(NotFound):
        await transition(store, 10**9, AlertStatus.ACKNOWLEDGED, "officer-1")

    # a later run: the finding behind the resolved alert is still there, so it reopens; dismissed stays dismissed
    await supervise(sources, store)
    async with store.connect() as conn:
        status = dict((r.id, r.status) for r in await conn.execute(sa.select(alerts.c.id, alerts.c.status)))
        history = [(e.from_status, e.to_status, e.actor) for e in await conn.execute(
            sa.select(alert_events).where(alert_events.c.alert_id == a).order_by(alert_events.c.id))]
    assert status[a] == AlertStatus.OPEN and status[b] == AlertStatus.DISMISSED
    assert history == [(None, "OPEN", "system"), ("OPEN", "ACKNOWLEDGED", "officer-1"),
                       ("ACKNOWLEDGED", "RECTIFYING", "officer-1"), ("RECTIFYING", "RESOLVED", "officer-2"),
                       ("RESOLVED", "OPEN", "system")]


async def test_severe_alerts_propose_freezes(demo: Demo, store: Store) -> None:
    sources, _, _ = await demo(persons=400, seed=8)
    run, _ = await supervise(sources, store)
    async with store.connect() as conn:
        proposed = list(await conn.execute(sa.select(freezes)))
        severe = {r.institution_code for r in await conn.execute(
            sa.select(alerts.c.institution_code).where(alerts.c.severity == "SEVERE"))}
        kinds = {(r.freeze_id, r.kind) for r in await conn.execute(sa.select(freeze_kinds))}
        linked = {(r.freeze_id, RULES[r.rule].freeze) for r in await conn.execute(
            sa.select(freeze_alerts.c.freeze_id, alerts.c.rule).join(alerts, alerts.c.id == freeze_alerts.c.alert_id))}
    assert run.proposed_freezes and len(proposed) == len(run.proposed_freezes)
    assert {f.institution_code for f in proposed} == severe - {None}
    assert all(f.status == "PROPOSED" for f in proposed)
    # one proposal per institution and kind: the kind its linked alerts' rules name
    assert kinds == linked and len(kinds) == len(proposed)
    assert len({(f.institution_code, k) for f in proposed for i, k in kinds if i == f.id}) == len(proposed)
    again, _ = await supervise(sources, store)
    assert again.proposed_freezes == ()
