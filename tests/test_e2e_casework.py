"""End to end, each role through the emulator: counsellors, coordinators and reporters at work."""

from __future__ import annotations

import asyncio

import pytest

from tests.e2e import COORDINATOR_ID, HOLDERS_COUNSELLOR_ID, STAFF_COUNSELLOR_ID, BotUnderTest
from tests.test_e2e_report import file_report, reference_in

pytestmark = pytest.mark.e2e


async def test_a_counsellor_and_a_reporter_talk_through_the_bot(emu, meldbot):
    anna = emu.user(5201, first_name="Anna", last_name="Jansen", language_code="nl")
    reference = reference_in(await file_report(anna))
    carla = emu.user(STAFF_COUNSELLOR_ID)
    await carla.wait_for_message(lambda m: reference in m.text)
    await carla.command("/inbox")
    inbox = await carla.wait_for_message(lambda m: "Je meldingen" in m.text)
    assert f"● {reference}" in inbox.text
    await carla.press(reference)
    view = await carla.wait_for_message(lambda m: m.text.startswith(f"📁 {reference}"))
    assert view.protect_content and "Anna Jansen" in view.text
    await carla.press("Ontvangst bevestigen")
    await anna.wait_for_message(lambda m: "gelezen" in m.text)
    await carla.press("Bericht aan melder")
    await carla.wait_for_message(lambda m: "Typ je bericht" in m.text)
    await carla.send("Dank je wel. Wil je morgen om 10 uur bellen?")
    await carla.wait_for_message(lambda m: "Verstuurd aan de melder" in m.text)
    message = await anna.wait_for_message(lambda m: "Je vertrouwenspersoon (Vertrouwenspersoon medewerkers)" in m.text)
    assert "morgen om 10 uur" in message.text
    await anna.press("Antwoorden")
    await anna.wait_for_message(lambda m: "Typ je bericht voor je vertrouwenspersoon" in m.text)
    await anna.send_photo(b"\xff\xd8 screenshot", caption="Ja, prima. Dit stuurde hij gisteren nog.")
    await anna.wait_for_message(lambda m: "is verstuurd" in m.text)
    relayed = await carla.wait_for_message(lambda m: "Anna Jansen over" in m.text)
    assert "Dit stuurde hij gisteren nog." in relayed.text and relayed.protect_content
    picture = await carla.wait_for_message(lambda m: m.media_type == "photo")
    assert picture.file_bytes == b"\xff\xd8 screenshot"
    await carla.press("Notitie")
    await carla.wait_for_message(lambda m: "Typ je notitie" in m.text)
    await carla.send("Belafspraak morgen 10:00.")
    await carla.wait_for_message(lambda m: "Notitie bewaard" in m.text)
    await carla.command(f"/case {reference}")
    await carla.wait_for_message(lambda m: m.text.startswith(f"📁 {reference}"))
    await carla.press("Status")
    await carla.wait_for_message(lambda m: "Welke status" in m.text)
    await carla.press("afgesloten")
    closing = await anna.wait_for_message(lambda m: "is afgesloten" in m.text)
    assert "vond je de nazorg en de terugkoppeling genoeg?" in closing.text
    await anna.press("Deels")
    await anna.wait_for_message(lambda m: "Wil je er iets over kwijt" in m.text)
    await anna.send("Het bellen hielp, maar het duurde lang.")
    await anna.wait_for_message(lambda m: "bewaard" in m.text)
    case = await meldbot.storage.cases.by_reference(reference)
    assert await meldbot.storage.casefile.survey(case.id) == ("partly", "Het bellen hielp, maar het duurde lang.")
    await anna.command("/mycases")
    mine = await anna.wait_for_message(lambda m: "Je meldingen" in m.text)
    assert reference in mine.text and "afgesloten" in mine.text
    emu.assert_healthy()


