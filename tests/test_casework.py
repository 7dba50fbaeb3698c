"""Case handling as plain Python: counsellors, coordinators and reporters on a real encrypted database."""

from __future__ import annotations

from datetime import datetime, timedelta

import messages
from bot import render
from flows.access import Permission
from flows.lifecycle import ActionKind, ActionOutcome, CaseStatus, CounsellorState, Notice, Party, Thread
from flows.model import AttachmentKind, IncomingAttachment
from flows.outcome import Forget, RegisterView
from storage import Storage
from tests.support import (
    COORDINATOR,
    HOLDERS_COUNSELLOR,
    SECOND_STAFF,
    STAFF_COUNSELLOR,
    World,
    keys,
    labels,
    outbox,
    reporter,
    staff,
    to,
)


async def deliver_everything(storage: Storage, now: datetime) -> None:
    """Record every queued notification as delivered (as the courier would once Telegram took it)."""
    while items := await storage.outbox.claim_due(now, lease=timedelta(minutes=1), limit=100):
        for item in items:
            await storage.outbox.delivered(item.id, None, now)


async def test_a_new_case_goes_to_the_least_loaded_counsellor_of_the_group(world, storage):
    first = await world.report(reporter(5001))
    second = await world.report(reporter(5002))
    assert await storage.cases.counsellors_of(first.id) == {
        storage.people.index_of(STAFF_COUNSELLOR.telegram_id): CounsellorState.ASSIGNED
    }
    assert await storage.cases.counsellors_of(second.id) == {
        storage.people.index_of(SECOND_STAFF.telegram_id): CounsellorState.ASSIGNED
    }
    rows = await outbox(storage, Notice.CASE_REPORT)
    assert to(storage, STAFF_COUNSELLOR, rows) == [Notice.CASE_REPORT]
    assert to(storage, SECOND_STAFF, rows) == [Notice.CASE_REPORT]


async def test_unacknowledged_cases_go_to_the_other_counsellors_then_the_coordinators_without_content(
    world, storage, clock
):
    anna = reporter(5001)
    case = await world.report(anna)
    clock.advance(hours=23)
    assert await world.run_due() == 0
    clock.advance(hours=2)
    assert await world.run_due() == 1
    rows = await outbox(storage)
    assert to(storage, SECOND_STAFF, rows) == [Notice.CASE_REPORT_ESCALATED]
    assert to(storage, anna.telegram_id, rows) == [Notice.REPORTER_ESCALATED]
    assert to(storage, HOLDERS_COUNSELLOR, rows) == []  # another group's counsellor is not asked
    # The alerted counsellor may look and take the case; not yet write notes.
    assert await world.access.check(staff(SECOND_STAFF), Permission.VIEW, case.reference)
    assert await world.access.check(staff(SECOND_STAFF), Permission.NOTES, case.reference) is None
    clock.advance(hours=24)
    assert await world.run_due() == 1
    alerts = to(storage, COORDINATOR, await outbox(storage))
    assert alerts == [Notice.COORDINATOR_ALERT]  # the alert only, never the report
    assert await world.access.check(staff(COORDINATOR), Permission.VIEW, case.reference) is None
    # Running the same item twice (a crash before it was marked done) adds nothing.
    assert await world.run_due() == 0
    assert len(await outbox(storage)) == len(rows) + 1


async def test_an_alerted_counsellor_takes_over_and_the_first_ones_old_button_does_nothing(world, storage, clock):
    anna = reporter(5001)
    case = await world.report(anna)
    clock.advance(hours=25)
    await world.run_due()
    taken = await world.casework.acknowledge(staff(SECOND_STAFF), case.reference)
    assert keys(taken) == ["staff.acknowledged"]
    states = await storage.cases.counsellors_of(case.id)
    assert states == {
        storage.people.index_of(STAFF_COUNSELLOR.telegram_id): CounsellorState.FORMER,
        storage.people.index_of(SECOND_STAFF.telegram_id): CounsellorState.ASSIGNED,
    }
    late = await world.casework.acknowledge(staff(STAFF_COUNSELLOR), case.reference)
    assert late.toast.key == "toast.acknowledged_by_colleague"
    assert await world.access.check(staff(STAFF_COUNSELLOR), Permission.VIEW, case.reference) is None
    # Acknowledgement cancels the remaining timer: the coordinators are not alerted.
    clock.advance(hours=48)
    await world.run_due()
    assert to(storage, COORDINATOR, await outbox(storage)) == []
    assert to(storage, anna.telegram_id, await outbox(storage)).count(Notice.REPORTER_ACKNOWLEDGED) == 1


