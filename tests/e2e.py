"""Running the real meldbot against the Bot API emulator, for end-to-end tests and benchmarks.

:class:`BotUnderTest` builds the same :class:`bot.app.Meldbot` that ``meldbot run``
starts, pointed at the emulator on 127.0.0.1, with a real database and key file in a
temporary folder; it can be stopped and started again on the same files to test
restarts.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

from bot import logs
from bot.app import Meldbot
from bot.config import Settings
from bot.emulator import DEFAULT_SPEC_PATH, BotApiEmulator

TOKEN = "123456:TEST-TOKEN-meldbot"

STAFF_COUNSELLOR_ID = 1001
HOLDERS_COUNSELLOR_ID = 1002
COORDINATOR_ID = 2001


def emulator(**options: Any) -> BotApiEmulator:
    return BotApiEmulator(token=TOKEN, bot_username="meldbot_test_bot", spec_path=DEFAULT_SPEC_PATH, **options)


def settings_for(emu: BotApiEmulator, folder: Path, **overrides: Any) -> Settings:
    raw: dict[str, Any] = {
        "telegram": {
            "token": TOKEN,
            "api_base_url": emu.api_base_url,
            "file_base_url": emu.file_base_url,
            "poll_timeout": 1,
        },
        "storage": {"database": str(folder / "meldbot.db"), "key_file": str(folder / "meldbot.key")},
        "counsellors": [
            {"telegram_id": STAFF_COUNSELLOR_ID, "name": "Vertrouwenspersoon medewerkers", "serves": ["staff"]},
            {
                "telegram_id": HOLDERS_COUNSELLOR_ID,
                "name": "Vertrouwenspersoon bestuurders",
                "serves": ["office_holders"],
                "language": "en",
            },
        ],
        "coordinators": [{"telegram_id": COORDINATOR_ID, "name": "Coördinator GIR"}],
        "organisation": {
            "name": "Gemeente Voorbeeld",
            "address": "Raadhuisplein 1, 1234 AB Voorbeeld",
            "privacy_contact": "privacy@gemeente.example",
        },
        "delivery": {"sweep_interval": "PT1S", "max_backoff": "PT2S"},
        # No quiet hours unless a test asks for them: tests run at any hour of the day.
        "quiet_hours": {"start": "00:00", "end": "00:00"},
    }
    for section, value in overrides.items():
        if isinstance(value, dict) and isinstance(raw.get(section), dict):
            raw[section] = {**raw[section], **value}
        else:
            raw[section] = value
    return Settings.model_validate(raw)


class BotUnderTest:
    def __init__(self, emu: BotApiEmulator, folder: Path, **overrides: Any) -> None:
        self.emu = emu
        self.folder = folder
        self.settings = settings_for(emu, folder, **overrides)
        self.meldbot: Meldbot | None = None

    async def start(self) -> Meldbot:
        self.meldbot = Meldbot(self.settings)
        await self.meldbot.start()
        return self.meldbot

    async def stop(self) -> None:
        if self.meldbot is not None:
            await self.meldbot.stop()
            self.meldbot = None

    async def restart(self) -> Meldbot:
        await self.stop()
        return await self.start()

    @property
    def storage(self):
        return self.meldbot.storage

    def database_files(self) -> list[Path]:
        db = Path(self.settings.storage.database)
        return [p for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")) if p.exists()]


class CapturedLogs:
    """All log output of a test, formatted by meldbot's own redacting formatter at DEBUG."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self._saved: tuple[list[logging.Handler], int] | None = None
        self._levels: dict[str, int] = {}

    def __enter__(self) -> CapturedLogs:
        root = logging.getLogger()
        self._saved = (root.handlers[:], root.level)
        self._levels = {
            name: logging.getLogger(name).level
            for name in ("httpx", "httpcore", "telegram", "apscheduler", "aiosqlite")
        }
        logs.configure("DEBUG", [TOKEN], stream=self.buffer)
        return self

    def __exit__(self, *exc: object) -> None:
        root = logging.getLogger()
        root.handlers[:] = self._saved[0]
        root.setLevel(self._saved[1])
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)

    @property
    def text(self) -> str:
        return self.buffer.getvalue()
