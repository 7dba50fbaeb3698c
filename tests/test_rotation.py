"""Key rotation: a new master key, everything still opens and is found, the old key is refused,
and a rotation cut off at any step is finished or undone by the next start."""

from __future__ import annotations

import asyncio
import logging
import stat

import pytest

import storage.rotation
from bot.cli import main
from storage import Storage, StorageRefused
from storage.audit import AuditTrail
from storage.crypto import Vault, pending_key_path
from storage.rotation import WRAPPED_KEYS, rotate_key
from tests.inventory import assert_all_there, fill


class Killed(BaseException):
    """Stands for the process dying at this point: nothing after it runs, no cleanup of our own."""


def configure(folder) -> str:
    config = folder / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "123456:TEST-TOKEN-abcdef"\n[storage]\ndatabase = "{folder / "m.db"}"\n'
        f'key_file = "{folder / "m.key"}"\n',
        encoding="utf-8",
    )
    return str(config)


async def wrapped_keys_and_indexes(folder):
    storage = await Storage.open(folder / "m.db", folder / "m.key")
    async with storage.db.transaction() as conn:
        async with conn.execute("SELECT wrapped_key FROM persons UNION ALL SELECT wrapped_key FROM cases") as cursor:
            wrapped = {bytes(row[0]) for row in await cursor.fetchall()}
        async with conn.execute("SELECT tg_index FROM persons") as cursor:
            indexes = {bytes(row[0]) for row in await cursor.fetchall()}
        async with conn.execute("SELECT blind_index FROM perpetrator_details WHERE blind_index IS NOT NULL") as cursor:
            identifiers = {bytes(row[0]) for row in await cursor.fetchall()}
    await storage.close()
    return wrapped, indexes, identifiers


def test_after_rotation_everything_opens_people_are_found_the_trail_verifies_and_the_old_key_is_refused(
    tmp_path, clock, capsys
):
    async def filled():
        storage = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
        inventory = await fill(storage, clock)
        await storage.close()
        return inventory

    inventory = asyncio.run(filled())
    old_key = (tmp_path / "m.key").read_bytes()
    wrapped_before, indexes_before, identifiers_before = asyncio.run(wrapped_keys_and_indexes(tmp_path))

    assert main(["rotate-key", "--config", configure(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "4 person and 3 case key(s) re-wrapped, 2 perpetrator identifier(s) indexed again" in out
    assert "Back up" in out
    assert (tmp_path / "m.key").read_bytes() != old_key
    assert stat.S_IMODE((tmp_path / "m.key").stat().st_mode) == 0o600
    assert not pending_key_path(tmp_path / "m.key").exists()

    wrapped_after, indexes_after, identifiers_after = asyncio.run(wrapped_keys_and_indexes(tmp_path))
    assert wrapped_after.isdisjoint(wrapped_before)  # every data key wrapped anew
    assert indexes_after == indexes_before  # the blind indexes stay as they were
    # The identifiers' key is derived from the master key: their indexes are all new (and
    # assert_all_there below checks each is the one the new key gives its canonical form).
    assert len(identifiers_after) == 2 and identifiers_after.isdisjoint(identifiers_before)

    async def check():
        storage = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
        await assert_all_there(storage, inventory)
        assert (await storage.audit.entries())[-1].action == "key_rotated"
        await storage.close()
        (tmp_path / "old.key").write_bytes(old_key)
        (tmp_path / "old.key").chmod(0o600)
        with pytest.raises(StorageRefused, match="does not belong to the database"):
            await Storage.open(tmp_path / "m.db", tmp_path / "old.key")

    asyncio.run(check())
    assert main(["audit", "verify", "--config", configure(tmp_path)]) == 0


async def test_rotation_rewraps_every_table_that_holds_a_data_key(storage):
    # Every sealed column (tests/inventory.py SEALED) is sealed under the data key of its row's
    # person or case; a table with data keys of its own that rotation left out would stop opening.
    async with storage.db.transaction() as conn:
        async with conn.execute(
            "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c"
            " WHERE m.type = 'table' AND c.name = 'wrapped_key'"
        ) as cursor:
            holding_keys = {row[0] for row in await cursor.fetchall()}
    assert holding_keys == set(WRAPPED_KEYS)


async def test_rotation_is_refused_while_the_bot_has_the_database_open(tmp_path):
    running = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    before = (tmp_path / "m.key").read_bytes()
    with pytest.raises(StorageRefused, match="meldbot is running"):
        await rotate_key(tmp_path / "m.db", tmp_path / "m.key")
    await running.close()
    assert (tmp_path / "m.key").read_bytes() == before
    assert not pending_key_path(tmp_path / "m.key").exists()


def cut_off_while_writing(path, master):
    path.write_text("meldbot-master-key v1\nq2Fv")  # half a key line
    path.chmod(0o600)
    raise Killed


def fails_after(calls: int, original):
    count = 0

    def rewrap(self, *args, **kwargs):
        nonlocal count
        count += 1
        if count > calls:
            raise Killed
        return original(self, *args, **kwargs)

    return rewrap


def dies(*_args, **_kwargs):
    raise Killed


STEPS = {
    # (what to break, whether the database had switched to the new key when it died)
    "while writing the new key file": (
        lambda mp: mp.setattr(storage.rotation, "write_key_file", cut_off_while_writing),
        False,
    ),
    "half way through re-wrapping": (lambda mp: mp.setattr(Vault, "rewrap", fails_after(4, Vault.rewrap)), False),
    "just before the transaction commits": (lambda mp: mp.setattr(AuditTrail, "append", dies), False),
    "after the commit, before the rename": (lambda mp: mp.setattr(storage.rotation.os, "replace", dies), True),
    "after the rename": (lambda mp: mp.setattr(storage.rotation, "sync_folder", dies), True),
}


@pytest.mark.parametrize("step", list(STEPS))
async def test_a_rotation_cut_off_at_any_step_is_finished_or_undone_at_the_next_start(
    tmp_path, clock, monkeypatch, caplog, step
):
    storage_ = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    inventory = await fill(storage_, clock)
    await storage_.close()
    old_key = (tmp_path / "m.key").read_bytes()
    pending = pending_key_path(tmp_path / "m.key")
    new_keys: list[bytes] = []
    original_write = storage.rotation.write_key_file

    def remember(path, master):
        new_keys.append(master)
        original_write(path, master)

    monkeypatch.setattr(storage.rotation, "write_key_file", remember)
    breaks, switched = STEPS[step]
    with monkeypatch.context() as broken:
        breaks(broken)
        with pytest.raises(Killed):
            await rotate_key(tmp_path / "m.db", tmp_path / "m.key")

    caplog.set_level(logging.WARNING, logger="storage")
    reopened = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")  # as the bot's next start does
    try:
        await assert_all_there(reopened, inventory)
    finally:
        await reopened.close()
    assert not pending.exists()
    if switched:
        assert (tmp_path / "m.key").read_bytes() != old_key
        assert Vault(new_keys[0]).key_check() == Vault(_master(tmp_path / "m.key")).key_check()
    else:
        assert (tmp_path / "m.key").read_bytes() == old_key
    if step != "after the rename":
        expected = "finished an interrupted key rotation" if switched else "undid an interrupted key rotation"
        assert expected in caplog.text

    # And a rotation afterwards goes through as usual.
    await rotate_key(tmp_path / "m.db", tmp_path / "m.key")
    again = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    await assert_all_there(again, inventory)
    await again.close()


def _master(path) -> bytes:
    from storage.crypto import read_key_file

    return read_key_file(path)
