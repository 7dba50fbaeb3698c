"""The reporter's conversation as plain Python: no Telegram, a real encrypted database."""

from __future__ import annotations

from datetime import date

import pytest

from flows.intake import MAX_ATTACHMENTS, MAX_DESCRIPTION, tag_of
from flows.lifecycle import Notice, Party
from flows.model import AttachmentKind, IncomingAttachment, Step
from flows.outcome import Answer, StartReport
from storage import Storage
from tests.support import (
    COORDINATOR,
    HOLDERS_COUNSELLOR,
    STAFF_COUNSELLOR,
    World,
    button,
    file_report,
    index,
    keys,
    last,
    outbox,
    reference_of,
    reporter,
)


@pytest.fixture
def world(small_world: World) -> World:
    """One counsellor per group and a coordinator, so where a report goes is plain to see."""
    return small_world


async def test_an_employee_reports_a_threat_in_seven_inputs_and_the_staff_counsellor_gets_it(
    world, storage, announced, clock
):
    anna = reporter()
    inputs = 0
    out = await world.intake.start(anna)  # the report button itself
    assert keys(out) == ["ask.category"]
    for label in ("category.threat", "when.today", "channel.in_person"):
        out = await world.press(anna, out, label)
        inputs += 1
    out = await world.intake.text(anna, "Hij dreigde me op te wachten na mijn werk.")
    inputs += 1
    assert keys(out) == ["ask.role"]
    out = await world.press(anna, out, "role.employee")
    out = await world.press(anna, out, "wish.counsellor")
    assert keys(out) == ["summary"]
    out = await world.press(anna, out, "button.confirm")
    inputs += 3
    assert inputs <= 7
    assert keys(out) == ["submitted"]
    assert announced.outbox[-1] <= clock.now()  # the courier hears at once that the report is due
    reference = reference_of(out)
    case = await storage.cases.by_reference(reference)
    assert case.status == "new" and case.category == "threat" and case.audience == "staff"
    assert case.incident_date == date(2026, 11, 18)
    rows = await outbox(storage)
    assert rows == [(index(storage, STAFF_COUNSELLOR), Party.COUNSELLOR, Notice.CASE_REPORT, None)]


async def test_the_role_is_asked_once_and_remembered(world, storage):
    anna = reporter()
    await file_report(world, anna, role="alderman")
    out = await world.intake.start(anna)
    seen = []
    for label in ("category.bribery", "when.yesterday", "channel.phone"):
        out = await world.press(anna, out, label)
        seen += keys(out)
    out = await world.intake.text(anna, "Een aannemer bood me een cadeaubon aan.")
    assert keys(out) == ["ask.wish"]
    assert "ask.role" not in seen
    assert last(out).params["progress"].params == {"n": 5, "total": 5}


async def test_a_council_member_reaches_the_counsellor_for_office_holders(world, storage):
    out = await file_report(world, reporter(6001), role="council_member")
    assert keys(out) == ["submitted"]
    rows = await outbox(storage)
    assert {r[0] for r in rows} == {index(storage, HOLDERS_COUNSELLOR)}


async def test_registration_also_goes_to_the_coordinator_without_the_name_by_default(world, storage):
    out = await file_report(world, reporter(), wish="counsellor_and_register")
    case = await storage.cases.by_reference(reference_of(out))
    assert case.share_name_counsellor and not case.share_name_coordinator
    roles = {(r[0], r[1]) for r in await outbox(storage)}
    assert roles == {
        (index(storage, STAFF_COUNSELLOR), Party.COUNSELLOR),
        (index(storage, COORDINATOR), Party.COORDINATOR),
    }


async def test_anonymous_registration_goes_to_the_coordinator_only(world, storage):
    out = await file_report(world, reporter(), wish="anonymous_register")
    case = await storage.cases.by_reference(reference_of(out))
    assert not case.share_name_counsellor and not case.share_name_coordinator
    assert {r[1] for r in await outbox(storage)} == {Party.COORDINATOR}


