"""The audit trail: every view and change is recorded without content, and tampering is found."""

from __future__ import annotations

import asyncio
import re
import shutil
import tracemalloc

import pytest

from bot.cli import main
from storage import Storage, StorageRefused
from tests.support import STAFF_COUNSELLOR, World, reporter, staff


async def filled(storage, clock) -> World:
    world = World(storage, clock)
    anna = reporter(5001, "Anna Auditmarker", "annaaudit")
    case = await world.report(anna, text="Geheime inhoud AUDITMARKER")
    await world.casework.open(staff(STAFF_COUNSELLOR), case.reference)
    await world.casework.acknowledge(staff(STAFF_COUNSELLOR), case.reference)
    await world.casework.status(staff(STAFF_COUNSELLOR), case.reference, "in_progress")
    await world.casework.start_note(staff(STAFF_COUNSELLOR), case.reference)
    await world.relay.text(staff(STAFF_COUNSELLOR), "notitie AUDITMARKER")
    await world.mycases.withdraw(anna, case.reference, confirm=True)
    return world


async def test_views_and_changes_are_recorded_without_content_or_identity(storage, clock):
    await filled(storage, clock)
    entries = await storage.audit.entries()
    assert [e.action for e in entries] == ["submitted", "viewed", "acknowledged", "status", "added_note", "withdrawn"]
    assert {e.actor for e in entries} == {"reporter", STAFF_COUNSELLOR.name}
    flat = " ".join(f"{e.actor} {e.action} {e.case_ref} {e.detail}" for e in entries)
    assert "AUDITMARKER" not in flat and "Anna" not in flat and "5001" not in flat
    result = await storage.audit.verify()
    assert result.intact and result.entries == 6


@pytest.mark.parametrize(
    "tamper, first_bad",
    [
        ("UPDATE audit SET action = 'viewed' WHERE seq = 3", 3),
        ("UPDATE audit SET actor = 'someone else' WHERE seq = 2", 2),
        ("UPDATE audit SET at = '2020-01-01T00:00:00.000000Z' WHERE seq = 5", 5),
        ("DELETE FROM audit WHERE seq = 4", 4),
        # Swapping the contents of two entries (a reordering) breaks the first of them.
        (
            "UPDATE audit SET action = CASE seq WHEN 2 THEN 'acknowledged' ELSE 'viewed' END,"
            " hash = (SELECT hash FROM audit a WHERE a.seq = 5 - audit.seq) WHERE seq IN (2, 3)",
            2,
        ),
    ],
)
async def test_an_edited_deleted_or_reordered_entry_is_found(storage, clock, tamper, first_bad):
    await filled(storage, clock)
    async with storage.db.transaction() as conn:
        await conn.execute(tamper)
    result = await storage.audit.verify()
    assert not result.intact and result.first_bad == first_bad


async def test_entries_cut_off_the_end_are_noticed(storage, clock):
    await filled(storage, clock)
    async with storage.db.transaction() as conn:
        await conn.execute("DELETE FROM audit WHERE seq >= 5")
    result = await storage.audit.verify()
    assert not result.intact and "removed" in result.problem


async def test_a_rebuilt_chain_without_the_key_does_not_verify(storage, clock):
    """Someone with the database but not the key cannot recompute the hashes after an edit."""
    import hashlib

    await filled(storage, clock)
    async with storage.db.transaction() as conn:
        await conn.execute("UPDATE audit SET action = 'nothing happened' WHERE seq = 3")
        await conn.execute("UPDATE audit SET hash = ? WHERE seq = 3", (hashlib.sha256(b"forged").digest(),))
    assert (await storage.audit.verify()).first_bad == 3


def test_meldbot_audit_verify_reports_the_first_bad_entry(tmp_path, clock, capsys):
    import asyncio

    async def prepare():
        storage = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
        await filled(storage, clock)
        await storage.close()

    async def tamper():
        storage = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
        async with storage.db.transaction() as conn:
            await conn.execute("UPDATE audit SET case_ref = 'MB-0000-0000' WHERE seq = 4")
        await storage.close()

    asyncio.run(prepare())
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "123456:TEST-TOKEN-abcdef"\n[storage]\ndatabase = "{tmp_path / "m.db"}"\n'
        f'key_file = "{tmp_path / "m.key"}"\n'
    )
    assert main(["audit", "verify", "--config", str(config)]) == 0
    assert "audit trail intact: 6 entries" in capsys.readouterr().out
    asyncio.run(tamper())
    assert main(["audit", "verify", "--config", str(config)]) == 1
    assert "first bad entry: 4" in capsys.readouterr().err


