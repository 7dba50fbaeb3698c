"""Proof that bot/emulator behaves like the Telegram Bot API.

Three kinds of evidence:

* raw HTTP requests (httpx, encoded the way python-telegram-bot encodes them) that
  check the spec checker and each refusal – HTTP code and Telegram's exact description;
* a real python-telegram-bot ``Application`` (real HTTPXRequest, long polling, handlers)
  talking to the emulator: echo, buttons, edits, photo download, document upload,
  fault injection surfacing as PTB's exceptions, 200 users at once;
* a self-check that every successful answer the emulator gave is a valid instance of
  the return type the specification declares for that method.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.emulator import BotApiEmulator, RateLimits, parse_html
from bot.emulator.formatting import HtmlParseError, detect_entities

TOKEN = "123456:TEST-TOKEN"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
PDF = b"%PDF-1.4\n" + b"meldbot rapport " * 200


# ---------------------------------------------------------------------------- helpers
@pytest.fixture
async def emu():
    async with BotApiEmulator(token=TOKEN, bot_username="meldbot_test_bot") as emulator:
        yield emulator


@pytest.fixture
async def http(emu):
    async with httpx.AsyncClient(base_url=emu.base_url, timeout=10) as client:
        yield client


async def call(http: httpx.AsyncClient, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    """POST like python-telegram-bot: strings as they are, everything else JSON-encoded."""
    files = params.pop("_files", None)
    data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items() if v is not None}
    response = await http.post(f"/bot{TOKEN}/{method}", data=data, files=files)
    return response.status_code, response.json()


async def ok(http: httpx.AsyncClient, method: str, **params: Any) -> Any:
    status, body = await call(http, method, **params)
    assert status == 200 and body["ok"], body
    return body["result"]


async def refused(http: httpx.AsyncClient, method: str, **params: Any) -> tuple[int, str]:
    status, body = await call(http, method, **params)
    assert body["ok"] is False and body["error_code"] == status, body
    return status, body["description"]


def started_user(emu: BotApiEmulator, user_id: int = 5001, name: str = "Alice"):
    """A user who has written to the bot (so the bot may write back)."""
    return emu.user(
        user_id, first_name=name, last_name="de Vries", username=f"u{user_id}", language_code="nl", started=True
    )


def keyboard(*buttons: tuple[str, str]) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": t, "callback_data": d} for t, d in buttons]]}


@contextlib.asynccontextmanager
async def running_app(emu: BotApiEmulator, *handlers: Any):
    """A real PTB Application polling the emulator; stopped cleanly afterwards."""
    app = Application.builder().token(emu.token).base_url(emu.api_base_url).base_file_url(emu.file_base_url).build()
    for handler in handlers:
        app.add_handler(handler)
    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield app
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


@contextlib.asynccontextmanager
async def ptb_bot(emu: BotApiEmulator):
    bot = Bot(emu.token, base_url=emu.api_base_url, base_file_url=emu.file_base_url)
    async with bot:
        yield bot


def assert_results_match_spec(emu: BotApiEmulator) -> None:
    """Every successful result must be a valid instance of the method's declared return type."""
    for req in emu.requests:
        if not req.ok:
            continue
        spec = emu.spec.method(req.method)
        problems = [emu.spec.check_object(t, req.result) for t in spec.returns]
        assert any(not p for p in problems), (req.method, req.result, problems)


# ---------------------------------------------------------------------------- (1) spec
async def test_spec_is_loaded_and_getme_answers(emu, http):
    assert emu.spec.version == "Bot API 10.1"
    assert emu.spec.method("sendmessage").name == "sendMessage"
    response = await http.get(f"/bot{TOKEN}/getMe")
    me = response.json()["result"]
    assert me["is_bot"] and me["username"] == "meldbot_test_bot" and me["id"] == 123456
    assert emu.spec.check_object("User", me) == []
    assert emu.spec_violations == []


async def test_missing_required_parameter_is_refused_and_recorded(emu, http):
    assert await refused(http, "sendMessage", text="hallo") == (400, "Bad Request: chat_id is empty")
    assert emu.spec_violations == ["sendMessage: required parameter 'chat_id' is missing"]
    emu.user(5001)
    assert await refused(http, "sendMessage", chat_id=5001) == (400, "Bad Request: message text is empty")
    assert await refused(http, "getFile") == (400, "Bad Request: file_id not specified")
    assert await refused(http, "setMyCommands") == (400, 'Bad Request: parameter "commands" is required')
    assert len(emu.spec_violations) == 4


