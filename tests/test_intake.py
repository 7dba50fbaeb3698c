"""The reporter's conversation as plain Python: no Telegram, a real encrypted database."""

from __future__ import annotations

from datetime import date

import pytest

from flows.clock import Periods
from flows.intake import MAX_ATTACHMENTS, MAX_DESCRIPTION, Intake, tag_of
from flows.model import AttachmentKind, IncomingAttachment, Step
from flows.outcome import Answer, Outcome, StartReport
from flows.routing import CASE_ATTACHMENT, CASE_REPORT, COORDINATOR, COUNSELLOR
from tests.conftest import AMSTERDAM, HOLDERS_COUNSELLOR, STAFF_COUNSELLOR, make_router, reporter
from tests.conftest import COORDINATOR as THE_COORDINATOR


def keys(outcome: Outcome) -> list[str]:
    return [r.key for r in outcome.replies]


def button(outcome: Outcome, label: str):
    """The action behind the button labelled ``label`` on the newest message that has buttons."""
    candidates = [r for r in outcome.replies if r.keyboard]
    if outcome.edit_pressed is not None and outcome.edit_pressed.keyboard:
        candidates.append(outcome.edit_pressed)
    for reply in reversed(candidates):
        for row in reply.keyboard:
            for choice in row:
                if choice.label == label:
                    return choice.action
    raise AssertionError(f"no button {label!r} in {[r.key for r in candidates]}")


async def press(intake: Intake, sender, outcome: Outcome, label: str) -> Outcome:
    return await intake.press(sender, button(outcome, label))


async def file_report(
    intake: Intake,
    sender,
    *,
    role="employee",
    wish="counsellor",
    text="Hij schreeuwde tegen me.",
    share_coordinator=False,
) -> Outcome:
    """The shortest path (or one toggle more, to share the name with the coordinator);
    returns the outcome of the confirmation."""
    out = await intake.start(sender)
    out = await press(intake, sender, out, "category.threat")
    out = await press(intake, sender, out, "when.today")
    out = await press(intake, sender, out, "channel.in_person")
    out = await intake.text(sender, text)
    if out.replies[-1].key == "ask.role":
        out = await press(intake, sender, out, f"role.{role}")
    out = await press(intake, sender, out, f"wish.{wish}")
    if share_coordinator and wish == "counsellor_and_register":
        out = await press(intake, sender, out, "toggle.coordinator_off")
        out.replies.append(out.edit_pressed)
    return await press(intake, sender, out, "button.confirm")


async def outbox_rows(storage):
    async with storage.db.transaction() as conn:
        async with conn.execute("SELECT recipient_index, recipient_role, kind, ref FROM outbox ORDER BY seq") as cursor:
            return [tuple(r) for r in await cursor.fetchall()]


async def test_an_employee_reports_a_threat_in_seven_inputs_and_the_staff_counsellor_gets_it(
    intake, storage, announced, clock
):
    anna = reporter()
    inputs = 0
    out = await intake.start(anna)  # the report button itself
    assert keys(out) == ["ask.category"]
    for label in ("category.threat", "when.today", "channel.in_person"):
        out = await press(intake, anna, out, label)
        inputs += 1
    out = await intake.text(anna, "Hij dreigde me op te wachten na mijn werk.")
    inputs += 1
    assert keys(out) == ["ask.role"]
    out = await press(intake, anna, out, "role.employee")
    out = await press(intake, anna, out, "wish.counsellor")
    assert keys(out) == ["summary"]
    out = await press(intake, anna, out, "button.confirm")
    inputs += 3
    assert inputs <= 7
    assert keys(out) == ["submitted"]
    assert announced.outbox[-1] <= clock.now()  # the courier hears at once that the report is due
    reference = out.replies[0].params["reference"]
    case = await storage.cases.by_reference(reference)
    assert case.status == "new" and case.category == "threat" and case.audience == "staff"
    assert case.incident_date == date(2026, 11, 18)
    rows = await outbox_rows(storage)
    assert rows == [(storage.people.index_of(STAFF_COUNSELLOR.telegram_id), COUNSELLOR, CASE_REPORT, None)]


