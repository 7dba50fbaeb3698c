"""The reporter's conversation as plain Python: no Telegram, a real encrypted database."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from flows.intake import MAX_ATTACHMENTS, MAX_DESCRIPTION, tag_of
from flows.lifecycle import Notice, Party
from flows.model import AttachmentKind, IncomingAttachment, Step
from flows.outcome import Answer, StartReport
from flows.perpetrator import IdentifierKind
from messages import Label
from storage import Storage
from storage.cases import detail_index
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
    """The shortest path: seven inputs after the report button; the very first report adds only the
    questions asked once (role, work process), each one tap."""
    anna = reporter()
    inputs, profile = 0, 0
    out = await world.intake.start(anna)  # the report button itself
    assert keys(out) == ["ask.forms"]
    for label in ("forms.threat", "when.today", "channel.in_person"):
        out = await world.press(anna, out, label)
        inputs += 1
    out = await world.intake.text(anna, "Hij dreigde me op te wachten na mijn werk.")
    inputs += 1
    assert keys(out) == ["ask.perpetrator"]
    out = await world.press(anna, out, "perpetrator.citizen_unnamed")
    inputs += 1
    assert keys(out) == ["ask.role"]
    out = await world.press(anna, out, "role.employee")
    assert keys(out) == ["ask.work_process"]
    out = await world.press(anna, out, "work_process.skip")
    profile += 2
    out = await world.press(anna, out, "wish.counsellor")
    assert keys(out) == ["summary"]
    out = await world.press(anna, out, "button.confirm")
    inputs += 2
    assert inputs == 7 and profile == 2
    assert keys(out) == ["submitted"]
    assert announced.outbox[-1] <= clock.now()  # the courier hears at once that the report is due
    reference = reference_of(out)
    case = await storage.cases.by_reference(reference)
    assert case.status == "new" and case.forms == {"threat"} and case.audience == "staff"
    assert case.perpetrator == "citizen_client" and not case.perpetrator_named
    assert case.incident_date == date(2026, 11, 18)
    rows = await outbox(storage)
    assert rows == [(index(storage, STAFF_COUNSELLOR), Party.COUNSELLOR, Notice.CASE_REPORT, None)]


async def test_a_known_reporter_reports_in_seven_inputs_and_profile_questions_are_not_asked_again(world, storage):
    anna = reporter()
    await file_report(world, anna, role="alderman")
    inputs = 0
    seen: list[str] = []
    out = await world.intake.start(anna)
    for label in ("forms.bribery", "when.yesterday", "channel.phone"):
        out = await world.press(anna, out, label)
        seen += keys(out)
        inputs += 1
    out = await world.intake.text(anna, "Een aannemer bood me een cadeaubon aan.")
    out = await world.press(anna, out, "perpetrator.business_unnamed")
    seen += keys(out)
    assert keys(out) == ["ask.wish"]
    assert last(out).params["progress"].params == {"n": 6, "total": 6}
    out = await world.press(anna, out, "wish.counsellor")
    out = await world.press(anna, out, "button.confirm")
    inputs += 4
    assert inputs == 7 and keys(out) == ["submitted"]
    assert not {"ask.role", "ask.department", "ask.work_process"} & set(seen)


async def test_departments_are_asked_once_and_remembered_and_shown_at_the_summary(storage, clock):
    world = World(storage, clock, departments=("Burgerzaken", "Handhaving"), work_processes=())
    anna = reporter()
    out = await world.intake.start(anna)
    for label in ("forms.threat", "when.today", "channel.in_person"):
        out = await world.press(anna, out, label)
    out = await world.intake.text(anna, "Hij dreigde me.")
    out = await world.press(anna, out, "perpetrator.unknown")
    out = await world.press(anna, out, "role.employee")
    assert keys(out) == ["ask.department"]
    assert last(out).params["progress"].params == {"n": 7, "total": 8}
    handhaving = next(c for row in last(out).keyboard for c in row if c.params.get("name") == "Handhaving")
    out = await world.intake.press(anna, handhaving.action)
    assert out.edit_pressed.before.params["answer"].params == {"name": "Handhaving"}
    assert keys(out) == ["ask.wish"]
    out = await world.press(anna, out, "wish.counsellor_and_register")
    summary = last(out)
    assert summary.params["profile"].params["lines"][0].params == {"department": "Handhaving"}
    case = await storage.cases.by_reference(reference_of(await world.press(anna, out, "button.confirm")))
    assert case.department == "Handhaving" and case.work_process is None
    assert (await storage.people.find(anna.telegram_id)).department == "Handhaving"
    # The next report knows it, and it can still be changed at the summary (for this report and the next).
    out = await world.intake.start(anna)
    for label in ("forms.other", "when.today", "channel.phone"):
        out = await world.press(anna, out, label)
    out = await world.intake.text(anna, "Weer gebeld.")
    out = await world.press(anna, out, "perpetrator.unknown")
    assert keys(out) == ["ask.wish"]
    out = await world.press(anna, out, "wish.counsellor")
    out = await world.press(anna, out, "button.change")
    out = await world.press(anna, out, "change.department")
    assert keys(out) == ["ask.department"]
    out = await world.press(anna, out, "department.option")  # the first: Burgerzaken
    assert keys(out) == ["summary"]
    assert (await world.intake.draft_for(anna)).department == "Burgerzaken"


async def test_without_a_department_list_there_is_no_department_question(world, storage):
    out = await file_report(world, reporter())
    case = await storage.cases.by_reference(reference_of(out))
    assert case.department is None
    assert "change.department" not in [
        c.label for row in (await world.intake.start(reporter(5010))).replies[-1].keyboard for c in row
    ]


async def test_a_department_from_an_invitation_is_not_asked_again(storage, clock):
    world = World(storage, clock, departments=("Burgerzaken", "Handhaving"))
    anna = reporter()
    person = await storage.people.ensure(
        telegram_id=anna.telegram_id, display_name="Anna", username=None, language="nl", now=clock.now()
    )
    expires = clock.now() + timedelta(days=1)
    invite_code = await storage.invites.create(
        role="employee", department="Handhaving", created_by=None, expires_at=expires, now=clock.now()
    )
    assert await storage.invites.redeem(invite_code, person.id, clock.now())
    out = await world.intake.start(anna)
    for label in ("forms.threat", "when.today", "channel.in_person"):
        out = await world.press(anna, out, label)
    out = await world.intake.text(anna, "Hij dreigde me.")
    out = await world.press(anna, out, "perpetrator.unknown")
    assert keys(out) == ["ask.work_process"]
    out = await world.press(anna, out, "work_process.option")  # the first: permits
    assert keys(out) == ["ask.wish"]
    assert (await world.intake.draft_for(anna)).work_process == "permits"
    assert (await storage.people.find(anna.telegram_id)).work_process == "permits"


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
    for label in ("forms.threat", "when.today", "channel.email"):
        out = await world.press(anna, out, label)
    out = await world.intake.text(anna, "Dreigmail ontvangen.")
    out = await world.press(anna, out, "perpetrator.citizen_unnamed")
    out = await world.press(anna, out, "role.employee")
    out = await world.press(anna, out, "work_process.skip")
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
    assert keys(out) == ["description.added", "ask.forms"]
    out = await world.press(anna, out, "forms.intimidation")
    out = await world.press(anna, out, "when.today")
    out = await world.press(anna, out, "channel.in_person")
    # The description is already there, so the description question is skipped.
    assert keys(out) == ["ask.perpetrator"]
    draft = await world.intake.draft_for(anna)
    assert draft.description == "Er stond iemand bij mijn auto te wachten."


async def test_an_account_typed_before_any_report_starts_one(world, storage):
    anna = reporter()
    out = await world.intake.text(anna, "Vanochtend aan de balie werd ik uitgescholden door een inwoner.")
    assert keys(out) == ["description.started_from_message", "ask.forms"]
    draft = await world.intake.draft_for(anna)
    assert draft.description.startswith("Vanochtend")


async def test_an_opening_typed_before_the_report_is_kept_and_the_account_is_still_asked_for(world, storage):
    anna = reporter()
    out = await world.intake.text(anna, "Hallo, ik wil iets kwijt over gisteren")
    for label in ("forms.verbal_aggression", "when.yesterday", "channel.in_person"):
        out = await world.press(anna, out, label)
    # The description step is not skipped: it shows what was kept and asks for the rest.
    assert keys(out) == ["ask.description_kept"]
    assert last(out).params["kept"] == "Hallo, ik wil iets kwijt over gisteren"
    out = await world.intake.text(anna, "Een man schreeuwde aan de balie dat hij me zou opwachten.")
    assert keys(out) == ["ask.perpetrator"]
    draft = await world.intake.draft_for(anna)
    assert draft.description == (
        "Hallo, ik wil iets kwijt over gisteren\n\nEen man schreeuwde aan de balie dat hij me zou opwachten."
    )


async def test_the_text_typed_first_can_be_the_whole_account(world, storage):
    anna = reporter()
    out = await world.intake.text(anna, "De wethouder kreeg een envelop met geld aangeboden door een aannemer.")
    for label in ("forms.bribery", "when.today", "channel.in_person"):
        out = await world.press(anna, out, label)
    out = await world.press(anna, out, "description.keep_text")
    assert keys(out) == ["ask.perpetrator"]
    assert (await world.intake.draft_for(anna)).description.startswith("De wethouder")


async def test_a_short_message_outside_a_report_gets_directions(world):
    out = await world.intake.text(reporter(), "hallo")
    assert keys(out) == ["outside_flow"]
    assert isinstance(button(out, "button.report"), StartReport)
    assert await world.intake.draft_for(reporter()) is None


async def test_over_long_text_is_refused_kindly_and_nothing_is_lost(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    for label in ("forms.threat", "when.today", "channel.in_person"):
        out = await world.press(anna, out, label)
    out = await world.intake.text(anna, "Eerste deel van het verhaal.")
    out = await world.intake.text(anna, "x" * MAX_DESCRIPTION)
    assert keys(out) == ["description.too_long", "ask.perpetrator"]
    draft = await world.intake.draft_for(anna)
    assert draft.description == "Eerste deel van het verhaal."


async def test_a_typed_date_is_understood_and_a_wrong_one_explained(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    out = await world.press(anna, out, "forms.threat")
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
    old = button(out, "forms.threat")
    await world.press(anna, await world.intake.cancel_command(anna), "button.cancel_yes")
    out = await world.intake.start(anna)
    out = await world.intake.press(anna, old)
    assert out.toast.key == "toast.stale"
    assert keys(out) == ["ask.forms"]
    assert (await world.intake.draft_for(anna)).forms == frozenset()


async def test_a_repeated_press_is_noted_once(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    threat = button(out, "forms.threat")
    await world.intake.press(anna, threat)
    again = await world.intake.press(anna, threat)
    assert again.toast.key == "toast.already_noted"
    assert again.replies == []
    assert (await world.intake.draft_for(anna)).step == Step.WHEN


async def test_a_forged_value_changes_nothing(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    draft = await world.intake.draft_for(anna)
    out = await world.intake.press(anna, Answer(tag_of(draft), Step.FORMS, "arson"))
    assert out.toast.key == "toast.invalid"
    assert (await world.intake.draft_for(anna)).forms == frozenset()


async def test_someone_else_cannot_press_my_buttons(world, storage):
    anna, bert = reporter(), reporter(7001, "Bert", None)
    out = await world.intake.start(anna)
    await world.intake.start(bert)
    forged = await world.intake.press(bert, button(out, "forms.threat"))
    assert forged.toast.key == "toast.stale"
    assert (await world.intake.draft_for(anna)).forms == frozenset()
    assert (await world.intake.draft_for(bert)).forms == frozenset()


async def test_cancel_asks_first_and_then_deletes_the_draft_with_its_files(world, storage):
    anna = reporter()
    await world.intake.start(anna)
    await world.intake.attachment(
        anna, IncomingAttachment(AttachmentKind.PHOTO, b"jpeg", None, "image/jpeg", None, None)
    )
    out = await world.intake.cancel_command(anna)
    assert keys(out) == ["ask.cancel"]
    out = await world.press(anna, out, "button.cancel_no")
    assert keys(out) == ["ask.forms"]
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
    out = await before.press(anna, out, "forms.violence")
    pending = button(out, "when.today")
    await first.close()

    second = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    after = World(second, clock, counsellors=(STAFF_COUNSELLOR, HOLDERS_COUNSELLOR))
    out = await after.intake.start(anna)
    assert keys(out) == ["draft.resume"]
    out = await after.intake.press(anna, pending)  # the button from before the restart still works
    assert keys(out) == ["ask.channel"]
    assert (await after.intake.draft_for(anna)).forms == {"violence"}
    await second.close()


async def test_changing_an_answer_from_the_summary_returns_to_the_summary(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    for label in ("forms.threat", "when.today", "channel.in_person"):
        out = await world.press(anna, out, label)
    out = await world.intake.text(anna, "Eerste versie.")
    out = await world.press(anna, out, "perpetrator.citizen_unnamed")
    out = await world.press(anna, out, "role.employee")
    out = await world.press(anna, out, "work_process.skip")
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
    for label in ("forms.intimidation", "when.today", "channel.online"):
        out = await world.press(anna, out, label)
    out = await world.intake.attachment(
        anna,
        IncomingAttachment(AttachmentKind.PHOTO, b"\xff\xd8shot", None, "image/jpeg", None, "Screenshot van de DM"),
    )
    assert keys(out) == ["attachment.kept", "ask.perpetrator"]
    out = await world.intake.attachment(
        anna, IncomingAttachment(AttachmentKind.DOCUMENT, b"%PDF", "brief.pdf", None, None, None)
    )
    assert keys(out) == ["attachment.kept"]
    draft = await world.intake.draft_for(anna)
    assert draft.attachment_count == 2 and draft.description == "Screenshot van de DM"


async def test_attachments_only_is_possible_after_saying_so(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    for label in ("forms.intimidation", "when.today", "channel.online"):
        out = await world.press(anna, out, label)
    out = await world.intake.attachment(anna, IncomingAttachment(AttachmentKind.PHOTO, b"x", None, None, None, None))
    assert keys(out) == ["attachment.kept", "ask.description_after_attachment"]
    out = await world.press(anna, out, "description.no_text")
    assert keys(out) == ["ask.perpetrator"]


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
    assert keys(out) == ["attachment.kept_new_report", "ask.forms"]


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
    for label in ("forms.threat", "when.today", "channel.in_person"):
        out = await world.press(anna, out, label)
    await world.intake.attachment(
        anna, IncomingAttachment(AttachmentKind.PHOTO, b"a", None, None, None, "Foto van de auto")
    )
    out = await world.intake.attachment(anna, IncomingAttachment(AttachmentKind.PHOTO, b"b", None, None, None, None))
    draft = await world.intake.draft_for(anna)
    out = await world.intake.press(anna, Answer(tag_of(draft), Step.PERPETRATOR, "other_unnamed"))
    out = await world.intake.press(anna, Answer(tag_of(draft), Step.ROLE, "employee"))
    out = await world.press(anna, out, "work_process.skip")
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


async def test_several_forms_are_ticked_in_place_and_one_press_still_answers_for_one(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    out = await world.press(anna, out, "forms.several")
    assert out.edit_pressed.key == "ask.forms_several"
    refused = await world.press(anna, out, "forms.done")  # nothing ticked yet: asked kindly to tick first
    assert refused.toast.key == "toast.choose_a_form"
    for form in ("threat_to_authority", "verbal_aggression", "threat"):
        tick = next(
            c.action
            for row in last(out).keyboard
            for c in row
            if c.label == "forms.unticked" and c.params["form"].key == f"forms.{form}"
        )
        out = await world.intake.press(anna, tick)
    untick = next(c.action for row in last(out).keyboard for c in row if c.params.get("form") == Label("forms.threat"))
    out = await world.intake.press(anna, untick)  # a second press takes it off again
    assert [c.label for row in last(out).keyboard for c in row].count("forms.ticked") == 2
    out = await world.press(anna, out, "forms.done")
    assert out.edit_pressed.key == "ask.when"
    echoed = out.edit_pressed.before.params["answer"]
    assert echoed.key == "forms.joined"  # in the question's order: verbal aggression first
    assert echoed.params["first"] == Label("forms.verbal_aggression")
    assert echoed.params["rest"] == Label("forms.threat_to_authority")
    assert (await world.intake.draft_for(anna)).forms == {"verbal_aggression", "threat_to_authority"}


async def test_another_form_is_added_from_the_summary_with_the_chosen_ones_ticked(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    for label in ("forms.threat", "when.today", "channel.in_person"):
        out = await world.press(anna, out, label)
    out = await world.intake.text(anna, "Hij dreigde naar de krant te stappen en mij op te wachten.")
    for label in ("perpetrator.citizen_named", "details.skip", "role.employee", "work_process.skip", "wish.counsellor"):
        out = await world.press(anna, out, label)
    out = await world.press(anna, out, "button.change")
    out = await world.press(anna, out, "change.forms")
    assert keys(out) == ["ask.forms_several"]
    ticked = [c.params["form"] for row in last(out).keyboard for c in row if c.label == "forms.ticked"]
    assert ticked == [Label("forms.threat")]
    add = next(
        c.action
        for row in last(out).keyboard
        for c in row
        if c.params.get("form") == Label("forms.threat_to_authority")
    )
    out = await world.intake.press(anna, add)
    out = await world.press(anna, out, "forms.done")
    assert keys(out) == ["summary"]
    case = await storage.cases.by_reference(reference_of(await world.press(anna, out, "button.confirm")))
    assert case.forms == {"threat", "threat_to_authority"}
    assert case.perpetrator == "citizen_client" and case.perpetrator_named


async def test_combining_with_reports_about_the_same_person_is_off_until_the_reporter_turns_it_on(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    for label in ("forms.intimidation", "when.today", "channel.online"):
        out = await world.press(anna, out, label)
    out = await world.intake.text(anna, "Hij volgt me online en stuurt berichten.")
    for label in ("perpetrator.citizen_unnamed", "role.employee", "work_process.skip", "wish.counsellor_and_register"):
        out = await world.press(anna, out, label)
    assert last(out).params["link"] == Label("summary.link_off")
    out = await world.press(anna, out, "toggle.link_off")
    assert out.edit_pressed.key == "summary" and out.edit_pressed.params["link"] == Label("summary.link_on")
    assert (await world.intake.draft_for(anna)).link_consent
    case = await storage.cases.by_reference(reference_of(await world.press(anna, out, "button.confirm")))
    assert case.link_consent
    assert not (await world.report(reporter(5002))).link_consent


async def test_the_work_process_is_asked_once_and_may_be_skipped_in_one_tap(world, storage):
    anna = reporter()
    await file_report(world, anna)  # skips it
    person = await storage.people.find(anna.telegram_id)
    assert person.work_process is None and person.work_process_asked
    out = await world.intake.start(anna)
    for label in ("forms.other", "when.today", "channel.letter"):
        out = await world.press(anna, out, label)
    out = await world.intake.text(anna, "Een boze brief.")
    out = await world.press(anna, out, "perpetrator.unknown")
    assert keys(out) == ["ask.wish"]
    out = await world.press(anna, out, "wish.counsellor")
    out = await world.press(anna, out, "button.change")
    out = await world.press(anna, out, "change.work_process")
    options = [c.params["name"] for row in last(out).keyboard for c in row if c.label == "work_process.option"]
    assert options[:2] == [Label("stats.work_process.permits"), Label("stats.work_process.enforcement")]
    enforcement = next(c.action for row in last(out).keyboard for c in row if c.params.get("name") == options[1])
    out = await world.intake.press(anna, enforcement)
    assert keys(out) == ["summary"]
    lines = last(out).params["profile"].params["lines"]
    assert lines == (Label("summary.work_process", {"work_process": Label("stats.work_process.enforcement")}),)
    case = await storage.cases.by_reference(reference_of(await world.press(anna, out, "button.confirm")))
    assert case.work_process == "enforcement"


async def test_a_forged_department_or_work_process_number_changes_nothing(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    draft = await world.intake.draft_for(anna)
    for step, value in ((Step.DEPARTMENT, "0"), (Step.WORK_PROCESS, "99"), (Step.CHANGE, "department")):
        out = await world.intake.press(anna, Answer(tag_of(draft), step, value))
        assert out.toast.key == "toast.invalid"
    assert (await world.intake.draft_for(anna)).step is Step.FORMS


async def test_who_knows_the_name_is_asked_what_else_they_know_and_it_is_kept_sealed(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    for label in ("forms.threat", "when.today", "channel.phone"):
        out = await world.press(anna, out, label)
    out = await world.intake.text(anna, "Hij belde en dreigde.")
    out = await world.press(anna, out, "perpetrator.citizen_named")
    assert keys(out) == ["ask.details"]
    assert last(out).params["progress"].params == {"n": 6, "total": 9}
    out = await world.press(anna, out, "perpetrator.kind.phone")
    assert out.edit_pressed.key == "ask.detail_value"
    out = await world.intake.text(anna, "06 12 34 56 78")
    assert keys(out) == ["ask.details"] and last(out).before == Label(
        "details.noted", {"kind": Label("perpetrator.kind.phone")}
    )
    out = await world.intake.text(anna, "Man van een jaar of vijftig, zware stem")  # typed without a kind
    out = await world.press(anna, out, "perpetrator.kind.name")
    out = await world.press(anna, out, "details.back")  # changed their mind: nothing is added
    assert out.edit_pressed.key == "ask.details"
    draft = await world.intake.draft_for(anna)  # kept in the sealed draft: a restart loses nothing
    assert draft.state.details == [
        ["phone", "06 12 34 56 78"],
        ["description", "Man van een jaar of vijftig, zware stem"],
    ]
    out = await world.press(anna, out, "details.done")
    assert out.edit_pressed.before.params["answer"] == Label("details.given", {"n": 2})
    for label in ("role.employee", "work_process.skip", "wish.counsellor"):
        out = await world.press(anna, out, label)
    assert len(last(out).params["details"].params["lines"]) == 2
    case = await storage.cases.by_reference(reference_of(await world.press(anna, out, "button.confirm")))
    details = await storage.cases.perpetrator_details(case.id)
    assert [(d.kind, d.value, d.added_by) for d in details] == [
        ("phone", "06 12 34 56 78", "reporter"),
        ("description", "Man van een jaar of vijftig, zware stem", "reporter"),
    ]
    phone, description = details
    assert phone.index == detail_index(storage.vault, IdentifierKind.PHONE, "+31612345678")
    assert description.index is None  # a description never links reports
    async with storage.db.transaction() as conn:
        async with conn.execute("SELECT value FROM perpetrator_details") as cursor:
            stored = b"".join(bytes(row[0]) for row in await cursor.fetchall())
    assert b"12 34 56" not in stored and b"vijftig" not in stored
    assert [e.detail for e in await storage.audit.entries() if e.action == "submitted"]  # the trail has no values


async def test_who_does_not_know_the_name_skips_the_details_and_can_still_add_them_from_the_summary(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    for label in ("forms.violence", "when.today", "channel.in_person"):
        out = await world.press(anna, out, label)
    out = await world.intake.text(anna, "Hij trapte tegen mijn auto en reed weg.")
    out = await world.press(anna, out, "perpetrator.citizen_unnamed")
    assert keys(out) == ["ask.role"]
    for label in ("role.employee", "work_process.skip", "wish.counsellor", "button.change", "change.details"):
        out = await world.press(anna, out, label)
    assert keys(out) == ["ask.details"]
    out = await world.press(anna, out, "perpetrator.kind.plate")
    out = await world.intake.text(anna, "12-ABC-3")
    out = await world.press(anna, out, "details.done")
    assert keys(out) == ["summary"]
    case = await storage.cases.by_reference(reference_of(await world.press(anna, out, "button.confirm")))
    (plate,) = await storage.cases.perpetrator_details(case.id)
    assert plate.index == detail_index(storage.vault, IdentifierKind.PLATE, "12ABC3")


async def test_a_detail_that_is_too_long_is_refused_kindly(world, storage):
    anna = reporter()
    out = await world.intake.start(anna)
    for label in ("forms.threat", "when.today", "channel.online"):
        out = await world.press(anna, out, label)
    out = await world.intake.text(anna, "Bedreigd via Instagram.")
    out = await world.press(anna, out, "perpetrator.other_named")
    out = await world.press(anna, out, "perpetrator.kind.handle")
    out = await world.intake.text(anna, "x" * 201)
    assert keys(out) == ["details.too_long", "ask.detail_value"]
    assert (await world.intake.draft_for(anna)).state.details == []


async def test_a_department_may_be_typed_instead_of_pressed(storage, clock):
    world = World(storage, clock, departments=("Burgerzaken", "Handhaving"), work_processes=())
    anna = reporter()
    out = await world.intake.start(anna)
    for label in ("forms.threat", "when.today", "channel.in_person"):
        out = await world.press(anna, out, label)
    out = await world.intake.text(anna, "Hij dreigde me.")
    for label in ("perpetrator.unknown", "role.employee"):
        out = await world.press(anna, out, label)
    out = await world.intake.text(anna, "handhaving")
    assert keys(out) == ["ask.wish"]
    assert (await world.intake.draft_for(anna)).department == "Handhaving"
    assert (await storage.people.find(anna.telegram_id)).department == "Handhaving"
