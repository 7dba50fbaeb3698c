"""A local Telegram Bot API emulator: meldbot's end-to-end tests and ``meldbot demo`` run on it.

The emulator is an aiohttp server on 127.0.0.1 that implements the Bot API as
python-telegram-bot talks to it, checks every request against the official
specification (../shared/telegram/bot-api-10.1.json beside the checkout; the demo runs
without it when it is absent), reproduces Telegram's refusals with Telegram's error
codes and descriptions, delivers updates by long polling or by webhook, and lets tests
act as human users::

    async with BotApiEmulator(token="123456:TEST-TOKEN", bot_username="meldbot_test_bot") as emu:
        app = (Application.builder().token(emu.token)
               .base_url(emu.api_base_url).base_file_url(emu.file_base_url).build())
        ...
        alice = emu.user(5001, first_name="Alice")
        await alice.command("/start")
        reply = await alice.wait_for_message(lambda m: "welkom" in m.text.lower())
        assert emu.spec_violations == []

Modules: ``server`` (HTTP, pipeline, update queue, inspection), ``methods`` (what each
method does and refuses), ``spec`` (specification checking), ``formatting`` (Telegram
HTML, trimming, lengths), ``actors`` (simulated users, groups, channels), ``model``
(data types). See README.md next to this file for the short version.
"""

from .actors import SimChannel, SimGroup, SimUser
from .formatting import HtmlParseError, parse_html
from .model import ApiError, ApiRequest, CallbackAnswer, ChatMessage, ChatView, Fault, RateLimits, StoredFile
from .server import BotApiEmulator, load_spec
from .spec import DEFAULT_SPEC_PATH, ApiSpec, UploadedFile

__all__ = [
    "DEFAULT_SPEC_PATH",
    "ApiError",
    "ApiRequest",
    "ApiSpec",
    "BotApiEmulator",
    "CallbackAnswer",
    "ChatMessage",
    "ChatView",
    "Fault",
    "HtmlParseError",
    "RateLimits",
    "SimChannel",
    "SimGroup",
    "SimUser",
    "StoredFile",
    "UploadedFile",
    "load_spec",
    "parse_html",
]
