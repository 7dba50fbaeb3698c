"""Pictures where people would rather look than read: the statistics as PNG images.

What this module owns: three charts, drawn from already protected figures only
(:class:`~flows.statistics.Trend` and :class:`~flows.statistics.Statistics`), so no
personal data and no hidden count can reach a picture: a number that is not shown gets
no bar, only the marker "×". The trend per month by form (small panels, one per form,
on one scale), reports per department (horizontal bars), and how soon a reaction
towards the perpetrator came, with the 48-hour guidance marked.

Made to be read on a phone: 1080 pixels wide, large type, one or two colours from the
Okabe-Ito palette (distinguishable with any colour vision), titles and labels in the
reader's language. Drawn with matplotlib's Agg canvas directly (no pyplot, no global
state), so charts can be drawn in any thread.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from io import BytesIO
from typing import Any

from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

import messages
from flows.statistics import Breakdown, Column, Count, Reaction, RegisterShare, Statistics, Trend
from flows.statistics_text import (
    HIDDEN,
    column_label,
    month_short,
    percentage,
    period_label,
    value_label,
)

WIDTH_PIXELS = 1080
DPI = 100
# Okabe & Ito's colour-blind safe palette.
BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREY = "#7F7F7F"
INK = "#222222"

_STYLE: dict[Any, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 19,
    "axes.titlesize": 20,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 18,
    "axes.edgecolor": GREY,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.color": "#DDDDDD",
    "xtick.color": INK,
    "ytick.color": INK,
    "xtick.labelsize": 16,
    "ytick.labelsize": 16,
    "figure.titlesize": 26,
    "figure.titleweight": "bold",
    "text.color": INK,
}


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes, 1080 pixels wide."""
    buffer = BytesIO()
    FigureCanvasAgg(figure)
    with rc_context(_STYLE):
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def trend_chart(trend: Trend, language: str) -> bytes:
    return png(trend_figure(trend, language))


def department_chart(statistics: Statistics, column: Column, language: str) -> bytes:
    return png(department_figure(statistics, column, language))


def reaction_chart(statistics: Statistics, column: Column, language: str) -> bytes:
    return png(reaction_figure(statistics, column, language))


def _figure(height_inches: float) -> Figure:
    return Figure(figsize=(WIDTH_PIXELS / DPI, height_inches), dpi=DPI, layout="constrained")


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _hidden_mark(axes: Axes, x: float, y: float, gid: str, language: str, horizontal: bool = False) -> None:
    """The marker where a number is not shown: no bar, so no height to read."""
    axes.annotate(
        messages.plain(language, HIDDEN),
        (x, y),
        xytext=(8, 0) if horizontal else (0, 3),
        textcoords="offset points",
        ha="left" if horizontal else "center",
        va="center" if horizontal else "bottom",
        color=GREY,
        fontsize=18,
        fontweight="bold",
        gid=gid,
    )


def _note(language: str) -> str:
    return _wrap(messages.plain(language, "stats.hidden_note"), 80)


def trend_figure(trend: Trend, language: str) -> Figure:
    """The total and each form month by month: small panels, forms on one scale."""
    with rc_context(_STYLE):
        panels: list[tuple[str, str, Sequence[Count]]] = [
            ("total", messages.plain(language, "stats.total"), trend.totals)
        ]
        panels += [
            (str(row.value), value_label(language, trend.breakdown, row.value), row.counts) for row in trend.rows
        ]
        rows = math.ceil((len(panels) + 1) / 2)
        figure = _figure(1.6 + 3.1 * rows)
        grid = figure.subplots(rows, 2, squeeze=False)
        cells = list(grid.flat)
        highest = max((c for _, _, counts in panels[1:] for c in counts if isinstance(c, int)), default=0)
        months = [month_short(language, m) for m in trend.months]
        for index, (axes, (key, label, counts)) in enumerate(zip(cells, panels, strict=False)):
            top = max((c for c in counts if isinstance(c, int)), default=0) if index == 0 else highest
            for position, count in enumerate(counts):
                gid = f"{key}:{trend.months[position].year}-{trend.months[position].number:02d}"
                if isinstance(count, int):
                    axes.bar(position, count, width=0.72, color=INK if index == 0 else BLUE, gid=gid)
                else:
                    _hidden_mark(axes, position, 0, "hidden:" + gid, language)
            axes.set_title(_wrap(label, 34), fontsize=17)
            axes.set_ylim(0, max(top, 4) * 1.18)
            axes.set_xlim(-0.6, len(months) - 0.4)
            axes.set_xticks(range(len(months)), months, fontsize=11.5)
            axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=3))
            axes.tick_params(axis="y", labelsize=14)
        note_axes = cells[len(panels)]
        note_axes.axis("off")
        first, last = period_label(language, trend.months[0]), period_label(language, trend.months[-1])
        note = messages.plain(language, "stats.chart.trend_note", {"column": column_label(language, trend.column)})
        note_axes.text(0, 0.95, f"{first} – {last}\n\n{_wrap(note, 34)}", va="top", fontsize=15, color=INK)
        note_axes.text(
            0, 0.05, _wrap(messages.plain(language, "stats.hidden_note"), 40), va="bottom", fontsize=13, color=GREY
        )
        for axes in cells[len(panels) + 1 :]:
            axes.axis("off")
        figure.suptitle(messages.plain(language, "stats.chart.trend"), x=0.02, ha="left")
        return figure


