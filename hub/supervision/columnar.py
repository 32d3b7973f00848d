"""The columnar may-hit pass: which persons a person rule can fire on, from whole columns at once.

Every person stream is read as canonical columns (adapters.columns: one statement per stream, the
mapping's conversion done per distinct value or in Polars), grouped by normalized ID number into one
row per person with the columns below, and each person rule's `may_hit` (a Polars expression over
them, declared beside the rule in person_rules.PERSON_RULES) flags a superset of the persons it can
fire on. The engine then runs the unchanged per-person rules on the flagged persons only, reading
their records by ID number. A rule without `may_hit` makes every person flagged: a rule added later
is never skipped. Active slots per (unit, quota type) for R04 are counted here for everyone.

The person frame's columns (counts are of the person's records; booleans are never null):

- ``active``, ``slots``, ``lines``, ``payees``, ``insurance``: active slots at the month end, slots,
  pay rows of the reference month, payee records, insurance records;
- ``left_slot``: a slot left by the month end; ``left_hr``: HR records died/resigned by the month end;
- ``paid_after_leaving``: paid in a month after the first leaving event (the last slot left while none
  is active, or dying/resigning in HR): in the reference month, or in the `lookback` months before it
  under one of the person's payee codes;
- ``worker``: may be in a worker post (a GQ slot, PI-worker HR category or worker post record);
- ``stray_pay``: a pay row's institution (its unit, else a payee's of that code) holds none of the
  person's active slots;
- ``category_conflict``: an active slot's quota type does not admit one of the person's HR categories;
- ``scale_conflict``: a civil-service slot beside pay on the PI post/step scale, or another typed
  slot beside pay on the civil-servant post/grade scale;
- ``retirement_due``: the statutory retirement date for the ID number's birth date and sex (women
  with ``worker``: the worker group's) is on or before the month end;
- ``deferred``: a recorded deferral covers the month;
- ``invalid_id``: the ID number is malformed, has an impossible birth date or a wrong check digit;
- ``birth_conflict``, ``sex_conflict``, ``name_conflict``: values across records disagree (births at
  their common precision, with the ID number's own birth date and sex);
- ``plan_problem``: a slot entered by the month end cites no plan, a missing, other unit's, other
  type's, revoked or later-approved plan, or a plan cited by more slots than it has places;
- ``pension``: pension deducted in the month (fen); ``insured``, ``ended``: insurance statuses held
  (INSURED; ENDED or SUSPENDED);
- ``quota_flag_conflict``: a payee record flagged on-quota while no slot is active, or off-quota
  while one is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from adapters import columns
from adapters.base import ColumnReader
from adapters.registry import Sources
from hub.core import ids
from hub.core.codes import (
    CIVIL_SERVICE_SCALE,
    QUOTA_CATEGORIES,
    EmploymentStatus,
    InsuranceStatus,
    PersonnelCategory,
    PlanStatus,
    PostCategory,
    QuotaType,
)
from hub.core.records import RECORDS
from hub.core.retirement import RetirementGroup, month_end, retirement_date
from hub.supervision.facts import ACTIVE_STATUSES, World, add_month
from hub.supervision.person_rules import PERSON_RULES

ID = "id_number"
# The fields each stream is read with (PersonView field -> fields).
FIELDS: dict[str, tuple[str, ...]] = {
    "slots": (ID, "slot_id", "unit_local_id", "quota_type", "status", "entered_on", "left_on", "plan_id",
              "birth", "sex", "name"),
    "personnel": (ID, "status", "status_on", "category", "birth", "sex", "name"),
    "posts": (ID, "category"),
    "insurance": (ID, "status", "birth", "sex", "name"),
    "cadres": (ID, "birth", "sex", "name"),
    "payees": (ID, "payee_code", "unit_local_id", "on_quota", "sex", "name"),
    "pay": (ID, "payee_code", "unit_local_id", "post_pay", "grade_pay", "position_pay", "step_pay", "pension"),
}
# Text read as categoricals (a 32-bit code a row, not a 16-byte view and the text): the ID numbers, so that every
# group-by and join below is on the code, and the fields with few distinct values.
CATEGORICAL = ("status", "sex", "birth", "category")
HISTORY_FIELDS = ("payee_code", "month")
PLAN_FIELDS = ("plan_id", "unit_local_id", "quota_type", "planned", "approved_on", "status")
_WEIGHTS = ids.ID_WEIGHTS
_CHECK = ids.ID_CHECK


def _reader(sources: Sources, department: str) -> ColumnReader:
    adapter = sources[department]
    assert isinstance(adapter, ColumnReader)
    return adapter


async def read(sources: Sources, available: set[str], streams: Iterable[tuple[str, str]], month: str,
               plans: bool, lookback: int = 12) -> dict[str, pl.DataFrame]:
    """Each stream's columns (rows without an ID number dropped), slots per cited plan (`cited`), the
    vacancy plans when `plans`, and (payee code, latest month) of the pay in the `lookback` months before `month`
    for the payee codes of the persons who left (`history`)."""
    holders = sources.holders()
    frames: dict[str, pl.DataFrame] = {}
    for name, entity in streams:
        department = holders.get(entity)
        if department in available:
            frame = await _reader(sources, department).columns(entity, FIELDS[name], {"month": month} if entity == "pay_line" else None)
        else:  # no records, typed as a source's would be: the rules needing it are skipped, the others run
            frame = columns.empty(RECORDS[entity], FIELDS[name])
        if name == "slots":  # entries citing each plan, whatever their ID number (R13's places)
            frames["cited"] = frame.filter(pl.col("plan_id").is_not_null()).group_by("plan_id").agg(pl.len().alias("cited"))
        frames[name] = frame.filter(pl.col(ID).is_not_null() & (pl.col(ID) != "")).with_columns(
            pl.col(c).cast(pl.Categorical) for c in (ID, *CATEGORICAL) if c in frame.columns)
    department = holders.get("vacancy_plan")
    if plans and department in available:
        frames["plans"] = await _reader(sources, department).columns("vacancy_plan", PLAN_FIELDS)
    department = holders.get("pay_line")
    months = [add_month(month, -n) for n in range(1, max(lookback, 1))]
    if department in available and months:
        codes = _leavers_codes(frames, month_end(month))
        parts = [await _reader(sources, department).columns("pay_line", HISTORY_FIELDS,
                                                            {"month": months, "payee_code": codes[i:i + HISTORY_CODES]},
                                                            latest="month") for i in range(0, len(codes), HISTORY_CODES)]
        frames["history"] = pl.concat(parts) if parts else columns.empty(RECORDS["pay_line"], HISTORY_FIELDS)
    return frames


HISTORY_CODES = 10_000  # payee codes per statement of the pay history (each written into the SQL)


def _left_hr(personnel: pl.DataFrame, end: dt.date) -> pl.DataFrame:
    """HR records of dying or resigning by `end`."""
    return personnel.filter(
        pl.col("status").is_in([EmploymentStatus.DECEASED.value, EmploymentStatus.RESIGNED.value]).fill_null(False)
        & (pl.col("status_on") <= end).fill_null(False))


def _active(slots: pl.DataFrame, end: dt.date) -> pl.DataFrame:
    """The slots active at `end`: an active status, entered by then (or undated), not left by then."""
    return slots.filter(pl.col("status").is_in([s.value for s in ACTIVE_STATUSES]).fill_null(False)
                        & (pl.col("left_on").is_null() | (pl.col("left_on") > end))
                        & (pl.col("entered_on").is_null() | (pl.col("entered_on") <= end)))


def _leavers_codes(frames: Mapping[str, pl.DataFrame], end: dt.date) -> list[str]:
    """The payee codes of the persons with a leaving event by `end` (a slot left while none is active, or
    dying/resigning in HR): the only ones whose earlier pay `paid_after_leaving` reads."""
    slots = frames["slots"]
    left_slots = slots.filter((pl.col("left_on") <= end).fill_null(False)).select(ID).join(
        _active(slots, end).select(ID), on=ID, how="anti")
    left = pl.concat([left_slots, _left_hr(frames["personnel"], end).select(ID)])
    codes = frames["payees"].join(left.unique(), on=ID, how="semi").get_column("payee_code")
    return sorted(codes.drop_nulls().unique().to_list())


def _codes(world: World, entity: str, locals_: pl.Series) -> pl.Series:
    """Canonical institution codes of an entity's unit codes (one Python call per distinct unit)."""
    distinct = locals_.drop_nulls().unique()
    codes = pl.Series([world.institution(entity, u) for u in distinct.to_list()], dtype=pl.String)
    return locals_.replace_strict(distinct, codes, default=None, return_dtype=pl.String)


