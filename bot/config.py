"""Configuration: a TOML file validated with pydantic, every problem named clearly.

Secrets are ``SecretStr`` so they never show in a repr or a log line. The
environment variable ``MELDBOT_TELEGRAM_TOKEN`` overrides the token in the file,
so a deployment can keep the token out of the file altogether.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveInt,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from flows.aftercare import AftercarePlan, CheckInStep, SupportContact
from flows.clock import Periods
from flows.lifecycle import RegisterRules
from flows.model import DEFAULT_WORK_PROCESSES, Audience, Coordinator, Counsellor, DamagesHelper, Language, Manager
from flows.privacy import Organisation
from flows.pulse import PulsePlan
from flows.statistics import PeriodKind
from flows.timing import QuietHours

if TYPE_CHECKING:
    from bot.services import Policy

TOKEN_ENV = "MELDBOT_TELEGRAM_TOKEN"
_TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{8,}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]*[0-9]$")
_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


class ConfigError(Exception):
    """The configuration cannot be used; the message names each setting and its problem."""


def parse_duration(text: str) -> timedelta:
    """An ISO 8601 duration such as ``PT24H``, ``P3D``, ``P2W`` or ``PT30S``."""
    match = _DURATION.match(text.strip().upper()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not an ISO 8601 duration (examples: PT24H, P3D, P2W, PT30S)")
    parts = {name: float(value) for name, value in match.groupdict().items() if value}
    return timedelta(**parts)


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    result = parse_duration(value)  # type: ignore[arg-type]
    if result <= timedelta(0):
        raise ValueError("must be longer than zero")
    return result


# An ISO 8601 duration in the file ("PT24H", "P3D"), a timedelta in the program.
Period = Annotated[timedelta, BeforeValidator(_duration)]
# A department or work process: shown on a button, so one short line.
ListedName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60, pattern=r"^[^\n]+$")]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _listen_address(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        raise ValueError("must be an IP address to listen on: 127.0.0.1 (this machine only) or 0.0.0.0") from None
    return value


# An IP address to bind a server to.
ListenAddress = Annotated[str, BeforeValidator(_listen_address)]
Port = Annotated[int, Field(ge=1, le=65535)]


class TelegramSettings(_Section):
    token: SecretStr | None = None
    api_base_url: str = "https://api.telegram.org/bot"
    file_base_url: str = "https://api.telegram.org/file/bot"
    poll_timeout: Annotated[int, Field(ge=0, le=50)] = 30
    # How updates arrive: meldbot asks for them (long polling), or Telegram posts them to
    # webhook_url, which a reverse proxy forwards to listen:port (same path).
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    listen: ListenAddress = "127.0.0.1"
    port: Port = 8080
    # Proves a webhook request comes from Telegram; generated and kept in the database if unset.
    secret_token: SecretStr | None = None

    @field_validator("api_base_url", "file_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/:]+(:\d+)?(/\S*)?$", value):
            raise ValueError("must be the public https:// address Telegram posts updates to")
        return value

    @field_validator("secret_token")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("must be 1 to 256 characters: letters, digits, _ and - (Telegram's rule)")
        return value

    @model_validator(mode="after")
    def _webhook_complete(self) -> TelegramSettings:
        if self.mode == "webhook" and self.webhook_url is None:
            raise ValueError(
                'mode = "webhook" needs webhook_url: the public https:// address Telegram posts updates to'
            )
        return self

    @field_validator("token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _TOKEN.match(value.get_secret_value()):
            raise ValueError(
                "does not look like a bot token (it should look like 123456789:AAE...); copy it again from @BotFather"
            )
        return value


class HealthSettings(_Section):
    # GET /healthz in polling mode; off unless a port is set. In webhook mode it is served
    # on the webhook's listen:port instead.
    listen: ListenAddress = "127.0.0.1"
    port: Port | None = None
    # Outbox items overdue longer than this make /healthz answer 503.
    max_outbox_lag: Period = timedelta(minutes=15)


class StorageSettings(_Section):
    database: Path = Path("meldbot.db")
    key_file: Path = Path("meldbot.key")


class CounsellorSettings(_Section):
    telegram_id: PositiveInt
    name: Annotated[str, Field(min_length=1, max_length=80)]
    serves: Annotated[list[Literal["staff", "office_holders"]], Field(min_length=1)]
    language: Literal["nl", "en"] = "nl"

    @field_validator("serves")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists a group twice")
        return value


class CoordinatorSettings(_Section):
    telegram_id: PositiveInt
    name: Annotated[str, Field(min_length=1, max_length=80)]
    language: Literal["nl", "en"] = "nl"


class ManagementSettings(_Section):
    """Someone who steers (town secretary, griffier, mayor): sees no case, hears of overdue reactions."""

    telegram_id: PositiveInt
    name: Annotated[str, Field(min_length=1, max_length=80)]
    language: Literal["nl", "en"] = "nl"


class DamagesHelperSettings(_Section):
    telegram_id: PositiveInt
    name: Annotated[str, Field(min_length=1, max_length=80)]
    language: Literal["nl", "en"] = "nl"


class RegisterSettings(_Section):
    """What the register asks of the organisation once a case is in it."""

    # A reaction towards the perpetrator is due this long after the case enters the register...
    reaction_within: Period = timedelta(hours=48)
    # ...and management hears of it when still none is recorded this long after it fell due.
    reaction_escalate_after: Period = timedelta(hours=24)
    # For an incident in person: secure the camera footage before it is wiped.
    secure_footage_within: Period = timedelta(days=3)
    damages_helper: DamagesHelperSettings | None = None


class AttachmentSettings(_Section):
    # The Bot API lets a bot download files up to 20 MB; a lower cap keeps the database small.
    max_megabytes: Annotated[int, Field(ge=1, le=20)] = 20


class CaseSettings(_Section):
    acknowledge_within: Period = timedelta(hours=24)
    escalate_to_coordinators_after: Period = timedelta(hours=24)


class AccessSettings(_Section):
    mode: Literal["open", "invite"] = "open"
    invite_valid_for: Period = timedelta(days=14)


class CheckInSettings(_Section):
    after: Period
    suggest_doctor: bool = False
    closing: bool = False


class SupportSettings(_Section):
    kind: Literal["psychological", "physical", "material", "legal", "office_holders"]
    name: Annotated[str, Field(min_length=1, max_length=80)]
    contact: Annotated[str, Field(min_length=1, max_length=200)]


def _default_check_ins() -> list[CheckInSettings]:
    return [
        CheckInSettings(after=timedelta(hours=72)),
        CheckInSettings(after=timedelta(days=14)),
        CheckInSettings(after=timedelta(days=42), suggest_doctor=True),
        CheckInSettings(after=timedelta(days=91), closing=True),
    ]


class AftercareSettings(_Section):
    check_ins: list[CheckInSettings] = Field(default_factory=_default_check_ins)
    tips_after: Period = timedelta(minutes=15)
    reoffer_after: Period = timedelta(days=14)
    pause_for: Period = timedelta(days=14)
    feedback_delay: Period = timedelta(minutes=10)
    # At most ten, so a check-in with its support list stays one Telegram message.
    support: Annotated[list[SupportSettings], Field(max_length=10)] = []

    @field_validator("check_ins")
    @classmethod
    def _in_order(cls, value: list[CheckInSettings]) -> list[CheckInSettings]:
        if [c.after for c in value] != sorted(c.after for c in value):
            raise ValueError("check-ins must be listed from the earliest to the latest")
        for number, check_in in enumerate(value[:-1], start=1):
            if check_in.closing:
                raise ValueError(
                    f"check-in #{number} has closing = true but is not the last one: the closing check-in ends the "
                    "aftercare, so no check-in could follow it. Put closing = true on the last check-in only."
                )
        return value


class FeedbackSettings(_Section):
    remind_owner_after: Period = timedelta(days=7)
    remind_coordinators_after: Period = timedelta(days=14)


class QuietHoursSettings(_Section):
    start: str = "21:00"
    end: str = "08:00"

    @field_validator("start", "end")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError("must be a time of day like 21:00")
        return value


_PULSE_EVERY = {"P1M": PeriodKind.MONTH, "P3M": PeriodKind.QUARTER, "P12M": PeriodKind.YEAR, "P1Y": PeriodKind.YEAR}


class PulseSettings(_Section):
    """The safety pulse for office holders: off unless the organisation switches it on."""

    enabled: bool = False
    # How often, as calendar periods: a month, a quarter or a year.
    every: str = "P3M"
    # The local time on the period's first working day at which it goes out.
    send_at: str = "10:00"

    @field_validator("every")
    @classmethod
    def _every(cls, value: str) -> str:
        if value.strip().upper() not in _PULSE_EVERY:
            raise ValueError('must be "P1M" (monthly), "P3M" (quarterly) or "P1Y" (yearly)')
        return value.strip().upper()

    @field_validator("send_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            raise ValueError('must be a time of day such as "10:00"')
        return value

    def plan(self, support: tuple[SupportContact, ...]) -> PulsePlan:
        return PulsePlan(self.enabled, _PULSE_EVERY[self.every], time.fromisoformat(self.send_at), support)


class DeliverySettings(_Section):
    sweep_interval: Period = timedelta(seconds=30)
    max_backoff: Period = timedelta(hours=1)


class OrganisationSettings(_Section):
    """Who runs meldbot and is responsible for its data: named in /privacy, the bot's description and case files."""

    name: Annotated[str, Field(min_length=1, max_length=80)]
    address: Annotated[str, Field(min_length=1, max_length=200)]
    # Where reporters ask about their data: one e-mail address or one phone number.
    privacy_contact: Annotated[str, Field(min_length=1, max_length=120)]
    # The data protection officer (functionaris gegevensbescherming), if reporters may turn to them.
    privacy_officer: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    # Departments a reporter chooses from (asked once, remembered); none: the question is not asked.
    departments: list[ListedName] = []
    # Work processes for the register (asked once, skippable); an empty list: not asked.
    work_processes: list[ListedName] = list(DEFAULT_WORK_PROCESSES)

    @field_validator("departments", "work_processes")
    @classmethod
    def _distinct(cls, values: list[str]) -> list[str]:
        if len(set(values)) != len(values):
            raise ValueError("each name may appear only once")
        return values

    @field_validator("name", "address", "privacy_contact", "privacy_officer")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and (not value.strip() or "\n" in value):
            raise ValueError("must be one line of text")
        return value.strip() if value is not None else None

    @field_validator("privacy_contact")
    @classmethod
    def _reachable(cls, value: str) -> str:
        digits = sum(char.isdigit() for char in value)
        if not (_EMAIL.match(value) or (_PHONE.match(value) and digits >= 5)):
            raise ValueError(
                'must be one e-mail address (such as "privacy@gemeente.example") or one phone number'
                ' (such as "14 020" or "+31 20 123 4567")'
            )
        return value


