"""Every value the statistics can show has a name in both languages, without markup."""

from __future__ import annotations

from fractions import Fraction

import pytest

import messages
from flows.exports import Consequence
from flows.statistics import DEFAULT_WORK_PROCESSES, Breakdown, Column, Period, RegisterShare, Suppressed, publish
from flows.statistics_text import breakdown_label, column_label, count_text, percentage, period_label, value_label
from tests.test_statistics import AMSTERDAM, NOW

REACTION_KINDS = (
    "conversation",
    "warning_letter",
    "access_ban",
    "contact_ban",
    "service_suspended",
    "mediation",
    "police_report_victim",
    "police_report_employer",
    "damages_claimed",
    "civil_action",
    "no_reaction",
)


@pytest.mark.parametrize("language", messages.LANGUAGES)
def test_every_value_of_every_breakdown_has_a_name(language: str) -> None:
    values = publish([], zone=AMSTERDAM, now=NOW, departments=("Handhaving",))
    for breakdown in Breakdown:
        assert breakdown_label(language, breakdown)
        for value in values.values(breakdown):
            label = value_label(language, breakdown, value)
            assert label and "<" not in label and "{" not in label
    assert value_label(language, Breakdown.DEPARTMENT, "Handhaving") == "Handhaving"
    assert value_label(language, Breakdown.WORK_PROCESS, "Eigen werkproces") == "Eigen werkproces"
    assert {value_label(language, Breakdown.WORK_PROCESS, p) for p in DEFAULT_WORK_PROCESSES}.isdisjoint(
        DEFAULT_WORK_PROCESSES
    )
    assert all(column_label(language, column) for column in Column)


def test_every_name_the_charts_and_exports_look_up_exists() -> None:
    keys = [f"stats.share.{kind.value}" for kind in RegisterShare]
    keys += [f"export.reaction.{kind}" for kind in REACTION_KINDS]
    keys += [f"export.outcome.{o}" for o in ("in_progress", "completed", "unsuccessful")]
    keys += [f"export.consequence.{c.value}" for c in Consequence]
    keys += [f"stats.month_short.{m}" for m in range(1, 13)]
    assert [key for key in keys if not messages.has(key)] == []


def test_periods_are_named_as_people_say_them() -> None:
    assert period_label("nl", Period.month(2026, 3)) == "maart 2026"
    assert period_label("en", Period.month(2026, 3)) == "March 2026"
    assert period_label("nl", Period.quarter(2026, 2)) == "2e kwartaal 2026"
    assert period_label("en", Period.quarter(2026, 2)) == "Q2 2026"
    assert period_label("nl", Period.whole_year(2025)) == "2025"


def test_a_hidden_number_reads_as_its_marker_in_every_language() -> None:
    assert count_text("nl", 12) == "12" and count_text("en", 0) == "0"
    assert count_text("nl", Suppressed.HIDDEN) == count_text("en", Suppressed.HIDDEN) == "×"
    assert percentage(Fraction(3, 8)) == 37.5 and percentage(Suppressed.HIDDEN) is None
