"""What the flow and storage tests share: the staff, a clock the test moves, every flow wired by
the same composition root the running bot uses (bot/services.py), and small readers of outcomes
and of the outbox. No Telegram here; the end-to-end tests use tests/e2e.py."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.services import Policy, Services, build
from flows.aftercare import AftercarePlan
from flows.clock import Periods
from flows.lifecycle import ESCALATIONS, Case, Notice, Party, TimerKind
from flows.model import Audience, Coordinator, Counsellor, DamagesHelper, Language, Manager, Sender
from flows.outcome import Action, Outcome, Reply
from flows.routing import Router
from flows.tracks import KINDS as TRACK_KINDS
from storage import Storage

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

STAFF_COUNSELLOR = Counsellor(1001, "Vertrouwenspersoon medewerkers", frozenset({Audience.STAFF}), Language.NL, 0)
HOLDERS_COUNSELLOR = Counsellor(
    1002, "Vertrouwenspersoon bestuurders", frozenset({Audience.OFFICE_HOLDERS}), Language.EN, 1
)
SECOND_STAFF = Counsellor(1003, "Tweede vertrouwenspersoon", frozenset({Audience.STAFF}), Language.NL, 2)
COORDINATOR = Coordinator(2001, "Coördinator incidentregistratie", Language.NL, 0)
MANAGER = Manager(3001, "Gemeentesecretaris", Language.NL, 0)
DAMAGES_HELPER = DamagesHelper(3101, "Schadeloket", Language.EN)

StaffMember = Counsellor | Coordinator | Manager | DamagesHelper


class ManualClock:
    """A clock that moves only when the test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 18, 10, 30, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def reporter(
    telegram_id: int = 5001, name: str = "Anna de Vries", username: str | None = "annadv", lang: str = "nl"
) -> Sender:
    return Sender(telegram_id=telegram_id, display_name=name, username=username, language_code=lang)


def staff(member: StaffMember) -> Sender:
    """A configured staff member as the sender of an update."""
    return reporter(member.telegram_id, member.name, None)


def make_router(
    storage: Storage,
    counsellors: Iterable[Counsellor] = (STAFF_COUNSELLOR, HOLDERS_COUNSELLOR),
    coordinators: Iterable[Coordinator] = (COORDINATOR,),
    management: Iterable[Manager] = (MANAGER,),
    damages_helper: DamagesHelper | None = DAMAGES_HELPER,
) -> Router:
    return Router(
        list(counsellors),
        list(coordinators),
        storage.people.index_of,
        management=list(management),
        damages_helper=damages_helper,
    )


# -- reading outcomes -----------------------------------------------------------------------


def screens(outcome: Outcome) -> list[Reply]:
    """What the person sees change, in order: the pressed message as edited, then new messages."""
    return ([outcome.edit_pressed] if outcome.edit_pressed is not None else []) + list(outcome.replies)


def keys(outcome: Outcome) -> list[str]:
    return [reply.key for reply in screens(outcome)]


def last(outcome: Outcome) -> Reply:
    """The newest thing the person sees (the last new message, else the edited one)."""
    shown = screens(outcome)
    assert shown, f"nothing shown: {outcome!r}"
    return shown[-1]


def button(outcome: Outcome, label: str) -> Action:
    """The action behind the button labelled ``label`` on the newest message that has buttons."""
    for reply in reversed([r for r in screens(outcome) if r.keyboard]):
        for row in reply.keyboard:
            for choice in row:
                if choice.label == label:
                    return choice.action
    raise AssertionError(f"no button {label!r} in {[r.key for r in screens(outcome) if r.keyboard]}")


def labels(outcome: Outcome) -> list[str]:
    return [choice.label for reply in screens(outcome) for row in reply.keyboard for choice in row]


def reference_of(outcome: Outcome) -> str:
    for reply in reversed(screens(outcome)):
        if "reference" in reply.params:
            return str(reply.params["reference"])
    raise AssertionError(f"no reference in {keys(outcome)}")


# -- the outbox -------------------------------------------------------------------------------

OutboxRow = tuple[bytes, str, str, str | None]


async def outbox(storage: Storage, *kinds: Notice) -> list[OutboxRow]:
    """(recipient_index, party, kind, ref) of every queued notification, oldest first."""
    async with storage.db.transaction() as conn:
        async with conn.execute(
            "SELECT recipient_index, recipient_role, kind, ref FROM outbox ORDER BY created_at, seq"
        ) as cursor:
            rows: list[OutboxRow] = [(bytes(r[0]), str(r[1]), str(r[2]), r[3]) for r in await cursor.fetchall()]
    return [r for r in rows if not kinds or r[2] in kinds]


def to(storage: Storage, who: StaffMember | Sender | int, rows: Iterable[OutboxRow]) -> list[str]:
    """The kinds of the rows addressed to one person."""
    telegram_id = who if isinstance(who, int) else who.telegram_id
    index = storage.people.index_of(telegram_id)
    return [r[2] for r in rows if r[0] == index]


def index(storage: Storage, who: StaffMember | Sender | int) -> bytes:
    return storage.people.index_of(who if isinstance(who, int) else who.telegram_id)


# -- the world --------------------------------------------------------------------------------


