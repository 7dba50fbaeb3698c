"""The case file (dossier) for a police report, as a PDF.

This module owns what a case file says and how it looks: a cover with the contents, a
police information page on the seven questions the police ask (who, what, where, with
what, how, when, why), and per report its facts, the reporter's account, a timeline and
every attachment with its SHA-256 (photos shown). The caller gathers a :class:`Dossier`
(decrypted, in the reader's language, with the reporter's name only when the reporter
consented); :func:`render_dossier` turns it into PDF bytes. No storage, no Telegram.

Texts come from the message catalogue (``messages.plain``: a PDF is not Telegram HTML).
The font is DejaVu Sans as shipped with matplotlib, so nothing needs a system package;
harfbuzz (``uharfbuzz``) shapes Arabic and Hebrew and puts right-to-left text in order.
A character the font lacks (most emoji) is written as its Unicode name between brackets,
so that a threatening 🔪 in an account stays visible as evidence instead of vanishing.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

import matplotlib
from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos
from fpdf.fonts import TTFFont
from PIL import Image, ImageOps

import messages
from flows.model import AttachmentKind, Channel, Form, Language, Role
from flows.perpetrator import IdentifierKind, PerpetratorDetail, normalise

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


# -- what a case file is made of ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Organisation:
    """The employer: its name, and the address the police may use for correspondence."""

    name: str
    address: str  # one or more lines


class TimelineKind(StrEnum):
    REPORT = "report"
    ACKNOWLEDGEMENT = "acknowledgement"
    REACTION = "reaction"  # a reaction towards the perpetrator (conversation, letter, ban …)
    OUTCOME = "outcome"  # what came of it, as fed back to the reporter
    POLICE = "police"  # police report filed (with its number), later steps of police and prosecution
    DAMAGES = "damages"
    MESSAGE = "message"  # a message the reporter agreed to include


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One step in a case's life; give every moment a time zone (UTC from storage is fine)."""

    moment: datetime
    kind: TimelineKind
    text: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file as the server received it. ``content`` is given for photos, to show them."""

    kind: AttachmentKind
    file_name: str | None
    size: int
    sha256: str  # hex, of the file as received
    received_at: datetime
    content: bytes | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[0-9a-fA-F]{64}", self.sha256):
            raise ValueError("sha256 must be 64 hexadecimal digits")


@dataclass(frozen=True, slots=True)
class Facts:
    """What is known of the incident; None (or empty) where it is not."""

    forms: tuple[Form, ...] = ()
    when: date | None = None
    where: str | None = None
    channel: Channel | None = None
    role: Role | None = None  # the reporter's position
    perpetrator: tuple[PerpetratorDetail, ...] = ()
    means: str | None = None  # with what: a weapon, an object
    motive: str | None = None  # why, as far as known


@dataclass(frozen=True, slots=True)
class CaseSection:
    """One report in the case file. ``reporter_name`` None means: no consent, no name anywhere."""

    reference: str
    facts: Facts
    account: str
    reporter_name: str | None = None
    timeline: tuple[TimelineEntry, ...] = ()
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class Dossier:
    """A case file for one report, or for a set of linked reports about the same person."""

    organisation: Organisation
    language: Language
    generated_at: datetime
    cases: tuple[CaseSection, ...]
    zone: ZoneInfo = AMSTERDAM  # moments are shown in this zone

    def __post_init__(self) -> None:
        if not self.cases:
            raise ValueError("a case file needs at least one report")
        references = [case.reference for case in self.cases]
        if len(set(references)) != len(references):
            raise ValueError("each report appears once in a case file")

    @property
    def references(self) -> tuple[str, ...]:
        return tuple(case.reference for case in self.cases)


class Question(StrEnum):
    """The seven questions the police ask, in their order (wie, wat, waar, waarmee, hoe, wanneer, waarom)."""

    WHO = "who"
    WHAT = "what"
    WHERE = "where"
    MEANS = "means"  # with what
    HOW = "how"
    WHEN = "when"
    WHY = "why"


@dataclass(frozen=True, slots=True)
class PoliceAnswer:
    """One question answered from the facts, one line per fact; no lines: unknown, left blank."""

    question: Question
    lines: tuple[str, ...]


def police_answers(dossier: Dossier) -> tuple[PoliceAnswer, ...]:
    """The police information page's answers, in the dossier's language.

    Who: every perpetrator detail once (the same identifier written two ways counts once);
    what: the forms; where, with what, why: as given; how: the channel; when: the date.
    For linked reports each answer line starts with its report's reference.
    """
    language = dossier.language.value
    several = len(dossier.cases) > 1
    described = [(case.reference, _described(language, case.facts)) for case in dossier.cases]

    def per_case(pick: Callable[[_Described], str | None]) -> tuple[str, ...]:
        known = [(reference, pick(facts)) for reference, facts in described]
        return tuple(f"{reference}: {text}" if several else text for reference, text in known if text)

    return (
        PoliceAnswer(Question.WHO, tuple(_perpetrator_lines(language, dossier.cases))),
        PoliceAnswer(Question.WHAT, per_case(lambda facts: facts.forms)),
        PoliceAnswer(Question.WHERE, per_case(lambda facts: facts.where)),
        PoliceAnswer(Question.MEANS, per_case(lambda facts: facts.means)),
        PoliceAnswer(Question.HOW, per_case(lambda facts: facts.channel)),
        PoliceAnswer(Question.WHEN, per_case(lambda facts: facts.when)),
        PoliceAnswer(Question.WHY, per_case(lambda facts: facts.motive)),
    )


@dataclass(frozen=True, slots=True)
class _Described:
    """The facts of one report in words; None where unknown."""

    forms: str | None
    when: str | None
    where: str | None
    channel: str | None
    means: str | None
    motive: str | None
    role: str | None


def _described(language: str, facts: Facts) -> _Described:
    def given(text: str | None) -> str | None:
        return text.strip() if text and text.strip() else None

    return _Described(
        forms="; ".join(messages.plain(language, f"dossier.form.{form.value}") for form in facts.forms) or None,
        when=messages.format_date(language, facts.when) if facts.when else None,
        where=given(facts.where),
        channel=messages.plain(language, f"dossier.channel.{facts.channel.value}") if facts.channel else None,
        means=given(facts.means),
        motive=given(facts.motive),
        role=messages.plain(language, f"role.{facts.role.value}") if facts.role else None,
    )


def _perpetrator_lines(language: str, cases: Sequence[CaseSection]) -> list[str]:
    """Every detail once, in the order given; two ways of writing one identifier count once."""
    seen: set[tuple[IdentifierKind, str]] = set()
    lines = []
    for case in cases:
        for detail in case.facts.perpetrator:
            value = detail.value.strip()
            if not value:
                continue
            same = (detail.kind, normalise(detail.kind, value) or value.casefold())
            if same in seen:
                continue
            seen.add(same)
            lines.append(f"{messages.plain(language, f'perpetrator.kind.{detail.kind.value}')}: {value}")
    return lines


def render_dossier(dossier: Dossier) -> bytes:
    """The case file as PDF bytes.

    Drawn twice: the first pass finds the page count and where each chapter starts, the
    second writes them into the contents and the footers (the layout is the same).
    """
    pictures = {
        (case.reference, number): _picture(attachment.content, attachment.sha256)
        for case in dossier.cases
        for number, attachment in enumerate(case.attachments, start=1)
        if attachment.content is not None
    }
    layout, _ = _draw(dossier, pictures, _Layout(), write=False)
    _, pdf = _draw(dossier, pictures, layout, write=True)
    return pdf


def _draw(
    dossier: Dossier, pictures: Mapping[tuple[str, int], _Picture], known: _Layout, write: bool
) -> tuple[_Layout, bytes]:
    document = _CaseFilePdf(dossier, pictures, known)
    try:
        document.compose()
        return document.layout(), bytes(document.output()) if write else b""
    finally:
        # fontTools keeps the font files open until this; a bot that runs for months must not leak them.
        for font in document.fonts.values():
            if isinstance(font, TTFFont):
                font.close()


# -- photos -------------------------------------------------------------------------

MAX_PICTURE_PIXELS = 40_000_000  # larger than any phone photo; guards memory
PICTURE_LONG_SIDE = 1600  # enough for a printed A4 width; the original keeps every pixel


class _PictureProblem(StrEnum):
    UNREADABLE = "unreadable"
    MISMATCH = "mismatch"


_Picture = Image.Image | _PictureProblem


def _picture(content: bytes, sha256: str) -> _Picture:
    if hashlib.sha256(content).hexdigest() != sha256.lower():
        return _PictureProblem.MISMATCH
    try:
        with Image.open(io.BytesIO(content)) as opened:
            if opened.width * opened.height > MAX_PICTURE_PIXELS:
                return _PictureProblem.UNREADABLE
            opened.draft("RGB", (PICTURE_LONG_SIDE, PICTURE_LONG_SIDE))
            picture = ImageOps.exif_transpose(opened)
            picture.thumbnail((PICTURE_LONG_SIDE, PICTURE_LONG_SIDE))
            # Transparent parts (screenshots often have them) show as the paper they are printed on.
            paper = Image.new("RGB", picture.size, (255, 255, 255))
            paper.paste(picture.convert("RGBA"), mask=picture.convert("RGBA"))
            return paper
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return _PictureProblem.UNREADABLE


# -- text the font can show -----------------------------------------------------------

FONT_FILES = {
    "": "DejaVuSans.ttf",
    "B": "DejaVuSans-Bold.ttf",
    "I": "DejaVuSans-Oblique.ttf",
    "BI": "DejaVuSans-BoldOblique.ttf",
}
MONO_FILE = "DejaVuSansMono.ttf"
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Me", "Zl", "Zp"}
_EMOJI_MODIFIERS = range(0x1F3FB, 0x1F400)


def font_directory() -> Path:
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def printable(text: str, glyphs: frozenset[int]) -> str:
    """``text`` with every character the font lacks named, or dropped when it is invisible.

    Tabs become spaces and line breaks stay; a missing emoji becomes ``[hocho]``, a
    missing joiner, variation selector or skin tone disappears.
    """
    out = []
    for char in text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    "):
        code = ord(char)
        if char == "\n" or code in glyphs:
            out.append(char)
        elif unicodedata.category(char) in _INVISIBLE or code in _EMOJI_MODIFIERS:
            continue
        else:
            out.append("[" + unicodedata.name(char, f"U+{code:04X}").lower() + "]")
    return "".join(out)


# -- layout -------------------------------------------------------------------------

INK = (33, 37, 41)
MUTED = (96, 103, 112)
ACCENT = (21, 66, 115)  # the dark blue of Dutch government documents
ALERT = (166, 28, 36)
RULE = (200, 205, 210)
PANEL = (241, 244, 248)

BODY = 12.0
SMALL = 9.5
LINE = 6.2  # mm per body line
MARGIN = 20.0
LABEL_WIDTH = 46.0
PICTURE_MAX_HEIGHT = 115.0
PICTURE_MAX_MM_PER_PIXEL = 25.4 / 72  # no larger than at 72 dpi


@dataclass(slots=True)
class _Layout:
    """What the first pass learns: the page count and where each chapter starts."""

    pages: int | None = None
    chapters: dict[str, int] = field(default_factory=dict)


class _CaseFilePdf(FPDF):
    def __init__(self, dossier: Dossier, pictures: Mapping[tuple[str, int], _Picture], known: _Layout) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.dossier = dossier
        self.language = dossier.language.value
        self.pictures = pictures
        self.known = known
        self.found = _Layout()
        directory = font_directory()
        for style, file in FONT_FILES.items():
            self.add_font("sans", style, str(directory / file))
        self.add_font("mono", "", str(directory / MONO_FILE))
        self.glyphs = {style: frozenset(self.fonts[f"sans{style}"].cmap) for style in FONT_FILES}  # type: ignore[union-attr]
        self.set_text_shaping(True)
        self.set_margins(MARGIN, 27, MARGIN)
        self.set_auto_page_break(True, margin=22)
        self.set_text_color(*INK)
        references = dossier.references
        self.set_title(", ".join(references))
        self.set_subject(self.t("dossier.title"))
        self.set_author(dossier.organisation.name)  # never the reporter
        self.set_creator("meldbot")
        self.set_lang("nl-NL" if dossier.language is Language.NL else "en-GB")
        self.set_creation_date(dossier.generated_at)
        self.short_reference = (
            references[0]
            if len(references) == 1
            else self.t("dossier.references_more", {"reference": references[0], "n": len(references) - 1})
        )

    # -- texts ----------------------------------------------------------------------

    def t(self, key: str, params: Mapping[str, object] | None = None) -> str:
        return messages.plain(self.language, key, params)

    def moment(self, when: datetime) -> str:
        local = when.astimezone(self.dossier.zone) if when.tzinfo else when
        return self.t("dossier.moment", {"date": local.date(), "time": local.strftime("%H:%M")})

    def size(self, size: int) -> str:
        comma = "," if self.dossier.language is Language.NL else "."
        if size < 1024:
            return f"{size} bytes"
        if size < 1024 * 1024:
            return f"{size / 1024:.1f} kB".replace(".", comma)
        return f"{size / 1024 / 1024:.1f} MB".replace(".", comma)

    def write_text(self, text: str, size: float = BODY, style: str = "", color: tuple[int, int, int] = INK) -> None:
        """A paragraph over the full width, wrapping and breaking pages as needed."""
        self.set_font("sans", style, size)
        self.set_text_color(*color)
        self.multi_cell(
            0, size * 0.52, printable(text, self.glyphs[style]), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        self.set_text_color(*INK)

    def gap(self, height: float) -> None:
        self.set_y(self.get_y() + height)

    def room_for(self, height: float) -> None:
        """Start a new page unless ``height`` mm still fit on this one."""
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()

    def rule(self) -> None:
        self.set_draw_color(*RULE)
        self.set_line_width(0.3)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())

    # -- page furniture ---------------------------------------------------------------

    def header(self) -> None:
        self.set_y(11)
        self.set_font("sans", "B", SMALL)
        confidential = self.t("dossier.confidential").upper()
        room = self.epw - self.get_string_width(confidential) - 6
        self.set_font("sans", "", SMALL)
        self.set_text_color(*MUTED)
        name = printable(self.dossier.organisation.name, self.glyphs[""])
        while self.get_string_width(name) > room:  # a long name is cut, never run into the marking
            name = name[: int(len(name) * room / self.get_string_width(name)) - 1].rstrip() + "…"
        self.cell(room, 5, name, align=Align.L)
        self.set_x(self.l_margin)
        self.set_font("sans", "B", SMALL)
        self.set_text_color(*ALERT)
        self.cell(0, 5, confidential, align=Align.R)
        self.set_y(17.5)
        self.rule()
        self.set_text_color(*INK)
        self.set_y(self.t_margin)

    def footer(self) -> None:
        self.set_y(-15)
        self.rule()
        self.set_y(-13)
        self.set_font("sans", "", SMALL)
        self.set_text_color(*MUTED)
        when = self.moment(self.dossier.generated_at)
        self.cell(0, 5, f"{self.short_reference} · {self.t('dossier.drawn_up', {'when': when})}", align=Align.L)
        self.set_x(self.l_margin)
        pages = str(self.known.pages) if self.known.pages else "?"
        self.cell(0, 5, self.t("dossier.page", {"page": self.page_no(), "pages": pages}), align=Align.R)
        self.set_text_color(*INK)

    def chapter(self, key: str, title: str) -> None:
        """A new page with a big title, listed in the contents and the PDF outline."""
        self.add_page()
        self.start_section(title, level=0)
        self.found.chapters[key] = self.page_no()
        self.set_font("sans", "B", 19)
        self.set_text_color(*ACCENT)
        self.multi_cell(0, 9, printable(title, self.glyphs["B"]), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)
        self.gap(2)

    def heading(self, title: str, keep_with: float = 14, outline: bool = True) -> None:
        """A section title, kept on one page with the first ``keep_with`` mm of what follows."""
        self.room_for(18 + keep_with)
        self.gap(5)
        if outline:
            self.start_section(title, level=1)
        self.set_font("sans", "B", 14)
        self.set_text_color(*ACCENT)
        self.multi_cell(0, 7, printable(title, self.glyphs["B"]), align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.gap(1)
        self.rule()
        self.gap(3)
        self.set_text_color(*INK)

    def field_row(self, label: str, lines: Sequence[str], hint: str | None = None, blank: bool = False) -> None:
        """A label on the left and its value on the right; ``blank`` leaves a line to write on."""
        self.room_for(12)
        top, page = self.get_y(), self.page_no()
        self.set_font("sans", "B", BODY - 0.5)
        self.set_text_color(*ACCENT if hint else MUTED)
        label = printable(label, self.glyphs["B"])
        self.multi_cell(LABEL_WIDTH - 3, LINE, label, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if hint:
            self.set_font("sans", "", SMALL)
            self.set_text_color(*MUTED)
            hint = printable(hint, self.glyphs[""])
            self.multi_cell(LABEL_WIDTH - 3, 4.5, hint, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        label_bottom = self.get_y()
        self.set_text_color(*INK)
        self.set_xy(self.l_margin + LABEL_WIDTH, top)
        if blank:
            self.set_draw_color(*MUTED)
            self.set_line_width(0.25)
            self.line(self.get_x(), top + 8.5, self.w - self.r_margin, top + 8.5)
            self.set_y(top + 10)
        else:
            self.set_font("sans", "", BODY)
            text = printable("\n".join(lines), self.glyphs[""])
            self.multi_cell(0, LINE, text, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if self.page_no() == page:
            self.set_y(max(self.get_y(), label_bottom))
        self.gap(2)

    # -- the document -----------------------------------------------------------------

    def layout(self) -> _Layout:
        return _Layout(pages=self.pages_count, chapters=dict(self.found.chapters))

    def compose(self) -> None:
        self.cover()
        self.police_page()
        for case in self.dossier.cases:
            self.case_section(case)

    def cover(self) -> None:
        dossier = self.dossier
        self.add_page()
        self.gap(6)
        self.set_font("sans", "B", 30)
        self.set_text_color(*ACCENT)
        self.cell(0, 13, self.t("dossier.title"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        subtitle = (
            self.t("dossier.one_report", {"reference": dossier.references[0]})
            if len(dossier.cases) == 1
            else self.t("dossier.linked_reports", {"n": len(dossier.cases)})
        )
        self.write_text(subtitle, size=16, color=INK)
        self.gap(6)
        self.panel(f"{self.t('dossier.confidential_note')}\n\n{self.t('dossier.purpose')}", ALERT)
        self.gap(6)
        organisation = dossier.organisation
        self.field_row(self.t("dossier.organisation"), [organisation.name])
        self.field_row(self.t("dossier.correspondence_address"), organisation.address.splitlines())
        self.field_row(self.t("dossier.reports"), list(dossier.references))
        self.field_row(self.t("dossier.drawn_up_label"), [self.moment(dossier.generated_at)])
        self.heading(self.t("dossier.contents"), outline=False)
        chapters = [("police", self.t("dossier.police_title"))]
        chapters += [
            (case.reference, self.t("dossier.one_report", {"reference": case.reference})) for case in dossier.cases
        ]
        self.set_font("sans", "", BODY)
        for key, title in chapters:
            page = self.known.chapters.get(key)
            self.cell(150, LINE + 1, printable(title, self.glyphs[""]))
            self.cell(0, LINE + 1, str(page) if page else "?", align=Align.R, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.heading(self.t("dossier.about"), outline=False)
        self.write_text(self.t("dossier.about_text"), size=SMALL + 0.5, color=MUTED)

    def panel(self, text: str, bar: tuple[int, int, int], style: str = "") -> None:
        """A shaded block with a coloured bar on its left, for what must not be missed."""
        self.set_font("sans", style, BODY - 1)
        body = printable(text, self.glyphs[style])
        height = cast(float, self.multi_cell(self.epw - 10, LINE - 0.4, body, dry_run=True, output="HEIGHT")) + 8
        self.room_for(height)
        top = self.get_y()
        self.set_fill_color(*PANEL)
        self.rect(self.l_margin, top, self.epw, height, style="F")
        self.set_draw_color(*bar)
        self.set_line_width(1.2)
        self.line(self.l_margin + 0.6, top, self.l_margin + 0.6, top + height)
        self.set_xy(self.l_margin + 6, top + 4)
        self.multi_cell(self.epw - 10, LINE - 0.4, body, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_y(top + height)

    def police_page(self) -> None:
        dossier = self.dossier
        several = len(dossier.cases) > 1
        self.chapter("police", self.t("dossier.police_title"))
        self.write_text(self.t("dossier.police_intro"), size=BODY - 1)
        self.gap(3)
        self.panel(self.t("dossier.public_task"), ACCENT, style="B")
        self.gap(4)
        organisation = dossier.organisation
        self.field_row(
            self.t("dossier.correspondence_address"), [organisation.name, *organisation.address.splitlines()]
        )
        victims = []
        for case in dossier.cases:
            role = self.t(f"role.{case.facts.role.value}") if case.facts.role else self.t("dossier.unknown")
            line = (
                self.t("dossier.victim_named", {"role": role, "name": case.reporter_name})
                if case.reporter_name
                else self.t("dossier.victim_unnamed", {"role": role})
            )
            victims.append(f"{case.reference}: {line}" if several else line)
        self.field_row(self.t("dossier.victim"), victims)
        police = sorted(
            (
                (entry, case.reference)
                for case in dossier.cases
                for entry in case.timeline
                if entry.kind is TimelineKind.POLICE
            ),
            key=lambda pair: pair[0].moment,
        )
        if police:
            self.field_row(
                self.t("dossier.police_so_far"),
                [
                    f"{self.moment(e.moment)}: {e.text}" + (f" ({reference})" if several else "")
                    for e, reference in police
                ],
            )
        self.gap(1)
        self.rule()
        self.gap(4)
        for answer in police_answers(dossier):
            question = answer.question.value
            self.field_row(
                self.t(f"dossier.question.{question}"),
                answer.lines,
                hint=self.t(f"dossier.hint.{question}"),
                blank=not answer.lines,
            )
        self.gap(2)
        self.write_text(self.t("dossier.police_further"), size=SMALL + 0.5, color=MUTED)

    def case_section(self, case: CaseSection) -> None:
        self.chapter(case.reference, self.t("dossier.one_report", {"reference": case.reference}))
        unknown = self.t("dossier.unknown")
        facts = _described(self.language, case.facts)
        self.heading(self.t("dossier.facts"))
        self.field_row(self.t("dossier.fact.forms"), [facts.forms or unknown])
        self.field_row(self.t("dossier.fact.when"), [facts.when or unknown])
        self.field_row(self.t("dossier.fact.where"), [facts.where or unknown])
        self.field_row(self.t("dossier.fact.channel"), [facts.channel or unknown])
        if facts.means:
            self.field_row(self.t("dossier.fact.means"), [facts.means])
        if facts.motive:
            self.field_row(self.t("dossier.fact.motive"), [facts.motive])
        self.field_row(self.t("dossier.fact.role"), [facts.role or unknown])
        self.field_row(self.t("dossier.fact.reporter"), [case.reporter_name or self.t("dossier.name_withheld")])
        self.field_row(self.t("dossier.fact.perpetrator"), _perpetrator_lines(self.language, [case]) or [unknown])

        self.heading(self.t("dossier.account"))
        self.write_text(self.t("dossier.account_note"), size=SMALL, style="I", color=MUTED)
        self.gap(2)
        self.write_text(case.account.strip() or self.t("dossier.account_empty"))

        self.heading(self.t("dossier.timeline"))
        if not case.timeline:
            self.write_text(self.t("dossier.timeline_empty"), color=MUTED)
        for entry in sorted(case.timeline, key=lambda e: e.moment):
            self.room_for(14)
            self.write_text(
                f"{self.moment(entry.moment)} · {self.t(f'dossier.timeline.{entry.kind.value}')}",
                size=BODY - 1,
                style="B",
                color=ACCENT,
            )
            self.write_text(entry.text)
            self.gap(3)

        first = self.attachment_height(self.pictures.get((case.reference, 1))) if case.attachments else 14
        self.heading(self.t("dossier.attachments"), keep_with=first)
        if not case.attachments:
            self.write_text(self.t("dossier.attachments_empty"), color=MUTED)
        for number, attachment in enumerate(case.attachments, start=1):
            self.attachment(number, attachment, self.pictures.get((case.reference, number)))

    def attachment(self, number: int, attachment: Attachment, picture: _Picture | None) -> None:
        self.room_for(self.attachment_height(picture))  # the description and its photo stay on one page
        name = attachment.file_name or self.t("dossier.attachment_unnamed")
        self.write_text(self.t("dossier.attachment_title", {"number": number, "name": name}), style="B")
        self.gap(1)
        self.field_row(self.t("dossier.attachment_received"), [self.moment(attachment.received_at)])
        kind = self.t(f"dossier.attachment.{attachment.kind.value}")
        self.field_row(self.t("dossier.attachment_size"), [f"{kind}, {self.size(attachment.size)}"])
        # The fingerprint on one line of its own, so that it can be copied and compared whole.
        self.room_for(14)
        self.set_font("sans", "B", BODY - 0.5)
        self.set_text_color(*MUTED)
        self.cell(0, LINE, self.t("dossier.attachment_sha256"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)
        self.set_font("mono", "", 10)
        self.cell(0, LINE, attachment.sha256.lower(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.gap(3)
        if isinstance(picture, Image.Image):
            self.show(picture)
        elif picture is _PictureProblem.MISMATCH:
            self.write_text(self.t("dossier.photo_mismatch"), size=BODY - 1, style="B", color=ALERT)
        elif picture is _PictureProblem.UNREADABLE:
            self.write_text(self.t("dossier.photo_unreadable"), size=BODY - 1, style="I", color=MUTED)
        else:
            self.write_text(self.t("dossier.attachment_not_shown"), size=BODY - 1, style="I", color=MUTED)
        self.gap(5)

    def attachment_height(self, picture: _Picture | None) -> float:
        return 45 + (self.picture_size(picture)[1] if isinstance(picture, Image.Image) else 10)

    def picture_size(self, picture: Image.Image) -> tuple[float, float]:
        """As large as fits the width and a good half page, but a small picture not blown up into blocks."""
        scale = min(self.epw / picture.width, PICTURE_MAX_HEIGHT / picture.height, PICTURE_MAX_MM_PER_PIXEL)
        return picture.width * scale, picture.height * scale

    def show(self, picture: Image.Image) -> None:
        """The photo, centred, with a thin frame."""
        width, height = self.picture_size(picture)
        self.room_for(height + 4)
        x, y = self.l_margin + (self.epw - width) / 2, self.get_y()
        self.image(picture, x=x, y=y, w=width, h=height)
        self.set_draw_color(*RULE)
        self.set_line_width(0.3)
        self.rect(x, y, width, height)
        self.set_y(y + height + 2)
