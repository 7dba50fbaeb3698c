"""Every notification the outbox can carry renders, with its buttons, in both languages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import messages
from bot import render
from flows.aftercare import AftercarePlan, SupportContact
from flows.dossiers import DossierDocument
from flows.lifecycle import Notice, Party, PoliceStep, Thread
from flows.notices import FileNotice
from flows.privacy import Organisation
from storage.outbox import OutboxItem
from tests.support import COORDINATOR, STAFF_COUNSELLOR, World, reporter, staff

KINDS = sorted(Notice)


@pytest.mark.parametrize("language", messages.LANGUAGES)
async def test_every_kind_of_notification_renders_with_its_buttons(storage, clock, language):
    plan = AftercarePlan(support=(SupportContact("legal", "Juridisch loket", "0900-8020"),))
    world = World(storage, clock, plan=plan, organisation=Organisation("Gemeente", "Postbus 1", "privacy@example.nl"))
    anna = reporter(5001, "Anna <b>&</b>", "anna")
    case = await world.report(anna, wish="counsellor_and_register", text="Een lang verhaal " * 300)
    await world.casework.record_action(staff(COORDINATOR), case.reference, "access_ban", "completed")
    await world.relay.text(staff(COORDINATOR), "Toelichting <i>met</i> tekens & zo")
    await world.casework.start_message(staff(STAFF_COUNSELLOR), case.reference)
    await world.relay.text(staff(STAFF_COUNSELLOR), "Een bericht")
    await world.services.tracks.police(staff(COORDINATOR), case.reference, PoliceStep.REPORTED)
    await world.relay.text(staff(COORDINATOR), "PL0900-2026123456 vandaag")
    (police,) = await storage.casefile.police_steps(case.id)
    case = await storage.cases.get(case.id)
    action = (await storage.casefile.actions(case.id))[0]
    message = (await storage.casefile.messages(case.id, (Thread.COUNSELLOR,)))[0]
    refs = {
        Notice.CASE_TEXT: "0",
        Notice.CASE_ATTACHMENT: None,
        Notice.RELAY: message.id,
        Notice.CASE_ADDITION: message.id,
        Notice.CONSENT_ANSWER: "anonymous",
        Notice.CASE_ERASED: case.reference,
        Notice.REPORTER_STATUS: "in_progress",
        Notice.CHECK_IN: "3",
        Notice.CHECKIN_ALERT: "talk",
        Notice.ACTION_FEEDBACK: action.id,
        Notice.SILENCE_REMINDER: "8",
        Notice.POLICE_FEEDBACK: police.id,
        Notice.POLICE_NEWS: police.id,
        Notice.PULSE: "2026q4",
        Notice.DOSSIER_QUESTION: "coordinator",
        Notice.DOSSIER: "nm",
        Notice.QUARTERLY_SUMMARY: "2026-3",  # the quarter before the clock's
    }
    notices = world.notices
    reporter_kinds = {k for k in KINDS if k.startswith("reporter_")} | {
        Notice.CONSENT_REQUEST,
        Notice.CHECK_IN,
        Notice.TIPS,
        Notice.REOFFER,
        Notice.ACTION_FEEDBACK,
        Notice.SURVEY,
        Notice.RELAY,
        Notice.POLICE_FEEDBACK,
        Notice.DAMAGES_FEEDBACK,
        Notice.PULSE,
        Notice.DOSSIER_QUESTION,
        Notice.DOSSIER_COPY,
        Notice.NOT_ALONE,
    }
    rendered = 0
    for kind in KINDS:
        if kind in (Notice.CASE_ATTACHMENT, Notice.RELAY_FILE):
            continue  # the report has no files here; files are covered end to end
        for party in Party:
            if (party is Party.REPORTER) != (kind in reporter_kinds) and kind is not Notice.RELAY:
                continue
            item = OutboxItem("x", case.id, b"i" * 32, party, kind, refs.get(kind), 0, 1, clock.now())
            notice = await notices.compose(item, language)
            reply = notice.caption if isinstance(notice, FileNotice | DossierDocument) else notice
            text = render.text(language, reply)
            assert text.strip(), kind
            assert "<b>&</b>" not in text  # user text is escaped
            render.keyboard(language, reply.keyboard)
            rendered += 1
    assert rendered >= len(KINDS) - 1


async def test_a_check_in_names_the_local_day_of_the_report_however_soon_it_comes(storage, clock):
    """A check-in half a day after the report used to say "0 dagen geleden"; it names the day instead."""
    clock.current = datetime(2026, 11, 18, 23, 30, tzinfo=UTC)  # already 19 November in Amsterdam
    world = World(storage, clock, plan=AftercarePlan())
    case = await world.report(reporter(5002, "Bram", "bram"))
    clock.advance(hours=12)
    item = OutboxItem("x", case.id, b"i" * 32, Party.REPORTER, Notice.CHECK_IN, "0", 0, 1, clock.now())
    dutch = render.text("nl", await world.notices.compose(item, "nl"))
    english = render.text("en", await world.notices.compose(item, "en"))
    assert "Op 19 november 2026 deed je een melding" in dutch and "dagen" not in dutch
    assert "On 19 November 2026 you made a report" in english and "days" not in english