async def test_the_role_is_asked_once_and_remembered(intake, storage):
    anna = reporter()
    await file_report(intake, anna, role="alderman")
    out = await intake.start(anna)
    seen = []
    for label in ("category.bribery", "when.yesterday", "channel.phone"):
        out = await press(intake, anna, out, label)
        seen += keys(out)
    out = await intake.text(anna, "Een aannemer bood me een cadeaubon aan.")
    assert keys(out) == ["ask.wish"]
    assert "ask.role" not in seen
    assert out.replies[-1].params["progress"].params == {"n": 5, "total": 5}


async def test_a_council_member_reaches_the_counsellor_for_office_holders(intake, storage):
    out = await file_report(intake, reporter(6001), role="council_member")
    assert keys(out) == ["submitted"]
    rows = await outbox_rows(storage)
    assert {r[0] for r in rows} == {storage.people.index_of(HOLDERS_COUNSELLOR.telegram_id)}


async def test_registration_also_goes_to_the_coordinator_without_the_name_by_default(intake, storage):
    out = await file_report(intake, reporter(), wish="counsellor_and_register")
    case = await storage.cases.by_reference(out.replies[0].params["reference"])
    assert case.share_name_counsellor and not case.share_name_coordinator
    roles = {(r[0], r[1]) for r in await outbox_rows(storage)}
    assert roles == {
        (storage.people.index_of(STAFF_COUNSELLOR.telegram_id), COUNSELLOR),
        (storage.people.index_of(THE_COORDINATOR.telegram_id), COORDINATOR),
    }


async def test_anonymous_registration_goes_to_the_coordinator_only(intake, storage):
    out = await file_report(intake, reporter(), wish="anonymous_register")
    case = await storage.cases.by_reference(out.replies[0].params["reference"])
    assert not case.share_name_counsellor and not case.share_name_coordinator
    assert {r[1] for r in await outbox_rows(storage)} == {COORDINATOR}


async def test_the_summary_toggles_name_sharing_in_place(intake, storage):
    anna = reporter()
    out = await intake.start(anna)
    for label in ("category.threat", "when.today", "channel.email"):
        out = await press(intake, anna, out, label)
    out = await intake.text(anna, "Dreigmail ontvangen.")
    out = await press(intake, anna, out, "role.employee")
    out = await press(intake, anna, out, "wish.counsellor_and_register")
    out = await press(intake, anna, out, "toggle.coordinator_off")
    assert out.edit_pressed.key == "summary"
    out = await press(intake, anna, out, "toggle.counsellor_on")
    draft = await intake.draft_for(anna)
    assert draft.share_name_coordinator and not draft.share_name_counsellor


async def test_text_typed_where_a_button_is_expected_joins_the_description(intake, storage):
    anna = reporter()
    out = await intake.start(anna)
    out = await intake.text(anna, "Er stond iemand bij mijn auto te wachten.")
    assert keys(out) == ["description.added", "ask.category"]
    out = await press(intake, anna, out, "category.intimidation")
    out = await press(intake, anna, out, "when.today")
    out = await press(intake, anna, out, "channel.in_person")
    # The description is already there, so the description question is skipped.
    assert keys(out) == ["ask.role"]
    draft = await intake.draft_for(anna)
    assert draft.description == "Er stond iemand bij mijn auto te wachten."


async def test_an_account_typed_before_any_report_starts_one(intake, storage):
    anna = reporter()
    out = await intake.text(anna, "Vanochtend aan de balie werd ik uitgescholden door een inwoner.")
    assert keys(out) == ["description.started_from_message", "ask.category"]
    draft = await intake.draft_for(anna)
    assert draft.description.startswith("Vanochtend")


