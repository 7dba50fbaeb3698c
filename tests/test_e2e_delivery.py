"""Delivery that can be trusted: exactly once, across kill -9, under Telegram's limits and faults.

The bot runs here as a real separate process (``python -m bot.cli run``), so it can be
killed with SIGKILL in the middle of its work, as a power cut or the OOM killer would.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from bot.callbacks import decode
from flows.aftercare import AftercarePlan, CheckInStep
from flows.clock import SystemClock
from flows.lifecycle import CheckInAnswer
from flows.model import Audience, Counsellor, Language
from flows.outcome import CheckIn
from storage import Storage
from tests.e2e import STAFF_COUNSELLOR_ID, TOKEN, emulator
from tests.support import World, file_report, reporter
from tests.test_e2e_report import file_report as file_through_telegram

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent


def write_config(path: Path, emu, folder: Path, *, counsellors: list[tuple[int, str]], check_ins: list[str]) -> Path:
    steps = "\n".join(
        f'[[aftercare.check_ins]]\nafter = "{after}"\nclosing = {"true" if n == len(check_ins) - 1 else "false"}\n'
        for n, after in enumerate(check_ins)
    )
    staff = "\n".join(
        f'[[counsellors]]\ntelegram_id = {cid}\nname = "{name}"\nserves = ["staff", "office_holders"]\n'
        for cid, name in counsellors
    )
    path.write_text(
        f"""
[telegram]
api_base_url = "{emu.api_base_url}"
file_base_url = "{emu.file_base_url}"
poll_timeout = 1
[storage]
database = "{folder / "meldbot.db"}"
key_file = "{folder / "meldbot.key"}"
{staff}
[aftercare]
tips_after = "P30D"
{steps}
[quiet_hours]
start = "00:00"
end = "00:00"
[delivery]
sweep_interval = "PT1S"
max_backoff = "PT2S"
[logging]
level = "INFO"
""",
        encoding="utf-8",
    )
    return path


class BotProcess:
    """``meldbot run`` as its own process, with its log kept for the test to read."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log = config, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "MELDBOT_TELEGRAM_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--config", str(self.config)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("ab"),
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flushing, no goodbye."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


async def ready(emu, since: int) -> None:
    await emu.wait_for_request("getUpdates", since=since, timeout=30)


def check_in_steps(chat) -> list[int]:
    """The step number of every check-in the chat received (from its "fine" button)."""
    steps = []
    for message in chat.bot_messages:
        for _, data in message.buttons:
            action = decode(data)
            if isinstance(action, CheckIn) and action.answer is CheckInAnswer.FINE:
                steps.append(action.step)
    return steps


async def test_kill_9_while_follow_ups_are_pending_and_each_arrives_exactly_once(tmp_path):
    async with emulator() as emu:
        emu.user(STAFF_COUNSELLOR_ID, first_name="Carla", language_code="nl", started=True)
        config = write_config(
            tmp_path / "config.toml",
            emu,
            tmp_path,
            counsellors=[(STAFF_COUNSELLOR_ID, "Carla VP")],
            check_ins=["PT4S", "PT8S", "PT12S"],
        )
        bot = BotProcess(config, tmp_path / "bot.log")
        bot.start()
        try:
            await ready(emu, 0)
            reporters = [emu.user(5400 + n, first_name=f"Melder{n}", language_code="nl") for n in range(3)]
            await asyncio.gather(*(file_through_telegram(r, text=f"Verhaal {n}") for n, r in enumerate(reporters)))
            filed = time.monotonic()
            # The first check-in arrives; then the process dies with the others still pending.
            await asyncio.gather(
                *(r.wait_for_message(lambda m: "Hoe gaat het" in m.text, timeout=15) for r in reporters)
            )
            await asyncio.sleep(max(0.0, filed + 5 - time.monotonic()))
            bot.kill()
            # Down while the second check-in falls due (8 s); back before the third (12 s).
            await asyncio.sleep(max(0.0, filed + 10 - time.monotonic()))
            mark = len(emu.requests)
            bot.start()
            await ready(emu, mark)
            for r in reporters:
                await r.wait_for_message(lambda m: "Nog één keer" in m.text, timeout=20)
            await asyncio.sleep(2)  # time for any duplicate to show up
            for r in reporters:
                assert sorted(check_in_steps(r.chat)) == [0, 1, 2], r.chat.dump()
            carla = emu.user(STAFF_COUNSELLOR_ID)
            assert len([m for m in carla.chat.messages if "Nieuwe melding" in m.text]) == 3
            log = (tmp_path / "bot.log").read_text()
            assert " ERROR " not in log and "Traceback" not in log
            assert TOKEN not in log
            # Nothing a reporter said, nor who they are, reaches the log.
            assert all(f"Verhaal {n}" not in log and f"Melder{n}" not in log for n in range(3))
            assert not any(re.search(rf"\b{r.id}\b", log) for r in reporters)
        finally:
            bot.stop()
        emu.assert_healthy(allow_failed_requests=True)


