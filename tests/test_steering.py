"""/stats and /export over the real storage: the facts are written by the real transitions, the
figures match a hand count, nobody but coordinators sees them, and an erased reporter leaves a
count that links to no one."""

from __future__ import annotations

import csv
import io
from datetime import datetime

from openpyxl import load_workbook

import messages
from bot import dispatch
from bot.render import text
from flows.model import Audience
from flows.outcome import FileKind, StatsCharts, StatsView
from flows.statistics import Breakdown, Column, Form, Period, PeriodKind, Register, Suppressed
from flows.steering import published
from tests.support import (
    AMSTERDAM,
    COORDINATOR,
    HOLDERS_COUNSELLOR,
    STAFF_COUNSELLOR,
    ManualClock,
    World,
    reporter,
    staff,
)

MARCH = Period.month(2026, 3)
PNG = b"\x89PNG\r\n\x1a\n"


async def march_of_reports(world: World, clock: ManualClock) -> None:
    """In March 2026: six staff reports for a counsellor only, each acknowledged after 2 hours; five
    anonymous registrations by staff, registered after 3 hours and a conversation with the perpetrator
    10 hours later; five council members' reports for their counsellor, acknowledged after 4 hours."""
    clock.current = datetime(2026, 3, 2, 9, tzinfo=AMSTERDAM)
    for n in range(6):
        case = await world.report(reporter(5000 + n, f"Medewerker {n}", None))
        clock.advance(hours=2)
        handler = next(iter(case.counsellors))
        member = world.router.counsellor(handler)
        assert member is not None
        await world.casework.acknowledge(staff(member), case.reference)
        clock.advance(hours=1)
    for n in range(5):
        case = await world.report(reporter(6000 + n, f"Anoniem {n}", None), wish="anonymous_register")
        clock.advance(hours=3)
        await world.casework.acknowledge(staff(COORDINATOR), case.reference)
        clock.advance(hours=10)
        out = await world.casework.record_action(staff(COORDINATOR), case.reference, "conversation", "completed")
        assert out.toast is None or out.toast.key != "toast.not_yours"
    for n in range(5):
        case = await world.report(reporter(7000 + n, f"Raadslid {n}", None), role="council_member")
        clock.advance(hours=4)
        await world.casework.acknowledge(staff(HOLDERS_COUNSELLOR), case.reference)
    clock.current = datetime(2026, 4, 2, 9, tzinfo=AMSTERDAM)


async def test_the_figures_of_a_month_match_a_hand_count(world, clock):
    await march_of_reports(world, clock)
    figures = await published(world.storage, AMSTERDAM, clock.now())
    march = figures.statistics(MARCH)
    # By hand: 16 reports, 11 by staff and 5 by office holders, all threats made in person.
    hand = {
        (None, Column.ALL): 16,
        (None, Column.STAFF): 11,
        (None, Column.OFFICE_HOLDERS): 5,
        (Register.REGISTERED, Column.ALL): 5,
        (Register.COUNSELLOR_ONLY, Column.ALL): 11,
        (Register.COUNSELLOR_ONLY, Column.OFFICE_HOLDERS): 5,
    }
    assert march.total[Column.ALL].current == 16
    register = {row.value: row.cells for row in march.tables[Breakdown.REGISTER].rows}
    shown = 0
    for (value, column), count in hand.items():
        cells = march.total if value is None else register[value]
        current = cells[column].current
        # Protection may hide a cell, but a shown one is exactly the hand count.
        assert current in (count, Suppressed.HIDDEN)
        shown += current == count
    assert shown >= 3
    forms = {row.value: row.cells[Column.ALL].current for row in march.tables[Breakdown.FORM].rows}
    assert forms[Form.THREAT] == 16
    # 6 × 2 h, 5 × 3 h, 5 × 4 h: the median lies between the 8th and 9th (3 h), 90% within 4 h.
    assert (march.acknowledgement[Column.ALL].median, march.acknowledgement[Column.ALL].p90) == (3, 4)
    reactions = {row.value: row.cells[Column.ALL].current for row in march.tables[Breakdown.REACTION].rows}
    assert reactions["within_24h"] in (5, Suppressed.HIDDEN)


