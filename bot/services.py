"""The one composition root: every flow of meldbot, built over one storage, router and clock.

bot/app.py builds the running bot with it (adding the courier and the timekeeper), and the
tests build the same flows with it, so what is tested is wired exactly as what runs.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.delivery import Courier
from bot.scheduling import Timekeeper
from flows.access import Access
from flows.aftercare import AftercareFlow, AftercarePlan
from flows.casework import Casework
from flows.clock import Clock, Periods
from flows.dossiers import DossierFlow
from flows.enrolment import Enrolment
from flows.escalation import Escalation
from flows.intake import MAX_ATTACHMENT_MB, Intake
from flows.invites import OPEN_MODE, Admission
from flows.lifecycle import RegisterRules
from flows.linking import Linking
from flows.model import DEFAULT_WORK_PROCESSES
from flows.mycases import MyCaseFlow
from flows.notices import Notices
from flows.privacy import Organisation
from flows.pulse import PulseFlow, PulsePlan
from flows.relay import Relay
from flows.routing import Router
from flows.steering import Steering
from flows.timing import QuietHours
from flows.tracks import Tracks
from storage import Storage


@dataclass(frozen=True, slots=True)
class Policy:
    """The settings the flows follow (from the configuration, see bot/config.py Settings.policy)."""

    zone: ZoneInfo
    periods: Periods = field(default_factory=Periods)
    plan: AftercarePlan = field(default_factory=AftercarePlan)
    access_mode: str = OPEN_MODE
    invite_valid_for: timedelta = timedelta(days=14)
    max_attachment_mb: int = MAX_ATTACHMENT_MB
    # Who is responsible for the data ([organisation]), for /privacy; None until configured.
    organisation: Organisation | None = None
    # The reaction clock and the footage task ([register]).
    register: RegisterRules = field(default_factory=RegisterRules)
    # How long closed and withdrawn cases are kept ([retention] closed_cases); None: until erased by the reporter.
    retention: timedelta | None = None
    # The safety pulse for office holders ([pulse]); off unless the organisation switches it on.
    pulse: PulsePlan = field(default_factory=PulsePlan)
    # Who besides the coordinators may see the pulse's results (/pulse): the management role's
    # Telegram ids beyond the Router's management (configured or enrolled), who always may.
    pulse_viewers: frozenset[int] = frozenset()
    departments: tuple[str, ...] = ()  # [organisation] departments: asked in the intake when set
    work_processes: tuple[str, ...] = DEFAULT_WORK_PROCESSES
    # When staff are not disturbed by what can wait (the quarterly summary); None: any time.
    quiet_hours: QuietHours | None = None


class RecentIds:
    """The last ``size`` ids seen, for cheap "did we already ..." checks."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, item: str) -> None:
        self._ids[item] = None
        self._ids.move_to_end(item)
        while len(self._ids) > self._size:
            self._ids.popitem(last=False)

    def __contains__(self, item: object) -> bool:
        return item in self._ids


@dataclass(slots=True)
class Services:
    storage: Storage
    router: Router
    clock: Clock
    policy: Policy
    access: Access
    aftercare: AftercareFlow
    intake: Intake
    casework: Casework
    mycases: MyCaseFlow
    relay: Relay
    admission: Admission
    escalation: Escalation
    notices: Notices
    tracks: Tracks
    enrolment: Enrolment
    pulse: PulseFlow
    dossiers: DossierFlow
    steering: Steering
    linking: Linking
    courier: Courier | None = None
    timekeeper: Timekeeper | None = None
    # Presses already answered (Telegram takes one answer per press): the error handler skips them.
    answered: RecentIds = field(default_factory=lambda: RecentIds(1024))


def build(storage: Storage, router: Router, clock: Clock, policy: Policy) -> Services:
    """Every flow, wired once."""
    access = Access(storage, router)
    aftercare = AftercareFlow(storage, router, access, clock, policy.zone, policy.plan)
    linking = Linking(storage, router, access, clock)
    mycases = MyCaseFlow(storage, router, access, clock, policy.zone, linking, policy.register)
    relay = Relay(storage, router, access, mycases, clock, linking)
    tracks = Tracks(storage, router, access, clock, policy.zone)
    tracks.register_purposes(relay)
    intake = Intake(
        storage,
        router,
        clock,
        policy.zone,
        policy.periods,
        aftercare,
        max_attachment_mb=policy.max_attachment_mb,
        register=policy.register,
        departments=policy.departments,
        work_processes=policy.work_processes,
        linking=linking,
    )
    pulse = PulseFlow(storage, router, clock, policy.zone, policy.pulse, policy.pulse_viewers)
    dossiers = DossierFlow(storage, router, access, clock, policy.zone, policy.organisation)
    return Services(
        storage=storage,
        router=router,
        clock=clock,
        policy=policy,
        access=access,
        aftercare=aftercare,
        intake=intake,
        casework=Casework(
            storage,
            router,
            access,
            clock,
            policy.zone,
            policy.plan,
            employer_address=policy.organisation.address if policy.organisation else None,
            linking=linking,
        ),
        mycases=mycases,
        relay=relay,
        admission=Admission(storage, router, clock, policy.access_mode, policy.invite_valid_for),
        escalation=Escalation(storage, router, clock),
        notices=Notices(storage, router, policy.zone, clock, policy.plan, pulse=pulse, dossiers=dossiers),
        tracks=tracks,
        enrolment=Enrolment(storage, router, clock, policy.invite_valid_for, intake.route_waiting),
        pulse=pulse,
        dossiers=dossiers,
        steering=Steering(storage, router, clock, policy.zone, policy.quiet_hours),
        linking=linking,
    )
