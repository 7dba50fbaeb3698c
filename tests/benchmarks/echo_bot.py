"""A bare python-telegram-bot echo bot: the baseline that ``report_flow.py`` compares meldbot with.

It is the smallest bot python-telegram-bot makes possible: an ``Application`` with
default settings (updates processed one at a time, no rate limiter unless
``--rate-limiter`` asks for PTB's ``AIORateLimiter`` with its defaults), long polling,
and one handler that sends every text message back as a new message. No logging
set-up, no storage. It stops cleanly on SIGTERM or SIGINT (``run_polling`` handles both).

    python tests/benchmarks/echo_bot.py --token 123456:TOKEN \\
        --api-base-url http://127.0.0.1:PORT/bot --file-base-url http://127.0.0.1:PORT/file/bot
"""

from __future__ import annotations

import argparse

from telegram import Update
from telegram.ext import AIORateLimiter, Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text(update.message.text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Bare python-telegram-bot echo bot (benchmark baseline).")
    parser.add_argument("--token", required=True, help="bot token (the emulator's)")
    parser.add_argument("--api-base-url", required=True, help="e.g. http://127.0.0.1:PORT/bot")
    parser.add_argument("--file-base-url", required=True, help="e.g. http://127.0.0.1:PORT/file/bot")
    parser.add_argument("--poll-timeout", type=int, default=2, help="getUpdates long-poll timeout, seconds")
    parser.add_argument(
        "--rate-limiter", action="store_true", help="use python-telegram-bot's AIORateLimiter (defaults: 30/s)"
    )
    args = parser.parse_args(argv)

    builder = Application.builder().token(args.token).base_url(args.api_base_url).base_file_url(args.file_base_url)
    if args.rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter())
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.run_polling(poll_interval=0, timeout=args.poll_timeout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
