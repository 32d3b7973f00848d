"""An independent reading of the statistics over the demo's SQLite files: raw legacy rows counted in Python.

It shares nothing with resolvers/stats.py or the adapters: its own SQL over the legacy tables, its own
code maps (copied from the legacy documentation), its own placement of units (the demo oracle's
crosswalk), its own age bands. Institutions are keyed by the establishment office's unit id (JGID).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Any

from hub.core import ids
from tests.demo.oracle import Oracle

TYPES = {"行政机关": "AGENCY", "参公事业单位": "CIVIL_SERVICE_PI", "公益一类": "PI_CLASS_1", "公益二类": "PI_CLASS_2",
         "经营类": "COMMERCIAL_PI", "群团": "MASS_ORG"}
FUNDING = {"全额": "FULL", "差额": "PARTIAL", "自收自支": "SELF"}
ETHNIC = {"汉族": "01", "蒙古族": "02", "回族": "03", "藏族": "04", "维吾尔族": "05", "满族": "11", "其他": "97"}
EDUCATION = {"研究生": "10", "本科": "20", "大学本科": "20", "专科": "30", "大专": "30", "中职": "40", "中专": "40",
             "高中": "60", "初中": "70", "小学": "80", "其他": "90"}
POSTS = {"1": "MANAGEMENT", "2": "TECHNICAL", "3": "WORKER"}
BANDS = ((60, "60+"), (55, "55-59"), (50, "50-54"), (40, "40-49"), (30, "30-39"), (0, "<30"))
PAY = {"gross": "YFHJ", "net": "SFHJ", "post_pay": "ZWGZ", "position_pay": "GWGZ", "allowances": "JTBT",
       "income_tax": "DK_SDS", "housing_fund": "DK_GJJ"}


def band(birth: dt.date, today: dt.date) -> str:
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    return next(label for low, label in BANDS if age >= low)


class StatsOracle:
    """Per dimension value, each measure, computed from the raw rows in a region's scope."""

    def __init__(self, demo: Path, region: str, today: dt.date) -> None:
        self.o = Oracle(demo)
        self.o.crosswalk()
        self.region, self.today = region, today
        q = self.o.q
        self.units = {j: (x, TYPES.get(t), FUNDING.get(f)) for j, x, t, f in q("SELECT JGID, XZQH, JGLB, JFXS FROM T_JG")}
        base = {uscc: jgid for (src, jgid), uscc in self.o.unit.items() if src == "T_JG"}
        self.jgid = {key: base.get(uscc) for key, uscc in self.o.unit.items()}  # (table, local id) -> JGID

    def inside(self, table: str, local: str | None) -> bool:
        jgid = self.jgid.get((table, local or ""))
        region = self.units[jgid][0] if jgid else None
        return self.region == "152900" or (region or "").startswith(self.region)

    def unit_dims(self, jgid: str | None) -> dict[str, Any]:
        region, kind, funding = self.units.get(jgid or "", (None, None, None))
        return {"REGION": region, "INSTITUTION": jgid, "INSTITUTION_TYPE": kind, "FUNDING": funding}

    def _slots(self) -> list[tuple[Any, ...]]:
        rows = self.o.q("SELECT RYID, JGID, SFZH, MZ, XL, BZLX, RBRQ FROM T_SMZ WHERE RYZT IN ('在编', '借调') AND CBRQ IS NULL")
        return [r for r in rows if self.inside("T_JG", r[1])]

    def _hr(self) -> dict[str, dict[str, Any]]:
        """Per person key, the HR facts: subject, highest title level, current post (category, grade)."""
        facts: dict[str, dict[str, Any]] = defaultdict(dict)
        staff = sorted(self.o.q("SELECT RYBH, GMSFHM, DWBM, RJXK FROM RS_RYXX"))
        units = {rybh: dwbm for rybh, _, dwbm, _ in staff}
        keys = {rybh: ids.normalize_id_number(sfz) for rybh, sfz, _, _ in staff}
        for rybh, _, dwbm, subject in staff:
            if keys[rybh] and subject and self.inside("RS_DW", dwbm):
                facts[keys[rybh]].setdefault("SUBJECT", subject)
        for rybh, level in self.o.q("SELECT RYBH, ZCJB FROM RS_ZC"):
            key = keys.get(rybh)
            if key and level is not None and self.inside("RS_DW", units.get(rybh)):
                facts[key]["TITLE_LEVEL"] = min(facts[key].get("TITLE_LEVEL", 99), int(level))
        posts = self.o.q("SELECT RYBH, GWLB, GWDJ, QSRQ FROM RS_GWPY WHERE ZZRQ IS NULL")
        for rybh, category, grade, _ in sorted(posts, key=lambda r: (r[3] is None, r[3] or "")):
            key = keys.get(rybh)
            if key and self.inside("RS_DW", units.get(rybh)) and "POST_CATEGORY" not in facts[key]:
                facts[key]["POST_CATEGORY"] = POSTS.get(category)
                facts[key]["POST_GRADE"] = int(grade) if grade is not None else None
        for f in facts.values():
            if f.get("TITLE_LEVEL") == 99:
                del f["TITLE_LEVEL"]
        return facts

    def headcount(self, by: list[str], quota_type: str | None = None, among: set[str] | None = None) -> dict[tuple[Any, ...], int]:
        """Persons, each counted at their first active slot (entry date, then slot id) meeting the filter
        (a quota type; a set of institutions by JGID)."""
        first: dict[str, tuple[Any, ...]] = {}
        for slot in self._slots():
            key = ids.normalize_id_number(slot[2])
            if not key or (quota_type and slot[5] != quota_type) or (among is not None and slot[1] not in among):
                continue
            order = (slot[6] is None, slot[6] or "", slot[0])
            if key not in first or order < (first[key][6] is None, first[key][6] or "", first[key][0]):
                first[key] = slot
        hr = self._hr() if {"SUBJECT", "TITLE_LEVEL", "POST_CATEGORY", "POST_GRADE"} & set(by) else {}
        out: dict[tuple[Any, ...], int] = defaultdict(int)
        for key, slot in first.items():
            values = {**self.unit_dims(slot[1]), "QUOTA_TYPE": slot[5], "ETHNIC_GROUP": ETHNIC.get(slot[3]),
                      "EDUCATION": EDUCATION.get(slot[4]), **hr.get(key, {})}
            if ids.id_number_problem(key) is None:
                birth = ids.id_birth_date(key)
                assert birth is not None
                values["SEX"] = "MALE" if ids.id_sex(key) == "male" else "FEMALE"
                values["AGE_BAND"] = band(birth, self.today)
            out[tuple(values.get(d) for d in by)] += 1
        return dict(out)

    def occupied(self, by: list[str]) -> dict[tuple[Any, ...], int]:
        out: dict[tuple[Any, ...], int] = defaultdict(int)
        for slot in self._slots():
            values = {**self.unit_dims(slot[1]), "QUOTA_TYPE": slot[5], "ETHNIC_GROUP": ETHNIC.get(slot[3]),
                      "EDUCATION": EDUCATION.get(slot[4])}
            out[tuple(values[d] for d in by)] += 1
        return dict(out)

    def quota(self, by: list[str]) -> dict[tuple[Any, ...], dict[str, int]]:
        """Approved, vacant and over, per (institution, quota type) cell, added up by the dimensions."""
        cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for jgid, bzlx, hds in self.o.q("SELECT JGID, BZLX, HDS FROM T_BZ"):
            if self.inside("T_JG", jgid):
                cells[(jgid, bzlx)][0] += int(hds)
        for slot in self._slots():
            cells[(slot[1], slot[5])][1] += 1
        out: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for (jgid, bzlx), (a, o) in cells.items():
            group = out[tuple({**self.unit_dims(jgid), "QUOTA_TYPE": bzlx}[d] for d in by)]
            group["APPROVED"] += a
            group["VACANT"] += max(a - o, 0)
            group["OVER"] += max(o - a, 0)
        return {k: dict(v) for k, v in out.items()}

    def posts(self, by: list[str]) -> dict[tuple[Any, ...], dict[str, int]]:
        out: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for jgid, n in self.o.q("SELECT JGID, HDZS FROM T_LDZS"):
            if self.inside("T_JG", jgid):
                out[tuple(self.unit_dims(jgid)[d] for d in by)]["LEADERSHIP_APPROVED"] += int(n)
        for (unit,) in self.o.q("SELECT A0201B FROM A02 WHERE A0265 IS NULL"):
            if self.inside("B01", unit):
                out[tuple(self.unit_dims(self.jgid.get(("B01", unit)))[d] for d in by)]["LEADERSHIP_FILLED"] += 1
        return {k: dict(v) for k, v in out.items()}

    def pay(self, by: list[str], component: str) -> dict[tuple[Any, ...], tuple[int, int]]:
        """(total, pay lines) of a component per group."""
        out: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
        for dwdm, month, amount in self.o.q(f"SELECT DWDM, GZNY, {PAY[component]} FROM GZ_YB"):
            if self.inside("GZ_DW", dwdm):
                values = {**self.unit_dims(self.jgid.get(("GZ_DW", dwdm))), "MONTH": f"{str(month)[:4]}-{str(month)[4:]}"}
                found = out[tuple(values[d] for d in by)]
                found[0] += int(amount or 0)
                found[1] += 1
        return {k: (t, n) for k, (t, n) in out.items()}