async def test_the_inbox_shows_a_counsellors_cases_and_marks_what_is_new(world, storage, clock):
    anna = reporter(5001)
    case = await world.report(anna)
    inbox = await world.casework.inbox(staff(STAFF_COUNSELLOR))
    lines = inbox.replies[0].params["lines"]
    assert len(lines) == 1 and lines[0].params["reference"] == case.reference and lines[0].params["unread"] == "● "
    await world.casework.open(staff(STAFF_COUNSELLOR), case.reference)
    clock.advance(minutes=1)
    inbox = await world.casework.inbox(staff(STAFF_COUNSELLOR))
    assert inbox.replies[0].params["lines"][0].params["unread"] == ""
    # The reporter adds something: it is new again.
    await world.mycases.start(anna, case.reference, "addition", "")
    clock.advance(minutes=1)
    await world.relay.text(anna, "Hij stond vanochtend weer bij de ingang.")
    inbox = await world.casework.inbox(staff(STAFF_COUNSELLOR))
    assert inbox.replies[0].params["lines"][0].params["unread"] == "● "
    other = await world.casework.inbox(staff(SECOND_STAFF))
    assert other.replies[0].params["lines"][0].key == "inbox.empty"


async def test_inbox_pages_through_many_cases(storage, clock):
    world = World(storage, clock, counsellors=(STAFF_COUNSELLOR,))
    carla = staff(STAFF_COUNSELLOR)
    filed = []
    for n in range(8):
        filed.append((await world.report(reporter(5100 + n))).reference)
        clock.advance(minutes=1)
    first = await world.casework.inbox(carla)
    assert first.replies[0].params["page"] == 1 and "list.previous" not in labels(first)
    # The next page is in the same message, reached by the button (it carries where the page ends).
    second = await world.press(carla, first, "list.next")
    assert second.replies == [] and second.edit_pressed.params["page"] == 2
    shown = [
        [line.params["reference"] for line in out.params["lines"]] for out in (first.replies[0], second.edit_pressed)
    ]
    assert [len(lines) for lines in shown] == [6, 2]
    assert shown[0] + shown[1] == filed[::-1]  # newest first, each case once
    assert "list.next" not in labels(second)  # two pages in all
    for language in messages.LANGUAGES:  # and each page reads as a list, whatever the language
        for page, reply in enumerate((first.replies[0], second.edit_pressed), start=1):
            text = render.text(language, reply)
            assert str(page) in text and all(ref in text for ref in shown[page - 1])
    back = await world.press(carla, second, "list.previous")
    assert [line.params["reference"] for line in back.edit_pressed.params["lines"]] == shown[0]


async def test_notes_are_for_the_counsellor_on_the_case_only(world, storage):
    case = await world.report(reporter(5001), wish="counsellor_and_register")
    carla = staff(STAFF_COUNSELLOR)
    prompt = await world.casework.start_note(carla, case.reference)
    assert prompt.replies[0].key == "compose.note"
    saved = await world.relay.text(carla, "Melder klonk erg geschrokken; morgen bellen.")
    assert saved.replies[0].key == "note.saved"
    notes = await world.casework.notes(carla, case.reference)
    assert "morgen bellen" in notes.replies[0].params["lines"][0].params["text"]
    for outsider in (staff(COORDINATOR), staff(SECOND_STAFF), reporter(5001)):
        assert (await world.casework.notes(outsider, case.reference)).toast.key == "toast.not_yours"
        assert (await world.casework.start_note(outsider, case.reference)).toast.key == "toast.not_yours"


