"""Scenarios for flows.dossier: the case file a coordinator hands to the police, read back as the police would.

Every PDF here is parsed back (pypdf for its text, outline and metadata; pypdfium2 to
draw a page); pictures go to tmp_path only.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pypdfium2
import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

import messages
from flows.dossier import (
    Attachment,
    CaseSection,
    Dossier,
    Facts,
    Organisation,
    Question,
    TimelineEntry,
    TimelineKind,
    police_answers,
    printable,
    render_dossier,
)
from flows.model import AttachmentKind, Channel, Form, Language, Role
from flows.perpetrator import IdentifierKind, PerpetratorDetail

REPORTED = datetime(2026, 3, 14, 9, 12, tzinfo=UTC)  # 10:12 in Amsterdam
MUNICIPALITY = Organisation("Gemeente Súdwest-Fryslân", "Postbus 10000\n8600 HA Sneek")
REPORTER = "Anna de Vries"


def photo(width: int = 1200, height: int = 900, colour: tuple[int, int, int] = (70, 120, 160)) -> bytes:
    picture = Image.new("RGB", (width, height), colour)
    pen = ImageDraw.Draw(picture)
    pen.rectangle([width // 6, height // 5, width * 5 // 6, height * 4 // 5], outline=(250, 250, 250), width=12)
    pen.line([0, 0, width, height], fill=(230, 200, 40), width=10)
    out = io.BytesIO()
    picture.save(out, "JPEG")
    return out.getvalue()


def received(kind: AttachmentKind, name: str, content: bytes, minutes: int, shown: bool = True) -> Attachment:
    return Attachment(
        kind=kind,
        file_name=name,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        received_at=REPORTED + timedelta(minutes=minutes),
        content=content if shown else None,
    )


COUNTER_PHOTO = received(AttachmentKind.PHOTO, "balie.jpg", photo(), 3)
SCREENSHOT = received(AttachmentKind.PHOTO, "screenshot_instagram.jpg", photo(900, 1400, (150, 60, 60)), 4)
LETTER = received(AttachmentKind.DOCUMENT, "brief.pdf", b"%PDF-1.4 a letter from him" * 40, 5, shown=False)
BROKEN_PHOTO = received(AttachmentKind.PHOTO, "kapot.jpg", b"these bytes are no picture", 6)

TIMELINE = (
    TimelineEntry(REPORTED, TimelineKind.REPORT, "Melding gedaan via meldbot."),
    TimelineEntry(REPORTED + timedelta(hours=1), TimelineKind.ACKNOWLEDGEMENT, "De vertrouwenspersoon pakt het op."),
    TimelineEntry(REPORTED + timedelta(days=1), TimelineKind.REACTION, "Waarschuwingsbrief verstuurd (afgerond)."),
    TimelineEntry(
        REPORTED + timedelta(days=2), TimelineKind.POLICE, "Aangifte door de werkgever, nummer PL0900-2026071234."
    ),
    TimelineEntry(
        REPORTED + timedelta(days=3), TimelineKind.MESSAGE, "Melder: ‘Hij stond vanochtend weer bij de ingang.’"
    ),
    TimelineEntry(
        REPORTED + timedelta(days=5), TimelineKind.DAMAGES, "Kapotte telefoon: € 249,00; verzekering nagevraagd."
    ),
)

THREAT_AT_THE_COUNTER = CaseSection(
    reference="MB-2345-6789",
    facts=Facts(
        forms=(Form.THREAT, Form.VERBAL_AGGRESSION),
        when=date(2026, 3, 14),
        where="Stadskantoor, balie Burgerzaken, Markt 1",
        channel=Channel.IN_PERSON,
        role=Role.EMPLOYEE,
        perpetrator=(
            PerpetratorDetail(IdentifierKind.NAME, "Piet Jansen"),
            PerpetratorDetail(IdentifierKind.HANDLE, "https://www.instagram.com/pietj_85/"),
            PerpetratorDetail(IdentifierKind.PHONE, "06-12345678"),
            PerpetratorDetail(IdentifierKind.DESCRIPTION, "Man van ongeveer 40, kaal, zwarte bodywarmer"),
        ),
    ),
    account=(
        "Er stond een man aan de balie die een uittreksel wilde zonder afspraak. Toen ik zei dat dat niet kon, "
        "sloeg hij met zijn vuist op de balie en zei: ‘Ik weet waar je woont.’ Een collega heeft het gezien."
    ),
    reporter_name=REPORTER,
    timeline=TIMELINE,
    attachments=(COUNTER_PHOTO, SCREENSHOT, LETTER, BROKEN_PHOTO),
)

MESSAGES_TO_THE_ALDERMAN = CaseSection(
    reference="MB-3456-7890",
    facts=Facts(
        forms=(Form.INTIMIDATION,),
        when=date(2026, 2, 2),
        channel=Channel.ONLINE,
        role=Role.ALDERMAN,
        perpetrator=(PerpetratorDetail(IdentifierKind.HANDLE, "@PietJ_85"),),
    ),
    account="Hij blijft me berichten sturen op Instagram, ook 's nachts.",
)


def case_file(*cases: CaseSection, language: Language = Language.NL) -> Dossier:
    return Dossier(MUNICIPALITY, language, datetime(2026, 3, 20, 10, 30, tzinfo=UTC), cases)


def pages(pdf: bytes) -> list[str]:
    """Each page's text with runs of whitespace made single spaces, as a reader sees it."""
    return [re.sub(r"\s+", " ", page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


def everything(pdf: bytes) -> str:
    """The running text of the whole file, without the header and footer of each page."""
    return " ".join(re.sub(r"^.*?(VERTROUWELIJK|CONFIDENTIAL) (.*) MB-\S+ .*$", r"\2", page) for page in pages(pdf))


@pytest.fixture(scope="module")
def one_report() -> bytes:
    return render_dossier(case_file(THREAT_AT_THE_COUNTER))


@pytest.fixture(scope="module")
def two_reports() -> bytes:
    return render_dossier(case_file(THREAT_AT_THE_COUNTER, MESSAGES_TO_THE_ALDERMAN))


# -- what the police read -------------------------------------------------------------


def test_every_page_names_the_report_marks_it_confidential_and_counts_pages(one_report: bytes):
    texts = pages(one_report)
    assert len(texts) >= 4
    for number, text in enumerate(texts, start=1):
        assert "MB-2345-6789" in text
        assert "VERTROUWELIJK" in text
        assert f"Pagina {number} van {len(texts)}" in text


def test_every_attachment_is_listed_with_its_fingerprint_and_when_it_arrived(one_report: bytes):
    text = everything(one_report)
    for attachment in THREAT_AT_THE_COUNTER.attachments:
        assert attachment.sha256 in text
        assert attachment.file_name in text
    assert "Ontvangen op 14 maart 2026, 10:15" in text  # the counter photo, in Amsterdam time
    assert "Niet afgebeeld in dit dossier" in text  # the letter: listed with its hash only


def test_the_timeline_runs_from_the_report_to_the_damages(one_report: bytes):
    text = everything(one_report)
    text = text[text.index("Tijdlijn") :]  # the police page lists the police report too
    positions = [text.index(entry.text) for entry in TIMELINE]
    assert positions == sorted(positions)
    for label in ["Melding gedaan", "Ontvangst bevestigd", "Optreden tegen de dader", "Politie en justitie", "Schade"]:
        assert f"· {label}" in text
    assert "16 maart 2026, 10:12 · Politie en justitie Aangifte door de werkgever, nummer PL0900-2026071234." in text


def test_the_police_page_asks_the_seven_questions_under_the_employers_address(one_report: bytes):
    police_page = pages(one_report)[1]
    assert "Informatie voor de aangifte" in police_page
    questions = ["Wie?", "Wat?", "Waar?", "Waarmee?", "Hoe?", "Wanneer?", "Waarom?"]
    positions = [police_page.index(question) for question in questions]
    assert positions == sorted(positions)
    assert "Dit gaat over een incident tegen een medewerker of ambtsdrager met een publieke taak" in police_page
    assert "Veilige Publieke Taak" in police_page
    assert "domiciliekeuze" in police_page
    assert "Adres voor correspondentie Gemeente Súdwest-Fryslân Postbus 10000 8600 HA Sneek" in police_page
    assert "Aangifte en vervolg 16 maart 2026, 10:12: Aangifte door de werkgever, nummer PL0900-2026071234." in (
        police_page
    )


def test_the_police_answers_come_from_the_facts_and_leave_the_unknown_blank():
    answers = {answer.question: answer.lines for answer in police_answers(case_file(THREAT_AT_THE_COUNTER))}
    assert list(answers) == list(Question)
    assert answers[Question.WHO] == (
        "Naam: Piet Jansen",
        "Bijnaam of account op sociale media: https://www.instagram.com/pietj_85/",
        "Telefoonnummer: 06-12345678",
        "Beschrijving: Man van ongeveer 40, kaal, zwarte bodywarmer",
    )
    assert answers[Question.WHAT] == ("Bedreiging; Schelden, schreeuwen of een dreigende houding",)
    assert answers[Question.WHERE] == ("Stadskantoor, balie Burgerzaken, Markt 1",)
    assert answers[Question.HOW] == ("Persoonlijk",)
    assert answers[Question.WHEN] == ("14 maart 2026",)
    assert answers[Question.MEANS] == ()  # unknown: a blank line to fill in
    assert answers[Question.WHY] == ()


def test_what_the_reporter_knows_of_means_and_motive_is_filled_in():
    facts = replace(THREAT_AT_THE_COUNTER.facts, means="Een honkbalknuppel", motive="Zijn vergunning werd ingetrokken")
    answers = police_answers(case_file(replace(THREAT_AT_THE_COUNTER, facts=facts)))
    assert {a.question: a.lines for a in answers}[Question.MEANS] == ("Een honkbalknuppel",)
    assert {a.question: a.lines for a in answers}[Question.WHY] == ("Zijn vergunning werd ingetrokken",)


def test_a_report_with_nothing_known_leaves_every_question_open():
    bare = CaseSection(reference="MB-9999-0000", facts=Facts(), account="Ik weet niet meer precies wat er was.")
    assert all(answer.lines == () for answer in police_answers(case_file(bare)))
    assert "Wie?" in everything(render_dossier(case_file(bare)))


def test_linked_reports_answer_per_report_and_name_one_handle_once():
    answers = {a.question: a.lines for a in police_answers(case_file(THREAT_AT_THE_COUNTER, MESSAGES_TO_THE_ALDERMAN))}
    assert answers[Question.HOW] == ("MB-2345-6789: Persoonlijk", "MB-3456-7890: Via sociale media of elders online")
    assert answers[Question.WHERE] == ("MB-2345-6789: Stadskantoor, balie Burgerzaken, Markt 1",)
    # "@PietJ_85" in the second report is the Instagram link of the first: listed once.
    handles = [line for line in answers[Question.WHO] if line.startswith("Bijnaam")]
    assert handles == ["Bijnaam of account op sociale media: https://www.instagram.com/pietj_85/"]


# -- the reporter's name --------------------------------------------------------------


def test_without_consent_the_reporters_name_is_nowhere_in_the_case_file():
    without = render_dossier(case_file(replace(THREAT_AT_THE_COUNTER, reporter_name=None)))
    text = everything(without)
    assert REPORTER not in text
    assert "Anna" not in text
    assert "naam niet opgenomen" in text
    assert "niet opgenomen (geen toestemming van de melder)" in text
    metadata = PdfReader(io.BytesIO(without)).metadata
    assert all("Anna" not in str(value) for value in metadata.values())


def test_with_consent_the_reporters_name_is_on_the_police_page_and_in_the_facts(one_report: bytes):
    texts = pages(one_report)
    assert f"Slachtoffer Medewerker: {REPORTER}" in texts[1]
    assert f"Naam van de melder {REPORTER}" in " ".join(texts[2:])
    metadata = PdfReader(io.BytesIO(one_report)).metadata
    assert metadata.title == "MB-2345-6789"
    assert metadata.author == "Gemeente Súdwest-Fryslân"  # the organisation, never the reporter


# -- shape and length -----------------------------------------------------------------


def test_a_long_account_wraps_over_pages_and_loses_nothing():
    sentences = [f"Zin {n} van mijn verhaal over wat er bij de balie gebeurde." for n in range(1, 140)]
    account = " ".join(sentences)
    assert len(account) > 8000
    pdf = render_dossier(case_file(replace(THREAT_AT_THE_COUNTER, account=account, attachments=())))
    texts = pages(pdf)
    first = next(i for i, text in enumerate(texts) if sentences[0] in text)
    last = next(i for i, text in enumerate(texts) if sentences[-1] in text)
    assert last > first
    text = everything(pdf)
    assert all(sentence in text for sentence in sentences)


def test_linked_reports_get_a_chapter_each_and_the_contents_point_to_them(two_reports: bytes):
    reader = PdfReader(io.BytesIO(two_reports))
    chapters = {
        item.title: reader.get_destination_page_number(item) + 1
        for item in reader.outline
        if not isinstance(item, list)
    }
    assert list(chapters) == ["Informatie voor de aangifte", "Melding MB-2345-6789", "Melding MB-3456-7890"]
    texts = pages(two_reports)
    for title, page in chapters.items():
        assert texts[page - 1].split("VERTROUWELIJK ", 1)[1].startswith(title)  # the page opens with it
        assert f"{title} {page}" in texts[0]  # the contents on the cover
    assert "2 meldingen over dezelfde persoon" in texts[0]
    assert reader.metadata.title == "MB-2345-6789, MB-3456-7890"
    assert "MB-2345-6789 en 1 andere" in texts[-1]
    police_page = texts[chapters["Informatie voor de aangifte"] - 1]
    assert "MB-3456-7890: Wethouder: naam niet opgenomen" in police_page


def test_photos_are_shown_and_a_broken_one_is_listed_with_a_note(one_report: bytes):
    reader = PdfReader(io.BytesIO(one_report))
    texts = pages(one_report)
    shown = [i for i, text in enumerate(texts) if COUNTER_PHOTO.sha256 in text or SCREENSHOT.sha256 in text]
    assert shown and all(len(reader.pages[i].images) >= 1 for i in shown)
    assert sum(len(page.images) for page in reader.pages) == 2  # the letter and the broken photo are not pictures
    broken = next(text for text in texts if BROKEN_PHOTO.sha256 in text)
    assert "Deze foto kan niet worden afgebeeld" in broken


def test_a_photo_that_does_not_match_its_fingerprint_is_not_shown():
    tampered = replace(COUNTER_PHOTO, content=photo(colour=(10, 10, 10)))
    pdf = render_dossier(case_file(replace(THREAT_AT_THE_COUNTER, attachments=(tampered,))))
    assert "komt niet overeen met de SHA-256" in everything(pdf)
    assert sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages) == 0


def test_emoji_right_to_left_text_and_control_characters_do_not_break_the_case_file():
    account = (
        "Hij stuurde 🔪💀 en 👨‍👩‍👧 en 👍🏽 en ❤️. Hij schreef: سأقتلك إذا لم تعطني الرخصة. "
        "En in het Hebreeuws: שלום עולם. \x00\x07 Tab\there.\r\nNieuwe regel. \ud800 😀"
    )
    details = (PerpetratorDetail(IdentifierKind.HANDLE, "@😈duivel"),)
    case = replace(
        THREAT_AT_THE_COUNTER,
        account=account,
        facts=replace(THREAT_AT_THE_COUNTER.facts, perpetrator=details),
        attachments=(),
    )
    text = everything(render_dossier(case_file(case)))
    assert "[hocho][skull]" in text  # the threat stays visible as evidence
    assert "Nieuwe regel." in text


def test_english_readers_get_an_english_case_file():
    pdf = render_dossier(case_file(THREAT_AT_THE_COUNTER, language=Language.EN))
    text = everything(pdf)
    for words in ["Case file", "Information for the police report", "Who?", "With what?", "The reporter's account"]:
        assert words in text
    assert all("CONFIDENTIAL" in page and "Drawn up on 20 March 2026, 11:30" in page for page in pages(pdf))
    assert "Page 1 of" in pages(pdf)[0]
    assert "Received on 14 March 2026, 10:15" in text


def test_page_one_renders_as_a_readable_a4_page(one_report: bytes, tmp_path):
    page = pypdfium2.PdfDocument(one_report)[0]
    picture = page.render(scale=1.5).to_pil().convert("L")
    picture.save(tmp_path / "page1.png")
    reopened = Image.open(tmp_path / "page1.png")
    assert reopened.format == "PNG"
    assert abs(reopened.height / reopened.width - 297 / 210) < 0.01
    histogram = reopened.histogram()
    dark, white = sum(histogram[:128]), sum(histogram[250:])
    pixels = reopened.width * reopened.height
    assert dark > pixels * 0.01  # there is text on it
    assert white > pixels * 0.5  # and it is a page, not a blot


# -- building blocks ------------------------------------------------------------------


def test_what_the_font_lacks_is_named_and_what_is_invisible_disappears():
    glyphs = frozenset(ord(c) for c in "abc ")
    assert printable("a🔪b", glyphs) == "a[hocho]b"
    assert printable("a\u200db\ufe0fc", glyphs) == "abc"  # joiner and variation selector
    assert printable("a\tb\r\nc", glyphs) == "a    b\nc"
    assert printable("a\x00b\ud800c", glyphs) == "abc"


def test_a_case_file_needs_reports_each_once():
    with pytest.raises(ValueError):
        case_file()
    with pytest.raises(ValueError):
        case_file(THREAT_AT_THE_COUNTER, THREAT_AT_THE_COUNTER)


def test_a_fingerprint_must_be_a_sha256():
    with pytest.raises(ValueError):
        replace(COUNTER_PHOTO, sha256="not a hash")


def test_every_kind_of_fact_has_words_in_both_languages():
    keys = [f"dossier.form.{f.value}" for f in Form] + [f"dossier.channel.{c.value}" for c in Channel]
    keys += [f"role.{r.value}" for r in Role] + [f"dossier.timeline.{k.value}" for k in TimelineKind]
    keys += [f"dossier.attachment.{k.value}" for k in AttachmentKind]
    keys += [f"perpetrator.kind.{k.value}" for k in IdentifierKind]
    keys += [f"dossier.question.{q.value}" for q in Question] + [f"dossier.hint.{q.value}" for q in Question]
    assert [key for key in keys if not messages.has(key)] == []
