"""Backups made while the bot runs, restored into a fresh folder, and everything still opens."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import sqlite3
import stat
import sys
from pathlib import Path

from storage import Storage
from tests.inventory import NOT_SEALED, PLAINTEXTS, SEALED, assert_all_there, fill, sealed_columns

ROOT = Path(__file__).resolve().parent.parent


def configure(folder: Path) -> Path:
    config = folder / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "123456:TEST-TOKEN-abcdef"\n[storage]\ndatabase = "{folder / "meldbot.db"}"\n'
        f'key_file = "{folder / "meldbot.key"}"\n',
        encoding="utf-8",
    )
    return config


async def meldbot(*args: str | Path) -> tuple[int, str, str]:
    """A meldbot command in its own process (as cron or an operator runs it): status, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *map(str, args),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode, out.decode(), err.decode()


def cases_in(path: Path) -> int | None:
    """How many cases a plain SQLite reader finds in a file on its own (None: not even the table)."""
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as copy:
        try:
            return copy.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
        except sqlite3.Error:
            return None


async def test_a_backup_taken_while_the_bot_runs_restores_into_a_fresh_folder_and_everything_opens(tmp_path, clock):
    live, fresh = tmp_path / "live", tmp_path / "fresh"
    live.mkdir()
    fresh.mkdir()
    running = await Storage.open(live / "meldbot.db", live / "meldbot.key")  # as the running bot holds it
    try:
        inventory = await fill(running, clock)
        # What the README warns about: the file alone, copied now, lacks what is still in the WAL.
        shutil.copy(live / "meldbot.db", tmp_path / "plain-copy.db")
        assert cases_in(tmp_path / "plain-copy.db") != 3

        status, out, err = await meldbot("backup", "--config", configure(live), "--output", tmp_path / "b" / "x.db")
        assert status == 0, err
        assert "3 case(s), 4 person(s); integrity check passed; audit trail intact, head" in out
        assert stat.S_IMODE((tmp_path / "b" / "x.db").stat().st_mode) == 0o600
        assert cases_in(tmp_path / "b" / "x.db") == 3  # one self-contained file
        assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["x.db"]  # no key, no left-overs
        backup = (tmp_path / "b" / "x.db").read_bytes()
        assert [p for p in PLAINTEXTS if p in backup] == []

        # Restoring onto the database the bot has open is refused.
        status, _, err = await meldbot("restore", "--config", configure(live), "--input", tmp_path / "b" / "x.db")
        assert status == 1 and "is in use: meldbot is running" in err
    finally:
        await running.close()

    shutil.copy2(live / "meldbot.key", fresh / "meldbot.key")  # the key, from where it is kept apart
    status, out, err = await meldbot("restore", "--config", configure(fresh), "--input", tmp_path / "b" / "x.db")
    assert status == 0, err
    assert "3 case(s) with 3 file(s) and 4 person(s), each opened with the key file; audit trail intact" in out
    assert stat.S_IMODE((fresh / "meldbot.db").stat().st_mode) == 0o600

    status, out, _ = await meldbot("audit", "verify", "--config", configure(fresh))
    assert status == 0 and "audit trail intact" in out
    restored = await Storage.open(fresh / "meldbot.db", fresh / "meldbot.key")
    try:
        await assert_all_there(restored, inventory)
        assert (await restored.audit.entries())[-1].action == "restored"
    finally:
        await restored.close()


async def test_the_inventory_puts_something_in_every_sealed_column_so_each_is_opened_after_a_restore(
    storage, clock, tmp_path
):
    await fill(storage, clock)
    # What people wrote and sent is in none of the files, the write-ahead log included.
    files = {p.name: p.read_bytes() for p in tmp_path.glob("meldbot.db*")}
    assert {"meldbot.db", "meldbot.db-wal"} <= set(files)
    leaked = [(name, p) for name, raw in files.items() for p in PLAINTEXTS if p in raw]
    assert leaked == []
    binary, holding_a_value = await sealed_columns(storage)
    # Every binary column of the schema is known to be sealed or known not to be (a key, an index, a hash)...
    assert binary == SEALED | NOT_SEALED, (binary - SEALED - NOT_SEALED, SEALED | NOT_SEALED - binary)
    # ...and the inventory fills each sealed one, so assert_all_there reads each back.
    assert SEALED - holding_a_value == frozenset()


