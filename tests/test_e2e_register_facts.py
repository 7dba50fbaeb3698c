"""End to end: a report that gives the register what it needs, through the real bot and the emulator:
several forms, who did it, the department from the organisation's list, the work process, details of
the perpetrator, and the reporter's consent to combine it with other reports about the same person."""

from __future__ import annotations

import pytest

from flows.model import Form, Perpetrator
from flows.perpetrator import IdentifierKind
from storage.cases import detail_index
from tests.e2e import COORDINATOR_ID, HOLDERS_COUNSELLOR_ID, STAFF_COUNSELLOR_ID, BotUnderTest
from tests.test_e2e_report import reference_in

pytestmark = pytest.mark.e2e

ORGANISATION = {
    "name": "Gemeente Voorbeeld",
    "address": "Raadhuisplein 1, 1234 AB Voorbeeld",
    "privacy_contact": "privacy@gemeente.example",
    "departments": ["Burgerzaken", "Handhaving", "Sociaal domein"],
}


async def test_a_report_with_several_forms_the_perpetrator_the_department_and_consent_to_combine(emu, tmp_path):
    for user_id, name in ((STAFF_COUNSELLOR_ID, "Carla"), (HOLDERS_COUNSELLOR_ID, "Henk"), (COORDINATOR_ID, "Coby")):
        member = emu.user(user_id, first_name=name, language_code="nl")
        member.skip_pending()
        await member.command("/start")
    bot = BotUnderTest(emu, tmp_path, organisation=ORGANISATION)
    await bot.start()
    try:
        anna = emu.user(5301, first_name="Anna", language_code="nl")
        await anna.command("/start")
        await anna.next_screen(lambda m: "112" in m.text)
        await anna.press("Melding maken")
        await anna.next_screen(lambda m: "Wat is er gebeurd?" in m.text)
        await anna.press("Meer dan één ding")
        await anna.next_screen(lambda m: "Tik alles aan" in m.text)
        await anna.press("Bedreiging")
        await anna.wait_for_edit(lambda m: any(label.startswith("☑️ ⚠️") for label, _ in m.buttons))
        await anna.press("Dreigen met je leidinggevende")
        await anna.wait_for_edit(lambda m: any(label.startswith("☑️ 📣") for label, _ in m.buttons))
        await anna.press("Klaar")
        await anna.next_screen(lambda m: "Wanneer gebeurde het?" in m.text)
        await anna.press("Vandaag")
        await anna.next_screen(lambda m: "Op welke manier" in m.text)
        await anna.press("Persoonlijk")
        await anna.next_screen(lambda m: "eigen woorden" in m.text)
        await anna.send("Hij zei dat hij naar de krant stapt en dat hij me na het werk opwacht.")
        await anna.next_screen(lambda m: "Wie deed het?" in m.text)
        await anna.press("Inwoner of klant, naam bekend")
        await anna.next_screen(lambda m: "Wat weet je van diegene?" in m.text)
        await anna.press("Kenteken")
        await anna.next_screen(lambda m: "typ het hieronder" in m.text)
        await anna.send("12-abc-3")
        listed = await anna.next_screen(lambda m: "genoteerd" in m.text)
        assert "Kenteken: 12-abc-3" in listed.text
        await anna.press("Klaar")
        await anna.next_screen(lambda m: "Wat is je rol" in m.text)
        await anna.press("Medewerker")
        department = await anna.next_screen(lambda m: "Bij welke afdeling" in m.text)
        assert [label for label, _ in department.buttons][:3] == ["Burgerzaken", "Handhaving", "Sociaal domein"]
        await anna.press("Handhaving")
        await anna.next_screen(lambda m: "In welk werk" in m.text)
        await anna.press("Toezicht en handhaving")
        await anna.next_screen(lambda m: "Wat wil je met je melding" in m.text)
        await anna.press("Gesprek én registreren")
        summary = await anna.next_screen(lambda m: "Klopt dit?" in m.text)
        for shown in ("Bedreiging", "Dreigen met je leidinggevende", "Kenteken: 12-abc-3", "Afdeling: Handhaving"):
            assert shown in summary.text, shown
        assert "niet samen met andere meldingen" in summary.text  # combining is off until she says so
        await anna.press("Samen met meldingen over dezelfde persoon: nee")
        await anna.wait_for_edit(lambda m: "mag samen met andere meldingen" in m.text)
        await anna.press("Versturen")
        reference = reference_in(await anna.next_screen(lambda m: "Je melding is verstuurd" in m.text))

        coby = emu.user(COORDINATOR_ID)
        report = await coby.wait_for_message(lambda m: reference in m.text)
        assert "Bedreiging" in report.text and "Dreigen met je leidinggevende" in report.text

        case = await bot.storage.cases.by_reference(reference)
        assert case.forms == {Form.THREAT, Form.THREAT_TO_AUTHORITY}
        assert (case.perpetrator, case.perpetrator_named) == (Perpetrator.CITIZEN_CLIENT, True)
        assert (case.department, case.work_process) == ("Handhaving", "enforcement")
        assert case.link_consent
        (plate,) = await bot.storage.cases.perpetrator_details(case.id)
        assert plate.index == detail_index(bot.storage.vault, IdentifierKind.PLATE, "12ABC3")
        person = await bot.storage.people.find(5301)
        assert (person.department, person.work_process) == ("Handhaving", "enforcement")  # not asked again
        emu.assert_healthy()
    finally:
        await bot.stop()
