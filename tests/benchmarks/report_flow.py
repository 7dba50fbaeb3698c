"""Benchmark: what one update costs meldbot, and how it holds up with 200 reporters at once.

Run from the repository root (takes about seven minutes with the defaults)::

    .venv/bin/python -m tests.benchmarks.report_flow            # defaults: 200 reporters, 50 baseline users
    .venv/bin/python -m tests.benchmarks.report_flow --reporters 20 --baseline-users 10 --json

This is a script, not a test: it prints figures and never fails because a machine is
slow (there are no timing assertions). It fails only when a run is broken (a bot
does not start, a reporter never gets an answer within ``--timeout``).

Set-up
------
The Bot API emulator (``bot/emulator``) and all simulated users run in this
process on 127.0.0.1. Every bot runs as a separate process that talks to the
emulator over HTTP with long polling, exactly as it would talk to Telegram:

* **meldbot** is started with its real command, ``meldbot run --config PATH``, with a
  temporary configuration, database and key file (two counsellors and a coordinator
  who have pressed Start, as in ``tests/e2e.py``).
* **bare echo** is ``tests/benchmarks/echo_bot.py``: a python-telegram-bot
  ``Application`` with default settings that sends every text back. It runs twice:
  without a rate limiter (PTB's default), and with PTB's ``AIORateLimiter`` (the stock
  way to keep to Telegram's limits; meldbot has its own pacer with the same aim), because
  pacing changes the wall time a lot and the CPU time a little.

Before measuring, each bot must have answered real updates (a warm-up report, or a
round of echoes), then sits idle for ``--idle-seconds`` to show its background CPU use.

Part 1: cost per update
-----------------------
``--baseline-users`` reporters each walk one complete Dutch report, all at once:
/start, "Melding maken", forms, when, channel, typed description, perpetrator, role, work process, wish,
"Versturen" -- nine updates each (the role question is asked once per person). Then
as many users each send the echo bot the same number of texts, all at once, each
waiting for its echo before sending the next. For each bot:

* **CPU ms/update**: user+system CPU of the bot process (``/proc/PID/stat``, read
  before and after the measured phase) divided by the updates it processed. This is
  the honest cost figure: it does not depend on pacing. For meldbot it includes
  everything the updates cause: database, encryption, the counsellor's notification.
* **wall ms/update**: the phase's wall time divided by its updates (the inverse of
  throughput at that concurrency); for meldbot, until the last reporter's report is
  confirmed. The copies for the one counsellor go out at one message a second to that
  chat (Telegram's per-chat limit), so they take a second per report; that time is
  printed apart.
* **API req/update**: Bot API requests the bot made per update (getUpdates excluded).
* **RATIO** meldbot / bare echo (and / echo with AIORateLimiter), CPU and wall.

Part 2: throughput with ``--reporters`` (200) at once
-----------------------------------------------------
A fresh meldbot process; every reporter walks the whole flow at the same moment
(``asyncio.gather``). Printed: updates per second, latency per step (p50, p99, max) from
the user's action to what the user waits for (the pressed question edited into the next
one, or a new message after a typed answer), the latency of the answer to each button
press (the spinner on the button), total wall time, how many reports reached the
counsellor (should be all: the script waits for them), the bot's peak memory (VmHWM), and
the emulator's spec violations and failed requests (should be 0; anything else means the
run is broken).

How to read the figures
-----------------------
meldbot paces itself at Telegram's limit of 30 requests a second (its own pacer,
``bot/ratelimit.py``: 29 a second, evenly spread; every request that names a chat,
including edits, is counted).
A button press costs two requests: its answer (not paced) and the edit that turns the
pressed question into the next one (paced); a typed answer or a command gets one new
message; the counsellor's notification is one more. So under load the wall time is bounded
below by (paced requests)/29 s (the pacer spreads them evenly, without a first burst); the
script prints that floor next to the measured wall time. That pacing is real -- Telegram
would refuse faster sending -- so the wall-time and latency figures under load mostly
measure the pacing, and the CPU figures measure the program. The emulator's own rate
limits are off. On a machine with few cores the emulator and the simulated users compete
with the bot for CPU; their CPU use is printed ("harness CPU") so a saturated harness is
visible.

The fairer CPU comparison is with the echo bot that also uses ``AIORateLimiter``: a
paced bot wakes up for every request instead of working through bursts, which costs
more CPU per update even for the echo bot. Button answers are not paced; meldbot has 256
update slots so that a press is not held up behind other chats' handlers waiting for the
pacer (with 64 slots, answers took seconds under load and some were refused as too old:
Telegram, and the emulator, refuse an answer more than 15 s after the press, so
"unanswered" presses in part 2 mean users saw a spinner that never resolved). CPU
figures of a few hundred updates vary by 10-20 % between runs; compare several runs
before drawing conclusions from small differences.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from bot.emulator import DEFAULT_SPEC_PATH, ApiRequest, BotApiEmulator, ChatMessage, SimUser

REPO = Path(__file__).resolve().parents[2]
TOKEN = "123456:BENCH-TOKEN-meldbot"
BOT_USERNAME = "meldbot_bench_bot"
STAFF_COUNSELLOR_ID = 1001
HOLDERS_COUNSELLOR_ID = 1002
COORDINATOR_ID = 2001
TELEGRAM_RATE = 29  # meldbot's pacer (bot/ratelimit.py): 29 a second, evenly, under Telegram's 30
STEPS = (
    "start",
    "report",
    "forms",
    "when",
    "channel",
    "description",
    "perpetrator",
    "role",
    "work_process",
    "wish",
    "confirm",
)
REFERENCE = re.compile(r"MB-[0-9A-Z]{4}-[0-9A-Z]{4}")
WORDS = (
    "hij zij riep dreigde stond bij de balie het loket parkeerplaats gemeentehuis gisteren vanochtend "
    "mail telefoon brief wachtte op me buiten zei dat hij wist waar ik woon en kwam steeds terug met "
    "zijn broer die foto's maakte van mijn auto collega's zagen het ook maar deden niets"
).split()

# -- the bot processes ----------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (its own threads; meldbot starts no children)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14, 15)


def memory_mb(pid: int) -> dict[str, float]:
    """VmHWM (peak resident set) and VmRSS of a process, in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            out[key] = int(value.split()[0]) / 1024
    return out