# -- wipe, cut and rollback: the genesis entry, the head, and a head seen earlier -------------


def config_for(tmp_path) -> str:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\ntoken = "123456:TEST-TOKEN-abcdef"\n[storage]\ndatabase = "{tmp_path / "m.db"}"\n'
        f'key_file = "{tmp_path / "m.key"}"\n'
    )
    return str(config)


async def test_a_new_database_starts_with_its_genesis_entry_and_a_head(storage):
    async with storage.db.transaction() as conn:
        async with conn.execute("SELECT seq, actor_role, action, detail FROM audit") as cursor:
            rows = [tuple(row) for row in await cursor.fetchall()]
    assert rows == [(0, "system", "genesis", "new")]
    result = await storage.audit.verify()
    assert result.intact and result.entries == 0
    assert result.head is not None and result.head.count == 0
    assert result.head == await storage.audit.head()
    assert await storage.audit.entries() == []  # the genesis entry is no event


@pytest.mark.parametrize(
    "wipe, named",
    [
        # Every row and the head: today's "intact: 0 entries".
        (["DELETE FROM audit", "DELETE FROM meta WHERE name = 'audit_head'"], "genesis entry (entry 0"),
        (["DELETE FROM audit"], "genesis entry (entry 0"),
        (["DELETE FROM audit WHERE seq = 0"], "genesis entry (entry 0"),
        # Everything but the genesis entry, and the head that would have told.
        (["DELETE FROM audit WHERE seq > 0", "DELETE FROM meta WHERE name = 'audit_head'"], "head record"),
        (["UPDATE audit SET detail = 'upgraded:6' WHERE seq = 0"], "genesis entry (entry 0) was changed"),
    ],
)
async def test_a_wiped_trail_is_detected_and_named(storage, clock, wipe, named):
    await filled(storage, clock)
    async with storage.db.transaction() as conn:
        for statement in wipe:
            await conn.execute(statement)
    result = await storage.audit.verify()
    assert not result.intact and named in result.problem


async def test_entries_cut_off_the_end_together_with_the_head_are_detected(storage, clock):
    await filled(storage, clock)
    async with storage.db.transaction() as conn:
        await conn.execute("DELETE FROM audit WHERE seq >= 4")
        await conn.execute("DELETE FROM meta WHERE name = 'audit_head'")
    result = await storage.audit.verify()
    assert not result.intact and "head record" in result.problem and "missing" in result.problem


def copy_database(source, target) -> None:
    target.mkdir()
    for name in ("m.db", "m.db-wal", "m.db-shm"):
        if (source / name).exists():
            shutil.copy2(source / name, target / name)


