"""Benchmark: what one person asks for must not cost more as the register grows.

Run from the repository root (the 100,000-case database takes a few minutes to build)::

    .venv/bin/python -m tests.benchmarks.scaling
    .venv/bin/python -m tests.benchmarks.scaling --sizes 1000 10000 --repeat 15

A script, not a test: it prints figures and fails only when a run is broken.

For each size it builds a database the way the bot fills one: every case through
``storage.cases.submit`` with its data key, sealed description and audit entry (the chain is
real), one reporter per five cases plus one reporter with 40 cases, four counsellors for
staff (the first with most of their cases) and two for office holders, a coordinator, and
the timers a report gets (escalations and aftercare for the open ones). Three quarters of
the cases are then closed and one in twenty withdrawn, as in a register that has been kept
for years; only that status mix is written with plain SQL (coarse codes, nothing sealed).
The build runs with ``synchronous=OFF`` to save time; the measurements run with the bot's
own settings, on a freshly opened database.

Then, through the same flows the bot uses (bot.services.build), it times (median of
``--repeat`` runs, in milliseconds): a counsellor's /inbox page 1 and page 50, the
coordinator's /register unfiltered and with two sets of filters, /mycases for the reporter
with 40 cases, one whole report (start to confirmation, which picks the least-loaded
counsellor), the timekeeper's wake-up (what is due, and when the next thing is), and the
database part of start-up (open, unlock the key, route waiting reports, recover the outbox
and the schedule). Printed beside each: the ratio of the largest size to the smallest (the
target is at most 2x), and the database size per case.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.services import build as build_services
from flows import lifecycle
from flows.lifecycle import Timer, TimerKind
from flows.model import Audience, Channel, Counsellor, Form, Language, Perpetrator, Role, Sender, Step, Wish
from flows.outcome import Inbox, RegisterView
from storage import Storage
from storage.database import to_db
from tests.support import (
    COORDINATOR,
    ManualClock,
    World,
    button,
    file_report,
    make_router,
    reporter,
    staff,
)
from tests.support import HOLDERS_COUNSELLOR as HOLDERS_ONE
from tests.support import SECOND_STAFF as STAFF_TWO
from tests.support import STAFF_COUNSELLOR as STAFF_ONE

STAFF_THREE = Counsellor(1004, "Derde vertrouwenspersoon", frozenset({Audience.STAFF}), Language.NL, 3)
STAFF_FOUR = Counsellor(1005, "Vierde vertrouwenspersoon", frozenset({Audience.STAFF}), Language.NL, 4)
HOLDERS_TWO = Counsellor(1006, "Tweede voor bestuurders", frozenset({Audience.OFFICE_HOLDERS}), Language.EN, 5)
COUNSELLORS = (STAFF_ONE, STAFF_TWO, HOLDERS_ONE, STAFF_THREE, STAFF_FOUR, HOLDERS_TWO)
NOW = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)
SPAN = timedelta(days=3 * 365)  # the cases were reported over the last three years
HEAVY_REPORTER = 90_000_001  # the reporter with 40 cases
DESCRIPTION = (
    "Bij de balie werd een bezoeker boos omdat zijn vergunning was afgewezen. Hij schreeuwde dat hij "
    "wist waar ik woon en dat hij me na mijn werk zou opwachten. Een collega heeft de beveiliging gebeld. "
)


def world_for(storage: Storage, clock: ManualClock) -> World:
    return World(storage, clock, counsellors=COUNSELLORS, coordinators=(COORDINATOR,))


async def build(folder: Path, size: int, seed: int = 7) -> float:
    """Fill a database with ``size`` cases; returns the seconds it took."""
    started = time.perf_counter()
    rng = random.Random(seed)
    clock = ManualClock(NOW - SPAN)
    storage = await Storage.open(folder / "meldbot.db", folder / "meldbot.key")
    # Build only: no fsync per commit (the measurements reopen the database with the bot's settings).
    await storage.db._conn.execute("PRAGMA synchronous = OFF")  # noqa: SLF001
    router = make_router(storage, counsellors=COUNSELLORS, coordinators=(COORDINATOR,))
    aftercare = build_services(storage, router, clock, world_for(storage, clock).policy).aftercare
    staff_indexes = [router.index(c) for c in COUNSELLORS if Audience.STAFF in c.serves]
    holder_indexes = [router.index(c) for c in COUNSELLORS if Audience.OFFICE_HOLDERS in c.serves]
    coordinators = [router.index(COORDINATOR)]
    people = []
    for n in range(max(1, size // 5)):
        people.append(
            await storage.people.ensure(
                telegram_id=80_000_000 + n, display_name=f"Melder {n}", username=None, language="nl", now=clock.now()
            )
        )
    heavy = await storage.people.ensure(
        telegram_id=HEAVY_REPORTER, display_name="Veel meldingen", username=None, language="nl", now=clock.now()
    )
    step = SPAN / size
    for n in range(size):
        clock.current = NOW - SPAN + step * n
        person = heavy if n % max(1, size // 40) == 0 and n // max(1, size // 40) < 40 else rng.choice(people)
        holder = rng.random() < 0.15
        role = rng.choice((Role.COUNCIL_MEMBER, Role.ALDERMAN)) if holder else Role.EMPLOYEE
        wish = rng.choices(list(Wish), weights=(6, 3, 1))[0]
        draft = await storage.cases.create_draft(person_id=person.id, role=role, asks_role=False, now=clock.now())
        draft.step = Step.SUMMARY
        draft.forms = frozenset(rng.sample(list(Form), k=rng.choice((1, 1, 1, 2))))
        draft.perpetrator = rng.choice(list(Perpetrator))
        draft.incident_date = clock.now().date() - timedelta(days=rng.randint(0, 3))
        draft.channel = rng.choice(list(Channel))
        draft.role = role
        draft.wish = wish
        draft.share_name_coordinator = wish is Wish.COUNSELLOR_AND_REGISTER and rng.random() < 0.5
        draft.description = DESCRIPTION
        await storage.cases.save_draft(draft, clock.now())
        serving = holder_indexes if holder else staff_indexes
        # The first staff counsellor handles most staff cases: her inbox is the long one timed below.
        first = serving[0] if not holder and rng.random() < 0.7 else serving[n % len(serving)]
        counsellors = [first] if wish.reaches_counsellor else []
        recent = n >= size * 0.8
        timers: list[Timer] = []
        if recent and wish.reaches_counsellor:
            timers = [
                Timer(TimerKind.ESCALATE_COUNSELLORS, clock.now() + timedelta(hours=24)),
                Timer(TimerKind.ESCALATE_COORDINATORS, clock.now() + timedelta(hours=48)),
            ]
        if recent:
            timers += aftercare.timers_at_submission(draft, clock.now())
        submission = lifecycle.submit(
            draft,
            audience=Audience.OFFICE_HOLDERS if holder else Audience.STAFF,
            department=None,
            counsellors=counsellors,
            coordinators=coordinators if wish is not Wish.COUNSELLOR else [],
            waiting_for=[],
            excluded=[],
            attachment_ids=[],
            timers=timers,
            month=clock.now().date(),
            facts_id=f"{rng.getrandbits(128):032x}",
        )
        await storage.cases.submit(submission, clock.now())
    async with storage.db.transaction() as conn:
        # A register kept for years: most older cases closed, some withdrawn, the recent ones open.
        await conn.execute(
            "UPDATE cases SET status = CASE WHEN abs(random()) % 20 = 0 THEN 'withdrawn' ELSE 'closed' END,"
            " closed_at = submitted_at WHERE submitted_at < ?",
            (to_db(NOW - SPAN * 0.2),),
        )
        await conn.execute(
            "UPDATE cases SET status = 'acknowledged', acknowledged_at = submitted_at"
            " WHERE status = 'new' AND abs(random()) % 2 = 0 AND submitted_at < ?",
            (to_db(NOW - timedelta(days=2)),),
        )
        # What fell due before now has run (a running bot keeps up): only later timers wait.
        await conn.execute("UPDATE scheduled SET status = 'done', done_at = due_at WHERE due_at < ?", (to_db(NOW),))
        # Everything was sent: the outbox of a running bot is near empty (sent items are kept, as 'sent').
        await conn.execute("UPDATE outbox SET status = 'sent', sent_at = created_at")
    await storage.db.checkpoint()
    await storage.close()
    return time.perf_counter() - started


Operation = Callable[[], Awaitable[object]]


async def start_up(folder: Path) -> Storage:
    """The database part of starting the bot."""
    storage = await Storage.open(folder / "meldbot.db", folder / "meldbot.key")
    world = world_for(storage, ManualClock(NOW))
    await world.intake.route_waiting()
    await storage.outbox.recover_after_restart()
    await storage.schedule.recover_after_restart()
    await storage.outbox.next_due()
    await storage.schedule.next_due()
    return storage


async def operations(storage: Storage) -> dict[str, Operation]:
    """What people ask for, as the bot's flows do it, ready to run again and again."""
    clock = ManualClock(NOW)
    world = world_for(storage, clock)
    carla, coby = staff(STAFF_ONE), staff(COORDINATOR)
    view = Inbox()
    for _ in range(49):
        view = button(await world.casework.inbox(carla, view), "list.next")  # type: ignore[assignment]
    page_50 = view
    open_month = RegisterView(status="o", period="m")
    closed_holders = RegisterView(status="c", form="bribery", role="h")
    heavy = reporter(HEAVY_REPORTER, "Veel meldingen", None)
    newcomers = iter(range(70_000_000, 70_100_000))

    async def one_report() -> None:
        await file_report(world, Sender(next(newcomers), "Nieuwe melder", None, "nl"), text=DESCRIPTION)

    async def wake_up() -> None:
        await storage.schedule.due(clock.now(), 200)
        await storage.schedule.next_due()

    return {
        "/inbox page 1": lambda: world.casework.inbox(carla),
        "/inbox page 50": lambda: world.casework.inbox(carla, page_50),
        "/register": lambda: world.casework.register(coby, RegisterView()),
        "/register open, last 30 days": lambda: world.casework.register(coby, open_month),
        "/register closed bribery, office holders": lambda: world.casework.register(coby, closed_holders),
        "/mycases (40 cases)": lambda: world.mycases.list(heavy),
        "a whole report (7 steps)": one_report,
        "timekeeper wake-up": wake_up,
    }


