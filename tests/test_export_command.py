"""``meldbot export``: the register and the statistics written to a file for Excel, by the operator."""

from __future__ import annotations

import asyncio
import csv
import io
import stat
from datetime import datetime

from openpyxl import load_workbook

import messages
from bot.cli import main
from storage import Storage
from tests.support import AMSTERDAM, COORDINATOR, ManualClock, World, reporter, staff
from tests.test_cli import GOOD, write


def seed(tmp_path) -> list[str]:
    """Two registrations in March 2026 and one in May, and a report that stays with the counsellor."""

    async def filing() -> list[str]:
        storage = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
        try:
            clock = ManualClock(datetime(2026, 3, 10, 9, tzinfo=AMSTERDAM))
            world = World(storage, clock)
            references = []
            for n, day in enumerate((10, 20)):
                clock.current = datetime(2026, 3, day, 9, tzinfo=AMSTERDAM)
                case = await world.report(
                    reporter(8300 + n, f"Piet Privé {n}", "piet_prive"), wish="anonymous_register"
                )
                references.append(case.reference)
            clock.current = datetime(2026, 5, 4, 9, tzinfo=AMSTERDAM)
            may = await world.report(reporter(8310, "Mia Mei", None), wish="anonymous_register")
            await world.casework.acknowledge(staff(COORDINATOR), may.reference)
            await world.report(reporter(8311, "Olga Onzichtbaar", None))
            return [*references, may.reference]
        finally:
            await storage.close()

    return asyncio.run(filing())


def test_the_register_of_a_period_as_csv_for_dutch_excel(tmp_path, capsys):
    march_one, march_two, may = seed(tmp_path)
    config = write(tmp_path, GOOD)
    output = tmp_path / "register.csv"
    assert (
        main(["export", "--config", str(config), "--output", str(output), "--from", "2026-03-01", "--to", "2026-03-31"])
        == 0
    )
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    rows = list(csv.reader(io.StringIO(output.read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == messages.plain("nl", "export.reference")
    assert [row[0] for row in rows[1:]] == [march_one, march_two]
    text = output.read_text(encoding="utf-8-sig")
    assert "Piet" not in text and "piet_prive" not in text and "8300" not in text
    assert "2 case(s)" in capsys.readouterr().out


def test_the_whole_register_as_xlsx_and_an_audit_entry(tmp_path):
    references = seed(tmp_path)
    config = write(tmp_path, GOOD)
    output = tmp_path / "register.xlsx"
    assert (
        main(["export", "--config", str(config), "--output", str(output), "--format", "xlsx", "--language", "en"]) == 0
    )
    book = load_workbook(output)
    sheet = book[messages.plain("en", "export.sheet.register")]
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == references

    async def last_entry():
        storage = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
        try:
            return (await storage.audit.entries())[-1]
        finally:
            await storage.close()

    entry = asyncio.run(last_entry())
    assert (entry.actor_role, entry.action, entry.detail) == ("operator", "exported", "register (3 cases), xlsx")


def test_the_statistics_export_and_a_range_the_wrong_way_round(tmp_path, capsys):
    seed(tmp_path)
    config = write(tmp_path, GOOD)
    output = tmp_path / "statistics.csv"
    assert (
        main(
            [
                "export",
                "--config",
                str(config),
                "--output",
                str(output),
                "--statistics",
                "--from",
                "2026-01-01",
                "--to",
                "2026-06-30",
            ]
        )
        == 0
    )
    rows = list(csv.reader(io.StringIO(output.read_bytes().decode("utf-8-sig")), delimiter=";"))
    periods = {row[0] for row in rows[1:]}
    assert periods == {"1e kwartaal 2026", "2e kwartaal 2026"}
    totals = [
        row
        for row in rows[1:]
        if row[2] == messages.plain("nl", "stats.total") and row[1] == messages.plain("nl", "stats.column.all")
    ]
    assert [row[4] for row in totals] == ["×", "×"]  # two and two reports: fewer than five, hidden
    capsys.readouterr()
    assert (
        main(["export", "--config", str(config), "--output", str(output), "--from", "2026-03-02", "--to", "2026-03-01"])
        == 2
    )
    assert "--to" in capsys.readouterr().err
