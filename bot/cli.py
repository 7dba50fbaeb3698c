"""The ``meldbot`` command: ``run`` the bot, or ``check-config`` a configuration.

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
from bot.config import ConfigError, Settings, load_settings
from storage import StorageRefused

EXIT_BAD_CONFIG = 2
EXIT_UNREACHABLE = 1


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
    return parser


def _summary(settings: Settings) -> str:
    return (
        f"{len(settings.counsellors)} counsellor(s), {len(settings.coordinators)} coordinator(s); "
        f"database {settings.storage.database}, key file {settings.storage.key_file}; "
        f"Bot API at {settings.telegram.api_base_url}"
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
    logs.configure(settings.logging.level, [settings.token])
    # Opt in to python-telegram-bot's coming behaviour (durations as timedelta), which its rate
    # limiter otherwise warns about on every 429. Process-wide, so only here at the entry point.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    from telegram.error import InvalidToken, NetworkError

    from bot.app import run_until_stopped  # imported late: check-config needs no Telegram stack

    try:
        asyncio.run(run_until_stopped(settings))
    except StorageRefused as refusal:
        print(f"meldbot: refusing to start: {refusal}", file=sys.stderr)
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