class BotProcess:
    """A bot running as a child process, its output in a log file."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process, log_path: Path) -> None:
        self.name = name
        self.proc = proc
        self.log_path = log_path

    @classmethod
    async def spawn(
        cls, name: str, argv: Sequence[str], env: dict[str, str], log_path: Path, emu: BotApiEmulator, timeout: float
    ) -> BotProcess:
        """Start the bot and return once the emulator has answered its first getUpdates."""
        since = len(emu.requests)
        with open(log_path, "wb") as log:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, env=env, cwd=REPO
            )
        bot = cls(name, proc, log_path)
        polled = asyncio.ensure_future(emu.wait_for_request("getUpdates", since=since, timeout=timeout))
        exited = asyncio.ensure_future(proc.wait())
        await asyncio.wait({polled, exited}, return_when=asyncio.FIRST_COMPLETED)
        if exited.done():
            polled.cancel()
            raise RuntimeError(f"{name} exited with status {proc.returncode} before polling:\n{bot.log_tail()}")
        exited.cancel()
        try:
            polled.result()
        except AssertionError:
            await bot.stop()
            raise RuntimeError(f"{name} did not poll for updates within {timeout:g}s:\n{bot.log_tail()}") from None
        return bot

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def memory(self) -> dict[str, float]:
        return memory_mb(self.pid)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def log_problems(self) -> list[str]:
        return [
            line
            for line in self.log_text().splitlines()
            if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")
        ]

    async def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then wait (the emulator keeps answering the bot's last getUpdates); SIGKILL if stuck."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        return self.proc.returncode


def meldbot_argv(config: Path) -> list[str]:
    script = Path(sys.executable).with_name("meldbot")
    if script.exists():
        return [str(script), "run", "--config", str(config)]
    return [sys.executable, "-m", "bot.cli", "run", "--config", str(config)]


def echo_argv(emu: BotApiEmulator, poll_timeout: int, rate_limiter: bool) -> list[str]:
    argv = [
        sys.executable,
        str(Path(__file__).with_name("echo_bot.py")),
        "--token",
        emu.token,
        "--api-base-url",
        emu.api_base_url,
        "--file-base-url",
        emu.file_base_url,
        "--poll-timeout",
        str(poll_timeout),
    ]
    return [*argv, "--rate-limiter"] if rate_limiter else argv


def write_config(folder: Path, emu: BotApiEmulator, poll_timeout: int) -> Path:
    """A meldbot configuration like the e2e tests' (the token comes from the environment)."""
    config = folder / "config.toml"
    config.write_text(
        f"""timezone = "Europe/Amsterdam"

[telegram]
api_base_url = "{emu.api_base_url}"
file_base_url = "{emu.file_base_url}"
poll_timeout = {poll_timeout}

[storage]
database = "{folder / "meldbot.db"}"
key_file = "{folder / "meldbot.key"}"

[[counsellors]]
telegram_id = {STAFF_COUNSELLOR_ID}
name = "Vertrouwenspersoon medewerkers"
serves = ["staff"]

[[counsellors]]
telegram_id = {HOLDERS_COUNSELLOR_ID}
name = "Vertrouwenspersoon bestuurders"
serves = ["office_holders"]
language = "en"

[[coordinators]]
telegram_id = {COORDINATOR_ID}
name = "Coördinator incidentregistratie"

[logging]
level = "INFO"
""",
        encoding="utf-8",
    )
    return config