async def test_unknown_method_wrong_token_and_method_case(emu, http):
    response = await http.post(f"/bot{TOKEN}/sendMesage", data={"chat_id": "1", "text": "x"})
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert emu.spec_violations == ["unknown method 'sendMesage' (not in Bot API 10.1)"]
    response = await http.get("/bot123456:WRONG/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert (await http.get(f"/bot{TOKEN}/GETME")).json()["ok"] is True
    assert emu.requests[-1].method == "getMe"


async def test_unknown_parameters_and_wrong_types_are_violations(emu, http):
    started_user(emu)
    status, text = await refused(http, "sendMessage", chat_id=5001, text="x", disable_web_page_preview=True)
    assert (status, text) == (400, 'Bad Request: unknown parameter "disable_web_page_preview" for method sendMessage')
    status, text = await refused(http, "getUpdates", limit="veel")
    assert text == 'Bad Request: parameter "limit" must be Integer'
    status, text = await refused(http, "sendMessage", chat_id=5001, text="x", reply_markup="{not json")
    assert text == "Bad Request: can't parse reply keyboard markup JSON object"
    status, text = await refused(
        http,
        "sendMessage",
        chat_id=5001,
        text="x",
        reply_markup={"inline_keyboard": [[{"text": "a", "callback_data": "b", "colour": "red"}]]},
    )
    assert status == 400 and "InlineKeyboardButton has no field 'colour'" in text
    assert len(emu.spec_violations) == 4
    assert "disable_web_page_preview" in emu.spec_violations[0]


async def test_unknown_parameters_can_be_recorded_without_refusing():
    async with BotApiEmulator(token=TOKEN, reject_unknown_params=False) as emulator:
        async with httpx.AsyncClient(base_url=emulator.base_url) as client:
            started_user(emulator)
            sent = await ok(client, "sendMessage", chat_id=5001, text="x", reply_to_message_id=1)
            assert sent["text"] == "x"
            assert emulator.spec_violations == ["sendMessage: unknown parameter 'reply_to_message_id'='1'"]


async def test_json_bodies_and_query_strings_are_accepted(emu, http):
    started_user(emu)
    response = await http.post(
        f"/bot{TOKEN}/sendMessage",
        json={"chat_id": 5001, "text": "<b>json</b>", "parse_mode": "HTML", "reply_markup": keyboard(("A", "a"))},
    )
    body = response.json()
    assert body["ok"], body
    assert body["result"]["entities"] == [{"type": "bold", "offset": 0, "length": 4}]
    response = await http.get(f"/bot{TOKEN}/sendMessage", params={"chat_id": "5001", "text": "query"})
    assert response.json()["result"]["text"] == "query"
    assert emu.calls("sendMessage")[0].params["chat_id"] == 5001
    assert emu.calls("sendMessage")[0].params["reply_markup"] == keyboard(("A", "a"))
    assert emu.spec_violations == []


# ---------------------------------------------------------------------------- (2) HTML
@pytest.mark.parametrize(
    ("html", "text", "entities"),
    [
        (
            "<b>vet</b> en <i>schuin</i>",
            "vet en schuin",
            [{"type": "bold", "offset": 0, "length": 3}, {"type": "italic", "offset": 7, "length": 6}],
        ),
        (
            "<strong><em>x</em></strong>",
            "x",
            [{"type": "bold", "offset": 0, "length": 1}, {"type": "italic", "offset": 0, "length": 1}],
        ),
        (
            "<u>a</u><ins>b</ins><s>c</s><strike>d</strike><del>e</del>",
            "abcde",
            [
                {"type": "underline", "offset": 0, "length": 1},
                {"type": "underline", "offset": 1, "length": 1},
                {"type": "strikethrough", "offset": 2, "length": 1},
                {"type": "strikethrough", "offset": 3, "length": 1},
                {"type": "strikethrough", "offset": 4, "length": 1},
            ],
        ),
        (
            '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>',
            "st",
            [{"type": "spoiler", "offset": 0, "length": 1}, {"type": "spoiler", "offset": 1, "length": 1}],
        ),
        (
            '<a href="https://meld.example.nl">hier</a>',
            "hier",
            [{"type": "text_link", "offset": 0, "length": 4, "url": "https://meld.example.nl/"}],
        ),
        (
            '<pre><code class="language-python">x = 1</code></pre>',
            "x = 1",
            [{"type": "pre", "offset": 0, "length": 5, "language": "python"}],
        ),
        (
            "<code>c</code> <pre>p</pre>",
            "c p",
            [{"type": "code", "offset": 0, "length": 1}, {"type": "pre", "offset": 2, "length": 1}],
        ),
        (
            "<blockquote expandable>q</blockquote><blockquote>r</blockquote>",
            "qr",
            [
                {"type": "expandable_blockquote", "offset": 0, "length": 1},
                {"type": "blockquote", "offset": 1, "length": 1},
            ],
        ),
        (
            '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
            "👍",
            [{"type": "custom_emoji", "offset": 0, "length": 2, "custom_emoji_id": "5368324170671202286"}],
        ),
        ("&lt;tag&gt; &amp; &quot;q&quot; &#65;&#x42;", '<tag> & "q" AB', []),
        ("😀 <b>na emoji</b>", "😀 na emoji", [{"type": "bold", "offset": 3, "length": 8}]),
        ("<B>HOOFDLETTERS</B>", "HOOFDLETTERS", [{"type": "bold", "offset": 0, "length": 12}]),
        ("a > b", "a > b", []),
        (
            "<a>www.meld.nl</a>",
            "www.meld.nl",
            [{"type": "text_link", "offset": 0, "length": 11, "url": "http://www.meld.nl/"}],
        ),
        (
            '<a href="tg://user?id=5001">Alice</a>',
            "Alice",
            [
                {
                    "type": "text_mention",
                    "offset": 0,
                    "length": 5,
                    "user": {"id": 5001, "is_bot": False, "first_name": ""},
                }
            ],
        ),
        ('<a href="localhost">geen link</a>', "geen link", []),
    ],
)
def test_html_subset_is_parsed_like_telegram(html, text, entities):
    assert parse_html(html) == (text, entities)


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("a <foo> b", 'Unsupported start tag "foo" at byte offset 2'),
        ("é<br>", 'Unsupported start tag "br" at byte offset 2'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>vet", 'Can\'t find end tag corresponding to start tag "b"'),
        ("tekst</b>", "Unexpected end tag at byte offset 5"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("R&D", "Character entity expected at byte offset 1"),
        ("&nbsp;", "Character entity expected at byte offset 0"),
        ("&lt zonder puntkomma", "Character entity expected at byte offset 0"),
        ('<a href="https://x.nl/?a=1&b=2">x</a>', "Character entity expected at byte offset 26"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<tg-emoji emoji-id="abc">x</tg-emoji>', "Invalid custom emoji identifier specified"),
    ],
)
def test_html_errors_carry_telegrams_wording_and_byte_offsets(html, error):
    with pytest.raises(HtmlParseError) as info:
        parse_html(html)
    assert str(info.value) == error


def test_lenient_entities_match_telegram_exactly():
    assert parse_html("R&D &lt zonder", strict_entities=False) == ("R&D < zonder", [])


async def test_html_refusals_over_http(emu, http):
    started_user(emu)
    status, text = await refused(http, "sendMessage", chat_id=5001, text="Dag <naam>", parse_mode="HTML")
    assert (status, text) == (400, 'Bad Request: can\'t parse entities: Unsupported start tag "naam" at byte offset 4')
    _, text = await refused(http, "sendMessage", chat_id=5001, text="<b>open", parse_mode="HTML")
    assert text == "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
    _, text = await refused(http, "sendMessage", chat_id=5001, text="dicht</b>", parse_mode="HTML")
    assert text == "Bad Request: can't parse entities: Unexpected end tag at byte offset 5"
    _, text = await refused(http, "sendMessage", chat_id=5001, text="*x*", parse_mode="XML")
    assert text == "Bad Request: unsupported parse_mode"
    assert emu.spec_violations == []
    _, text = await refused(http, "sendMessage", chat_id=5001, text="*x*", parse_mode="MarkdownV2")
    assert text == "Bad Request: unsupported parse_mode"
    assert "only implements HTML" in emu.spec_violations[0]
    result = await ok(http, "sendMessage", chat_id=5001, text="  <b>Let op</b> &amp; lees\n\n", parse_mode="HTML")
    assert result["text"] == "Let op & lees"
    assert result["entities"] == [{"type": "bold", "offset": 0, "length": 6}]


def test_a_missing_spec_fails_loudly_unless_the_caller_opts_out(tmp_path):
    """Tests must never silently run unchecked: only an explicit spec_path=None skips the spec."""
    with pytest.raises(FileNotFoundError, match="missing.json"):
        BotApiEmulator(token=TOKEN, spec_path=tmp_path / "missing.json")


async def test_without_the_spec_the_emulators_own_refusals_still_hold():
    """The demo runs where ../shared is absent: no spec checks, but Telegram's refusals all the same."""
    async with BotApiEmulator(token=TOKEN, spec_path=None) as bare:
        async with httpx.AsyncClient(base_url=bare.base_url) as client:
            started_user(bare)
            _, text = await refused(client, "sendMessage", chat_id=5001, text="<b>open", parse_mode="HTML")
            assert text == "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
            _, text = await refused(client, "sendMessage", chat_id=5001, text="x" * 4097)
            assert text == "Bad Request: message is too long"
            _, text = await refused(
                client, "sendMessage", chat_id=5001, text="x", reply_markup=keyboard(("A", "d" * 65))
            )
            assert text == "Bad Request: BUTTON_DATA_INVALID"
            sent = await ok(client, "sendMessage", chat_id=5001, text="<i>vraag</i>", parse_mode="HTML")
            _, text = await refused(
                client,
                "editMessageText",
                chat_id=5001,
                message_id=sent["message_id"],
                text="<i>vraag</i>",
                parse_mode="HTML",
            )
            assert text.startswith("Bad Request: message is not modified")
            assert await refused(client, "sendMesage", chat_id=5001, text="x") == (404, "Not Found")
            # Nothing checks parameters against a spec, but the methods still read them right.
            await ok(client, "sendLocation", chat_id=5001, latitude=52.09, longitude=5.12)
            assert bare.chat(5001).last_bot_message.media_type == "location"
            assert bare.spec is None


# ---------------------------------------------------------------------------- (2) lengths
async def test_text_and_caption_lengths_after_parsing(emu, http):
    started_user(emu)
    assert (await refused(http, "sendMessage", chat_id=5001, text=" \n "))[1] == "Bad Request: text must be non-empty"
    assert (await refused(http, "sendMessage", chat_id=5001, text="<b> </b>", parse_mode="HTML"))[1] == (
        "Bad Request: text must be non-empty"
    )
    assert (await refused(http, "sendMessage", chat_id=5001, text="x" * 4097))[1] == "Bad Request: message is too long"
    await ok(http, "sendMessage", chat_id=5001, text="x" * 4096)
    await ok(http, "sendMessage", chat_id=5001, text="<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    await ok(http, "sendMessage", chat_id=5001, text="😀" * 4096)  # code points, as tdlib counts
    photo = {"photo": ("p.png", PNG, "image/png")}
    _, text = await refused(http, "sendPhoto", chat_id=5001, caption="c" * 1025, _files=photo)
    assert text == "Bad Request: message caption is too long"
    assert emu.chat(5001).bot_messages[-1].text == "😀" * 4096


async def test_utf16_length_unit_is_stricter_for_emoji():
    async with BotApiEmulator(token=TOKEN, text_length_unit="utf16") as emulator:
        async with httpx.AsyncClient(base_url=emulator.base_url) as client:
            started_user(emulator)
            assert (await refused(client, "sendMessage", chat_id=5001, text="😀" * 2049))[1] == (
                "Bad Request: message is too long"
            )


# ---------------------------------------------------------------------------- (2) keyboards
async def test_inline_keyboard_refusals(emu, http):
    started_user(emu)
    _, text = await refused(http, "sendMessage", chat_id=5001, text="x", reply_markup=keyboard(("A", "d" * 65)))
    assert text == "Bad Request: BUTTON_DATA_INVALID"
    _, text = await refused(http, "sendMessage", chat_id=5001, text="x", reply_markup=keyboard(("A", "é" * 33)))
    assert text == "Bad Request: BUTTON_DATA_INVALID"  # 66 bytes although 33 characters
    await ok(http, "sendMessage", chat_id=5001, text="x", reply_markup=keyboard(("A", "é" * 32)))
    _, text = await refused(
        http, "sendMessage", chat_id=5001, text="x", reply_markup={"inline_keyboard": [[{"text": "alleen tekst"}]]}
    )
    assert text == (
        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
    )
    _, text = await refused(http, "sendMessage", chat_id=5001, text="x", reply_markup=keyboard(("A", "")))
    assert text.endswith("Text buttons are unallowed in the inline keyboard")
    reply_kb = {
        "keyboard": [[{"text": "Deel locatie", "request_location": True}], ["Annuleer"]],
        "resize_keyboard": True,
        "one_time_keyboard": True,
    }
    sent = await ok(http, "sendMessage", chat_id=5001, text="kies", reply_markup=reply_kb)
    assert "reply_markup" not in sent  # Message.reply_markup only ever holds inline keyboards
    assert emu.chat(5001).reply_keyboard == reply_kb
    await ok(http, "sendMessage", chat_id=5001, text="weg", reply_markup={"remove_keyboard": True})
    assert emu.chat(5001).reply_keyboard is None
    await ok(http, "sendMessage", chat_id=5001, text="?", reply_markup={"force_reply": True})
    assert emu.spec_violations == []


# ---------------------------------------------------------------------------- (2) chats
async def test_chat_refusals(emu, http):
    assert await refused(http, "sendMessage", chat_id=999, text="x") == (400, "Bad Request: chat not found")
    assert await refused(http, "sendMessage", chat_id="@nobody", text="x") == (400, "Bad Request: chat not found")
    alice = emu.user(5001, first_name="Alice")
    assert await refused(http, "sendMessage", chat_id=5001, text="x") == (
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )
    await alice.send("hallo")
    await ok(http, "sendMessage", chat_id=5001, text="dag")
    alice.block()
    assert await refused(http, "sendMessage", chat_id=5001, text="x") == (403, "Forbidden: bot was blocked by the user")
    assert await refused(http, "sendChatAction", chat_id=5001, action="typing") == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    with pytest.raises(RuntimeError):
        await alice.send("nog iets")
    alice.unblock()
    await ok(http, "sendMessage", chat_id=5001, text="weer terug")
    updates = await ok(http, "getUpdates")
    kinds = [next(k for k in u if k != "update_id") for u in updates]
    assert kinds == ["message", "my_chat_member", "my_chat_member"]
    assert updates[1]["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    assert await refused(http, "sendChatAction", chat_id=5001, action="dansen") == (
        400,
        "Bad Request: wrong parameter action in request",
    )


async def test_groups_channels_privacy_mode_and_leaving(emu, http):
    alice = emu.user(5001, first_name="Alice")
    raad = emu.group(-100123, title="Raad")
    await raad.send(alice, "gewoon gepraat")
    await raad.command(alice, "/start")
    await raad.send(alice, "hoi @meldbot_test_bot")
    await raad.command(alice, "/help@other_bot")
    updates = await ok(http, "getUpdates")
    assert [u["message"]["text"] for u in updates] == ["/start", "hoi @meldbot_test_bot"]
    assert updates[0]["message"]["chat"] == {"id": -100123, "type": "supergroup", "title": "Raad"}
    assert updates[0]["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    sent = await ok(http, "sendMessage", chat_id=-100123, text="Welkom in de raad")
    await raad.send(alice, "antwoord op de bot", reply_to=sent["message_id"])
    updates = await ok(http, "getUpdates", offset=updates[-1]["update_id"] + 1)
    assert [u["message"]["text"] for u in updates] == ["antwoord op de bot"]
    assert (await raad.next_message()).text == "Welkom in de raad"

    nieuws = emu.channel(-100999, title="Nieuws", username="meld_nieuws")
    await nieuws.post("tekst")
    updates = await ok(http, "getUpdates", offset=updates[-1]["update_id"] + 1)
    assert updates[0]["channel_post"]["sender_chat"]["id"] == -100999
    posted = await ok(http, "sendMessage", chat_id="@meld_nieuws", text="bericht")
    assert "from" not in posted and posted["sender_chat"]["title"] == "Nieuws"

    await ok(http, "leaveChat", chat_id=-100123)
    assert await refused(http, "sendMessage", chat_id=-100123, text="x") == (
        403,
        "Forbidden: bot is not a member of the supergroup chat",
    )
    assert await refused(http, "leaveChat", chat_id=5001) == (400, "Bad Request: can't leave private chats")
    assert emu.spec_violations == []


# ---------------------------------------------------------------------------- (2) edits
async def test_edit_refusals_and_results(emu, http):
    alice = started_user(emu)
    user_msg = await alice.send("mijn bericht")
    sent = await ok(
        http,
        "sendMessage",
        chat_id=5001,
        text="<b>vraag</b>",
        parse_mode="HTML",
        reply_markup=keyboard(("Ja", "ja"), ("Nee", "nee")),
    )
    mid = sent["message_id"]
    assert await refused(http, "editMessageText", chat_id=5001, message_id=777, text="x") == (
        400,
        "Bad Request: message to edit not found",
    )
    assert await refused(http, "editMessageText", chat_id=5001, message_id=user_msg.message_id, text="x") == (
        400,
        "Bad Request: message can't be edited",
    )
    not_modified = (
        "Bad Request: message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message"
    )
    same = dict(
        chat_id=5001,
        message_id=mid,
        text="<b>vraag</b>",
        parse_mode="HTML",
        reply_markup=keyboard(("Ja", "ja"), ("Nee", "nee")),
    )
    assert await refused(http, "editMessageText", **same) == (400, not_modified)
    edited = await ok(http, "editMessageText", **{**same, "text": "vraag"})  # entities differ
    assert edited["text"] == "vraag" and "entities" not in edited and "edit_date" in edited
    assert edited["reply_markup"] == keyboard(("Ja", "ja"), ("Nee", "nee"))
    # Telegram drops the inline keyboard when an edit does not repeat it.
    edited = await ok(http, "editMessageText", chat_id=5001, message_id=mid, text="beantwoord")
    assert "reply_markup" not in edited
    assert await refused(http, "editMessageReplyMarkup", chat_id=5001, message_id=mid) == (400, not_modified)
    edited = await ok(
        http, "editMessageReplyMarkup", chat_id=5001, message_id=mid, reply_markup=keyboard(("Terug", "t"))
    )
    assert edited["reply_markup"] == keyboard(("Terug", "t"))
    assert await refused(http, "editMessageCaption", chat_id=5001, message_id=mid, caption="x") == (
        400,
        "Bad Request: there is no caption in the message to edit",
    )
    photo = await ok(http, "sendPhoto", chat_id=5001, caption="foto", _files={"photo": ("p.png", PNG, "image/png")})
    assert await refused(http, "editMessageText", chat_id=5001, message_id=photo["message_id"], text="x") == (
        400,
        "Bad Request: there is no text in the message to edit",
    )
    edited = await ok(
        http,
        "editMessageCaption",
        chat_id=5001,
        message_id=photo["message_id"],
        caption="<i>nieuw</i>",
        parse_mode="HTML",
    )
    assert edited["caption"] == "nieuw" and edited["caption_entities"][0]["type"] == "italic"
    view = emu.chat(5001).get(mid)
    assert view.text == "beantwoord" and view.edited == 3 and view.buttons == [("Terug", "t")]
    await ok(http, "deleteMessage", chat_id=5001, message_id=mid)
    assert await refused(http, "editMessageText", chat_id=5001, message_id=mid, text="x") == (
        400,
        "Bad Request: message to edit not found",
    )
    assert emu.spec_violations == []


# ---------------------------------------------------------------------------- (2)+(6) deletes, clock
async def test_delete_refusals_and_clock(emu, http):
    alice = started_user(emu)
    incoming = await alice.send("verwijder mij")
    first = await ok(http, "sendMessage", chat_id=5001, text="een")
    second = await ok(http, "sendMessage", chat_id=5001, text="twee")
    assert await ok(http, "deleteMessage", chat_id=5001, message_id=incoming.message_id) is True
    assert await refused(http, "deleteMessage", chat_id=5001, message_id=incoming.message_id) == (
        400,
        "Bad Request: message to delete not found",
    )
    assert await refused(http, "deleteMessage", chat_id=5001, message_id=4242) == (
        400,
        "Bad Request: message to delete not found",
    )
    emu.advance_clock(48 * 3600 + 1)
    assert await refused(http, "deleteMessage", chat_id=5001, message_id=first["message_id"]) == (
        400,
        "Bad Request: message can't be deleted for everyone",
    )
    fresh = await ok(http, "sendMessage", chat_id=5001, text="drie")
    assert fresh["date"] >= first["date"] + 48 * 3600
    assert (
        await ok(http, "deleteMessages", chat_id=5001, message_ids=[second["message_id"], fresh["message_id"], 4242])
        is True
    )
    view = emu.chat(5001)
    assert [m.text for m in view.messages] == ["een", "twee"]  # the old ones could not be deleted
    assert view.deleted_ids == {incoming.message_id, fresh["message_id"]}
    assert await refused(http, "deleteMessages", chat_id=5001, message_ids=[]) == (
        400,
        "Bad Request: message identifiers are not specified",
    )
    assert await refused(http, "deleteMessages", chat_id=5001, message_ids=list(range(1, 102))) == (
        400,
        "Bad Request: too many message identifiers specified",
    )


async def test_delete_through_ptb_after_clock_advance(emu):
    alice = emu.user(5001, first_name="Alice")
    await alice.send("hallo")
    async with ptb_bot(emu) as bot:
        message = await bot.send_message(5001, "wordt oud")
        emu.advance_clock(49 * 3600)
        with pytest.raises(BadRequest, match="(?i)can't be deleted for everyone"):
            await bot.delete_message(5001, message.message_id)


# ---------------------------------------------------------------------------- (2) callbacks
async def test_callback_query_refusals(emu, http):
    alice = started_user(emu)
    sent = await ok(http, "sendMessage", chat_id=5001, text="kies", reply_markup=keyboard(("Melden", "melden")))

    async def press_and_fetch(data: str, timeout: float) -> tuple[asyncio.Task, str]:
        task = asyncio.create_task(alice.press_data(sent["message_id"], data, timeout=timeout))
        await asyncio.sleep(0)
        updates = await ok(http, "getUpdates", timeout=1)
        query = updates[-1]["callback_query"]
        await ok(http, "getUpdates", offset=updates[-1]["update_id"] + 1)
        assert query["message"]["message_id"] == sent["message_id"] and query["from"]["id"] == 5001
        return task, query["id"]

    task, query_id = await press_and_fetch("melden", timeout=2)
    assert await ok(http, "answerCallbackQuery", callback_query_id=query_id, text="Bedankt", show_alert=True) is True
    answer = await task
    assert (answer.text, answer.show_alert) == ("Bedankt", True)
    too_old = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    assert await refused(http, "answerCallbackQuery", callback_query_id=query_id) == (400, too_old)
    assert await refused(http, "answerCallbackQuery", callback_query_id="123") == (400, too_old)
    task, query_id = await press_and_fetch("vals:data", timeout=0.3)
    assert await refused(http, "answerCallbackQuery", callback_query_id=query_id, text="x" * 201) == (
        400,
        "Bad Request: MESSAGE_TOO_LONG",
    )
    emu.advance_clock(16)
    assert await refused(http, "answerCallbackQuery", callback_query_id=query_id) == (400, too_old)
    assert await task is None  # never answered


# ---------------------------------------------------------------------------- (2) media
async def test_media_refusals_and_file_objects(emu, http):
    alice = started_user(emu)
    user_photo = await alice.send_photo(PNG, caption="bewijs")
    photo_sizes = user_photo["photo"]
    assert len(photo_sizes) == 3 and photo_sizes[-1]["width"] == 1280
    assert await refused(http, "sendPhoto", chat_id=5001, photo="AgACnotreal") == (
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    )
    assert await refused(http, "sendPhoto", chat_id=5001, photo="https://example.org/p.jpg") == (
        400,
        "Bad Request: failed to get HTTP URL content",
    )
    assert await refused(http, "sendDocument", chat_id=5001, document=photo_sizes[-1]["file_id"]) == (
        400,
        "Bad Request: can't use file of type Photo as Document",
    )
    assert await refused(http, "sendDocument", chat_id=5001, _files={"document": ("leeg.txt", b"", "text/plain")}) == (
        400,
        "Bad Request: file must be non-empty",
    )
    resent = await ok(http, "sendPhoto", chat_id=5001, photo=photo_sizes[-1]["file_id"], protect_content=True)
    assert resent["photo"][-1]["file_id"] == photo_sizes[-1]["file_id"] and resent["has_protected_content"]
    voice = await ok(
        http, "sendVoice", chat_id=5001, duration=4, _files={"voice": ("v.ogg", b"OggS" * 50, "audio/ogg")}
    )
    assert voice["voice"]["duration"] == 4 and voice["voice"]["mime_type"] == "audio/ogg"
    file = await ok(http, "getFile", file_id=voice["voice"]["file_id"])
    assert file["file_size"] == 200 and file["file_path"].startswith("voice/")
    download = await http.get(f"/file/bot{TOKEN}/{file['file_path']}")
    assert download.content == b"OggS" * 50
    big = emu.register_file("document", b"\0" * (20 * 1024 * 1024 + 1), file_name="groot.bin")
    assert await refused(http, "getFile", file_id=big.file_id) == (400, "Bad Request: file is too big")
    assert await refused(http, "getFile", file_id="nope") == (
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    )
    assert await refused(http, "sendPhoto", chat_id=5001) == (400, "Bad Request: there is no photo in the request")
    album = await ok(
        http,
        "sendMediaGroup",
        chat_id=5001,
        media=[
            {"type": "photo", "media": "attach://een", "caption": "<b>1</b>", "parse_mode": "HTML"},
            {"type": "photo", "media": photo_sizes[0]["file_id"]},
        ],
        _files={"een": ("1.png", PNG, "image/png")},
    )
    assert len(album) == 2 and album[0]["media_group_id"] == album[1]["media_group_id"]
    assert album[0]["caption_entities"] == [{"type": "bold", "offset": 0, "length": 1}]
    copied = await ok(http, "copyMessage", chat_id=5001, from_chat_id=5001, message_id=user_photo.message_id)
    assert emu.chat(5001).get(copied["message_id"]).media_type == "photo"
    assert await refused(http, "forwardMessage", chat_id=5001, from_chat_id=5001, message_id=resent["message_id"]) == (
        400,
        "Bad Request: message has protected content and can't be forwarded",
    )
    assert emu.spec_violations == ["sendPhoto: required parameter 'photo' is missing"]


# ---------------------------------------------------------------------------- commands
async def test_bot_commands_per_scope_and_language(emu):
    emu.user(5001, first_name="Alice")
    from telegram import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

    async with ptb_bot(emu) as bot:
        await bot.set_my_commands([BotCommand("start", "Begin"), BotCommand("melden", "Meld iets")])
        await bot.set_my_commands([BotCommand("start", "Start")], language_code="en")
        await bot.set_my_commands([BotCommand("help", "Hulp")], scope=BotCommandScopeAllPrivateChats())
        await bot.set_my_commands([BotCommand("beheer", "Beheer")], scope=BotCommandScopeChat(5001))
        assert [c.command for c in await bot.get_my_commands()] == ["start", "melden"]
        assert [c.description for c in await bot.get_my_commands(language_code="en")] == ["Start"]
        assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())] == ["help"]
        assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeChat(5001))] == ["beheer"]
        assert await bot.get_my_commands(language_code="de") == ()
        await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats())
        assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats()) == ()
        # PTB strips "Bad Request: " and str.capitalize()s the rest: match case-insensitively.
        with pytest.raises(BadRequest, match="(?i)chat not found"):
            await bot.set_my_commands([BotCommand("x", "y")], scope=BotCommandScopeChat(4242))
        with pytest.raises(BadRequest, match="(?i)bot_command_invalid"):
            await bot.set_my_commands([BotCommand("Hoofd-Letters", "y")])
        await bot.set_my_description("Meld bedreigingen")
        assert (await bot.get_my_description()).description == "Meld bedreigingen"
        await bot.set_my_short_description("Kort")
        await bot.set_chat_menu_button()
        assert (await bot.get_chat_menu_button()).type == "default"
    assert emu.commands({"type": "chat", "chat_id": 5001}) == [{"command": "beheer", "description": "Beheer"}]
    assert emu.spec_violations == [] and emu.unhandled_methods == []
    assert_results_match_spec(emu)