async def test_an_opening_typed_before_the_report_is_kept_and_the_account_is_still_asked_for(intake, storage):
    anna = reporter()
    out = await intake.text(anna, "Hallo, ik wil iets kwijt over gisteren")
    for label in ("category.verbal_aggression", "when.yesterday", "channel.in_person"):
        out = await press(intake, anna, out, label)
    # The description step is not skipped: it shows what was kept and asks for the rest.
    assert keys(out) == ["ask.description_kept"]
    assert out.replies[-1].params["kept"] == "Hallo, ik wil iets kwijt over gisteren"
    out = await intake.text(anna, "Een man schreeuwde aan de balie dat hij me zou opwachten.")
    assert keys(out) == ["ask.role"]
    draft = await intake.draft_for(anna)
    assert draft.description == (
        "Hallo, ik wil iets kwijt over gisteren\n\nEen man schreeuwde aan de balie dat hij me zou opwachten."
    )


async def test_the_text_typed_first_can_be_the_whole_account(intake, storage):
    anna = reporter()
    out = await intake.text(anna, "De wethouder kreeg een envelop met geld aangeboden door een aannemer.")
    for label in ("category.bribery", "when.today", "channel.in_person"):
        out = await press(intake, anna, out, label)
    out = await press(intake, anna, out, "description.keep_text")
    assert keys(out) == ["ask.role"]
    assert (await intake.draft_for(anna)).description.startswith("De wethouder")


async def test_a_short_message_outside_a_report_gets_directions(intake):
    out = await intake.text(reporter(), "hallo")
    assert keys(out) == ["outside_flow"]
    assert isinstance(button(out, "button.report"), StartReport)
    assert await intake.draft_for(reporter()) is None


async def test_over_long_text_is_refused_kindly_and_nothing_is_lost(intake, storage):
    anna = reporter()
    out = await intake.start(anna)
    for label in ("category.threat", "when.today", "channel.in_person"):
        out = await press(intake, anna, out, label)
    out = await intake.text(anna, "Eerste deel van het verhaal.")
    out = await intake.text(anna, "x" * MAX_DESCRIPTION)
    assert keys(out) == ["description.too_long", "ask.role"]
    draft = await intake.draft_for(anna)
    assert draft.description == "Eerste deel van het verhaal."


async def test_a_typed_date_is_understood_and_a_wrong_one_explained(intake, storage):
    anna = reporter()
    out = await intake.start(anna)
    out = await press(intake, anna, out, "category.threat")
    out = await press(intake, anna, out, "when.earlier")
    assert keys(out) == ["ask.when_typed"]
    out = await intake.text(anna, "volgende week")
    assert keys(out)[0].startswith("date.") and keys(out)[-1] == "ask.when_typed"
    out = await intake.text(anna, "31-2")
    assert keys(out) == ["date.no_such_day", "ask.when_typed"]
    out = await intake.text(anna, "12 november")
    assert keys(out) == ["answered", "ask.channel"]
    assert (await intake.draft_for(anna)).incident_date == date(2026, 11, 12)


async def test_a_button_of_another_draft_is_refused_without_any_change(intake, storage):
    anna = reporter()
    out = await intake.start(anna)
    old = button(out, "category.threat")
    await press(intake, anna, await intake.cancel_command(anna), "button.cancel_yes")
    out = await intake.start(anna)
    out = await intake.press(anna, old)
    assert out.toast.key == "toast.stale"
    assert keys(out) == ["ask.category"]
    assert (await intake.draft_for(anna)).category is None


async def test_a_repeated_press_is_noted_once(intake, storage):
    anna = reporter()
    out = await intake.start(anna)
    threat = button(out, "category.threat")
    await intake.press(anna, threat)
    again = await intake.press(anna, threat)
    assert again.toast.key == "toast.already_noted"
    assert again.replies == []
    assert (await intake.draft_for(anna)).step == Step.WHEN


async def test_a_forged_value_changes_nothing(intake, storage):
    anna = reporter()
    out = await intake.start(anna)
    draft = await intake.draft_for(anna)
    out = await intake.press(anna, Answer(tag_of(draft), Step.CATEGORY, "arson"))
    assert out.toast.key == "toast.invalid"
    assert (await intake.draft_for(anna)).category is None


