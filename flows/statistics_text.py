"""The words around the statistics: names of values, breakdowns, columns and periods.

Plain text (for charts and spreadsheets), in the reader's language, from the message
catalogue. Department names, and work processes the catalogue does not know, are shown
as configured; they are not HTML-escaped here, so a chat message must put them through
``messages.render`` like any other text.
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import messages
from flows.statistics import Breakdown, Column, Count, Period, PeriodKind, Share

HIDDEN = "stats.hidden"

# The catalogue does not change while the bot runs, so the labels are worked out once.


@cache
def value_label(language: str, breakdown: Breakdown, value: str | None) -> str:
    if value is None:
        return messages.plain(language, "stats.not_given")
    if breakdown is Breakdown.DEPARTMENT:
        return value
    key = f"stats.{breakdown.value}.{value}"
    if breakdown is Breakdown.WORK_PROCESS and not messages.has(key):
        return value
    return messages.plain(language, key)


@cache
def breakdown_label(language: str, breakdown: Breakdown) -> str:
    return messages.plain(language, f"stats.breakdown.{breakdown.value}")


@cache
def column_label(language: str, column: Column) -> str:
    return messages.plain(language, f"stats.column.{column.value}")


@cache
def period_label(language: str, period: Period) -> str:
    if period.kind is PeriodKind.MONTH:
        month = messages.plain(language, f"month.{period.number}")
        return messages.plain(language, "stats.period.month", {"month": month, "year": period.year})
    if period.kind is PeriodKind.QUARTER:
        return messages.plain(language, "stats.period.quarter", {"quarter": period.number, "year": period.year})
    return messages.plain(language, "stats.period.year", {"year": period.year})


@cache
def month_short(language: str, period: Period) -> str:
    return messages.plain(language, f"stats.month_short.{period.number}")


def count_text(language: str, count: Count) -> str:
    """A published count, or the marker of a number that is not shown."""
    return str(count) if isinstance(count, int) else messages.plain(language, HIDDEN)


def percentage(share: Share) -> float | None:
    """A share as a percentage, or None if it is not shown."""
    return float(share * 100) if isinstance(share, Fraction) else None