async def test_descriptions_per_language_fall_back_to_the_default_and_keep_to_their_limits(emu, http):
    await ok(http, "setMyDescription", description="Report threats")
    await ok(http, "setMyDescription", description="Meld bedreiging", language_code="nl")
    await ok(http, "setMyShortDescription", short_description="Kort", language_code="nl")
    assert await ok(http, "getMyDescription", language_code="nl") == {"description": "Meld bedreiging"}
    assert await ok(http, "getMyDescription", language_code="de") == {"description": "Report threats"}
    assert await ok(http, "getMyShortDescription", language_code="nl") == {"short_description": "Kort"}
    assert await ok(http, "getMyShortDescription") == {"short_description": ""}
    # Telegram's limits: description 0-512 characters, short description 0-120.
    await ok(http, "setMyDescription", description="é" * 512, language_code="en")
    assert (await refused(http, "setMyDescription", description="é" * 513))[0] == 400
    assert (await refused(http, "setMyShortDescription", short_description="x" * 121))[0] == 400
    assert await ok(http, "getMyDescription") == {"description": "Report threats"}
    # An empty text removes the dedicated one for that language: the default shows again.
    await ok(http, "setMyDescription", description="", language_code="nl")
    assert await ok(http, "getMyDescription", language_code="nl") == {"description": "Report threats"}
    assert (await refused(http, "getMyDescription", language_code="dutch"))[0] == 400
    assert_results_match_spec(emu)