def bot_env() -> dict[str, str]:
    """The bots' environment: the token, and this checkout's code first on the path.

    The ``meldbot`` console script would otherwise import whatever checkout the virtualenv's
    editable install points at, which need not be the one this benchmark was started from.
    """
    env = dict(os.environ)
    env["MELDBOT_TELEGRAM_TOKEN"] = TOKEN
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.pop("PYTHONBREAKPOINT", None)
    return env


def checkout_info() -> str:
    """The commit under test, and whether the program's code differs from it."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "bot", "flows", "storage", "messages"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return f"{REPO} (not a git checkout)"
    state = f"{len(changed)} uncommitted change(s) in bot/ flows/ storage/ messages/" if changed else "clean"
    return f"{REPO} at {commit}, {state}"


# -- what the simulated users do ----------------------------------------------------------------------


@dataclass
class Step:
    name: str
    acted: float  # time.time() of the user's action
    replied: float  # the emulator's clock when the bot's next question for this step was shown
    query_id: str | None = None  # button presses: the callback query the bot answered
    unanswered: bool = False  # a button press the bot never answered (e.g. later than Telegram's 15 s)


@dataclass
class Walk:
    steps: list[Step] = field(default_factory=list)
    reference: str | None = None


def contains(*needles: str) -> Callable[[ChatMessage], bool]:
    return lambda m: any(n in m.text for n in needles)


async def act(
    emu: BotApiEmulator,
    user: SimUser,
    walk: Walk,
    name: str,
    action: tuple[str, str],
    expect: Callable[[ChatMessage], bool],
    timeout: float,
) -> ChatMessage:
    """One step: act, then wait until the bot shows the matching next screen; record both times."""
    kind, value = action
    task: asyncio.Task | None = None
    acted = 0.0
    if kind == "press":

        async def pressing():
            nonlocal acted
            acted = time.time()
            return await user.press(value, timeout=timeout)

        task = asyncio.ensure_future(pressing())
        await asyncio.sleep(0)  # the press queues its update now
    else:
        acted = time.time()
        await (user.send(value) if kind == "send" else user.command(value))
    # A pressed answer edits the question it was pressed on into the next one; a typed one gets a new message.
    reply = await user.next_screen(expect, timeout=timeout)
    step = Step(name, acted, shown_at(emu, user, reply, acted))
    if task is not None:
        # meldbot answers a press before it edits or sends, so the answer is in by now unless it failed.
        done, _ = await asyncio.wait({task}, timeout=2.0)
        if done and task.exception() is None:
            step.query_id = task.result().callback_query_id
        else:
            task.cancel()
            step.unanswered = True
    walk.steps.append(step)
    return reply


def shown_at(emu: BotApiEmulator, user: SimUser, message: ChatMessage, since: float) -> float:
    """When the bot put ``message`` on the screen: when it was sent, or, for a message edited into
    the next question, when the first edit of it after ``since`` was done (the emulator's clock)."""
    if message.date_exact >= since:
        return message.date_exact
    edits = [
        r.timestamp + r.duration
        for r in reversed(emu.requests)
        if r.timestamp >= since
        and r.method.startswith("editMessage")
        and r.ok
        and r.chat_id == user.chat_id
        and r.params.get("message_id") == message.message_id
    ]
    if not edits:
        raise RuntimeError(f"no edit of message {message.message_id} in chat {user.chat_id} since the action")
    return min(edits)


async def file_report(emu: BotApiEmulator, user: SimUser, description: str, timeout: float) -> Walk:
    """The Dutch report flow as in tests/test_e2e_report.py::file_report, timed step by step."""
    walk = Walk()
    await act(emu, user, walk, "start", ("command", "/start"), contains("112"), timeout)
    await act(emu, user, walk, "report", ("press", "Melding maken"), contains("Wat is er gebeurd?"), timeout)
    await act(emu, user, walk, "forms", ("press", "Bedreiging"), contains("Wanneer gebeurde het?"), timeout)
    await act(emu, user, walk, "when", ("press", "Vandaag"), contains("Op welke manier gebeurde het?"), timeout)
    await act(emu, user, walk, "channel", ("press", "Persoonlijk"), contains("eigen woorden"), timeout)
    await act(emu, user, walk, "description", ("send", description), contains("Wie deed het?"), timeout)
    asked = contains("Wat is je rol", "Wat wil je met je melding")
    prompt = await act(emu, user, walk, "perpetrator", ("press", "Inwoner of klant, naam onbekend"), asked, timeout)
    if "Wat is je rol" in prompt.text:
        await act(emu, user, walk, "role", ("press", "Medewerker"), contains("In welk werk"), timeout)
        await act(
            emu, user, walk, "work_process", ("press", "Overslaan"), contains("Wat wil je met je melding"), timeout
        )
    await act(emu, user, walk, "wish", ("press", "Vertrouwelijk gesprek"), contains("Klopt dit?"), timeout)
    done = await act(emu, user, walk, "confirm", ("press", "Versturen"), contains("Je melding is verstuurd"), timeout)
    found = REFERENCE.search(done.text)
    walk.reference = found.group(0) if found else None
    return walk


async def echo_round(emu: BotApiEmulator, user: SimUser, texts: Sequence[str], timeout: float) -> Walk:
    walk = Walk()
    for n, text in enumerate(texts):
        await act(emu, user, walk, f"echo{n}", ("send", text), lambda m, t=text: m.text == t, timeout)
    return walk


def description_for(rng: random.Random) -> str:
    """A made-up incident description of 40 to 600 characters."""
    target = rng.randint(40, 600)
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < target:
        words.append(rng.choice(WORDS))
    return " ".join(words).capitalize() + "."


def echo_texts(user_id: int, count: int, rng: random.Random) -> list[str]:
    return [f"{user_id}-{n} {description_for(rng)}" for n in range(count)]


async def wait_for_reports(counsellor: SimUser, references: set[str], timeout: float) -> tuple[int, float]:
    """Wait until the counsellor has a message for every reference; (how many arrived, last arrival time)."""
    missing = set(references)
    last = 0.0
    deadline = time.monotonic() + timeout
    while missing:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            msg = await counsellor.wait_for_message(
                lambda m, missing=missing: any(r in missing for r in REFERENCE.findall(m.text)), timeout=remaining
            )
        except AssertionError:
            break
        missing -= set(REFERENCE.findall(msg.text))
        last = max(last, msg.date_exact)
    return len(references) - len(missing), last


# -- measuring ----------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks; q in [0, 100]."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def health(emu: BotApiEmulator, since: int, violations_since: int) -> dict[str, Any]:
    requests = emu.requests[since:]
    failed = [r for r in requests if not r.ok and not (r.method == "getUpdates" and r.status == 409)]
    return {
        "spec_violations": len(emu.spec_violations) - violations_since,
        "failed_requests": len(failed),
        "failed_by_reason": dict(Counter(f"{r.method} {r.status}: {_description(r)}" for r in failed)),
        "emulator_errors": len(emu.emulator_errors),
        "unhandled_methods": list(emu.unhandled_methods),
    }


def _description(r: ApiRequest) -> str:
    return (r.response or {}).get("description", "connection dropped")[:80]


def request_figures(requests: Sequence[ApiRequest], updates: int) -> dict[str, Any]:
    calls = [r for r in requests if r.method != "getUpdates"]
    paced = [r for r in calls if r.chat_id is not None]
    return {
        "api_requests": len(calls),
        "api_requests_per_update": len(calls) / updates if updates else 0.0,
        "paced_requests": len(paced),
        # The pacer spreads requests evenly, without a first burst.
        "pacing_floor_s": len(paced) / TELEGRAM_RATE,
        "get_updates_calls": sum(1 for r in requests if r.method == "getUpdates"),
        "by_method": dict(Counter(r.method for r in calls).most_common()),
    }


async def measure_idle(bot: BotProcess, seconds: float) -> float:
    """CPU use of an idle bot, as a percentage of one core."""
    if seconds <= 0:
        return float("nan")
    before, start = bot.cpu(), time.monotonic()
    await asyncio.sleep(seconds)
    return 100 * (bot.cpu() - before) / (time.monotonic() - start)


@dataclass
class Phase:
    """Counters around a measured phase."""

    emu: BotApiEmulator
    bot: BotProcess
    since: int = 0
    violations: int = 0
    cpu: float = 0.0
    harness: float = 0.0
    started: float = 0.0

    def begin(self) -> None:
        self.since = len(self.emu.requests)
        self.violations = len(self.emu.spec_violations)
        self.harness = time.process_time()
        self.cpu = self.bot.cpu()
        self.started = time.time()

    def end(self, updates: int, finished: float | None = None) -> dict[str, Any]:
        cpu = self.bot.cpu() - self.cpu
        harness = time.process_time() - self.harness
        wall = (finished or time.time()) - self.started
        return {
            "updates": updates,
            "wall_s": wall,
            "bot_cpu_s": cpu,
            "cpu_ms_per_update": 1000 * cpu / updates,
            "wall_ms_per_update": 1000 * wall / updates,
            "updates_per_s": updates / wall,
            "bot_cpu_share_of_one_core": cpu / wall,
            "harness_cpu_s": harness,
            "harness_cpu_share_of_one_core": harness / wall,
            "memory_mb": self.bot.memory(),
            **request_figures(self.emu.requests[self.since :], updates),
            **health(self.emu, self.since, self.violations),
        }


class Bench:
    def __init__(self, emu: BotApiEmulator, args: argparse.Namespace, workdir: Path) -> None:
        self.emu = emu
        self.args = args
        self.workdir = workdir
        self.next_user = 100_000
        self.staff = [
            emu.user(STAFF_COUNSELLOR_ID, first_name="Carla", language_code="nl"),
            emu.user(HOLDERS_COUNSELLOR_ID, first_name="Henk", language_code="en"),
            emu.user(COORDINATOR_ID, first_name="Coby", language_code="nl"),
        ]

    def users(self, count: int, prefix: str) -> list[SimUser]:
        people = [
            self.emu.user(self.next_user + n, first_name=f"{prefix}{n}", language_code="nl") for n in range(count)
        ]
        self.next_user += count + 1000
        return people

    def rng(self, salt: int) -> random.Random:
        return random.Random(self.args.seed * 1_000_003 + salt)

    async def start_meldbot(self, label: str) -> BotProcess:
        """A fresh meldbot (new database and key) whose staff have pressed Start, warmed up with one report."""
        folder = self.workdir / label
        folder.mkdir()
        config = write_config(folder, self.emu, self.args.poll_timeout)
        for member in self.staff:
            member.skip_pending()
            await member.command("/start")  # queued before the bot starts; its first getUpdates gets them
        bot = await BotProcess.spawn(
            f"meldbot ({label})",
            meldbot_argv(config),
            bot_env(),
            folder / "meldbot.log",
            self.emu,
            self.args.timeout,
        )
        try:
            for member in self.staff:
                await member.next_message(timeout=self.args.timeout)  # their welcome
            warm = self.users(1, "Warm")[0]
            walk = await file_report(self.emu, warm, "Opwarmen: een eerste melding.", self.args.timeout)
            await wait_for_reports(self.staff[0], {walk.reference}, self.args.timeout)
            self.staff[0].skip_pending()
            await self.emu.wait_until_consumed(timeout=self.args.timeout)
        except BaseException:
            await bot.stop()
            raise
        return bot

    async def start_echo(self, label: str, rate_limiter: bool, per_user: int) -> BotProcess:
        folder = self.workdir / label
        folder.mkdir()
        bot = await BotProcess.spawn(
            label,
            echo_argv(self.emu, self.args.poll_timeout, rate_limiter),
            bot_env(),
            folder / "echo.log",
            self.emu,
            self.args.timeout,
        )
        try:
            warm = self.users(1, "Warm")[0]
            await echo_round(self.emu, warm, echo_texts(warm.id, per_user, self.rng(warm.id)), self.args.timeout)
            await self.emu.wait_until_consumed(timeout=self.args.timeout)
        except BaseException:
            await bot.stop()
            raise
        return bot

    async def finish(self, bot: BotProcess, result: dict[str, Any]) -> dict[str, Any]:
        result["exit_status"] = await bot.stop()
        problems = bot.log_problems()
        result["log_errors"] = len(problems)
        result["log_error_lines"] = problems[:10]
        return result

    # -- part 1 ------------------------------------------------------------------------------------

    async def meldbot_cost(self, users: int) -> dict[str, Any]:
        bot = await self.start_meldbot("cost")
        try:
            idle = await measure_idle(bot, self.args.idle_seconds)
            result = await self._reports(bot, self.users(users, "Melder"))
            result["idle_cpu_percent"] = idle
        except BaseException:
            await bot.stop()
            print(f"--- {bot.name} log (tail) ---\n{bot.log_tail()}", file=sys.stderr)
            raise
        return await self.finish(bot, result)

    async def echo_cost(self, users: int, per_user: int, rate_limiter: bool) -> dict[str, Any]:
        label = "echo-aioratelimiter" if rate_limiter else "echo-bare"
        bot = await self.start_echo(label, rate_limiter, per_user)
        try:
            idle = await measure_idle(bot, self.args.idle_seconds)
            people = self.users(users, "Echo")
            texts = [echo_texts(p.id, per_user, self.rng(p.id)) for p in people]
            phase = Phase(self.emu, bot)
            phase.begin()
            walks = await asyncio.gather(
                *(echo_round(self.emu, p, t, self.args.timeout) for p, t in zip(people, texts, strict=True))
            )
            finished = max(s.replied for w in walks for s in w.steps)
            await self.emu.wait_until_consumed(timeout=self.args.timeout)
            result = phase.end(sum(len(w.steps) for w in walks), finished)
            latencies = [s.replied - s.acted for w in walks for s in w.steps]
            result["echo_latency_ms"] = {
                "p50": 1000 * percentile(latencies, 50),
                "p99": 1000 * percentile(latencies, 99),
                "max": 1000 * max(latencies),
            }
            result["idle_cpu_percent"] = idle
        except BaseException:
            await bot.stop()
            print(f"--- {bot.name} log (tail) ---\n{bot.log_tail()}", file=sys.stderr)
            raise
        return await self.finish(bot, result)

    # -- part 2 ------------------------------------------------------------------------------------

    async def throughput(self, reporters: int) -> dict[str, Any]:
        bot = await self.start_meldbot("throughput")
        try:
            result = await self._reports(bot, self.users(reporters, "Melder"))
        except BaseException:
            await bot.stop()
            print(f"--- {bot.name} log (tail) ---\n{bot.log_tail()}", file=sys.stderr)
            raise
        return await self.finish(bot, result)

    async def _reports(self, bot: BotProcess, people: list[SimUser]) -> dict[str, Any]:
        """Every person files one report at the same moment; wait until the counsellor has them all."""
        rng = self.rng(len(people))
        order = list(people)
        rng.shuffle(order)
        descriptions = {p.id: description_for(rng) for p in order}
        phase = Phase(self.emu, bot)
        phase.begin()
        walks = await asyncio.gather(*(file_report(self.emu, p, descriptions[p.id], self.args.timeout) for p in order))
        users_done = max(s.replied for w in walks for s in w.steps)
        references = {w.reference for w in walks if w.reference}
        # The counsellor's copies arrive at one a second (one chat): allow for that.
        wait = max(self.args.timeout, 1.5 * len(references) + 30)
        received, last_report = await wait_for_reports(self.staff[0], references, wait)
        await self.emu.wait_until_consumed(timeout=self.args.timeout)
        updates = sum(len(w.steps) for w in walks)
        # Wall time until the last reporter's report is confirmed: what handling the updates
        # takes. The counsellor's copies go out at one message a second to that one chat
        # (Telegram's per-chat limit), which takes as many seconds as there are reports;
        # that is printed apart. CPU is measured after both, so it includes the delivery.
        result = phase.end(updates, users_done)
        result.update(
            reporters=len(people),
            reports_confirmed=len(references),
            reports_received_by_counsellor=received,
            counsellor_done_s=last_report - phase.started,
            users_done_s=users_done - phase.started,
            steps=step_latencies(self.emu, walks, phase.since),
        )
        return result


def step_latencies(emu: BotApiEmulator, walks: Sequence[Walk], since: int) -> dict[str, dict[str, float]]:
    """Per step: latency to the bot's next question, and for presses to the callback answer (ms)."""
    answered = {
        r.params.get("callback_query_id"): r.timestamp + r.duration
        for r in emu.requests[since:]
        if r.method == "answerCallbackQuery" and r.ok
    }
    out: dict[str, dict[str, float]] = {}
    for name in STEPS:
        steps = [s for w in walks for s in w.steps if s.name == name]
        if not steps:
            continue
        replies = [1000 * (s.replied - s.acted) for s in steps]
        row = {
            "count": len(steps),
            "p50": percentile(replies, 50),
            "p99": percentile(replies, 99),
            "max": max(replies),
        }
        presses = [s for s in steps if s.query_id is not None or s.unanswered]
        if presses:
            answers = [1000 * (answered[s.query_id] - s.acted) for s in presses if s.query_id in answered]
            row["answer_p50"] = percentile(answers, 50)
            row["answer_p99"] = percentile(answers, 99)
            row["answer_max"] = max(answers, default=float("nan"))
            row["unanswered"] = sum(1 for s in presses if s.unanswered)
        out[name] = row
    return out


# -- reporting ------------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "cpu_model": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "python_telegram_bot": metadata.version("python-telegram-bot"),
        "aiosqlite": metadata.version("aiosqlite"),
        "cryptography": metadata.version("cryptography"),
    }


