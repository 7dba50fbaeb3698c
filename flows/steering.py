"""What the people who steer see: /stats with its charts, and /export.

What this module owns: reading the coarse facts of every report (storage/facts.py) into
:class:`~flows.statistics.ReportFacts`, choosing a period and an audience, the /stats text
and its buttons, the three charts as pictures, and the exports of the register and the
statistics as files. Who may see them is flows/access.py (``sees_statistics``,
``may_export``), asked again at every command and press.

It also owns the quarterly summary: its timer (the first working day of each quarter, outside
quiet hours) and its notifications; flows/notices.py composes it when it is sent.

The statistics read only the facts table, in one scan, and decrypt nothing; the register
export reads the registered cases themselves (it lists them, one row per case), without
names, usernames or Telegram ids, and with the reporter's own words only where they let
the case into the register with their name.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import messages
from flows import charts, exports
from flows.access import may_export, sees_statistics
from flows.clock import Clock
from flows.lifecycle import (
    ActionKind,
    AuditNote,
    CheckInAnswer,
    ClaimStatus,
    Delivery,
    Notice,
    Party,
    RegisterState,
    SurveyAnswer,
    Timer,
    TimerKind,
)
from flows.model import Audience, Channel, Language, Role, Sender
from flows.outcome import Choice, FileKind, Keyboard, MadeFile, Outcome, Reply, StatsCharts, StatsView
from flows.routing import Router
from flows.statistics import (
    Breakdown,
    Cell,
    Column,
    Durations,
    Form,
    Period,
    PeriodKind,
    Perpetrator,
    PublishedStatistics,
    RegisterShare,
    ReportFacts,
    Share,
    Statistics,
    Suppressed,
    publish,
)
from flows.statistics_text import breakdown_label, column_label, count_text, period_label, value_label
from flows.suppression import YearTable
from flows.timing import QuietHours
from messages import Label
from storage import Storage
from storage.cases import RegisteredCase
from storage.facts import FactsRow
from storage.schedule import DueItem

AUDIENCES: dict[str, Audience | None] = {"a": None, "s": Audience.STAFF, "h": Audience.OFFICE_HOLDERS}
# What the /stats text shows, in this order; police reports and damages are shown as shares.
TEXT_BREAKDOWNS = (
    Breakdown.FORM,
    Breakdown.ROLE,
    Breakdown.DEPARTMENT,
    Breakdown.WORK_PROCESS,
    Breakdown.CHANNEL,
    Breakdown.PERPETRATOR,
    Breakdown.REGISTER,
    Breakdown.REACTION,
    Breakdown.SURVEY,
    Breakdown.CHECKIN,
)
EARLIEST_YEAR = 2000  # a period button never reaches further back than this
TREND_MONTHS = 12
PROTECTED_YEARS_KEPT = 16  # protected year tables kept for reuse (a few years, in a few versions)


# -- the facts as the statistics read them --------------------------------------------------


@cache
def _month_moment(month: str, zone: ZoneInfo) -> datetime:
    """A moment inside the month (its first day at noon, local): the facts keep only the month."""
    return datetime(int(month[:4]), int(month[5:7]), 1, 12, tzinfo=zone)


@cache
def _forms(codes: str) -> frozenset[Form]:
    return frozenset(Form(code) for code in codes.split(","))


@cache
def _hours(hours: int | None) -> timedelta | None:
    return None if hours is None else timedelta(hours=hours)


def report_facts(rows: Iterable[FactsRow], zone: ZoneInfo) -> list[ReportFacts]:
    """Stored rows as :class:`ReportFacts`. A report that left the register keeps its count, but
    what concerns the register (reaction, police report, damages) no longer counts for it.

    Many reports share the same codes: each distinct row becomes one (frozen) object, shared."""
    made: dict[FactsRow, ReportFacts] = {}
    found = []
    for row in rows:
        facts = made.get(row)
        if facts is None:
            facts = made[row] = _facts_of(row, zone)
        found.append(facts)
    return found


def _facts_of(row: FactsRow, zone: ZoneInfo) -> ReportFacts:
    registered = bool(row.in_register)
    return ReportFacts(
        submitted_at=_month_moment(row.month, zone),
        forms=_forms(row.forms),
        channel=Channel(row.channel),
        role=Role(row.role),
        department=row.department,
        work_process=row.work_process,
        perpetrator=Perpetrator.UNKNOWN if row.perpetrator is None else Perpetrator(row.perpetrator),
        in_register=registered,
        acknowledged_after=_hours(row.acknowledged_hours),
        reaction_after=_hours(row.reaction_hours) if registered else None,
        police_report=registered and bool(row.police_report),
        damages_claimed=registered and bool(row.damages_claimed),
        survey=None if row.survey is None else SurveyAnswer(row.survey),
        latest_checkin=None if row.latest_checkin is None else CheckInAnswer(row.latest_checkin),
    )


async def published(
    storage: Storage, zone: ZoneInfo, now: datetime, protected: MutableMapping[Hashable, YearTable] | None = None
) -> PublishedStatistics:
    """Everything the statistics may show at ``now``, from one read of the facts table
    (``protected``: see :func:`flows.statistics.publish`)."""
    rows = await storage.facts.all()
    # Counting and protecting take seconds on a large register: in a thread, so that the bot keeps
    # answering everyone else meanwhile.
    return await asyncio.to_thread(lambda: publish(report_facts(rows, zone), zone=zone, now=now, protected=protected))


# -- the /stats text -------------------------------------------------------------------------


def _change(language: str, cell: Cell) -> str:
    if isinstance(cell.change, Suppressed):
        return count_text(language, cell.change)
    return f"{cell.change:+d}" if cell.change else "±0"


def _percent(share: Share | None) -> str | None:
    if share is None or isinstance(share, Suppressed):
        return None
    return f"{round(float(share * 100))}%"


def _figures(language: str, cells: dict[Column, Cell], columns: Sequence[Column]) -> dict[str, object]:
    """A row's figures: the first column's count, its share and its change; then, side by side,
    the other columns' counts ("–" where the value cannot occur, a mayor among staff)."""
    lead = cells.get(columns[0])
    share = None if lead is None else _percent(lead.share)
    others = [count_text(language, cells[c].current) if c in cells else "–" for c in columns[1:]]
    return {
        "count": "–" if lead is None else count_text(language, lead.current),
        "share": f" · {share}" if share else "",
        "change": "–" if lead is None else _change(language, lead),
        "others": f" — {' / '.join(others)}" if others else "",
    }


