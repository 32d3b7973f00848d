"""The education bureau's (教育局) legacy database: its schools, enrolment, classes and teaching hours.

Its own shape and codes, as the bureau's school management system keeps them: schools under the
bureau's own codes (`JY` + region digits + number), their credit code mostly present (about one in
twelve left blank, so the crosswalk joins those by name), the level as the education statistics
codes (211 小学, 311 初中, 341 高中, 342 完全中学), boarding and Mongolian-medium flags as 是/否 and
1/0, founding dates as 8-digit text; enrolment per school, school year and grade; classes of about
45; weekly teaching hours per subject (a REAL column, quarter hours). Joined to the hub by the
mapping hub/demo/mappings/education.yaml, the way an integrator adds a department.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import sqlalchemy as sa

from hub.core.db import sync_url
from hub.demo.institutions import Institution

MAPPING = Path(__file__).parent / "mappings" / "education.yaml"
POLICY = Path(__file__).parent / "mappings" / "education-policy.csv"
YEARS = (2024, 2025)
LEVELS = {"小学": ("211", range(1, 7)), "初中": ("311", range(7, 10)), "高中": ("341", range(10, 13)),
          "完全中学": ("342", range(7, 13))}
CHUNK = 10_000  # rows per insert
SUBJECTS = {"01": 6.0, "02": 5.0, "03": 3.0, "04": 4.0, "05": 2.5, "06": 2.0, "07": 2.75}

_META = sa.MetaData()
SCHOOLS = sa.Table("XX_JBXX", _META, sa.Column("XXDM", sa.String(12), primary_key=True), sa.Column("XXMC", sa.String(100)),
                   sa.Column("TYSHXYDM", sa.String(18)), sa.Column("XZQH", sa.String(8)), sa.Column("XXLB", sa.String(3)),
                   sa.Column("SFJS", sa.String(2)), sa.Column("MYSK", sa.String(1)), sa.Column("JXNY", sa.String(8)))
ENROLMENT = sa.Table("XX_ZSQK", _META, sa.Column("XXDM", sa.String(12), primary_key=True),
                     sa.Column("XN", sa.Integer, primary_key=True), sa.Column("NJ", sa.Integer, primary_key=True),
                     sa.Column("ZXRS", sa.Integer), sa.Column("JSRS", sa.Integer))
CLASSES = sa.Table("XX_BJ", _META, sa.Column("BJDM", sa.String(20), primary_key=True), sa.Column("XXDM", sa.String(12), index=True),
                   sa.Column("XN", sa.Integer), sa.Column("NJ", sa.Integer), sa.Column("BJRS", sa.Integer),
                   sa.Column("SKYY", sa.String(1)))
HOURS = sa.Table("XX_KSQK", _META, sa.Column("XXDM", sa.String(12), primary_key=True), sa.Column("XN", sa.Integer, primary_key=True),
                 sa.Column("XKDM", sa.String(2), primary_key=True), sa.Column("ZKS", sa.Float))
TABLES = (SCHOOLS, ENROLMENT, CLASSES, HOURS)


def rows(institutions: Sequence[Institution], seed: int) -> Iterator[tuple[sa.Table, dict[str, object]]]:
    """The bureau's rows for the schools among the institutions (deterministic for a seed): (table,
    row), one school after the other."""
    rng = random.Random(f"education-{seed}")
    numbers: dict[str, int] = {}
    for inst in institutions:
        if inst.school not in LEVELS:
            continue
        region = inst.region[:6]
        numbers[region] = numbers.get(region, 0) + 1
        code = f"JY{region[2:]}{numbers[region]:03d}"
        level, grades = LEVELS[inst.school]
        mongolian = "蒙古族" in inst.name or rng.random() < 0.2
        boarding = inst.school != "小学" or rng.random() < 0.3
        yield SCHOOLS, {"XXDM": code, "XXMC": inst.name, "TYSHXYDM": None if rng.random() < 0.08 else inst.uscc,
                        "XZQH": inst.region, "XXLB": level, "SFJS": "是" if boarding else "否",
                        "MYSK": "1" if mongolian else "0", "JXNY": inst.founded.strftime("%Y%m%d")}
        for year in YEARS:
            for grade in grades:
                students = rng.randint(20, 240)
                yield ENROLMENT, {"XXDM": code, "XN": year, "NJ": grade, "ZXRS": students,
                                  "JSRS": rng.randint(0, students) if boarding else 0}
                classes = max(1, -(-students // 45))
                for n in range(classes):
                    size = students // classes + (1 if n < students % classes else 0)
                    yield CLASSES, {"BJDM": f"{code}{year % 100:02d}{grade:02d}{n + 1:02d}", "XXDM": code, "XN": year,
                                    "NJ": grade, "BJRS": size, "SKYY": "1" if mongolian and n == 0 else "2"}
            for subject, base in SUBJECTS.items():
                if subject == "04" and not mongolian:
                    continue
                yield HOURS, {"XXDM": code, "XN": year, "XKDM": subject,
                              "ZKS": base * len(grades) + rng.choice((0.0, 0.25, 0.5, 0.75))}


def write(url: str, institutions: Sequence[Institution], seed: int) -> None:
    """Create the bureau's tables in the database at `url` (replacing them) and fill them."""
    engine = sa.create_engine(sync_url(url))
    try:
        with engine.begin() as conn:
            _META.drop_all(conn)
            _META.create_all(conn)
            chunks: dict[sa.Table, list[dict[str, object]]] = {t: [] for t in TABLES}
            for table, row in rows(institutions, seed):  # in chunks: memory stays flat however many schools
                chunk = chunks[table]
                chunk.append(row)
                if len(chunk) >= CHUNK:
                    conn.execute(table.insert(), chunk)
                    chunk.clear()
            for table, chunk in chunks.items():
                if chunk:
                    conn.execute(table.insert(), chunk)
    finally:
        engine.dispose()
