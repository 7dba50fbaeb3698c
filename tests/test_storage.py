"""The database: pragmas that protect deleted data, migrations that upgrade in place, a lease-based outbox."""

from __future__ import annotations

from datetime import timedelta

from flows.lifecycle import CaseStatus, Delivery, Notice, Party, RegisterState
from flows.model import Form, Step
from flows.queries import CaseQuery, CounsellorInbox, ReporterCases
from storage import Storage
from storage.database import Database, migrations, to_db


async def test_the_database_runs_in_wal_mode_with_secure_delete(storage):
    async with storage.db.transaction() as conn:
        async with conn.execute("PRAGMA journal_mode") as c:
            assert (await c.fetchone())[0] == "wal"
        async with conn.execute("PRAGMA secure_delete") as c:
            assert (await c.fetchone())[0] == 1
        async with conn.execute("PRAGMA foreign_keys") as c:
            assert (await c.fetchone())[0] == 1


async def _write_version_one_case(db, vault, *, now):
    """A reporter and a submitted case exactly as version 1 of the schema stored them."""
    person_id, case_id = "p" * 32, "c" * 32
    person_key, person_wrapped = vault.new_data_key(table="persons", row_id=person_id)
    case_key, case_wrapped = vault.new_data_key(table="cases", row_id=case_id)

    def seal(key, table, column, row, text):
        return key.seal_text(text, table=table, column=column, row_id=row)

    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO persons (id, tg_index, wrapped_key, telegram_id, display_name, username, language,"
            " language_chosen, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?, NULL, 'nl', 0, 'employee', ?, ?)",
            (
                person_id,
                vault.blind_index("tg-user", 42),
                person_wrapped,
                seal(person_key, "persons", "telegram_id", person_id, "42"),
                seal(person_key, "persons", "display_name", person_id, "Anna"),
                to_db(now),
                to_db(now),
            ),
        )
        await conn.execute(
            "INSERT INTO cases (id, reference, person_id, wrapped_key, status, category, incident_date, channel, role,"
            " audience, wish, share_name_counsellor, share_name_coordinator, description, created_at, updated_at,"
            " submitted_at, acknowledged_at, acknowledged_by)"
            " VALUES (?, 'MB-2345-6789', ?, ?, 'acknowledged', 'threat', '2026-11-17', 'phone', 'employee', 'staff',"
            " 'counsellor_and_register', 1, 1, ?, ?, ?, ?, ?, ?)",
            (
                case_id,
                person_id,
                case_wrapped,
                seal(case_key, "cases", "description", case_id, "Wat er gebeurde"),
                to_db(now),
                to_db(now),
                to_db(now),
                to_db(now),
                vault.blind_index("tg-user", 1001),
            ),
        )
    return case_id


async def test_a_database_from_the_first_version_is_upgraded_with_its_reports_intact(tmp_path, clock):
    old = await Storage.open(tmp_path / "m.db", tmp_path / "m.key", upgrade_to=1)
    assert await old.db.schema_version() == 1
    case_id = await _write_version_one_case(old.db, old.vault, now=clock.now())
    await old.close()

    new = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    assert await new.db.schema_version() == len(migrations())
    case = await new.cases.get(case_id)
    assert case.description == "Wat er gebeurde" and case.status is CaseStatus.ACKNOWLEDGED
    assert case.forms == {Form.THREAT}  # its one category, now the one form of its set
    assert case.register is RegisterState.NAMED  # registration with the name shared, as the reporter chose then
    anna = await new.people.find(42)
    assert anna.display_name == "Anna"
    mine = await new.cases.listing(CaseQuery(ReporterCases(anna.id), limit=8))
    assert [c.reference for c in mine.cases] == ["MB-2345-6789"]  # in /mycases, found by its index
    await new.outbox.enqueue(case.id, [Delivery(b"i" * 32, Party.COUNSELLOR, Notice.CASE_REPORT)], clock.now())
    assert await new.outbox.status_counts() == {"pending": 1}
    await new.close()