async def test_the_key_stays_out_of_a_backup_unless_asked_for_with_a_warning(tmp_path, clock):
    storage = await Storage.open(tmp_path / "meldbot.db", tmp_path / "meldbot.key")
    await fill(storage, clock)
    await storage.close()
    key_line = (tmp_path / "meldbot.key").read_text().splitlines()[1]
    status, out, _ = await meldbot("backup", "--config", configure(tmp_path), "--output", tmp_path / "b.db")
    assert status == 0 and "the key is not in it" in out
    backup = (tmp_path / "b.db").read_bytes()
    assert key_line.encode() not in backup and base64.b64decode(key_line) not in backup
    assert not (tmp_path / "b.db.key").exists()

    status, _, err = await meldbot(
        "backup", "--config", configure(tmp_path), "--output", tmp_path / "with-key.db", "--include-key"
    )
    assert status == 0 and "WARNING" in err and "holds the master key" in err
    assert (tmp_path / "with-key.db.key").read_text().splitlines()[1] == key_line
    assert stat.S_IMODE((tmp_path / "with-key.db.key").stat().st_mode) == 0o600


async def test_a_backup_is_refused_by_another_key_and_nothing_is_restored(tmp_path, clock):
    storage = await Storage.open(tmp_path / "meldbot.db", tmp_path / "meldbot.key")
    await fill(storage, clock)
    await storage.close()
    assert (await meldbot("backup", "--config", configure(tmp_path), "--output", tmp_path / "b.db"))[0] == 0
    other = tmp_path / "other"
    other.mkdir()
    await (await Storage.open(other / "meldbot.db", other / "meldbot.key")).close()  # its own key and database
    before = (other / "meldbot.db").read_bytes()
    status, _, err = await meldbot("restore", "--config", configure(other), "--input", tmp_path / "b.db")
    assert status == 1 and "was made with another key than the key file" in err
    assert (other / "meldbot.db").read_bytes() == before
    assert sorted(p.name for p in other.iterdir()) == ["config.toml", "meldbot.db", "meldbot.db.lock", "meldbot.key"]


async def test_restoring_over_a_database_keeps_the_old_one_aside(tmp_path, clock):
    storage = await Storage.open(tmp_path / "meldbot.db", tmp_path / "meldbot.key")
    inventory = await fill(storage, clock)
    await storage.close()
    assert (await meldbot("backup", "--config", configure(tmp_path), "--output", tmp_path / "b.db"))[0] == 0
    before = (tmp_path / "meldbot.db").read_bytes()
    status, out, _ = await meldbot("restore", "--config", configure(tmp_path), "--input", tmp_path / "b.db")
    assert status == 0
    (aside,) = tmp_path.glob("meldbot.db.replaced-*")
    assert f"kept as {aside}" in out and aside.read_bytes() == before
    restored = await Storage.open(tmp_path / "meldbot.db", tmp_path / "meldbot.key")
    await assert_all_there(restored, inventory)
    await restored.close()


async def test_a_damaged_database_gives_no_backup(tmp_path, clock):
    storage = await Storage.open(tmp_path / "meldbot.db", tmp_path / "meldbot.key")
    await fill(storage, clock)
    await storage.close()
    database = bytearray((tmp_path / "meldbot.db").read_bytes())
    page = 4096
    database[3 * page : 5 * page] = os.urandom(2 * page)  # pages in the middle overwritten, the header intact
    (tmp_path / "meldbot.db").write_bytes(bytes(database))
    status, _, err = await meldbot("backup", "--config", configure(tmp_path), "--output", tmp_path / "b.db")
    assert status == 1 and "no backup made" in err and "Traceback" not in err
    assert not (tmp_path / "b.db").exists()