# A retention period: years, months, weeks and days ("P5Y", "P18M", "P1Y6M").
_RETENTION = re.compile(r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?$")
YEAR_DAYS, MONTH_DAYS = 365.2425, 30.436875  # the calendar's averages, as flows.privacy.period_in_words reads them


def parse_retention(text: str) -> timedelta:
    """An ISO 8601 period of whole years, months, weeks and days; a year counts as 365.2425 days."""
    match = _RETENTION.match(text.strip().upper()) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not an ISO 8601 period in years, months, weeks or days (examples: P5Y, P18M)")
    parts = {name: int(value) for name, value in match.groupdict().items() if value}
    days = parts.get("years", 0) * YEAR_DAYS + parts.get("months", 0) * MONTH_DAYS
    result = timedelta(days=round(days) + parts.get("weeks", 0) * 7 + parts.get("days", 0))
    if result < timedelta(days=1):
        raise ValueError("must be at least a day (P1D)")
    return result


def _retention(value: object) -> timedelta:
    return value if isinstance(value, timedelta) else parse_retention(value)  # type: ignore[arg-type]


class RetentionSettings(_Section):
    # How long a case is kept after it was closed or withdrawn; then it is erased. Off unless set.
    closed_cases: Annotated[timedelta, BeforeValidator(_retention)] | None = None


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # "json": one JSON object per line (journald, log shippers); both formats redact alike.
    format: Literal["text", "json"] = "text"


class Settings(_Section):
    telegram: TelegramSettings = TelegramSettings()
    storage: StorageSettings = StorageSettings()
    timezone: str = "Europe/Amsterdam"
    counsellors: list[CounsellorSettings] = []
    coordinators: list[CoordinatorSettings] = []
    management: list[ManagementSettings] = []
    # "[register]" in the file; named otherwise here, as pydantic models already have a "register".
    register_settings: RegisterSettings = Field(default=RegisterSettings(), alias="register")
    access: AccessSettings = AccessSettings()
    attachments: AttachmentSettings = AttachmentSettings()
    cases: CaseSettings = CaseSettings()
    aftercare: AftercareSettings = AftercareSettings()
    feedback: FeedbackSettings = FeedbackSettings()
    quiet_hours: QuietHoursSettings = QuietHoursSettings()
    delivery: DeliverySettings = DeliverySettings()
    logging: LoggingSettings = LoggingSettings()
    health: HealthSettings = HealthSettings()
    organisation: OrganisationSettings | None = None
    retention: RetentionSettings = RetentionSettings()
    pulse: PulseSettings = PulseSettings()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use a name such as Europe/Amsterdam)") from None
        return value

    @model_validator(mode="after")
    def _distinct_people(self) -> Settings:
        places: dict[int, list[str]] = {}
        for group in ("counsellors", "coordinators"):
            for number, member in enumerate(getattr(self, group), start=1):
                places.setdefault(member.telegram_id, []).append(f"{group} #{number} ({member.name})")
        for telegram_id, where in places.items():
            if len(where) < 2:
                continue
            groups = {place.split(" #", 1)[0] for place in where}
            if groups == {"counsellors", "coordinators"}:
                raise ValueError(
                    f"telegram_id {telegram_id} is both a counsellor and a coordinator ({' and '.join(where)}). One "
                    "person cannot be both: a counsellor keeps what a reporter says in confidence, a coordinator "
                    "sees what goes into the register. Keep this person in one of the two lists."
                )
            raise ValueError(
                f"telegram_id {telegram_id} appears more than once ({' and '.join(where)}); "
                "each person is listed once (one counsellor can serve both groups)"
            )
        managers = [m.telegram_id for m in self.management]
        if len(set(managers)) != len(managers):
            raise ValueError("a telegram_id appears more than once in [[management]]; list each person once")
        return self

    # -- views for the rest of the program ------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def token(self) -> str:
        if self.telegram.token is None:
            raise ConfigError(_NO_TOKEN)
        return self.telegram.token.get_secret_value()

    def counsellor_list(self) -> list[Counsellor]:
        return [
            Counsellor(c.telegram_id, c.name, frozenset(Audience(s) for s in c.serves), Language(c.language), i)
            for i, c in enumerate(self.counsellors)
        ]

    def aftercare_plan(self) -> AftercarePlan:
        care = self.aftercare
        return AftercarePlan(
            check_ins=tuple(CheckInStep(c.after, c.suggest_doctor, c.closing) for c in care.check_ins),
            tips_after=care.tips_after,
            reoffer_after=care.reoffer_after,
            pause_for=care.pause_for,
            feedback_delay=care.feedback_delay,
            silence_owner_after=self.feedback.remind_owner_after,
            silence_coordinators_after=self.feedback.remind_coordinators_after,
            support=tuple(SupportContact(s.kind, s.name, s.contact) for s in care.support),
        )

    def policy(self) -> Policy:
        """The settings the flows follow."""
        from bot.services import Policy

        return Policy(
            zone=self.zone,
            periods=Periods(self.cases.acknowledge_within, self.cases.escalate_to_coordinators_after),
            plan=self.aftercare_plan(),
            access_mode=self.access.mode,
            invite_valid_for=self.access.invite_valid_for,
            max_attachment_mb=self.attachments.max_megabytes,
            organisation=self.organisation_details(),
            register=self.register_rules(),
            retention=self.retention.closed_cases,
            pulse=self.pulse.plan(tuple(s for s in self.aftercare_plan().support if s.kind == "office_holders")),
            departments=tuple(self.organisation.departments) if self.organisation else (),
            work_processes=(tuple(self.organisation.work_processes) if self.organisation else DEFAULT_WORK_PROCESSES),
            quiet_hours=self.quiet(),
        )

    def register_rules(self) -> RegisterRules:
        r = self.register_settings
        return RegisterRules(r.reaction_within, r.reaction_escalate_after, r.secure_footage_within)

    def management_list(self) -> list[Manager]:
        return [Manager(m.telegram_id, m.name, Language(m.language), i) for i, m in enumerate(self.management)]

    def damages_helper(self) -> DamagesHelper | None:
        helper = self.register_settings.damages_helper
        return None if helper is None else DamagesHelper(helper.telegram_id, helper.name, Language(helper.language))

    def quiet(self) -> QuietHours:
        start, end = (time.fromisoformat(t) for t in (self.quiet_hours.start, self.quiet_hours.end))
        return QuietHours(start, end, self.zone)

    def organisation_details(self) -> Organisation | None:
        org = self.organisation
        return None if org is None else Organisation(org.name, org.address, org.privacy_contact, org.privacy_officer)

    def coordinator_list(self) -> list[Coordinator]:
        return [Coordinator(c.telegram_id, c.name, Language(c.language), i) for i, c in enumerate(self.coordinators)]

    def warnings(self) -> list[str]:
        """Things that work but that an operator should fix."""
        notes = []
        for audience, label in (("staff", "staff"), ("office_holders", "office holders")):
            if not any(audience in c.serves for c in self.counsellors):
                notes.append(
                    f'no counsellor serves {label} ([[counsellors]] serves = ["{audience}"]): their reports are '
                    "stored but reach nobody until one is configured"
                )
        if not self.coordinators:
            notes.append("no [[coordinators]]: registrations are stored but reach nobody until one is configured")
        if not self.management:
            notes.append(
                "no [[management]]: when a case in the register gets no reaction towards the perpetrator in time,"
                " only the coordinators are reminded and nobody above them hears of it"
            )
        if self.organisation is None:
            notes.append(
                "no [organisation]: /privacy and the bot's description cannot say who is responsible for the data"
                " or whom to ask about it (set name, address and privacy_contact)"
            )
        if self.telegram.mode == "webhook":
            if self.health.port is not None:
                notes.append(
                    "[health] port is not used in webhook mode: /healthz is served on [telegram] listen and port"
                )
            if self.telegram.webhook_url and self.telegram.webhook_url.startswith("http://"):
                notes.append(
                    "telegram.webhook_url is http://: Telegram's servers accept only https:// (on port 443, 80, 88"
                    " or 8443); http:// works only with a self-hosted Bot API server"
                )
        # Quiet hours are a time of day: any winter day tells whether send_at falls in them.
        if self.pulse.enabled and self.quiet().is_quiet(
            datetime.combine(date(2026, 1, 5), time.fromisoformat(self.pulse.send_at), tzinfo=self.zone)
        ):
            notes.append(
                f"[pulse] send_at = {self.pulse.send_at} falls in the quiet hours: the pulse waits until"
                f" {self.quiet_hours.end}"
            )
        return notes


