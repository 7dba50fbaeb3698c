"""The database: pragmas that protect deleted data, migrations that upgrade in place, a lease-based outbox."""

from __future__ import annotations

from datetime import timedelta

from storage import Storage
from storage.database import Database, migrations
from storage.outbox import Delivery


async def test_the_database_runs_in_wal_mode_with_secure_delete(storage):
    async with storage.db.transaction() as conn:
        async with conn.execute("PRAGMA journal_mode") as c:
            assert (await c.fetchone())[0] == "wal"
        async with conn.execute("PRAGMA secure_delete") as c:
            assert (await c.fetchone())[0] == 1
        async with conn.execute("PRAGMA foreign_keys") as c:
            assert (await c.fetchone())[0] == 1


async def test_a_database_from_the_first_version_is_upgraded_with_its_reports_intact(tmp_path, clock):
    old = await Storage.open(tmp_path / "m.db", tmp_path / "m.key", upgrade_to=1)
    assert await old.db.schema_version() == 1
    person = await old.people.ensure(telegram_id=42, display_name="Anna", username="a", language="nl", now=clock.now())
    draft = await old.cases.create_draft(person_id=person.id, step="summary", role="employee", now=clock.now())
    draft.description = "Wat er gebeurde"
    await old.cases.save(draft, clock.now())
    await old.close()

    new = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    assert await new.db.schema_version() == len(migrations())
    case = await new.cases.get(draft.id)
    assert case.description == "Wat er gebeurde"
    assert (await new.people.find(42)).display_name == "Anna"
    await new.outbox.enqueue(case.id, [Delivery(b"i" * 32, "counsellor", "case_report")], clock.now())
    assert await new.outbox.status_counts() == {"pending": 1}
    await new.close()


async def test_migrations_are_numbered_without_gaps():
    versions = [v for v, _, _ in migrations()]
    assert versions == list(range(1, len(versions) + 1))


async def test_a_database_newer_than_this_program_is_refused(tmp_path):
    db = await Database.open(tmp_path / "m.db")
    async with db.transaction() as conn:
        await conn.execute(f"PRAGMA user_version = {len(migrations()) + 1}")
    import pytest

    from storage.database import SchemaError

    with pytest.raises(SchemaError, match="newer than this meldbot"):
        await db.migrate()
    await db.close()


async def test_outbox_items_for_one_recipient_go_in_order_and_a_lease_expires(storage, clock):
    index = b"r" * 32
    await storage.outbox.enqueue(
        None, [Delivery(index, "reporter", "first"), Delivery(index, "reporter", "second")], clock.now()
    )
    first = await storage.outbox.claim_due(clock.now(), lease=timedelta(minutes=2), limit=10)
    assert [i.kind for i in first] == ["first"]
    # A crash before recording the result: nothing is claimable until the lease runs out.
    assert await storage.outbox.claim_due(clock.now(), lease=timedelta(minutes=2), limit=10) == []
    clock.advance(minutes=3)
    again = await storage.outbox.claim_due(clock.now(), lease=timedelta(minutes=2), limit=10)
    assert [(i.kind, i.attempts) for i in again] == [("first", 2)]
    await storage.outbox.delivered(again[0].id, 77, clock.now())
    second = await storage.outbox.claim_due(clock.now(), lease=timedelta(minutes=2), limit=10)
    assert [i.kind for i in second] == ["second"]


async def test_a_retry_waits_until_its_time(storage, clock):
    await storage.outbox.enqueue(None, [Delivery(b"r" * 32, "reporter", "x")], clock.now())
    (item,) = await storage.outbox.claim_due(clock.now(), lease=timedelta(minutes=2), limit=10)
    await storage.outbox.retry_later(item.id, clock.now() + timedelta(seconds=30), "429")
    assert await storage.outbox.claim_due(clock.now(), lease=timedelta(minutes=2), limit=10) == []
    assert await storage.outbox.next_due() == clock.now() + timedelta(seconds=30)
    clock.advance(seconds=31)
    assert len(await storage.outbox.claim_due(clock.now(), lease=timedelta(minutes=2), limit=10)) == 1