def _row(language: str, label: str, cells: dict[Column, Cell], columns: Sequence[Column]) -> Label:
    """One line; a line with nothing shown says so once instead of a row of marks."""
    if all(isinstance(cell.current, Suppressed) and isinstance(cell.change, Suppressed) for cell in cells.values()):
        return Label("stats.view.row_hidden", {"label": label, "hidden": count_text(language, Suppressed.HIDDEN)})
    return Label("stats.view.row", {"label": label, **_figures(language, cells, columns)})


def _quiet(cells: dict[Column, Cell]) -> bool:
    """A row of shown zeros in this period and the one before: left out, it tells nothing."""
    return all(cell.current == 0 and cell.previous == 0 for cell in cells.values())


def _hours_text(language: str, durations: Durations) -> Label:
    if isinstance(durations.median, int) and isinstance(durations.p90, int):
        return Label("stats.view.hours", {"median": durations.median, "within": durations.p90})
    return Label("stats.view.hours_hidden", {"hidden": count_text(language, Suppressed.HIDDEN)})


def stats_text(language: str, statistics: Statistics) -> Reply:
    """The statistics of a period as one message: every count with its change against the period
    before (and, for all reports, staff and office holders beside it), shares where they mean
    something, and hidden numbers as the catalogue's mark."""
    columns = statistics.columns
    lead = columns[0]
    body: list[Label] = [
        Label(
            "stats.view.total",
            {
                **_figures(language, dict(statistics.total), columns),
                "share": "",  # all reports are all reports
                "previous": period_label(language, statistics.previous),
                "before": count_text(language, statistics.total[lead].previous),
            },
        )
    ]
    for breakdown in TEXT_BREAKDOWNS:
        rows = [row for row in statistics.tables[breakdown].rows if row.cells and not _quiet(dict(row.cells))]
        if not rows:
            continue
        body.append(Label("stats.view.heading", {"name": breakdown_label(language, breakdown)}))
        body += [_row(language, value_label(language, breakdown, row.value), dict(row.cells), columns) for row in rows]
    body.append(Label("stats.view.heading", {"name": messages.plain(language, "stats.view.register_heading")}))
    for kind in RegisterShare:
        shares = [
            _percent(statistics.register_shares[kind][c]) or count_text(language, Suppressed.HIDDEN) for c in columns
        ]
        body.append(
            Label("stats.view.share", {"label": Label(f"stats.share.{kind.value}"), "shares": " · ".join(shares)})
        )
    body.append(
        Label(
            "stats.view.durations",
            {
                "acknowledgement": _hours_text(language, statistics.acknowledgement[lead]),
                "reaction": _hours_text(language, statistics.reaction_time[lead]),
            },
        )
    )
    return Reply(
        "stats.view",
        {
            "period": period_label(language, statistics.period),
            "legend": Label(
                "stats.view.legend_groups" if len(columns) > 1 else "stats.view.legend",
                {"column": column_label(language, lead), "previous": period_label(language, statistics.previous)},
            ),
            "body": tuple(body),
            "note": Label("stats.hidden_note"),
        },
        protect_content=True,
    )