async def once(run: Operation) -> float:
    start = time.perf_counter()
    await run()
    return (time.perf_counter() - start) * 1000


async def measure(folders: dict[int, Path], repeat: int) -> dict[int, dict[str, float]]:
    """Median milliseconds per operation and size. Each operation runs on every size in turn, so
    that a machine busy with other work slows the sizes alike."""
    samples: dict[int, dict[str, list[float]]] = {size: {} for size in folders}
    for round_ in range(max(3, repeat // 3)):
        for size in sorted(folders, reverse=bool(round_ % 2)):

            async def open_and_close(folder: Path = folders[size]) -> None:
                await (await start_up(folder)).close()

            samples[size].setdefault("start-up (database part)", []).append(await once(open_and_close))
    opened = {
        size: await Storage.open(folder / "meldbot.db", folder / "meldbot.key") for size, folder in folders.items()
    }
    try:
        ops = {size: await operations(storage) for size, storage in opened.items()}
        for size in ops:
            for run in ops[size].values():
                await run()  # warm the caches
        names = list(next(iter(ops.values())))
        for round_ in range(repeat):
            for name in names:
                for size in sorted(ops, reverse=bool(round_ % 2)):
                    samples[size].setdefault(name, []).append(await once(ops[size][name]))
    finally:
        for storage in opened.values():
            await storage.close()
    return {size: {name: statistics.median(times) for name, times in by.items()} for size, by in samples.items()}


def database_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("meldbot.db*"))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--keep", help="build the databases in this folder and reuse them on the next run")
    args = parser.parse_args()
    sizes: dict[int, int] = {}
    with tempfile.TemporaryDirectory(prefix="meldbot-scaling-") as name:
        folders = {size: Path(args.keep or name) / str(size) for size in args.sizes}
        for size, folder in folders.items():
            if not (folder / "meldbot.db").exists():
                folder.mkdir(parents=True, exist_ok=True)
                seconds = await build(folder, size)
                print(f"built {size:,} cases in {seconds:.0f} s", flush=True)
            sizes[size] = database_size(folder)
            print(f"{size:,} cases: database {sizes[size] / 1e6:.1f} MB", flush=True)
        results = await measure(folders, args.repeat)
    small, large = min(results), max(results)
    print()
    print(f"{'median ms':<42}" + "".join(f"{size:>12,}" for size in results) + f"{'ratio':>9}")
    for name in results[small]:
        ratio = results[large][name] / results[small][name]
        flag = "" if ratio <= 2 else "  over 2x"
        print(f"{name:<42}" + "".join(f"{results[s][name]:>12.1f}" for s in results) + f"{ratio:>8.2f}x{flag}")
    print(f"{'database bytes per case':<42}" + "".join(f"{sizes[s] / s:>12,.0f}" for s in results))
    print(f"\n{date.today().isoformat()}, repeat {args.repeat}; ratio = {large:,} cases against {small:,}")


if __name__ == "__main__":
    asyncio.run(main())
