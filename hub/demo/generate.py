"""Generate the four departments' legacy databases with planted anomalies, and the manifest."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from hub.core.codes import PostLevel, PostScope
from hub.demo import education
from hub.demo.institutions import Institution, build_institutions
from hub.demo.payroll import pay_rows
from hub.demo.plans import build_plans
from hub.demo.planting import Planting
from hub.demo.population import build_people, mint_id
from hub.demo.rows import person_rows
from hub.demo.units import approve_quotas, other_unit_rows, unit_facts, unit_rows
from hub.demo.world import World
from hub.demo.writer import Sink

DEPARTMENTS = ("establishment", "organization", "hr", "finance")
# Departments joined the integrator's way (a mapping beside the demo, not a shipped one): written when targeted.
JOINED = ("education",)
# Who `hub demo` prints tokens for: (role, department, region).
DEMO_USERS = (
    ("admin", None, "152900"),
    ("officer", "finance", "152900"),
    ("officer", "establishment", "152921"),
    ("auditor", None, "152900"),
    ("officer", "education", "152921"),
)
# The console's demo sign-in list (hub/console/web.py): the global roles league-wide, then each
# department's officer league-wide and in each banner and zone with a county code.
BANNERS = ("152921", "152922", "152923", "152971")
CONSOLE_USERS: tuple[tuple[str, str | None, str], ...] = (
    ("admin", None, "152900"),
    ("analyst", None, "152900"),
    ("auditor", None, "152900"),
    *(("officer", d, r) for d in DEPARTMENTS for r in ("152900", *BANNERS)),
)
Progress = Callable[[str, int, int], None]
MAX_INSTITUTIONS = 99_999  # the width of the legacy unit codes


def join_demo_departments(out: Path) -> None:
    """Set the environment of the departments the demo joins the integrator's way (the education bureau:
    its database in the demo folder, its mapping and policy lines beside this generator), unless set:
    HUB_SOURCE_EDUCATION_URL and _MAPPING, and HUB_POLICY_FILE (the default policy and the bureau's lines,
    written to the demo folder)."""
    import os

    from policies.grants import POLICY_PATH

    os.environ.setdefault("HUB_SOURCE_EDUCATION_URL", f"sqlite+aiosqlite:///{Path(out).resolve() / 'education.db'}")
    os.environ.setdefault("HUB_SOURCE_EDUCATION_MAPPING", str(education.MAPPING))
    if "HUB_POLICY_FILE" not in os.environ:
        policy = Path(out) / "policy.csv"
        policy.write_text(POLICY_PATH.read_text(encoding="utf-8") + "\n" + education.POLICY.read_text(encoding="utf-8"),
                          encoding="utf-8")
        os.environ["HUB_POLICY_FILE"] = str(policy)


def sqlite_targets(out_dir: Path) -> dict[str, str]:
    """One SQLite file per department in `out_dir`: {department: async URL}."""
    return {d: f"sqlite+aiosqlite:///{Path(out_dir) / f'{d}.db'}" for d in DEPARTMENTS}


def demo_targets(out_dir: Path) -> dict[str, str]:
    """The demo's SQLite files: the four departments' and those the demo joins the integrator's way (JOINED)."""
    return {d: f"sqlite+aiosqlite:///{Path(out_dir) / f'{d}.db'}" for d in (*DEPARTMENTS, *JOINED)}


def generate(
    targets: dict[str, str],
    *,
    persons: int = 10_000,
    seed: int = 1,
    institutions: int | None = None,
    months: int = 12,
    reference_month: str = "2026-10",
    manifest_path: Path | None = None,
    progress: Progress | None = None,
) -> dict:
    """Write the four legacy databases (targets: department id -> SQLAlchemy URL, async or sync driver
    names both accepted) and return the manifest (also written to manifest_path as JSON)."""
    missing = [d for d in DEPARTMENTS if d not in targets]
    if missing:
        raise ValueError(f"no target database for {', '.join(missing)}")
    if persons < 1 or months < 1:
        raise ValueError("persons and months must be positive")
    if institutions is not None and not 1 <= institutions <= MAX_INSTITUTIONS:
        raise ValueError(f"institutions must be between 1 and {MAX_INSTITUTIONS}")
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", reference_month):
        raise ValueError("reference_month must look like 2026-10")
    report = progress or (lambda stage, done, total: None)
    units = build_institutions(institutions or min(MAX_INSTITUTIONS, max(60, persons // 25)), persons, seed)
    world = World(seed, reference_month, months, units)
    planting = Planting(world, persons)
    # Finance (the pay lines, most of the rows) is written from a second process, beside the generation.
    sink = Sink({d: targets[d] for d in DEPARTMENTS}, expand={"GZ_YB": pay_rows}, away=("finance",))
    try:
        report("schema", 0, 1)
        sink.create()
        report("schema", 1, 1)
        done, step = 0, max(1, persons // 200)
        for inst in units:
            before, done = done, done + _institution(inst, world, planting, sink)
            if done // step != before // step or inst is units[-1]:
                report("persons", done, persons)
        sink.finish(report)
    except BaseException:
        sink.discard()
        raise
    finally:
        sink.close()
    if "education" in targets:
        education.write(targets["education"], units, seed)
    manifest = planting.manifest(seed, persons, reference_month)
    if manifest_path is not None:
        text = json.dumps(manifest, ensure_ascii=False, indent=1) + "\n"
        Path(manifest_path).write_text(text, encoding="utf-8")
    return manifest


def _institution(inst: Institution, world: World, planting: Planting, sink: Sink) -> int:
    """Generate, plant and write one institution and its people; returns how many people."""
    rng = world.rng("rows", inst.idx)
    people = build_people(inst, world)
    planting.plant_people(people)
    for p in people:
        mint_id(p, world)  # after planting: R08 moves birth dates, which the ID number carries
    planting.record_people()
    plan_rows = build_plans(inst, [s for p in people if p.in_registry for s in p.slots], world)
    facts = unit_facts(inst, people, world)
    approve_quotas(inst, facts, rng)
    heads = inst.posts.get((PostLevel.HEAD, PostScope.UNIT), 0)
    deputies = inst.posts.get((PostLevel.DEPUTY, PostScope.UNIT), 0)
    planting.plant_unit(inst, facts)  # may cut an approved quota or post count, or spoil a code
    rows = unit_rows(inst, people, world, rng) | other_unit_rows(inst, heads, deputies, rng)
    rows["T_YBJH"] = plan_rows
    for table, table_rows in rows.items():
        sink.buffers[table] += table_rows
    for p in people:
        person_rows(p, world, rng, sink.buffers)
    sink.flush_full()  # buffers stay bounded: at most a chunk plus one institution's rows
    return len(people)
