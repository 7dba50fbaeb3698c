"""Every notification the outbox can carry renders, with its buttons, in both languages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import messages
from bot import render
from flows import routing
from flows.aftercare import AftercarePlan, SupportContact
from flows.notices import FileNotice, Notices
from storage.outbox import OutboxItem
from tests.conftest import AMSTERDAM, COORDINATOR, STAFF_COUNSELLOR, reporter
from tests.test_casework import World, staff

KINDS = sorted(
    value
    for name, value in vars(routing).items()
    if name.isupper() and isinstance(value, str) and name not in ("COUNSELLOR", "COORDINATOR", "REPORTER")
)


@pytest.mark.parametrize("language", messages.LANGUAGES)
async def test_every_kind_of_notification_renders_with_its_buttons(storage, clock, language):
    plan = AftercarePlan(support=(SupportContact("legal", "Juridisch loket", "0900-8020"),))
    world = World(storage, clock, plan=plan)
    anna = reporter(5001, "Anna <b>&</b>", "anna")
    case = await world.report(anna, wish="counsellor_and_register", text="Een lang verhaal " * 300)
    await world.casework.record_action(staff(COORDINATOR), case.reference, "access_ban.completed")
    await world.relay.text(staff(COORDINATOR), "Toelichting <i>met</i> tekens & zo")
    await world.casework.start_message(staff(STAFF_COUNSELLOR), case.reference)
    await world.relay.text(staff(STAFF_COUNSELLOR), "Een bericht")
    case = await storage.cases.get(case.id)
    action = (await storage.casefile.actions(case))[0]
    message = (await storage.casefile.messages(case, ("counsellor",)))[0]
    refs = {
        routing.CASE_TEXT: "0",
        routing.CASE_ATTACHMENT: None,
        routing.RELAY: message.id,
        routing.CASE_ADDITION: message.id,
        routing.CONSENT_ANSWER: "anonymous",
        routing.CASE_ERASED: case.reference,
        routing.REPORTER_STATUS: "in_progress",
        routing.CHECK_IN: "3",
        routing.CHECKIN_ALERT: "talk",
        routing.ACTION_FEEDBACK: action.id,
        routing.SILENCE_REMINDER: "8",
    }
    notices = Notices(storage, world.router, AMSTERDAM, clock, world.aftercare)
    reporter_kinds = {k for k in KINDS if k.startswith("reporter_")} | {
        routing.CONSENT_REQUEST,
        routing.CHECK_IN,
        routing.TIPS,
        routing.REOFFER,
        routing.ACTION_FEEDBACK,
        routing.SURVEY,
        routing.RELAY,
    }
    rendered = 0
    for kind in KINDS:
        if kind in (routing.CASE_ATTACHMENT, routing.RELAY_FILE):
            continue  # the report has no files here; files are covered end to end
        for role in ("reporter", "counsellor", "coordinator"):
            if (role == "reporter") != (kind in reporter_kinds) and kind != routing.RELAY:
                continue
            item = OutboxItem("x", case.id, b"i" * 32, role, kind, refs.get(kind), 0, 1, clock.now())
            notice = await notices.compose(item, language)
            reply = notice.caption if isinstance(notice, FileNotice) else notice
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
    notices = Notices(storage, world.router, AMSTERDAM, clock, world.aftercare)
    item = OutboxItem("x", case.id, b"i" * 32, "reporter", routing.CHECK_IN, "0", 0, 1, clock.now())
    dutch = render.text("nl", await notices.compose(item, "nl"))
    english = render.text("en", await notices.compose(item, "en"))
    assert "Op 19 november 2026 deed je een melding" in dutch and "dagen" not in dutch
    assert "On 19 November 2026 you made a report" in english and "days" not in english