async def test_the_summary_toggles_name_sharing_in_place(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    for label in ("category.threat", "when.today", "channel.email"):
        out = await world.press(anna, out, label)
    out = await world.intake.text(anna, "Dreigmail ontvangen.")
    out = await world.press(anna, out, "role.employee")
    out = await world.press(anna, out, "wish.counsellor_and_register")
    out = await world.press(anna, out, "toggle.coordinator_off")
    assert out.edit_pressed.key == "summary"
    out = await world.press(anna, out, "toggle.counsellor_on")
    draft = await world.intake.draft_for(anna)
    assert draft.share_name_coordinator and not draft.share_name_counsellor


async def test_text_typed_where_a_button_is_expected_joins_the_description(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    out = await world.intake.text(anna, "Er stond iemand bij mijn auto te wachten.")
    assert keys(out) == ["description.added", "ask.category"]
    out = await world.press(anna, out, "category.intimidation")
    out = await world.press(anna, out, "when.today")
    out = await world.press(anna, out, "channel.in_person")
    # The description is already there, so the description question is skipped.
    assert keys(out) == ["ask.role"]
    draft = await world.intake.draft_for(anna)
    assert draft.description == "Er stond iemand bij mijn auto te wachten."


async def test_an_account_typed_before_any_report_starts_one(world, storage):
    anna = reporter()
    out = await world.intake.text(anna, "Vanochtend aan de balie werd ik uitgescholden door een inwoner.")
    assert keys(out) == ["description.started_from_message", "ask.category"]
    draft = await world.intake.draft_for(anna)
    assert draft.description.startswith("Vanochtend")


async def test_an_opening_typed_before_the_report_is_kept_and_the_account_is_still_asked_for(world, storage):
    anna = reporter()
    out = await world.intake.text(anna, "Hallo, ik wil iets kwijt over gisteren")
    for label in ("category.verbal_aggression", "when.yesterday", "channel.in_person"):
        out = await world.press(anna, out, label)
    # The description step is not skipped: it shows what was kept and asks for the rest.
    assert keys(out) == ["ask.description_kept"]
    assert last(out).params["kept"] == "Hallo, ik wil iets kwijt over gisteren"
    out = await world.intake.text(anna, "Een man schreeuwde aan de balie dat hij me zou opwachten.")
    assert keys(out) == ["ask.role"]
    draft = await world.intake.draft_for(anna)
    assert draft.description == (
        "Hallo, ik wil iets kwijt over gisteren\n\nEen man schreeuwde aan de balie dat hij me zou opwachten."
    )


async def test_the_text_typed_first_can_be_the_whole_account(world, storage):
    anna = reporter()
    out = await world.intake.text(anna, "De wethouder kreeg een envelop met geld aangeboden door een aannemer.")
    for label in ("category.bribery", "when.today", "channel.in_person"):
        out = await world.press(anna, out, label)
    out = await world.press(anna, out, "description.keep_text")
    assert keys(out) == ["ask.role"]
    assert (await world.intake.draft_for(anna)).description.startswith("De wethouder")


async def test_a_short_message_outside_a_report_gets_directions(world):
    out = await world.intake.text(reporter(), "hallo")
    assert keys(out) == ["outside_flow"]
    assert isinstance(button(out, "button.report"), StartReport)
    assert await world.intake.draft_for(reporter()) is None


async def test_over_long_text_is_refused_kindly_and_nothing_is_lost(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    for label in ("category.threat", "when.today", "channel.in_person"):
        out = await world.press(anna, out, label)
    out = await world.intake.text(anna, "Eerste deel van het verhaal.")
    out = await world.intake.text(anna, "x" * MAX_DESCRIPTION)
    assert keys(out) == ["description.too_long", "ask.role"]
    draft = await world.intake.draft_for(anna)
    assert draft.description == "Eerste deel van het verhaal."


async def test_a_typed_date_is_understood_and_a_wrong_one_explained(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    out = await world.press(anna, out, "category.threat")
    out = await world.press(anna, out, "when.earlier")
    assert keys(out) == ["ask.when_typed"]
    out = await world.intake.text(anna, "volgende week")
    assert keys(out)[0].startswith("date.") and keys(out)[-1] == "ask.when_typed"
    out = await world.intake.text(anna, "31-2")
    assert keys(out) == ["date.no_such_day", "ask.when_typed"]
    out = await world.intake.text(anna, "12 november")
    # One message: the next question, with the date as understood above it.
    assert keys(out) == ["ask.channel"]
    assert last(out).before.key == "answered"
    assert last(out).before.params["answer"].params == {"date": date(2026, 11, 12)}
    assert (await world.intake.draft_for(anna)).incident_date == date(2026, 11, 12)


async def test_a_button_of_another_draft_is_refused_without_any_change(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    old = button(out, "category.threat")
    await world.press(anna, await world.intake.cancel_command(anna), "button.cancel_yes")
    out = await world.intake.start(anna)
    out = await world.intake.press(anna, old)
    assert out.toast.key == "toast.stale"
    assert keys(out) == ["ask.category"]
    assert (await world.intake.draft_for(anna)).category is None


async def test_a_repeated_press_is_noted_once(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    threat = button(out, "category.threat")
    await world.intake.press(anna, threat)
    again = await world.intake.press(anna, threat)
    assert again.toast.key == "toast.already_noted"
    assert again.replies == []
    assert (await world.intake.draft_for(anna)).step == Step.WHEN


async def test_a_forged_value_changes_nothing(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    draft = await world.intake.draft_for(anna)
    out = await world.intake.press(anna, Answer(tag_of(draft), Step.CATEGORY, "arson"))
    assert out.toast.key == "toast.invalid"
    assert (await world.intake.draft_for(anna)).category is None


async def test_someone_else_cannot_press_my_buttons(world, storage):
    anna, bert = reporter(), reporter(7001, "Bert", None)
    out = await world.intake.start(anna)
    await world.intake.start(bert)
    forged = await world.intake.press(bert, button(out, "category.threat"))
    assert forged.toast.key == "toast.stale"
    assert (await world.intake.draft_for(anna)).category is None
    assert (await world.intake.draft_for(bert)).category is None


async def test_cancel_asks_first_and_then_deletes_the_draft_with_its_files(world, storage):
    anna = reporter()
    await world.intake.start(anna)
    await world.intake.attachment(
        anna, IncomingAttachment(AttachmentKind.PHOTO, b"jpeg", None, "image/jpeg", None, None)
    )
    out = await world.intake.cancel_command(anna)
    assert keys(out) == ["ask.cancel"]
    out = await world.press(anna, out, "button.cancel_no")
    assert keys(out) == ["ask.category"]
    out = await world.press(anna, await world.intake.cancel_command(anna), "button.cancel_yes")
    assert out.edit_pressed.key == "cancel.done"
    assert await world.intake.draft_for(anna) is None
    async with storage.db.transaction() as conn:
        async with conn.execute("SELECT (SELECT COUNT(*) FROM cases) + (SELECT COUNT(*) FROM attachments)") as c:
            assert (await c.fetchone())[0] == 0


async def test_a_draft_survives_a_restart_and_continues_where_it_was(tmp_path, clock):
    first = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    before = World(first, clock, counsellors=(STAFF_COUNSELLOR, HOLDERS_COUNSELLOR))
    anna = reporter()
    out = await before.intake.start(anna)
    out = await before.press(anna, out, "category.violence")
    pending = button(out, "when.today")
    await first.close()

    second = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    after = World(second, clock, counsellors=(STAFF_COUNSELLOR, HOLDERS_COUNSELLOR))
    out = await after.intake.start(anna)
    assert keys(out) == ["draft.resume"]
    out = await after.intake.press(anna, pending)  # the button from before the restart still works
    assert keys(out) == ["ask.channel"]
    assert (await after.intake.draft_for(anna)).category == "violence"
    await second.close()


async def test_changing_an_answer_from_the_summary_returns_to_the_summary(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    for label in ("category.threat", "when.today", "channel.in_person"):
        out = await world.press(anna, out, label)
    out = await world.intake.text(anna, "Eerste versie.")
    out = await world.press(anna, out, "role.employee")
    out = await world.press(anna, out, "wish.counsellor")
    out = await world.press(anna, out, "button.change")
    assert keys(out) == ["ask.change"]
    out = await world.press(anna, out, "change.channel")
    out = await world.press(anna, out, "channel.phone")
    assert keys(out) == ["summary"]
    out = await world.press(anna, out, "button.change")
    out = await world.press(anna, out, "change.description")
    assert keys(out) == ["ask.description_replace"]
    out = await world.intake.text(anna, "Tweede versie.")
    assert keys(out) == ["summary"]
    draft = await world.intake.draft_for(anna)
    assert draft.channel == "phone" and draft.description == "Tweede versie."


async def test_photos_are_kept_and_a_caption_becomes_the_description(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    for label in ("category.intimidation", "when.today", "channel.online"):
        out = await world.press(anna, out, label)
    out = await world.intake.attachment(
        anna,
        IncomingAttachment(AttachmentKind.PHOTO, b"\xff\xd8shot", None, "image/jpeg", None, "Screenshot van de DM"),
    )
    assert keys(out) == ["attachment.kept", "ask.role"]
    out = await world.intake.attachment(
        anna, IncomingAttachment(AttachmentKind.DOCUMENT, b"%PDF", "brief.pdf", None, None, None)
    )
    assert keys(out) == ["attachment.kept"]
    draft = await world.intake.draft_for(anna)
    assert draft.attachment_count == 2 and draft.description == "Screenshot van de DM"


async def test_attachments_only_is_possible_after_saying_so(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    for label in ("category.intimidation", "when.today", "channel.online"):
        out = await world.press(anna, out, label)
    out = await world.intake.attachment(anna, IncomingAttachment(AttachmentKind.PHOTO, b"x", None, None, None, None))
    assert keys(out) == ["attachment.kept", "ask.description_after_attachment"]
    out = await world.press(anna, out, "description.no_text")
    assert keys(out) == ["ask.role"]


async def test_more_attachments_than_allowed_are_refused_and_the_rest_kept(world, storage):
    anna = reporter()
    await world.intake.start(anna)
    for n in range(MAX_ATTACHMENTS):
        await world.intake.attachment(
            anna, IncomingAttachment(AttachmentKind.PHOTO, bytes([n]), None, None, None, None)
        )
    out = await world.intake.attachment(
        anna, IncomingAttachment(AttachmentKind.PHOTO, b"one too many", None, None, None, None)
    )
    assert keys(out) == ["attachment.too_many"]
    assert (await world.intake.draft_for(anna)).attachment_count == MAX_ATTACHMENTS


async def test_a_file_sent_outside_a_report_starts_one(world, storage):
    out = await world.intake.attachment(
        reporter(), IncomingAttachment(AttachmentKind.VOICE, b"ogg", None, "audio/ogg", 4, None)
    )
    assert keys(out) == ["attachment.kept_new_report", "ask.category"]


async def test_with_nobody_configured_the_report_is_kept_and_routed_once_someone_is(storage, clock):
    lonely = World(storage, clock, counsellors=(), coordinators=())
    out = await file_report(lonely, reporter(), wish="counsellor_and_register")
    assert last(out).params["next"][0].key == "submitted.next_counsellor_missing"
    assert await outbox(storage) == []
    staffed = World(storage, clock, counsellors=(STAFF_COUNSELLOR, HOLDERS_COUNSELLOR))
    assert await staffed.intake.route_waiting() == 2  # once for the counsellor, once for the coordinator
    assert {r[1] for r in await outbox(storage)} == {Party.COUNSELLOR, Party.COORDINATOR}
    assert await staffed.intake.route_waiting() == 0


async def test_attachments_are_queued_after_the_report_for_each_recipient(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    for label in ("category.threat", "when.today", "channel.in_person"):
        out = await world.press(anna, out, label)
    await world.intake.attachment(
        anna, IncomingAttachment(AttachmentKind.PHOTO, b"a", None, None, None, "Foto van de auto")
    )
    out = await world.intake.attachment(anna, IncomingAttachment(AttachmentKind.PHOTO, b"b", None, None, None, None))
    draft = await world.intake.draft_for(anna)
    out = await world.intake.press(anna, Answer(tag_of(draft), Step.ROLE, "employee"))
    out = await world.press(anna, out, "wish.counsellor")
    await world.press(anna, out, "button.confirm")
    assert [r[2] for r in await outbox(storage)] == [Notice.CASE_REPORT, Notice.CASE_ATTACHMENT, Notice.CASE_ATTACHMENT]


async def test_the_conversation_can_be_removed_by_its_reporter_only_and_within_48_hours(world, storage, clock):
    anna = reporter()
    out = await file_report(world, anna)
    case = await storage.cases.by_reference(reference_of(out))
    await world.intake.remember_messages(case.id, [11, 12, 13])
    cleanup = button(out, "button.cleanup")
    other = await world.intake.clean_up(reporter(7001), cleanup)
    assert other.toast.key == "toast.not_yours" and other.delete_messages == ()
    mine = await world.intake.clean_up(anna, cleanup)
    assert mine.delete_messages == (11, 12, 13)
    clock.advance(hours=49)
    late = await world.intake.clean_up(anna, cleanup)
    assert late.toast.key == "cleanup.too_old"


@pytest.mark.parametrize(
    "language_code, expected", [("nl", "nl"), ("nl-BE", "nl"), ("en", "en"), ("de", "en"), (None, "en")]
)
async def test_the_language_follows_telegram(world, language_code, expected):
    out = await world.intake.start(reporter(lang=language_code))
    assert out.language.value == expected
