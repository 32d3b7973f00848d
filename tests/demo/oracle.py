"""An independent reading of docs/supervision.md over the generated SQLite files, to check the manifest.

It shares nothing with the generator except the standards in hub.core.ids / hub.core.retirement / hub.core.codes,
so a finding the generator did not plant (or a planted one that does not show) fails the tests.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter, defaultdict
from pathlib import Path

from hub.core import ids
from hub.core.codes import QUOTA_CATEGORIES, UNIT_LEVELS, PersonnelCategory, QuotaType, Rank
from hub.core.retirement import month_end, retirement_date, retirement_group

RANKS = {
    "正处": Rank.DEPARTMENT_HEAD,
    "副处": Rank.DEPARTMENT_DEPUTY,
    "正科": Rank.SECTION_HEAD,
    "副科": Rank.SECTION_DEPUTY,
    "股级": Rank.UNIT,
}
CATEGORY = {
    "01": PersonnelCategory.CIVIL_SERVANT,
    "02": PersonnelCategory.CIVIL_SERVICE_PI,
    "03": PersonnelCategory.PI_MANAGEMENT,
    "04": PersonnelCategory.PI_TECHNICAL,
    "05": PersonnelCategory.PI_WORKER,
}
Finding = tuple[str, ...]


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _key(raw: str | None) -> str:
    return ids.normalize_id_number(raw) or ""


class Oracle:
    """Loads the four SQLite files and evaluates the sixteen rules."""

    def __init__(self, out: Path) -> None:
        self.db = sqlite3.connect(":memory:")
        for dept in ("establishment", "organization", "hr", "finance"):
            self.db.execute(f"ATTACH DATABASE '{out / f'{dept}.db'}' AS {dept}")
        self.found: set[Finding] = set()
        self.month = self.q("SELECT max(GZNY) FROM GZ_YB")[0][0]
        self.ref_end = month_end(f"{self.month[:4]}-{self.month[4:]}")

    def q(self, sql: str) -> list[tuple]:
        return self.db.execute(sql).fetchall()

    def add(self, *finding: str) -> None:
        self.found.add(finding)

    def crosswalk(self) -> None:
        """Every department unit -> the true USCC (USCC, then organization code, then name); R10 for codes."""
        sources = {
            "T_JG": "SELECT JGID, JGMC, TYSHXYDM FROM T_JG",
            "RS_DW": "SELECT DWBM, DWMC, TYXYDM FROM RS_DW",
            "GZ_DW": "SELECT DWDM, DWMC, TYXYDM FROM GZ_DW",
            "B01": "SELECT B0111, B0101, B0114 FROM B01",
        }
        rows = {s: self.q(sql) for s, sql in sources.items()}
        by_org, by_name = {}, {}
        for src_rows in rows.values():
            for _, name, raw in src_rows:
                code = ids.normalize_code(raw)
                if code and len(code) == 18 and ids.uscc_problem(code) is None:
                    by_org[code[8:17]] = code
                    by_name[ids.normalize_name(name)] = code
        self.unit: dict[tuple[str, str], str] = {}
        for src, src_rows in rows.items():
            for local, name, raw in src_rows:
                code = ids.normalize_code(raw)
                org = ids.org_code_of(code) if code else None
                placed = (
                    by_org.get(org) if org and ids.org_code_problem(org) is None else None
                ) or by_name.get(ids.normalize_name(name))
                assert placed, f"unplaceable unit {src} {local} {name}"
                self.unit[(src, local)] = placed
                if code and (ids.uscc_problem(code) if len(code) == 18 else ids.org_code_problem(code)):
                    self.add("R10", placed)

    def load(self) -> None:
        self.funding = {j: f for j, f in self.q("SELECT JGID, JFXS FROM T_JG")}
        self.rank = {self.unit[("T_JG", j)]: RANKS[g] for j, g in self.q("SELECT JGID, JGGG FROM T_JG")}
        self.active: dict[str, list[tuple[str, str, str]]] = defaultdict(list)  # key -> (JGID, uscc, BZLX)
        self.left: dict[str, list[dt.date]] = defaultdict(list)
        self.smz = self.q("SELECT RYID, JGID, XM, SFZH, XB, CSRQ, BZLX, RBRQ, CBRQ, RYZT, JHID FROM T_SMZ")
        for _, jgid, _, sfzh, _, _, bzlx, _, cbrq, ryzt, _ in self.smz:
            key = _key(sfzh)
            if ryzt in ("在编", "借调") and (cbrq is None or _date(cbrq) > self.ref_end):
                self.active[key].append((jgid, self.unit[("T_JG", jgid)], bzlx))
            elif cbrq:
                self.left[key].append(_date(cbrq))
        self.hr = {
            _key(r[0]): r for r in self.q("SELECT GMSFHM, XM, XB, CSRQ, RYLB, ZT, ZTRQ, RYBH FROM RS_RYXX")
        }
        self.posts = dict(self.q("SELECT RYBH, GWLB FROM RS_GWPY WHERE ZZRQ IS NULL"))
        self.insured = {
            _key(r[0]): r for r in self.q("SELECT AAC002, AAC003, AAC004, AAC006, AAC008 FROM AC01")
        }
        self.payees = {r[0]: r for r in self.q("SELECT RYBM, SFZH, XM, XB, BZQK, DWDM FROM GZ_RY")}
        self.pay: dict[str, list[tuple]] = defaultdict(list)
        self.pay_months: dict[str, list[str]] = defaultdict(list)
        for row in self.q("SELECT GZNY, RYBM, DWDM, ZWGZ, JBGZ, GWGZ, XJGZ, DK_YL FROM GZ_YB"):
            key = _key(self.payees[row[1]][1])
            self.pay_months[key].append(row[0])
            if row[0] == self.month:
                self.pay[key].append(row)
        self.cadres = {r[0]: r for r in self.q("SELECT A0100, A0101, A0104, A0107, A0184 FROM A01")}

    def person_rules(self) -> None:
        for key, slots in self.active.items():
            if key not in self.pay and any(self.funding[j] != "自收自支" for j, _, _ in slots):
                self.add("R02", key)
            if len(slots) > 1:
                self.add("R09", key)
            hr = self.hr.get(key)
            for _, _, bzlx in slots:
                if hr and CATEGORY[hr[4]] not in QUOTA_CATEGORIES[QuotaType(bzlx)]:
                    self.add("R05", key)
            for row in self.pay.get(key, []):
                if self.unit[("GZ_DW", row[2])] not in {u for _, u, _ in slots}:
                    self.add("R03", key)
                civil = row[3] + row[4] > 0 and row[5] + row[6] == 0
                if all(
                    (QuotaType(b) in {QuotaType.XZ, QuotaType.ZF, QuotaType.CG}) != civil for _, _, b in slots
                ):
                    self.add("R06", key)
        for key, rows in self.pay.items():
            if key not in self.active:
                self.add("R01", key)
            if len(rows) > 1:
                self.add("R09", key)
            deducted = any(r[7] > 0 for r in rows)
            status = self.insured[key][4] if key in self.insured else None
            if (deducted and status in ("2", "3")) or (status == "1" and not deducted):
                self.add("R15", key)
        paid_payees = {r[1] for rows in self.pay.values() for r in rows}
        for rybm in paid_payees:
            _, sfzh, _, _, bzqk, _ = self.payees[rybm]
            key = _key(sfzh)
            if (bzqk == "编外" and key in self.active) or (bzqk == "在编" and key not in self.active):
                self.add("R16", key)
        for key in set(self.active) | set(self.pay):
            self.retirement(key)
        self.leaving()

    def retirement(self, key: str) -> None:
        birth = ids.id_birth_date(key)
        assert birth is not None
        hr = self.hr.get(key)
        worker = any(b == "GQ" for _, _, b in self.active.get(key, [])) or bool(
            hr and (hr[4] == "05" or self.posts.get(hr[7]) == "3")
        )
        if retirement_date(birth, retirement_group(ids.id_sex(key), worker)) <= self.ref_end:
            self.add("R08", key)

    def leaving(self) -> None:
        ends: dict[str, list[dt.date]] = defaultdict(list)
        for key, days in self.left.items():
            if key not in self.active:
                ends[key].extend(days)
        for key, hr in self.hr.items():
            if hr[5] in ("死亡", "辞职", "调出") and hr[6]:
                ends[key].append(_date(hr[6]))
        for key, days in ends.items():
            last = max(f"{d:%Y%m}" for d in days)
            if any(m > last for m in self.pay_months.get(key, [])):
                self.add("R14", key)

    def facts_rules(self) -> None:
        """R10 (ID numbers), R11 (birth and sex), R12 (names) over every source."""
        names, facts = defaultdict(set), defaultdict(set)
        for _, _, xm, sfzh, xb, csrq, *_ in self.smz:
            names[_key(sfzh)].add(xm)
            facts[_key(sfzh)].update({("sex", xb == "男"), ("month", csrq.replace("-", ""))})
        for key, (_, xm, xb, csrq, *_) in self.hr.items():
            names[key].add(xm)
            facts[key].update({("sex", xb == "1"), ("day", csrq.replace("-", ""))})
        for key, (_, xm, xb, born, _) in self.insured.items():
            names[key].add(xm)
            facts[key].update({("sex", xb == "1"), ("day", str(born))})
        for _, sfzh, xm, xb, _, _ in self.payees.values():
            names[_key(sfzh)].add(xm)
            facts[_key(sfzh)].add(("sex", xb == "1"))
        for _, xm, xb, born, sfzh in self.cadres.values():
            names[_key(sfzh)].add(xm)
            facts[_key(sfzh)].update({("sex", xb == "1"), ("month", born)})
        for key, seen in facts.items():
            if ids.id_number_problem(key):
                self.add("R10", key)
            day = key[6:14]
            truth = {("sex", ids.id_sex(key) == "male"), ("day", day), ("month", day[:6])}
            if seen - truth:
                self.add("R11", key)
            if len({ids.normalize_name(n) for n in names[key]}) > 1:
                self.add("R12", key)

    def unit_rules(self) -> None:
        """R04 (quota per type), R07 (posts per cell), R13 (vacancy plans)."""
        quota = {(j, b): n for j, b, n in self.q("SELECT JGID, BZLX, HDS FROM T_BZ")}
        heads = Counter((j, b) for slots in self.active.values() for j, _, b in slots)
        for (jgid, bzlx), n in heads.items():
            if n > quota.get((jgid, bzlx), 0):
                self.add("R04", self.unit[("T_JG", jgid)], bzlx)
        posts = {
            (self.unit[("T_JG", j)], c, s): n
            for j, c, s, n in self.q("SELECT JGID, ZWCC, ZSLX, HDZS FROM T_LDZS")
        }
        held: Counter[tuple[str, str, str]] = Counter()
        for unit, code, role in self.q("SELECT A0201B, A0221, A0219 FROM A02 WHERE A0265 IS NULL"):
            uscc = self.unit[("B01", unit)]
            scope = "单位" if code in UNIT_LEVELS[self.rank[uscc]] and code else "内设"
            held[(uscc, "正职" if role == "1" else "副职", scope)] += 1
        for (uscc, level, scope), n in held.items():
            if n > posts.get((uscc, level, scope), 0):
                self.add(
                    "R07",
                    uscc,
                    f"{'HEAD' if level == '正职' else 'DEPUTY'}/{'UNIT' if scope == '单位' else 'INTERNAL'}",
                )
        plans = {r[0]: r for r in self.q("SELECT JHID, JGID, BZLX, JHS, PZRQ, ZT FROM T_YBJH")}
        used: Counter[str] = Counter()
        # slots left on a day because a reorganization moved the person: the slot entered that day needs no plan
        moved = set(self.q("SELECT SFZH, CBRQ FROM T_SMZ WHERE CBYY = 'REORGANIZED'"))
        for _ryid, jgid, _, sfzh, _, _, bzlx, rbrq, _, _, jhid in sorted(
            self.smz, key=lambda r: (r[7], r[0])
        ):
            if not jhid and (sfzh, rbrq) in moved:
                continue
            plan = plans.get(jhid)
            ok = bool(
                plan
                and plan[1] == jgid
                and plan[2] == bzlx
                and plan[5] != "已撤销"
                and plan[4] <= rbrq
                and plan[3] - used[jhid] > 0
            )
            used[jhid] += 1
            if not ok:
                self.add("R13", _key(sfzh))

    def run(self) -> set[Finding]:
        """All findings as (rule, person ID) or (rule, USCC[, detail])."""
        self.crosswalk()
        self.load()
        self.person_rules()
        self.facts_rules()
        self.unit_rules()
        return self.found


def expected(manifest: dict) -> set[Finding]:
    """The manifest's findings in the oracle's shape."""
    out: set[Finding] = set()
    for f in manifest["anomalies"]:
        if "idNumber" in f:
            out.add((f["rule"], f["idNumber"]))
        elif f["rule"] in ("R04", "R07"):
            out.add((f["rule"], f["institutionCode"], f["detail"]))
        else:
            out.add((f["rule"], f["institutionCode"]))
    return out