async def test_status_changes_reach_the_reporter(world, storage):
    anna = reporter(5001)
    case = await world.report(anna)
    carla = staff(STAFF_COUNSELLOR)
    menu = await world.casework.status(carla, case.reference)
    assert {c.action.status for row in menu.replies[0].keyboard for c in row} == {
        CaseStatus.ACKNOWLEDGED,
        CaseStatus.IN_PROGRESS,
        CaseStatus.CLOSED,
    }
    await world.casework.status(carla, case.reference, "in_progress")
    assert (await storage.cases.get(case.id)).status is CaseStatus.IN_PROGRESS
    assert to(storage, anna.telegram_id, await outbox(storage, Notice.REPORTER_STATUS)) == [Notice.REPORTER_STATUS]
    assert (await world.casework.status(carla, case.reference, "deleted")).toast.key == "toast.not_yours"


async def test_a_case_handed_over_reaches_the_new_counsellor_and_leaves_the_old_one(world, storage):
    anna = reporter(5001)
    case = await world.report(anna)
    carla = staff(STAFF_COUNSELLOR)
    await world.casework.acknowledge(carla, case.reference)
    menu = await world.casework.hand_over(carla, case.reference)
    targets = [c.action.to for row in menu.replies[0].keyboard for c in row]
    assert targets == [SECOND_STAFF.position]  # not themselves, not the other group's counsellor
    done = await world.casework.hand_over(carla, case.reference, SECOND_STAFF.position)
    assert done.edit_pressed.key == "handover.done"
    rows = await outbox(storage)
    assert to(storage, SECOND_STAFF, rows) == [Notice.CASE_REPORT_HANDED_OVER]
    assert Notice.REPORTER_NEW_COUNSELLOR in to(storage, anna.telegram_id, rows)
    assert await world.access.check(carla, Permission.VIEW, case.reference) is None
    assert await world.access.check(staff(SECOND_STAFF), Permission.NOTES, case.reference)
    # A hand-over to someone outside the group, forged into the button, is refused.
    forged = await world.casework.hand_over(staff(SECOND_STAFF), case.reference, HOLDERS_COUNSELLOR.position)
    assert forged.toast.key == "toast.not_yours"


async def test_a_counsellor_who_recuses_is_replaced_or_the_coordinators_hear_the_case_waits(world, storage):
    case = await world.report(reporter(5001))
    carla = staff(STAFF_COUNSELLOR)
    ask = await world.casework.recuse(carla, case.reference)
    assert ask.replies[0].key == "recuse.ask"
    done = await world.casework.recuse(carla, case.reference, True)
    assert done.edit_pressed.key == "recuse.done"
    assert (await storage.cases.counsellors_of(case.id))[
        storage.people.index_of(SECOND_STAFF.telegram_id)
    ] is CounsellorState.ASSIGNED
    again = await world.casework.recuse(staff(SECOND_STAFF), case.reference, True)
    assert again.edit_pressed.key == "recuse.nobody"
    assert to(storage, COORDINATOR, await outbox(storage)) == [Notice.CASE_WAITING]
    # Someone who recused is never offered the case again.
    assert await storage.cases.without_counsellor() == []


