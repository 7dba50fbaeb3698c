"""Benchmark: /stats and the exports on a register of 100,000 cases.

Run from the repository root (building the database takes a few minutes; keep it with --db and
the next run reuses it)::

    .venv/bin/python -m tests.benchmarks.stats
    .venv/bin/python -m tests.benchmarks.stats --size 100000 --db /tmp/meldbot-stats --repeat 5

A script, not a test: it prints figures and fails only when a run is broken.

The database is the scaling benchmark's (tests/benchmarks/scaling.py ``build``): every case filed
through ``storage.cases.submit``, so every one has its row of coarse facts. Through the same flows
the bot uses it times (median of ``--repeat`` runs, in milliseconds): /stats for the latest quarter
and for a month (one scan of the facts table, nothing decrypted; target under 1 s): the first
look (every year's counts protected anew), just after a new report (the facts read and counted
again; the protected years reused), after a fact of an ended month changed (a report of last
month acknowledged: read, counted and the changed year protected again) and while nothing
changed (reused as it was); the three
charts, and the exports: /export in the chat (register CSV, statistics CSV and the workbook) and
the register alone as ``meldbot export`` writes it (these read and decrypt every registered case).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from flows import exports
from flows.model import Sender
from flows.outcome import StatsCharts, StatsView
from flows.statistics import PeriodKind
from flows.steering import ExportRange, export_data
from storage import Storage
from storage.database import to_db
from tests.benchmarks.scaling import NOW, build, world_for
from tests.support import AMSTERDAM, COORDINATOR, ManualClock, World, file_report, staff

Operation = Callable[[], Awaitable[object]]


async def timed(run: Operation, repeat: int) -> float:
    """Median milliseconds of ``repeat`` runs, after one run that warms the caches."""
    await run()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


async def unacknowledged_last_month(storage: Storage, world: World, count: int) -> list[tuple[str, Sender]]:
    """Reports sent last month that their counsellor has not acknowledged yet, with that counsellor."""
    async with storage.db.transaction() as conn:
        async with conn.execute(
            "SELECT c.reference, k.staff_index FROM cases c JOIN case_counsellors k ON k.case_id = c.id"
            " WHERE c.status = 'new' AND k.state = 'assigned' AND c.submitted_at >= ? AND c.submitted_at < ?"
            " LIMIT ?",
            (to_db(datetime(2026, 10, 1, tzinfo=AMSTERDAM)), to_db(datetime(2026, 10, 31, tzinfo=AMSTERDAM)), count),
        ) as cursor:
            rows = await cursor.fetchall()
    found = []
    for reference, index in rows:
        member = world.router.counsellor(bytes(index))
        assert member is not None
        found.append((reference, staff(member)))
    return found


async def measure(folder: Path, repeat: int) -> dict[str, float]:
    storage = await Storage.open(folder / "meldbot.db", folder / "meldbot.key")
    try:
        world = world_for(storage, ManualClock(NOW))
        steering, coby = world.services.steering, staff(COORDINATOR)
        month = StatsView(PeriodKind.MONTH, 2026, 10, "s")
        charts = StatsCharts(PeriodKind.QUARTER, 2026, 3, "a")

        async def register_csv() -> None:
            data = await export_data(storage, AMSTERDAM, NOW, ExportRange(), viewer=None)
            exports.register_csv(data.rows, "nl")

        facts = len(await storage.facts.all())
        print(f"{facts:,} rows of facts", flush=True)
        newcomers = iter(range(71_000_000, 71_100_000))

        async def cold() -> None:
            fresh = world_for(storage, ManualClock(NOW)).services.steering  # nothing worked out yet
            await fresh.stats(coby)

        async def after_a_report() -> float:
            # A new report changes the facts: read and counted again, the protected years reused.
            await file_report(world, Sender(next(newcomers), "Nieuwe melder", None, "nl"))
            start = time.perf_counter()
            await steering.stats(coby)
            return (time.perf_counter() - start) * 1000

        async def after_an_acknowledgement(reference: str, counsellor: Sender) -> float:
            # A report of last month acknowledged: a fact of an ended month changed, so the facts are
            # read and counted again (the protected years whose counts stayed the same are reused).
            await world.casework.acknowledge(counsellor, reference)
            start = time.perf_counter()
            await steering.stats(coby)
            return (time.perf_counter() - start) * 1000

        waiting = await unacknowledged_last_month(storage, world, repeat)
        await steering.stats(coby)
        changed = statistics.median([await after_a_report() for _ in range(repeat)])
        acknowledged = statistics.median([await after_an_acknowledgement(*found) for found in waiting])
        operations: dict[str, tuple[Operation, int]] = {
            "/stats, first look (nothing reused)": (cold, max(1, repeat // 2)),
            "/stats (latest quarter, everyone)": (lambda: steering.stats(coby), repeat),
            "/stats (a month, staff)": (lambda: steering.stats(coby, month), repeat),
            "the three charts": (lambda: steering.stats_charts(coby, charts), max(1, repeat // 3)),
            "/export in the chat (3 files)": (lambda: steering.export(coby), 1),
            "meldbot export (register, CSV)": (register_csv, 1),
        }
        results = {
            "/stats, just after a new report": changed,
            "/stats, after an ended month's fact changed": acknowledged,
        }
        results.update({name: await timed(run, times) for name, (run, times) in operations.items()})
        return results
    finally:
        await storage.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", help="build the database in this folder, or reuse the one there")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="meldbot-stats-") as name:
        folder = Path(args.db or name)
        if not (folder / "meldbot.db").exists():
            folder.mkdir(parents=True, exist_ok=True)
            seconds = await build(folder, args.size)
            print(f"built {args.size:,} cases in {seconds:.0f} s", flush=True)
        results = await measure(folder, args.repeat)
    print()
    for operation, milliseconds in results.items():
        flag = "  over 1 s" if operation.startswith("/stats") and milliseconds > 1000 else ""
        print(f"{operation:<40}{milliseconds:>10.0f} ms{flag}")


if __name__ == "__main__":
    asyncio.run(main())
