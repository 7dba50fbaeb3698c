"""``meldbot run`` as an operator runs it: its own process, JSON logs, private files, clear refusals.

The bot runs as a separate process against the Bot API emulator, as systemd would start
it; the test reads what an operator would read: the exit status, stderr, the log lines,
and the files in the data folder.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import stat
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.e2e import STAFF_COUNSELLOR_ID, TOKEN, emulator
from tests.test_e2e_report import file_report

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent


def write_config(folder: Path, emu, *, log_format: str = "text") -> Path:
    config = folder / "config.toml"
    config.write_text(
        f"""
[telegram]
api_base_url = "{emu.api_base_url}"
file_base_url = "{emu.file_base_url}"
poll_timeout = 1
[storage]
database = "{folder / "data" / "meldbot.db"}"
key_file = "{folder / "data" / "meldbot.key"}"
[[counsellors]]
telegram_id = {STAFF_COUNSELLOR_ID}
name = "Vertrouwenspersoon medewerkers"
serves = ["staff", "office_holders"]
[quiet_hours]
start = "00:00"
end = "00:00"
[logging]
level = "INFO"
format = "{log_format}"
""",
        encoding="utf-8",
    )
    return config


def environment() -> dict[str, str]:
    # The token from the environment, as the systemd unit's EnvironmentFile gives it.
    return {**os.environ, "MELDBOT_TELEGRAM_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}


async def meldbot(*args: str | Path) -> tuple[int, str]:
    """Run a meldbot command to its end; its exit status and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *map(str, args),
        cwd=ROOT,
        env=environment(),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, err.decode()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_first_start_with_json_logs_private_files_and_a_clean_stop(tmp_path):
    async with emulator() as emu:
        emu.user(STAFF_COUNSELLOR_ID, first_name="Carla", language_code="nl", started=True)
        config = write_config(tmp_path, emu, log_format="json")
        log = tmp_path / "stderr.log"
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            "--config",
            str(config),
            cwd=ROOT,
            env=environment(),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log.open("wb"),
        )
        try:
            await emu.wait_for_request("getUpdates", timeout=30)
            anna = emu.user(5001, first_name="Anna", language_code="nl")
            await file_report(anna)
            data = tmp_path / "data"
            files = {name: mode(data / name) for name in ("meldbot.db", "meldbot.db-wal", "meldbot.db-shm")}
            files["meldbot.db.lock"] = mode(data / "meldbot.db.lock")
            files["meldbot.key"] = mode(data / "meldbot.key")
        finally:
            process.send_signal(signal.SIGTERM)
            status = await asyncio.wait_for(process.wait(), timeout=30)
    assert status == 0
    assert files == dict.fromkeys(files, 0o600)

    entries = [json.loads(line) for line in log.read_text().splitlines()]  # every line is one JSON object
    assert entries and all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    assert all("\n" not in e["message"] for e in entries)
    messages = [e["message"] for e in entries if e["logger"] == "bot.app"]
    banner = [m for m in messages if "KEY FILE" in m or "Back it up" in m or "every report is lost" in m]
    assert banner == [
        f"A NEW KEY FILE WAS CREATED: {tmp_path / 'data' / 'meldbot.key'}",
        "Back it up NOW, somewhere other than the database backup.",
        "Every report is encrypted with it: if this file is lost, every report is lost with it.",
    ]
    assert any(re.fullmatch(r"audit head \d+:[0-9a-f]{8}", m) for m in messages), entries
    assert not [e for e in entries if e["level"] in ("ERROR", "CRITICAL")]


async def test_a_key_file_others_can_read_stops_the_start_with_the_command_that_fixes_it(tmp_path):
    async with emulator() as emu:
        config = write_config(tmp_path, emu)
        key = tmp_path / "data" / "meldbot.key"
        status, _ = await meldbot("audit", "verify", "--config", config)  # creates the database and key
        assert status == 0
        key.chmod(0o644)
        status, err = await meldbot("run", "--config", config)
        assert status == 2
        assert f"chmod 600 {key}" in err and "can be read by other users" in err and "Traceback" not in err
        key.chmod(0o600)
        status, _ = await meldbot("audit", "verify", "--config", config)
        assert status == 0


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
async def test_a_damaged_database_stops_the_start_with_what_to_do(tmp_path, damage):
    async with emulator() as emu:
        config = write_config(tmp_path, emu)
        database = tmp_path / "data" / "meldbot.db"
        status, _ = await meldbot("audit", "verify", "--config", config)
        assert status == 0
        whole = database.read_bytes()
        if damage == "truncated":
            database.write_bytes(whole[: len(whole) // 2])
        else:
            database.write_bytes(os.urandom(len(whole)))
        status, err = await meldbot("run", "--config", config)
    assert status == 2
    assert "Traceback" not in err
    assert str(database) in err
    assert ("is damaged" if damage == "truncated" else "is not an SQLite database") in err
    assert "restore the last backup" in err and "meldbot restore" in err


async def test_the_audit_head_is_logged_at_start_and_by_a_daily_job(emu, meldbot, captured_logs):
    assert re.search(r"INFO bot\.app: audit head \d+:[0-9a-f]{8}\n", captured_logs.text)
    (job,) = meldbot.meldbot.application.job_queue.get_jobs_by_name("audit head")
    assert job.job.trigger.interval == timedelta(days=1)
    await job.run(meldbot.meldbot.application)
    head = await meldbot.storage.audit.head()
    assert captured_logs.text.rstrip().endswith(f"audit head {head}")
