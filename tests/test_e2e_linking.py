"""End to end: reports about the same person, through the real bot and the emulator.

Two registered reports name the same phone number, written differently: the coordinator sees that
one other report names the same person and opens the joint timeline. A third report, which stays
with the counsellor, names it too: its reporter, and nobody else, is asked once whether it may join
them; she says yes, and it is in the register.
"""

from __future__ import annotations

import pytest

from bot.emulator import BotApiEmulator
from flows.lifecycle import RegisterState
from tests.e2e import COORDINATOR_ID, HOLDERS_COUNSELLOR_ID, STAFF_COUNSELLOR_ID, BotUnderTest
from tests.test_e2e_report import reference_in

pytestmark = pytest.mark.e2e


async def report_naming(emu: BotApiEmulator, user_id: int, name: str, phone: str, wish: str) -> str:
    """``name`` reports a threat by someone whose phone number she knows, lets the report be combined
    with reports about the same person, and sends it with ``wish``; returns its reference."""
    user = emu.user(user_id, first_name=name, language_code="nl")
    await user.command("/start")
    await user.next_screen(lambda m: "112" in m.text)
    await user.press("Melding maken")
    await user.next_screen(lambda m: "Wat is er gebeurd?" in m.text)
    await user.press("Bedreiging")
    await user.next_screen(lambda m: "Wanneer gebeurde het?" in m.text)
    await user.press("Vandaag")
    await user.next_screen(lambda m: "Op welke manier" in m.text)
    await user.press("Telefonisch")
    await user.next_screen(lambda m: "eigen woorden" in m.text)
    await user.send("Hij belde en dreigde me op te wachten.")
    await user.next_screen(lambda m: "Wie deed het?" in m.text)
    await user.press("Inwoner of klant, naam bekend")
    await user.next_screen(lambda m: "Wat weet je van diegene?" in m.text)
    await user.press("Telefoonnummer")
    await user.next_screen(lambda m: "typ het hieronder" in m.text)
    await user.send(phone)
    await user.next_screen(lambda m: "genoteerd" in m.text)
    await user.press("Klaar")
    await user.next_screen(lambda m: "Wat is je rol" in m.text)
    await user.press("Medewerker")
    shown = await user.next_screen(lambda m: "In welk werk" in m.text or "Wat wil je met je melding" in m.text)
    if "In welk werk" in shown.text:
        await user.press("Overslaan")
        await user.next_screen(lambda m: "Wat wil je met je melding" in m.text)
    await user.press(wish)
    await user.next_screen(lambda m: "Klopt dit?" in m.text)
    await user.press("Samen met meldingen over dezelfde persoon: nee")
    await user.wait_for_edit(lambda m: "mag samen met andere meldingen" in m.text)
    await user.press("Versturen")
    return reference_in(await user.next_screen(lambda m: "Je melding is verstuurd" in m.text))


async def test_the_coordinator_sees_the_link_and_a_private_reporter_alone_is_asked_to_join(emu, tmp_path):
    staff = {}
    for user_id, name in ((STAFF_COUNSELLOR_ID, "Carla"), (HOLDERS_COUNSELLOR_ID, "Henk"), (COORDINATOR_ID, "Coby")):
        staff[name] = emu.user(user_id, first_name=name, language_code="nl")
        staff[name].skip_pending()
        await staff[name].command("/start")
    bot = BotUnderTest(emu, tmp_path)
    await bot.start()
    try:
        anna = await report_naming(emu, 5401, "Anna", "+31 6 1234 5678", "Gesprek én registreren")
        bram = await report_naming(emu, 5402, "Bram", "0612345678", "Gesprek én registreren")

        coby = staff["Coby"]
        await coby.wait_for_message(lambda m: anna in m.text)
        await coby.wait_for_message(lambda m: bram in m.text)
        await coby.press("Openen")  # on the newest message that has it: Bram's report
        view = await coby.wait_for_message(lambda m: bram in m.text and "Wat:" in m.text)
        assert "1 andere geregistreerde melding noemt dezelfde persoon" in view.text
        await coby.press("Samen bekijken (1)")
        timeline = await coby.wait_for_message(lambda m: "Meldingen over dezelfde persoon" in m.text)
        assert anna in timeline.text and bram in timeline.text
        assert "dreigde" not in timeline.text  # dates, forms and what was done; never the accounts
        await coby.command("/register")
        register = await coby.wait_for_message(lambda m: "Incidentregister" in m.text)
        marked = [line for line in register.text.splitlines() if "🔗 1" in line]
        assert len(marked) == 2 and any(anna in line for line in marked) and any(bram in line for line in marked)

        carol_ref = await report_naming(emu, 5403, "Carol", "06-12345678", "Vertrouwelijk gesprek")
        carol = emu.user(5403)
        question = await carol.wait_for_message(lambda m: "niet alleen" in m.text)
        assert "2 andere meldingen over dezelfde persoon" in question.text and carol_ref in question.text
        assert anna not in question.text and bram not in question.text
        await carol.press("Ja, zonder mijn naam")
        await carol.wait_for_edit(lambda m: "staat nu in het register" in m.text)
        arrived = await coby.wait_for_message(lambda m: carol_ref in m.text)
        assert "Carol" not in arrived.text  # without her name, as she chose

        case = await bot.storage.cases.by_reference(carol_ref)
        assert case.register is RegisterState.ANONYMOUS and case.not_alone_asked_at is not None
        for member in staff.values():
            assert not [m for m in member.chat.bot_messages if "niet alleen" in (m.text or "")]
        for other in (5401, 5402):
            assert not [m for m in emu.user(other).chat.bot_messages if "niet alleen" in (m.text or "")]
        emu.assert_healthy()
    finally:
        await bot.stop()