async def test_the_coordinator_keeps_the_register_and_never_sees_an_anonymous_reporter(emu, meldbot):
    piet = emu.user(5202, first_name="Pietje", last_name="Geheim", username="pietgeheim", language_code="nl")
    reference = reference_in(await file_report(piet, wish="Alleen anoniem registreren"))
    coby = emu.user(COORDINATOR_ID)
    await coby.wait_for_message(lambda m: reference in m.text)
    await coby.command("/register")
    register = await coby.wait_for_message(lambda m: "Incidentregister" in m.text)
    assert reference in register.text
    await coby.press("Status: alle")
    await coby.wait_for_edit(lambda m: "Status: open" in " ".join(label for label, _ in m.buttons))
    await coby.press(reference)
    await coby.wait_for_message(lambda m: m.text.startswith(f"📁 {reference}") and "anoniem" in m.text)
    await coby.press("Registratie bevestigen")
    await piet.wait_for_message(lambda m: "geregistreerd" in m.text)
    await coby.press("Actie vastleggen")
    await coby.wait_for_message(lambda m: "Welke reactie naar de dader" in m.text)
    await coby.press("Waarschuwings- of normbrief")
    await coby.wait_for_edit(lambda m: "hoe staat het ervoor" in m.text)
    await coby.press("afgerond")
    await coby.wait_for_message(lambda m: "Wil je er een toelichting bij zetten" in m.text)
    await coby.send("Brief verstuurd op 20 november.")
    await coby.wait_for_message(lambda m: "Toelichting bewaard" in m.text)
    await piet.command("/mycases")
    await piet.wait_for_message(lambda m: reference in m.text and "Waarschuwings- of normbrief" in m.text)
    for request in emu.calls(chat_id=COORDINATOR_ID):
        sent = repr(request.params)
        for marker in ("Pietje", "Geheim", "pietgeheim", "5202"):
            assert marker not in sent
    emu.assert_healthy()


async def test_with_consent_the_coordinator_joins_without_the_name(emu, meldbot):
    ria = emu.user(5203, first_name="Ria", last_name="Zwijgzaam", language_code="nl")
    reference = reference_in(await file_report(ria))
    carla, coby = emu.user(STAFF_COUNSELLOR_ID), emu.user(COORDINATOR_ID)
    await carla.wait_for_message(lambda m: reference in m.text)
    await carla.command(f"/case {reference}")
    await carla.wait_for_message(lambda m: m.text.startswith(f"📁 {reference}"))
    assert all(reference not in m.text for m in coby.chat.messages)
    await carla.press("Toestemming vragen")
    await carla.wait_for_message(lambda m: "is gevraagd" in m.text)
    await ria.wait_for_message(lambda m: "ook naar de coördinator" in m.text)
    await ria.press("Ja, zonder mijn naam")
    await ria.wait_for_edit(lambda m: "zonder je naam" in m.text)
    shared = await coby.wait_for_message(lambda m: reference in m.text)
    assert "toestemming" in shared.text and "anoniem" in shared.text
    await carla.wait_for_message(lambda m: "geeft toestemming" in m.text)
    for request in emu.calls(chat_id=COORDINATOR_ID):
        assert "Zwijgzaam" not in repr(request.params) and "Ria" not in repr(request.params)
    emu.assert_healthy()


async def test_the_menus_differ_per_role(emu, meldbot):
    counsellor = [c["command"] for c in emu.commands({"type": "chat", "chat_id": STAFF_COUNSELLOR_ID})]
    coordinator = [c["command"] for c in emu.commands({"type": "chat", "chat_id": COORDINATOR_ID})]
    reporters = [c["command"] for c in emu.commands({"type": "default"}, "nl")]
    assert "inbox" in counsellor and "register" not in counsellor
    assert "register" in coordinator and "inbox" not in coordinator
    assert "inbox" not in reporters and "register" not in reporters and "mycases" in reporters
    anna = emu.user(5204, first_name="Anna", language_code="nl")
    await anna.command("/inbox")
    assert "alleen voor vertrouwenspersonen" in (await anna.next_message()).text
    await anna.command("/case MB-2222-3333")
    assert "kan ik niet voor je openen" in (await anna.next_message()).text
    emu.assert_healthy()