def department_figure(statistics: Statistics, column: Column, language: str) -> Figure:
    """Reports per department in the period: horizontal bars, the largest first.

    Only shown counts are ordered by size; hidden ones follow in the configured order,
    so a position tells nothing about a hidden count.
    """
    with rc_context(_STYLE):
        table = statistics.tables[Breakdown.DEPARTMENT]
        entries = [(row.value, row.cells[column].current) for row in table.rows if column in row.cells]
        shown = sorted(((v, c) for v, c in entries if isinstance(c, int) and v is not None), key=lambda e: -int(e[1]))
        hidden = [(v, c) for v, c in entries if not isinstance(c, int) and v is not None]
        unknown = [(v, c) for v, c in entries if v is None]
        ordered = shown + hidden + unknown
        figure = _figure(2.6 + 0.8 * len(ordered))
        axes = figure.subplots()
        axes.grid(axis="y", visible=False)
        axes.grid(axis="x", visible=True)
        highest = max((c for _, c in ordered if isinstance(c, int)), default=0)
        for position, (value, count) in enumerate(ordered):
            gid = f"{value}"
            if isinstance(count, int):
                axes.barh(position, count, height=0.66, color=BLUE, gid=gid)
                axes.text(count, position, f" {count}", va="center", ha="left", fontsize=18, color=INK)
            else:
                _hidden_mark(axes, 0, position, "hidden:" + gid, language, horizontal=True)
        labels = [_wrap(value_label(language, Breakdown.DEPARTMENT, value), 22) for value, _ in ordered]
        axes.set_yticks(range(len(ordered)), labels, fontsize=17)
        axes.invert_yaxis()
        axes.set_xlim(0, max(highest, 4) * 1.15)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel(messages.plain(language, "stats.chart.reports"))
        axes.set_title(
            f"{period_label(language, statistics.period)} · {column_label(language, column)}",
            fontsize=18,
            fontweight="normal",
        )
        figure.suptitle(messages.plain(language, "stats.chart.departments"), x=0.02, ha="left")
        figure.supxlabel(_note(language), fontsize=13, color=GREY, x=0.02, ha="left")
        return figure


def reaction_figure(statistics: Statistics, column: Column, language: str) -> Figure:
    """How soon registered reports got a reaction towards the perpetrator, with the
    48-hour guidance marked; the median and 90th percentile where they are shown."""
    with rc_context(_STYLE):
        table = statistics.tables[Breakdown.REACTION]
        counts = [(Reaction(str(row.value)), row.cells[column].current) for row in table.rows]
        colours = {Reaction.WITHIN_24_HOURS: BLUE, Reaction.WITHIN_48_HOURS: BLUE, Reaction.LATER: VERMILLION}
        figure = _figure(9.6)
        axes = figure.subplots()
        highest = max((c for _, c in counts if isinstance(c, int)), default=0)
        for position, (reaction, count) in enumerate(counts):
            gid = reaction.value
            if isinstance(count, int):
                axes.bar(position, count, width=0.7, color=colours.get(reaction, GREY), gid=gid)
                axes.text(position, count, str(count), ha="center", va="bottom", fontsize=19, color=INK)
            else:
                _hidden_mark(axes, position, 0, "hidden:" + gid, language)
        axes.set_ylim(0, max(highest, 4) * 1.25)
        axes.set_xlim(-0.6, len(counts) - 0.4)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        labels = [_wrap(value_label(language, Breakdown.REACTION, r.value), 13) for r, _ in counts]
        axes.set_xticks(range(len(counts)), labels, fontsize=16)
        axes.axvline(1.5, color=INK, linestyle="--", linewidth=2)
        axes.text(
            1.55,
            max(highest, 4) * 1.2,
            messages.plain(language, "stats.chart.guidance"),
            va="top",
            fontsize=16,
            color=INK,
        )
        axes.set_ylabel(messages.plain(language, "stats.chart.registered"))
        lines = [f"{period_label(language, statistics.period)} · {column_label(language, column)}"]
        share = percentage(statistics.register_shares[RegisterShare.REACTION_WITHIN_GUIDANCE][column])
        if share is not None:
            label = messages.plain(language, "stats.share.reaction_within_guidance")
            lines.append(f"{label}: {share:.0f}%")
        times = statistics.reaction_time[column]
        if isinstance(times.median, int) and isinstance(times.p90, int):
            lines.append(messages.plain(language, "stats.chart.times", {"median": times.median, "within": times.p90}))
        axes.set_title("\n".join(lines), fontsize=17, fontweight="normal")
        figure.suptitle(_wrap(messages.plain(language, "stats.chart.reaction"), 44), x=0.02, ha="left")
        figure.supxlabel(_note(language), fontsize=13, color=GREY, x=0.02, ha="left")
        return figure
