"""An onlooker who sees everything /stats, the charts and the export show, and computes.

Built from the published :class:`~flows.statistics.Statistics` and
:class:`~flows.statistics.Trend` values alone, plus what anyone knows about the data:
the unknowns are the counts per value, per staff/office holders, per month; a report
has exactly one value of each dimension (one or more forms); reaction, police report and
damages divide the registered reports; a role belongs to one column; there are no
reports before the first month or after now. Every published number becomes an
equation (a share: numerator = share * denominator; a duration shown: at least five
reports behind it). Then, with integer linear programming, every hidden count must
have at least two possible values, and the true counts must satisfy every equation.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix

from flows.model import Role
from flows.statistics import (
    ANSWERED,
    NESTED_IN_REGISTER,
    UNANSWERED,
    Breakdown,
    Column,
    Period,
    PeriodKind,
    PublishedStatistics,
    Reaction,
    Register,
    RegisterShare,
    ReportFacts,
    Statistics,
    Suppressed,
    Trend,
)

Key = tuple[str, str | None]  # ("total", None) or (breakdown, value)
TOTAL: Key = ("total", None)
Expression = dict[int, Fraction]
CAP = 10_000  # no count is larger; keeps every objective bounded


def value_key(breakdown: Breakdown, value: str | None) -> Key:
    return (breakdown.value, value)


def reaction_of(facts: ReportFacts) -> Reaction:
    hours = None if facts.reaction_after is None else facts.reaction_after / timedelta(hours=1)
    if hours is None:
        return Reaction.NONE
    if hours <= 24:
        return Reaction.WITHIN_24_HOURS
    return Reaction.WITHIN_48_HOURS if hours <= 48 else Reaction.LATER


@dataclass
class Onlooker:
    published: PublishedStatistics
    months: list[Period]  # the months that can hold reports
    variables: dict[tuple[Key, bool, Period], int] = field(default_factory=dict)
    rows: list[tuple[Expression, float, float]] = field(default_factory=list)
    hidden: dict[tuple[Key, Column, Period], Expression] = field(default_factory=dict)
    shown: dict[tuple[Key, Column, Period], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        keys: list[tuple[Key, bool | None]] = [(TOTAL, None)]
        for breakdown in Breakdown:
            for value in self.published.values(breakdown):
                office = Role(value).is_office_holder if breakdown is Breakdown.ROLE and value else None
                keys.append((value_key(breakdown, value), office))
        for month in self.months:
            for office_holders in (False, True):
                for key, office in keys:
                    if office is None or office == office_holders:
                        self.variables[(key, office_holders, month)] = len(self.variables)
        for month in self.months:
            for office_holders in (False, True):
                self._relations(office_holders, month)

    # -- what anyone knows -----------------------------------------------------------

    def _base(self, key: Key, office_holders: bool, month: Period) -> Expression:
        index = self.variables.get((key, office_holders, month))
        return {} if index is None else {index: Fraction(1)}

    def _relations(self, office_holders: bool, month: Period) -> None:
        def cell(key: Key) -> Expression:
            return self._base(key, office_holders, month)

        total = cell(TOTAL)
        registered = cell(value_key(Breakdown.REGISTER, Register.REGISTERED))
        for breakdown in Breakdown:
            parts = [cell(value_key(breakdown, v)) for v in self.published.values(breakdown)]
            if breakdown is Breakdown.FORM:
                for part in parts:
                    self.rows.append((subtract(part, total), -np.inf, 0))  # no more than the reports
                self.rows.append((subtract(add_all(parts), total), 0, np.inf))  # every report has one
                continue
            parent = registered if breakdown in NESTED_IN_REGISTER else total
            self.rows.append((subtract(add_all(parts), parent), 0, 0))

    def cell(self, key: Key, column: Column, period: Period) -> Expression:
        sides = {Column.STAFF: (False,), Column.OFFICE_HOLDERS: (True,), Column.ALL: (False, True)}[column]
        months = set(period.months())
        return add_all(self._base(key, side, m) for m in self.months if m in months for side in sides)

    # -- what is shown ---------------------------------------------------------------

    def count(self, key: Key, column: Column, period: Period, shown: int | Suppressed) -> None:
        expression = self.cell(key, column, period)
        if isinstance(shown, int):
            self.rows.append((expression, shown, shown))
            self.shown[(key, column, period)] = shown
        elif expression:  # a cell of months that cannot hold reports is known to be empty
            self.hidden[(key, column, period)] = expression

    def change(self, key: Key, column: Column, period: Period, change: int | Suppressed) -> None:
        if isinstance(change, int):
            now, before = self.cell(key, column, period), self.cell(key, column, period.previous())
            self.rows.append((subtract(now, before), change, change))

    def ratio(self, numerator: Expression, denominator: Expression, share: Fraction | Suppressed | None) -> None:
        if isinstance(share, Fraction):
            self.rows.append((subtract(numerator, scale(denominator, share)), 0, 0))

    def at_least_five(self, expression: Expression) -> None:
        self.rows.append((expression, 5, np.inf))

    def read_statistics(self, statistics: Statistics) -> None:
        period, previous = statistics.period, statistics.previous
        for column, cell in statistics.total.items():
            self.count(TOTAL, column, period, cell.current)
            self.count(TOTAL, column, previous, cell.previous)
            self.change(TOTAL, column, period, cell.change)
            self.ratio(self.cell(TOTAL, column, period), self.cell(TOTAL, column, period), cell.share)
        for breakdown, table in statistics.tables.items():
            for row in table.rows:
                key = value_key(breakdown, row.value)
                for column, cell in row.cells.items():
                    self.count(key, column, period, cell.current)
                    self.count(key, column, previous, cell.previous)
                    self.change(key, column, period, cell.change)
                    self.ratio(self.cell(key, column, period), self._base_of(breakdown, column, period), cell.share)
        for kind, per_column in statistics.register_shares.items():
            for column, share in per_column.items():
                numerator, denominator = self._register_share(kind, column, period)
                self.ratio(numerator, denominator, share)
        registered = value_key(Breakdown.REGISTER, Register.REGISTERED)
        none = value_key(Breakdown.REACTION, Reaction.NONE)
        for column, durations in statistics.acknowledgement.items():
            if isinstance(durations.median, int):
                self.at_least_five(self.cell(TOTAL, column, period))
        for column, durations in statistics.reaction_time.items():
            if isinstance(durations.median, int):
                self.at_least_five(subtract(self.cell(registered, column, period), self.cell(none, column, period)))

    def read_trend(self, trend: Trend) -> None:
        for row in trend.rows:
            for month, count in zip(trend.months, row.counts, strict=True):
                self.count(value_key(trend.breakdown, row.value), trend.column, month, count)
        for month, count in zip(trend.months, trend.totals, strict=True):
            self.count(TOTAL, trend.column, month, count)

    def _base_of(self, breakdown: Breakdown, column: Column, period: Period) -> Expression:
        if breakdown in NESTED_IN_REGISTER:
            return self.cell(value_key(Breakdown.REGISTER, Register.REGISTERED), column, period)
        if breakdown in ANSWERED:
            return subtract(
                self.cell(TOTAL, column, period), self.cell(value_key(breakdown, UNANSWERED), column, period)
            )
        return self.cell(TOTAL, column, period)

    def _register_share(self, kind: RegisterShare, column: Column, period: Period) -> tuple[Expression, Expression]:
        registered = self.cell(value_key(Breakdown.REGISTER, Register.REGISTERED), column, period)

        def reaction(value: Reaction) -> Expression:
            return self.cell(value_key(Breakdown.REACTION, value), column, period)

        if kind is RegisterShare.REACTION:
            return subtract(registered, reaction(Reaction.NONE)), registered
        if kind is RegisterShare.REACTION_WITHIN_GUIDANCE:
            return add_all([reaction(Reaction.WITHIN_24_HOURS), reaction(Reaction.WITHIN_48_HOURS)]), registered
        breakdown = Breakdown.POLICE_REPORT if kind is RegisterShare.POLICE_REPORT else Breakdown.DAMAGES
        return self.cell(value_key(breakdown, "yes"), column, period), registered

    # -- the computing ---------------------------------------------------------------

    def truth(self, facts: Iterable[ReportFacts]) -> np.ndarray:
        """The real counts of the whole months, counted here independently of the module under test."""
        x = np.zeros(len(self.variables))
        zone = self.published.zone
        for f in facts:
            month = Period.containing(PeriodKind.MONTH, f.submitted_at, zone)
            if month not in self.months:
                continue  # the month in progress is not shown
            side = f.role.is_office_holder
            keys = [TOTAL, value_key(Breakdown.ROLE, f.role), value_key(Breakdown.CHANNEL, f.channel)]
            keys += [value_key(Breakdown.FORM, form) for form in f.forms]
            keys += [value_key(Breakdown.DEPARTMENT, f.department), value_key(Breakdown.WORK_PROCESS, f.work_process)]
            keys += [value_key(Breakdown.PERPETRATOR, f.perpetrator)]
            keys += [value_key(Breakdown.SURVEY, f.survey or UNANSWERED)]
            keys += [value_key(Breakdown.CHECKIN, f.latest_checkin or UNANSWERED)]
            if f.in_register:
                keys += [value_key(Breakdown.REGISTER, Register.REGISTERED)]
                keys += [value_key(Breakdown.REACTION, reaction_of(f))]
                keys += [value_key(Breakdown.POLICE_REPORT, "yes" if f.police_report else "no")]
                keys += [value_key(Breakdown.DAMAGES, "yes" if f.damages_claimed else "no")]
            else:
                keys += [value_key(Breakdown.REGISTER, Register.COUNSELLOR_ONLY)]
            for key in keys:
                x[self.variables[(key, side, month)]] += 1
        return x

    def _matrix(self) -> LinearConstraint:
        matrix = lil_matrix((len(self.rows), len(self.variables)))
        low, high = np.empty(len(self.rows)), np.empty(len(self.rows))
        for r, (expression, lo, hi) in enumerate(self.rows):
            for index, coefficient in expression.items():
                matrix[r, index] = float(coefficient)
            low[r], high[r] = lo, hi
        return LinearConstraint(matrix.tocsr(), low, high)

    def check_consistent(self, truth: np.ndarray) -> None:
        for expression, lo, hi in self.rows:
            value = sum(float(c) * truth[i] for i, c in expression.items())
            assert lo - 1e-9 <= value <= hi + 1e-9, (expression, lo, hi, value)

    def undetermined(self, truth: np.ndarray, seed: int = 0) -> list[tuple[Key, Column, Period]]:
        """The hidden cells whose value the onlooker can pin down (should be none)."""
        constraint = self._matrix()
        bounds = Bounds(np.zeros(len(self.variables)), np.full(len(self.variables), CAP))
        integrality = np.ones(len(self.variables))
        open_cells = dict(self.hidden)
        true_value = {k: sum(float(c) * truth[i] for i, c in e.items()) for k, e in open_cells.items()}
        rng = random.Random(seed)

        # Near the truth: an alternative found within these bounds is an alternative, and
        # without them a few unconstrained cells run off to CAP while the rest stay put.
        near = Bounds(np.maximum(truth - 2, 0), truth + 2)

        def solve(objective: np.ndarray, within: Bounds = bounds) -> np.ndarray:
            result = milp(objective, constraints=constraint, bounds=within, integrality=integrality)
            assert result.success, result.message
            return np.asarray(result.x)

        def certify(x: np.ndarray) -> None:
            for k in list(open_cells):
                value = sum(float(c) * x[i] for i, c in open_cells[k].items())
                if abs(value - true_value[k]) > 0.5:
                    del open_cells[k]

        # Push every open cell up, then down, then in random directions: each solution that
        # differs from the truth in a cell proves that cell undetermined.
        def direction(round_: int) -> np.ndarray:
            # All up, all down, then random thirds up, down and free (so that cells that
            # can only move against each other are pulled apart).
            objective = np.zeros(len(self.variables))
            for expression in open_cells.values():
                weight = (-1.0, 1.0)[round_] if round_ < 2 else rng.choice((-1.0, 0.0, 1.0))
                for i, c in expression.items():
                    objective[i] += weight * float(c)
            return objective

        stale = 0
        for round_ in range(40):
            if not open_cells or stale == 6:
                break
            before = len(open_cells)
            certify(solve(direction(round_), near))
            stale = stale + 1 if len(open_cells) == before else 0
        pinned = []
        for key in list(open_cells):
            if key not in open_cells:
                continue
            objective = np.zeros(len(self.variables))
            for i, c in open_cells[key].items():
                objective[i] = float(c)
            for sign in (1.0, -1.0):
                certify(solve(sign * objective))
                if key not in open_cells:
                    break
            else:
                pinned.append(key)
        return pinned


def add_all(expressions: Iterable[Mapping[int, Fraction]]) -> Expression:
    total: Expression = {}
    for expression in expressions:
        for i, c in expression.items():
            total[i] = total.get(i, Fraction(0)) + c
    return {i: c for i, c in total.items() if c}


def subtract(a: Mapping[int, Fraction], b: Mapping[int, Fraction]) -> Expression:
    return add_all([a, scale(b, Fraction(-1))])


def scale(a: Mapping[int, Fraction], factor: Fraction) -> Expression:
    return {i: c * factor for i, c in a.items()}
