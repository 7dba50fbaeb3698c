"""meldbot dossier: the operator writes a readable case file of one or more reports.

A name is in it only when the reporter's last word on a case file allowed it; a withdrawn
or unknown report makes no case file at all; each one written is in the audit trail.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import stat

from pypdf import PdfReader

from bot.cli import main
from flows.lifecycle import DossierConsent
from flows.privacy import Organisation
from storage import Storage
from tests.support import COORDINATOR, ManualClock, World, reporter, staff

CONFIG = """
[telegram]
token = "123456:TEST-TOKEN-abcdef"
[storage]
database = "{db}"
key_file = "{key}"
[[counsellors]]
telegram_id = 1001
name = "Vertrouwenspersoon medewerkers"
serves = ["staff"]
[[counsellors]]
telegram_id = 1003
name = "Tweede vertrouwenspersoon"
serves = ["staff"]
[[counsellors]]
telegram_id = 1002
name = "Vertrouwenspersoon bestuurders"
serves = ["office_holders"]
[[coordinators]]
telegram_id = 2001
name = "Coördinator incidentregistratie"
[organisation]
name = "Gemeente Voorbeeld"
address = "Raadhuisplein 1, 1234 AB Voorbeeld"
privacy_contact = "privacy@gemeente.example"
"""
ANNA = reporter(5001, "Anna de Vries", "annadv")
BERT = reporter(5002, "Bert Bakker", None)
CARL = reporter(5003, "Carl Jansen", None)


def seeded(tmp_path) -> tuple[str, str, str]:
    """Three reports: Anna allowed her name in a case file, Bert was never asked, Carl withdrew his."""

    async def seed() -> tuple[str, str, str]:
        storage = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
        try:
            world = World(
                storage, ManualClock(), organisation=Organisation("Gemeente Voorbeeld", "Raadhuisplein 1", "p@x.nl")
            )
            anna = await world.report(ANNA, wish="counsellor_and_register", text="Hij wachtte me op bij de auto.")
            await world.dossiers.request(staff(COORDINATOR), anna.reference)
            await world.dossiers.answer(ANNA, anna.reference, DossierConsent.NAME)
            bert = await world.report(BERT, wish="counsellor_and_register", text="Weer dezelfde man, nu bij mij.")
            carl = await world.report(CARL, text="Iets wat ik toch liever niet meld.")
            await world.mycases.withdraw(CARL, carl.reference, True)
            return anna.reference, bert.reference, carl.reference
        finally:
            await storage.close()

    return asyncio.run(seed())


def configured(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(db=tmp_path / "m.db", key=tmp_path / "m.key"), encoding="utf-8")
    return path


def test_the_operator_writes_one_readable_case_file_of_two_reports(tmp_path, capsys):
    anna, bert, _ = seeded(tmp_path)
    output = tmp_path / "dossier.pdf"
    assert main(["dossier", "--config", str(configured(tmp_path)), anna, bert, "--output", str(output)]) == 0
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    pdf = output.read_bytes()
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
    assert anna in text and bert in text
    assert "2 meldingen over dezelfde persoon" in text
    assert "Anna de Vries" in text  # her last word allowed it
    assert "Bert" not in text  # never asked: never named
    assert "Hij wachtte me op bij de auto." in text and "Weer dezelfde man" in text
    printed = capsys.readouterr().out
    assert hashlib.sha256(pdf).hexdigest() in printed and anna in printed and bert not in printed

    async def noted() -> list[str | None]:
        storage = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
        try:
            return [
                e.detail
                for reference in (anna, bert)
                for e in await storage.audit.entries(reference)
                if e.action == "dossier_made" and e.actor_role == "operator"
            ]
        finally:
            await storage.close()

    digest = hashlib.sha256(pdf).hexdigest()
    assert asyncio.run(noted()) == [
        f"named/without_messages/sha256:{digest}",
        f"unnamed/without_messages/sha256:{digest}",
    ]


def test_a_withdrawn_or_unknown_report_makes_no_case_file(tmp_path, capsys):
    anna, _, carl = seeded(tmp_path)
    config = str(configured(tmp_path))
    output = tmp_path / "dossier.pdf"
    assert main(["dossier", "--config", config, anna, carl, "--output", str(output)]) == 1
    assert "withdrawn" in capsys.readouterr().err
    assert main(["dossier", "--config", config, "MB-2345-6789", "--output", str(output)]) == 1
    assert "no such report" in capsys.readouterr().err
    assert not output.exists()


def test_without_an_organisation_there_is_no_address_to_put_on_it(tmp_path, capsys):
    anna, _, _ = seeded(tmp_path)
    config = tmp_path / "bare.toml"
    config.write_text(CONFIG.split("[organisation]")[0].format(db=tmp_path / "m.db", key=tmp_path / "m.key"))
    assert main(["dossier", "--config", str(config), anna, "--output", str(tmp_path / "d.pdf")]) == 2
    assert "[organisation]" in capsys.readouterr().err
