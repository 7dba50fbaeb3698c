"""The privacy statement behind /privacy, and the bot's description people see before they press Start.

Both say what meldbot actually does with personal data (README "How it keeps reports
confidential" and "What each role sees", storage/crypto.py, flows/access.py), in the
reader's language; who is responsible comes from ``[organisation]`` in the
configuration. Plain Python: the bot layer sends the replies and sets the descriptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import messages
from flows.model import Language
from flows.outcome import Label, Outcome, Reply

# The Bot API's limits for setMyDescription and setMyShortDescription.
MAX_DESCRIPTION = 512
MAX_SHORT_DESCRIPTION = 120


@dataclass(frozen=True, slots=True)
class Organisation:
    """Who is responsible for the data in the bot, and whom a reporter asks about it."""

    name: str
    address: str
    privacy_contact: str  # an e-mail address or a phone number
    privacy_officer: str | None = None  # the data protection officer (functionaris gegevensbescherming)


@dataclass(frozen=True, slots=True)
class PrivacyFacts:
    """What the statement says besides the language, from the configuration."""

    organisation: Organisation | None
    # Cases closed this long ago are erased; None: kept until the reporter erases them.
    retention: timedelta | None = None


@dataclass(frozen=True, slots=True)
class BotDescription:
    """The bot's description (shown in an empty chat) and short description (its profile), plain text."""

    description: str
    short_description: str


def statement(organisation: Organisation | None, language: Language, retention: timedelta | None = None) -> Outcome:
    """The privacy statement as three messages: what is kept and how, who sees what, rights and contact.

    ``retention``: how long after closing a case is erased, or None when cases are kept
    until the reporter erases them.
    """
    return Outcome(
        language,
        replies=[
            Reply("privacy.kept", {"controller": _controller(organisation)}),
            Reply("privacy.seen"),
            Reply("privacy.rights", {"how_long": _how_long(retention), "contact": _contact(organisation)}),
        ],
    )


def describe(organisation: Organisation | None, language: Language) -> BotDescription:
    """The description and short description in ``language``, naming the organisation where it fits."""
    return BotDescription(
        _fitting(language, "description.bot", organisation, MAX_DESCRIPTION),
        _fitting(language, "description.bot_short", organisation, MAX_SHORT_DESCRIPTION),
    )


def _fitting(language: Language, key: str, organisation: Organisation | None, limit: int) -> str:
    if organisation is not None:
        named = messages.plain(language.value, key, {"organisation": organisation.name})
        if messages.length(named) <= limit:
            return named
    # Without an organisation, or one whose name is too long for Telegram's limit.
    return messages.plain(language.value, f"{key}_unnamed")


def _controller(organisation: Organisation | None) -> Label:
    if organisation is None:
        return Label("privacy.controller_unknown")
    return Label("privacy.controller", {"organisation": organisation.name, "address": organisation.address})


def _contact(organisation: Organisation | None) -> tuple[Label, ...]:
    if organisation is None:
        return (Label("privacy.contact_unknown"),)
    lines = [Label("privacy.contact", {"organisation": organisation.name, "contact": organisation.privacy_contact})]
    if organisation.privacy_officer is not None:
        lines.append(Label("privacy.officer", {"officer": organisation.privacy_officer}))
    return tuple(lines)


def _how_long(retention: timedelta | None) -> Label:
    if retention is None:
        return Label("privacy.until_erased")
    return Label("privacy.retention", {"period": period_in_words(retention)})


def period_in_words(period: timedelta) -> Label:
    """A retention period as people say it: "5 jaar", "6 months", "2 weeks", "10 days".

    Years and months are taken as their average length with a day's leeway, so that a
    period counted in days (five years with their leap day, half a year as 182 days)
    reads as the years or months it was meant to be.
    """
    days = period / timedelta(days=1)
    for unit, length in (("year", 365.2425), ("month", 30.436875)):
        count = round(days / length)
        if count >= 1 and abs(days - count * length) <= 1.5:
            return _counted(unit, count)
    if days >= 7 and days % 7 == 0:
        return _counted("week", int(days // 7))
    return _counted("day", max(1, round(days)))


def _counted(unit: str, count: int) -> Label:
    return Label(f"privacy.{unit}" if count == 1 else f"privacy.{unit}s", {"n": count})
