"""Counts that help the people who steer, and expose nobody.

What this module owns
---------------------
From coarse facts per submitted report (:class:`ReportFacts`, no content and no
identity) it computes what ``/stats``, the charts and the statistics export show, per
whole month, quarter or year in the municipality's time zone (a period is shown once it
has ended), with the previous period of the same length beside it: counts per form,
role, department, work process, channel and perpetrator; how many reports are in the
register and how many stay with a counsellor; for the register, how soon a reaction
towards the perpetrator came, police reports and damages claimed; the survey "was the
aftercare and feedback enough?" and the latest check-in answer, as shares; the median
and 90th percentile time to acknowledgement and to a reaction. Staff, office holders
and both together side by side.

Small numbers identify people. Every count under five is hidden, and
:mod:`flows.suppression` hides further counts so that nothing shown, for any period and
column, lets anyone work a hidden count out; all are :attr:`Suppressed.HIDDEN`.
Everything else derives from shown counts only: a change is shown when both counts are,
a share when its numerator and denominator follow from shown counts, a duration when
the count it rests on is shown and five or more.

A report that stays with a counsellor appears here only inside counts, never as a case.
No database, no Telegram: the caller maps its records into :class:`ReportFacts`.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Hashable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum, StrEnum
from fractions import Fraction
from functools import partial
from itertools import chain
from operator import add, attrgetter
from zoneinfo import ZoneInfo

import numpy

from flows.lifecycle import CheckInAnswer, SurveyAnswer
from flows.model import DEFAULT_WORK_PROCESSES, Audience, Channel, Form, Perpetrator, Role
from flows.suppression import (
    ALL,
    MONTHS,
    OFFICE_HOLDERS,
    STAFF,
    THRESHOLD,
    TIMES,
    YEAR,
    Dimension,
    Schema,
    YearTable,
    months_of,
)

REACTION_GUIDANCE = timedelta(hours=48)  # the national guidance: the employer reacts within 48 hours


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """The coarse facts of one submitted report: codes and durations, never content or identity.

    ``reaction_after``: from registration to the first reaction recorded towards the
    perpetrator ("no reaction, because ..." is not a reaction). It, ``police_report`` and
    ``damages_claimed`` concern the register, so only a registered report has them.
    ``latest_checkin``: the answer at the most recent aftercare check-in, if any.
    """

    submitted_at: datetime
    forms: frozenset[Form]
    channel: Channel
    role: Role
    department: str | None
    work_process: str | None
    perpetrator: Perpetrator
    in_register: bool
    acknowledged_after: timedelta | None = None
    reaction_after: timedelta | None = None
    police_report: bool = False
    damages_claimed: bool = False
    survey: SurveyAnswer | None = None
    latest_checkin: CheckInAnswer | None = None

    def __post_init__(self) -> None:
        if self.submitted_at.tzinfo is None:
            raise ValueError("submitted_at must be timezone-aware")
        if not self.forms:
            raise ValueError("a report has at least one form")
        if not self.in_register and (self.reaction_after is not None or self.police_report or self.damages_claimed):
            raise ValueError("reactions, police reports and damages belong to registered reports")
        for duration in (self.acknowledged_after, self.reaction_after):
            if duration is not None and duration < timedelta(0):
                raise ValueError("a duration cannot be negative")

    @property
    def audience(self) -> Audience:
        return Audience.of(self.role)


# -- periods ----------------------------------------------------------------------


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True, slots=True, order=True)
class Period:
    """A calendar month, quarter or year in the municipality's time zone."""

    kind: PeriodKind
    year: int
    number: int  # month 1-12, quarter 1-4, or 1 for a year

    def __post_init__(self) -> None:
        limit = {PeriodKind.MONTH: 12, PeriodKind.QUARTER: 4, PeriodKind.YEAR: 1}[self.kind]
        if not 1 <= self.number <= limit:
            raise ValueError(f"no {self.kind} number {self.number}")

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(PeriodKind.MONTH, year, month)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        return cls(PeriodKind.QUARTER, year, quarter)

    @classmethod
    def whole_year(cls, year: int) -> Period:
        return cls(PeriodKind.YEAR, year, 1)

    @classmethod
    def containing(cls, kind: PeriodKind, moment: datetime, zone: ZoneInfo) -> Period:
        local = moment.astimezone(zone)
        if kind is PeriodKind.MONTH:
            return cls.month(local.year, local.month)
        if kind is PeriodKind.QUARTER:
            return cls.quarter(local.year, (local.month - 1) // 3 + 1)
        return cls.whole_year(local.year)

    def previous(self) -> Period:
        """The period of the same length just before."""
        if self.number > 1:
            return Period(self.kind, self.year, self.number - 1)
        last = {PeriodKind.MONTH: 12, PeriodKind.QUARTER: 4, PeriodKind.YEAR: 1}[self.kind]
        return Period(self.kind, self.year - 1, last)

    def months(self) -> tuple[Period, ...]:
        first, last = self._month_range()
        return tuple(Period.month(self.year, m) for m in range(first, last + 1))

    def start(self, zone: ZoneInfo) -> datetime:
        return datetime(self.year, self._month_range()[0], 1, tzinfo=zone)

    def end(self, zone: ZoneInfo) -> datetime:
        """The first moment after the period."""
        last = self._month_range()[1]
        return datetime(self.year + (last == 12), last % 12 + 1, 1, tzinfo=zone)

    def time_index(self) -> int:
        """This period's cell index in its year's table (months 0-11, quarters 12-15, year 16)."""
        if self.kind is PeriodKind.MONTH:
            return self.number - 1
        if self.kind is PeriodKind.QUARTER:
            return 11 + self.number
        return YEAR

    def _month_range(self) -> tuple[int, int]:
        if self.kind is PeriodKind.MONTH:
            return self.number, self.number
        if self.kind is PeriodKind.QUARTER:
            return 3 * self.number - 2, 3 * self.number
        return 1, 12


# -- what is published ------------------------------------------------------------


class Suppressed(Enum):
    """A number that is not shown: a count under five, a count hidden so that one under
    five cannot be worked out, or a figure built on such a count. All look the same."""

    HIDDEN = "hidden"


Count = int | Suppressed
Share = Fraction | Suppressed
Hours = int | Suppressed


class Column(StrEnum):
    ALL = "all"
    STAFF = "staff"
    OFFICE_HOLDERS = "office_holders"

    @classmethod
    def of(cls, audience: Audience | None) -> Column:
        if audience is None:
            return cls.ALL
        return cls.STAFF if audience is Audience.STAFF else cls.OFFICE_HOLDERS


_COLUMN_INDEX = {Column.STAFF: STAFF, Column.OFFICE_HOLDERS: OFFICE_HOLDERS, Column.ALL: ALL}


class Breakdown(StrEnum):
    """The dimensions a period's reports are counted by."""

    FORM = "form"
    ROLE = "role"
    DEPARTMENT = "department"
    WORK_PROCESS = "work_process"
    CHANNEL = "channel"
    PERPETRATOR = "perpetrator"
    REGISTER = "register"  # in the register, or only with a counsellor
    REACTION = "reaction"  # registered reports: how soon a reaction towards the perpetrator came
    POLICE_REPORT = "police_report"  # registered reports
    DAMAGES = "damages"  # registered reports
    SURVEY = "survey"  # was the aftercare and feedback enough?
    CHECKIN = "checkin"  # the latest check-in answer


class Register(StrEnum):
    REGISTERED = "registered"
    COUNSELLOR_ONLY = "counsellor_only"


class Reaction(StrEnum):
    """How soon after registration the first reaction towards the perpetrator came."""

    WITHIN_24_HOURS = "within_24h"
    WITHIN_48_HOURS = "within_48h"  # after 24, within 48 hours: still within the guidance
    LATER = "later"
    NONE = "none"  # none (yet)


YES, NO = "yes", "no"
UNANSWERED = "unanswered"

# Breakdowns whose shares are of the registered reports, and of the reports that answered.
NESTED_IN_REGISTER = (Breakdown.REACTION, Breakdown.POLICE_REPORT, Breakdown.DAMAGES)
ANSWERED = (Breakdown.SURVEY, Breakdown.CHECKIN)


class RegisterShare(StrEnum):
    """Shares of the registered reports: is the organisation acting?"""

    REACTION = "reaction"  # with a reaction towards the perpetrator
    REACTION_WITHIN_GUIDANCE = "reaction_within_guidance"  # a reaction within 48 hours
    POLICE_REPORT = "police_report"
    DAMAGES = "damages"


@dataclass(frozen=True, slots=True)
class Cell:
    """One published count, with the previous period's and the change.

    ``share``: of the period's reports (of the registered ones for reaction, police report
    and damages; of those that answered for the survey and check-ins); None where a share
    means nothing (the "unanswered" rows).
    """

    current: Count
    previous: Count
    change: Count
    share: Share | None


@dataclass(frozen=True, slots=True)
class Row:
    """A value and its cells per column. ``value`` None: not given (department, work process).

    A column is missing where the value cannot occur (a mayor among staff).
    """

    value: str | None
    cells: Mapping[Column, Cell]


@dataclass(frozen=True, slots=True)
class Table:
    breakdown: Breakdown
    rows: tuple[Row, ...]


@dataclass(frozen=True, slots=True)
class Durations:
    """Median and 90th percentile, in whole hours."""

    median: Hours
    p90: Hours


@dataclass(frozen=True, slots=True)
class Statistics:
    period: Period
    previous: Period
    columns: tuple[Column, ...]
    total: Mapping[Column, Cell]
    tables: Mapping[Breakdown, Table]
    register_shares: Mapping[RegisterShare, Mapping[Column, Share]]
    acknowledgement: Mapping[Column, Durations]  # from submission to acknowledgement
    reaction_time: Mapping[Column, Durations]  # from registration to a reaction towards the perpetrator


@dataclass(frozen=True, slots=True)
class TrendRow:
    value: str | None
    counts: tuple[Count, ...]


@dataclass(frozen=True, slots=True)
class Trend:
    """One breakdown, month by month, for one column."""

    breakdown: Breakdown
    column: Column
    months: tuple[Period, ...]
    rows: tuple[TrendRow, ...]
    totals: tuple[Count, ...]


# -- the layout of the counts -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Layout:
    """Which item (row of the suppression schema) each value of each breakdown is."""

    schema: Schema
    values: Mapping[Breakdown, tuple[str | None, ...]]
    items: Mapping[Breakdown, tuple[int, ...]]

    def item(self, breakdown: Breakdown, value: str | None) -> int:
        return self.items[breakdown][self.values[breakdown].index(value)]


def _layout(departments: Sequence[str | None], work_processes: Sequence[str | None]) -> _Layout:
    values: dict[Breakdown, tuple[str | None, ...]] = {
        Breakdown.FORM: tuple(Form),
        Breakdown.ROLE: tuple(Role),
        Breakdown.DEPARTMENT: tuple(departments),
        Breakdown.WORK_PROCESS: tuple(work_processes),
        Breakdown.CHANNEL: tuple(Channel),
        Breakdown.PERPETRATOR: tuple(Perpetrator),
        Breakdown.REGISTER: tuple(Register),
        Breakdown.REACTION: tuple(Reaction),
        Breakdown.POLICE_REPORT: (YES, NO),
        Breakdown.DAMAGES: (YES, NO),
        Breakdown.SURVEY: (*SurveyAnswer, UNANSWERED),
        Breakdown.CHECKIN: (*CheckInAnswer, UNANSWERED),
    }
    allowed: list[tuple[bool, bool]] = [(True, True)]
    items: dict[Breakdown, tuple[int, ...]] = {}
    for breakdown, codes in values.items():
        first = len(allowed)
        items[breakdown] = tuple(range(first, first + len(codes)))
        for code in codes:
            # A role belongs to one column: a mayor is never counted among staff.
            office_holder = Role(code).is_office_holder if breakdown is Breakdown.ROLE and code else None
            allowed.append((True, True) if office_holder is None else (not office_holder, office_holder))
    registered = items[Breakdown.REGISTER][0]
    dimensions = tuple(
        Dimension(
            items=items[breakdown],
            parent=registered if breakdown in NESTED_IN_REGISTER else 0,
            multi=breakdown is Breakdown.FORM,
        )
        for breakdown in values
    )
    return _Layout(Schema(dimensions, tuple(allowed)), values, items)


def _reaction_speed(after: timedelta | None) -> Reaction:
    """How soon a reaction came, from the time between registration and the reaction."""
    if after is None:
        return Reaction.NONE
    if after <= timedelta(hours=24):
        return Reaction.WITHIN_24_HOURS
    return Reaction.WITHIN_48_HOURS if after <= REACTION_GUIDANCE else Reaction.LATER


# -- computing and publishing -----------------------------------------------------


def publish(
    facts: Iterable[ReportFacts],
    *,
    zone: ZoneInfo,
    now: datetime,
    departments: Sequence[str] = (),
    work_processes: Sequence[str] = DEFAULT_WORK_PROCESSES,
    protected: MutableMapping[Hashable, YearTable] | None = None,
) -> PublishedStatistics:
    """Count every report once; the tables of each year are protected when first asked for.

    ``departments`` and ``work_processes``: the configured lists (in their order); values
    met in the facts but no longer configured follow, then "not given". ``protected``: year
    tables protected before, kept by the caller; a year whose counts are the same again is
    taken from it instead of being protected anew (protecting a year is the costly part).
    """
    return PublishedStatistics(list(facts), zone, now, departments, work_processes, protected)


class PublishedStatistics:
    """Everything that may be shown about a set of reports, for any period and column."""

    def __init__(
        self,
        facts: list[ReportFacts],
        zone: ZoneInfo,
        now: datetime,
        departments: Sequence[str],
        work_processes: Sequence[str],
        protected: MutableMapping[Hashable, YearTable] | None = None,
    ) -> None:
        self.zone = zone
        self._protected = protected
        self.now = max([now, *(f.submitted_at for f in facts)])
        self._layout = _layout(
            _domain(departments, (f.department for f in facts)),
            _domain(work_processes, (f.work_process for f in facts)),
        )
        # Only whole periods are shown: a period in progress would change with every new
        # report, and two looks a day apart would single that report out.
        self._last = Period.containing(PeriodKind.MONTH, self.now, zone).previous()
        end = self._last.end(zone).timestamp()
        moments = [f.submitted_at.timestamp() for f in facts]
        order = sorted((i for i, moment in enumerate(moments) if moment < end), key=moments.__getitem__)
        facts = [facts[i] for i in order]
        self._facts = facts
        self._moments = [moments[i] for i in order]
        self._first = Period.containing(PeriodKind.MONTH, facts[0].submitted_at, zone) if facts else None
        self._counts = self._count()
        self._years: dict[int, YearTable] = {}

    def latest(self, kind: PeriodKind) -> Period:
        """The most recent whole period of this kind (the one before the period holding now)."""
        return Period.containing(kind, self.now, self.zone).previous()

    def values(self, breakdown: Breakdown) -> tuple[str | None, ...]:
        return self._layout.values[breakdown]

    # -- counting ----------------------------------------------------------------

    def _month_starts(self) -> tuple[list[float], int]:
        first_year = self._first.year if self._first else self._last.year
        starts = [
            datetime(year, month, 1, tzinfo=self.zone).timestamp()
            for year in range(first_year, self._last.year + 2)
            for month in range(1, 13)
        ]
        return starts, first_year

    def _count(self) -> dict[int, list[list[int]]]:
        """Per year, per base slot (column * 12 + month), per item: how many reports.

        Each report and value becomes one index (year, column, month, item) into one long
        array of counts; the lookups run as maps over dictionaries and numpy adds them up,
        which keeps 100,000 reports well under a second.
        """
        layout, facts = self._layout, self._facts
        starts, first_year = self._month_starts()
        size = layout.schema.size
        years = len(starts) // 12
        counts = numpy.zeros(years * 24 * size, dtype=numpy.int64)
        # bisect_right gives month index + 1; the index of a base slot, times the item count.
        slot_keys = [0] + [((m // 12) * 24 + m % 12) * size for m in range(len(starts))]
        months = map(partial(bisect.bisect_right, starts), self._moments)
        office = {role: (12 * size if role.is_office_holder else 0) for role in Role}
        keys = list(
            map(add, map(slot_keys.__getitem__, months), map(office.__getitem__, map(attrgetter("role"), facts)))
        )
        at_all = numpy.array(keys, dtype=numpy.int64)

        def tally(breakdown: Breakdown, values: Iterable[object], at: numpy.ndarray, **aliases: str) -> None:
            """Count values at their slots; ``aliases`` name the value None, True or False stand for."""
            items: dict[object, int] = dict(zip(layout.values[breakdown], layout.items[breakdown], strict=True))
            for alias, value in aliases.items():
                items[{"none": None, "true": True, "false": False}[alias]] = items[value]
            codes = numpy.fromiter(map(items.__getitem__, values), dtype=numpy.int64, count=len(at))
            counts[:] += numpy.bincount(at + codes, minlength=len(counts))

        counts[:] += numpy.bincount(at_all, minlength=len(counts))  # the total
        for breakdown, attribute in (
            (Breakdown.ROLE, "role"),
            (Breakdown.DEPARTMENT, "department"),
            (Breakdown.WORK_PROCESS, "work_process"),
            (Breakdown.CHANNEL, "channel"),
            (Breakdown.PERPETRATOR, "perpetrator"),
        ):
            tally(breakdown, map(attrgetter(attribute), facts), at_all)
        register = {"true": Register.REGISTERED, "false": Register.COUNSELLOR_ONLY}
        tally(Breakdown.REGISTER, map(attrgetter("in_register"), facts), at_all, **register)
        tally(Breakdown.SURVEY, map(attrgetter("survey"), facts), at_all, none=UNANSWERED)
        tally(Breakdown.CHECKIN, map(attrgetter("latest_checkin"), facts), at_all, none=UNANSWERED)
        # Forms: a report has one or more; each form counts at its report's slot.
        sets = list(map(attrgetter("forms"), facts))
        sizes = numpy.fromiter(map(len, sets), dtype=numpy.int64, count=len(sets))
        tally(Breakdown.FORM, chain.from_iterable(sets), numpy.repeat(at_all, sizes))
        registered = [f for f in facts if f.in_register]
        at = at_all[numpy.fromiter(map(attrgetter("in_register"), facts), dtype=bool, count=len(facts))]
        tally(Breakdown.POLICE_REPORT, map(attrgetter("police_report"), registered), at, true=YES, false=NO)
        tally(Breakdown.DAMAGES, map(attrgetter("damages_claimed"), registered), at, true=YES, false=NO)
        tally(Breakdown.REACTION, map(_reaction_speed, map(attrgetter("reaction_after"), registered)), at)
        by_year = counts.reshape(years, 24, size).tolist()
        return {first_year + offset: base for offset, base in enumerate(by_year) if any(map(any, base))}

    def _table(self, year: int) -> YearTable:
        table = self._years.get(year)
        if table is None:
            size = self._layout.schema.size
            base = self._counts.get(year) or [[0] * size for _ in range(24)]
            shown = [self._complete(Period.month(year, months_of(t)[-1] + 1)) for t in range(TIMES)]
            opened = self._open_months(year)
            # What the protection of a year depends on, and nothing else.
            key = (tuple(self._layout.values.items()), tuple(map(tuple, base)), tuple(opened), tuple(shown))
            known = None if self._protected is None else self._protected.get(key)
            table = known or YearTable(self._layout.schema, base, opened, shown)
            if self._protected is not None:
                self._protected[key] = table
            self._years[year] = table
        return table

    def _open_months(self, year: int) -> list[bool]:
        """Months that can hold reports: from the first report's month up to now."""
        if self._first is None:
            return [False] * MONTHS
        return [self._first <= Period.month(year, m) <= self._last for m in range(1, 13)]

    # -- publishing --------------------------------------------------------------

    def _shown(self, item: int, column: Column, period: Period) -> Count:
        """A cell as shown: its count, or hidden."""
        table = self._table(period.year)
        index, time = _COLUMN_INDEX[column], period.time_index()
        value = table.value(item, index, time)
        return Suppressed.HIDDEN if table.hidden(item, index, time) else value

    def _complete(self, month: Period) -> bool:
        return month <= self._last

    def _check(self, period: Period) -> None:
        if not self._complete(period.months()[-1]):
            raise ValueError("statistics are shown for whole periods only, and this one has not ended")

    def statistics(self, period: Period, audience: Audience | None = None) -> Statistics:
        """What /stats shows for a period; all three columns, or one audience's."""
        self._check(period)
        previous = period.previous()
        columns = (Column.of(audience),) if audience else (Column.ALL, Column.STAFF, Column.OFFICE_HOLDERS)
        layout = self._layout

        def cells(item: int, of: Sequence[int] | None) -> dict[Column, Cell]:
            found = {}
            for column in columns:
                if not self._table(period.year).exists(item, _COLUMN_INDEX[column]):
                    continue
                current, before = self._shown(item, column, period), self._shown(item, column, previous)
                share = None if of is None else self._share([item], of, column, period)
                found[column] = Cell(current, before, _difference(current, before), share)
            return found

        registered = layout.item(Breakdown.REGISTER, Register.REGISTERED)
        tables = {}
        for breakdown, codes in layout.values.items():
            of: Sequence[int] = [0]
            if breakdown in NESTED_IN_REGISTER:
                of = [registered]
            elif breakdown in ANSWERED:
                of = [layout.item(breakdown, code) for code in codes if code != UNANSWERED]
            rows = tuple(
                Row(code, cells(layout.item(breakdown, code), None if code == UNANSWERED else of)) for code in codes
            )
            tables[breakdown] = Table(breakdown, rows)
        return Statistics(
            period=period,
            previous=previous,
            columns=columns,
            total=cells(0, [0]),
            tables=tables,
            register_shares={
                kind: {c: self._register_share(kind, c, period) for c in columns} for kind in RegisterShare
            },
            acknowledgement={c: self._acknowledgement(c, period) for c in columns},
            reaction_time={c: self._reaction_time(c, period) for c in columns},
        )

    def _sum(self, items: Sequence[int], column: Column, period: Period) -> int | None:
        """The sum of some values of one breakdown, if the published counts give it: from the
        values themselves, or as their parent minus the other values."""
        direct = _published([self._shown(i, column, period) for i in items])
        if direct is not None:
            return sum(direct)
        owner = self._layout.schema.owner[items[0]]
        if owner < 0:
            return None  # the total has no parent
        dimension = self._layout.schema.dimensions[owner]
        others = [i for i in dimension.items if i not in items]
        complement = _published([self._shown(i, column, period) for i in (dimension.parent, *others)])
        if complement is not None and not dimension.multi:
            return complement[0] - sum(complement[1:])
        return None

    def _share(self, items: Sequence[int], of: Sequence[int], column: Column, period: Period) -> Share:
        """sum(items) / sum(of), when the published counts give both."""
        numerator, denominator = self._sum(items, column, period), self._sum(of, column, period)
        if numerator is None or not denominator:
            return Suppressed.HIDDEN
        return Fraction(numerator, denominator)

    def _register_share(self, kind: RegisterShare, column: Column, period: Period) -> Share:
        layout = self._layout
        registered = [layout.item(Breakdown.REGISTER, Register.REGISTERED)]
        if kind is RegisterShare.REACTION:
            reacted = [layout.item(Breakdown.REACTION, r) for r in Reaction if r is not Reaction.NONE]
            return self._share(reacted, registered, column, period)
        if kind is RegisterShare.REACTION_WITHIN_GUIDANCE:
            within = [layout.item(Breakdown.REACTION, r) for r in (Reaction.WITHIN_24_HOURS, Reaction.WITHIN_48_HOURS)]
            return self._share(within, registered, column, period)
        breakdown = Breakdown.POLICE_REPORT if kind is RegisterShare.POLICE_REPORT else Breakdown.DAMAGES
        return self._share([layout.item(breakdown, YES)], registered, column, period)

    def _slice(self, period: Period, column: Column) -> list[ReportFacts]:
        low = bisect.bisect_left(self._moments, period.start(self.zone).timestamp())
        high = bisect.bisect_left(self._moments, period.end(self.zone).timestamp())
        chosen = self._facts[low:high]
        if column is Column.ALL:
            return chosen
        office_holders = column is Column.OFFICE_HOLDERS
        return [f for f in chosen if f.role.is_office_holder == office_holders]

    def _acknowledgement(self, column: Column, period: Period) -> Durations:
        # Published only where the period's count is: "at least five were acknowledged"
        # then says nothing about a hidden count.
        if not isinstance(self._shown(0, column, period), int):
            return Durations(Suppressed.HIDDEN, Suppressed.HIDDEN)
        times = [f.acknowledged_after for f in self._slice(period, column) if f.acknowledged_after is not None]
        return _durations(times)

    def _reaction_time(self, column: Column, period: Period) -> Durations:
        # Published only where every reaction-time count is: the percentiles then tell
        # nothing about a hidden one.
        layout = self._layout
        if not all(isinstance(self._shown(layout.item(Breakdown.REACTION, r), column, period), int) for r in Reaction):
            return Durations(Suppressed.HIDDEN, Suppressed.HIDDEN)
        return _durations([f.reaction_after for f in self._slice(period, column) if f.reaction_after is not None])

    def trend(
        self,
        last: Period,
        *,
        breakdown: Breakdown = Breakdown.FORM,
        audience: Audience | None = None,
        months: int = 12,
    ) -> Trend:
        """A breakdown month by month, ending with the month ``last``."""
        if last.kind is not PeriodKind.MONTH:
            raise ValueError("a trend ends with a month")
        self._check(last)
        periods = [last]
        while len(periods) < months:
            periods.append(periods[-1].previous())
        periods.reverse()
        column = Column.of(audience)
        rows = tuple(
            TrendRow(code, tuple(self._shown(self._layout.item(breakdown, code), column, p) for p in periods))
            for code in self._layout.values[breakdown]
            if self._table(last.year).exists(self._layout.item(breakdown, code), _COLUMN_INDEX[column])
        )
        totals = tuple(self._shown(0, column, p) for p in periods)
        return Trend(breakdown, column, tuple(periods), rows, totals)


def _domain(configured: Sequence[str], seen: Iterable[str | None]) -> tuple[str | None, ...]:
    extra = sorted({value for value in seen if value is not None} - set(configured))
    return (*configured, *extra, None)


def _published(counts: Sequence[Count]) -> list[int] | None:
    numbers = [c for c in counts if isinstance(c, int)]
    return numbers if len(numbers) == len(counts) else None


def _difference(current: Count, previous: Count) -> Count:
    if isinstance(current, int) and isinstance(previous, int):
        return current - previous
    return Suppressed.HIDDEN


def _durations(values: Sequence[timedelta]) -> Durations:
    """Median and 90th percentile in whole hours, from five or more reports.

    Interpolated between neighbouring reports and rounded to the hour, so that a figure
    is not one person's exact time.
    """
    if len(values) < THRESHOLD:
        return Durations(Suppressed.HIDDEN, Suppressed.HIDDEN)
    seconds = sorted(v.total_seconds() for v in values)
    return Durations(_percentile_hours(seconds, 0.5), _percentile_hours(seconds, 0.9))


def _percentile_hours(ordered: Sequence[float], fraction: float) -> int:
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    value = ordered[low] + (position - low) * (ordered[high] - ordered[low])
    return math.floor(value / 3600 + 0.5)