async def test_a_coordinator_reads_the_month_with_buttons_to_turn_and_choose(world, clock):
    await march_of_reports(world, clock)
    coby = staff(COORDINATOR)
    out = await world.services.steering.stats(coby)  # the latest whole quarter: Q1 2026
    screen = out.replies[0]
    rendered = text("nl", screen)
    assert "1e kwartaal 2026" in rendered
    assert screen.protect_content
    assert messages.length(rendered) <= messages.MAX_TEXT
    month = await dispatch.press(world.services, coby, StatsView(PeriodKind.MONTH, 2026, 3, "a"), "meldbot_test_bot")
    assert month.edit_pressed is not None  # the view turns in place
    march = text("nl", month.edit_pressed)
    assert "maart 2026" in march.lower()
    assert "<b>Meldingen: 16</b>" in march
    assert "Bedreiging: 16" in march
    assert "de helft binnen 3 uur, 90% binnen 4 uur" in march
    labels = [choice.label for row in month.edit_pressed.keyboard for choice in row]
    assert "list.previous" in labels and "list.next" not in labels  # March is the latest whole month
    for audience in ("s", "h"):
        for language in ("nl", "en"):
            one = await world.services.steering.stats(coby, StatsView(PeriodKind.YEAR, 2025, 1, audience))
            assert messages.length(text(language, one.replies[0])) <= messages.MAX_TEXT


async def test_the_charts_are_pictures_with_a_caption_in_the_readers_language(world, clock):
    await march_of_reports(world, clock)
    out = await world.services.steering.stats_charts(staff(COORDINATOR), StatsCharts(PeriodKind.MONTH, 2026, 3, "a"))
    assert [f.kind for f in out.files] == [FileKind.PHOTO] * 3
    assert all(f.content.startswith(PNG) for f in out.files)
    captions = [messages.plain("nl", f.caption.key, f.caption.params) for f in out.files]
    assert captions[0] == "Meldingen per maand, naar vorm, tot en met maart 2026 (Alle meldingen)"


async def test_only_those_who_steer_see_statistics_and_only_coordinators_export(world, clock):
    await march_of_reports(world, clock)
    view, charts = StatsView(PeriodKind.MONTH, 2026, 3, "a"), StatsCharts(PeriodKind.MONTH, 2026, 3, "a")
    for outsider in (reporter(5000, "Medewerker 0", None), staff(STAFF_COUNSELLOR), staff(HOLDERS_COUNSELLOR)):
        for action in (view, charts):
            out = await dispatch.press(world.services, outsider, action, "meldbot_test_bot")
            assert out.replies == [] and out.files == [] and out.edit_pressed is None
            assert out.toast is not None and out.toast.key == "toast.not_yours"
        assert (await world.services.steering.stats(outsider)).replies == []
        assert (await world.services.steering.export(outsider)).files == []


async def test_a_period_that_has_not_ended_is_not_shown(world, clock):
    await march_of_reports(world, clock)
    out = await world.services.steering.stats(staff(COORDINATOR), StatsView(PeriodKind.MONTH, 2026, 4, "a"))
    assert out.replies == [] and out.toast is not None and out.toast.key == "toast.stale"


async def test_the_export_holds_registered_cases_without_identity_and_words_only_with_consent(world, clock):
    clock.current = datetime(2026, 3, 2, 9, tzinfo=AMSTERDAM)
    anonymous = await world.report(
        reporter(8101, "Anna Anoniem", "anna_anoniem"), wish="anonymous_register", text="GEHEIMEWOORDEN bij de balie"
    )
    clock.advance(minutes=5)
    named = await world.report(
        reporter(8102, "Nico Naam", "nico_naam"),
        wish="counsellor_and_register",
        share_coordinator=True,
        text="Hij dreigde met zijn auto",
    )
    await world.report(reporter(8103, "Vera Vertrouwelijk", None), text="alleen voor de vertrouwenspersoon")
    out = await world.services.steering.export(staff(COORDINATOR))
    names = [f.file_name for f in out.files]
    assert names[0].endswith(".csv") and names[1].endswith(".csv") and names[2].endswith(".xlsx")
    register = out.files[0].content
    assert register.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte order mark, for Excel
    rows = list(csv.reader(io.StringIO(register.decode("utf-8-sig")), delimiter=";"))
    assert [row[0] for row in rows[1:]] == [anonymous.reference, named.reference]
    account = rows[0].index(messages.plain("nl", "export.account"))
    assert rows[1][account] == "" and rows[2][account] == "Hij dreigde met zijn auto"
    book = load_workbook(io.BytesIO(out.files[2].content))
    sheet = [
        [cell for cell in row]
        for row in book[messages.plain("nl", "export.sheet.register")].iter_rows(values_only=True)
    ]
    assert [row[0] for row in sheet[1:]] == [anonymous.reference, named.reference]
    everything = register.decode("utf-8-sig") + out.files[1].content.decode("utf-8-sig") + repr(sheet)
    for marker in ("Anna", "Anoniem", "anna_anoniem", "Nico", "nico_naam", "8101", "8102", "GEHEIMEWOORDEN", "Vera"):
        assert marker not in everything
    entries = await world.storage.audit.entries()
    assert entries[-1].action == "exported" and entries[-1].actor == COORDINATOR.name