async def test_reports_delivered_before_case_handling_keep_their_counsellors(tmp_path, clock):
    old = await Storage.open(tmp_path / "m.db", tmp_path / "m.key", upgrade_to=2)
    case_id = await _write_version_one_case(old.db, old.vault, now=clock.now())
    first, second = old.vault.blind_index("tg-user", 1001), old.vault.blind_index("tg-user", 1003)
    async with old.db.transaction() as conn:
        for n, index in enumerate((first, second)):
            await conn.execute(
                "INSERT INTO outbox (id, case_id, recipient_index, recipient_role, kind, seq, status,"
                " next_attempt_at, created_at) VALUES (?, ?, ?, 'counsellor', 'case_report', 0, 'sent', ?, ?)",
                (f"o{n}", case_id, index, to_db(clock.now()), to_db(clock.now())),
            )
    await old.close()
    new = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    # The one who acknowledged handles it; the other counsellor who received it no longer has access.
    assert await new.cases.counsellors_of(case_id) == {first: "assigned", second: "former"}
    # And the case is in the inbox of the one who handles it, which is read in order of the cases'
    # submission, kept beside each counsellor (filled in on upgrade, so paging finds old cases too).
    inbox = await new.cases.listing(CaseQuery(CounsellorInbox(first), limit=8))
    assert [c.reference for c in inbox.cases] == ["MB-2345-6789"]
    async with new.db.transaction() as conn:
        async with conn.execute(
            "SELECT DISTINCT k.case_submitted_at = c.submitted_at"
            " FROM case_counsellors k JOIN cases c ON c.id = k.case_id"
        ) as cursor:
            assert [tuple(row) for row in await cursor.fetchall()] == [(1,)]
    assert (await new.cases.listing(CaseQuery(CounsellorInbox(second), limit=8))).cases == ()
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
        None,
        [Delivery(index, Party.REPORTER, Notice.CHECK_IN, "1"), Delivery(index, Party.REPORTER, Notice.TIPS)],
        clock.now(),
    )
    first = await storage.outbox.claim_due(clock.now(), lease=timedelta(minutes=2), limit=10)
    assert [i.kind for i in first] == [Notice.CHECK_IN]
    # A crash before recording the result: nothing is claimable until the lease runs out.
    assert await storage.outbox.claim_due(clock.now(), lease=timedelta(minutes=2), limit=10) == []
    clock.advance(minutes=3)
    again = await storage.outbox.claim_due(clock.now(), lease=timedelta(minutes=2), limit=10)
    assert [(i.kind, i.attempts) for i in again] == [(Notice.CHECK_IN, 2)]
    await storage.outbox.delivered(again[0].id, 77, clock.now())
    second = await storage.outbox.claim_due(clock.now(), lease=timedelta(minutes=2), limit=10)
    assert [i.kind for i in second] == [Notice.TIPS]


async def test_a_retry_waits_until_its_time(storage, clock):
    await storage.outbox.enqueue(None, [Delivery(b"r" * 32, Party.REPORTER, Notice.TIPS)], clock.now())
    (item,) = await storage.outbox.claim_due(clock.now(), lease=timedelta(minutes=2), limit=10)
    await storage.outbox.retry_later(item.id, clock.now() + timedelta(seconds=30), "429")
    assert await storage.outbox.claim_due(clock.now(), lease=timedelta(minutes=2), limit=10) == []
    assert await storage.outbox.next_due() == clock.now() + timedelta(seconds=30)
    clock.advance(seconds=31)
    assert len(await storage.outbox.claim_due(clock.now(), lease=timedelta(minutes=2), limit=10)) == 1


async def test_the_register_tracks_upgrade_keeps_actions_and_notifications_and_dates_the_first_reaction(
    tmp_path, clock
):
    """Migration 0011 rebuilds case_actions and the outbox: their rows stay, 0009's triggers stay,
    and a case in the register that already had a reaction counts as reacted, from that moment."""
    old = await Storage.open(tmp_path / "m.db", tmp_path / "m.key", upgrade_to=9)
    case_id = await _write_version_one_case(old.db, old.vault, now=clock.now())
    reacted_at = clock.now() + timedelta(hours=5)
    async with old.db.transaction() as conn:
        await conn.execute("UPDATE cases SET register = 'named' WHERE id = ?", (case_id,))
        await conn.execute(
            "INSERT INTO case_actions (id, case_id, kind, outcome, note, recorded_by, recorded_at, updated_at)"
            " VALUES ('a1', ?, 'warning_letter', 'completed', NULL, ?, ?, ?)",
            (case_id, b"k" * 32, to_db(reacted_at), to_db(reacted_at)),
        )
        await conn.execute(
            "INSERT INTO outbox (id, case_id, recipient_index, recipient_role, kind, seq, status,"
            " next_attempt_at, created_at) VALUES ('o1', ?, ?, 'coordinator', 'case_report', 0, 'sent', ?, ?)",
            (case_id, b"k" * 32, to_db(clock.now()), to_db(clock.now())),
        )
    await old.close()

    new = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    case = await new.cases.get(case_id)
    assert case.reaction.value == "done" and case.reaction_at == reacted_at
    assert [a.kind.value for a in await new.casefile.actions(case_id)] == ["warning_letter"]
    assert await new.outbox.status_counts() == {"sent": 1}
    async with new.db.transaction() as conn:
        async with conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'") as cursor:
            triggers = {row[0] for row in await cursor.fetchall()}
        async with conn.execute("SELECT unrouted FROM cases WHERE id = ?", (case_id,)) as cursor:
            assert (await cursor.fetchone())[0] == 0  # it did reach a coordinator
    assert {"outbox_routed", "cases_sent_unrouted", "cases_entered_register"} <= triggers
    # Management is a recipient the outbox now takes.
    await new.outbox.enqueue(case.id, [Delivery(b"m" * 32, Party.MANAGEMENT, Notice.REACTION_ESCALATED)], clock.now())
    assert await new.outbox.status_counts() == {"sent": 1, "pending": 1}
    await new.close()


async def test_a_draft_standing_at_the_old_category_question_continues_at_the_forms(tmp_path, clock):
    old = await Storage.open(tmp_path / "m.db", tmp_path / "m.key", upgrade_to=9)
    case_id = await _write_version_one_case(old.db, old.vault, now=clock.now())
    async with old.db.transaction() as conn:
        await conn.execute(
            "UPDATE cases SET status = 'draft', step = 'category', category = 'bribery' WHERE id = ?", (case_id,)
        )
    await old.close()
    new = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    anna = await new.people.find(42)
    draft = await new.cases.draft_of(anna.id)
    assert draft.step is Step.FORMS and draft.forms == {Form.BRIBERY}
    assert draft.perpetrator is None and not draft.link_consent
    await new.close()
