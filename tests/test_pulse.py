"""The safety pulse for office holders: who gets it and when, what an answer leaves in the
database (counts only, nothing that leads back to a person), help at once for "unsafe",
declining and muting, and what management sees (small numbers hidden, a chart)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.patches import Rectangle
from PIL import Image

from bot import render
from bot.config import Settings
from flows import pulse
from flows.aftercare import SupportContact
from flows.lifecycle import Drop, Notice, Party, Send, Timer, TimerKind
from flows.model import Language
from flows.outcome import Forget, Outcome, PulseAnswer, PulseDecline, StartReport
from flows.pulse import (
    NO,
    REASONS,
    SAFETY_POINTS,
    YES,
    PulsePlan,
    Question,
    counted,
    publish,
)
from flows.pulse_chart import pulse_chart, pulse_figure
from flows.statistics import Period, PeriodKind, Suppressed
from flows.statistics_text import period_label
from messages import Label
from storage import Storage
from storage.outbox import OutboxItem
from tests.support import AMSTERDAM, COORDINATOR, World, button, outbox, reporter, staff, to

COUNCIL_MEMBER = reporter(6001, "Raadslid Roos", "roosraad")
ALDERMAN = reporter(6002, "Wethouder Wim", None)
EMPLOYEE = reporter(6003, "Medewerker Mo", None)
DIRECTOR = reporter(6004, "Gemeentesecretaris Gea", None)  # the management role
ON = PulsePlan(enabled=True)
HIDDEN = Suppressed.HIDDEN


# -- when -----------------------------------------------------------------------------------


def test_easter_and_the_public_holidays_a_period_can_start_on():
    assert [pulse.easter_sunday(y) for y in (2024, 2025, 2026, 2027)] == [
        date(2024, 3, 31),
        date(2025, 4, 20),
        date(2026, 4, 5),
        date(2027, 3, 28),
    ]
    assert pulse.public_holidays(2024) >= {date(2024, 1, 1), date(2024, 4, 1), date(2024, 5, 9), date(2024, 12, 26)}
    assert date(2025, 5, 5) in pulse.public_holidays(2025) and date(2026, 5, 5) not in pulse.public_holidays(2026)


@pytest.mark.parametrize(
    ("period", "first_working_day"),
    [
        (Period.quarter(2026, 4), date(2026, 10, 1)),  # a Thursday
        (Period.quarter(2027, 1), date(2027, 1, 4)),  # New Year's Day on a Friday, then the weekend
        (Period.quarter(2024, 2), date(2024, 4, 2)),  # Easter Monday on 1 April
        (Period.month(2020, 6), date(2020, 6, 2)),  # Whit Monday on 1 June
        (Period.whole_year(2028), date(2028, 1, 3)),  # New Year's Day on a Saturday
    ],
)
def test_a_pulse_goes_out_on_the_first_working_day_of_its_period_at_ten(period, first_working_day):
    moment = pulse.send_moment(period, ON, AMSTERDAM)
    assert moment.astimezone(AMSTERDAM).date() == first_working_day
    assert moment.astimezone(AMSTERDAM).time() == time(10, 0)


def test_the_setting_is_a_month_a_quarter_or_a_year_and_off_by_default():
    assert Settings.model_validate({}).policy().pulse == PulsePlan(enabled=False, every=PeriodKind.QUARTER)
    on = Settings.model_validate(
        {
            "pulse": {"enabled": True, "every": "P1M", "send_at": "09:30"},
            "aftercare": {
                "support": [
                    {"kind": "office_holders", "name": "Ondersteuningsteam", "contact": "088-1234567"},
                    {"kind": "legal", "name": "Juridisch loket", "contact": "0900-8020"},
                ]
            },
        }
    ).policy()
    assert on.pulse == PulsePlan(
        True, PeriodKind.MONTH, time(9, 30), (SupportContact("office_holders", "Ondersteuningsteam", "088-1234567"),)
    )
    early = Settings.model_validate({"pulse": {"enabled": True, "send_at": "07:00"}})
    assert "[pulse] send_at = 07:00 falls in the quiet hours: the pulse waits until 08:00" in early.warnings()
    assert not any("[pulse]" in w for w in Settings.model_validate({"pulse": {"enabled": True}}).warnings())
    for wrong in ({"every": "P2M"}, {"every": "P14D"}, {"send_at": "25:00"}):
        with pytest.raises(ValueError):
            Settings.model_validate({"pulse": wrong})


# -- a round ---------------------------------------------------------------------------------


async def people(world: World) -> None:
    """A council member, an alderman and an employee who use the bot (their role is remembered)."""
    await world.report(COUNCIL_MEMBER, role="council_member")
    await world.report(ALDERMAN, role="alderman")
    await world.report(EMPLOYEE, role="employee")


async def run_round(world: World) -> bool:
    """Move the clock to the pulse round that is set and run it, as the timekeeper would."""
    items = [i for i in await world.storage.schedule.pending() if i.kind is TimerKind.PULSE_ROUND]
    assert len(items) == 1, "exactly one round is set"
    world.clock.current = max(world.clock.current, items[0].due_at)
    claimed = await world.storage.schedule.claim(items[0].id, world.clock.now(), timedelta(minutes=5))
    assert claimed is not None
    acted = await world.services.pulse.run(claimed)
    await world.storage.schedule.finish(claimed.id, world.clock.now())
    return acted


def item_for(world: World, who: Any, period: str) -> OutboxItem:
    index = world.storage.people.index_of(who.telegram_id)
    return OutboxItem("p", None, index, Party.REPORTER, Notice.PULSE, period, 0, 1, world.clock.now())


@pytest.fixture
def pulse_world(storage, clock) -> World:
    return World(storage, clock, pulse=ON, pulse_viewers=frozenset({DIRECTOR.telegram_id}))


async def test_office_holders_get_the_pulse_on_the_next_working_morning_and_employees_do_not(pulse_world):
    world = pulse_world  # 18 November 2026, a Wednesday, 11:30 in Amsterdam
    await people(world)
    due = await world.services.pulse.arm()
    assert due == datetime(2026, 11, 19, 9, 0, tzinfo=UTC)  # Thursday 10:00 local: the pulse was just switched on
    assert await world.services.pulse.arm() is None  # set once
    assert await run_round(world)
    rows = await outbox(world.storage, Notice.PULSE)
    assert to(world.storage, COUNCIL_MEMBER, rows) == [Notice.PULSE]
    assert to(world.storage, ALDERMAN, rows) == [Notice.PULSE]
    assert to(world.storage, EMPLOYEE, rows) == []
    assert {(row[1], row[3]) for row in rows} == {("reporter", "2026q4")}  # as to reporters: never in quiet hours
    # The next round is set for the first working day of the next quarter, and runs once.
    [following] = [i for i in await world.storage.schedule.pending() if i.kind is TimerKind.PULSE_ROUND]
    assert following.due_at == datetime(2027, 1, 4, 9, 0, tzinfo=UTC) and following.detail == "2027q1"
    assert not await world.storage.pulse.open_round("2026q4", [], Timer(TimerKind.PULSE_ROUND, due), due)


async def test_a_switched_off_pulse_sends_nothing_and_is_not_set_again(storage, clock):
    world = World(storage, clock)
    await people(world)
    assert await world.services.pulse.arm() is None
    await world.storage.schedule.add(None, [Timer(TimerKind.PULSE_ROUND, clock.now())], clock.now())
    assert not await run_round(world)
    assert await outbox(storage, Notice.PULSE) == []
    assert [i for i in await storage.schedule.pending() if i.kind is TimerKind.PULSE_ROUND] == []


# -- answering --------------------------------------------------------------------------------


async def answered_round(world: World) -> None:
    await people(world)
    await world.services.pulse.arm()
    await run_round(world)


async def press(world: World, who: Any, outcome: Outcome | None, label: str, action: Any = None) -> Outcome:
    from bot import dispatch

    chosen = action if action is not None else button(outcome, label)  # type: ignore[arg-type]
    return await dispatch.press(world.services, who, chosen, "meldbot_test_bot")


def first_question(world: World, who: Any) -> Outcome:
    reply = world.services.pulse.compose(item_for(world, who, "2026q4"))
    return Outcome(Language.NL, replies=[reply])


async def test_feeling_unsafe_brings_the_report_button_and_support_at_once_and_the_answer_is_counted(pulse_world):
    world = pulse_world
    await answered_round(world)
    assert await world.notices.authorise(item_for(world, COUNCIL_MEMBER, "2026q4")) == Send()
    screen = first_question(world, COUNCIL_MEMBER)
    assert screen.replies[0].key == "pulse.intro"
    before = world.storage.db._conn.total_changes
    out = await press(world, COUNCIL_MEMBER, screen, "pulse.safety.2")
    assert out.edit_pressed is not None and out.edit_pressed.key == "pulse.ask_unreported"
    [support] = out.replies
    assert support.key == "pulse.support" and support.keyboard[0][0].action == StartReport()
    assert support.params["contacts"] == Label("pulse.support_default")  # nothing configured
    out = await press(world, COUNCIL_MEMBER, out, "pulse.yes")
    assert out.edit_pressed.key == "pulse.ask_reasons" and out.replies == []  # help was offered already
    out = await press(world, COUNCIL_MEMBER, out, "pulse.reason.part_of_job")
    out = await press(world, COUNCIL_MEMBER, out, "pulse.reason.wont_help")
    out = await press(world, COUNCIL_MEMBER, out, "pulse.reason.not_serious")
    out = await press(world, COUNCIL_MEMBER, out, "pulse.reason.not_serious")  # changed her mind
    out = await press(world, COUNCIL_MEMBER, out, "pulse.done")
    assert out.edit_pressed.key == "pulse.ask_decision"
    assert world.storage.db._conn.total_changes == before  # nothing written while answering
    last_button = button(out, "pulse.no")
    out = await press(world, COUNCIL_MEMBER, out, "pulse.no")
    assert out.edit_pressed.key == "pulse.thanks"
    assert await world.storage.pulse.counts() == {
        "2026q4": {
            ("respondents", "all"): 1,
            ("safety", "2"): 1,
            ("unreported", "yes"): 1,
            ("reason", "part_of_job"): 1,
            ("reason", "wont_help"): 1,
            ("decision", "no"): 1,
        }
    }
    # Pressing again (or forging the last press) counts nothing twice.
    again = await press(world, COUNCIL_MEMBER, None, "", last_button)
    assert again.toast == Label("pulse.closed")
    assert (await world.storage.pulse.counts())["2026q4"][("respondents", "all")] == 1
    assert await world.notices.authorise(item_for(world, COUNCIL_MEMBER, "2026q4")) == Drop("closed")


async def test_unreported_incidents_bring_the_configured_support_team(storage, clock):
    team = SupportContact("office_holders", "Ondersteuningsteam Weerbaar Bestuur", "088-1234567")
    world = World(storage, clock, pulse=PulsePlan(enabled=True, support=(team,)))
    await answered_round(world)
    out = await press(world, ALDERMAN, first_question(world, ALDERMAN), "pulse.safety.4")
    assert out.replies == []  # feeling safe: no help pushed
    out = await press(world, ALDERMAN, out, "pulse.yes")
    [support] = out.replies
    assert "088-1234567" in str(support.params["contacts"])
    out = await press(world, ALDERMAN, out, "pulse.done")  # no reason chosen is fine
    out = await press(world, ALDERMAN, out, "pulse.yes")
    assert (await storage.pulse.counts())["2026q4"][("decision", "yes")] == 1


async def test_only_office_holders_in_the_current_round_can_answer_and_forged_answers_change_nothing(pulse_world):
    world = pulse_world
    await answered_round(world)
    before = world.storage.db._conn.total_changes
    complete = PulseAnswer("2026q4", safety=1, unreported=NO, decision=YES)
    for who, action in [
        (EMPLOYEE, complete),  # not an office holder
        (reporter(6099, "Onbekend"), complete),  # nobody the bot knows
        (COUNCIL_MEMBER, PulseAnswer("2026q3", safety=1, unreported=NO, decision=YES)),  # another period
        (COUNCIL_MEMBER, PulseAnswer("2027q1", safety=1, unreported=NO, decision=YES)),  # not opened
        (COUNCIL_MEMBER, PulseAnswer("2026q4", safety=9, unreported=NO, decision=YES)),  # no such point
        (COUNCIL_MEMBER, PulseAnswer("2026q4", safety=3, unreported=NO, reasons=2, decision=YES)),  # reasons for no
        (COUNCIL_MEMBER, PulseAnswer("2026q4", unreported=NO, decision=YES)),  # skipped a question
        (EMPLOYEE, PulseDecline("2026q4", mute=True)),
    ]:
        out = await press(world, who, None, "", action)
        assert out.toast is not None and out.edit_pressed is None, action
    assert world.storage.db._conn.total_changes == before


async def test_not_now_and_never_again_are_one_tap_and_respected(pulse_world):
    world = pulse_world
    await answered_round(world)
    out = await press(world, COUNCIL_MEMBER, first_question(world, COUNCIL_MEMBER), "pulse.not_now")
    assert out.edit_pressed.key == "pulse.declined"
    assert await world.storage.pulse.counts() == {}  # declining is not an answer
    out = await press(world, COUNCIL_MEMBER, None, "", PulseAnswer("2026q4", 5, NO, 0, False, NO))
    assert out.toast == Label("pulse.closed")  # this period is closed for her
    out = await press(world, ALDERMAN, first_question(world, ALDERMAN), "pulse.never")
    assert out.edit_pressed.key == "pulse.muted"
    council = await world.storage.people.find(COUNCIL_MEMBER.telegram_id)
    alderman = await world.storage.people.find(ALDERMAN.telegram_id)
    assert not await world.storage.pulse.muted(council.id) and await world.storage.pulse.muted(alderman.id)
    # The next quarter: the council member is asked again, the alderman never.
    assert await run_round(world)
    rows = [r for r in await outbox(world.storage, Notice.PULSE) if r[3] == "2027q1"]
    assert to(world.storage, COUNCIL_MEMBER, rows) == [Notice.PULSE]
    assert to(world.storage, ALDERMAN, rows) == []


async def test_who_muted_or_was_erased_after_the_round_went_out_gets_nothing(pulse_world):
    world = pulse_world
    await answered_round(world)
    alderman = await world.storage.people.find(ALDERMAN.telegram_id)
    await world.storage.pulse.mute(alderman.id, world.clock.now())
    assert await world.notices.authorise(item_for(world, ALDERMAN, "2026q4")) == Drop("muted")
    council = await world.storage.people.find(COUNCIL_MEMBER.telegram_id)
    await world.storage.people.erase(council.id, [], [], world.clock.now())
    assert await world.notices.authorise(item_for(world, COUNCIL_MEMBER, "2026q4")) == Drop("person_gone")
    assert await world.notices.authorise(item_for(world, EMPLOYEE, "2026q4")) == Drop("not_office_holder")
    world.clock.current += timedelta(days=60)  # the quarter is over: a pulse that waited is not sent late
    holder = reporter(6005, "Burgemeester Bas")
    await world.report(holder, role="mayor")
    assert await world.notices.authorise(item_for(world, holder, "2026q4")) == Drop("period_over")


def test_the_diagram_draws_every_screen_and_every_button_of_the_pulse(pulse_world):
    """Walk every button from the first screen; the arrows found are the arrows drawn in flows/pulse.mmd."""
    flow = pulse_world.services.pulse
    drawn = set()
    for line in (Path(__file__).parent.parent / "flows" / "pulse.mmd").read_text(encoding="utf-8").splitlines():
        if "-->" in line and "[*]" not in line:
            source, _, rest = line.strip().partition(" --> ")
            drawn.add((source, rest.partition(":")[0]))
    found, seen = set(), set()
    waiting = [PulseAnswer("2026q4")]
    while waiting:
        answer = waiting.pop()
        if answer in seen:
            continue
        seen.add(answer)
        screen = flow.question(answer).key.removeprefix("pulse.")
        for row in flow.question(answer).keyboard:
            for choice in row:
                nxt = choice.action
                if isinstance(nxt, PulseDecline):
                    found.add((screen, "muted" if nxt.mute else "declined"))
                elif pulse.complete(nxt):
                    assert pulse.well_formed(nxt)
                    found.add((screen, "thanks"))
                else:
                    assert pulse.well_formed(nxt)
                    found.add((screen, flow.question(nxt).key.removeprefix("pulse.")))
                    waiting.append(nxt)
    assert found == drawn
    assert len(seen) > 20  # every combination of reasons was walked


# -- nothing leads back to the person --------------------------------------------------------


async def every_row(storage: Storage) -> dict[str, list[tuple[Any, ...]]]:
    async with storage.db.transaction() as conn:
        async with conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'") as cursor:
            tables = [row[0] for row in await cursor.fetchall()]
        rows = {}
        for table in tables:
            async with conn.execute(f'SELECT * FROM "{table}"') as cursor:
                rows[table] = sorted((tuple(r) for r in await cursor.fetchall()), key=repr)
    return rows


async def test_the_database_cannot_link_an_answer_to_the_person_who_gave_it(pulse_world):
    world = pulse_world
    await answered_round(world)
    before = await every_row(world.storage)
    out = first_question(world, COUNCIL_MEMBER)
    for label in ("pulse.safety.1", "pulse.yes", "pulse.reason.other", "pulse.done", "pulse.yes"):
        out = await press(world, COUNCIL_MEMBER, out, label)
    after = await every_row(world.storage)
    # Answering changed two tables and nothing else: not the person, not the audit trail, not the outbox.
    changed = {table for table in after if after[table] != before[table]}
    assert changed == {"pulse_counts", "pulse_closed"}
    # The counts have no column that could name anyone: period, question, answer, how many.
    assert all(len(row) == 4 and isinstance(row[3], int) for row in after["pulse_counts"])
    # The one new marker: a value found nowhere else in the database, so nothing joins it to a person ...
    [(period, marker)] = [row for row in after["pulse_closed"] if row not in before["pulse_closed"]]
    elsewhere = {
        value for table, rows in after.items() if not table.startswith("pulse_") for row in rows for value in row
    }
    assert period == "2026q4" and marker not in elsewhere
    person = await world.storage.people.find(COUNCIL_MEMBER.telegram_id)
    identifiers = {person.id, world.storage.people.index_of(COUNCIL_MEMBER.telegram_id), COUNCIL_MEMBER.telegram_id}
    identifiers |= {str(COUNCIL_MEMBER.telegram_id), COUNCIL_MEMBER.display_name}
    pulse_values = {
        value for table in ("pulse_counts", "pulse_closed", "pulse_rounds") for r in after[table] for value in r
    }
    assert not identifiers & pulse_values
    # ... and it does not depend on the answer: declining leaves the same kind of marker, and only it.
    before_decline = await every_row(world.storage)
    await press(world, ALDERMAN, first_question(world, ALDERMAN), "pulse.not_now")
    declined = await every_row(world.storage)
    assert {t for t in declined if declined[t] != before_decline[t]} == {"pulse_closed"}
    assert marker == world.storage.pulse.marker("2026q4", COUNCIL_MEMBER.telegram_id)
    # Erasing herself (/forgetme) takes her marker too; the counts stay, they name nobody.
    out = await world.mycases.forget(COUNCIL_MEMBER, Forget(confirm=True))
    assert out.edit_pressed is not None and out.edit_pressed.key == "forget.done"
    erased = await every_row(world.storage)
    assert (period, marker) not in erased["pulse_closed"] and len(erased["pulse_closed"]) == 1  # the alderman's
    assert erased["pulse_counts"] == after["pulse_counts"]


# -- what management sees ------------------------------------------------------------------------


def respondents_strategy() -> st.SearchStrategy[list[PulseAnswer]]:
    one = st.builds(
        lambda safety, unreported, reasons, decision: PulseAnswer(
            "2026q4", safety, unreported, reasons if unreported == YES else 0, unreported == YES, decision
        ),
        st.sampled_from(SAFETY_POINTS),
        st.sampled_from((YES, NO)),
        st.integers(0, 2 ** len(REASONS) - 1),
        st.sampled_from((YES, NO)),
    )
    return st.lists(one, max_size=16)


def tally(answers: list[PulseAnswer]) -> dict[tuple[str, str], int]:
    return dict(Counter(pair for answer in answers for pair in counted(answer)))


def compositions(total: int, parts: int) -> list[tuple[int, ...]]:
    """Every way to split ``total`` answers over ``parts`` answers of one question."""
    if parts == 1:
        return [(total,)]
    return [(first, *rest) for first in range(total + 1) for rest in compositions(total - first, parts - 1)]


QUESTIONS: list[tuple[Question, tuple[str, ...], str]] = [
    (Question.SAFETY, tuple(str(p) for p in SAFETY_POINTS), "safety"),
    (Question.UNREPORTED, ("yes", "no"), "unreported"),
    (Question.DECISION, ("yes", "no"), "decision"),
]


@settings(max_examples=80, deadline=None)
@given(respondents_strategy())
def test_no_hidden_count_of_the_pulse_can_be_worked_out(answers):
    """An onlooker who sees what /pulse shows and knows how it hides: for every hidden count,
    the tables of answers that would show exactly the same have more than one value there.

    Questions are shown apart (no cross tables), so each is checked against every way its
    answers can be split; the respondents are shown (or, under five, nothing is)."""
    period = Period.quarter(2026, 4)
    counts = tally(answers)
    shown = publish(period, counts)
    respondents = len(answers)
    totals = [respondents] if isinstance(shown.respondents, int) else list(range(pulse.THRESHOLD))
    assert shown.respondents == respondents or (shown.respondents is HIDDEN and respondents < pulse.THRESHOLD)
    for question, answers_of, field in QUESTIONS:
        published = getattr(shown, field)
        true = [counts.get((question.value, a), 0) for a in answers_of]
        assert all(
            cell is HIDDEN or (cell == value and cell >= pulse.THRESHOLD)
            for cell, value in zip(published, true, strict=True)
        )
        possible: list[set[int]] = [set() for _ in answers_of]
        for total in totals:
            for split in compositions(total, len(answers_of)):
                other = {k: v for k, v in counts.items() if k[0] != question.value}
                other |= {(question.value, a): n for a, n in zip(answers_of, split, strict=True) if n}
                other[(Question.RESPONDENTS.value, "all")] = total
                if getattr(publish(period, other), field) == published:
                    for n, value in enumerate(split):
                        possible[n].add(value)
        for n, cell in enumerate(published):
            if cell is HIDDEN:
                assert len(possible[n]) > 1, (field, answers_of[n], true, published)
    # The reasons, among those who said yes: hidden ones stay hidden whatever they are, up to four.
    yes = shown.unreported[0]
    for reason, cell in zip(REASONS, shown.reasons, strict=True):
        true = counts.get((Question.REASON.value, reason.value), 0)
        if cell is not HIDDEN:
            assert cell == true >= pulse.THRESHOLD
        elif isinstance(yes, int):
            assert true < pulse.THRESHOLD <= yes  # so it could as well be one more or one less


def test_a_hand_counted_quarter_shows_what_may_be_shown():
    counts = {("respondents", "all"): 14, ("safety", "2"): 2, ("safety", "3"): 5, ("safety", "4"): 7}
    counts |= {("unreported", "yes"): 6, ("unreported", "no"): 8, ("reason", "part_of_job"): 5}
    counts |= {("reason", "wont_help"): 1, ("decision", "yes"): 1, ("decision", "no"): 13}
    result = publish(Period.quarter(2026, 4), counts)
    assert result.respondents == 14
    # Safety: 0, 2 hidden; 0 + 2 is worked out from 14 - 5 - 7, so the two zeros and the 2 stay together.
    assert result.safety == (HIDDEN, HIDDEN, 5, 7, HIDDEN)
    assert result.unreported == (6, 8)
    assert result.reasons == (HIDDEN, 5, HIDDEN, HIDDEN)
    assert result.decision == (HIDDEN, HIDDEN)  # 1 hidden, so 13 is too: 14 - 13 would give it away
    assert publish(Period.quarter(2026, 3), {("respondents", "all"): 4, ("safety", "5"): 4}).respondents is HIDDEN


async def test_coordinators_and_management_see_the_trend_with_a_chart_and_nobody_else_does(pulse_world):
    world = pulse_world
    await answered_round(world)
    for telegram_id in range(1, 7):  # six more answers: enough to show some counts
        await world.storage.pulse.close("2026q4", telegram_id, counted(PulseAnswer("2026q4", 4, NO, 0, False, NO)))
    view = await world.services.pulse.results(staff(COORDINATOR))
    [text] = view.outcome.replies
    assert text.key == "pulse.results" and text.protect_content
    assert view.chart is not None and view.chart.startswith(b"\x89PNG")
    assert (await world.services.pulse.results(DIRECTOR)).chart is not None  # the management hook
    for who in (COUNCIL_MEMBER, EMPLOYEE):
        refused = await world.services.pulse.results(who)
        assert [r.key for r in refused.outcome.replies] == ["pulse.only_management"] and refused.chart is None


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_chart_is_a_phone_wide_png_with_no_bar_for_a_hidden_count(language):
    results = [
        publish(Period.quarter(2026, 3), {("respondents", "all"): 3}),
        publish(
            Period.quarter(2026, 4),
            {("respondents", "all"): 12, ("safety", "4"): 7, ("safety", "5"): 5, ("unreported", "no"): 12}
            | {("decision", "no"): 12},
        ),
    ]
    figure = pulse_figure(results, language)
    bars = {p.get_gid() for a in figure.axes for p in a.patches if isinstance(p, Rectangle) and p.get_gid()}
    marks = {t.get_gid() for a in figure.axes for t in a.texts if (t.get_gid() or "").startswith("hidden:")}
    # 0, 0, 0, 7, 5: the three zeros add up to 12 - 7 - 5, so the 5 is hidden with them.
    assert bars == {"safety:4:2026q4"}
    assert {"hidden:safety:1:2026q4", "hidden:safety:5:2026q4", "hidden:safety:4:2026q3"} <= marks
    data = pulse_chart(results, language)
    image = Image.open(BytesIO(data))
    assert image.format == "PNG" and image.size[0] == 1080


async def test_two_years_of_quarters_fit_one_message_and_one_chart(pulse_world):
    world = pulse_world
    for year, quarter in itertools.product((2025, 2026), (1, 2, 3, 4)):
        key = f"{year}q{quarter}"
        await world.storage.pulse.open_round(
            key, [], Timer(TimerKind.PULSE_ROUND, world.clock.now()), world.clock.now()
        )
        for telegram_id in range(12):
            await world.storage.pulse.close(
                key, telegram_id, counted(PulseAnswer(key, 1 + telegram_id % 5, YES, 15, True, YES))
            )
    view = await world.services.pulse.results(staff(COORDINATOR))
    language = view.outcome.language.value  # the coordinator's
    text = render.text(language, view.outcome.replies[0])  # refuses what Telegram would not take
    shown = [period_label(language, Period.quarter(year, q)) in text for year in (2025, 2026) for q in (1, 2, 3, 4)]
    assert shown == [False] * 4 + [True] * 4  # the last four as figures; the chart has all eight
    assert view.chart is not None and Image.open(BytesIO(view.chart)).size[0] == 1080
