"""The ``meldbot`` command: run the bot, try it in a browser, and what an operator does beside it.

``run``, ``demo``, ``check-config``, ``invite``, ``staff``, ``audit verify``, ``backup``, ``restore``,
``rotate-key``, ``dossier``, ``export``, ``systemd-unit``.

A bad configuration is one clear message naming each setting and its problem, and
exit status 2, with nothing started. The same holds when the key file and the
database do not belong together.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
from datetime import date, datetime, time, timedelta
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING

from bot import logs
from bot.config import ConfigError, Settings, load_settings, parse_duration
from flows.model import Audience, Language, Role, StaffRole
from storage import Storage, StorageRefused
from storage.database import describe_failure
from storage.staff import EnrolledMember

if TYPE_CHECKING:
    from bot.services import Services

EXIT_BAD_CONFIG = 2
EXIT_UNREACHABLE = 1
EXIT_AUDIT_BROKEN = 1
EXIT_FAILED = 1
MAX_STAFF_NAME = 80  # as a name in the configuration
UNITS = ("meldbot.service", "meldbot-backup.service", "meldbot-backup.timer")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="meldbot",
        description="Telegram bot for reporting threats, intimidation, aggression and bribery attempts.",
    )
    parser.add_argument("--version", action="version", version=f"meldbot {metadata.version('meldbot')}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="run the bot (long polling)")
    run.add_argument("--config", type=Path, required=True, metavar="PATH", help="configuration file (TOML)")
    check = commands.add_parser("check-config", help="validate a configuration file and say what is wrong")
    check.add_argument("--config", type=Path, required=True, metavar="PATH", help="configuration file (TOML)")
    invite = commands.add_parser(
        "invite",
        help='create a single-use invitation link: for a reporter ([access] mode = "invite") or to enrol staff',
    )
    invite.add_argument("--config", type=Path, required=True, metavar="PATH", help="configuration file (TOML)")
    invite.add_argument(
        "--role",
        required=True,
        choices=[r.value for r in Role] + [r.value for r in StaffRole],
        help="the role the invited person reports as, or the staff role they are enrolled with",
    )
    invite.add_argument("--department", default="", help="optional department of a reporter, at most 30 characters")
    invite.add_argument("--name", help="staff: the name they go by in the bot (required for a staff role)")
    invite.add_argument(
        "--serves",
        default="staff,office_holders",
        help="a counsellor: the groups served, staff and/or office_holders, comma-separated (default: both)",
    )
    invite.add_argument(
        "--language", choices=[lang.value for lang in Language], default="nl", help="staff: their language"
    )
    invite.add_argument(
        "--valid", default=None, metavar="DURATION", help="how long the link works (ISO 8601, e.g. P7D)"
    )
    staff = commands.add_parser("staff", help="staff enrolled by invitation: list them, or end an enrolment")
    staff.add_argument("action", choices=["list", "remove"], help="list: who is enrolled; remove: end an enrolment")
    staff.add_argument("member", nargs="?", metavar="ID", help="remove: the id that staff list shows")
    staff.add_argument("--config", type=Path, required=True, metavar="PATH", help="configuration file (TOML)")
    backup = commands.add_parser("backup", help="a consistent, checked copy of the database, while the bot runs")
    backup.add_argument("--config", type=Path, required=True, metavar="PATH", help="configuration file (TOML)")
    backup.add_argument("--output", type=Path, required=True, metavar="FILE", help="where to write the backup (0600)")
    backup.add_argument(
        "--include-key",
        action="store_true",
        help="also copy the key file to FILE.key (not advised: the key belongs apart from the data)",
    )
    restore = commands.add_parser("restore", help="put a backup in place of the database (the bot must be stopped)")
    restore.add_argument("--config", type=Path, required=True, metavar="PATH", help="configuration file (TOML)")
    restore.add_argument("--input", type=Path, required=True, metavar="FILE", help="a file made by meldbot backup")
    rotate = commands.add_parser("rotate-key", help="replace the master key (the bot must be stopped)")
    rotate.add_argument("--config", type=Path, required=True, metavar="PATH", help="configuration file (TOML)")
    dossier = commands.add_parser("dossier", help="write the case file (PDF) of one or more reports, for the police")
    dossier.add_argument("--config", type=Path, required=True, metavar="PATH", help="configuration file (TOML)")
    dossier.add_argument("references", nargs="+", metavar="REFERENCE", help="MB-XXXX-XXXX; several: one case file")
    dossier.add_argument("--output", type=Path, required=True, metavar="FILE", help="where to write the PDF (0600)")
    dossier.add_argument(
        "--language", choices=[language.value for language in Language], default="nl", help="default: %(default)s"
    )
    unit = commands.add_parser("systemd-unit", help="print a hardened systemd unit for meldbot (see README)")
    unit.add_argument(
        "name", nargs="?", default="meldbot.service", choices=UNITS, help="which unit (default: %(default)s)"
    )
    audit = commands.add_parser("audit", help="the audit trail")
    audit.add_argument(
        "action", choices=["verify"], help="verify: check that no entry was edited, deleted or reordered"
    )
    audit.add_argument("--config", type=Path, required=True, metavar="PATH", help="configuration file (TOML)")
    audit.add_argument(
        "--expect",
        metavar="HEAD",
        help="a head printed or logged earlier (COUNT:HASH, e.g. 1523:9f2c41ab): check it is still part of the trail",
    )
    export = commands.add_parser(
        "export", help="export the register (one row per registered case, no names) or the statistics, for Excel"
    )
    export.add_argument("--config", type=Path, required=True, metavar="PATH", help="configuration file (TOML)")
    export.add_argument("--output", type=Path, required=True, metavar="FILE", help="where to write it (0600)")
    export.add_argument("--from", dest="start", type=_day, metavar="DATE", help="first day reported (YYYY-MM-DD)")
    export.add_argument("--to", dest="end", type=_day, metavar="DATE", help="last day reported (YYYY-MM-DD)")
    export.add_argument("--format", choices=["csv", "xlsx"], default="csv", help="default: %(default)s")
    export.add_argument(
        "--statistics", action="store_true", help="the statistics per quarter (small numbers hidden) instead"
    )
    export.add_argument("--language", choices=["nl", "en"], default="nl", help="headers and labels (default: nl)")
    demo = commands.add_parser("demo", help="try meldbot in a browser: no bot token, nothing leaves this computer")
    demo.add_argument(
        "--port", type=int, default=8080, help="port on 127.0.0.1 for the demo page (default 8080; 0: any free port)"
    )
    return parser


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-03-31") from None


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    """Write one export to a file only its owner can read, with an audit entry saying what was exported."""
    from flows import exports
    from flows.clock import SystemClock
    from flows.lifecycle import AuditNote
    from flows.steering import ExportRange, export_data

    zone = settings.policy().zone
    span = ExportRange(
        start=None if args.start is None else datetime.combine(args.start, time(), zone),
        end=None if args.end is None else datetime.combine(args.end + timedelta(days=1), time(), zone),
    )
    if span.start is not None and span.end is not None and span.end <= span.start:
        print("meldbot: --to must not be before --from", file=sys.stderr)
        return EXIT_BAD_CONFIG
    now = SystemClock().now()
    storage = await Storage.open(settings.storage.database, settings.storage.key_file)
    try:
        data = await export_data(storage, zone, now, span, viewer=None)
        what = "statistics" if args.statistics else f"register ({len(data.rows)} cases)"
        await storage.audit.record_note(
            AuditNote("operator", "command line", "exported", f"{what}, {args.format}"), now
        )
    finally:
        await storage.close()
    language = args.language
    if args.statistics:
        content = (exports.statistics_xlsx if args.format == "xlsx" else exports.statistics_csv)(
            data.statistics, language
        )
    else:
        content = (exports.register_xlsx if args.format == "xlsx" else exports.register_csv)(data.rows, language)
    descriptor = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(content)
    if args.statistics:
        print(f"statistics of {len(data.statistics)} quarter(s) written to {args.output} (small numbers hidden)")
    else:
        print(f"register written to {args.output}: {len(data.rows)} case(s), without names, usernames or Telegram ids")
    return 0


def _demo(port: int) -> int:
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    from bot.demo.run import run_demo

    try:
        asyncio.run(run_demo(port))
    except OSError as problem:
        print(f"meldbot: {problem}. Try another port: meldbot demo --port 8081", file=sys.stderr)
        return EXIT_UNREACHABLE
    return 0


def _summary(settings: Settings) -> str:
    return (
        f"{len(settings.counsellors)} counsellor(s), {len(settings.coordinators)} coordinator(s); "
        f"database {settings.storage.database}, key file {settings.storage.key_file}; "
        f"Bot API at {settings.telegram.api_base_url}"
    )


async def _invite(settings: Settings, args: argparse.Namespace) -> int:
    if args.role in {r.value for r in StaffRole}:
        return await _invite_staff(settings, args)
    from flows.clock import SystemClock
    from flows.invites import Admission, clean_department, invite_link
    from flows.routing import Router

    department = clean_department(args.department)
    if department is None:
        print("meldbot: --department: at most 30 characters: letters, digits, spaces and . & / -", file=sys.stderr)
        return EXIT_BAD_CONFIG
    valid_for = settings.access.invite_valid_for
    if args.valid:
        try:
            valid_for = parse_duration(args.valid)
        except ValueError as problem:
            print(f"meldbot: --valid: {problem}", file=sys.stderr)
            return EXIT_BAD_CONFIG
    if settings.access.mode != "invite":
        print('note: [access] mode is "open": anyone may report; invitations only set the role and department.')
    storage = await Storage.open(settings.storage.database, settings.storage.key_file)
    try:
        username = await storage.bot_username() or await _ask_bot_username(settings)
        router = Router(
            settings.counsellor_list(),
            settings.coordinator_list(),
            storage.people.index_of,
            management=settings.management_list(),
            damages_helper=settings.damages_helper(),
        )
        admission = Admission(storage, router, SystemClock(), settings.access.mode, valid_for)
        code, expires = await admission.create(
            role=args.role, department=department, created_by=None, now=SystemClock().now()
        )
    finally:
        await storage.close()
    print(invite_link(username, code))
    where = f", department {department}" if department else ""
    print(f"single use; for role {args.role}{where}; valid until {expires:%Y-%m-%d %H:%M} UTC")
    return 0


def _staff_invitation(args: argparse.Namespace) -> tuple[str, frozenset[Audience]] | str:
    """(name, groups served) from the command line, or what is wrong with them."""
    name = " ".join((args.name or "").split())
    if not name or len(name) > MAX_STAFF_NAME:
        return f"--name: the name they go by in the bot, 1 to {MAX_STAFF_NAME} characters (for a staff role)"
    if args.role != StaffRole.COUNSELLOR:
        return name, frozenset()
    parts = [part.strip() for part in args.serves.split(",") if part.strip()]
    try:
        serves = frozenset(Audience(part) for part in parts)
    except ValueError:
        serves = frozenset()
    if not serves or len(serves) != len(parts):
        return "--serves: staff, office_holders, or both separated by a comma"
    return name, serves


async def _invite_staff(settings: Settings, args: argparse.Namespace) -> int:
    from flows.clock import SystemClock
    from flows.invites import invite_link

    wanted = _staff_invitation(args)
    if isinstance(wanted, str):
        print(f"meldbot: {wanted}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    name, serves = wanted
    valid_for = settings.access.invite_valid_for
    if args.valid:
        try:
            valid_for = parse_duration(args.valid)
        except ValueError as problem:
            print(f"meldbot: --valid: {problem}", file=sys.stderr)
            return EXIT_BAD_CONFIG
    storage = await Storage.open(settings.storage.database, settings.storage.key_file)
    try:
        username = await storage.bot_username() or await _ask_bot_username(settings)
        services = _services(storage, settings)
        services.enrolment.valid_for = valid_for
        code, expires = await services.enrolment.create(
            role=StaffRole(args.role),
            name=name,
            serves=serves,
            language=Language(args.language),
            created_by=None,
            now=SystemClock().now(),
        )
    finally:
        await storage.close()
    print(invite_link(username, code))
    groups = f", serving {' and '.join(a.value for a in Audience if a in serves)}" if serves else ""
    print(
        f"single use; enrols whoever opens it as {args.role} {name!r}{groups}; valid until {expires:%Y-%m-%d %H:%M} UTC"
    )
    return 0


def _services(storage: Storage, settings: Settings) -> Services:
    from bot.services import build
    from flows.clock import SystemClock
    from flows.routing import Router

    router = Router(settings.counsellor_list(), settings.coordinator_list(), storage.people.index_of)
    return build(storage, router, SystemClock(), settings.policy())


async def _staff(settings: Settings, args: argparse.Namespace) -> int:
    storage = await Storage.open(settings.storage.database, settings.storage.key_file)
    try:
        services = _services(storage, settings)
        members = await services.enrolment.members()
        if args.action == "list":
            for line in _staff_lines(members):
                print(line)
            return 0
        # The colleagues a removed counsellor's cases may go to include the other enrolled ones.
        await services.enrolment.sync()
        matching = [m for m in members if args.member and m.id.startswith(args.member.lower())]
        if len(matching) != 1:
            print(
                "meldbot: staff remove ID: give the id that `meldbot staff list` shows"
                + (f" ({len(matching)} enrolments start with {args.member!r})" if args.member else ""),
                file=sys.stderr,
            )
            return EXIT_BAD_CONFIG
        removed = await services.enrolment.remove(matching[0])
    finally:
        await storage.close()
    member = removed.member
    print(
        f"removed {member.role.value} {member.name!r} ({member.id[:8]}):"
        " a running bot stops routing to them within its sweep interval"
    )
    if member.role is StaffRole.COUNSELLOR:
        print(
            f"their open cases: {removed.handed_on} went to a colleague of the group, {removed.waiting} wait for a"
            " counsellor (the coordinators were told)"
        )
    return 0


def _staff_lines(members: list[EnrolledMember]) -> list[str]:
    if not members:
        return ["no staff enrolled by invitation"]
    lines = []
    for member in members:
        groups = f", serves {' and '.join(a.value for a in Audience if a in member.serves)}" if member.serves else ""
        lines.append(
            f"{member.id[:8]}  {member.role.value:<11}  {member.name}{groups}; language {member.language.value};"
            f" enrolled {member.enrolled_at:%Y-%m-%d}"
        )
    return lines


async def _enrolled_summary(settings: Settings) -> list[str]:
    """check-config: the staff enrolled by invitation, when there is a database to read them from."""
    if not (settings.storage.database.exists() and settings.storage.key_file.exists()):
        return ["enrolled staff: none yet (no database)"]
    storage = await Storage.open(settings.storage.database, settings.storage.key_file)
    try:
        members = await storage.staff.members()
    finally:
        await storage.close()
    return (
        [f"enrolled staff ({len(members)}):", *(f"  {line}" for line in _staff_lines(members))]
        if members
        else ["enrolled staff: none"]
    )


async def _ask_bot_username(settings: Settings) -> str:
    from telegram import Bot

    async with Bot(settings.token, base_url=settings.telegram.api_base_url) as bot:
        return bot.username


async def _audit_verify(settings: Settings, args: argparse.Namespace) -> int:
    from storage.audit import HeadMark

    try:
        expect = None if args.expect is None else HeadMark.parse(args.expect)
    except ValueError as problem:
        print(f"meldbot: --expect: {problem}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    storage = await Storage.open(settings.storage.database, settings.storage.key_file)
    try:
        result = await storage.audit.verify(expect)
    finally:
        await storage.close()
    if result.intact:
        print(f"audit trail intact: {result.entries} entries, each chained to the one before; head {result.head}")
        if expect is not None:
            print(f"head {expect} seen earlier is still part of it")
        return 0
    where = f" first bad entry: {result.first_bad};" if result.first_bad is not None else ""
    print(f"AUDIT TRAIL BROKEN:{where} {result.problem}", file=sys.stderr)
    return EXIT_AUDIT_BROKEN


async def _backup(settings: Settings, args: argparse.Namespace) -> int:
    from storage.backup import BackupRefused, back_up

    storage = settings.storage
    try:
        contents = await back_up(storage.database, storage.key_file, args.output, include_key=args.include_key)
    except BackupRefused as refusal:
        print(f"meldbot: no backup made: {refusal}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f"backup written to {args.output} (readable by you only): {contents.cases} case(s), {contents.persons} "
        f"person(s); integrity check passed; audit trail intact, head {contents.audit.head}"
    )
    if args.include_key:
        print(
            f"WARNING: {args.output}.key holds the master key. Whoever has the backup and this file can read every "
            "report: keep the key apart from the backups (a different place, a different person).",
            file=sys.stderr,
        )
    else:
        print(f"the key is not in it: keep a copy of {storage.key_file} apart from your backups")
    return 0


async def _restore(settings: Settings, args: argparse.Namespace) -> int:
    from storage.backup import BackupRefused, restore

    storage = settings.storage
    try:
        restored = await restore(storage.database, storage.key_file, args.input)
    except BackupRefused as refusal:
        print(f"meldbot: nothing restored: {refusal}", file=sys.stderr)
        return EXIT_FAILED
    opened = restored.opened
    print(
        f"restored {args.input} to {storage.database}: {opened.cases} case(s) with {opened.attachments} file(s) and "
        f"{opened.persons} person(s), each opened with the key file; audit trail intact, head {restored.audit.head}"
    )
    if restored.set_aside is not None:
        print(f"the database that was there is kept as {restored.set_aside}")
    return 0


async def _rotate_key(settings: Settings, args: argparse.Namespace) -> int:
    from storage.rotation import rotate_key

    key_file = settings.storage.key_file
    rotated = await rotate_key(settings.storage.database, key_file)
    print(
        f"new master key in {key_file}: {rotated.persons} person and {rotated.cases} case key(s) re-wrapped, "
        f"{rotated.identifiers} perpetrator identifier(s) indexed again; "
        f"search and the audit trail unchanged (audit head {rotated.head})"
    )
    print(
        f"Back up {key_file} NOW, apart from the database backups. The old key file no longer opens this database;"
        " keep it only with the backups made before now, which need it."
    )
    return 0


async def _dossier(settings: Settings, args: argparse.Namespace) -> int:
    from flows.clock import SystemClock
    from flows.dossier import Organisation as Letterhead
    from flows.dossiers import DossierRefused, operator_dossier

    organisation = settings.organisation_details()
    if organisation is None:
        print("meldbot: no [organisation] in the configuration: a case file needs its address", file=sys.stderr)
        return EXIT_BAD_CONFIG
    storage = await Storage.open(settings.storage.database, settings.storage.key_file)
    try:
        made = await operator_dossier(
            storage,
            args.references,
            organisation=Letterhead(organisation.name, organisation.address),
            language=Language(args.language),
            now=SystemClock().now(),
            zone=settings.zone,
        )
    except DossierRefused as refusal:
        print(f"meldbot: no case file made: {refusal}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await storage.close()
    # Readable by the operator only, like a backup: it holds what the reports say.
    descriptor = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as output:
        output.write(made.pdf)
    named = ", ".join(made.named) if made.named else "none (no reporter allowed it)"
    print(f"case file written to {args.output} (readable by you only); SHA-256 {made.sha256}")
    print(f"reporters named: {named}; noted in the audit trail")
    return 0


def systemd_unit(name: str = "meldbot.service") -> str:
    """A unit shipped in bot/deploy/: the bot itself, or the nightly backup and its timer."""
    return resources.files("bot").joinpath(f"deploy/{name}").read_text(encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "systemd-unit":
        print(systemd_unit(args.name), end="")
        return 0
    if args.command == "demo":
        return _demo(args.port)
    try:
        settings = load_settings(args.config)
    except ConfigError as problem:
        print(f"meldbot: the configuration cannot be used.\n{problem}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    if args.command == "check-config":
        print(f"{args.config}: configuration is valid: {_summary(settings)}")
        try:
            for line in asyncio.run(_enrolled_summary(settings)):
                print(line)
        except (StorageRefused, sqlite3.Error) as problem:
            print(f"warning: enrolled staff cannot be read: {problem}")
        for warning in settings.warnings():
            print(f"warning: {warning}")
        return 0
    commands = {
        "invite": _invite,
        "staff": _staff,
        "audit": _audit_verify,
        "backup": _backup,
        "restore": _restore,
        "rotate-key": _rotate_key,
        "dossier": _dossier,
        "export": _export,
    }
    if args.command in commands:
        try:
            return asyncio.run(commands[args.command](settings, args))
        except StorageRefused as refusal:
            print(f"meldbot: refusing to open the database: {refusal}", file=sys.stderr)
            return EXIT_BAD_CONFIG
        except sqlite3.Error as error:
            print(f"meldbot: {describe_failure(settings.storage.database, error)}", file=sys.stderr)
            return EXIT_BAD_CONFIG
    logs.configure(settings.logging.level, [settings.token], fmt=settings.logging.format)
    # Opt in to python-telegram-bot's coming behaviour (durations as timedelta), which its rate
    # limiter otherwise warns about on every 429. Process-wide, so only here at the entry point.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    from telegram.error import InvalidToken, NetworkError

    from bot.app import run_until_stopped  # imported late: check-config needs no Telegram stack
    from bot.receiving import ListenError

    try:
        asyncio.run(run_until_stopped(settings))
    except StorageRefused as refusal:
        print(f"meldbot: refusing to start: {refusal}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    except sqlite3.Error as error:
        # Damage found after opening (a page first read while starting up): said as plainly.
        print(f"meldbot: {describe_failure(settings.storage.database, error)}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    except ListenError as problem:
        print(f"meldbot: {problem}. Check [telegram] listen and port, or [health] listen and port.", file=sys.stderr)
        return EXIT_BAD_CONFIG
    except InvalidToken:
        print(
            "meldbot: Telegram does not accept the bot token (telegram.token). Copy it again from @BotFather"
            " (/mybots, API Token), or create a bot with /newbot.",
            file=sys.stderr,
        )
        return EXIT_BAD_CONFIG
    except NetworkError as error:
        print(
            f"meldbot: cannot reach the Bot API at {settings.telegram.api_base_url} ({type(error).__name__})."
            " Check the network and telegram.api_base_url; nothing was lost, start again when it is reachable.",
            file=sys.stderr,
        )
        return EXIT_UNREACHABLE
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