async def test_a_burst_of_follow_ups_meets_429s_and_5xx_and_arrives_once_within_telegrams_limits(tmp_path):
    """Thirty reporters' check-ins and thirty reports for three counsellors fall due at once,
    with Telegram's limits enforced (1 a second per chat after a burst of 3, 30 a second
    overall) and faults injected. Every message arrives once; meldbot's own pacing means
    Telegram never has to refuse it for going too fast."""
    counsellors = [(1001, "Carla"), (1003, "Dirk"), (1004, "Eva")]
    async with emulator(enforce_rate_limits=True) as emu:
        for cid, name in counsellors:
            emu.user(cid, first_name=name, language_code="nl", started=True)
        reporters = [emu.user(5500 + n, first_name=f"Melder{n}", language_code="nl", started=True) for n in range(30)]
        # Seed the database as if the reports were filed a moment ago (no interactive traffic).
        storage = await Storage.open(tmp_path / "meldbot.db", tmp_path / "meldbot.key")
        staff = [
            Counsellor(cid, f"{name} VP", frozenset(Audience), Language.NL, n)
            for n, (cid, name) in enumerate(counsellors)
        ]
        plan = AftercarePlan(check_ins=(CheckInStep(timedelta(seconds=3)),))
        world = World(storage, SystemClock(), counsellors=staff, coordinators=(), plan=plan)
        for n in range(30):
            await file_report(world, reporter(5500 + n, f"Melder{n}", None), text=f"Verhaal {n}")
        await storage.close()
        config = write_config(
            tmp_path / "config.toml",
            emu,
            tmp_path,
            counsellors=[(c, f"{n} VP") for c, n in counsellors],
            check_ins=["PT3S"],
        )
        emu.inject_fault(method="sendMessage", chat_id=1003, status=429, retry_after=1, times=2)
        emu.inject_fault(method="sendMessage", chat_id=5507, status=502, times=1)
        emu.inject_fault(method="sendMessage", chat_id=5511, kind="drop", times=1)
        emu.inject_fault(method="sendMessage", chat_id=5512, status=500, times=2)
        bot = BotProcess(config, tmp_path / "bot.log")
        bot.start()
        try:
            await ready(emu, 0)
            for r in reporters:
                await r.wait_for_message(lambda m: any(str(d).startswith("c:ci:") for _, d in m.buttons), timeout=40)
            for cid, _ in counsellors:
                chat = emu.user(cid).chat
                deadline = time.monotonic() + 40
                while (
                    len([m for m in chat.messages if "Nieuwe melding" in m.text]) < 10 and time.monotonic() < deadline
                ):
                    await asyncio.sleep(0.2)
            await asyncio.sleep(2)
        finally:
            bot.stop()
        for r in reporters:
            assert check_in_steps(r.chat) == [0], r.chat.dump()
        for cid, _ in counsellors:
            reports = [m for m in emu.user(cid).chat.messages if "Nieuwe melding" in m.text]
            assert len(reports) == 10 and len({m.text.split()[3] for m in reports}) == 10
            gaps = [b - a for a, b in zip(emu.send_times(cid), emu.send_times(cid)[1:], strict=False)]
            sends = [
                (round(r.monotonic, 3), r.method, r.status, (r.params.get("text") or "")[:30])
                for r in emu.calls(chat_id=cid)
            ]
            if min(gaps) < 0.95:
                print("SENDS", cid, sends)
            assert min(gaps) >= 0.95, gaps  # paced at a message a second per chat
        assert emu.rate_limit_hits == 0  # Telegram never had to say "too fast"
        assert emu.peak_rate() <= 30
        assert emu.faults_served == 6
        emu.assert_healthy(allow_failed_requests=True)


