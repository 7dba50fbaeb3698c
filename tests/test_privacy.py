"""The privacy statement and the bot's description say what meldbot does, fit Telegram, and parse as its HTML."""

from __future__ import annotations

from datetime import timedelta

import pytest

import messages
from bot.emulator.formatting import parse_html
from flows.model import Language
from flows.privacy import (
    MAX_DESCRIPTION,
    MAX_SHORT_DESCRIPTION,
    Organisation,
    describe,
    period_in_words,
    statement,
)

VOORBEELD = Organisation("Gemeente Voorbeeld", "Raadhuisplein 1, 1234 AB Voorbeeld", "privacy@gemeente.example")
WITH_OFFICER = Organisation(
    "Gemeente Voorbeeld", "Raadhuisplein 1, 1234 AB Voorbeeld", "14 020", "J. de Boer, fg@gemeente.example"
)
FIVE_YEARS = timedelta(days=1826)


def shown(organisation: Organisation | None, language: Language, retention: timedelta | None = None) -> list[str]:
    """The statement as the reporter reads it: each message rendered, refused if too long, parsed as Telegram does."""
    outcome = statement(organisation, language, retention)
    assert outcome.language is language
    texts = []
    for reply in outcome.replies:
        html = messages.render_message(language.value, reply.key, reply.params)
        text, _ = parse_html(html)
        texts.append(text)
    return texts


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("organisation", [VOORBEELD, WITH_OFFICER, None], ids=["organisation", "officer", "none"])
@pytest.mark.parametrize("retention", [None, FIVE_YEARS], ids=["kept", "retention"])
def test_every_variant_fits_in_telegram_messages_and_parses_as_its_html(language, organisation, retention):
    texts = shown(organisation, language, retention)
    assert len(texts) == 3
    assert all(0 < messages.length(text) <= messages.MAX_TEXT for text in texts)


@pytest.mark.parametrize("language", list(Language))
def test_it_names_who_is_responsible_and_whom_to_ask(language):
    whole = "\n".join(shown(VOORBEELD, language))
    assert "Gemeente Voorbeeld (Raadhuisplein 1, 1234 AB Voorbeeld)" in whole
    assert "privacy@gemeente.example" in whole
    assert "Autoriteit Persoonsgegevens" in whole
    for command in ("/mycases", "/forgetme"):
        assert command in whole
    assert "AES-256-GCM" in whole


def test_the_data_protection_officer_appears_only_when_configured():
    assert "functionaris gegevensbescherming" not in "\n".join(shown(VOORBEELD, Language.NL))
    with_officer = "\n".join(shown(WITH_OFFICER, Language.NL))
    assert "functionaris gegevensbescherming (FG)" in with_officer
    assert "J. de Boer, fg@gemeente.example" in with_officer
    assert "Neem contact op met Gemeente Voorbeeld: 14 020" in with_officer
    assert "J. de Boer, fg@gemeente.example" in "\n".join(shown(WITH_OFFICER, Language.EN))


def test_without_an_organisation_it_says_so_instead_of_inventing_one():
    dutch = "\n".join(shown(None, Language.NL))
    assert "De organisatie die deze bot gebruikt" in dutch
    assert "Er is hier nog geen contact voor privacyvragen ingevuld" in dutch
    assert "The organisation that uses this bot" in "\n".join(shown(None, Language.EN))


def test_how_long_reads_right_with_and_without_a_retention_period():
    kept = shown(VOORBEELD, Language.NL)[2]
    assert "Je melding blijft bewaard tot je alles laat wissen met /forgetme." in kept
    assert "na het afsluiten" not in kept
    retained = shown(VOORBEELD, Language.NL, FIVE_YEARS)[2]
    assert "Een afgesloten melding wordt 5 jaar na het afsluiten automatisch gewist." in retained
    assert "blijft bewaard tot" not in retained
    english = shown(VOORBEELD, Language.EN, timedelta(days=182))[2]
    assert "A closed report is erased automatically 6 months after it was closed." in english
    # Withdrawing keeps the report: the statement must not promise otherwise, in either case.
    assert "Intrekken wist je melding niet" in kept and "Intrekken wist je melding niet" in retained


@pytest.mark.parametrize(
    "period, dutch, english",
    [
        (timedelta(days=365), "1 jaar", "1 year"),
        (timedelta(days=1825), "5 jaar", "5 years"),
        (timedelta(days=1827), "5 jaar", "5 years"),
        (timedelta(days=30), "1 maand", "1 month"),
        (timedelta(days=183), "6 maanden", "6 months"),
        (timedelta(days=14), "2 weken", "2 weeks"),
        (timedelta(days=7), "1 week", "1 week"),
        (timedelta(days=10), "10 dagen", "10 days"),
        (timedelta(days=360), "360 dagen", "360 days"),
        (timedelta(hours=20), "1 dag", "1 day"),
    ],
)
def test_a_retention_period_is_said_as_people_say_it(period, dutch, english):
    label = period_in_words(period)
    assert messages.render("nl", label.key, label.params) == dutch
    assert messages.render("en", label.key, label.params) == english


def test_what_an_operator_typed_cannot_break_the_html():
    odd = Organisation("Gemeente <Bergen> & Omstreken", "Postbus 1 <b>", "privacy@bergen.example", "FG & co </i>")
    whole = "\n".join(shown(odd, Language.NL))
    assert "Gemeente <Bergen> & Omstreken" in whole and "FG & co </i>" in whole


@pytest.mark.parametrize("language", list(Language))
def test_the_description_says_what_the_bot_is_for_who_runs_it_and_to_call_112(language):
    described = describe(VOORBEELD, language)
    for text, limit in ((described.description, MAX_DESCRIPTION), (described.short_description, MAX_SHORT_DESCRIPTION)):
        assert "Gemeente Voorbeeld" in text and "112" in text
        assert messages.length(text) <= limit
        assert "<" not in text and "&amp;" not in text  # plain text: these fields are not HTML
    assert "/privacy" in described.description


@pytest.mark.parametrize("language", list(Language))
def test_a_name_too_long_for_the_short_description_leaves_it_out_there_only(language):
    long_name = Organisation("Gemeenschappelijke Regeling Omgevingsdienst " + "x" * 36, "Postbus 1", "14 020")
    assert len(long_name.name) == 80  # the longest name the configuration allows
    described = describe(long_name, language)
    assert long_name.name in described.description and len(described.description) <= MAX_DESCRIPTION
    assert long_name.name not in described.short_description
    assert described.short_description == describe(None, language).short_description
    assert "112" in described.short_description and messages.length(described.short_description) <= 120


def test_without_an_organisation_the_description_still_says_what_the_bot_is_for():
    assert "in je werk voor de gemeente" in describe(None, Language.NL).description
    assert "112" in describe(None, Language.EN).short_description