# -- choosing a period ------------------------------------------------------------------------


def following(period: Period) -> Period:
    """The period of the same length just after."""
    last = {PeriodKind.MONTH: 12, PeriodKind.QUARTER: 4, PeriodKind.YEAR: 1}[period.kind]
    if period.number < last:
        return Period(period.kind, period.year, period.number + 1)
    return Period(period.kind, period.year + 1, 1)


def _period(view: StatsView | StatsCharts) -> Period | None:
    try:
        return Period(view.kind, view.year, view.number)
    except ValueError:
        return None


def _keyboard(period: Period, audience: str, latest: Period) -> Keyboard:
    def view(target: Period, who: str = audience) -> StatsView:
        return StatsView(target.kind, target.year, target.number, who)

    kinds = tuple(
        Choice(
            f"stats.button.{kind.value}" + ("_chosen" if kind is period.kind else ""),
            view(_latest_of(kind, latest)),
        )
        for kind in PeriodKind
    )
    audiences = tuple(
        Choice(f"stats.button.audience_{code}" + ("_chosen" if code == audience else ""), view(period, code))
        for code in AUDIENCES
    )
    turning: list[Choice] = []
    if period.previous().year >= EARLIEST_YEAR:
        turning.append(Choice("list.previous", view(period.previous())))
    if following(period) <= _latest_of(period.kind, latest):
        turning.append(Choice("list.next", view(following(period))))
    charts_button = (Choice("stats.button.charts", StatsCharts(period.kind, period.year, period.number, audience)),)
    return tuple(row for row in (kinds, audiences, tuple(turning), charts_button) if row)


