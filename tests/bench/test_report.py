"""The benchmark's report: hub / PostGraphile ratios of medians over rounds, targets beside them."""

from __future__ import annotations

from bench.client import Sequential
from bench.load import Load
from bench.report import Measured, rows, text_table


def _measured(medians_ms: list[float], rps: list[float], rss_mib: int) -> Measured:
    return Measured(
        sequential=[Sequential([m / 1000] * 3, 1.0, 1024) for m in medians_ms],
        load=[Load(int(r * 10), 10.0, 1.0, 1.0, 1.0, 1.0, 0, 8) for r in rps],
        peak_rss_kib=rss_mib * 1024,
    )


def test_ratios_are_of_medians_over_rounds_with_each_rounds_range_and_the_targets_met() -> None:
    results = {
        ("varied", "hub", "Q2"): _measured([10, 30, 20], [50, 40], 100),   # median 20 ms, 45 req/s
        ("varied", "off", "Q2"): _measured([40, 40, 40], [20, 20], 300),
        ("varied", "pg", "Q2"): _measured([30, 20, 30], [30, 40], 200),   # median 30 ms, 35 req/s
    }
    table = rows("varied", [("Q2", "a page")], ("hub", "off", "pg"), results, {})
    by_figure = {r[1]: r for r in table.rows}
    seq = by_figure["sequential median ms"]
    assert seq[2:5] == ["20.0", "40.0", "30.0"]
    assert seq[5] == "0.67 (0.33–1.50)"  # 20/30, rounds 10/30, 30/20, 20/30
    assert seq[6].startswith("1.33") and seq[7:] == ["≤ 0.80", "yes / no"]
    load = by_figure["load req/s"]
    assert load[5].startswith("1.29") and load[7:] == ["≥ 1.25", "yes / no"]
    rss = by_figure["peak RSS during load MiB"]
    assert rss[5:] == ["0.50", "1.50", "≤ 1.00", "yes / no"]
    assert table.met == {"hub": (3, 3), "off": (0, 3)}
    assert "targets met hub 3 of 3, hub, caches off 0 of 3" in text_table(table)
