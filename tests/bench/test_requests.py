"""The benchmark's request generator (bench/queries.py): varied requests as users send them, the
same sequence for both servers, bodies the hub's committed schema accepts."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import graphql
import pytest
from graphql.execution.values import get_variable_values

from bench import queries
from bench.queries import CASES, Case, Variants, bodies, plan, walk_cursors

ROOT = Path(__file__).resolve().parents[2]
PAGES = {"institutions": 20, "people": 10, "masked people": 10}
PEOPLE = 300


def _variants() -> Variants:
    """Q1's people and distinct cursors per server, as the harness collects them (the first page has none)."""
    cursors = {
        (side, kind): [None, *(f"{side}-{kind}-{i}" for i in range(1, n))]
        for side in ("hub", "pg") for kind, n in PAGES.items()
    }
    return Variants([f"110105194912{i:06d}" for i in range(PEOPLE)], cursors)


def _variables(raw: bytes) -> dict[str, Any]:
    return json.loads(raw)["variables"]  # type: ignore[no-any-return]


def _index(case: Case, side: str, raw: bytes, variants: Variants) -> int:
    """Which person or page a body asks for."""
    value = _variables(raw)["id" if case.varies == "person" else "after"]
    return (variants.people if case.varies == "person" else variants.cursors[(side, case.varies)]).index(value)


def test_picks_are_deterministic_for_a_seed_and_differ_between_seeds() -> None:
    first = [next(g) for g in [queries.picks(20, 12345)] for _ in range(200)]
    again = [next(g) for g in [queries.picks(20, 12345)] for _ in range(200)]
    other = [next(g) for g in [queries.picks(20, 54321)] for _ in range(200)]
    assert first == again
    assert first != other
    assert set(first) == set(range(20))  # every page comes up, none dominates
    assert max(Counter(first).values()) < 30
    turn = queries.picks(3, 0)
    assert [next(turn) for _ in range(7)] == [0, 1, 2, 0, 1, 2, 0]
    with pytest.raises(ValueError, match="seed"):
        next(queries.picks(3, queries.MODULUS))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.key)
def test_both_servers_get_the_same_sequence_of_distinct_pages(case: Case) -> None:
    variants = _variants()
    for side in ("hub", "pg"):
        every = bodies(case, side, variants)
        assert len(set(every)) == len(every) == (PEOPLE if case.varies == "person" else PAGES[case.varies])
    for stream in (0, 1, 1000):
        hub = plan(case, "hub", variants, "varied", 17, stream).take(3000)
        pg = plan(case, "pg", variants, "varied", 17, stream).take(3000)
        hub_order = [_index(case, "hub", b, variants) for b in hub]
        assert hub_order == [_index(case, "pg", b, variants) for b in pg]
        assert len(set(hub_order)) == len(bodies(case, "hub", variants))
    assert plan(case, "hub", variants, "varied", 17, 0).take(50) != plan(case, "hub", variants, "varied", 17, 1).take(50)
    assert plan(case, "hub", variants, "varied", 17, 0).take(50) != plan(case, "hub", variants, "varied", 18, 0).take(50)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.key)
def test_repeated_mode_sends_the_first_page_or_q1_people_in_turn(case: Case) -> None:
    variants = _variants()
    sent = [_index(case, "hub", b, variants) for b in plan(case, "hub", variants, "repeated", 17, 0).take(150)]
    assert sent == ([i % queries.REPEATED_PEOPLE for i in range(150)] if case.varies == "person" else [0] * 150)


def test_cursors_are_walked_from_each_servers_own_end_cursors() -> None:
    asked: list[Any] = []

    def fetch(raw: bytes) -> dict[str, Any]:
        after = _variables(raw)["after"]
        asked.append(after)
        page = 0 if after is None else int(after.removeprefix("end-")) + 1
        info = {"endCursor": f"end-{page}", "hasNextPage": page < 2}
        return {"allTJgs" if b"allTJgs" in raw else "institutions": {"pageInfo": info}}

    assert walk_cursors(fetch, "hub", "institutions", 20) == [None, "end-0", "end-1"]  # 3 pages exist
    assert walk_cursors(fetch, "pg", "institutions", 2) == [None, "end-0"]
    assert asked == [None, "end-0", "end-1", None]


