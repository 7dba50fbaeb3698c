"""Benchmark: follow-ups at scale. Start-up with 100,000 pending, and the sustained send rate.

Run from the repository root (a few minutes with the defaults)::

    .venv/bin/python -m tests.benchmarks.followups
    .venv/bin/python -m tests.benchmarks.followups --pending 20000 --reporters 200

A script, not a test: it prints figures and fails only when a run is broken.

Part 1: start-up with ``--pending`` (100,000) follow-ups waiting
------------------------------------------------------------------
A database is filled with that many pending check-ins (four per case, spread over the
next three months, as the default plan makes them), written straight into the schema.
Then ``meldbot run`` starts against the Bot API emulator, twice: on an empty database
(baseline) and on the full one. The database is the source of truth: at start-up the
timekeeper (bot/scheduling.py) puts one alarm on python-telegram-bot's JobQueue for the
earliest pending item, whatever the backlog. Printed: the time from process start until
it polls for updates, and the process's peak memory (VmHWM), for both, against the aim
(within 1.3x of the empty start-up's time and within 30 MB of its peak memory); and,
measured inside one process, how long the timekeeper's start takes and how many jobs it
leaves on the JobQueue.

Part 2: sustained send rate with ``--reporters`` (600) check-ins due at once
---------------------------------------------------------------------------
That many reporters (real, encrypted, filed through the flows as the bot wires them) each
have a check-in falling due a few seconds after meldbot starts, with the emulator enforcing
Telegram's limits (per chat a burst of 3 then 1 a second; overall a burst of 30 then 30 a
second).
Printed: messages per second from the first check-in to the last, the delay from due
time to delivery (p50, p99, max), how many the emulator refused for going too fast (should
be 0: meldbot paces itself), and whether each arrived exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.emulator import DEFAULT_SPEC_PATH, BotApiEmulator
from tests.benchmarks.report_flow import REPO, TOKEN, cpu_seconds, memory_mb

COUNSELLOR_ID = 1001


def config_text(emu: BotApiEmulator, folder: Path, check_in: str) -> str:
    return f"""
