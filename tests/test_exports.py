"""The register and the statistics for Excel: read back with the csv module and openpyxl."""

from __future__ import annotations

import csv
import dataclasses
import zipfile
from datetime import UTC, date, datetime
from fractions import Fraction
from io import BytesIO, StringIO
from zoneinfo import ZoneInfo

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.exports import (
    Consequence,
    ReactionRecord,
    RegisterRow,
    register_csv,
    register_xlsx,
    statistics_csv,
    statistics_xlsx,
    workbook,
)
from flows.model import Channel, Role
from flows.statistics import Column, Form, Period, Perpetrator, Statistics, Suppressed, publish
from tests.statistics_data import DEPARTMENTS, generated_reports
from tests.test_e2e_leak import TELEGRAM_ID, encodings

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

WARNING_LETTER_CASE = RegisterRow(
    reference="MB-2345-6789",
    reported_on=date(2026, 3, 2),
    registered_on=date(2026, 3, 3),
    incident_on=date(2026, 3, 1),
    forms=frozenset({Form.THREAT, Form.VERBAL_AGGRESSION}),
    channel=Channel.PHONE,
    role=Role.COUNCIL_MEMBER,
    department="Griffie",
    work_process="council_work",
    perpetrator=Perpetrator.CITIZEN_CLIENT,
    reactions=(
        ReactionRecord("warning_letter", date(2026, 3, 4), "completed", date(2026, 3, 20)),
        ReactionRecord("conversation", date(2026, 3, 3)),
    ),
    police_report=True,
    police_report_on=date(2026, 3, 5),
    consequences=frozenset({Consequence.STRESS, Consequence.UNSAFE}),
    influenced_decision=False,
    consented_to_name=True,
    account='Hij schreeuwde "ik weet waar je woont"; twee collega\'s waren erbij.',
)
ANONYMOUS_CASE = RegisterRow(
    reference="MB-7777-2222",
    reported_on=date(2026, 4, 1),
    registered_on=date(2026, 4, 1),
    incident_on=None,
    forms=frozenset({Form.BRIBERY}),
    channel=Channel.IN_PERSON,
    role=Role.EMPLOYEE,
    department='=HYPERLINK("http://x";"klik")',  # a department name can be anything typed in a config
    work_process=None,
    perpetrator=Perpetrator.BUSINESS_OWNER,
    damages_claimed=True,
    damages_claimed_on=date(2026, 4, 20),
    account="@SUM(1+1) I was offered money for the permit",
)


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte order mark, or Excel guesses Windows-1252"
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(StringIO(text, newline=""), delimiter=";"))
    assert text.count("\r\n") == len(rows), "every line ends in CRLF (a line break inside a quoted cell is LF)"
    return rows


def test_the_register_as_csv_for_dutch_excel():
    rows = read_csv(register_csv([WARNING_LETTER_CASE, ANONYMOUS_CASE], "nl"))
    header, first, second = rows
    assert header[:4] == ["Kenmerk", "Datum incident", "Datum melding", "Datum registratie"]
    record = dict(zip(header, first, strict=True))
    assert record["Kenmerk"] == "MB-2345-6789"
    assert (record["Datum incident"], record["Datum registratie"]) == ("2026-03-01", "2026-03-03")
    assert record["Vorm"] == "Schelden, schreeuwen, dreigende houding; Bedreiging"
    assert (record["Soort contact"], record["Functie"], record["Afdeling"]) == ("Telefoon", "Raadslid", "Griffie")
    assert record["Werkproces"] == "Raadswerk" and record["Dader"] == "Inwoner of cliënt"
    assert record["Optreden tegen de dader"] == (
        "Gesprek met de dader (2026-03-03)\nWaarschuwings- of normbrief (2026-03-04; afgerond 2026-03-20)"
    )
    assert record["Datum eerste optreden"] == "2026-03-03"
    assert (record["Aangifte"], record["Datum aangifte"], record["Schade verhaald"]) == ("ja", "2026-03-05", "nee")
    assert record["Gevolgen"] == "Stress; Onveilig gevoel" and record["Invloed op een besluit"] == "nee"
    assert record["Wat er gebeurde (alleen met toestemming)"] == WARNING_LETTER_CASE.account
    anonymous = dict(zip(header, second, strict=True))
    assert anonymous["Datum incident"] == "" and anonymous["Werkproces"] == "Niet ingevuld"
    assert anonymous["Optreden tegen de dader"] == "" and anonymous["Invloed op een besluit"] == ""
    # No consent to the name: the account stays out, whatever it says.
    assert anonymous["Wat er gebeurde (alleen met toestemming)"] == ""