_NO_TOKEN = (
    "telegram.token: no bot token. Create a bot by talking to @BotFather in Telegram (send /newbot), "
    f"then put the token it gives you in [telegram] token, or set the environment variable {TOKEN_ENV}."
)


def _location(loc: tuple[int | str, ...], raw: object) -> str:
    """Where a problem is, as an administrator counts: ``counsellors #1 (Vera de Vries).telegram_id``."""
    parts: list[str] = []
    node = raw
    for part in loc:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and 0 <= part < len(node) else None
            name = item.get("name") if isinstance(item, dict) else None
            label = f"#{part + 1}" + (f" ({name})" if isinstance(name, str) and name else "")
            parts[-1:] = [f"{parts[-1]} {label}" if parts else label]
            node = item
        else:
            parts.append(part)
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts)


# pydantic's wording ("Input should be less than or equal to 50") in plain words, per error type
# that this configuration can raise; ``{...}`` are filled from the error's context.
PLAIN_WORDS: dict[str, str] = {
    "missing": "is missing; this setting is required",
    "extra_forbidden": "is not a setting meldbot knows (check the spelling against config.example.toml)",
    "model_type": "must be a table: a [section], or [[section]] for each item of a list",
    "dict_type": "must be a table: a [section], or [[section]] for each item of a list",
    "list_type": 'must be a list in square brackets, such as ["staff"]',
    "too_short": "must list at least {min_length}",
    "too_long": "must list at most {max_length}",
    "string_type": 'must be text in double quotes, such as "example"',
    "string_too_short": "must be at least {min_length} character(s) long",
    "string_too_long": "must be at most {max_length} characters long",
    "int_type": "must be a whole number, such as 30",
    "int_parsing": "must be a whole number, such as 30",
    "int_parsing_size": "is too large a number",
    "int_from_float": "must be a whole number, without decimals",
    "greater_than": "must be more than {gt}",
    "greater_than_equal": "must be {ge} or more",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be {le} or less",
    "bool_type": "must be true or false, without quotes",
    "bool_parsing": "must be true or false, without quotes",
    "literal_error": "must be {expected}",
    "path_type": 'must be a file path in double quotes, such as "meldbot.db"',
}