[telegram]
api_base_url = "{emu.api_base_url}"
file_base_url = "{emu.file_base_url}"
poll_timeout = 2
[storage]
database = "{folder / "meldbot.db"}"
key_file = "{folder / "meldbot.key"}"
[[counsellors]]
telegram_id = {COUNSELLOR_ID}
name = "Vertrouwenspersoon"
serves = ["staff", "office_holders"]
[aftercare]
tips_after = "P30D"
[[aftercare.check_ins]]
after = "{check_in}"
closing = true
[quiet_hours]
start = "00:00"
end = "00:00"
[delivery]
sweep_interval = "PT5S"
[logging]
level = "WARNING"
"""


async def open_storage(folder: Path):
    from storage import Storage

    return await Storage.open(folder / "meldbot.db", folder / "meldbot.key")


async def fill_pending(folder: Path, pending: int) -> float:
    """``pending`` check-ins for ``pending / 4`` acknowledged cases, straight into the schema; returns seconds."""
    from storage.database import to_db

    started = time.perf_counter()
    storage = await open_storage(folder)
    now = datetime.now(UTC)
    offsets = [timedelta(hours=72), timedelta(days=14), timedelta(days=42), timedelta(days=91)]
    counsellor = storage.people.index_of(COUNSELLOR_ID)
    async with storage.db.transaction() as conn:
        for n in range(pending // 4):
            case_id = uuid.uuid4().hex
            submitted = to_db(now - timedelta(minutes=n % 1440))
            _, wrapped = storage.vault.new_data_key(table="cases", row_id=case_id)
            await conn.execute(
                "INSERT INTO cases (id, reference, wrapped_key, status, forms, channel, role, audience, wish,"
                " created_at, updated_at, submitted_at, acknowledged_at, register) VALUES (?, ?, ?, 'acknowledged',"
                " 'threat', 'in_person', 'employee', 'staff', 'counsellor', ?, ?, ?, ?, 'none')",
                (case_id, f"MB-{n:08d}"[:12], wrapped, submitted, submitted, submitted, submitted),
            )
            await conn.execute(
                "INSERT INTO case_counsellors (case_id, staff_index, state, since, case_submitted_at)"
                " VALUES (?, ?, 'assigned', ?, ?)",
                (case_id, counsellor, submitted, submitted),
            )
            for step, offset in enumerate(offsets):
                due = to_db(now - timedelta(minutes=n % 1440) + offset)
                await conn.execute(
                    "INSERT INTO scheduled (id, kind, case_id, due_at, created_at, detail)"
                    " VALUES (?, 'check_in', ?, ?, ?, ?)",
                    (uuid.uuid4().hex, case_id, due, to_db(now), str(step)),
                )
    await storage.close()
    return time.perf_counter() - started


async def measure_in_process(folder: Path) -> tuple[int, float, int]:
    """Inside one process: the timekeeper's start on this database. Returns (items pending, start s,
    jobs on the JobQueue after it)."""
    from telegram.ext import Application

    from bot.scheduling import Timekeeper
    from flows.clock import SystemClock

    storage = await open_storage(folder)
    async with storage.db.transaction() as conn:
        async with conn.execute("SELECT COUNT(*) FROM scheduled WHERE status = 'pending'") as cursor:
            (pending,) = await cursor.fetchone()
    application = Application.builder().token(TOKEN).build()
    keeper = Timekeeper(application, storage, SystemClock(), sweep_interval=timedelta(minutes=1))
    started = time.perf_counter()
    await keeper.start()
    await application.job_queue.start()  # APScheduler takes the jobs into its store here
    took = time.perf_counter() - started
    jobs = len(application.job_queue.jobs())
    keeper.stop()
    await application.job_queue.stop(wait=False)
    await storage.close()
    return pending, took, jobs


def start_bot(config: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "MELDBOT_TELEGRAM_TOKEN": TOKEN, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", "--config", str(config)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("ab"),
    )


def stop_bot(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()


async def timed_start(emu: BotApiEmulator, folder: Path) -> tuple[float, float, float]:
    """Start meldbot; returns (seconds until it polls, peak MB, CPU s used to get there)."""
    config = folder / "config.toml"
    config.write_text(config_text(emu, folder, "PT72H"), encoding="utf-8")
    mark = len(emu.requests)
    started = time.perf_counter()
    process = start_bot(config, folder / "bot.log")
    try:
        waiting = asyncio.ensure_future(emu.wait_for_request("getUpdates", since=mark, timeout=600))
        while not waiting.done():
            if process.poll() is not None:
                waiting.cancel()
                raise SystemExit(f"meldbot stopped during start-up:\n{(folder / 'bot.log').read_text()[-3000:]}")
            await asyncio.sleep(0.1)
        waiting.result()
        ready = time.perf_counter() - started
        await asyncio.sleep(0.5)
        peak = memory_mb(process.pid)["VmHWM"]
        cpu = cpu_seconds(process.pid)
    finally:
        stop_bot(process)
    return ready, peak, cpu


async def part_one(pending: int) -> None:
    print(f"1. Start-up with {pending:,} follow-ups pending (meldbot run, its own process)")
    async with BotApiEmulator(token=TOKEN, bot_username="meldbot_bench_bot", spec_path=DEFAULT_SPEC_PATH) as emu:
        emu.user(COUNSELLOR_ID, first_name="VP", started=True)
        with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as full:
            base = await timed_start(emu, Path(empty))
            filled = await fill_pending(Path(full), pending)
            loaded = await timed_start(emu, Path(full))
            n, took, jobs = await measure_in_process(Path(full))
    print(f"  filling the database: {filled:.1f} s")
    print("  database          start-up s   peak MB   CPU s")
    print(f"  empty             {base[0]:>10.2f}  {base[1]:>8.1f}  {base[2]:>6.2f}")
    print(f"  {pending:>7,} pending   {loaded[0]:>10.2f}  {loaded[1]:>8.1f}  {loaded[2]:>6.2f}")
    print(f"  difference        {loaded[0] - base[0]:>10.2f}  {loaded[1] - base[1]:>8.1f}  {loaded[2] - base[2]:>6.2f}")
    print(
        f"  start-up time {loaded[0] / base[0]:.2f}x the empty one (aim: at most 1.3x);"
        f" peak memory {loaded[1] - base[1]:+.1f} MB (aim: at most +30 MB)"
    )
    print(f"  in one process: the timekeeper's start with {n:,} items pending took {took:.3f} s; {jobs} job(s) queued")


async def seed_reporters(folder: Path, reporters: int, due_in: timedelta) -> None:
    """Real reporters with real (encrypted) reports, each with one check-in ``due_in`` from now."""
    from flows.aftercare import AftercarePlan, CheckInStep
    from flows.clock import SystemClock
    from tests.support import World, file_report, reporter

    storage = await open_storage(folder)
    # Anonymous registrations with no coordinator configured: nothing goes to staff, only check-ins.
    plan = AftercarePlan(check_ins=(CheckInStep(due_in, closing=True),), tips_after=timedelta(days=30))
    world = World(storage, SystemClock(), counsellors=(), coordinators=(), plan=plan)
    for n in range(reporters):
        await file_report(
            world, reporter(6_000_000 + n, f"Melder {n}", None), wish="anonymous_register", text=f"Verhaal {n}"
        )
    await storage.close()


async def part_two(reporters: int) -> None:
    print(f"\n2. Sustained send rate: {reporters} check-ins due at once; emulator enforces Telegram's limits")
    async with BotApiEmulator(
        token=TOKEN, bot_username="meldbot_bench_bot", spec_path=DEFAULT_SPEC_PATH, enforce_rate_limits=True
    ) as emu:
        emu.user(COUNSELLOR_ID, first_name="VP", started=True)
        users = [emu.user(6_000_000 + n, first_name=f"Melder {n}", started=True) for n in range(reporters)]
        with tempfile.TemporaryDirectory() as folder_name:
            folder = Path(folder_name)
            seeded = time.perf_counter()
            due_in = timedelta(seconds=max(20, reporters // 20))
            await seed_reporters(folder, reporters, due_in)
            due_at = time.monotonic() + due_in.total_seconds() - (time.perf_counter() - seeded)
            config = folder / "config.toml"
            config.write_text(config_text(emu, folder, "P30D"), encoding="utf-8")
            process = start_bot(config, folder / "bot.log")
            try:
                deadline = time.monotonic() + due_in.total_seconds() + reporters / 10 + 120
                while time.monotonic() < deadline:
                    got = sum(1 for u in users if any("Nog één keer" in m.text for m in u.chat.bot_messages))
                    if got == reporters:
                        break
                    await asyncio.sleep(0.5)
                await asyncio.sleep(2)
                peak = memory_mb(process.pid)["VmHWM"]
            finally:
                stop_bot(process)
        times = sorted(t for u in users for t in emu.send_times(u.chat_id))
        counts = [sum(1 for m in u.chat.bot_messages if "Nog één keer" in m.text) for u in users]
    delivered = sum(1 for c in counts if c >= 1)
    duplicates = sum(c - 1 for c in counts if c > 1)
    span = (times[-1] - times[0]) if len(times) > 1 else 0.0
    delays = [t - due_at for t in times]
    refused = emu.rate_limit_hits
    print(f"  delivered: {delivered}/{reporters}; duplicates: {duplicates}; refused for going too fast: {refused}")
    rate = len(times) / span if span else 0.0
    print(f"  {len(times)} messages in {span:.1f} s = {rate:.1f} messages/s (Telegram's limit 30/s)")
    p99 = sorted(delays)[max(0, int(len(delays) * 0.99) - 1)]
    print(
        f"  delay from due to delivery: p50 {statistics.median(delays):.1f} s, p99 {p99:.1f} s, max {max(delays):.1f} s"
    )
    print(f"  busiest second: {emu.peak_rate()} messages; bot peak memory {peak:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pending", type=int, default=100_000, help="follow-ups pending at start-up (part 1)")
    parser.add_argument("--reporters", type=int, default=600, help="check-ins due at once (part 2)")
    args = parser.parse_args()
    print(f"meldbot follow-up benchmark; {os.cpu_count()} CPUs; python {sys.version.split()[0]}\n")
    asyncio.run(part_one(args.pending))
    asyncio.run(part_two(args.reporters))


if __name__ == "__main__":
    main()
