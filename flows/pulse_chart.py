"""The safety pulse as a picture: small panels, one per answer, the periods along the bottom.

Drawn from protected results only (flows.pulse.publish): a hidden count gets no bar, only
the marker "×", in the style of flows/charts.py (phone-wide PNG, large type, Okabe-Ito
colours, the reader's language). Kept apart from flows/pulse.py so that matplotlib is
loaded only when someone asks for the chart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

import messages
from flows.charts import _STYLE as CHART_STYLE
from flows.charts import BLUE, VERMILLION, png
from flows.charts import _figure as new_figure
from flows.charts import _hidden_mark as hidden_mark
from flows.charts import _wrap as wrap
from flows.pulse import SAFETY_POINTS, PulseResult, period_key
from flows.statistics import Count, Period, PeriodKind


def pulse_figure(results: Sequence[PulseResult], language: str) -> Figure:
    """Small panels, one per answer, periods along the bottom: no bar where a count is hidden."""
    panels: list[tuple[str, str, list[Count]]] = [
        (f"safety:{point}", messages.plain(language, f"pulse.safety.{point}"), [r.safety[n] for r in results])
        for n, point in enumerate(SAFETY_POINTS)
    ]
    panels.append(
        ("unreported:yes", messages.plain(language, "pulse.chart.unreported"), [r.unreported[0] for r in results])
    )
    panels.append(("decision:yes", messages.plain(language, "pulse.chart.decision"), [r.decision[0] for r in results]))
    with rc_context(CHART_STYLE):
        rows = math.ceil((len(panels) + 1) / 2)
        figure = new_figure(1.6 + 3.1 * rows)
        cells = list(figure.subplots(rows, 2, squeeze=False).flat)
        top = max((c for _, _, counts in panels for c in counts if isinstance(c, int)), default=0)
        labels = [_short_period(language, r.period) for r in results]
        for axes, (key, title, counts) in zip(cells, panels, strict=False):
            colour = VERMILLION if key in ("safety:1", "safety:2") else BLUE
            for position, count in enumerate(counts):
                gid = f"{key}:{period_key(results[position].period)}"
                if isinstance(count, int):
                    axes.bar(position, count, width=0.72, color=colour, gid=gid)
                else:
                    hidden_mark(axes, position, 0, "hidden:" + gid, language)
            axes.set_title(wrap(title, 34), fontsize=17)
            axes.set_ylim(0, max(top, 4) * 1.18)
            axes.set_xlim(-0.6, max(len(labels), 1) - 0.4)
            axes.set_xticks(range(len(labels)), labels, fontsize=12)
            axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=3))
        note = cells[len(panels)]
        note.axis("off")
        note.text(0, 0.95, wrap(messages.plain(language, "pulse.chart.note"), 36), va="top", fontsize=15)
        note.text(0, 0.05, wrap(messages.plain(language, "pulse.hidden_note"), 40), va="bottom", fontsize=13)
        for axes in cells[len(panels) + 1 :]:
            axes.axis("off")
        figure.suptitle(messages.plain(language, "pulse.chart.title"), x=0.02, ha="left")
        return figure


def pulse_chart(results: Sequence[PulseResult], language: str) -> bytes:
    return png(pulse_figure(results, language))


def _short_period(language: str, period: Period) -> str:
    if period.kind is PeriodKind.QUARTER:
        return f"Q{period.number} '{period.year % 100:02d}"
    if period.kind is PeriodKind.MONTH:
        return messages.plain(language, f"stats.month_short.{period.number}") + f" '{period.year % 100:02d}"
    return str(period.year)
