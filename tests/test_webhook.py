"""Webhook mode, updates handled once across restarts, and /healthz.

End to end: the Bot API emulator posts updates to the real bot's webhook (in
``local_mode``, as a self-hosted Bot API server would, so plain http on loopback works),
and requests that do not come from Telegram are refused without anything being handled.
"""

from __future__ import annotations

import logging
import socket
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.config import ConfigError, Settings, load_settings
from bot.health import HealthCheck
from storage import Storage
from storage.telegram_state import HandledUpdates, webhook_secret
from tests.e2e import COORDINATOR_ID, HOLDERS_COUNSELLOR_ID, STAFF_COUNSELLOR_ID, TOKEN, BotUnderTest, emulator
from tests.test_e2e_report import file_report, reference_in

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def staff_have_started(emu) -> None:
    for user_id, name, language in (
        (STAFF_COUNSELLOR_ID, "Carla", "nl"),
        (HOLDERS_COUNSELLOR_ID, "Henk", "en"),
        (COORDINATOR_ID, "Coby", "nl"),
    ):
        staff = emu.user(user_id, first_name=name, language_code=language)
        staff.skip_pending()
        await staff.command("/start")


async def webhook_info(emu) -> dict:
    """Asked of Telegram directly: the bot is not running."""
    async with aiohttp.ClientSession() as http, http.post(f"{emu.api_base_url}{TOKEN}/getWebhookInfo") as response:
        return (await response.json())["result"]


@pytest.fixture
async def hook_emu():
    """Telegram, retrying quickly; local_mode lets it post to http:// on loopback."""
    async with emulator(local_mode=True, webhook_retry=(0.05, 0.3)) as running:
        yield running


class WebhookBot(BotUnderTest):
    def __init__(self, emu, folder: Path, port: int, **telegram: object) -> None:
        self.url = f"http://127.0.0.1:{port}/telegram/updates"
        super().__init__(emu, folder, telegram={"mode": "webhook", "webhook_url": self.url, "port": port, **telegram})
        self.healthz = f"http://127.0.0.1:{port}/healthz"


@pytest.fixture
async def webhook_bot(hook_emu, tmp_path, captured_logs):
    await staff_have_started(hook_emu)
    under_test = WebhookBot(hook_emu, tmp_path, free_port())
    await under_test.start()
    for user_id in (STAFF_COUNSELLOR_ID, HOLDERS_COUNSELLOR_ID, COORDINATOR_ID):
        await hook_emu.user(user_id).next_message()
    yield under_test
    await under_test.stop()
    errors = [line for line in captured_logs.text.splitlines() if " ERROR " in line or "Traceback" in line]
    assert errors == []


# ---------------------------------------------------------------------------- a report through the webhook
async def test_a_whole_report_flows_through_the_webhook(hook_emu, webhook_bot):
    emu = hook_emu
    registered = emu.calls("setWebhook")[-1].params
    assert registered["url"] == webhook_bot.url
    assert len(registered["secret_token"]) >= 32
    assert set(registered["allowed_updates"]) == {
        "message",
        "edited_message",
        "callback_query",
        "my_chat_member",
        "channel_post",
    }

    anna = emu.user(5001, first_name="Anna", last_name="de Vries", language_code="nl")
    reference = reference_in(await file_report(anna))
    carla = emu.user(STAFF_COUNSELLOR_ID)
    await carla.wait_for_message(lambda m: reference in m.text)
    await carla.press("Ontvangst bevestigen")
    told = await anna.wait_for_message(lambda m: "gelezen" in m.text)
    assert reference in told.text

    await emu.wait_until_consumed()
    assert emu.calls("getUpdates") == []  # every update came by webhook
    assert emu.webhook.attempts and all(status == 200 for _, status in emu.webhook.attempts)
    info = await webhook_bot.meldbot.application.bot.get_webhook_info()
    assert (info.url, info.pending_update_count, info.last_error_message) == (webhook_bot.url, 0, None)
    emu.assert_healthy()


