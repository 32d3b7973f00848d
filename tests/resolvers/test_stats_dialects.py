"""`stats`, `persons` and `personCount` give the same answers over the same data on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hub.demo.generate import sqlite_targets
from tests.conftest import DEPARTMENTS, DatabaseFactory, generate_into, hub_settings, running_hub
from tests.resolvers.test_stats import QUERY

CASES = [
    (["HEADCOUNT", "OCCUPIED", "APPROVED", "VACANT", "OVER"], ["REGION", "QUOTA_TYPE"]),
    (["HEADCOUNT"], ["INSTITUTION", "EDUCATION"]),
    (["HEADCOUNT"], ["SEX", "AGE_BAND", "TITLE_LEVEL", "POST_GRADE", "SUBJECT"]),
    (["LEADERSHIP_APPROVED", "LEADERSHIP_FILLED"], ["FUNDING"]),
    (["PAY_GROSS_TOTAL", "PAY_NET_AVERAGE"], ["REGION", "MONTH"]),
]


def _answers(demo: Path, urls: dict[str, str] | None) -> list[Any]:
    out = []
    with running_hub(hub_settings(demo, urls)) as hub:
        for region in ("152900", "152921"):  # the league, one banner
            out += [hub.query(QUERY, {"m": m, "b": b}, region=region) for m, b in CASES]
            out.append(hub.query("{ personCount persons(first: 1000) { totalCount edges { node { idNumber } } } }",
                                 region=region))
            out.append(hub.query(QUERY, {"m": ["HEADCOUNT"], "b": ["INSTITUTION", "SEX"]}, role="analyst", region=region))
    return out


def test_the_same_answers_on_every_dialect(pg_database: DatabaseFactory, mariadb_database: DatabaseFactory,
                                           tmp_path: Path) -> None:
    generate_into(sqlite_targets(tmp_path), persons=300, seed=13)
    sqlite = _answers(tmp_path, None)
    assert all("errors" not in a for a in sqlite), sqlite
    for make in (pg_database, mariadb_database):
        url = make()
        urls = dict.fromkeys(DEPARTMENTS, url)
        generate_into(urls, persons=300, seed=13)
        assert _answers(tmp_path, urls) == sqlite, url.split("://")[0]
