"""Statistics for the people who steer: the right numbers, for whole periods, and small ones hidden."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from flows.model import Channel, Role
from flows.statistics import (
    Breakdown,
    CheckInAnswer,
    Column,
    Durations,
    Form,
    Period,
    Perpetrator,
    Reaction,
    RegisterShare,
    ReportFacts,
    Statistics,
    Suppressed,
    SurveyAnswer,
    publish,
)

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
