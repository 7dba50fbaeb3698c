"""Nobody can work out a hidden count from everything /stats, the charts and the export show.

Random sets of reports, published for every month, quarter and year and every column
filter, then attacked with integer linear programming (tests/statistics_attacker.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.model import Audience, Channel, Role
from flows.statistics import (
    DEFAULT_WORK_PROCESSES,
    Breakdown,
    CheckInAnswer,
    Form,
    Period,
    PeriodKind,
    Perpetrator,
    ReportFacts,
    SurveyAnswer,
    publish,
)
from tests.statistics_attacker import Onlooker

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 5, 20, 10, 0, tzinfo=UTC)
DEPARTMENTS = ("Handhaving", "Burgerzaken")


@st.composite
def report(draw: st.DrawFn, days: int = 420) -> ReportFacts:
    """A report before the month in progress (which is not shown), some as far back as ``days``."""
    in_register = draw(st.booleans())
    role = draw(st.sampled_from([Role.EMPLOYEE] * 6 + [Role.OTHER, Role.COUNCIL_MEMBER, Role.ALDERMAN, Role.MAYOR]))
    hours = st.floats(min_value=0, max_value=400, allow_nan=False).map(lambda h: timedelta(hours=h))
    return ReportFacts(
        submitted_at=NOW - timedelta(seconds=draw(st.integers(20 * 86400, days * 86400))),
        forms=draw(st.frozensets(st.sampled_from([Form.VERBAL_AGGRESSION] * 3 + list(Form)), min_size=1, max_size=3)),
        channel=draw(st.sampled_from([Channel.IN_PERSON, Channel.IN_PERSON, *Channel])),
        role=role,
        department=draw(st.sampled_from([*DEPARTMENTS, "Sociaal domein", None])),
        work_process=draw(st.sampled_from([*DEFAULT_WORK_PROCESSES[:3], None])),
        perpetrator=draw(st.sampled_from(list(Perpetrator))),
        in_register=in_register,
        acknowledged_after=draw(st.none() | hours),
        reaction_after=draw(st.none() | hours) if in_register else None,
        police_report=in_register and draw(st.booleans()),
        damages_claimed=in_register and draw(st.booleans()),
        survey=draw(st.none() | st.sampled_from(list(SurveyAnswer))),
        latest_checkin=draw(st.none() | st.sampled_from(list(CheckInAnswer))),
    )


def everything_shown(facts: list[ReportFacts]) -> tuple[Onlooker, list[ReportFacts]]:
    published = publish(facts, zone=AMSTERDAM, now=NOW, departments=DEPARTMENTS)
    last = published.latest(PeriodKind.MONTH)
    first = min((Period.containing(PeriodKind.MONTH, f.submitted_at, AMSTERDAM) for f in facts), default=last)
    months = [last]
    while months[-1] > first:
        months.append(months[-1].previous())
    onlooker = Onlooker(published, sorted(months))
    periods = {p for m in months for p in (m, Period.quarter(m.year, (m.number + 2) // 3), Period.whole_year(m.year))}
    for period in sorted(p for p in periods if p.months()[-1] <= last):
        for audience in (None, Audience.STAFF, Audience.OFFICE_HOLDERS):
            onlooker.read_statistics(published.statistics(period, audience))
    for breakdown in (Breakdown.FORM, Breakdown.DEPARTMENT):
        for audience in (None, Audience.STAFF, Audience.OFFICE_HOLDERS):
            onlooker.read_trend(published.trend(last, breakdown=breakdown, audience=audience))
    return onlooker, facts


SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]


@settings(max_examples=30, deadline=None, suppress_health_check=SLOW)
@given(st.lists(report(), max_size=60))
def test_no_hidden_count_can_be_worked_out_from_everything_shown(facts: list[ReportFacts]) -> None:
    """A year and more of a small municipality: nearly everything is small."""
    onlooker, facts = everything_shown(facts)
    truth = onlooker.truth(facts)
    onlooker.check_consistent(truth)  # every shown number is the true one
    assert onlooker.undetermined(truth) == []


@settings(max_examples=8, deadline=None, suppress_health_check=SLOW)
@given(st.lists(report(days=150), min_size=60, max_size=200))
def test_nor_when_many_counts_are_shown_and_complements_must_be_large(facts: list[ReportFacts]) -> None:
    """Five months of a busier municipality: the small counts sit among large ones."""
    onlooker, facts = everything_shown(facts)
    truth = onlooker.truth(facts)
    onlooker.check_consistent(truth)
    assert onlooker.undetermined(truth) == []
