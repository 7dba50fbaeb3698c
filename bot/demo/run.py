"""Starting and stopping the demo: a temporary folder, the emulator, the cast, the real bot, the page.

:class:`DemoRun` owns all of it and removes the folder (database and key) when it stops.
:func:`run_demo` is what ``meldbot demo`` calls.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import signal
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot import logs
from bot.app import Meldbot
from bot.config import Settings
from bot.demo.cast import CAST, demo_configuration
from bot.demo.clock import DemoClock
from bot.emulator import DEFAULT_SPEC_PATH, BotApiEmulator

log = logging.getLogger(__name__)

# Only this emulator on this machine knows the token; Telegram never sees it.
DEMO_TOKEN = "424242:DEMO-meldbot-on-this-computer-only"
BOT_USERNAME = "meldpunt_demo_bot"
HOST = "127.0.0.1"  # never 0.0.0.0: the demo is for the person at this computer


@dataclass(frozen=True, slots=True)
class DueThing:
    """Something the bot will do later: its kind and when (never what it will say)."""

    kind: str
    due: datetime
    source: str  # "scheduled" or "outbox"


class DemoRun:
    def __init__(self, port: int = 8080) -> None:
        self.requested_port = port
        self.clock = DemoClock()
        self.folder: Path | None = None
        self.emulator: BotApiEmulator | None = None
        self.meldbot: Meldbot | None = None
        self.site: Any = None  # bot.demo.site.DemoSite, imported when started

    @property
    def url(self) -> str:
        assert self.site is not None and self.site.port is not None
        return f"http://{HOST}:{self.site.port}/"

    async def start(self) -> DemoRun:
        from bot.demo.site import DemoSite

        try:
            self.folder = Path(tempfile.mkdtemp(prefix="meldbot-demo-"))
            # The spec beside a checkout checks every request; an installed demo runs without it.
            spec = DEFAULT_SPEC_PATH if DEFAULT_SPEC_PATH.is_file() else None
            self.emulator = emulator = BotApiEmulator(
                DEMO_TOKEN,
                BOT_USERNAME,
                bot_first_name="Meldpunt Gemeente Voorbeeld",
                spec_path=spec,
                host=HOST,
                clock=self.clock.timestamp,
                default_timeout=10.0,
            )
            await emulator.start()
            for persona in CAST:
                emulator.user(
                    persona.telegram_id,
                    first_name=persona.first_name,
                    last_name=persona.last_name,
                    language_code=persona.language,
                    started=persona.staff,
                )
            self.meldbot = Meldbot(self.settings(), clock=self.clock)
            await self.meldbot.start()
            staff = [emulator.user(persona.telegram_id) for persona in CAST if persona.staff]
            for member in staff:  # they pressed Start once, as staff must: their menu and welcome
                await member.command("/start")
            for member in staff:
                await member.next_message()
            self.site = DemoSite(self, HOST, self.requested_port)
            await self.site.start()
        except BaseException:
            await self.stop()
            raise
        return self

    def settings(self) -> Settings:
        assert self.emulator is not None and self.folder is not None
        raw: dict[str, Any] = {
            "telegram": {
                "token": DEMO_TOKEN,
                "api_base_url": self.emulator.api_base_url,
                "file_base_url": self.emulator.file_base_url,
                "poll_timeout": 10,
            },
            "storage": {"database": str(self.folder / "meldbot.db"), "key_file": str(self.folder / "meldbot.key")},
            "timezone": "Europe/Amsterdam",
            # The demo runs at any hour; night-time silence would only puzzle a visitor.
            "quiet_hours": {"start": "00:00", "end": "00:00"},
            "delivery": {"sweep_interval": "PT2S", "max_backoff": "PT10S"},
            **demo_configuration(),
        }
        return Settings.model_validate(raw)

    async def stop(self) -> None:
        if self.site is not None:
            await self.site.stop()
            self.site = None
        if self.meldbot is not None:
            await self.meldbot.stop()
            self.meldbot = None
        if self.emulator is not None:
            await self.emulator.stop()
            self.emulator = None
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    async def __aenter__(self) -> DemoRun:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- time ---------------------------------------------------------------------------
    async def due_next(self, limit: int = 6) -> list[DueThing]:
        """What the bot will do next, earliest first: scheduled items and waiting messages."""
        assert self.meldbot is not None and self.meldbot.storage is not None
        storage = self.meldbot.storage
        things = [DueThing(kind, due, "scheduled") for kind, due in await storage.schedule.upcoming(limit)]
        things += [DueThing(kind, due, "outbox") for kind, due in await storage.outbox.upcoming(limit)]
        return sorted(things, key=lambda thing: thing.due)[:limit]

    async def advance(self, by: timedelta) -> None:
        """Move the demo's time forward and let the bot catch up at once."""
        assert self.meldbot is not None and self.emulator is not None
        self.clock.advance(by)
        if self.meldbot.timekeeper is not None:
            await self.meldbot.timekeeper.clock_moved()
        if self.meldbot.courier is not None:
            self.meldbot.courier.clock_moved()
        self.emulator.touch()

    async def advance_to_next(self) -> bool:
        """Move to just after the next thing due; False if nothing is due later than now."""
        now = self.clock.now()
        later = [thing.due for thing in await self.due_next(limit=50) if thing.due > now]
        if not later:
            return False
        await self.advance(min(later) - now + timedelta(seconds=1))
        return True


async def run_demo(port: int) -> None:
    """``meldbot demo``: run until Ctrl-C (or SIGTERM), then remove everything."""
    logs.configure("ERROR", [DEMO_TOKEN])  # a throwaway key and database: no banners about backing them up
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with DemoRun(port) as demo:
        print(f"meldbot demo is running. Open {demo.url} in your browser.", flush=True)
        print(
            f"Everything stays on this computer; the demo data in {demo.folder} is removed when you stop (Ctrl-C).",
            flush=True,
        )
        await stop.wait()
    print("meldbot demo stopped; its data is gone.", flush=True)
