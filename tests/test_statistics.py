"""Statistics for the people who steer: the right numbers, for whole periods, and small ones hidden."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from flows import lifecycle
from flows.model import Audience, Channel, Role
from flows.statistics import (
    Breakdown,
    CheckInAnswer,
    Column,
    Durations,
    Form,
    Period,
    PeriodKind,
    Perpetrator,
    Reaction,
    RegisterShare,
    ReportFacts,
    Statistics,
    Suppressed,
    SurveyAnswer,
    publish,
)
from tests.statistics_data import DEPARTMENTS, generated_reports

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
HIDDEN = Suppressed.HIDDEN
V, TA, TH, IN, BR = Form.VERBAL_AGGRESSION, Form.THREAT_TO_AUTHORITY, Form.THREAT, Form.INTIMIDATION, Form.BRIBERY
CITIZEN, BUSINESS = Perpetrator.CITIZEN_CLIENT, Perpetrator.BUSINESS_OWNER
IN_PERSON, PHONE, EMAIL = Channel.IN_PERSON, Channel.PHONE, Channel.EMAIL


def report(
    when: tuple[int, int, int],
    forms: set[Form],
    channel: Channel,
    department: str | None,
    work_process: str | None,
    perpetrator: Perpetrator,
    registered: bool,
    acknowledged: float | None = None,
    reacted: float | None = None,
    survey: SurveyAnswer | None = None,
    checkin: CheckInAnswer | None = None,
    role: Role = Role.EMPLOYEE,
) -> ReportFacts:
    return ReportFacts(
        submitted_at=datetime(*when, 9, 0, tzinfo=UTC),
        forms=frozenset(forms),
        channel=channel,
        role=role,
        department=department,
        work_process=work_process,
        perpetrator=perpetrator,
        in_register=registered,
        acknowledged_after=None if acknowledged is None else timedelta(hours=acknowledged),
        reaction_after=None if reacted is None else timedelta(hours=reacted),
        survey=survey,
        latest_checkin=checkin,
    )


# A dozen reports in the first quarter of 2026, four a month, all by staff.
FIRST_QUARTER = [
    report(
        (2026, 1, 6),
        {V, TA},
        IN_PERSON,
        "Handhaving",
        "enforcement",
        CITIZEN,
        True,
        1,
        2,
        SurveyAnswer.YES,
        CheckInAnswer.FINE,
    ),
    report(
        (2026, 1, 13),
        {V, TA},
        IN_PERSON,
        "Handhaving",
        "enforcement",
        CITIZEN,
        True,
        2,
        5,
        SurveyAnswer.YES,
        CheckInAnswer.FINE,
    ),
    report(
        (2026, 1, 20),
        {V, TA},
        IN_PERSON,
        "Handhaving",
        "enforcement",
        CITIZEN,
        True,
        3,
        8,
        SurveyAnswer.YES,
        CheckInAnswer.FINE,
    ),
    report(
        (2026, 1, 27),
        {V, TA},
        IN_PERSON,
        "Handhaving",
        "enforcement",
        CITIZEN,
        True,
        4,
        20,
        SurveyAnswer.YES,
        CheckInAnswer.FINE,
    ),
    report(
        (2026, 2, 3),
        {V, TA},
        IN_PERSON,
        "Handhaving",
        "enforcement",
        CITIZEN,
        True,
        5,
        23,
        SurveyAnswer.YES,
        CheckInAnswer.FINE,
    ),
    report(
        (2026, 2, 10),
        {V, TA},
        IN_PERSON,
        "Handhaving",
        "enforcement",
        CITIZEN,
        True,
        6,
        30,
        SurveyAnswer.PARTLY,
        CheckInAnswer.FINE,
    ),
    report(
        (2026, 2, 17),
        {V},
        IN_PERSON,
        "Burgerzaken",
        "counter",
        CITIZEN,
        True,
        8,
        None,
        SurveyAnswer.PARTLY,
        CheckInAnswer.BOTHERS,
    ),
    report((2026, 2, 24), {V}, PHONE, "Burgerzaken", "counter", CITIZEN, False, 10),
    report((2026, 3, 3), {TH}, PHONE, "Burgerzaken", "counter", CITIZEN, False, 12),
    report((2026, 3, 10), {TH}, PHONE, "Burgerzaken", "counter", BUSINESS, False, 20),
    report((2026, 3, 17), {IN}, EMAIL, None, "counter", BUSINESS, False, 30),
    report((2026, 3, 24), {BR}, EMAIL, None, None, BUSINESS, False),
]
# Six in the quarter before, the first reports the bot received.
FOURTH_QUARTER = [
    report((2025, 10, 6), {V, TA}, IN_PERSON, "Handhaving", "enforcement", CITIZEN, False, 3),
    report((2025, 10, 20), {V, TA}, IN_PERSON, "Handhaving", "enforcement", CITIZEN, False, 3),
    report((2025, 11, 5), {V}, IN_PERSON, "Handhaving", "enforcement", CITIZEN, False),
    report((2025, 11, 19), {V}, IN_PERSON, "Handhaving", "enforcement", CITIZEN, False),
    report((2025, 12, 3), {V}, IN_PERSON, "Handhaving", "enforcement", CITIZEN, False),
    report((2025, 12, 17), {TH}, PHONE, None, "counter", BUSINESS, True, reacted=50),
]
# Reported in April, the month in progress: not counted until April has ended.
THIS_MONTH = [report((2026, 4, 2), {V}, IN_PERSON, "Handhaving", "enforcement", CITIZEN, False, 1)]
NOW = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)


def first_quarter() -> Statistics:
    published = publish(
        FIRST_QUARTER + FOURTH_QUARTER + THIS_MONTH, zone=AMSTERDAM, now=NOW, departments=("Handhaving", "Burgerzaken")
    )
    return published.statistics(Period.quarter(2026, 1))


def shown(statistics: Statistics, breakdown: Breakdown, column: Column = Column.ALL) -> dict[str | None, tuple]:
    """value -> (count, previous, change, share) for one column."""
    return {
        row.value: (c.current, c.previous, c.change, c.share)
        for row in statistics.tables[breakdown].rows
        if (c := row.cells.get(column)) is not None
    }


def test_the_quarter_counts_every_report_and_compares_with_the_quarter_before():
    stats = first_quarter()
    assert stats.period == Period.quarter(2026, 1) and stats.previous == Period.quarter(2025, 4)
    assert stats.columns == (Column.ALL, Column.STAFF, Column.OFFICE_HOLDERS)
    total = stats.total[Column.ALL]
    assert (total.current, total.previous, total.change, total.share) == (12, 6, 6, Fraction(1))


def test_forms_are_counted_per_report_and_an_incident_can_combine_them():
    # Verbal aggression in reports 1-8 (Q4: 1-5), threatening to go higher up in 1-6 (Q4: 2),
    # threat 2 (Q4: 1), intimidation 1, bribery 1: shares of the 12 reports.
    assert shown(first_quarter(), Breakdown.FORM) == {
        V: (8, 5, 3, Fraction(8, 12)),
        TA: (6, HIDDEN, HIDDEN, Fraction(6, 12)),
        TH: (HIDDEN, HIDDEN, HIDDEN, HIDDEN),
        IN: (HIDDEN, HIDDEN, HIDDEN, HIDDEN),
        Form.DISCRIMINATION: (HIDDEN, HIDDEN, HIDDEN, HIDDEN),
        Form.VIOLENCE: (HIDDEN, HIDDEN, HIDDEN, HIDDEN),
        BR: (HIDDEN, HIDDEN, HIDDEN, HIDDEN),
        Form.OTHER: (HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    }


def test_departments_work_processes_channels_and_perpetrators():
    stats = first_quarter()
    # Handhaving 6 (Q4: 5), Burgerzaken 4, not given 2 (Q4: 1): two small ones hide each other.
    assert shown(stats, Breakdown.DEPARTMENT) == {
        "Handhaving": (6, 5, 1, Fraction(6, 12)),
        "Burgerzaken": (HIDDEN, HIDDEN, HIDDEN, HIDDEN),
        None: (HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    }
    work = shown(stats, Breakdown.WORK_PROCESS)
    assert work["enforcement"] == (6, 5, 1, Fraction(6, 12))
    assert work["counter"] == (5, HIDDEN, HIDDEN, Fraction(5, 12))  # Q4: 1
    assert all(work[v] == (HIDDEN,) * 4 for v in work if v not in ("enforcement", "counter"))
    channel = shown(stats, Breakdown.CHANNEL)
    assert channel[IN_PERSON] == (7, 5, 2, Fraction(7, 12))
    assert all(channel[c] == (HIDDEN,) * 4 for c in Channel if c is not IN_PERSON)  # phone 3, e-mail 2
    perpetrator = shown(stats, Breakdown.PERPETRATOR)
    assert perpetrator[CITIZEN] == (9, 5, 4, Fraction(9, 12))
    assert all(perpetrator[p] == (HIDDEN,) * 4 for p in Perpetrator if p is not CITIZEN)  # business owner 3


def test_the_register_and_what_the_organisation_did():
    stats = first_quarter()
    # 7 registered, 5 only with a counsellor; in Q4 1 and 5, and a 1 hides its partner.
    assert shown(stats, Breakdown.REGISTER) == {
        "registered": (7, HIDDEN, HIDDEN, Fraction(7, 12)),
        "counsellor_only": (5, HIDDEN, HIDDEN, Fraction(5, 12)),
    }
    # Of the 7 registered: a reaction within 24 hours for 5, after 30 hours for 1, none for 1.
    reaction = shown(stats, Breakdown.REACTION)
    assert reaction[Reaction.WITHIN_24_HOURS] == (5, HIDDEN, HIDDEN, Fraction(5, 7))
    assert [reaction[r] for r in (Reaction.WITHIN_48_HOURS, Reaction.LATER, Reaction.NONE)] == [(HIDDEN,) * 4] * 3
    # No police report and no damages among the 7: 0 is small, so 7 is hidden with it.
    assert set(shown(stats, Breakdown.POLICE_REPORT).values()) == {(HIDDEN,) * 4}
    assert set(shown(stats, Breakdown.DAMAGES).values()) == {(HIDDEN,) * 4}
    # 6 of 7 had a reaction, 6 of 7 within 48 hours, but each would uncover the hidden 1 and 0.
    assert set(stats.register_shares[kind][Column.ALL] for kind in RegisterShare) == {HIDDEN}


def test_survey_and_check_in_answers_are_shares_of_those_who_answered():
    stats = first_quarter()
    # 7 answered the survey (5 yes, 2 partly), 5 did not.
    assert shown(stats, Breakdown.SURVEY) == {
        "yes": (5, HIDDEN, HIDDEN, Fraction(5, 7)),
        "partly": (HIDDEN, HIDDEN, HIDDEN, HIDDEN),
        "no": (HIDDEN, HIDDEN, HIDDEN, HIDDEN),
        "unanswered": (5, HIDDEN, HIDDEN, None),
    }
    checkin = shown(stats, Breakdown.CHECKIN)
    assert checkin["fine"] == (6, HIDDEN, HIDDEN, Fraction(6, 7))
    assert checkin["unanswered"] == (5, HIDDEN, HIDDEN, None)
    assert all(checkin[a] == (HIDDEN,) * 4 for a in ("bothers", "talk", "stop"))


def test_times_in_whole_hours_from_five_reports_up():
    stats = first_quarter()
    # Acknowledged after 1, 2, 3, 4, 5, 6, 8, 10, 12, 20 and 30 hours (one not yet):
    # the middle of 11 is the 6th, 6 hours; the 90th percentile is the 10th, 20 hours.
    assert stats.acknowledgement[Column.ALL] == Durations(6, 20)
    # Reactions after 2, 5, 8, 20, 23 and 30 hours, but the counts per speed are partly hidden.
    assert stats.reaction_time[Column.ALL] == Durations(HIDDEN, HIDDEN)


def test_with_no_office_holders_the_staff_column_is_hidden_as_it_would_show_their_zero():
    stats = first_quarter()
    # Staff = all - office holders: showing both would show that office holders made 0 reports.
    assert stats.total[Column.STAFF].current is HIDDEN
    assert stats.total[Column.OFFICE_HOLDERS].current is HIDDEN
    assert stats.acknowledgement[Column.STAFF] == Durations(HIDDEN, HIDDEN)
    roles = shown(stats, Breakdown.ROLE)
    assert roles[Role.EMPLOYEE][0] is HIDDEN  # 12 employees would give the office holders' 0 away too
    assert shown(stats, Breakdown.ROLE, Column.STAFF).keys() == {Role.EMPLOYEE, Role.OTHER}
    assert shown(stats, Breakdown.ROLE, Column.OFFICE_HOLDERS).keys() == {
        Role.COUNCIL_MEMBER,
        Role.ALDERMAN,
        Role.MAYOR,
    }


def test_a_report_in_the_month_in_progress_waits_until_the_month_has_ended():
    published = publish(FIRST_QUARTER + FOURTH_QUARTER + THIS_MONTH, zone=AMSTERDAM, now=NOW)
    assert published.latest(PeriodKind.MONTH) == Period.month(2026, 3)
    assert published.latest(PeriodKind.QUARTER) == Period.quarter(2026, 1)
    assert published.latest(PeriodKind.YEAR) == Period.whole_year(2025)
    for period in (Period.month(2026, 4), Period.quarter(2026, 2), Period.whole_year(2026)):
        with pytest.raises(ValueError, match="whole periods"):
            published.statistics(period)
    in_may = publish(FIRST_QUARTER + FOURTH_QUARTER + THIS_MONTH, zone=AMSTERDAM, now=datetime(2026, 5, 1, tzinfo=UTC))
    april = in_may.statistics(Period.month(2026, 4)).total[Column.ALL]
    assert (april.current, april.previous) == (HIDDEN, HIDDEN)  # 1 report in April, 4 in March


def test_months_are_the_municipalitys_months():
    # 22:30 UTC on 31 March is 00:30 on 1 April in Amsterdam (summer time).
    late = report((2026, 3, 31), {V}, IN_PERSON, None, None, CITIZEN, False)
    late = dataclasses.replace(late, submitted_at=datetime(2026, 3, 31, 22, 30, tzinfo=UTC))
    assert Period.containing(PeriodKind.MONTH, late.submitted_at, AMSTERDAM) == Period.month(2026, 4)
    assert Period.containing(PeriodKind.MONTH, late.submitted_at, ZoneInfo("UTC")) == Period.month(2026, 3)
    assert Period.month(2026, 4).start(AMSTERDAM) == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    assert Period.quarter(2025, 4).end(AMSTERDAM) == datetime(2025, 12, 31, 23, 0, tzinfo=UTC)


def test_the_previous_period_has_the_same_length():
    assert Period.month(2026, 1).previous() == Period.month(2025, 12)
    assert Period.quarter(2026, 1).previous() == Period.quarter(2025, 4)
    assert Period.whole_year(2026).previous() == Period.whole_year(2025)
    assert Period.quarter(2026, 3).months() == (Period.month(2026, 7), Period.month(2026, 8), Period.month(2026, 9))
    with pytest.raises(ValueError):
        Period.quarter(2026, 5)


def test_one_audience_shows_the_same_numbers_as_its_column_side_by_side():
    reports = generated_reports(400, seed=3, start=datetime(2025, 1, 1, tzinfo=UTC), days=500)
    published = publish(reports, zone=AMSTERDAM, now=datetime(2026, 6, 2, tzinfo=UTC), departments=DEPARTMENTS)
    together = published.statistics(Period.quarter(2026, 1))
    for audience, column in ((Audience.STAFF, Column.STAFF), (Audience.OFFICE_HOLDERS, Column.OFFICE_HOLDERS)):
        alone = published.statistics(Period.quarter(2026, 1), audience)
        assert alone.columns == (column,)
        assert alone.total[column] == together.total[column]
        for breakdown, table in alone.tables.items():
            assert [r.cells for r in table.rows] == [
                {c: cell for c, cell in r.cells.items() if c is column} for r in together.tables[breakdown].rows
            ]
        assert alone.acknowledgement[column] == together.acknowledgement[column]


def test_a_period_shows_the_same_numbers_whether_it_is_the_current_or_the_previous_one():
    reports = generated_reports(400, seed=4, start=datetime(2025, 1, 1, tzinfo=UTC), days=500)
    published = publish(reports, zone=AMSTERDAM, now=datetime(2026, 7, 2, tzinfo=UTC), departments=DEPARTMENTS)
    for period in (Period.month(2026, 1), Period.quarter(2026, 1), Period.month(2025, 7)):
        now, later = published.statistics(period), published.statistics(next_period(period))
        assert [c.current for c in now.total.values()] == [c.previous for c in later.total.values()]
        for breakdown in Breakdown:
            assert [[c.current for c in r.cells.values()] for r in now.tables[breakdown].rows] == [
                [c.previous for c in r.cells.values()] for r in later.tables[breakdown].rows
            ]
    trend = published.trend(Period.month(2026, 5))
    assert trend.months[0] == Period.month(2025, 6) and len(trend.months) == 12
    for month, total in zip(trend.months, trend.totals, strict=True):
        assert total == published.statistics(month).total[Column.ALL].current


def next_period(period: Period) -> Period:
    last = {PeriodKind.MONTH: 12, PeriodKind.QUARTER: 4, PeriodKind.YEAR: 1}[period.kind]
    if period.number < last:
        return Period(period.kind, period.year, period.number + 1)
    return Period(period.kind, period.year + 1, 1)


def test_the_order_of_the_reports_does_not_matter():
    reports = generated_reports(150, seed=9, start=datetime(2025, 3, 1, tzinfo=UTC), days=300)
    period = Period.quarter(2025, 3)
    forward = publish(reports, zone=AMSTERDAM, now=datetime(2026, 1, 5, tzinfo=UTC)).statistics(period)
    backward = publish(reports[::-1], zone=AMSTERDAM, now=datetime(2026, 1, 5, tzinfo=UTC)).statistics(period)
    assert forward == backward


def test_departments_as_configured_then_former_ones_then_not_given():
    reports = [report((2026, 1, 5), {V}, IN_PERSON, d, None, CITIZEN, False) for d in ("Oud", "Archief", None)]
    published = publish(reports, zone=AMSTERDAM, now=NOW, departments=("Handhaving", "Burgerzaken"))
    assert published.values(Breakdown.DEPARTMENT) == ("Handhaving", "Burgerzaken", "Archief", "Oud", None)


def test_reaction_times_are_shown_when_every_reaction_count_is():
    def registered(day: int, reacted: float | None) -> ReportFacts:
        return report(
            (2026, 1 + day % 3, 1 + day), {V}, IN_PERSON, "Handhaving", "enforcement", CITIZEN, True, 2, reacted
        )

    hours = [1, 2, 3, 4, 5, 25, 30, 35, 40, 45, 50, 60, 70, 80, 90] + [None] * 5
    reports = [registered(day, h) for day, h in enumerate(hours)]
    reports += [
        report((2026, 2, 20 + d), {V}, IN_PERSON, "Handhaving", "enforcement", CITIZEN, False) for d in range(5)
    ]
    stats = publish(reports, zone=AMSTERDAM, now=NOW).statistics(Period.quarter(2026, 1))
    assert shown(stats, Breakdown.REACTION) == {
        Reaction.WITHIN_24_HOURS: (5, HIDDEN, HIDDEN, Fraction(5, 20)),
        Reaction.WITHIN_48_HOURS: (5, HIDDEN, HIDDEN, Fraction(5, 20)),
        Reaction.LATER: (5, HIDDEN, HIDDEN, Fraction(5, 20)),
        Reaction.NONE: (5, HIDDEN, HIDDEN, Fraction(5, 20)),
    }
    # 15 reactions: the 8th is 35 hours; the 90th percentile lies 0.6 of the way from 70 to 80.
    assert stats.reaction_time[Column.ALL] == Durations(35, 76)
    assert stats.register_shares[RegisterShare.REACTION][Column.ALL] == Fraction(15, 20)
    assert stats.register_shares[RegisterShare.REACTION_WITHIN_GUIDANCE][Column.ALL] == Fraction(10, 20)


def test_a_duration_needs_five_reports_behind_it():
    reports = [
        report((2026, 1, 5 + d), {V}, IN_PERSON, None, None, CITIZEN, False, acknowledged=None if d > 3 else 2)
        for d in range(8)
    ]
    stats = publish(reports, zone=AMSTERDAM, now=NOW).statistics(Period.quarter(2026, 1))
    assert stats.total[Column.ALL].current == 8
    assert stats.acknowledgement[Column.ALL] == Durations(HIDDEN, HIDDEN)  # only 4 acknowledged


def test_facts_are_coarse_and_consistent():
    with pytest.raises(ValueError, match="timezone"):
        ReportFacts(datetime(2026, 1, 1), frozenset({V}), IN_PERSON, Role.EMPLOYEE, None, None, CITIZEN, False)
    with pytest.raises(ValueError, match="at least one form"):
        report((2026, 1, 1), set(), IN_PERSON, None, None, CITIZEN, False)
    with pytest.raises(ValueError, match="registered"):
        report((2026, 1, 1), {V}, IN_PERSON, None, None, CITIZEN, False, reacted=3)
    assert (
        report((2026, 1, 1), {V}, IN_PERSON, None, None, CITIZEN, False, role=Role.MAYOR).audience
        is Audience.OFFICE_HOLDERS
    )


def test_the_answer_codes_are_those_of_the_aftercare_flow():
    # One definition: the statistics count the very answers the check-in and survey buttons carry.
    assert CheckInAnswer is lifecycle.CheckInAnswer and SurveyAnswer is lifecycle.SurveyAnswer


def test_one_council_members_report_hides_the_staff_count_beside_it_not_the_total():
    reports = FIRST_QUARTER + [
        report((2026, 2, 11), {V}, IN_PERSON, "Handhaving", "enforcement", CITIZEN, False, role=Role.COUNCIL_MEMBER)
    ]
    stats = publish(reports, zone=AMSTERDAM, now=NOW).statistics(Period.quarter(2026, 1))
    total = stats.total
    assert (total[Column.ALL].current, total[Column.STAFF].current, total[Column.OFFICE_HOLDERS].current) == (
        13,
        HIDDEN,
        HIDDEN,
    )


def test_an_acknowledgement_in_the_same_minute_counts_as_zero_hours():
    reports = [report((2026, 1, 5 + d), {V}, IN_PERSON, None, None, CITIZEN, False, acknowledged=0) for d in range(6)]
    stats = publish(reports, zone=AMSTERDAM, now=NOW).statistics(Period.quarter(2026, 1))
    assert stats.acknowledgement[Column.ALL] == Durations(0, 0)