async def test_an_erased_reporter_leaves_a_count_that_links_to_no_one(world, clock):
    await march_of_reports(world, clock)
    before = await world.storage.facts.all()
    gone = reporter(5000, "Medewerker 0", None)
    person = await world.storage.people.find(gone.telegram_id)
    assert person is not None
    cases = await world.storage.cases.of_person(person.id)
    facts_ids = {case.facts_id for case in cases}
    assert None not in facts_ids
    await world.mycases.forget(gone, __import__("flows.outcome", fromlist=["Forget"]).Forget(confirm=True))
    assert await world.storage.people.find(gone.telegram_id) is None
    after = await world.storage.facts.all()
    assert sorted(after) == sorted(before)  # still counted
    # Nothing in the database names the row any more: its id lived only in the erased case's sealed state.
    async with world.storage.db.transaction() as conn:
        for facts_id in facts_ids:
            assert facts_id is not None
            async with conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'report_facts'"
            ) as cursor:
                tables = [row[0] for row in await cursor.fetchall()]
            for table in tables:
                async with conn.execute(f"SELECT * FROM {table}") as cursor:
                    for row in await cursor.fetchall():
                        assert all(facts_id not in str(value) for value in tuple(row)), table


async def test_the_facts_follow_consent_check_ins_and_the_survey(world, clock):
    clock.current = datetime(2026, 3, 2, 9, tzinfo=AMSTERDAM)
    case = await world.report(reporter(8201, "Sam", None))
    [row] = await world.storage.facts.all()
    assert (row.in_register, row.forms, row.channel, row.role, row.month) == (
        0,
        "threat",
        "in_person",
        "employee",
        "2026-03",
    )
    assert row.department is None and row.perpetrator == "citizen_client" and row.acknowledged_hours is None
    from flows.lifecycle import ConsentAnswer, consent

    await world.storage.cases.change(case.id, lambda c: consent(c, ConsentAnswer.ANONYMOUS, []), clock.now())
    [row] = await world.storage.facts.all()
    assert row.in_register == 1
    await world.storage.cases.change(case.id, lambda c: consent(c, ConsentAnswer.WITHDRAW, []), clock.now())
    [row] = await world.storage.facts.all()
    assert row.in_register == 0
    figures = await published(world.storage, AMSTERDAM, datetime(2026, 4, 2, tzinfo=AMSTERDAM))
    assert figures.statistics(MARCH, Audience.STAFF).columns == (Column.STAFF,)


async def test_only_a_change_to_an_ended_month_makes_stats_work_the_figures_out_again(world, clock):
    await march_of_reports(world, clock)
    clock.current = datetime(2026, 3, 30, 9, tzinfo=AMSTERDAM)
    late = await world.report(reporter(5090, "Laat", None))
    clock.current = datetime(2026, 4, 2, 9, tzinfo=AMSTERDAM)
    version = await world.storage.facts.version()
    fresh = await world.report(reporter(5091, "Nieuw", None))  # April: not shown before April has ended
    member = world.router.counsellor(next(iter(fresh.counsellors)))
    assert member is not None
    await world.casework.acknowledge(staff(member), fresh.reference)
    assert await world.storage.facts.version() == version
    member = world.router.counsellor(next(iter(late.counsellors)))
    assert member is not None
    await world.casework.acknowledge(staff(member), late.reference)  # a March report: March's figures change
    assert await world.storage.facts.version() == version + 1
    out = await world.services.steering.stats(staff(COORDINATOR), StatsView(PeriodKind.MONTH, 2026, 3, "a"))
    assert "<b>Meldingen: 17</b>" in text("nl", out.replies[0])