# ---------------------------------------------------------------------------- getUpdates
async def test_get_updates_semantics(emu, http):
    alice = emu.user(5001, first_name="Alice")
    for text in ("een", "twee", "drie"):
        await alice.send(text)
    first = await ok(http, "getUpdates", limit=2)
    assert [u["message"]["text"] for u in first] == ["een", "twee"]
    again = await ok(http, "getUpdates")
    assert [u["message"]["text"] for u in again] == ["een", "twee", "drie"]  # nothing confirmed yet
    rest = await ok(http, "getUpdates", offset=first[-1]["update_id"] + 1)
    assert [u["message"]["text"] for u in rest] == ["drie"]
    assert emu.pending_updates == 1

    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(call(http, "getUpdates", offset=rest[-1]["update_id"] + 1, timeout=5))
    await asyncio.sleep(0.1)
    await alice.send("vier")
    status, body = await poll
    assert body["result"][0]["message"]["text"] == "vier"
    assert loop.time() - started < 1.0  # woke up at once, not after the 5 s timeout

    # allowed_updates is remembered and filters updates created afterwards
    await ok(http, "getUpdates", offset=body["result"][-1]["update_id"] + 1, allowed_updates=["callback_query"])
    await alice.send("gefilterd")
    assert await ok(http, "getUpdates") == []
    assert emu.filtered_updates[-1]["message"]["text"] == "gefilterd"

    # a second poller terminates the first with 409 Conflict
    waiting = asyncio.create_task(call(http, "getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    await ok(http, "getUpdates", allowed_updates=[])
    status, body = await waiting
    assert status == 409
    assert body["description"] == (
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
    )
    await alice.send("terug")
    assert [u["message"]["text"] for u in await ok(http, "getUpdates")] == ["terug"]


async def test_stop_answers_pending_long_poll_at_once():
    emulator = await BotApiEmulator(token=TOKEN).start()
    async with httpx.AsyncClient(base_url=emulator.base_url) as client:
        poll = asyncio.create_task(call(client, "getUpdates", timeout=30))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        await emulator.stop()
        status, body = await poll
    assert (status, body) == (200, {"ok": True, "result": []})
    assert time.monotonic() - started < 1.5


# ---------------------------------------------------------------------------- (3) real PTB application
async def test_real_application_echo_button_edit_photo_and_document(emu):
    received: dict[str, bytes] = {}

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(
            f"Welkom, <b>{update.effective_user.first_name}</b>!",
            parse_mode=ParseMode.HTML,
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Melden", callback_data="melden")]]),
        )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(f"echo: {update.message.text}")

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer("Melding gestart")
        await query.edit_message_text("Wat is er gebeurd?")

    async def photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        largest = update.message.photo[-1]
        data = await (await context.bot.get_file(largest.file_id)).download_as_bytearray()
        received["photo"] = bytes(data)
        await update.message.reply_text(f"foto ontvangen: {len(data)} bytes")

    async def rapport(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_document(PDF, filename="rapport.pdf", caption="Je rapport", protect_content=True)

    alice = emu.user(5001, first_name="Alice", last_name="de Vries", username="alice_dv", language_code="nl")
    async with running_app(
        emu,
        CommandHandler("start", start),
        CommandHandler("rapport", rapport),
        CallbackQueryHandler(button),
        MessageHandler(filters.PHOTO, photo),
        MessageHandler(filters.TEXT & ~filters.COMMAND, echo),
    ):
        await alice.command("/start")
        welcome = await alice.wait_for_message(lambda m: "welkom" in m.text.lower())
        assert welcome.text == "Welkom, Alice!" and welcome.entities == [{"type": "bold", "offset": 8, "length": 5}]
        assert welcome.buttons == [("Melden", "melden")]
        answer = await alice.press("Meld")  # contains-match when there is no exact match
        assert answer.text == "Melding gestart" and answer.show_alert is False
        edited = await alice.wait_for_edit(message_id=welcome.message_id)
        assert edited.text == "Wat is er gebeurd?" and edited.buttons == []

        await alice.send("hallo")
        assert (await alice.next_message()).text == "echo: hallo"

        sent_photo = await alice.send_photo(PNG, caption="bewijs")
        reply = await alice.wait_for_message(lambda m: m.text.startswith("foto"))
        assert reply.text == f"foto ontvangen: {len(PNG)} bytes"
        assert received["photo"] == PNG
        assert emu.file_downloads == [emu.file(sent_photo["photo"][-1]["file_id"]).file_path]

        await alice.command("rapport")
        document = await alice.wait_for_message(lambda m: m.media_type == "document")
        assert document.file_bytes == PDF and document.protect_content
        assert (document.file_name, document.mime_type, document.caption) == (
            "rapport.pdf",
            "application/pdf",
            "Je rapport",
        )
        assert document["has_protected_content"] is True

    emu.assert_healthy()
    assert_results_match_spec(emu)
    assert [m.text for m in alice.chat.messages][:2] == ["/start", "Wat is er gebeurd?"]


async def test_updates_of_one_user_keep_their_order(emu):
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(update.message.text)

    alice = emu.user(5001, first_name="Alice")
    async with running_app(emu, MessageHandler(filters.TEXT, echo)):
        for i in range(10):
            await alice.send(f"bericht {i}")
        replies = [(await alice.next_message()).text for _ in range(10)]
    assert replies == [f"bericht {i}" for i in range(10)]
    emu.assert_healthy()


# ---------------------------------------------------------------------------- (4) faults
# PTB itself reads RetryAfter.retry_after while building the exception (its own deprecation).
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_faults_surface_as_ptb_exceptions(emu):
    alice = emu.user(5001, first_name="Alice")
    await alice.send("hallo")
    async with ptb_bot(emu) as bot:
        emu.inject_fault("sendMessage", 429, retry_after=2)
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(5001, "x")
        # python-telegram-bot words it by its duration setting (PTB_TIMEDELTA, on in these tests).
        assert str(info.value) in (
            "Flood control exceeded. Retry in 2 seconds",
            "Flood control exceeded. Retry in 0:00:02",
        )

        emu.inject_fault("sendMessage", 500)
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(5001, "x")
        emu.inject_fault("sendMessage", 502)
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(5001, "x")

        emu.inject_fault("sendMessage", kind="drop")
        with pytest.raises(NetworkError):
            await bot.send_message(5001, "x")

        # A slow Telegram: the bot times out, the message is still delivered afterwards.
        emu.inject_fault("sendMessage", kind="delay", seconds=0.5)
        with pytest.raises(TimedOut):
            await bot.send_message(5001, "te laat", read_timeout=0.1)
        await emu.wait_for_request("sendMessage", lambda r: r.fault == "delay:0")

        # Telegram executed it, the answer was lost: the classic duplicate-message trap.
        emu.inject_fault("sendMessage", kind="drop", after=True)
        with pytest.raises(NetworkError):
            await bot.send_message(5001, "toch verstuurd")

        emu.inject_fault("sendMessage", 500, chat_id=4242, times=None)
        await bot.send_message(5001, "andere chat werkt")
        assert (await bot.send_message(5001, "nog steeds")).text == "nog steeds"

    assert emu.faults_served == 6
    assert [m.text for m in alice.chat.bot_messages] == ["te laat", "toch verstuurd", "andere chat werkt", "nog steeds"]
    assert [r.fault for r in emu.calls("sendMessage")] == [
        "error:429",
        "error:500",
        "error:502",
        "drop:0",
        "delay:0",
        "drop:0",
        None,
        None,
    ]


async def test_faults_on_file_downloads(emu, http):
    alice = emu.user(5001, first_name="Alice")
    sent = await alice.send_document(PDF, file_name="r.pdf", mime_type="application/pdf")
    async with ptb_bot(emu) as bot:
        file = await bot.get_file(sent["document"]["file_id"])
        emu.inject_fault("@file", 502)
        with pytest.raises(NetworkError):
            await file.download_as_bytearray()
        assert bytes(await file.download_as_bytearray()) == PDF


# ---------------------------------------------------------------------------- (5) rate limits
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_rate_limits_answer_429_and_count_hits():
    limits = RateLimits(per_chat_per_second=1.0, per_chat_burst=3, global_per_second=30, global_burst=30)
    async with BotApiEmulator(token=TOKEN, enforce_rate_limits=True, rate_limits=limits) as emulator:
        async with httpx.AsyncClient(base_url=emulator.base_url) as client:
            started_user(emulator)
            statuses = [(await call(client, "sendMessage", chat_id=5001, text=f"{i}"))[0] for i in range(6)]
            assert statuses == [200, 200, 200, 429, 429, 429]
            status, body = await call(client, "sendMessage", chat_id=5001, text="x")
            assert body["description"] == "Too Many Requests: retry after 1"
            assert body["parameters"] == {"retry_after": 1}
            assert emulator.rate_limit_hits == 4
            assert emulator.peak_rate(5001) == 3
            async with ptb_bot(emulator) as bot:
                with pytest.raises(RetryAfter):
                    await bot.send_message(5001, "te snel")
            for uid in range(6000, 6080):  # 80 different chats in one burst: the global 30/s limit
                started_user(emulator, uid)
            global_statuses = [
                (await call(client, "sendMessage", chat_id=uid, text="x"))[0] for uid in range(6000, 6080)
            ]
            assert global_statuses.count(429) >= 10
            rl = emulator.rate_limits
            assert emulator.peak_rate(window=1.0) <= rl.global_burst + rl.global_per_second
            await asyncio.sleep(1.05)
            assert (await call(client, "sendMessage", chat_id=5001, text="weer"))[0] == 200


async def test_send_times_are_recorded_without_enforcement(emu, http):
    started_user(emu)
    for i in range(5):
        await ok(http, "sendMessage", chat_id=5001, text=str(i))
    assert len(emu.send_times(5001)) == 5 and emu.rate_limit_hits == 0
    assert emu.peak_rate(5001, window=10) == 5


# ---------------------------------------------------------------------------- (7) load
async def test_two_hundred_users_at_once(emu):
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(f"ontvangen: {update.message.text}")

    users = [emu.user(10_000 + i, first_name=f"Gebruiker {i}") for i in range(200)]

    async def converse(user) -> str:
        await user.send(f"melding van {user.id}")
        return (await user.wait_for_message(timeout=30)).text

    async with running_app(emu, MessageHandler(filters.TEXT, echo)):
        started = time.monotonic()
        replies = await asyncio.gather(*(converse(u) for u in users))
        elapsed = time.monotonic() - started
    assert replies == [f"ontvangen: melding van {u.id}" for u in users]
    assert elapsed < 20, elapsed
    emu.assert_healthy()


# ---------------------------------------------------------------------------- helpers of the test side
async def test_wait_for_message_timeout_explains_why(emu, http):
    alice = emu.user(5001, first_name="Alice")
    await refused(http, "sendMessage", chat_id=5001, text="<b>kapot", parse_mode="HTML")
    with pytest.raises(AssertionError) as info:
        await alice.wait_for_message(timeout=0.1)
    report = str(info.value)
    assert "no matching bot message in chat 5001" in report
    assert "can't parse entities" in report or "can't initiate conversation" in report
    with pytest.raises(AssertionError, match="no inline button"):
        await alice.press("Bestaat niet", timeout=0.1)


def test_detected_entities_for_human_messages():
    assert detect_entities("/start abc") == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert detect_entities("zie https://meld.nl/x en @alice_dv #melding") == [
        {"type": "url", "offset": 4, "length": 17},
        {"type": "mention", "offset": 25, "length": 9},
        {"type": "hashtag", "offset": 35, "length": 8},
    ]


async def test_user_edits_and_extra_message_kinds(emu, http):
    alice = emu.user(5001, first_name="Alice")
    original = await alice.send("eerst")
    edited = await alice.edit_message(original.message_id, "daarna")
    assert edited.text == "daarna" and edited.edited == 1
    await alice.send_voice(b"OggS" * 10, duration=3)
    await alice.send_sticker()
    await alice.send_location(52.1, 5.1)
    await alice.send_contact("+31612345678")
    album = await alice.send_media_group([PNG, ("photo", PNG, "tweede")])
    updates = await ok(http, "getUpdates")
    kinds = [next(k for k in u if k != "update_id") for u in updates]
    assert kinds == ["message", "edited_message"] + ["message"] * 6
    assert updates[1]["edited_message"]["text"] == "daarna"
    assert updates[2]["message"]["voice"]["duration"] == 3
    assert updates[4]["message"]["location"] == {"latitude": 52.1, "longitude": 5.1}
    assert updates[5]["message"]["contact"]["user_id"] == 5001
    assert album[0]["media_group_id"] == album[1]["media_group_id"]
    assert_results_match_spec(emu)
    for update in updates:
        assert emu.spec.check_object("Update", update) == [], update


async def test_other_methods_answer_valid_objects(emu, http):
    alice = started_user(emu)
    raad = emu.group(-4001, title="Basisgroep")
    assert raad.chat.type == "group"
    info = await ok(http, "getChat", chat_id=5001)
    assert (info["type"], info["first_name"], info["username"]) == ("private", "Alice", "u5001")
    assert (await ok(http, "getChat", chat_id=-4001))["title"] == "Basisgroep"
    assert await refused(http, "setWebhook", url="http://insecure.example") == (
        400,
        "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
    )
    await ok(http, "setWebhook", url="https://meld.example.nl/hook")
    assert (await ok(http, "getWebhookInfo"))["url"] == "https://meld.example.nl/hook"
    status, _ = await refused(http, "getUpdates")
    assert status == 409
    await ok(http, "deleteWebhook", drop_pending_updates=True)
    uploads = {
        "sendAudio": ("audio", ("lied.mp3", b"ID3" * 30, "audio/mpeg")),
        "sendVideo": ("video", ("v.mp4", b"\0\0\0 ftyp" * 30, "video/mp4")),
        "sendAnimation": ("animation", ("a.mp4", b"\0\0\0 ftyp" * 20, "video/mp4")),
        "sendVideoNote": ("video_note", ("n.mp4", b"\0\0\0 ftyp" * 10, "video/mp4")),
        "sendSticker": ("sticker", ("s.webp", b"RIFF0000WEBP" * 5, "image/webp")),
    }
    for method, (field, part) in uploads.items():
        message = await ok(http, method, chat_id=5001, _files={field: part})
        assert message[field]["file_size"] == len(part[1])
        assert emu.chat(5001).last_bot_message.media_type == field
    await ok(http, "sendLocation", chat_id=5001, latitude=52.09, longitude=5.12)
    assert await ok(http, "sendChatAction", chat_id=5001, action="upload_document") is True
    assert alice.chat.actions == ["upload_document"]
    mine = await alice.send("doorsturen")
    forwarded = await ok(http, "forwardMessage", chat_id=5001, from_chat_id=5001, message_id=mine.message_id)
    assert forwarded["forward_origin"]["sender_user"]["id"] == 5001
    await ok(http, "getMyName")
    await ok(http, "logOut")
    await ok(http, "close")
    assert await ok(http, "setMessageReaction", chat_id=5001, message_id=mine.message_id) is True
    assert emu.unhandled_methods == ["setMessageReaction"]
    assert emu.spec_violations == []
    assert_results_match_spec(emu)


async def test_ptb_defaults_parameters_are_tolerated_like_telegram(emu):
    """PTB's Defaults add parse_mode & co. to every send method; Telegram ignores extras."""
    from telegram.ext import Defaults, ExtBot

    alice = emu.user(5001, first_name="Alice", started=True)
    mine = await alice.send("doorsturen")
    bot = ExtBot(
        emu.token,
        base_url=emu.api_base_url,
        base_file_url=emu.file_base_url,
        defaults=Defaults(parse_mode=ParseMode.HTML, protect_content=True),
    )
    async with bot:
        await bot.send_message(5001, "<b>vet</b>")
        await bot.forward_message(5001, 5001, mine.message_id)
        await bot.send_location(5001, 52.09, 5.12)
    assert emu.spec_violations == []
    assert emu.tolerated_params == [
        "forwardMessage: unknown parameter 'parse_mode'='HTML'",
        "sendLocation: unknown parameter 'parse_mode'='HTML'",
    ]
    assert all(m.protect_content for m in alice.chat.bot_messages)


# ---------------------------------------------------------------------------- webhooks
class Receiver:
    """A bot's webhook endpoint on loopback: records each POST and answers what the test says."""

    def __init__(self) -> None:
        self.posts: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.statuses: dict[int, list[int]] = {}  # chat id -> answered in turn; 200 once used up
        self.hold: dict[int, asyncio.Event] = {}  # chat id -> answer only once set
        self.arrived = asyncio.Event()
        self._runner: Any = None
        self.port = 0

    async def _handle(self, request: Any) -> Any:
        from aiohttp import web

        update = await request.json()
        self.posts.append((dict(request.headers), update))
        self.arrived.set()
        chat = update.get("message", {}).get("chat", {}).get("id")
        if chat in self.hold:
            await self.hold[chat].wait()
        waiting = self.statuses.get(chat) or [200]
        status = waiting.pop(0)
        return web.Response(status=status)

    async def start(self, port: int = 0) -> str:
        from aiohttp import web

        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port or self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}/hook"

    async def stop(self) -> None:
        await self._runner.cleanup()

    def texts(self) -> list[str]:
        return [update["message"]["text"] for _, update in self.posts if "message" in update]

    async def wait_for(self, count: int, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.posts) < count:
                self.arrived.clear()
                await self.arrived.wait()


@pytest.fixture
async def hooked():
    """An emulator that may post to http:// on loopback (like telegram-bot-api --local), retrying quickly."""
    async with BotApiEmulator(token=TOKEN, local_mode=True, webhook_retry=(0.01, 0.05)) as emulator:
        async with httpx.AsyncClient(base_url=emulator.base_url, timeout=10) as client:
            yield emulator, client


async def test_set_webhook_refuses_what_telegram_refuses(emu, http):
    assert await refused(http, "setWebhook", url="http://meld.example.nl/hook") == (
        400,
        "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
    )
    assert await refused(http, "setWebhook", url="https://meld.example.nl:8080/hook") == (
        400,
        "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
    )
    assert await refused(http, "setWebhook", url="https://meld.example.nl/hook", secret_token="geen spaties") == (
        400,
        "Bad Request: secret token contains unallowed characters",
    )
    assert await refused(http, "setWebhook", url="https://meld.example.nl/hook", secret_token="a" * 257) == (
        400,
        "Bad Request: secret token is too long",
    )
    await ok(http, "setWebhook", url="https://meld.example.nl:8443/hook", secret_token="Geheim_123-abc")
    info = await ok(http, "getWebhookInfo")
    assert (info["url"], info["max_connections"], info["pending_update_count"]) == (
        "https://meld.example.nl:8443/hook",
        40,
        0,
    )
    await ok(http, "deleteWebhook")
    assert (await ok(http, "getWebhookInfo"))["url"] == ""
    assert_results_match_spec(emu)


async def test_updates_are_posted_in_order_with_the_secret_until_answered(hooked):
    emu, http = hooked
    receiver = Receiver()
    url = await receiver.start()
    try:
        await ok(http, "setWebhook", url=url, secret_token="Geheim_123-abc", allowed_updates=["message"])
        status, body = await call(http, "getUpdates")
        assert (status, body["description"]) == (
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
        alice = emu.user(5001, first_name="Alice")
        for text in ("een", "twee", "drie"):
            await alice.send(text)
        await emu.wait_until_consumed()
        assert receiver.texts() == ["een", "twee", "drie"]
        headers, update = receiver.posts[0]
        assert headers["X-Telegram-Bot-Api-Secret-Token"] == "Geheim_123-abc"
        assert headers["Content-Type"] == "application/json"
        assert update["message"]["from"]["first_name"] == "Alice"
        info = await ok(http, "getWebhookInfo")
        assert (info["pending_update_count"], info["allowed_updates"]) == (0, ["message"])
        assert "last_error_message" not in info
        assert_results_match_spec(emu)
    finally:
        await receiver.stop()


async def test_a_refused_update_is_retried_and_holds_back_its_chat_but_not_others(hooked):
    emu, http = hooked
    receiver = Receiver()
    url = await receiver.start()
    try:
        await ok(http, "setWebhook", url=url)
        receiver.statuses = {5001: [500, 403]}
        alice, bob = emu.user(5001, first_name="Alice"), emu.user(5002, first_name="Bob")
        await alice.send("a1")
        await alice.send("a2")
        await bob.send("b1")
        await emu.wait_until_consumed()
        texts = receiver.texts()
        assert texts.count("a1") == 3 and texts.count("a2") == 1 and texts.count("b1") == 1
        assert texts.index("a2") > max(i for i, t in enumerate(texts) if t == "a1")  # a2 waited for a1's 2xx
        assert texts.index("b1") < texts.index("a2")  # Bob's chat did not wait for Alice's
        info = await ok(http, "getWebhookInfo")
        assert info["last_error_message"] == "Wrong response from the webhook: 403 Forbidden"
        assert info["last_error_date"] == pytest.approx(time.time(), abs=5)
    finally:
        await receiver.stop()


async def test_while_the_bot_is_down_updates_wait_and_arrive_when_it_is_back(hooked):
    emu, http = hooked
    receiver = Receiver()
    url = await receiver.start()
    await receiver.stop()
    await ok(http, "setWebhook", url=url)
    alice = emu.user(5001, first_name="Alice")
    await alice.send("terwijl je weg was")
    async with asyncio.timeout(5):
        while not emu.webhook.attempts:
            await asyncio.sleep(0.01)
    info = await ok(http, "getWebhookInfo")
    assert (info["pending_update_count"], info["last_error_message"]) == (1, "Connection refused")
    await receiver.start()
    try:
        await emu.wait_until_consumed()
        assert receiver.texts() == ["terwijl je weg was"]
    finally:
        await receiver.stop()


async def test_a_lost_answer_means_the_same_update_arrives_twice(hooked):
    """The bot handled it, its 2xx never reached Telegram: Telegram posts it again, same update_id."""
    emu, http = hooked
    receiver = Receiver()
    url = await receiver.start()
    try:
        await ok(http, "setWebhook", url=url)
        emu.inject_fault("@webhook", kind="drop", after=True)
        emu.inject_fault(status=500)  # a fault for the bot's own requests never touches deliveries
        await emu.user(5001, first_name="Alice").send("nog een keer")
        await emu.wait_until_consumed()
        ids = [update["update_id"] for _, update in receiver.posts]
        assert len(ids) == 2 and ids[0] == ids[1]
        assert [status for _, status in emu.webhook.attempts] == [200, 200]
    finally:
        await receiver.stop()


async def test_delete_webhook_hands_the_queue_back_to_get_updates(hooked):
    emu, http = hooked
    receiver = Receiver()
    url = await receiver.start()
    receiver.hold[5001] = asyncio.Event()
    try:
        await ok(http, "setWebhook", url=url)
        alice = emu.user(5001, first_name="Alice")
        await alice.send("vast")
        await receiver.wait_for(1)
        await ok(http, "deleteWebhook")
        receiver.statuses = {5001: [500]}
        receiver.hold[5001].set()  # the held delivery fails and is not tried again: no webhook any more
        await alice.send("daarna")
        assert [u["message"]["text"] for u in await ok(http, "getUpdates")] == ["vast", "daarna"]
        await ok(http, "setWebhook", url=url, drop_pending_updates=True)
        assert (await ok(http, "getWebhookInfo"))["pending_update_count"] == 0
        assert receiver.texts() == ["vast"]
    finally:
        await receiver.stop()


async def test_a_webhook_elsewhere_is_never_contacted(hooked):
    emu, http = hooked
    await ok(http, "setWebhook", url="https://meld.example.nl/hook")
    await emu.user(5001, first_name="Alice").send("blijft hier")
    async with asyncio.timeout(5):
        while not emu.webhook.attempts:
            await asyncio.sleep(0.01)
    info = await ok(http, "getWebhookInfo")
    assert info["last_error_message"] == "Failed to resolve host: Name or service not known"
    assert info["pending_update_count"] == 1


async def test_redeliver_serves_an_update_again_after_a_lost_confirmation(emu, http):
    alice = emu.user(5001, first_name="Alice")
    await alice.send("een")
    await alice.send("twee")
    first = await ok(http, "getUpdates")
    await ok(http, "getUpdates", offset=first[-1]["update_id"] + 1)
    assert emu.pending_updates == 0
    emu.redeliver(first[0]["update_id"])  # the bot crashed before its confirmation arrived
    again = await ok(http, "getUpdates")
    assert again == [first[0]]