async def test_counsellor_and_reporter_write_to_each_other_under_a_pseudonym(world, storage, announced):
    anna = reporter(5001)
    case = await world.report(anna)
    hidden = await world.mycases.toggle_name(anna, case.reference)  # the reporter stops sharing their name
    assert hidden.edit_pressed.key == "mine.view" and not (await storage.cases.get(case.id)).share_name_counsellor
    carla = staff(STAFF_COUNSELLOR)
    await world.casework.start_message(carla, case.reference)
    sent = await world.relay.text(carla, "Dank voor je melding. Zullen we morgen bellen?")
    assert sent.replies[0].key == "message.sent" and announced.outbox[-1] <= world.clock.now()
    assert to(storage, anna.telegram_id, await outbox(storage, Notice.RELAY)) == [Notice.RELAY]
    await world.mycases.start(anna, case.reference, "reply", "counsellor")
    photo = IncomingAttachment(
        AttachmentKind.PHOTO, b"\xff\xd8 screenshot", None, "image/jpeg", None, "Dit stuurde hij"
    )
    replied = await world.relay.attachment(anna, photo)
    assert replied.replies[0].key == "reply.sent"
    assert to(storage, STAFF_COUNSELLOR, await outbox(storage, Notice.RELAY)) == [Notice.RELAY]
    # The files of a message are not files of the report.
    assert (await storage.cases.get(case.id)).attachment_count == 0
    messages = await storage.casefile.messages(case.id, (Thread.COUNSELLOR,))
    assert [(m.author, m.body) for m in messages] == [
        (Party.COUNSELLOR, "Dank voor je melding. Zullen we morgen bellen?"),
        (Party.REPORTER, "Dit stuurde hij"),
    ]
    # Not composing: text goes to the ordinary flow again.
    assert await world.relay.text(anna, "hallo") is None


async def test_a_message_typed_after_the_case_changed_hands_is_not_sent(world, storage):
    case = await world.report(reporter(5001))
    carla = staff(STAFF_COUNSELLOR)
    await world.casework.start_message(carla, case.reference)
    await world.casework.hand_over(carla, case.reference, SECOND_STAFF.position)
    late = await world.relay.text(carla, "Nog één ding…")
    assert late.replies[0].key == "compose.no_longer"
    assert await outbox(storage, Notice.RELAY) == []


async def test_consent_lets_the_coordinator_in_without_the_name_and_withdrawal_shuts_them_out(world, storage):
    anna = reporter(5001, "Anna de Vries", "annadv")
    case = await world.report(anna)
    carla, coby = staff(STAFF_COUNSELLOR), staff(COORDINATOR)
    assert await world.access.check(coby, Permission.VIEW, case.reference) is None
    asked = await world.casework.ask_consent(carla, case.reference)
    assert asked.replies[0].key == "consent.asked"
    assert to(storage, anna.telegram_id, await outbox(storage, Notice.CONSENT_REQUEST)) == [Notice.CONSENT_REQUEST]
    given = await world.mycases.consent(anna, case.reference, "anonymous")
    assert given.edit_pressed.key == "consent.given_anonymous"
    rows = await outbox(storage, Notice.CASE_REPORT_CONSENTED, Notice.CONSENT_ANSWER)
    assert to(storage, COORDINATOR, rows) == [Notice.CASE_REPORT_CONSENTED]
    assert to(storage, STAFF_COUNSELLOR, rows) == [Notice.CONSENT_ANSWER]
    view = await world.casework.open(coby, case.reference)
    assert view.replies[0].params["who"].key == "staff.reporter_anonymous"
    register = await world.casework.register(coby, RegisterView())
    assert [line.params["reference"] for line in register.replies[0].params["lines"]] == [case.reference]
    withdrawn = await world.mycases.consent(anna, case.reference, "withdraw")
    assert withdrawn.edit_pressed.key == "consent.withdrawn"
    assert (await world.casework.open(coby, case.reference)).toast.key == "toast.not_yours"
    register = await world.casework.register(coby, RegisterView())
    assert register.replies[0].params["lines"][0].key == "register.empty"