def test_a_database_rolled_back_to_an_older_copy_is_caught_by_a_head_seen_earlier(tmp_path, clock, capsys):
    live = tmp_path / "live"
    live.mkdir()
    config = config_for(live)

    async def first_half():
        storage = await Storage.open(live / "m.db", live / "m.key")
        await filled(storage, clock)
        await storage.close()

    async def second_half():
        storage = await Storage.open(live / "m.db", live / "m.key")
        for _ in range(3):
            await storage.audit.record(actor_role="operator", actor="operator", action="viewed", now=clock.now())
        await storage.close()

    asyncio.run(first_half())
    copy_database(live, tmp_path / "older")  # a copy as it was then (a backup, say)
    asyncio.run(second_half())

    assert main(["audit", "verify", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "audit trail intact: 9 entries" in out
    seen = re.search(r"head (9:[0-9a-f]{8})", out).group(1)
    assert main(["audit", "verify", "--config", config, "--expect", seen]) == 0
    assert f"head {seen} seen earlier is still part of it" in capsys.readouterr().out

    # Someone puts the older copy back: on its own it is a consistent trail...
    for name in ("m.db", "m.db-wal", "m.db-shm"):
        (live / name).unlink(missing_ok=True)
        if (tmp_path / "older" / name).exists():
            shutil.copy2(tmp_path / "older" / name, live / name)
    assert main(["audit", "verify", "--config", config]) == 0
    assert "audit trail intact: 6 entries" in capsys.readouterr().out
    # ...but not the one whose head was seen.
    assert main(["audit", "verify", "--config", config, "--expect", seen]) == 1
    err = capsys.readouterr().err
    assert "first bad entry: 7" in err and "fewer than the 9" in err and "rolled back" in err

    # And once the restored copy has grown past that point again, the entry there is another one.
    clock.advance(hours=1)
    asyncio.run(second_half())
    assert main(["audit", "verify", "--config", config, "--expect", seen]) == 1
    err = capsys.readouterr().err
    assert "first bad entry: 9" in err and "replaced by another copy" in err


def test_a_head_that_is_not_one_is_refused_with_an_example(tmp_path, capsys):
    assert main(["audit", "verify", "--config", config_for(tmp_path), "--expect", "yesterday"]) == 2
    assert "COUNT:HASH, e.g. 1523:9f2c41ab" in capsys.readouterr().err


async def test_a_trail_from_before_genesis_entries_is_adopted_unchanged_and_verifies(tmp_path, clock):
    # As a version before stored keys and genesis entries left it (schema 5): a trail chained from
    # zeros, and people found by the index key derived from the master key. Today's flows need a
    # newer schema, so the trail they write for the same story is written there entry by entry.
    today = await Storage.open(tmp_path / "today.db", tmp_path / "today.key")
    await filled(today, clock)
    story = await today.audit.entries()
    await today.close()
    old = await Storage.open(tmp_path / "m.db", tmp_path / "m.key", upgrade_to=5)
    await old.people.ensure(telegram_id=5001, display_name="Anna", username=None, language="nl", now=clock.now())
    for e in story:
        await old.audit.record(
            actor_role=e.actor_role,
            actor=e.actor,
            action=e.action,
            now=clock.now(),
            case_ref=e.case_ref,
            detail=e.detail,
        )
    async with old.db.transaction() as conn:
        async with conn.execute("SELECT seq, hash FROM audit ORDER BY seq") as cursor:
            before = [tuple(row) for row in await cursor.fetchall()]
    await old.close()

    upgraded = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    async with upgraded.db.transaction() as conn:
        async with conn.execute("SELECT seq, hash FROM audit WHERE seq > 0 ORDER BY seq") as cursor:
            assert [tuple(row) for row in await cursor.fetchall()] == before  # nothing rewritten
        async with conn.execute("SELECT detail FROM audit WHERE seq = 0") as cursor:
            assert (await cursor.fetchone())[0] == "upgraded:6"
    await upgraded.audit.record(actor_role="operator", actor="operator", action="viewed", now=clock.now())
    result = await upgraded.audit.verify()
    assert result.intact and result.entries == 7 and result.head.count == 7
    # People are still found with the blind-index key the old version derived.
    assert await upgraded.people.find(5001) is not None
    await upgraded.close()


async def test_a_database_that_lost_its_stored_keys_is_refused_rather_than_given_new_ones(tmp_path):
    storage = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    async with storage.db.transaction() as conn:
        await conn.execute("DELETE FROM meta WHERE name IN ('index_key', 'audit_key')")
    await storage.close()
    with pytest.raises(StorageRefused, match="key records .* are missing"):
        await Storage.open(tmp_path / "m.db", tmp_path / "m.key")


async def test_verify_reads_the_chain_in_constant_memory(storage, clock):
    async with storage.db.transaction() as conn:
        for _ in range(10_000):
            await storage.audit.append(
                conn, actor_role="counsellor", actor="Vertrouwenspersoon medewerkers", action="viewed", now=clock.now()
            )
    tracemalloc.start()
    try:
        result = await storage.audit.verify()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.intact and result.entries == 10_000
    assert peak < 2_000_000  # the whole chain in memory takes about 7 MB