async def test_an_unacknowledged_case_is_escalated_on_time_even_across_a_restart(emu, tmp_path, captured_logs):
    for user_id, name in (
        (STAFF_COUNSELLOR_ID, "Carla"),
        (1003, "Dirk"),
        (COORDINATOR_ID, "Coby"),
        (HOLDERS_COUNSELLOR_ID, "Henk"),
    ):
        await emu.user(user_id, first_name=name, language_code="nl").command("/start")
    counsellors = [
        {"telegram_id": STAFF_COUNSELLOR_ID, "name": "Carla VP", "serves": ["staff"]},
        {"telegram_id": 1003, "name": "Dirk VP", "serves": ["staff"]},
        {"telegram_id": HOLDERS_COUNSELLOR_ID, "name": "Henk VP", "serves": ["office_holders"]},
    ]
    bot = BotUnderTest(
        emu,
        tmp_path,
        counsellors=counsellors,
        cases={"acknowledge_within": "PT3S", "escalate_to_coordinators_after": "PT3S"},
    )
    await bot.start()
    anna = emu.user(5205, first_name="Anna", language_code="nl")
    reference = reference_in(await file_report(anna))
    await emu.user(STAFF_COUNSELLOR_ID).wait_for_message(lambda m: reference in m.text)
    await bot.stop()  # down while the first period runs out
    await asyncio.sleep(3.5)
    await bot.start()
    dirk = emu.user(1003)
    escalated = await dirk.wait_for_message(lambda m: reference in m.text, timeout=10)
    assert "Niemand heeft deze melding nog opgepakt" in escalated.text
    await anna.wait_for_message(lambda m: "nog niet opgepakt" in m.text)
    alert = await emu.user(COORDINATOR_ID).wait_for_message(lambda m: reference in m.text, timeout=10)
    assert "Hij dreigde" not in alert.text and "Anna" not in alert.text
    await dirk.press("Melding overnemen")
    await anna.wait_for_message(lambda m: "gelezen" in m.text)
    await bot.stop()
    # Each escalation happened exactly once.
    assert len([m for m in dirk.chat.messages if reference in m.text and "Niemand" in m.text]) == 1
    assert len([m for m in emu.user(COORDINATOR_ID).chat.messages if reference in m.text]) == 1
    assert len([m for m in anna.chat.messages if "nog niet opgepakt" in m.text]) == 1
    emu.assert_healthy(allow_failed_requests=True)


async def test_invite_mode_turns_strangers_away_and_admits_with_a_link(emu, tmp_path, captured_logs):
    coby = emu.user(COORDINATOR_ID, first_name="Coby", language_code="nl")
    await coby.command("/start")
    bot = BotUnderTest(emu, tmp_path, access={"mode": "invite"})
    await bot.start()
    try:
        await coby.wait_for_message(lambda m: True)
        stranger = emu.user(5206, first_name="Onbekend", language_code="nl")
        await stranger.command("/start")
        assert "uitnodiging" in (await stranger.next_message()).text
        await stranger.send("Ik wil iets melden over mijn buurman die mij steeds lastigvalt.")
        assert "uitnodiging" in (await stranger.next_message()).text
        assert await bot.storage.people.find(5206) is None
        await coby.command("/invite Handhaving")
        await coby.wait_for_message(lambda m: "Voor welke rol" in m.text)
        await coby.press("Medewerker")
        created = await coby.wait_for_edit(lambda m: "t.me/meldbot_test_bot?start=" in m.text)
        code = created.text.split("start=")[1].split()[0]
        await stranger.command("/start", payload=code)
        welcome = await stranger.wait_for_message(lambda m: "Welkom" in m.text)
        assert "Medewerker" in welcome.text and "Handhaving" in welcome.text
        await stranger.press("Melding maken")
        await stranger.wait_for_message(lambda m: "Wat is er gebeurd?" in m.text)
        reporter_menu = [c["command"] for c in emu.commands({"type": "chat", "chat_id": 5206})]
        assert "report" in reporter_menu
        again = emu.user(5207, first_name="Tweede", language_code="nl")
        await again.command("/start", payload=code)
        assert "werkt niet" in (await again.next_message()).text
    finally:
        await bot.stop()
    emu.assert_healthy(allow_failed_requests=True)


async def test_forgetme_leaves_no_trace_in_the_database_or_the_logs(emu, meldbot, captured_logs):
    markers = ["VERGEETNAAM9911", "vergeetuser9912", "VERGEETTEKST9913", "VERGEETBESTAND9914"]
    user = emu.user(812_345_679, first_name=markers[0], username=markers[1], language_code="nl")
    document = f"%PDF {markers[3]}".encode()
    reference = reference_in(
        await file_report(
            user,
            text=markers[2],
            attachments=[lambda: user.send_document(document, file_name="brief.pdf", mime_type="application/pdf")],
        )
    )
    carla = emu.user(STAFF_COUNSELLOR_ID)
    await carla.wait_for_message(lambda m: reference in m.text)
    await user.command("/forgetme")
    await user.wait_for_message(lambda m: "Alles over jou wissen" in m.text)
    await user.press("Ja, wis alles")
    await user.wait_for_edit(lambda m: "Alles is gewist" in m.text)
    await carla.wait_for_message(lambda m: reference in m.text and "wissen" in m.text)
    files = {p.name: p.read_bytes() for p in meldbot.database_files()}
    await meldbot.stop()
    files.update({f"{p.name} (stopped)": p.read_bytes() for p in meldbot.database_files()})
    hits = [
        f"{marker} in {name}"
        for marker in (*markers, "812345679")
        for name, data in files.items()
        if marker.encode() in data
    ]
    hits += [f"{marker} in the logs" for marker in (*markers, "812345679") if marker in captured_logs.text]
    assert hits == []
    emu.assert_healthy()
