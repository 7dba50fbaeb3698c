"""End to end: the real bot, python-telegram-bot's real HTTP and polling, the real database,
against the Bot API emulator on 127.0.0.1. Scenarios as a reporter and a counsellor live them."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e import COORDINATOR_ID, HOLDERS_COUNSELLOR_ID, STAFF_COUNSELLOR_ID, BotUnderTest

pytestmark = pytest.mark.e2e


async def file_report(
    user,
    *,
    category="Bedreiging",
    text="Hij dreigde me op te wachten.",
    role="Medewerker",
    wish="Vertrouwelijk gesprek",
    attachments=(),
    perpetrator="Inwoner of klant, naam onbekend",
    details=(),
):
    """Walk the shortest path as a Dutch-speaking reporter; returns the confirmation message.
    (A pressed answer turns its question into the next one; a typed answer gets a new message.)"""
    await user.command("/start")
    await user.next_screen(lambda m: "112" in m.text)
    await user.press("Melding maken")
    await user.next_screen(lambda m: "Wat is er gebeurd?" in m.text)
    await user.press(category)
    await user.next_screen(lambda m: "Wanneer gebeurde het?" in m.text)
    await user.press("Vandaag")
    await user.next_screen(lambda m: "Op welke manier gebeurde het?" in m.text)
    await user.press("Persoonlijk")
    await user.next_screen(lambda m: "eigen woorden" in m.text)
    for send in attachments:
        await send()
        await user.next_screen(lambda m: "Bewaard" in m.text)
    await user.send(text)
    await user.next_screen(lambda m: "Wie deed het?" in m.text)
    await user.press(perpetrator)
    if "naam bekend" in perpetrator:  # asked what else they know: each detail a kind and a typed value
        await user.next_screen(lambda m: "Wat weet je van diegene?" in m.text)
        for kind, value in details:
            await user.press(kind)
            await user.next_screen(lambda m: "typ het hieronder" in m.text)
            await user.send(value)
            await user.next_screen(lambda m: "genoteerd" in m.text)
        await user.press("Klaar" if details else "Overslaan")
    prompt = await user.next_screen(lambda m: "Wat is je rol" in m.text or "Wat wil je met je melding" in m.text)
    if "Wat is je rol" in prompt.text:
        await user.press(role)
        await user.next_screen(lambda m: "In welk werk" in m.text)
        await user.press("Overslaan")
        await user.next_screen(lambda m: "Wat wil je met je melding" in m.text)
    await user.press(wish)
    await user.next_screen(lambda m: "Klopt dit?" in m.text)
    await user.press("Versturen")
    return await user.next_screen(lambda m: "Je melding is verstuurd" in m.text)


def reference_in(message) -> str:
    import re

    return re.search(r"MB-[0-9A-Z]{4}-[0-9A-Z]{4}", message.text).group(0)


async def test_an_employee_reports_a_threat_with_a_photo_and_the_counsellor_acknowledges_it(emu, meldbot):
    anna = emu.user(5001, first_name="Anna", last_name="de Vries", username="annadv", language_code="nl")
    photo = b"\xff\xd8\xff\xe0 photo of the scratched car"
    confirmation = await file_report(anna, attachments=[lambda: anna.send_photo(photo, caption="De kras op mijn auto")])
    reference = reference_in(confirmation)
    assert "binnen 24 uur" in confirmation.text
    assert any("verwijderen" in label for label, _ in confirmation.buttons)

    carla = emu.user(STAFF_COUNSELLOR_ID)
    report = await carla.wait_for_message(lambda m: reference in m.text)
    assert report.protect_content
    assert "Anna de Vries (@annadv)" in report.text
    assert "Hij dreigde me op te wachten." in report.text and "De kras op mijn auto" in report.text
    picture = await carla.wait_for_message(lambda m: m.media_type == "photo")
    assert picture.file_bytes == photo and picture.protect_content and reference in picture.text

    await carla.press("Ontvangst bevestigen")
    await carla.wait_for_message(lambda m: "Je hebt de ontvangst" in m.text)
    # The report now offers what one does with an acknowledged case.
    buttons = [label for label, _ in carla.chat.get(report.message_id).buttons]
    assert "✅ Ontvangst bevestigen" not in buttons and "✉️ Bericht aan melder" in buttons
    told = await anna.wait_for_message(lambda m: "gelezen" in m.text)
    assert reference in told.text
    # The counsellor for office holders never saw an employee's report.
    assert all(reference not in m.text for m in emu.user(HOLDERS_COUNSELLOR_ID).chat.messages)
    emu.assert_healthy()


async def test_the_first_line_of_the_welcome_is_about_112_and_english_follows_telegram(emu, meldbot):
    john = emu.user(5002, first_name="John", language_code="en")
    await john.command("/start")
    welcome = await john.next_message()
    assert welcome.text.splitlines()[0] == "🆘 In immediate danger? Call 112."
    assert "Vertrouwenspersoon medewerkers" in welcome.text
    assert [label for label, _ in welcome.buttons] == ["📝 Make a report"]
    await john.command("/language")
    await john.wait_for_message(lambda m: "Which language" in m.text)
    await john.press("Nederlands")
    await john.wait_for_edit(lambda m: "Nederlands" in m.text)
    await john.command("/start")
    assert (await john.next_message()).text.startswith("🆘 Direct gevaar? Bel 112.")
    emu.assert_healthy()


async def test_a_council_member_reaches_the_counsellor_for_office_holders_in_english(emu, meldbot):
    ria = emu.user(6001, first_name="Ria", language_code="nl")
    confirmation = await file_report(ria, role="Raadslid", wish="Gesprek én registreren")
    reference = reference_in(confirmation)
    henk = emu.user(HOLDERS_COUNSELLOR_ID)
    report = await henk.wait_for_message(lambda m: reference in m.text)
    assert "New report" in report.text and "Council member" in report.text and "Ria" in report.text
    coby = emu.user(COORDINATOR_ID)
    registration = await coby.wait_for_message(lambda m: reference in m.text)
    assert "Ria" not in registration.text  # name sharing with the coordinator is off unless switched on
    await coby.press("Registratie bevestigen")
    await ria.wait_for_message(lambda m: "geregistreerd" in m.text)
    assert all(reference not in m.text for m in emu.user(STAFF_COUNSELLOR_ID).chat.messages)
    emu.assert_healthy()


async def test_an_anonymous_registration_carries_no_name_username_or_id(emu, meldbot):
    piet = emu.user(777666555, first_name="Pietje", last_name="Puk", username="pietjepuk", language_code="nl")
    confirmation = await file_report(piet, wish="Alleen anoniem registreren")
    reference = reference_in(confirmation)
    coby = emu.user(COORDINATOR_ID)
    await coby.wait_for_message(lambda m: reference in m.text)
    for request in emu.calls(chat_id=COORDINATOR_ID):
        sent = repr(request.params)
        assert "Pietje" not in sent and "Puk" not in sent and "pietjepuk" not in sent and "777666555" not in sent
    assert all(reference not in m.text for m in emu.user(STAFF_COUNSELLOR_ID).chat.messages)
    emu.assert_healthy()


async def test_several_reporters_at_once_each_reach_their_counsellor(emu, meldbot):
    people = [emu.user(7000 + n, first_name=f"Melder{n}", language_code="nl") for n in range(6)]
    confirmations = await asyncio.gather(
        *(
            file_report(p, text=f"Verhaal nummer {n}", role="Raadslid" if n % 2 else "Medewerker")
            for n, p in enumerate(people)
        )
    )
    references = [reference_in(c) for c in confirmations]
    assert len(set(references)) == 6
    for n, reference in enumerate(references):
        counsellor = emu.user(HOLDERS_COUNSELLOR_ID if n % 2 else STAFF_COUNSELLOR_ID)
        report = await counsellor.wait_for_message(lambda m, r=reference: r in m.text, timeout=10)
        assert f"Verhaal nummer {n}" in report.text
    emu.assert_healthy()


async def test_user_text_full_of_html_reaches_the_counsellor_literally(emu, meldbot):
    tricky = 'Hij riep <b>"ik weet waar je woont"</b> & <a href="x">klik</a> </i> &amp; <tg-spoiler>'
    anna = emu.user(5003, first_name="<i>Anna</i> & co", language_code="nl")
    confirmation = await file_report(anna, text=tricky)
    report = await emu.user(STAFF_COUNSELLOR_ID).wait_for_message(lambda m: reference_in(confirmation) in m.text)
    assert tricky in report.text
    assert "<i>Anna</i> & co" in report.text
    assert report.entities and all(e["type"] == "bold" for e in report.entities)  # only our own markup
    emu.assert_healthy()


async def test_a_long_account_is_split_into_messages_telegram_accepts(emu, meldbot):
    long_text = " ".join(f"zin{n} over wat er gebeurde." for n in range(240))  # ~7,000 characters, in parts
    anna = emu.user(5004, first_name="Anna", language_code="nl")
    await anna.command("/report")
    await anna.wait_for_message(lambda m: "Wat is er gebeurd?" in m.text)
    await anna.send(long_text[:4000])
    await anna.wait_for_message(lambda m: "Wat is er gebeurd?" in m.text)
    await anna.send(long_text[4000:])
    added = await anna.wait_for_message(lambda m: "Toegevoegd" in m.text and "6851" in m.text)
    assert "van 8000 tekens" in added.text
    await anna.wait_for_message(lambda m: "Wat is er gebeurd?" in m.text)  # the question again, below
    for label, question in (
        ("Bedreiging", "Wanneer"),
        ("Gisteren", "Op welke manier"),
        ("Telefonisch", "Wie deed het"),
        ("Iemand anders, naam onbekend", "Wat is je rol"),
        ("Medewerker", "In welk werk"),
        ("Overslaan", "Wat wil je"),
        ("Vertrouwelijk gesprek", "Klopt dit"),
    ):
        await anna.press(label)
        await anna.next_screen(lambda m, q=question: q in m.text)
    await anna.press("Versturen")
    reference = reference_in(await anna.next_screen(lambda m: "verstuurd" in m.text))
    carla = emu.user(STAFF_COUNSELLOR_ID)
    await carla.wait_for_message(lambda m: reference in m.text and "volgt hieronder" in m.text)
    parts = [await carla.wait_for_message(lambda m: "beschrijving deel" in m.text) for _ in range(2)]
    received = "".join(p.text.split(":\n\n", 1)[1] for p in parts)
    assert received.replace(" ", "").replace("\n", "") == (long_text[:4000] + long_text[4000:]).replace(" ", "")
    assert all(len(p.text) <= 4096 for p in parts)
    emu.assert_healthy()


async def test_the_conversation_can_be_removed_from_the_reporters_chat(emu, meldbot):
    anna = emu.user(5005, first_name="Anna", language_code="nl")
    confirmation = await file_report(anna)
    before = {m.message_id for m in anna.chat.messages}
    answer = await anna.press("verwijderen")
    assert "kenmerk" in answer.text.lower() and answer.show_alert
    await emu.wait_for_request("deleteMessages")
    remaining = [m for m in anna.chat.messages]
    # Only the /start exchange before the report button remains: nothing of the report itself.
    assert all("Bedreiging" not in m.text and "dreigde" not in m.text for m in remaining)
    assert confirmation.message_id not in {m.message_id for m in remaining}
    assert len(remaining) < len(before)
    emu.assert_healthy()


async def test_a_report_made_while_the_counsellor_has_not_started_the_bot_arrives_once_they_do(
    emu, tmp_path, captured_logs
):
    bot = BotUnderTest(emu, tmp_path, counsellors=[{"telegram_id": 1099, "name": "Nieuwe VP", "serves": ["staff"]}])
    await bot.start()
    try:
        anna = emu.user(5006, first_name="Anna", language_code="nl")
        reference = reference_in(await file_report(anna))
        # Telegram answers "chat not found" for someone who never wrote to the bot.
        await emu.wait_for_request("sendMessage", lambda r: r.chat_id == 1099 and r.status == 400)
        newcomer = emu.user(1099, first_name="Nina", language_code="nl")
        await newcomer.command("/start")
        report = await newcomer.wait_for_message(lambda m: reference in m.text, timeout=10)
        assert report.protect_content
        assert "counsellors #1 in the configuration cannot be reached" in captured_logs.text
        assert len([m for m in newcomer.chat.messages if reference in m.text]) == 1
    finally:
        await bot.stop()
    # Refused: writing to (or setting the menu of) staff who never opened the bot.
    refused = {(r.method, r.chat_id or r.params.get("scope", {}).get("chat_id")) for r in emu.failed_requests()}
    assert {chat for _, chat in refused} <= {1099, 2001}
    assert {method for method, _ in refused} <= {"sendMessage", "getChat", "setMyCommands"}
    emu.assert_healthy(allow_failed_requests=True)


async def test_a_notification_that_meets_429_and_500_is_retried_and_arrives_exactly_once(emu, meldbot):
    emu.inject_fault(method="sendMessage", chat_id=STAFF_COUNSELLOR_ID, status=429, retry_after=1, times=1)
    emu.inject_fault(method="sendMessage", chat_id=STAFF_COUNSELLOR_ID, status=500, times=1)
    emu.inject_fault(method="sendMessage", chat_id=STAFF_COUNSELLOR_ID, kind="drop", times=1)
    anna = emu.user(5007, first_name="Anna", language_code="nl")
    reference = reference_in(await file_report(anna))
    carla = emu.user(STAFF_COUNSELLOR_ID)
    await carla.wait_for_message(lambda m: reference in m.text, timeout=20)
    await asyncio.sleep(1.5)
    assert len([m for m in carla.chat.messages if reference in m.text]) == 1
    assert emu.faults_served == 3
    emu.assert_healthy()


async def test_with_no_counsellor_for_the_group_the_reporter_is_told_honestly_and_the_report_kept(
    emu, tmp_path, captured_logs
):
    bot = BotUnderTest(
        emu, tmp_path, counsellors=[{"telegram_id": STAFF_COUNSELLOR_ID, "name": "VP", "serves": ["staff"]}]
    )
    await bot.start()
    try:
        assert "no counsellor serves office holders" in captured_logs.text
        wethouder = emu.user(6002, first_name="Wim", language_code="nl")
        confirmation = await file_report(wethouder, role="Wethouder")
        assert "nog geen vertrouwenspersoon" in confirmation.text
        reference = reference_in(confirmation)
        case = await bot.storage.cases.by_reference(reference)
        assert case.status == "new" and case.description == "Hij dreigde me op te wachten."
    finally:
        await bot.stop()
    # The next start has a counsellor for office holders: the waiting report goes out.
    henk = emu.user(HOLDERS_COUNSELLOR_ID, first_name="Henk", language_code="en")
    await henk.command("/start")
    staffed = BotUnderTest(emu, tmp_path)
    await staffed.start()
    try:
        await henk.wait_for_message(lambda m: reference in m.text, timeout=10)
    finally:
        await staffed.stop()
    # The only refusals: start-up checks (and menus) for staff who had not opened the bot yet.
    assert {(r.method, r.description) for r in emu.failed_requests()} <= {
        ("getChat", "Bad Request: chat not found"),
        ("setMyCommands", "Bad Request: chat not found"),
    }
    emu.assert_healthy(allow_failed_requests=True)