# ---------------------------------------------------------------------------- what does not come from Telegram
async def test_requests_without_the_right_secret_or_with_a_broken_body_are_refused_and_nothing_is_handled(
    hook_emu, webhook_bot, captured_logs
):
    secret = hook_emu.webhook.settings.secret_token
    stranger = hook_emu.user(5009, first_name="Mallory", started=True)
    update = {
        "update_id": 999_000_001,
        "message": {
            "message_id": 1,
            "date": 1_763_000_000,
            "chat": {"id": 5009, "type": "private", "first_name": "Mallory"},
            "from": {"id": 5009, "is_bot": False, "first_name": "Mallory"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    async with aiohttp.ClientSession() as http:

        async def post(body: object, headers: dict[str, str]) -> int:
            kwargs = {"data": body} if isinstance(body, (str, bytes)) else {"json": body}
            async with http.post(webhook_bot.url, headers=headers, **kwargs) as response:
                return response.status

        assert await post(update, {}) == 403
        assert await post(update, {"X-Telegram-Bot-Api-Secret-Token": "raden"}) == 403
        assert await post(update, {"X-Telegram-Bot-Api-Secret-Token": secret[:-1]}) == 403
        right = {"X-Telegram-Bot-Api-Secret-Token": secret, "Content-Type": "application/json"}
        assert await post(b"{niet af", right) == 400
        assert await post([update], right) == 400
        assert await post({"message": update["message"]}, right) == 400  # no update_id
        assert await post({"update_id": "twaalf", "message": "tekst"}, right) == 400
        await stranger.expect_silence(0.5)
        assert stranger.chat.bot_messages == []
        # Nothing of it was stored: the same update, sent properly, is handled as new.
        assert await post(update, right) == 200
    welcome = await stranger.wait_for_message(lambda m: "112" in m.text)
    assert welcome is not None
    logging.getLogger("somewhere.else").warning("a careless line with %s in it", secret)
    assert secret not in captured_logs.text  # redacted like the token, whoever logs it
    assert captured_logs.text.count("refused a webhook request without the right secret token") == 3
    assert captured_logs.text.count("refused a webhook request whose body is not a Telegram update") == 4


# ---------------------------------------------------------------------------- once only
async def test_an_update_delivered_again_after_a_restart_is_handled_once(hook_emu, webhook_bot):
    emu = hook_emu
    anna = emu.user(5001, first_name="Anna", language_code="nl")
    # The bot handles /start, but its answer never reaches Telegram, and then it cannot be reached at all.
    emu.inject_fault("@webhook", kind="drop", after=True)
    emu.inject_fault("@webhook", kind="drop", times=None)
    await anna.command("/start")
    await anna.wait_for_message(lambda m: "112" in m.text)
    await webhook_bot.stop()
    info = await webhook_info(emu)
    assert info["pending_update_count"] == 1 and info["url"] == webhook_bot.url  # stop left the webhook set
    assert info["last_error_message"] in ("Read timeout expired", "Connection refused")
    first_secret = emu.webhook.settings.secret_token

    emu.clear_faults()
    await webhook_bot.start()
    await emu.wait_until_consumed()
    assert emu.webhook.settings.secret_token == first_secret  # the stored secret, not a new one
    await anna.expect_silence(0.5)
    welcomes = [m for m in anna.chat.bot_messages if "112" in m.text]
    assert len(welcomes) == 1
    assert webhook_bot.meldbot.receiving.processor.repeats == 1
    start_update = emu.webhook.attempts[-1][0]
    tries = [status for update_id, status in emu.webhook.attempts if update_id == start_update]
    assert tries[0] == 200 and tries[-1] == 200 and len(tries) >= 2  # handled, posted again, dropped


async def test_with_polling_an_update_served_again_after_a_crash_is_handled_once(emu, meldbot):
    anna = emu.user(5001, first_name="Anna", language_code="nl")
    await anna.command("/start")
    await anna.wait_for_message(lambda m: "112" in m.text)
    await emu.wait_until_consumed()
    start_update = next(
        update["update_id"]
        for request in emu.calls("getUpdates", ok=True)
        for update in request.result
        if update.get("message", {}).get("text") == "/start" and update["message"]["chat"]["id"] == 5001
    )
    await meldbot.stop()
    emu.redeliver(start_update)  # as if the bot was killed before its confirmation reached Telegram
    await meldbot.start()
    await emu.wait_until_consumed()
    await anna.expect_silence(0.5)
    assert len([m for m in anna.chat.bot_messages if "112" in m.text]) == 1
    assert meldbot.meldbot.receiving.processor.repeats == 1


async def test_switching_back_to_polling_removes_the_webhook_and_loses_nothing(hook_emu, webhook_bot, tmp_path):
    await webhook_bot.stop()
    anna = hook_emu.user(5001, first_name="Anna", language_code="nl")
    await anna.command("/start")  # arrives while meldbot is down: Telegram keeps it
    polling = BotUnderTest(hook_emu, tmp_path)  # same database, default mode
    await polling.start()
    try:
        await anna.wait_for_message(lambda m: "112" in m.text)
        assert (await webhook_info(hook_emu))["url"] == ""
    finally:
        await polling.stop()


# ---------------------------------------------------------------------------- /healthz
async def test_healthz_on_the_webhook_port_says_all_is_well(webhook_bot):
    async with aiohttp.ClientSession() as http, http.get(webhook_bot.healthz) as response:
        assert response.status == 200
        assert await response.json() == {
            "database": "ok",
            "bot_api": "ok",
            "outbox_lag_seconds": 0,
            "oldest_pending": None,
        }


async def test_healthz_in_polling_mode_answers_503_when_the_bot_api_is_unreachable(emu, tmp_path, captured_logs):
    await staff_have_started(emu)
    port = free_port()
    under_test = BotUnderTest(emu, tmp_path, health={"port": port})
    await under_test.start()
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        emu.inject_fault("getMe", status=502, times=None)
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            assert response.status == 503
            body = await response.json()
        assert body["bot_api"] == "unreachable" and body["database"] == "ok"
        assert body["problems"] == ["the Bot API cannot be reached"]
        assert TOKEN not in repr(body)
    finally:
        emu.clear_faults()
        await under_test.stop()


# ---------------------------------------------------------------------------- the health check itself
@pytest.fixture
async def opened(tmp_path):
    storage = await Storage.open(tmp_path / "meldbot.db", tmp_path / "meldbot.key")
    yield storage
    await storage.close()


@pytest.fixture
async def bot(emu):
    from telegram import Bot

    async with Bot(emu.token, base_url=emu.api_base_url) as ptb_bot:
        yield ptb_bot


async def test_health_names_a_database_that_does_not_accept_writes(opened, bot, clock):
    connection = opened.db._conn  # the one connection meldbot writes through
    await connection.execute("PRAGMA query_only = ON")  # it refuses writes, as a read-only file would
    report = await HealthCheck(opened, bot, clock, max_outbox_lag=timedelta(minutes=15)).check()
    assert report.status == 503
    assert report.body["database"] == "not writable" and report.body["bot_api"] == "ok"
    # meldbot reads in write transactions too, so the outbox cannot be measured either.
    assert report.body["problems"] == ["the database does not accept writes", "the outbox cannot be read"]
    assert report.body["outbox_lag_seconds"] is None
    await connection.execute("PRAGMA query_only = OFF")
    assert (await HealthCheck(opened, bot, clock, max_outbox_lag=timedelta(minutes=15)).check()).status == 200


async def test_health_reports_the_outbox_lag_and_the_oldest_pending_item(opened, bot, clock):
    from flows.lifecycle import Delivery, Notice, Party

    check = HealthCheck(opened, bot, clock, max_outbox_lag=timedelta(minutes=15))
    due = clock.now()
    await opened.outbox.enqueue(None, [Delivery(b"\x01" * 32, Party.COUNSELLOR, Notice.CASE_REPORT)], due)
    clock.advance(minutes=10)
    report = await check.check()
    assert report.status == 200
    assert report.body["outbox_lag_seconds"] == 600
    assert report.body["oldest_pending"] == "2026-11-18T10:30:00Z"
    clock.advance(minutes=10)
    report = await check.check()
    assert report.status == 503
    assert report.body["problems"] == ["outbox lag 1200 s is over the limit of 900 s ([health] max_outbox_lag)"]


# ---------------------------------------------------------------------------- what stays across restarts
async def test_the_generated_secret_and_the_handled_updates_survive_a_restart(tmp_path, clock):
    first = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    secret = await webhook_secret(first.db)
    handled = await HandledUpdates.load(first.db, clock.now())
    await handled.add(100_000_001, clock.now())
    await first.close()

    again = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    try:
        assert await webhook_secret(again.db) == secret
        assert 100_000_001 in await HandledUpdates.load(again.db, clock.now())
        clock.advance(hours=49)  # Telegram never redelivers after 24 hours: old ids are forgotten
        assert 100_000_001 not in await HandledUpdates.load(again.db, clock.now())
    finally:
        await again.close()


# ---------------------------------------------------------------------------- configuration
def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[telegram]\ntoken = "123456:ABCDEFGHIJ"\n{text}', encoding="utf-8")
    return path


def test_polling_is_the_default_and_health_is_off(tmp_path):
    settings = load_settings(write(tmp_path, ""))
    assert (settings.telegram.mode, settings.telegram.listen, settings.health.port) == ("polling", "127.0.0.1", None)


def test_webhook_mode_needs_a_url_and_a_secret_telegram_accepts(tmp_path):
    with pytest.raises(ConfigError) as refused:
        load_settings(write(tmp_path, 'mode = "webhook"\nsecret_token = "met spaties"\nlisten = "overal"\n'))
    problems = str(refused.value)
    assert "telegram.secret_token: must be 1 to 256 characters" in problems
    assert "telegram.listen: must be an IP address" in problems
    with pytest.raises(ConfigError, match='mode = "webhook" needs webhook_url'):
        load_settings(write(tmp_path, 'mode = "webhook"\n'))
    settings = load_settings(
        write(tmp_path, 'mode = "webhook"\nwebhook_url = "https://meld.example.nl/telegram"\nport = 8443\n')
    )
    assert settings.telegram.secret_token is None  # generated and stored at the first start


def test_an_operator_is_warned_about_settings_that_do_nothing(tmp_path):
    settings = Settings.model_validate(
        {
            "telegram": {"mode": "webhook", "webhook_url": "http://meld.example.nl/telegram"},
            "health": {"port": 9000},
        }
    )
    warnings = " ".join(settings.warnings())
    assert "[health] port is not used in webhook mode" in warnings
    assert "Telegram's servers accept only https://" in warnings


async def test_a_port_in_use_is_said_plainly(emu, tmp_path):
    from bot.receiving import ListenError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        under_test = BotUnderTest(emu, tmp_path, health={"port": port})
        with pytest.raises(ListenError, match=f"cannot listen on 127.0.0.1:{port}"):
            await under_test.start()
    assert under_test.meldbot.application is None  # what had started was stopped again