async def test_someone_else_cannot_press_my_buttons(intake, storage):
    anna, bert = reporter(), reporter(7001, "Bert", None)
    out = await intake.start(anna)
    await intake.start(bert)
    forged = await intake.press(bert, button(out, "category.threat"))
    assert forged.toast.key == "toast.stale"
    assert (await intake.draft_for(anna)).category is None
    assert (await intake.draft_for(bert)).category is None


async def test_cancel_asks_first_and_then_deletes_the_draft_with_its_files(intake, storage):
    anna = reporter()
    await intake.start(anna)
    await intake.attachment(anna, IncomingAttachment(AttachmentKind.PHOTO, b"jpeg", None, "image/jpeg", None, None))
    out = await intake.cancel_command(anna)
    assert keys(out) == ["ask.cancel"]
    out = await press(intake, anna, out, "button.cancel_no")
    assert keys(out) == ["ask.category"]
    out = await press(intake, anna, await intake.cancel_command(anna), "button.cancel_yes")
    assert out.edit_pressed.key == "cancel.done"
    assert await intake.draft_for(anna) is None
    async with storage.db.transaction() as conn:
        async with conn.execute("SELECT (SELECT COUNT(*) FROM cases) + (SELECT COUNT(*) FROM attachments)") as c:
            assert (await c.fetchone())[0] == 0


async def test_a_draft_survives_a_restart_and_continues_where_it_was(tmp_path, clock):
    from storage import Storage

    first = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    intake = Intake(first, make_router(first), clock, AMSTERDAM, Periods())
    anna = reporter()
    out = await intake.start(anna)
    out = await press(intake, anna, out, "category.violence")
    pending = button(out, "when.today")
    await first.close()

    second = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    intake = Intake(second, make_router(second), clock, AMSTERDAM, Periods())
    out = await intake.start(anna)
    assert keys(out) == ["draft.resume"]
    out = await intake.press(anna, pending)  # the button from before the restart still works
    assert keys(out) == ["ask.channel"]
    assert (await intake.draft_for(anna)).category == "violence"
    await second.close()


async def test_changing_an_answer_from_the_summary_returns_to_the_summary(intake, storage):
    anna = reporter()
    out = await intake.start(anna)
    for label in ("category.threat", "when.today", "channel.in_person"):
        out = await press(intake, anna, out, label)
    out = await intake.text(anna, "Eerste versie.")
    out = await press(intake, anna, out, "role.employee")
    out = await press(intake, anna, out, "wish.counsellor")
    out = await press(intake, anna, out, "button.change")
    assert keys(out) == ["ask.change"]
    out = await press(intake, anna, out, "change.channel")
    out = await press(intake, anna, out, "channel.phone")
    assert keys(out) == ["summary"]
    out = await press(intake, anna, out, "button.change")
    out = await press(intake, anna, out, "change.description")
    assert keys(out) == ["ask.description_replace"]
    out = await intake.text(anna, "Tweede versie.")
    assert keys(out) == ["summary"]
    draft = await intake.draft_for(anna)
    assert draft.channel == "phone" and draft.description == "Tweede versie."


async def test_photos_are_kept_and_a_caption_becomes_the_description(intake, storage):
    anna = reporter()
    out = await intake.start(anna)
    for label in ("category.intimidation", "when.today", "channel.online"):
        out = await press(intake, anna, out, label)
    out = await intake.attachment(
        anna,
        IncomingAttachment(AttachmentKind.PHOTO, b"\xff\xd8shot", None, "image/jpeg", None, "Screenshot van de DM"),
    )
    assert keys(out) == ["attachment.kept", "ask.role"]
    out = await intake.attachment(
        anna, IncomingAttachment(AttachmentKind.DOCUMENT, b"%PDF", "brief.pdf", None, None, None)
    )
    assert keys(out) == ["attachment.kept"]
    draft = await intake.draft_for(anna)
    assert draft.attachment_count == 2 and draft.description == "Screenshot van de DM"