def test_a_cell_that_excel_would_run_as_a_formula_gets_an_apostrophe():
    header, _, row = read_csv(register_csv([WARNING_LETTER_CASE, ANONYMOUS_CASE], "en"))
    record = dict(zip(header, row, strict=True))
    assert record["Department"] == '\'=HYPERLINK("http://x";"klik")'
    consented = dataclasses.replace(ANONYMOUS_CASE, consented_to_name=True)
    header, row = read_csv(register_csv([consented], "en"))
    assert dict(zip(header, row, strict=True))["What happened (only with consent)"].startswith("'@SUM(1+1)")
    for dangerous in ("=1+1", "+31 6 1234", "-2+3", "@x", "\tx"):
        department = read_csv(register_csv([dataclasses.replace(ANONYMOUS_CASE, department=dangerous)], "en"))[1][7]
        assert department == "'" + dangerous


def test_the_register_as_xlsx_with_real_dates_and_a_frozen_bold_header():
    book = openpyxl.load_workbook(BytesIO(register_xlsx([WARNING_LETTER_CASE, ANONYMOUS_CASE], "en")))
    assert book.sheetnames == ["Register"]
    sheet = book["Register"]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.b for cell in sheet[1]) and sheet["A1"].value == "Reference"
    assert sheet["C2"].value == datetime(2026, 3, 2) and sheet["C2"].number_format == "DD-MM-YYYY"
    assert sheet["B3"].value is None  # no incident date
    assert all(sheet.column_dimensions[letter].width >= 10 for letter in "ABCDEFGHIJ")
    department = sheet["H3"]
    assert department.value == '=HYPERLINK("http://x";"klik")'
    assert department.data_type == "s" and department.quotePrefix  # text, never run as a formula
    assert sheet["S2"].value == WARNING_LETTER_CASE.account and sheet["S3"].value is None


def quarter_statistics() -> Statistics:
    reports = generated_reports(300, seed=5, start=datetime(2025, 1, 1, tzinfo=UTC), days=500)
    published = publish(reports, zone=AMSTERDAM, now=datetime(2026, 6, 1, tzinfo=UTC), departments=DEPARTMENTS)
    return published.statistics(Period.quarter(2026, 1))


def expected_rows(statistics: Statistics) -> list[tuple[object, ...]]:
    """(group, count, previous, change, share) per line, in the order of the export."""
    rows: list[tuple[object, ...]] = []
    for column in statistics.columns:
        total = statistics.total[column]
        rows.append((column, total.current, total.previous, total.change, None))
        for table in statistics.tables.values():
            for row in table.rows:
                if column in row.cells:
                    c = row.cells[column]
                    rows.append((column, c.current, c.previous, c.change, c.share))
        rows += [(column, None, None, None, statistics.register_shares[k][column]) for k in statistics.register_shares]
        for durations in (statistics.acknowledgement[column], statistics.reaction_time[column]):
            rows += [(column, durations.median, None, None, None), (column, durations.p90, None, None, None)]
    return rows


def test_the_statistics_csv_holds_exactly_the_shown_figures():
    statistics = quarter_statistics()
    header, *rows = read_csv(statistics_csv([statistics], "nl"))
    assert header == ["Periode", "Groep", "Indeling", "Waarde", "Aantal", "Vorige periode", "Verschil", "Aandeel (%)"]
    expected = expected_rows(statistics)
    assert len(rows) == len(expected)
    groups = {
        Column.ALL: "Alle meldingen",
        Column.STAFF: "Medewerkers",
        Column.OFFICE_HOLDERS: "Politieke ambtsdragers",
    }

    def text(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, Suppressed):
            return "×"
        if isinstance(value, Fraction):
            return f"{float(value * 100):.1f}".replace(".", ",")
        return str(value)

    for line, (column, count, previous, change, share) in zip(rows, expected, strict=True):
        assert line[0] == "1e kwartaal 2026" and line[1] == groups[column]
        assert line[4:] == [text(count), text(previous), text(change), text(share)]
    assert any(line[4] == "×" for line in rows) and any(line[4].isdigit() for line in rows)
    assert any("," in line[7] for line in rows)  # a decimal comma for Dutch Excel
    assert ["1e kwartaal 2026", "Alle meldingen", "Afdeling", "Niet ingevuld"] in [line[:4] for line in rows]