def fmt(value: float, digits: int = 2) -> str:
    return "n/a" if value != value else f"{value:,.{digits}f}"


def print_health(result: dict[str, Any], indent: str = "  ") -> None:
    print(
        f"{indent}emulator: {result['spec_violations']} spec violations, {result['failed_requests']} failed requests,"
        f" {result['emulator_errors']} emulator errors; bot log: {result['log_errors']} ERROR lines;"
        f" exit status {result['exit_status']}"
    )
    for reason, count in result["failed_by_reason"].items():
        print(f"{indent}  failed: {count} x {reason}")
    for line in result["log_error_lines"]:
        print(f"{indent}  log: {line[:200]}")


def print_cost(results: dict[str, Any], users: int, per_user: int) -> None:
    meld = results["meldbot"]
    print(
        f"1. Cost per update: {users} reporters each file one report ({per_user} updates each) vs {users} users"
        f" each sending the echo bot {per_user} texts; all users at once"
    )
    header = (
        f"  {'bot':<40}{'updates':>8}{'CPU ms/upd':>12}{'wall ms/upd':>13}{'API req/upd':>13}"
        f"{'idle CPU %':>12}{'peak MB':>9}"
    )
    print(header)
    rows = [
        ("meldbot (paced, 256 concurrent)", meld),
        ("bare PTB echo (defaults)", results["echo"]),
        ("bare PTB echo + AIORateLimiter", results["echo_limited"]),
    ]
    for label, r in rows:
        print(
            f"  {label:<40}{r['updates']:>8}{fmt(r['cpu_ms_per_update']):>12}{fmt(r['wall_ms_per_update']):>13}"
            f"{fmt(r['api_requests_per_update']):>13}{fmt(r['idle_cpu_percent'], 1):>12}"
            f"{fmt(r['memory_mb'].get('VmHWM', float('nan')), 1):>9}"
        )
    for label, key in (("bare echo", "echo"), ("echo + AIORateLimiter", "echo_limited")):
        base = results[key]
        print(
            f"  RATIO meldbot / {label}: CPU per update {meld['cpu_ms_per_update'] / base['cpu_ms_per_update']:.1f}x,"
            f" wall per update {meld['wall_ms_per_update'] / base['wall_ms_per_update']:.1f}x"
        )
    print(
        f"  meldbot paces itself at Telegram's limit of {TELEGRAM_RATE} requests/s:"
        f" {meld['paced_requests']} paced requests need at least {fmt(meld['pacing_floor_s'], 1)} s;"
        f" the phase took {fmt(meld['wall_s'], 1)} s"
    )
    print(
        f"  the one counsellor had all {meld['reports_received_by_counsellor']} reports after"
        f" {fmt(meld['counsellor_done_s'], 1)} s (one message a second to a chat, Telegram's limit)"
    )
    print(
        f"  echo latency p50/p99: bare {fmt(results['echo']['echo_latency_ms']['p50'], 1)}/"
        f"{fmt(results['echo']['echo_latency_ms']['p99'], 1)} ms, with AIORateLimiter"
        f" {fmt(results['echo_limited']['echo_latency_ms']['p50'], 1)}/"
        f"{fmt(results['echo_limited']['echo_latency_ms']['p99'], 1)} ms"
    )
    print(
        "  harness CPU (emulator + simulated users, this process), share of one core: "
        + ", ".join(
            f"{label} {r['harness_cpu_share_of_one_core']:.0%}"
            for label, r in (("meldbot", meld), ("echo", results["echo"]), ("echo+limiter", results["echo_limited"]))
        )
    )
    print(f"  meldbot requests by method: {meld['by_method']}")
    for label, r in rows:
        print(f"  {label}:", end="")
        print_health(r, indent=" ")


