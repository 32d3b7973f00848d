"""Aggregate-only access: an analyst groups by what it may not read, and differencing does not give back
what was suppressed (docs/statistics.md)."""

from __future__ import annotations

from typing import Any

from tests.conftest import Hub

QUERY = """query($m: [Measure!]!, $b: [Dimension!], $f: StatsFilter) {
  stats(measures: $m, by: $b, filter: $f) { rows { keys values suppressed } total { values suppressed } restricted minGroupSize }
}"""


def _stats(hub: Hub, by: list[str], role: str = "analyst", flt: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    answer = hub.query(QUERY, {"m": ["HEADCOUNT"], "b": by, "f": flt}, role=role, **kw)
    assert "errors" not in answer, answer
    return answer["data"]["stats"]  # type: ignore[no-any-return]


def test_the_analyst_may_group_by_sex_without_reading_it_and_small_groups_are_suppressed(hub: Hub) -> None:
    denied = hub.query("{ people(first: 1) { edges { node { sex } } } }", role="analyst")
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    found = _stats(hub, ["INSTITUTION", "SEX"])
    assert found["restricted"] and found["minGroupSize"] == 5
    assert any(r["suppressed"] for r in found["rows"])
    for row in found["rows"]:
        (value,) = row["values"]
        assert (value is None) == row["suppressed"]
        assert value is None or (value >= 5 and value % 5 == 0)  # published counts are multiples of 5
    admin = {tuple(r["keys"]): r["values"][0] for r in _stats(hub, ["INSTITUTION", "SEX"], role="admin")["rows"]}
    assert any(0 < n < 5 for n in admin.values())  # there were small groups to hide


def test_subtracting_the_visible_cells_from_a_margin_never_isolates_a_suppressed_cell(hub: Hub) -> None:
    """The obvious attack: a query without the dimension (exact: institutions are readable) minus the visible
    cells of the query with it. Every institution's line holds no suppressed cell or at least two."""
    margins = {r["keys"][0]: r["values"][0] for r in _stats(hub, ["INSTITUTION"])["rows"]}
    cells = _stats(hub, ["INSTITUTION", "SEX"])["rows"]
    exact = {tuple(r["keys"]): r["values"][0] for r in _stats(hub, ["INSTITUTION", "SEX"], role="admin")["rows"]}
    attacked = 0
    assert any(0 < n < 5 for n in exact.values())
    for code, margin in margins.items():
        line = [r for r in cells if r["keys"][0] == code]
        hidden = [r for r in line if r["suppressed"]]
        assert len(hidden) != 1, code
        if hidden:
            attacked += 1
            left = margin - sum(r["values"][0] for r in line if not r["suppressed"])
            # What is left (± the rounding of the visible cells) is shared by two or more hidden cells,
            # one of which may be empty: it tells no single cell.
            assert left >= 0 and sum(exact.get(tuple(r["keys"]), 0) for r in hidden) <= left + 2 * len(line)
    assert attacked


def test_differencing_with_and_without_a_filter_gives_no_exact_small_count(hub: Hub) -> None:
    """By sex over a banner, minus by sex per institution of that banner: with exact figures the difference
    would be an institution's small cell; the published counts are rounded, so it is only known to ±2 per
    figure, and each published figure is consistent with several true counts."""
    banner = "152922"
    whole = _stats(hub, ["SEX"], flt={"regionCode": banner})
    parts = _stats(hub, ["INSTITUTION", "SEX"], flt={"regionCode": banner})
    exact_parts = {tuple(r["keys"]): r["values"][0] for r in _stats(hub, ["INSTITUTION", "SEX"], role="admin",
                                                                    flt={"regionCode": banner})["rows"]}
    for row in whole["rows"]:
        sex = row["keys"][0]
        visible = [r for r in parts["rows"] if r["keys"][1] == sex and not r["suppressed"]]
        hidden = [r for r in parts["rows"] if r["keys"][1] == sex and r["suppressed"]]
        if not hidden or row["suppressed"]:
            continue
        guess = row["values"][0] - sum(r["values"][0] for r in visible)
        error = 2 * (1 + len(visible))  # each published count is within 2 of the true one
        truth = sum(exact_parts.get(tuple(r["keys"]), 0) for r in hidden)
        assert abs(guess - truth) <= error  # the attacker learns an interval …
        assert error >= 2 and len(hidden) != 1  # … wider than one value, over two or more hidden cells


def test_row_scope_applies_to_the_analyst_s_aggregates(hub: Hub) -> None:
    banner = _stats(hub, ["REGION", "SEX"], region="152922")
    assert banner["rows"] and all(r["keys"][0].startswith("152922") for r in banner["rows"])


def test_a_role_without_read_or_aggregate_is_refused(hub: Hub) -> None:
    answer = hub.query(QUERY, {"m": ["PAY_GROSS_TOTAL"], "b": ["MONTH"]}, role="officer", department="organization")
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert answer["data"]["stats"] is None