async def test_the_coordinator_records_actions_towards_the_perpetrator_and_their_outcome(world, storage):
    case = await world.report(reporter(5001), wish="counsellor_and_register")
    coby = staff(COORDINATOR)
    kinds = await world.casework.record_action(coby, case.reference)
    # A threat: a police report by the employer, a warning letter and a contact ban fit it best.
    assert labels(kinds) == [
        "action.police_report_employer",
        "action.warning_letter",
        "action.contact_ban",
        "action.more",
        "action.nothing",
    ]
    every = await world.press(coby, kinds, "action.more")
    offered = [label.removeprefix("action.") for label in labels(every)]
    assert offered[:3] == ["police_report_employer", "warning_letter", "contact_ban"]
    assert sorted(offered) == sorted(k.value for k in ActionKind)
    outcomes = await world.casework.record_action(coby, case.reference, "warning_letter")
    assert outcomes.edit_pressed.key == "action.ask_outcome"
    recorded = await world.casework.record_action(coby, case.reference, "warning_letter", "in_progress")
    assert recorded.replies[0].key == "action.ask_note"
    await world.relay.text(coby, "Brief is vandaag verstuurd.")
    (action,) = await storage.casefile.actions(case.id)
    assert (action.kind, action.outcome, action.note) == (
        ActionKind.WARNING_LETTER,
        ActionOutcome.IN_PROGRESS,
        "Brief is vandaag verstuurd.",
    )
    await world.casework.update_action(coby, case.reference, action.id[:8], "completed")
    (action,) = await storage.casefile.actions(case.id)
    assert action.outcome is ActionOutcome.COMPLETED
    forged = await world.casework.record_action(coby, case.reference, "arson", "completed")
    assert forged.toast.key == "toast.not_yours"
    unknown = await world.casework.update_action(coby, case.reference, "00000000", "completed")
    assert unknown.toast.key == "toast.not_yours"


async def test_the_register_filters_by_status_form_role_and_period(world, storage, clock):
    coby = staff(COORDINATOR)
    old = await world.report(reporter(5001), wish="anonymous_register")
    clock.advance(days=40)
    threat = await world.report(reporter(5002), wish="anonymous_register")
    holder = await world.report(reporter(5003), wish="anonymous_register", role="mayor")
    await world.report(reporter(5004), wish="counsellor")  # not in the register at all
    await world.casework.status(coby, threat.reference, "closed")

    async def refs(**filters):
        out = await world.casework.register(coby, RegisterView(**filters))
        found = {line.params.get("reference") for line in out.replies[0].params["lines"]} - {None}
        for language in messages.LANGUAGES:
            text = render.text(language, out.replies[0])
            assert all(ref in text for ref in found)
        return found

    assert await refs() == {old.reference, threat.reference, holder.reference}
    assert await refs(status="c") == {threat.reference}
    assert await refs(status="o") == {old.reference, holder.reference}
    assert await refs(role="h") == {holder.reference}
    assert await refs(period="m") == {threat.reference, holder.reference}
    assert await refs(form="bribery") == set()
    assert await refs(form="threat") == {old.reference, threat.reference, holder.reference}
    assert (await world.casework.register(coby, RegisterView(status="x"))).toast.key == "toast.not_yours"
    assert (await world.casework.register(staff(STAFF_COUNSELLOR), RegisterView())).toast.key == "toast.not_yours"


async def test_the_coordinator_confirms_an_anonymous_registration_and_the_reporter_hears(world, storage):
    anna = reporter(5001)
    case = await world.report(anna, wish="anonymous_register")
    coby = staff(COORDINATOR)
    out = await world.casework.acknowledge(coby, case.reference)
    assert keys(out) == ["staff.registered"]
    rows = await outbox(storage, Notice.REPORTER_REGISTERED)
    assert to(storage, anna.telegram_id, rows) == [Notice.REPORTER_REGISTERED]
    assert (await world.casework.acknowledge(coby, case.reference)).toast.key == "toast.registered_already"


async def test_the_reporter_sees_their_cases_with_the_latest_news(world, storage, clock):
    anna = reporter(5001)
    case = await world.report(anna)
    clock.advance(hours=2)
    await world.casework.acknowledge(staff(STAFF_COUNSELLOR), case.reference)
    listing = await world.mycases.list(anna)
    (line,) = listing.replies[0].params["lines"]
    assert line.params["reference"] == case.reference and line.params["news"].key == "news.acknowledged"
    assert (await world.mycases.list(reporter(5002))).replies[0].params["lines"][0].key == "mycases.none"
    assert (await world.mycases.open(reporter(5002), case.reference)).toast.key == "toast.not_yours"