def _flag(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """(id_number, name=True) for the distinct IDs of a frame."""
    return frame.select(ID).unique().with_columns(pl.lit(True).alias(name))


def _id_checks(persons: pl.DataFrame) -> pl.DataFrame:
    """invalid_id, the ID's birth date (`born`) and sex (`id_male`) where GB 11643 gives them."""
    idn = pl.col("text")
    digits17 = idn.str.slice(0, 17).str.contains(r"^\d{17}$") & (idn.str.len_chars() == 18)
    date_text = idn.str.slice(6, 8)
    born = (pl.when(digits17 & (idn.str.slice(6, 4) != "0000"))
            .then(date_text.str.to_date("%Y%m%d", strict=False)).otherwise(None))
    body = idn.str.slice(0, 17).cast(pl.Int64, strict=False)  # read only where well formed (17 digits)
    total = pl.sum_horizontal([body // 10 ** (16 - i) % 10 * w for i, w in enumerate(_WEIGHTS)])
    check = (total % 11).replace_strict(list(range(11)), list(_CHECK), default=None, return_dtype=pl.String)
    well_formed = idn.str.contains(r"^\d{17}[\dX]$")
    valid = well_formed & born.is_not_null() & (check == idn.str.slice(17, 1))
    # the ID numbers as text once (they are categoricals), for the string expressions above
    text = persons.select(pl.col(ID).cast(pl.String).alias("text"))
    checked = text.select(born.alias("born"), (~valid).fill_null(True).alias("invalid_id"),
                          (idn.str.slice(16, 1).cast(pl.Int64, strict=False) % 2 == 1).alias("id_male"))
    return persons.hstack(checked)


def _worker(frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """IDs that may be in a worker post (R08): any GQ slot, PI-worker HR category or worker post record."""
    return _flag(pl.concat([
        frames["slots"].filter(pl.col("quota_type") == QuotaType.GQ.value).select(ID),
        frames["personnel"].filter(pl.col("category") == PersonnelCategory.PI_WORKER.value).select(ID),
        frames["posts"].filter(pl.col("category") == PostCategory.WORKER.value).select(ID),
    ]), "worker")


def _retirement(persons: pl.DataFrame, end: dt.date) -> pl.Series:
    """Whether the retirement date for the ID's birth date, sex and (possible) worker post is by `end`."""
    distinct = persons.get_column("born").drop_nulls().unique().to_list()
    due = {group: [retirement_date(b, group) <= end for b in distinct] for group in RetirementGroup}
    table = pl.DataFrame({"born": distinct, **{g.value: v for g, v in due.items()}},
                         schema={"born": pl.Date, **{g.value: pl.Boolean for g in RetirementGroup}})
    joined = persons.select(ID, "born", "id_male", "worker").join(table, on="born", how="left", maintain_order="left")
    group = (pl.when(pl.col("id_male")).then(pl.col(RetirementGroup.MEN.value))
             .when(pl.col("worker")).then(pl.col(RetirementGroup.WOMEN_WORKER.value))
             .otherwise(pl.col(RetirementGroup.WOMEN_CADRE.value)))
    return joined.select(group.fill_null(False)).to_series()


def _values(frames: Mapping[str, pl.DataFrame], names: tuple[str, ...], field: str) -> pl.DataFrame:
    parts = [frames[n].select(ID, pl.col(field).cast(pl.String).alias("v")) for n in names]
    return pl.concat(parts).filter(pl.col("v").is_not_null() & (pl.col("v") != ""))


def _several(values: pl.DataFrame, name: str) -> pl.DataFrame:
    """IDs with more than one distinct value (distinct pairs counted: cheaper than a distinct count per group)."""
    return _flag(values.unique().group_by(ID).len().filter(pl.col("len") > 1), name)


_ISO = r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$"  # a birth value at year, month or day precision


def _birth_conflict(frames: Mapping[str, pl.DataFrame], persons: pl.DataFrame) -> pl.DataFrame:
    """IDs whose birth values differ at their common precision: the years differ, or the months of those with a
    month, or the days of those with a day; a value not of the form YYYY[-MM[-DD]] flags its ID (a superset)."""
    births = _values(frames, ("slots", "personnel", "cadres", "insurance"), "birth")
    v, n = pl.col("v"), pl.col("v").str.len_bytes()
    iso = v.str.contains(_ISO)
    number = v.str.replace_all("-", "", literal=True).cast(pl.Int64, strict=False)  # YYYY, YYYYMM or YYYYMMDD
    day = pl.when(iso & (n == 10)).then(number)
    month = pl.when(iso & (n >= 7)).then(pl.when(n == 10).then(number // 100).otherwise(number))
    year = pl.when(iso).then(pl.when(n == 10).then(number // 10_000).when(n == 7).then(number // 100).otherwise(number))
    keys = births.select(ID, (~iso).alias("odd"), year.alias("year"), month.alias("month"), day.alias("day"))
    born = pl.col("born")
    y, m, d = born.dt.year().cast(pl.Int64), born.dt.month().cast(pl.Int64), born.dt.day().cast(pl.Int64)
    own = persons.filter(born.is_not_null()).select(ID, pl.lit(False).alias("odd"), y.alias("year"),
                                                     (y * 100 + m).alias("month"), (y * 10_000 + m * 100 + d).alias("day"))
    differ = [(pl.col(c).min() != pl.col(c).max()).fill_null(False) for c in ("year", "month", "day")]
    both = pl.concat([keys, own]).group_by(ID).agg(pl.any_horizontal(pl.col("odd").any(), *differ).alias("x"))
    return _flag(both.filter("x"), "birth_conflict")


def _sex_conflict(frames: Mapping[str, pl.DataFrame], persons: pl.DataFrame) -> pl.DataFrame:
    own = persons.filter(pl.col("born").is_not_null()).select(
        ID, pl.when(pl.col("id_male")).then(pl.lit("MALE")).otherwise(pl.lit("FEMALE")).alias("v"))
    sexes = pl.concat([_values(frames, ("slots", "personnel", "cadres", "insurance", "payees"), "sex"), own])
    return _several(sexes.filter(pl.col("v").is_in(["MALE", "FEMALE"])), "sex_conflict")


def _name_conflict(frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    return _several(_values(frames, ("slots", "personnel", "insurance", "cadres", "payees"), "name"), "name_conflict")


def _stray_pay(frames: Mapping[str, pl.DataFrame], world: World, active: pl.DataFrame) -> pl.DataFrame:
    pay, payees = frames["pay"], frames["payees"]
    by_code = payees.select(ID, "payee_code", pl.col("unit_local_id").alias("payee_unit"))
    units = pay.select(ID, "payee_code", "unit_local_id").join(by_code, on=[ID, "payee_code"], how="left")
    units = units.select(ID, pl.coalesce("unit_local_id", "payee_unit").alias("unit"))  # every candidate: a superset
    paid = units.with_columns(_codes(world, "pay_line", units.get_column("unit")).alias("code")).filter(
        pl.col("code").is_not_null()).select(ID, "code")
    held = active.with_columns(_codes(world, "registry_slot", active.get_column("unit_local_id")).alias("code")).select(ID, "code")
    return _flag(paid.join(held, on=[ID, "code"], how="anti"), "stray_pay")


def _category_conflict(frames: Mapping[str, pl.DataFrame], active: pl.DataFrame) -> pl.DataFrame:
    allowed = pl.DataFrame([(q.value, c.value) for q, cs in QUOTA_CATEGORIES.items() for c in cs],
                           schema={"quota_type": pl.String, "category": pl.String}, orient="row")
    typed = active.filter(pl.col("quota_type").is_in([q.value for q in QUOTA_CATEGORIES])).select(ID, "quota_type")
    categories = frames["personnel"].filter(pl.col("category").is_not_null()).select(ID, pl.col("category").cast(pl.String))
    pairs = typed.join(categories, on=ID).join(allowed, on=["quota_type", "category"], how="anti")
    return _flag(pairs, "category_conflict")


def _scale_conflict(frames: Mapping[str, pl.DataFrame], active: pl.DataFrame) -> pl.DataFrame:
    civil = [q.value for q in CIVIL_SERVICE_SCALE]
    typed = active.filter(pl.col("quota_type").is_in([q.value for q in QuotaType])).group_by(ID).agg(
        pl.col("quota_type").is_in(civil).any().alias("civil"), (~pl.col("quota_type").is_in(civil)).any().alias("other"))
    pay = frames["pay"].group_by(ID).agg(
        ((pl.col("position_pay").fill_null(0) + pl.col("step_pay").fill_null(0)) > 0).any().alias("pi_items"),
        ((pl.col("post_pay").fill_null(0) + pl.col("grade_pay").fill_null(0)) > 0).any().alias("civil_items"))
    both = typed.join(pay, on=ID)
    return _flag(both.filter((pl.col("civil") & pl.col("pi_items")) | (pl.col("other") & pl.col("civil_items"))),
                 "scale_conflict")


def _plan_problem(frames: Mapping[str, pl.DataFrame], end: dt.date) -> pl.DataFrame:
    entered = frames["slots"].filter(pl.col("entered_on").is_not_null() & (pl.col("entered_on") <= end))
    if "plans" not in frames:
        return _flag(entered, "plan_problem")
    cited = frames["cited"]
    plans = frames["plans"].rename({"unit_local_id": "plan_unit", "quota_type": "plan_type", "status": "plan_status"})
    plans = plans.join(cited, on="plan_id", how="left")
    joined = entered.join(plans, on="plan_id", how="left")
    bad = (pl.col("plan_id").is_null() | pl.col("plan_unit").is_null()
           | pl.col("plan_unit").ne_missing(pl.col("unit_local_id")) | pl.col("plan_type").ne_missing(pl.col("quota_type"))
           | (pl.col("plan_status") == PlanStatus.REVOKED.value).fill_null(False)
           | pl.col("approved_on").is_null() | (pl.col("approved_on") > pl.col("entered_on")).fill_null(False)
           | pl.col("planned").is_null() | (pl.col("cited").fill_null(0) > pl.col("planned")).fill_null(True))
    return _flag(joined.filter(bad), "plan_problem")


def _paid_after_leaving(frames: Mapping[str, pl.DataFrame], world: World, active: pl.DataFrame,
                        left_hr: pl.DataFrame) -> pl.DataFrame:
    """IDs paid (in the month, or in the history months under one of their payee codes) in a month after
    their first leaving event: the last slot left while none is active, or dying/resigning in HR."""
    end = world.end
    left = frames["slots"].filter((pl.col("left_on") <= end).fill_null(False)).join(active.select(ID).unique(), on=ID,
                                                                                   how="anti")
    events = pl.concat([left.group_by(ID).agg(pl.col("left_on").max().alias("day")),
                        left_hr.select(ID, pl.col("status_on").alias("day"))])
    first = events.group_by(ID).agg(pl.col("day").min().dt.to_string("%Y-%m").alias("event"))
    paid = [frames["pay"].filter(pl.lit(True)).select(ID, pl.lit(world.month).alias("month"))]
    if "history" in frames:
        codes = frames["payees"].select(ID, "payee_code").unique()
        paid.append(frames["history"].join(codes, on="payee_code").select(ID, pl.col("month").cast(pl.String)))
    last = pl.concat(paid).group_by(ID).agg(pl.col("month").max().alias("last"))
    return _flag(first.join(last, on=ID).filter(pl.col("last") > pl.col("event")), "paid_after_leaving")


def persons(frames: Mapping[str, pl.DataFrame], world: World) -> tuple[pl.DataFrame, dict[tuple[str, str], int]]:
    """The person frame (module doc) and active slots per (unit, quota type or '')."""
    end = world.end
    slots = frames["slots"]
    active = _active(slots, end)
    headcount = {(u, q): n for u, q, n in active.group_by(
        "unit_local_id", pl.col("quota_type").fill_null("")).len().iter_rows()}
    everyone = pl.concat([f.select(ID) for n, f in frames.items() if n in FIELDS]).unique()

    def count(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        return frame.group_by(ID).len(name=name)

    left_hr = _left_hr(frames["personnel"], end)
    insurance = frames["insurance"].group_by(ID).agg(
        (pl.col("status") == InsuranceStatus.INSURED.value).any().alias("insured"),
        pl.col("status").is_in([InsuranceStatus.ENDED.value, InsuranceStatus.SUSPENDED.value]).any().alias("ended"),
        pl.len().alias("insurance"))
    out = everyone.with_columns(pl.col(ID).cast(pl.String).is_in(list(world.deferred)).alias("deferred"))
    out = out.join(_worker(frames), on=ID, how="left").with_columns(pl.col("worker").fill_null(False))
    for part in (
        count(active, "active"), count(slots, "slots"), count(frames["pay"], "lines"), count(frames["payees"], "payees"),
        frames["pay"].group_by(ID).agg(pl.col("pension").fill_null(0).sum().alias("pension")), insurance,
        _flag(slots.filter((pl.col("left_on") <= end).fill_null(False)), "left_slot"), _flag(left_hr, "left_hr"),
        _flag(frames["payees"].filter(pl.col("on_quota").is_not_null()).select(ID, "on_quota").unique()
              .join(count(active, "held"), on=ID, how="left")
              .filter(pl.col("on_quota") != (pl.col("held").fill_null(0) > 0)), "quota_flag_conflict"),
        _stray_pay(frames, world, active), _category_conflict(frames, active), _scale_conflict(frames, active),
        _plan_problem(frames, end), _name_conflict(frames), _paid_after_leaving(frames, world, active, left_hr),
    ):
        out = out.join(part, on=ID, how="left")
    out = _id_checks(out)
    out = out.with_columns(_retirement(out, end).alias("retirement_due"))
    for part in (_birth_conflict(frames, out), _sex_conflict(frames, out)):
        out = out.join(part, on=ID, how="left")
    counts = ("active", "slots", "lines", "payees", "insurance", "pension")
    flags = [c for c in out.columns if c not in (ID, "born", "id_male", *counts)]
    return out.with_columns(*(pl.col(c).fill_null(0) for c in counts),
                            *(pl.col(c).fill_null(False).cast(pl.Boolean) for c in flags)), headcount


def flagged(frame: pl.DataFrame, rules: Iterable[str]) -> list[str]:
    """Sorted ID numbers of the persons any of the rules may fire on (everyone when one has no may-hit)."""
    exprs: list[Any] = []
    for rule_id in rules:
        rule = PERSON_RULES.get(rule_id)
        if rule is None:
            continue
        if rule.may_hit is None:
            return sorted(frame.get_column(ID).to_list())
        exprs.append(pl.sql_expr(rule.may_hit))
    if not exprs:
        return []
    return sorted(frame.filter(pl.any_horizontal(exprs)).get_column(ID).to_list())


def values_of(frame: pl.DataFrame, field: str, keys: list[str]) -> dict[str, list[str]]:
    """The distinct non-null values of a field per ID number, for the given ID numbers."""
    pairs = frame.filter(pl.col(ID).is_in(keys) & pl.col(field).is_not_null()).select(ID, field).unique()
    return {k: v for k, v in pairs.group_by(ID).agg(pl.col(field)).iter_rows()}


PART_ROWS = 500_000  # person-stream rows per part of the person frame (bounds the joins' memory)


def scan(frames: Mapping[str, pl.DataFrame], world: World, rules: Iterable[str],
         part_rows: int = PART_ROWS) -> tuple[list[str], int, dict[tuple[str, str], int]]:
    """(flagged ID numbers, persons, headcount), building the person frame in parts by a hash of the ID
    number (every record of a person falls in one part; plans, plan counts and pay history are shared)."""
    rules = list(rules)
    rows = sum(f.height for n, f in frames.items() if n in FIELDS)
    parts = max(1, -(-rows // part_rows))
    keys: list[str] = []
    total = 0
    headcount: dict[tuple[str, str], int] = {}
    # each row's part, hashed once (not once per part)
    which = {n: (f.get_column(ID).hash(seed=0) % parts).cast(pl.UInt16) for n, f in frames.items() if n in FIELDS and parts > 1}
    for part in range(parts):
        sub = {n: f.filter(which[n] == part) if n in which else f for n, f in frames.items()}
        frame, counts = persons(sub, world)
        keys.extend(flagged(frame, rules))
        total += frame.height
        for key, n in counts.items():
            headcount[key] = headcount.get(key, 0) + n
    return sorted(keys), total, headcount