async def test_killed_after_telegram_took_a_message_but_before_the_bot_recorded_it_one_duplicate_at_most(tmp_path):
    """The one window no bot can close: Telegram accepted a message and the answer never came
    back (here: the process is killed while the emulator holds the answer). The Bot API has no
    idempotency key, so after the restart that one message is sent again; nothing else is."""
    async with emulator() as emu:
        emu.user(STAFF_COUNSELLOR_ID, first_name="Carla", language_code="nl", started=True)
        config = write_config(
            tmp_path / "config.toml",
            emu,
            tmp_path,
            counsellors=[(STAFF_COUNSELLOR_ID, "Carla VP")],
            check_ins=["PT4S", "PT9S"],
        )
        bot = BotProcess(config, tmp_path / "bot.log")
        bot.start()
        try:
            await ready(emu, 0)
            melder = emu.user(5460, first_name="Melder", language_code="nl")
            await file_through_telegram(melder, text="Verhaal")
            # Telegram takes the first check-in, then holds its answer: the bot dies waiting for it.
            emu.inject_fault(method="sendMessage", chat_id=melder.id, kind="delay", seconds=60, after=True)
            await melder.wait_for_message(lambda m: "Hoe gaat het" in m.text, timeout=15)
            bot.kill()
            mark = len(emu.requests)
            bot.start()
            await ready(emu, mark)
            await melder.wait_for_message(lambda m: "Nog één keer" in m.text, timeout=20)
            await asyncio.sleep(2)  # time for any further duplicate to show up
            steps = check_in_steps(melder.chat)
            assert steps.count(0) == 2, melder.chat.dump()  # the one duplicate the window allows
            assert steps.count(1) == 1, melder.chat.dump()  # and nothing else twice, nothing lost
            log = (tmp_path / "bot.log").read_text()
            assert "were being sent when the bot last stopped" in log
            assert "Verhaal" not in log and "Melder" not in log and not re.search(rf"\b{melder.id}\b", log)
            assert " ERROR " not in log and "Traceback" not in log
        finally:
            bot.stop()
        emu.assert_healthy(allow_failed_requests=True)


@pytest.mark.parametrize("server", ["holds_requests", "fails"])
async def test_sigterm_stops_within_two_seconds_without_errors_whatever_the_server_does(tmp_path, server):
    """A Bot API server that holds the last confirming getUpdates (not honouring timeout=0), or
    fails it: the stop still takes under two seconds and logs no ERROR. Updates it did not
    confirm come again after the restart and are recognised as handled."""
    async with emulator() as emu:
        config = write_config(tmp_path / "config.toml", emu, tmp_path, counsellors=[], check_ins=["P30D"])
        config.write_text(config.read_text().replace("poll_timeout = 1", "poll_timeout = 30"))
        bot = BotProcess(config, tmp_path / "bot.log")
        bot.start()
        try:
            await emu.wait_for_request("deleteWebhook", timeout=30)  # polling begins right after
            anna = emu.user(5470, first_name="Anna", language_code="nl")
            await anna.command("/start")
            await anna.wait_for_message(lambda m: "112" in m.text)
            await asyncio.sleep(0.5)  # a long poll (30 s) is out; what comes next is the confirming one
            if server == "holds_requests":
                emu.inject_fault("getUpdates", kind="delay", seconds=30)
            else:
                emu.inject_fault("getUpdates", 502)
            stopping = time.monotonic()
            bot.process.send_signal(signal.SIGTERM)
            bot.process.wait(timeout=20)
            took = time.monotonic() - stopping
        finally:
            bot.stop()
        log = (tmp_path / "bot.log").read_text()
        assert took < 2.0, log
        assert bot.process.returncode == 0
        assert " ERROR " not in log and "CRITICAL" not in log and "Traceback" not in log, log
        emu.clear_faults()
        mark = len(emu.requests)
        bot.start()
        try:
            await emu.wait_for_request("deleteWebhook", since=mark, timeout=30)
            await anna.expect_silence(2)  # the /start was handled once, before the stop
            assert len([m for m in anna.chat.bot_messages if "112" in m.text]) == 1
        finally:
            bot.stop()