def plain_words(error: dict[str, object]) -> str:
    """One validation error as an administrator reads it."""
    kind = str(error["type"])
    context = error.get("ctx")
    if kind == "value_error":  # our own validators' sentences, already plain
        return str(error["msg"]).removeprefix("Value error, ")
    template = PLAIN_WORDS.get(kind)
    if template is None:
        return str(error["msg"]).replace("Input should be", "must be")
    return template.format(**context) if isinstance(context, dict) else template


def load_settings(path: Path, *, environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate a configuration file; raises ConfigError naming every problem."""
    environment: Mapping[str, str] = os.environ if environ is None else environ
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file. Copy config.example.toml to {path} and fill it in.") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    token = environment.get(TOKEN_ENV)
    if token:
        raw.setdefault("telegram", {})
        if isinstance(raw["telegram"], dict):
            raw["telegram"]["token"] = token.strip()
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False, include_input=False):
            where = _location(error["loc"], raw)
            message = plain_words(dict(error))
            problems.append(f"{where}: {message}" if where else message)
        raise ConfigError(f"{path}: " + ("\n  " if len(problems) > 1 else "") + "\n  ".join(problems)) from None
    if settings.telegram.token is None:
        raise ConfigError(f"{path}: {_NO_TOKEN}")
    return settings
