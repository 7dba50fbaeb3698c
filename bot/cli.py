"""The ``meldbot`` command: ``run`` the bot, ``check-config`` a configuration, ``demo`` it in a browser.

A bad configuration is one clear message naming each setting and its problem, and
exit status 2, with nothing started. The same holds when the key file and the
database do not belong together.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from bot import logs
from bot.config import ConfigError, Settings, load_settings, parse_duration
from flows.model import Role
from storage import Storage, StorageRefused

EXIT_BAD_CONFIG = 2
EXIT_UNREACHABLE = 1
EXIT_AUDIT_BROKEN = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="meldbot",
        description="Telegram bot for reporting threats, intimidation, aggression and bribery attempts.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="run the bot (long polling)")
    run.add_argument("--config", type=Path, required=True, metavar="PATH", help="configuration file (TOML)")
    check = commands.add_parser("check-config", help="validate a configuration file and say what is wrong")
    check.add_argument("--config", type=Path, required=True, metavar="PATH", help="configuration file (TOML)")
    invite = commands.add_parser("invite", help='create a single-use invitation link (for [access] mode = "invite")')
    invite.add_argument("--config", type=Path, required=True, metavar="PATH", help="configuration file (TOML)")
    invite.add_argument(
        "--role", required=True, choices=[r.value for r in Role], help="the role the invited person reports as"
    )
    invite.add_argument("--department", default="", help="optional department, at most 30 characters")
    invite.add_argument(
        "--valid", default=None, metavar="DURATION", help="how long the link works (ISO 8601, e.g. P7D)"
    )
    audit = commands.add_parser("audit", help="the audit trail")
    audit.add_argument(
        "action", choices=["verify"], help="verify: check that no entry was edited, deleted or reordered"
    )
    audit.add_argument("--config", type=Path, required=True, metavar="PATH", help="configuration file (TOML)")
    demo = commands.add_parser("demo", help="try meldbot in a browser: no bot token, nothing leaves this computer")
    demo.add_argument(
        "--port", type=int, default=8080, help="port on 127.0.0.1 for the demo page (default 8080; 0: any free port)"
    )
    return parser


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
        router = Router(settings.counsellor_list(), settings.coordinator_list(), storage.people.index_of)
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


async def _ask_bot_username(settings: Settings) -> str:
    from telegram import Bot

    async with Bot(settings.token, base_url=settings.telegram.api_base_url) as bot:
        return bot.username


async def _audit_verify(settings: Settings) -> int:
    storage = await Storage.open(settings.storage.database, settings.storage.key_file)
    try:
        result = await storage.audit.verify()
    finally:
        await storage.close()
    if result.intact:
        print(f"audit trail intact: {result.entries} entries, each chained to the one before")
        return 0
    where = f" first bad entry: {result.first_bad};" if result.first_bad is not None else ""
    print(f"AUDIT TRAIL BROKEN:{where} {result.problem}", file=sys.stderr)
    return EXIT_AUDIT_BROKEN


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "demo":
        return _demo(args.port)
    try:
        settings = load_settings(args.config)
    except ConfigError as problem:
        print(f"meldbot: the configuration cannot be used.\n{problem}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    if args.command == "check-config":
        print(f"{args.config}: configuration is valid: {_summary(settings)}")
        for warning in settings.warnings():
            print(f"warning: {warning}")
        return 0
    if args.command in ("invite", "audit"):
        try:
            return asyncio.run(_invite(settings, args) if args.command == "invite" else _audit_verify(settings))
        except StorageRefused as refusal:
            print(f"meldbot: refusing to open the database: {refusal}", file=sys.stderr)
            return EXIT_BAD_CONFIG
    logs.configure(settings.logging.level, [settings.token])
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