def test_the_statistics_xlsx_holds_the_same_figures_as_numbers():
    statistics = quarter_statistics()
    sheet = openpyxl.load_workbook(BytesIO(statistics_xlsx([statistics], "en")))["Statistics"]
    lines = list(sheet.iter_rows(min_row=2, values_only=True))
    expected = expected_rows(statistics)
    assert len(lines) == len(expected)
    for line, (_, count, previous, change, share) in zip(lines, expected, strict=True):
        for found, wanted in zip(line[4:7], (count, previous, change), strict=True):
            assert found == ("×" if isinstance(wanted, Suppressed) else wanted)
        if isinstance(share, Fraction):
            assert abs(line[7] - float(share)) < 1e-12
        else:
            assert line[7] == ("×" if isinstance(share, Suppressed) else None)
    assert sheet["H3"].number_format == "0.0%" or sheet["H3"].value in ("×", None)


def test_one_workbook_holds_a_sheet_per_export():
    book = openpyxl.load_workbook(BytesIO(workbook("nl", register=[ANONYMOUS_CASE], statistics=[quarter_statistics()])))
    assert book.sheetnames == ["Register", "Statistieken"]
    assert all(book[name].freeze_panes == "A2" for name in book.sheetnames)


def test_a_register_row_has_no_field_that_could_hold_who_reported():
    fields = {f.name for f in dataclasses.fields(RegisterRow)}
    assert not {name for name in fields if any(w in name for w in ("name", "user", "telegram", "phone", "mail"))} - {
        "consented_to_name"
    }


# The markers of tests/test_e2e_leak.py: what a reporter types, and who they are.
MARKERS = {
    "text": "MARKERTEXT7731 ik word bedreigd",
    "first name": "Markfirst4417",
    "last name": "Marklast2280",
    "username": "markuser_9055",
}


def files(rows: list[RegisterRow]) -> dict[str, bytes]:
    """Every byte the exports write: the CSVs as they are, the XLSX unpacked."""
    written = {"csv nl": register_csv(rows, "nl"), "csv en": register_csv(rows, "en")}
    with zipfile.ZipFile(BytesIO(register_xlsx(rows, "nl"))) as archive:
        written |= {f"xlsx {name}": archive.read(name) for name in archive.namelist()}
    return written


def leaks(written: dict[str, bytes]) -> list[str]:
    needles = [
        (name, n) for name, marker in [*MARKERS.items(), ("telegram id", TELEGRAM_ID)] for n in encodings(marker)
    ]
    xml_escaped = [(name, n.replace(b"'", b"&apos;")) for name, n in needles]
    return [f"{name} in {where}" for where, data in written.items() for name, n in needles + xml_escaped if n in data]


rows_with_accounts = st.lists(
    st.builds(
        dataclasses.replace,
        st.sampled_from([WARNING_LETTER_CASE, ANONYMOUS_CASE]),
        account=st.sampled_from(
            [
                f"{MARKERS['text']} (door {MARKERS['first name']} {MARKERS['last name']}, @{MARKERS['username']})",
                f"mijn id is {TELEGRAM_ID}",
            ]
        ),
        consented_to_name=st.just(False),
        reference=st.from_regex(r"MB-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", fullmatch=True),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=30, deadline=None)
@given(rows_with_accounts)
def test_no_identity_marker_reaches_an_export_without_consent(rows: list[RegisterRow]) -> None:
    assert leaks(files(rows)) == []
    # With consent the account is written: the markers are real, so the check has teeth.
    consented = [dataclasses.replace(row, consented_to_name=True) for row in rows]
    assert leaks(files(consented)) != []
