"""The audit trail: every view and change is recorded without content, and tampering is found."""

from __future__ import annotations

import pytest

from bot.cli import main
from storage import Storage
from tests.conftest import STAFF_COUNSELLOR, reporter
from tests.test_casework import World, staff


async def filled(storage, clock) -> World:
    world = World(storage, clock)
    anna = reporter(5001, "Anna Auditmarker", "annaaudit")
    case = await world.report(anna, text="Geheime inhoud AUDITMARKER")
    await world.casework.open(staff(STAFF_COUNSELLOR), case.reference)
    await world.casework.acknowledge(staff(STAFF_COUNSELLOR), case.reference)
    await world.casework.status(staff(STAFF_COUNSELLOR), case.reference, "in_progress")
    await world.casework.start_note(staff(STAFF_COUNSELLOR), case.reference)
    await world.relay.text(staff(STAFF_COUNSELLOR), "notitie AUDITMARKER")
    await world.mycases.withdraw(anna, case.reference, "y")
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