async def test_attachments_only_is_possible_after_saying_so(intake, storage):
    anna = reporter()
    out = await intake.start(anna)
    for label in ("category.intimidation", "when.today", "channel.online"):
        out = await press(intake, anna, out, label)
    out = await intake.attachment(anna, IncomingAttachment(AttachmentKind.PHOTO, b"x", None, None, None, None))
    assert keys(out) == ["attachment.kept", "ask.description_after_attachment"]
    out = await press(intake, anna, out, "description.no_text")
    assert keys(out) == ["ask.role"]


async def test_more_attachments_than_allowed_are_refused_and_the_rest_kept(intake, storage):
    anna = reporter()
    await intake.start(anna)
    for n in range(MAX_ATTACHMENTS):
        await intake.attachment(anna, IncomingAttachment(AttachmentKind.PHOTO, bytes([n]), None, None, None, None))
    out = await intake.attachment(
        anna, IncomingAttachment(AttachmentKind.PHOTO, b"one too many", None, None, None, None)
    )
    assert keys(out) == ["attachment.too_many"]
    assert (await intake.draft_for(anna)).attachment_count == MAX_ATTACHMENTS


async def test_a_file_sent_outside_a_report_starts_one(intake, storage):
    out = await intake.attachment(
        reporter(), IncomingAttachment(AttachmentKind.VOICE, b"ogg", None, "audio/ogg", 4, None)
    )
    assert keys(out) == ["attachment.kept_new_report", "ask.category"]


async def test_with_nobody_configured_the_report_is_kept_and_routed_once_someone_is(storage, clock):
    lonely = Intake(storage, make_router(storage, counsellors=(), coordinators=()), clock, AMSTERDAM, Periods())
    out = await file_report(lonely, reporter(), wish="counsellor_and_register")
    assert out.replies[0].params["next"][0].key == "submitted.next_counsellor_missing"
    assert await outbox_rows(storage) == []
    staffed = Intake(storage, make_router(storage), clock, AMSTERDAM, Periods())
    assert await staffed.route_waiting() == 2  # once for the counsellor, once for the coordinator
    assert {r[1] for r in await outbox_rows(storage)} == {COUNSELLOR, COORDINATOR}
    assert await staffed.route_waiting() == 0


async def test_attachments_are_queued_after_the_report_for_each_recipient(intake, storage):
    anna = reporter()
    out = await intake.start(anna)
    for label in ("category.threat", "when.today", "channel.in_person"):
        out = await press(intake, anna, out, label)
    await intake.attachment(anna, IncomingAttachment(AttachmentKind.PHOTO, b"a", None, None, None, "Foto van de auto"))
    out = await intake.attachment(anna, IncomingAttachment(AttachmentKind.PHOTO, b"b", None, None, None, None))
    draft = await intake.draft_for(anna)
    out = await intake.press(anna, Answer(tag_of(draft), Step.ROLE, "employee"))
    out = await press(intake, anna, out, "wish.counsellor")
    await press(intake, anna, out, "button.confirm")
    assert [r[2] for r in await outbox_rows(storage)] == [CASE_REPORT, CASE_ATTACHMENT, CASE_ATTACHMENT]


async def test_the_conversation_can_be_removed_by_its_reporter_only_and_within_48_hours(intake, storage, clock):
    anna = reporter()
    out = await file_report(intake, anna)
    case = await storage.cases.by_reference(out.replies[0].params["reference"])
    await intake.remember_messages(case.id, [11, 12, 13])
    cleanup = button(out, "button.cleanup")
    other = await intake.clean_up(reporter(7001), cleanup)
    assert other.toast.key == "toast.not_yours" and other.delete_messages == ()
    mine = await intake.clean_up(anna, cleanup)
    assert mine.delete_messages == (11, 12, 13)
    clock.advance(hours=49)
    late = await intake.clean_up(anna, cleanup)
    assert late.toast.key == "cleanup.too_old"


@pytest.mark.parametrize(
    "language_code, expected", [("nl", "nl"), ("nl-BE", "nl"), ("en", "en"), ("de", "en"), (None, "en")]
)
async def test_the_language_follows_telegram(intake, language_code, expected):
    out = await intake.start(reporter(lang=language_code))
    assert out.language.value == expected
