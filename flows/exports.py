"""The register and the statistics, for Excel: CSV and XLSX files as bytes.

What this module owns
---------------------
Two exports, each as CSV and as an XLSX sheet:

* the register: one row per registered case (:class:`RegisterRow`, which the caller fills
  from its records) with the fields a municipal incident register keeps. A row has no
  field for a name, a username or a Telegram id, so none can be written; the reporter's
  account of what happened is written only when the row says the reporter consented to
  their name, else its column stays empty;
* the statistics: the protected figures of one or more periods, exactly as /stats shows
  them, a hidden number written as the marker "×".

CSV for Dutch Excel: semicolon separated, UTF-8 with a byte order mark (else Excel reads
it as Windows-1252), CRLF line ends, a decimal comma. Dates are ISO 8601 (2026-03-14):
Excel turns that into a real date in every regional setting, it cannot be misread as
month-first by an English reader, and it sorts as text too. A text cell starting with
= + - @ (or a tab or carriage return) gets an apostrophe in front, so Excel never runs
it as a formula; in XLSX such a cell is stored as text with Excel's quote prefix. Headers
come from the message catalogue in the reader's language.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from functools import cache
from io import BytesIO, StringIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

import messages
from flows.model import Channel, Consequence, Role
from flows.statistics import Breakdown, Cell, Form, Perpetrator, RegisterShare, Statistics, Suppressed
from flows.statistics_text import breakdown_label, column_label, period_label, value_label


@dataclass(frozen=True, slots=True)
class ReactionRecord:
    """A reaction towards the perpetrator and, once known, its outcome.

    ``kind``: conversation, warning_letter, access_ban, contact_ban, service_suspended,
    mediation, police_report_victim, police_report_employer, damages_claimed,
    civil_action or no_reaction; ``outcome``: in_progress, completed or unsuccessful.
    """

    kind: str
    recorded_on: date
    outcome: str | None = None
    outcome_on: date | None = None


@dataclass(frozen=True, slots=True)
class RegisterRow:
    """One registered case, as the export writes it. There is deliberately no field for
    who reported: the reference is how a case is found again."""

    reference: str
    reported_on: date
    registered_on: date
    incident_on: date | None
    forms: frozenset[Form]
    channel: Channel
    role: Role
    department: str | None
    work_process: str | None
    perpetrator: Perpetrator
    reactions: tuple[ReactionRecord, ...] = ()
    police_report: bool = False
    police_report_on: date | None = None
    damages_claimed: bool = False
    damages_claimed_on: date | None = None
    consequences: frozenset[Consequence] = frozenset()
    influenced_decision: bool | None = None
    consented_to_name: bool = False
    account: str | None = None  # the reporter's own words; written only with consented_to_name


Value = str | int | date | Fraction | Suppressed | None

_REGISTER_COLUMNS = (
    "export.reference",
    "export.incident_on",
    "export.reported_on",
    "export.registered_on",
    "export.forms",
    "export.channel",
    "export.role",
    "export.department",
    "export.work_process",
    "export.perpetrator",
    "export.reactions",
    "export.first_reaction_on",
    "export.police_report",
    "export.police_report_on",
    "export.damages",
    "export.damages_on",
    "export.consequences",
    "export.influenced_decision",
    "export.account",
)
_STATISTICS_COLUMNS = (
    "export.period",
    "export.column",
    "export.breakdown",
    "export.value",
    "export.count",
    "export.previous",
    "export.change",
    "export.share",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


# -- what goes in the cells ---------------------------------------------------------


@cache
def _text(language: str, key: str) -> str:
    return messages.plain(language, key)


def _label_or_code(language: str, key: str, code: str) -> str:
    return _text(language, key) if messages.has(key) else code


def _yes_no(language: str, answer: bool | None) -> str | None:
    if answer is None:
        return None
    return _text(language, "export.yes" if answer else "export.no")


def _reaction_text(language: str, reaction: ReactionRecord) -> str:
    kind = _label_or_code(language, f"export.reaction.{reaction.kind}", reaction.kind)
    params: dict[str, object] = {"kind": kind, "recorded": reaction.recorded_on.isoformat()}
    if reaction.outcome is None:
        return messages.plain(language, "export.reaction_entry", params)
    params["outcome"] = _label_or_code(language, f"export.outcome.{reaction.outcome}", reaction.outcome)
    if reaction.outcome_on is None:
        return messages.plain(language, "export.reaction_outcome_undated", params)
    params["decided"] = reaction.outcome_on.isoformat()
    return messages.plain(language, "export.reaction_outcome", params)


def _register_values(language: str, row: RegisterRow) -> list[Value]:
    forms = "; ".join(value_label(language, Breakdown.FORM, form) for form in Form if form in row.forms)
    consequences = "; ".join(
        _text(language, f"export.consequence.{c.value}") for c in Consequence if c in row.consequences
    )
    reactions = sorted(row.reactions, key=lambda r: r.recorded_on)
    return [
        row.reference,
        row.incident_on,
        row.reported_on,
        row.registered_on,
        forms,
        value_label(language, Breakdown.CHANNEL, row.channel),
        value_label(language, Breakdown.ROLE, row.role),
        value_label(language, Breakdown.DEPARTMENT, row.department),
        value_label(language, Breakdown.WORK_PROCESS, row.work_process),
        value_label(language, Breakdown.PERPETRATOR, row.perpetrator),
        "\n".join(_reaction_text(language, r) for r in reactions),
        reactions[0].recorded_on if reactions else None,
        _yes_no(language, row.police_report),
        row.police_report_on,
        _yes_no(language, row.damages_claimed),
        row.damages_claimed_on,
        consequences,
        _yes_no(language, row.influenced_decision),
        row.account if row.consented_to_name else None,
    ]


def _statistics_values(language: str, statistics: Statistics) -> list[list[Value]]:
    period = period_label(language, statistics.period)
    rows: list[list[Value]] = []
    for column in statistics.columns:
        group = column_label(language, column)
        total = statistics.total[column]
        rows.append([period, group, messages.plain(language, "stats.total"), None, *_comparison(total), None])
        for breakdown, table in statistics.tables.items():
            name = breakdown_label(language, breakdown)
            for row in table.rows:
                if column in row.cells:
                    cell = row.cells[column]
                    label = value_label(language, breakdown, row.value)
                    rows.append([period, group, name, label, *_comparison(cell), cell.share])
        register = messages.plain(language, "stats.breakdown.register")
        for kind in RegisterShare:
            label = messages.plain(language, f"stats.share.{kind.value}")
            rows.append([period, group, register, label, None, None, None, statistics.register_shares[kind][column]])
        for key, durations in (
            ("stats.durations.acknowledgement", statistics.acknowledgement[column]),
            ("stats.durations.reaction", statistics.reaction_time[column]),
        ):
            name = messages.plain(language, key)
            for label_key, hours in (
                ("stats.durations.median", durations.median),
                ("stats.durations.p90", durations.p90),
            ):
                rows.append([period, group, name, messages.plain(language, label_key), hours, None, None, None])
    return rows


def _comparison(cell: Cell) -> list[Value]:
    return [cell.current, cell.previous, cell.change]


# -- CSV ----------------------------------------------------------------------------


def _csv_text(language: str, value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, Suppressed):
        return _text(language, "stats.hidden")
    if isinstance(value, bool):
        raise TypeError("booleans are written as yes or no")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Fraction):
        return f"{float(value * 100):.1f}".replace(".", ",")
    if isinstance(value, date):
        return value.isoformat()
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _csv(language: str, headers: Sequence[str], rows: Iterable[Sequence[Value]]) -> bytes:
    out = StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([messages.plain(language, key) for key in headers])
    for row in rows:
        writer.writerow([_csv_text(language, value) for value in row])
    return out.getvalue().encode("utf-8-sig")


def register_csv(rows: Iterable[RegisterRow], language: str) -> bytes:
    """The register as CSV for Dutch Excel, one line per case."""
    return _csv(language, _REGISTER_COLUMNS, (_register_values(language, row) for row in rows))


def statistics_csv(statistics: Iterable[Statistics], language: str) -> bytes:
    """The protected figures of one or more periods as CSV for Dutch Excel."""
    return _csv(language, _STATISTICS_COLUMNS, (r for s in statistics for r in _statistics_values(language, s)))


# -- XLSX ---------------------------------------------------------------------------


def _xlsx_cell(sheet: WriteOnlyWorksheet, language: str, value: Value) -> object:
    """The cell for a value: plain where Excel reads it right, else a cell with its format."""
    if isinstance(value, Suppressed):
        return _text(language, "stats.hidden")
    if isinstance(value, Fraction):
        cell = WriteOnlyCell(sheet, value=float(value))
        cell.number_format = "0.0%"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "DD-MM-YYYY"
        return cell
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        if not text.startswith(_FORMULA_STARTS) and "\n" not in text:
            return text
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"  # never a formula, whatever the text starts with
        cell.quotePrefix = text.startswith(_FORMULA_STARTS)
        if "\n" in text:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        return cell
    return value


def _sheet(book: Workbook, title: str, language: str, headers: Sequence[str], rows: Iterable[Sequence[Value]]) -> None:
    lines = [list(row) for row in rows]
    titles = [messages.plain(language, key) for key in headers]
    sheet = book.create_sheet(title)
    for index, header in enumerate(titles):
        longest = max((_width(line[index]) for line in lines), default=0)
        sheet.column_dimensions[get_column_letter(index + 1)].width = max(len(header), longest) + 2
    sheet.freeze_panes = "A2"
    header_cells = []
    for header in titles:
        cell = WriteOnlyCell(sheet, value=header)
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    for line in lines:
        sheet.append([_xlsx_cell(sheet, language, value) for value in line])


def _width(value: Value) -> int:
    if isinstance(value, date):
        return 10
    if isinstance(value, str):
        return min(max(len(part) for part in value.split("\n")), 60)
    return len(str(value)) if isinstance(value, int) else 6


def workbook(
    language: str, *, register: Iterable[RegisterRow] | None = None, statistics: Iterable[Statistics] = ()
) -> bytes:
    """An XLSX workbook with a sheet per export given: the register, the statistics, or both."""
    book = Workbook(write_only=True)
    book.properties.creator = "meldbot"
    if register is not None:
        rows = (_register_values(language, row) for row in register)
        _sheet(book, messages.plain(language, "export.sheet.register"), language, _REGISTER_COLUMNS, rows)
    figures = list(statistics)
    if figures or register is None:
        rows = (r for s in figures for r in _statistics_values(language, s))
        _sheet(book, messages.plain(language, "export.sheet.statistics"), language, _STATISTICS_COLUMNS, rows)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def register_xlsx(rows: Iterable[RegisterRow], language: str) -> bytes:
    return workbook(language, register=rows)


def statistics_xlsx(statistics: Iterable[Statistics], language: str) -> bytes:
    return workbook(language, statistics=statistics)