async def test_a_withdrawn_case_is_closed_to_staff_and_they_are_told(world, storage):
    anna = reporter(5001)
    case = await world.report(anna, wish="counsellor_and_register")
    ask = await world.mycases.withdraw(anna, case.reference)
    assert ask.replies[0].key == "withdraw.ask"
    done = await world.mycases.withdraw(anna, case.reference, True)
    assert done.edit_pressed.key == "withdraw.done"
    rows = await outbox(storage, Notice.CASE_WITHDRAWN)
    assert to(storage, STAFF_COUNSELLOR, rows) == [Notice.CASE_WITHDRAWN]
    assert to(storage, COORDINATOR, rows) == [Notice.CASE_WITHDRAWN]
    for member in (STAFF_COUNSELLOR, COORDINATOR):
        assert (await world.casework.open(staff(member), case.reference)).toast.key == "toast.not_yours"
    assert (await world.casework.acknowledge(staff(STAFF_COUNSELLOR), case.reference)).toast.key == "toast.not_yours"


async def test_forgetme_erases_every_trace_and_tells_staff_only_that_the_case_is_gone(world, storage, tmp_path):
    markers = ["MARKER-NAME-4411", "markeruser4412", "MARKER-TEXT-4413", "MARKER-FILE-4414", "MARKER-MSG-4415"]
    anna = reporter(987_654_321, markers[0], markers[1])
    case = await world.report(anna, text=markers[2])
    await world.mycases.start(anna, case.reference, "addition", "")
    await world.relay.attachment(
        anna, IncomingAttachment(AttachmentKind.DOCUMENT, markers[3].encode(), "brief.pdf", None, None, markers[4])
    )
    await world.casework.start_note(staff(STAFF_COUNSELLOR), case.reference)
    await world.relay.text(staff(STAFF_COUNSELLOR), "Notitie over de melder")
    await deliver_everything(storage, world.clock.now())  # the counsellor has the report: they knew of the case
    asked = await world.mycases.forget_question(anna)
    assert asked.replies[0].key == "forget.ask"
    done = await world.mycases.forget(anna, Forget(True))
    assert done.edit_pressed.key == "forget.done"
    assert to(storage, STAFF_COUNSELLOR, await outbox(storage, Notice.CASE_ERASED)) == [Notice.CASE_ERASED]
    assert await storage.people.find(anna.telegram_id) is None
    assert await storage.cases.by_reference(case.reference) is None
    await storage.db.checkpoint()
    database = storage.db.path
    for path in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
        if path.exists():
            data = path.read_bytes()
            for marker in (*markers, str(anna.telegram_id)):
                assert marker.encode() not in data, f"{marker} found in {path.name}"
    # Nothing else of theirs can be found: no rows that point at them remain.
    async with storage.db.transaction() as conn:
        for table in (
            "persons",
            "cases",
            "attachments",
            "case_messages",
            "case_notes",
            "case_counsellors",
            "scheduled",
        ):
            async with conn.execute(f"SELECT COUNT(*) FROM {table}") as cursor:
                assert (await cursor.fetchone())[0] == 0, table
    assert (await world.mycases.forget(anna, Forget(True))).edit_pressed.key == "forget.nothing"
    # Asking again: no second confirmation for an erasure there is nothing left for.
    assert keys(await world.mycases.forget_question(anna)) == ["forget.nothing"]


async def test_staff_who_never_received_a_case_hear_nothing_of_its_erasure(world, storage):
    anna = reporter(5001)
    await world.report(anna, wish="counsellor_and_register")  # nobody has pressed Start: nothing reached staff
    await world.mycases.forget(anna, Forget(True))
    assert await outbox(storage, Notice.CASE_ERASED) == []
    assert await outbox(storage) == []  # and what waited for them went with the case
