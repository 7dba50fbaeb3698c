"""Who is in the demo: three phones to begin with, four more to add. All invented."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Persona:
    key: str  # how the page names this phone
    telegram_id: int
    first_name: str
    last_name: str
    language: str  # the Telegram app's language: the bot talks to reporters in it
    role: str  # texts.PAGE_TEXTS names it as "role_<role>"
    shown: bool  # on the page from the start
    staff: bool  # a counsellor or coordinator: has pressed Start before the demo begins

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


CAST: tuple[Persona, ...] = (
    Persona("reporter", 5101, "Sanne", "Jansen", "nl", "reporter", shown=True, staff=False),
    Persona("counsellor", 1001, "Vera", "de Vries", "nl", "counsellor_staff", shown=True, staff=True),
    Persona("coordinator", 2001, "Karim", "Bouzid", "nl", "coordinator", shown=True, staff=True),
    Persona("office_holder", 5102, "Mark", "Visser", "nl", "office_holder", shown=False, staff=False),
    Persona("second_counsellor", 1003, "Ingrid", "Mulder", "nl", "counsellor_staff", shown=False, staff=True),
    Persona("holders_counsellor", 1002, "Pieter", "Bakker", "nl", "counsellor_holders", shown=False, staff=True),
    Persona("english_reporter", 5103, "Emma", "Clarke", "en", "reporter_en", shown=False, staff=False),
)
BY_KEY = {persona.key: persona for persona in CAST}


def demo_configuration() -> dict[str, Any]:
    """The [[counsellors]], [[coordinators]], support contacts and [organisation] of the demo municipality."""

    def staff(key: str, serves: list[str] | None = None) -> dict[str, Any]:
        persona = BY_KEY[key]
        entry: dict[str, Any] = {"telegram_id": persona.telegram_id, "name": persona.name, "language": persona.language}
        if serves is not None:
            entry["serves"] = serves
        return entry

    return {
        "counsellors": [
            staff("counsellor", ["staff"]),
            staff("second_counsellor", ["staff"]),
            staff("holders_counsellor", ["office_holders"]),
        ],
        "coordinators": [staff("coordinator")],
        "organisation": {
            "name": "Gemeente Voorbeeld (demo)",
            "address": "Raadhuisplein 1, 1234 AB Voorbeeld",
            "privacy_contact": "privacy@gemeente.example",
            "privacy_officer": "fg@gemeente.example",
        },
        "aftercare": {
            "support": [
                {"kind": "psychological", "name": "Bedrijfsmaatschappelijk werk (demo)", "contact": "toestel 1234"},
                {"kind": "legal", "name": "Juridische zaken (demo)", "contact": "juridisch@gemeente.example"},
                {
                    "kind": "office_holders",
                    "name": "Ondersteuningsteam Netwerk Weerbaar Bestuur",
                    "contact": "zie weerbaarbestuur.nl",
                },
            ]
        },
    }