def test_hub_bodies_are_valid_for_the_committed_schema() -> None:
    schema = graphql.build_schema((ROOT / "schema" / "schema.graphql").read_text(encoding="utf-8"), assume_valid_sdl=True)
    variants = _variants()
    for case in CASES:
        for raw in bodies(case, "hub", variants):
            request = json.loads(raw)
            document = graphql.parse(request["query"])
            assert graphql.validate(schema, document) == [], case.key
            operation = document.definitions[0]
            assert isinstance(operation, graphql.OperationDefinitionNode)
            coerced = get_variable_values(schema, operation.variable_definitions or (), request["variables"])
            assert not isinstance(coerced, list), (case.key, coerced)
        for raw in bodies(case, "pg", variants):
            graphql.parse(json.loads(raw)["query"])  # PostGraphile's schema is not committed: syntax only


def test_q4_canonical_forms_agree_on_the_same_data_and_catch_a_different_pay_row() -> None:
    units = {"HUBCODE": "J0001"}
    hub = {"institutions": {"edges": [{"node": {"code": "HUBCODE", "name": "一中", "people": [
        {"idNumber": "11010519491231002X", "name": "张三", "payroll": {"entries": [
            {"month": "2025-06", "gross": 900, "net": 800}, {"month": "2025-05", "gross": 910, "net": 810}]}},
        {"idNumber": "110105194912310037", "name": "李四", "payroll": None}]}}]}}
    pg = {"allTJgs": {"nodes": [{"jgid": "J0001", "jgmc": " 一中", "tSmzsByJgid": {"nodes": [
        {"sfzh": "110105194912310037", "xm": "李四", "lastPay": {"nodes": []}},
        {"sfzh": "11010519491231002x", "xm": "张 三", "lastPay": {"nodes": [
            {"gzny": "202505", "yfhj": "910", "sfhj": "810"}, {"gzny": "202506", "yfhj": "900", "sfhj": "800"}]}},
        {"sfzh": None, "xm": "无号", "lastPay": {"nodes": []}}]}}]}}
    assert queries.hub_q4(hub, units) == queries.pg_q4(pg, units)
    pg["allTJgs"]["nodes"][0]["tSmzsByJgid"]["nodes"][1]["lastPay"]["nodes"][0]["sfhj"] = "811"
    assert queries.hub_q4(hub, units) != queries.pg_q4(pg, units)


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.seen.append(self.rfile.read(int(self.headers["Content-Length"])))
        answer = b'{"data":{}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
@pytest.mark.parametrize("mode", ["varied", "repeated"])
def test_post_lua_sends_the_sequence_the_python_generator_computes(mode: str, tmp_path: Path) -> None:
    variants = _variants()
    case = next(c for c in CASES if c.key == "Q1")
    run = plan(case, "hub", variants, mode, 17, 1000)
    path = tmp_path / "bodies.jsonl"
    path.write_bytes(b"\n".join(run.bodies) + b"\n")  # as bench/load.py writes them
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        done = subprocess.run(
            ["wrk", "-t1", "-c1", "-d1s", "-s", str(ROOT / "bench" / "post.lua"),
             f"http://127.0.0.1:{server.server_address[1]}/graphql", "--", str(path), "Bearer x", str(run.seed)],
            capture_output=True, text=True, timeout=60, check=False,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stderr
    assert '"gqlerrors":0' in done.stdout and '"non200":0' in done.stdout
    seen = list(_Recorder.seen)
    assert len(seen) > 20
    assert seen == run.take(len(seen))