def print_throughput(r: dict[str, Any]) -> None:
    print(f"2. Throughput: {r['reporters']} reporters file a report at the same moment (fresh meldbot process)")
    print(
        f"  {r['updates']} updates in {fmt(r['wall_s'], 1)} s = {fmt(r['updates_per_s'], 1)} updates/s"
        f" (last reporter confirmed after {fmt(r['users_done_s'], 1)} s)"
    )
    print(
        f"  reports confirmed to reporters: {r['reports_confirmed']}/{r['reporters']};"
        f" received by the counsellor: {r['reports_received_by_counsellor']}/{r['reporters']}"
        f" (the last after {fmt(r['counsellor_done_s'], 1)} s: one message a second to one chat)"
    )
    print(
        f"  meldbot CPU: {fmt(r['bot_cpu_s'], 1)} s = {fmt(r['cpu_ms_per_update'])} ms/update,"
        f" {r['bot_cpu_share_of_one_core']:.0%} of one core; peak memory (VmHWM)"
        f" {fmt(r['memory_mb'].get('VmHWM', float('nan')), 1)} MB"
    )
    print(
        f"  Bot API requests: {r['api_requests']} ({fmt(r['api_requests_per_update'])}/update), of which"
        f" {r['paced_requests']} paced at {TELEGRAM_RATE}/s -> floor {fmt(r['pacing_floor_s'], 1)} s;"
        f" {r['get_updates_calls']} getUpdates"
    )
    print(f"  harness CPU share of one core: {r['harness_cpu_share_of_one_core']:.0%}")
    print(f"  {'step':<13}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'answer p50':>12}{'answer p99':>12}")
    for name, row in r["steps"].items():
        answer = (
            f"{fmt(row['answer_p50'], 0):>12}{fmt(row['answer_p99'], 0):>12}"
            + (f"  ({row['unanswered']} unanswered)" if row["unanswered"] else "")
            if "answer_p50" in row
            else ""
        )
        print(
            f"  {name:<13}{row['count']:>6}{fmt(row['p50'], 0):>10}{fmt(row['p99'], 0):>10}{fmt(row['max'], 0):>10}"
            + answer
        )
    print(
        "  (latency: the user's action to the next question, edited in place or new; answer: to the"
        " answerCallbackQuery of a button press)"
    )
    slowest = max((row.get("answer_max", 0.0) for row in r["steps"].values()), default=0.0)
    unanswered = sum(row.get("unanswered", 0) for row in r["steps"].values())
    print(
        f"  slowest button answer: {fmt(slowest / 1000, 1)} s; presses never answered: {unanswered}"
        " (Telegram, and the emulator, refuse an answer more than 15 s after the press)"
    )
    print_health(r)


