"""Benchmark: statistics, charts and exports on 100,000 reports.

Run from the repository root (about a minute with the defaults)::

    .venv/bin/python -m tests.benchmarks.stats
    .venv/bin/python -m tests.benchmarks.stats --reports 20000 --years 2

A script, not a test: it prints figures and fails only when a run is broken.

The reports are generated (tests/statistics_data.py: seeded, with the proportions of the
surveys), spread evenly over ``--years`` years up to now. Printed, each the best of three
runs where a run is short: counting every report (``publish``), the statistics of the
latest whole quarter (which protects the counts of its year and the year before), of the
latest month and year after that, the 12-month trend, each chart, and the exports: the
statistics (CSV, XLSX) and the register with one row per report (CSV, XLSX).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from flows import charts, exports
from flows.statistics import Column, PeriodKind, ReportFacts, publish
from tests.statistics_data import DEPARTMENTS, generated_reports

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
T = TypeVar("T")


def timed(label: str, action: Callable[[], T], runs: int = 3) -> T:
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    print(f"  {label:<52} {best * 1000:9.1f} ms")
    return result  # type: ignore[return-value]


def register_row(number: int, facts: ReportFacts) -> exports.RegisterRow:
    day = facts.submitted_at.date()
    reactions = ()
    if facts.reaction_after is not None:
        reacted = (facts.submitted_at + facts.reaction_after).date()
        reactions = (exports.ReactionRecord("warning_letter", reacted, "completed", reacted + timedelta(days=7)),)
    return exports.RegisterRow(
        reference=f"MB-{number:08d}"[:7] + "-" + f"{number:08d}"[4:],
        reported_on=day,
        registered_on=day,
        incident_on=day - timedelta(days=1),
        forms=facts.forms,
        channel=facts.channel,
        role=facts.role,
        department=facts.department,
        work_process=facts.work_process,
        perpetrator=facts.perpetrator,
        reactions=reactions,
        police_report=facts.police_report,
        police_report_on=day if facts.police_report else None,
        damages_claimed=facts.damages_claimed,
        consequences=frozenset({exports.Consequence.STRESS}),
        influenced_decision=False,
        consented_to_name=number % 3 == 0,
        account="Hij bleef schreeuwen aan de balie." if number % 3 == 0 else None,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--years", type=int, default=3)
    args = parser.parse_args()
    now = datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
    days = 365 * args.years
    facts = generated_reports(args.reports, seed=1, start=now - timedelta(days=days), days=days)
    print(f"{args.reports:,} reports over {args.years} years (about {args.reports // (12 * args.years):,} a month)")

    print("statistics")
    published = timed(
        "publish: count every report", lambda: publish(facts, zone=AMSTERDAM, now=now, departments=DEPARTMENTS)
    )
    quarter = published.latest(PeriodKind.QUARTER)

    def first_statistics() -> object:
        fresh = publish(facts, zone=AMSTERDAM, now=now, departments=DEPARTMENTS)
        return fresh.statistics(quarter)

    timed(f"publish + /stats {quarter.year} Q{quarter.number} (protects 2 years)", first_statistics)
    statistics = timed("/stats for that quarter again", lambda: published.statistics(quarter))
    timed("/stats for the latest month", lambda: published.statistics(published.latest(PeriodKind.MONTH)))
    timed("/stats for the latest year", lambda: published.statistics(published.latest(PeriodKind.YEAR)))
    trend = timed("trend: 12 months by form", lambda: published.trend(published.latest(PeriodKind.MONTH)))
    shown = sum(
        isinstance(c.current, int) for t in statistics.tables.values() for r in t.rows for c in r.cells.values()
    )
    cells = sum(len(r.cells) for t in statistics.tables.values() for r in t.rows)
    print(f"  (the quarter shows {shown} of its {cells} counts; the rest are under five or protect one)")

    print("charts (PNG, nl)")
    trend_png = timed("trend per month by form", lambda: charts.trend_chart(trend, "nl"))
    timed("reports per department", lambda: charts.department_chart(statistics, Column.ALL, "nl"))
    timed("reaction times", lambda: charts.reaction_chart(statistics, Column.ALL, "nl"))
    print(f"  (the trend chart is {len(trend_png) // 1024} KiB)")

    print("exports")
    timed("statistics CSV (one quarter)", lambda: exports.statistics_csv([statistics], "nl"))
    timed("statistics XLSX (one quarter)", lambda: exports.statistics_xlsx([statistics], "nl"))
    rows = [register_row(number, f) for number, f in enumerate(facts) if f.in_register]
    register_csv = timed(f"register CSV ({len(rows):,} cases)", lambda: exports.register_csv(rows, "nl"), runs=1)
    register_xlsx = timed(f"register XLSX ({len(rows):,} cases)", lambda: exports.register_xlsx(rows, "nl"), runs=1)
    print(f"  (CSV {len(register_csv) / 2**20:.1f} MiB, XLSX {len(register_xlsx) / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
