"""Charts a manager can read on a phone, drawn from shown numbers only.

The hidden numbers are checked where matplotlib gets them: every bar is a shown count of
the cell it stands for, and a hidden cell has no bar at all, only its marker.
"""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from PIL import Image

from flows import charts
from flows.statistics import Breakdown, Column, Period, PeriodKind, PublishedStatistics, Reaction, publish
from tests.statistics_data import DEPARTMENTS, generated_reports

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 7, 14, 12, 0, tzinfo=UTC)
OKABE_ITO_AND_INK = {charts.BLUE, charts.VERMILLION, charts.GREY, charts.INK}


@pytest.fixture(scope="module")
def published() -> PublishedStatistics:
    # About 300 reports a year: a mid-sized municipality, where much is shown and much hidden.
    reports = generated_reports(460, seed=11, start=datetime(2025, 1, 1, tzinfo=UTC), days=560)
    return publish(reports, zone=AMSTERDAM, now=NOW, departments=DEPARTMENTS)


def bars(figure: Figure) -> dict[str, Rectangle]:
    return {p.get_gid(): p for a in figure.axes for p in a.patches if isinstance(p, Rectangle) and p.get_gid()}


def marks(figure: Figure) -> dict[str, Text]:
    return {t.get_gid(): t for a in figure.axes for t in a.texts if (t.get_gid() or "").startswith("hidden:")}


def png_size(data: bytes) -> tuple[int, int]:
    image = Image.open(BytesIO(data))
    assert image.format == "PNG"
    image.verify()  # a complete, uncorrupted PNG
    return Image.open(BytesIO(data)).size


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_chart_renders_as_a_png_1080_pixels_wide(published: PublishedStatistics, language: str) -> None:
    quarter = published.latest(PeriodKind.QUARTER)
    statistics = published.statistics(quarter)
    figures = [
        charts.trend_figure(published.trend(published.latest(PeriodKind.MONTH)), language),
        charts.department_figure(statistics, Column.ALL, language),
        charts.reaction_figure(statistics, Column.ALL, language),
    ]
    for figure in figures:
        width, height = png_size(charts.png(figure))
        assert width == charts.WIDTH_PIXELS
        assert height == round(figure.get_size_inches()[1] * charts.DPI)


def test_titles_and_labels_are_in_the_readers_language(published: PublishedStatistics) -> None:
    statistics = published.statistics(Period.quarter(2026, 2))

    def words(figure: Figure) -> str:
        return " ".join(" ".join(t.get_text() for t in figure.findobj(Text)).split())

    dutch = words(charts.reaction_figure(statistics, Column.ALL, "nl"))
    english = words(charts.reaction_figure(statistics, Column.ALL, "en"))
    assert "Hoe snel werd er opgetreden tegen de dader?" in dutch and "richtlijn: 48 uur" in dutch
    assert "2e kwartaal 2026" in dutch and "Binnen 24 uur" in dutch
    assert "How soon was action taken against the perpetrator?" in english and "Q2 2026" in english
    trend = words(charts.trend_figure(published.trend(Period.month(2026, 6)), "nl"))
    assert "Meldingen per maand, naar vorm" in trend and "Omkooppoging" in trend and "jun" in trend


def test_the_trend_draws_shown_counts_and_nothing_for_hidden_ones(published: PublishedStatistics) -> None:
    trend = published.trend(Period.month(2026, 6))
    figure = charts.trend_figure(trend, "nl")
    drawn, hidden_marks = bars(figure), marks(figure)
    panels = [("total", trend.totals)] + [(str(row.value), row.counts) for row in trend.rows]
    hidden_cells = 0
    for key, counts in panels:
        for month, count in zip(trend.months, counts, strict=True):
            gid = f"{key}:{month.year}-{month.number:02d}"
            if isinstance(count, int):
                assert drawn[gid].get_height() == count and gid not in hidden_marks
            else:
                hidden_cells += 1
                assert gid not in drawn, f"a bar for hidden {gid}"
                assert hidden_marks["hidden:" + gid].get_text() == "×"
    assert hidden_cells > 10 and len(drawn) > 40  # the data hides much and shows much
    assert {bar.get_facecolor()[:3] for bar in drawn.values()} <= {_rgb(c) for c in OKABE_ITO_AND_INK}


def test_departments_show_shown_counts_largest_first_and_hidden_ones_after(published: PublishedStatistics) -> None:
    statistics = published.statistics(Period.month(2026, 5))
    figure = charts.department_figure(statistics, Column.ALL, "en")
    drawn, hidden_marks = bars(figure), marks(figure)
    cells = {str(row.value): row.cells[Column.ALL].current for row in statistics.tables[Breakdown.DEPARTMENT].rows}
    assert any(isinstance(c, int) for c in cells.values()) and not all(isinstance(c, int) for c in cells.values())
    for value, count in cells.items():
        if isinstance(count, int):
            assert drawn[value].get_width() == count
        else:
            assert value not in drawn and hidden_marks["hidden:" + value].get_text() == "×"
    # Shown ones by size, hidden ones below them: a position tells nothing about a hidden count.
    positions = {v: bar.get_y() for v, bar in drawn.items()}
    shown_order = sorted(positions, key=positions.__getitem__)
    assert [cells[v] for v in shown_order] == sorted((c for c in cells.values() if isinstance(c, int)), reverse=True)
    hidden_positions = [t.xy[1] for t in hidden_marks.values()]  # type: ignore[attr-defined]
    assert min(hidden_positions, default=99) > max(bar.get_y() for bar in drawn.values())
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels[-1] == "Not given" and set(labels) >= set(DEPARTMENTS) - {"Toezicht en Handhaving", "Werk en Inkomen"}


def test_reaction_speeds_with_the_guidance_and_a_hidden_speed(published: PublishedStatistics) -> None:
    statistics = published.statistics(Period.quarter(2026, 2))
    for column in (Column.ALL, Column.OFFICE_HOLDERS):
        figure = charts.reaction_figure(statistics, column, "nl")
        drawn, hidden_marks = bars(figure), marks(figure)
        for row in statistics.tables[Breakdown.REACTION].rows:
            count = row.cells[column].current
            if isinstance(count, int):
                assert drawn[str(row.value)].get_height() == count
            else:
                assert str(row.value) not in drawn and "hidden:" + str(row.value) in hidden_marks
        guidance = [line for line in figure.axes[0].get_lines() if line.get_linestyle() == "--"]
        assert [line.get_xdata()[0] for line in guidance] == [1.5]  # between "within 48 hours" and "later"
    ordered = [Reaction(str(row.value)) for row in statistics.tables[Breakdown.REACTION].rows]
    assert ordered[:2] == [Reaction.WITHIN_24_HOURS, Reaction.WITHIN_48_HOURS]


def _rgb(colour: str) -> tuple[float, float, float]:
    return tuple(int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))  # type: ignore[return-value]