class World:
    """Two staff counsellors, one for office holders, one coordinator, management and a damages
    helper, and every flow over them, wired by bot.services.build as in the running bot."""

    def __init__(
        self,
        storage: Storage,
        clock: ManualClock,
        counsellors: Iterable[Counsellor] = (STAFF_COUNSELLOR, SECOND_STAFF, HOLDERS_COUNSELLOR),
        plan: AftercarePlan | None = None,
        coordinators: Iterable[Coordinator] = (COORDINATOR,),
        **policy: Any,
    ) -> None:
        self.storage, self.clock = storage, clock
        self.router = make_router(storage, counsellors=counsellors, coordinators=coordinators)
        self.policy = Policy(
            zone=AMSTERDAM,
            periods=Periods(timedelta(hours=24), timedelta(hours=24)),
            plan=plan or AftercarePlan(),
            **policy,
        )
        self.services: Services = build(storage, self.router, clock, self.policy)
        svc = self.services
        self.access, self.aftercare, self.intake = svc.access, svc.aftercare, svc.intake
        self.casework, self.mycases, self.relay = svc.casework, svc.mycases, svc.relay
        self.escalation, self.notices, self.admission = svc.escalation, svc.notices, svc.admission
        self.tracks = svc.tracks
        self.dossiers = svc.dossiers

    async def press(self, sender: Sender, outcome: Outcome, label: str) -> Outcome:
        """Press the button labelled ``label`` as ``sender``, as the bot would dispatch it."""
        from bot import dispatch

        return await dispatch.press(self.services, sender, button(outcome, label), "meldbot_test_bot")

    async def file(self, who: Sender | None = None, **kwargs: Any) -> Outcome:
        return await file_report(self, who or reporter(), **kwargs)

    async def report(self, who: Sender | None = None, **kwargs: Any) -> Case:
        """File a report the shortest way; returns the case as stored."""
        out = await self.file(who, **kwargs)
        case = await self.storage.cases.by_reference(reference_of(out))
        assert case is not None
        return case

    async def case(self, reference: str) -> Case:
        case = await self.storage.cases.by_reference(reference)
        assert case is not None
        return case

    async def run_due(self, kinds: Iterable[TimerKind] = ESCALATIONS) -> int:
        """Run what has fallen due (as the Timekeeper would), of these kinds; returns how many acted."""
        wanted = set(kinds)
        ran = 0
        for item in await self.storage.schedule.due(self.clock.now(), 100):
            if item.kind not in wanted:
                continue
            claimed = await self.storage.schedule.claim(item.id, self.clock.now(), timedelta(minutes=5))
            if claimed:
                if claimed.kind in TRACK_KINDS:
                    acted = await self.tracks.run(claimed)
                elif claimed.kind in ESCALATIONS:
                    acted = await self.escalation.run(claimed)
                elif claimed.kind is TimerKind.DOSSIER_WAIT:
                    acted = await self.dossiers.run(claimed)
                else:
                    acted = await self.aftercare.run(claimed)
                if acted:
                    ran += 1
                await self.storage.schedule.finish(claimed.id, self.clock.now())
        return ran


async def file_report(
    world: World,
    sender: Sender,
    *,
    role: str = "employee",
    wish: str = "counsellor",
    text: str = "Hij schreeuwde tegen me.",
    share_coordinator: bool = False,
    form: str = "threat",
    perpetrator: str = "citizen_unnamed",
) -> Outcome:
    """The shortest path through the questions (or one toggle more, to share the name with the
    coordinator); the profile questions a first report asks are answered with the first
    department and by skipping the work process. Returns the outcome of the confirmation."""
    out = await world.intake.start(sender)
    for label in (f"forms.{form}", "when.today", "channel.in_person"):
        out = await world.press(sender, out, label)
    out = await world.intake.text(sender, text)
    out = await after_description(world, sender, out, role=role, perpetrator=perpetrator)
    out = await world.press(sender, out, f"wish.{wish}")
    if share_coordinator and wish == "counsellor_and_register":
        out = await world.press(sender, out, "toggle.coordinator_off")
    return await world.press(sender, out, "button.confirm")


async def after_description(
    world: World, sender: Sender, out: Outcome, *, role: str = "employee", perpetrator: str = "citizen_unnamed"
) -> Outcome:
    """From the description to the wish: who did it, and the profile questions a first report asks
    (the first department; the work process skipped)."""
    out = await world.press(sender, out, f"perpetrator.{perpetrator}")
    if last(out).key == "ask.role":
        out = await world.press(sender, out, f"role.{role}")
    if last(out).key == "ask.department":
        out = await world.press(sender, out, "department.option")
    if last(out).key == "ask.work_process":
        out = await world.press(sender, out, "work_process.skip")
    return out


__all__ = [
    "after_description",
    "AMSTERDAM",
    "COORDINATOR",
    "DAMAGES_HELPER",
    "MANAGER",
    "HOLDERS_COUNSELLOR",
    "SECOND_STAFF",
    "STAFF_COUNSELLOR",
    "ManualClock",
    "Party",
    "World",
    "button",
    "file_report",
    "index",
    "keys",
    "labels",
    "last",
    "make_router",
    "outbox",
    "reference_of",
    "reporter",
    "screens",
    "staff",
    "to",
]