# -- main ---------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.report_flow",
        description=(
            "Benchmark meldbot through the Bot API emulator: CPU and wall time per update against a bare"
            " python-telegram-bot echo bot, and throughput with many reporters filing at once."
            " Prints figures; never fails on a slow machine."
        ),
    )
    parser.add_argument("--reporters", type=int, default=200, help="reporters filing at once in part 2 (200)")
    parser.add_argument(
        "--baseline-users", type=int, default=50, help="users at once in part 1, per bot (50); 0 skips part 1"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed for descriptions and start order (1)")
    parser.add_argument("--poll-timeout", type=int, default=2, help="the bots' getUpdates timeout, 1-5 s (2)")
    parser.add_argument("--idle-seconds", type=float, default=2.0, help="idle CPU measured for this long (2)")
    parser.add_argument("--timeout", type=float, default=180.0, help="give up on any single wait after this (180 s)")
    parser.add_argument("--json", action="store_true", help="also print all results as one JSON object at the end")
    args = parser.parse_args(argv)
    if args.reporters < 0 or args.baseline_users < 0:
        parser.error("counts must be 0 or more")
    if not 1 <= args.poll_timeout <= 5:
        parser.error("--poll-timeout must be 1 to 5 seconds")
    return args


async def run(args: argparse.Namespace) -> dict[str, Any]:
    info = machine_info()
    results: dict[str, Any] = {"machine": info, "settings": vars(args).copy()}
    print("meldbot report-flow benchmark")
    results["checkout"] = checkout = checkout_info()
    print(f"checkout: {checkout}")
    print(f"machine: {info['cpu_count']} CPUs ({info['cpus_usable']} usable) {info['cpu_model']}; {info['platform']}")
    print(
        f"python {info['python']}, python-telegram-bot {info['python_telegram_bot']}, aiosqlite {info['aiosqlite']},"
        f" cryptography {info['cryptography']}"
    )
    print(
        f"settings: reporters={args.reporters} baseline-users={args.baseline_users} seed={args.seed}"
        f" poll-timeout={args.poll_timeout}s; emulator on 127.0.0.1, its rate limits off; each bot its own process"
    )
    print(flush=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="meldbot-bench-") as tmp:
        async with BotApiEmulator(
            token=TOKEN, bot_username=BOT_USERNAME, spec_path=DEFAULT_SPEC_PATH, default_timeout=args.timeout
        ) as emu:
            bench = Bench(emu, args, Path(tmp))
            if args.baseline_users:
                cost: dict[str, Any] = {}
                cost["meldbot"] = await bench.meldbot_cost(args.baseline_users)
                per_user = round(cost["meldbot"]["updates"] / args.baseline_users)
                cost["echo"] = await bench.echo_cost(args.baseline_users, per_user, rate_limiter=False)
                cost["echo_limited"] = await bench.echo_cost(args.baseline_users, per_user, rate_limiter=True)
                cost["ratio_cpu"] = cost["meldbot"]["cpu_ms_per_update"] / cost["echo"]["cpu_ms_per_update"]
                cost["ratio_wall"] = cost["meldbot"]["wall_ms_per_update"] / cost["echo"]["wall_ms_per_update"]
                cost["ratio_cpu_vs_limited"] = (
                    cost["meldbot"]["cpu_ms_per_update"] / cost["echo_limited"]["cpu_ms_per_update"]
                )
                cost["ratio_wall_vs_limited"] = (
                    cost["meldbot"]["wall_ms_per_update"] / cost["echo_limited"]["wall_ms_per_update"]
                )
                results["cost_per_update"] = cost
                print_cost(cost, args.baseline_users, per_user)
                print(flush=True)
            if args.reporters:
                results["throughput"] = await bench.throughput(args.reporters)
                print_throughput(results["throughput"])
                print(flush=True)
    results["total_s"] = time.monotonic() - started
    print(f"total benchmark time: {results['total_s']:.1f} s")
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = asyncio.run(run(args))
    if args.json:
        print(json.dumps(results, default=str, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
