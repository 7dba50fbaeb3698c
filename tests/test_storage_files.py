"""The files meldbot keeps: private to their owner, and used by one kind of process at a time."""

from __future__ import annotations

import stat

import pytest

from storage import Storage, StorageRefused


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_database_and_its_wal_and_shm_files_are_private(tmp_path):
    storage = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    await storage.people.ensure(telegram_id=5001, display_name="Anna", username=None, language="nl", now=_now())
    assert {p.name: mode(p) for p in tmp_path.iterdir()} == {
        "m.db": 0o600,
        "m.db-wal": 0o600,
        "m.db-shm": 0o600,
        "m.db.lock": 0o600,
        "m.key": 0o600,
    }
    await storage.close()


async def test_database_files_left_readable_by_an_older_version_are_made_private(tmp_path):
    storage = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    await storage.close()
    (tmp_path / "m.db").chmod(0o644)
    (tmp_path / "m.db-wal").write_bytes(b"")
    (tmp_path / "m.db-wal").chmod(0o644)
    storage = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    assert mode(tmp_path / "m.db") == 0o600 and mode(tmp_path / "m.db-wal") == 0o600
    await storage.close()


async def test_a_restore_or_key_rotation_cannot_take_a_database_a_bot_has_open(tmp_path):
    running = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    # Another command beside the running bot (audit verify, invite) is fine...
    beside = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    await beside.close()
    # ...one that needs the database to itself is not.
    with pytest.raises(StorageRefused, match="meldbot is running"):
        await Storage.open(tmp_path / "m.db", tmp_path / "m.key", lock="exclusive")
    await running.close()
    alone = await Storage.open(tmp_path / "m.db", tmp_path / "m.key", lock="exclusive")
    with pytest.raises(StorageRefused, match="being restored or its key rotated"):
        await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    await alone.close()


async def test_a_damaged_database_is_refused_with_its_name_and_what_to_do(tmp_path):
    storage = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    await storage.close()
    whole = (tmp_path / "m.db").read_bytes()
    (tmp_path / "m.db").write_bytes(whole[: len(whole) // 3])
    with pytest.raises(StorageRefused) as refused:
        await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    message = str(refused.value)
    assert str(tmp_path / "m.db") in message and "is damaged" in message and "restore the last backup" in message
    # The refusal let go of the database: a restore may take it.
    (tmp_path / "m.db").write_bytes(whole)
    again = await Storage.open(tmp_path / "m.db", tmp_path / "m.key", lock="exclusive")
    await again.close()


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)