def _latest_of(kind: PeriodKind, latest_month: Period) -> Period:
    """The most recent whole period of this kind, given the most recent whole month."""
    if kind is PeriodKind.MONTH:
        return latest_month
    if kind is PeriodKind.QUARTER:
        candidate = Period.quarter(latest_month.year, (latest_month.number - 1) // 3 + 1)
    else:
        candidate = Period.whole_year(latest_month.year)
    return candidate if candidate.months()[-1] == latest_month else candidate.previous()


def _shown(period: Period, latest_month: Period) -> bool:
    """Whether a period may be shown: it has ended, and it is not before the earliest year offered."""
    return period.year >= EARLIEST_YEAR and period.months()[-1] <= latest_month


# -- charts ------------------------------------------------------------------------------------


def chart_files(
    published: PublishedStatistics, period: Period, audience: Audience | None, language: str
) -> list[MadeFile]:
    """The trend per month by form (the twelve months up to the period's end), the reports per
    department, and how soon a reaction came: PNG pictures with a caption in the reader's language."""
    statistics = published.statistics(period, audience)
    column = Column.of(audience)
    trend = published.trend(period.months()[-1], audience=audience, months=TREND_MONTHS)
    params = {"period": period_label(language, period), "column": column_label(language, column)}
    return [
        MadeFile(
            FileKind.PHOTO, charts.trend_chart(trend, language), "trend.png", Label("stats.caption.trend", params)
        ),
        MadeFile(
            FileKind.PHOTO,
            charts.department_chart(statistics, column, language),
            "departments.png",
            Label("stats.caption.departments", params),
        ),
        MadeFile(
            FileKind.PHOTO,
            charts.reaction_chart(statistics, column, language),
            "reactions.png",
            Label("stats.caption.reaction", params),
        ),
    ]


# -- exports -----------------------------------------------------------------------------------

_POLICE = frozenset({ActionKind.POLICE_REPORT_VICTIM, ActionKind.POLICE_REPORT_EMPLOYER})


def register_row(registered: RegisteredCase, zone: ZoneInfo) -> exports.RegisterRow:
    """A registered case as the export writes it: codes and dates; the reporter's own words only
    when they let the case into the register with their name."""
    case = registered.case

    def day(moment: datetime) -> date:
        return moment.astimezone(zone).date()

    reactions = tuple(
        exports.ReactionRecord(
            kind="no_reaction" if action.kind is ActionKind.NOTHING else action.kind.value,
            recorded_on=day(action.recorded_at),
            outcome=action.outcome.value,
            outcome_on=None if action.outcome.value == "in_progress" else day(action.updated_at),
        )
        for action in registered.actions
    )
    police = [a for a in registered.actions if a.kind in _POLICE]
    damages = [a for a in registered.actions if a.kind is ActionKind.DAMAGES_CLAIMED]
    # The police track's own date when it was recorded there, else the first police reaction.
    police_on = case.police_reported_on or (day(police[0].recorded_at) if police else None)
    claimed = bool(damages) or case.damages_claim is not ClaimStatus.NOT_CLAIMED
    named = case.register is RegisterState.NAMED
    return exports.RegisterRow(
        reference=case.reference,
        reported_on=day(case.submitted_at),
        registered_on=day(case.registered_at or case.submitted_at),
        incident_on=case.incident_date,
        forms=case.forms,
        channel=case.channel,
        role=case.role,
        department=case.department,
        work_process=case.work_process,
        perpetrator=case.perpetrator,
        reactions=reactions,
        police_report=police_on is not None,
        police_report_on=police_on,
        damages_claimed=claimed,
        damages_claimed_on=day(damages[0].recorded_at) if damages else None,
        consequences=case.consequences or frozenset(),
        influenced_decision=case.influenced_decision,
        consented_to_name=named,
        account=case.description if named else None,
    )


def export_periods(published: PublishedStatistics, span: ExportRange, zone: ZoneInfo) -> list[Period]:
    """The whole quarters the statistics export covers: those inside the range, or the last four."""
    latest = _latest_of(PeriodKind.QUARTER, published.latest(PeriodKind.MONTH))
    quarters = [latest]
    while len(quarters) < 4 and span.start is None:
        quarters.append(quarters[-1].previous())
    if span.start is not None:
        quarters = []
        quarter = Period.containing(PeriodKind.QUARTER, span.start, zone)
        if quarter.start(zone) < span.start:
            quarter = following(quarter)
        while quarter <= latest and (span.end is None or quarter.end(zone) <= span.end):
            quarters.append(quarter)
            quarter = following(quarter)
        return quarters
    if span.end is not None:
        quarters = [q for q in quarters if q.end(zone) <= span.end]
    return sorted(quarters)


@dataclass(frozen=True, slots=True)
class ExportData:
    """What the exports hold: the registered cases as rows, and the protected figures per quarter."""

    rows: tuple[exports.RegisterRow, ...]
    statistics: tuple[Statistics, ...]


async def export_data(
    storage: Storage,
    zone: ZoneInfo,
    now: datetime,
    span: ExportRange,
    *,
    viewer: bytes | None,
    figures: PublishedStatistics | None = None,
) -> ExportData:
    """``viewer``: the coordinator exporting (cases they are barred from are left out); None for the
    operator's command line. ``figures``: the statistics as already worked out, if they are."""
    cases = await storage.cases.registered(span.start, span.end, viewer=viewer)
    figures = figures or await published(storage, zone, now)
    return ExportData(
        rows=tuple(register_row(registered, zone) for registered in cases),
        statistics=await asyncio.to_thread(
            lambda: tuple(figures.statistics(period) for period in export_periods(figures, span, zone))
        ),
    )


# -- the quarterly summary ---------------------------------------------------------------------

SUMMARY_AT = time(9, 0)  # on the first working day of a quarter, at the start of a working day


def easter_monday(year: int) -> date:
    """Easter Monday (Gregorian computus): a public holiday, and sometimes the 1st of April."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    day_shift = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * day_shift) // 433
    month = (h + day_shift - 7 * m + 90) // 25
    day = (h + day_shift - 7 * m + 33 * month + 19) % 32
    return date(year, month, day) + timedelta(days=1)


def first_working_day(quarter: Period) -> date:
    """The first day of the quarter that is a weekday and not New Year's Day or Easter Monday."""
    day = date(quarter.year, quarter.months()[0].number, 1)
    while day.weekday() >= 5 or (day.month, day.day) == (1, 1) or day == easter_monday(day.year):
        day += timedelta(days=1)
    return day


def summary_timer(now: datetime, zone: ZoneInfo, quiet: QuietHours | None) -> Timer:
    """The next summary: at the first working day of the first quarter whose summary is still to come,
    outside quiet hours; its detail names the quarter it is about (the one before)."""
    quarter = following(Period.containing(PeriodKind.QUARTER, now, zone))
    for candidate in (quarter.previous(), quarter):
        due = datetime.combine(first_working_day(candidate), SUMMARY_AT, zone)
        if quiet is not None and quiet.is_quiet(due):
            due = quiet.next_allowed(due)
        if due > now:
            about = candidate.previous()
            return Timer(TimerKind.QUARTERLY_SUMMARY, due, f"{about.year}-{about.number}")
    raise AssertionError("the next quarter always starts after now")


def summary_quarter(ref: str | None) -> Period | None:
    """The quarter a summary is about, from its stored reference (2026-3)."""
    year, _, number = (ref or "").partition("-")
    try:
        return Period.quarter(int(year), int(number))
    except ValueError:
        return None


def summary_caption(language: str, statistics: Statistics) -> Reply:
    """The key figures of a quarter, short enough for a picture's caption."""
    columns = statistics.columns
    total = statistics.total
    hidden = count_text(language, Suppressed.HIDDEN)
    shares = statistics.register_shares
    registered = next(
        row.cells[Column.ALL].current
        for row in statistics.tables[Breakdown.REGISTER].rows
        if row.value == "registered" and Column.ALL in row.cells
    )
    return Reply(
        "summary.caption",
        {
            "period": period_label(language, statistics.period),
            "previous": period_label(language, statistics.previous),
            "count": count_text(language, total[Column.ALL].current),
            "change": _change(language, total[Column.ALL]),
            "staff": count_text(language, total[Column.STAFF].current) if Column.STAFF in columns else hidden,
            "office_holders": count_text(language, total[Column.OFFICE_HOLDERS].current),
            "registered": count_text(language, registered),
            "reaction": _percent(shares[RegisterShare.REACTION][Column.ALL]) or hidden,
            "within": _percent(shares[RegisterShare.REACTION_WITHIN_GUIDANCE][Column.ALL]) or hidden,
        },
        protect_content=True,
    )


def _export_files(made: ExportData, language: str, stamp: str) -> list[MadeFile]:
    """The three files /export sends (built in a thread: the workbook of a large register takes a while)."""
    return [
        MadeFile(
            FileKind.DOCUMENT,
            exports.register_csv(made.rows, language),
            f"meldbot-register-{stamp}.csv",
            Label("export.caption.register_csv"),
        ),
        MadeFile(
            FileKind.DOCUMENT,
            exports.statistics_csv(made.statistics, language),
            f"meldbot-statistics-{stamp}.csv",
            Label("export.caption.statistics_csv"),
        ),
        MadeFile(
            FileKind.DOCUMENT,
            exports.workbook(language, register=made.rows, statistics=made.statistics),
            f"meldbot-{stamp}.xlsx",
            Label("export.caption.workbook"),
        ),
    ]


# -- the flow ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportRange:
    """The cases an export covers: sent from ``start`` (inclusive) to ``end`` (exclusive); None is open."""

    start: datetime | None = None
    end: datetime | None = None


class Steering:
    def __init__(
        self, storage: Storage, router: Router, clock: Clock, zone: ZoneInfo, quiet: QuietHours | None = None
    ) -> None:
        self._storage = storage
        self._quiet = quiet
        self._router = router
        self._clock = clock
        self._zone = zone
        # What was worked out, reused while no fact of an ended month changed and the same month is
        # the latest: working it out takes seconds on a large register, reusing it milliseconds.
        self._protected: dict[Hashable, YearTable] = {}
        self._latest: tuple[int, Period, PublishedStatistics] | None = None

    def _language(self, sender: Sender) -> Language:
        members = self._router.staff_member(sender.telegram_id)
        return members[0].language if members else Language.from_telegram(sender.language_code)

    def _denied(self, sender: Sender) -> Outcome:
        return Outcome(self._language(sender), toast=Label("toast.not_yours"))

    def _steers(self, sender: Sender) -> bool:
        return sees_statistics(self._storage.people.index_of(sender.telegram_id), self._router)

    def latest_month(self) -> Period:
        return Period.containing(PeriodKind.MONTH, self._clock.now(), self._zone).previous()

    async def stats(self, sender: Sender, view: StatsView | None = None) -> Outcome:
        """/stats: the statistics of a whole period, the latest quarter unless a button chose another."""
        if not self._steers(sender):
            return self._denied(sender)
        language = self._language(sender)
        latest = self.latest_month()
        period = _latest_of(PeriodKind.QUARTER, latest) if view is None else _period(view)
        audience = "a" if view is None else view.audience
        if period is None or audience not in AUDIENCES or not _shown(period, latest):
            return Outcome(language, toast=Label("toast.stale"))
        published = await self._published()
        statistics = await asyncio.to_thread(published.statistics, period, AUDIENCES[audience])
        reply = stats_text(language.value, statistics)
        keyboard = _keyboard(period, audience, latest)
        return Outcome(language, replies=[Reply(reply.key, reply.params, keyboard, protect_content=True)])

    async def stats_charts(self, sender: Sender, view: StatsCharts) -> Outcome:
        """The three charts of a /stats view, as pictures."""
        if not self._steers(sender):
            return self._denied(sender)
        language = self._language(sender)
        period = _period(view)
        if period is None or view.audience not in AUDIENCES or not _shown(period, self.latest_month()):
            return Outcome(language, toast=Label("toast.stale"))
        published = await self._published()
        audience = AUDIENCES[view.audience]
        files = await asyncio.to_thread(chart_files, published, period, audience, language.value)
        return Outcome(language, files=files)

    async def _published(self) -> PublishedStatistics:
        version, month = await self._storage.facts.version(), self.latest_month()
        if self._latest is not None and self._latest[:2] == (version, month):
            return self._latest[2]
        if len(self._protected) > PROTECTED_YEARS_KEPT:
            self._protected.clear()
        figures = await published(self._storage, self._zone, self._clock.now(), self._protected)
        self._latest = (version, month, figures)
        return figures

    async def export(self, sender: Sender) -> Outcome:
        """/export: the register (CSV for Dutch Excel), the statistics (CSV), and both in one
        XLSX workbook, as documents; an audit entry says who exported what."""
        index = self._storage.people.index_of(sender.telegram_id)
        member = self._router.coordinator(index)
        if member is None or not may_export(index, self._router):
            return self._denied(sender)
        language = member.language.value
        now = self._clock.now()
        made = await export_data(
            self._storage, self._zone, now, ExportRange(), viewer=index, figures=await self._published()
        )
        await self._storage.audit.record_note(
            AuditNote("coordinator", member.name, "exported", f"register ({len(made.rows)} cases) and statistics"),
            now,
        )
        stamp = now.astimezone(self._zone).date().isoformat()
        files = await asyncio.to_thread(_export_files, made, language, stamp)
        return Outcome(Language(language), replies=[Reply("export.sent", {"cases": len(made.rows)})], files=files)

    # -- the quarterly summary ---------------------------------------------------------------

    async def arm_summary(self) -> None:
        """At start: the next quarterly summary waits in the schedule (once)."""
        if not await self._storage.facts.summary_armed():
            now = self._clock.now()
            await self._storage.schedule.add(None, [summary_timer(now, self._zone, self._quiet)], now)

    async def run_summary(self, item: DueItem) -> bool:
        """The quarter has begun: a summary of the one before for each coordinator, through the
        outbox (re-authorised when sent), and the next quarter's summary armed."""
        now = self._clock.now()
        about = summary_quarter(item.detail)
        following_timer = summary_timer(now, self._zone, self._quiet)
        recipients = [(i, Party.COORDINATOR) for i in self._router.coordinator_indexes()]
        recipients += [(i, Party.MANAGEMENT) for i in self._router.management_indexes()]
        deliveries = [
            Delivery(index, party, Notice.QUARTERLY_SUMMARY, item.detail, dedupe=f"{item.id}:{n}")
            for n, (index, party) in enumerate(recipients)
            if sees_statistics(index, self._router)
        ]
        await self._storage.facts.queue_summary(deliveries if about is not None else [], following_timer, now)
        return about is not None and bool(deliveries)
