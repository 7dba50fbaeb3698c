"""``meldbot demo``: its page and API, driven over HTTP on loopback (the browser test drives the page itself).

The demo runs the real bot against the built-in emulator; these tests act through the
same endpoints the page uses, and watch the phones through the emulator's simulated users.
"""

from __future__ import annotations

import asyncio
import re
import socket
from datetime import timedelta
from importlib import resources

import aiohttp
import pytest

import messages
from bot.cli import main
from bot.demo.cast import BY_KEY, CAST
from bot.demo.run import DemoRun
from bot.demo.texts import PAGE_TEXTS
from flows.aftercare import KINDS as AFTERCARE_KINDS
from flows.escalation import KINDS as ESCALATION_KINDS
from tests.test_e2e_report import file_report, reference_in

pytestmark = pytest.mark.e2e

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SANNE = BY_KEY["reporter"].telegram_id
VERA = BY_KEY["counsellor"].telegram_id
INGRID = BY_KEY["second_counsellor"].telegram_id


@pytest.fixture
async def demo():
    async with DemoRun(port=0) as running:
        yield running


@pytest.fixture
async def page(demo):
    """The page's side: its address, and the header every POST of the page carries."""
    async with aiohttp.ClientSession(demo.url.rstrip("/"), headers={"X-Meldbot-Demo": "1"}) as http:
        yield http


async def state(page) -> dict:
    async with page.get("/api/state") as response:
        assert response.status == 200
        return await response.json()


def phone(body: dict, key: str) -> dict:
    return next(p for p in body["phones"] if p["key"] == key)


def button_data(message: dict, label: str) -> str:
    return next(b["data"] for row in message["keyboard"] for b in row if b["text"] == label)


# ---------------------------------------------------------------------------- the page itself
async def test_the_page_loads_nothing_from_the_internet(page):
    async with page.get("/") as response:
        assert response.status == 200
        html = await response.text()
        policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert all(ref.startswith("/") for ref in re.findall(r'(?:src|href)="([^"]*)"', html))
    static = resources.files("bot.demo").joinpath("static")
    assert (
        "url(" not in static.joinpath("app.css").read_text() and "@import" not in static.joinpath("app.css").read_text()
    )
    script = static.joinpath("app.js").read_text()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script and "eval(" not in script
    for call in re.findall(r"(?:fetch|EventSource|post)\(([^,)]*)", script):
        assert call.startswith(('"/', "path")), call
    for name in ("app.js", "app.css"):
        async with page.get(f"/static/{name}") as response:
            assert response.status == 200
    async with page.get("/static/../run.py") as response:
        assert response.status == 404


async def test_the_demo_answers_only_on_loopback_and_only_to_its_own_page(demo, page):
    assert demo.site.host == "127.0.0.1"
    async with page.get("/api/state", headers={"Host": "meldbot.example"}) as response:
        assert response.status == 403  # another name pointing here (DNS rebinding) gets nothing
    async with aiohttp.ClientSession() as stranger:  # a form on another web site cannot add the header
        async with stranger.post(f"{demo.url}api/send", json={"phone": "reporter", "text": "/start"}) as response:
            assert response.status == 403
    await asyncio.sleep(0.2)
    assert demo.emulator.chat(SANNE).messages == []


async def test_three_phones_to_begin_with_and_the_staff_have_pressed_start(page):
    body = await state(page)
    assert [p["key"] for p in body["phones"] if p["shown"]] == ["reporter", "counsellor", "coordinator"]
    assert {p["key"] for p in body["phones"]} == {persona.key for persona in CAST}
    vera = phone(body, "counsellor")
    assert vera["name"] == "Vera de Vries"
    welcome = vera["messages"][-1]
    assert welcome["from_bot"] and "vertrouwenspersoon voor medewerkers" in welcome["text"]  # her role's welcome
    assert {"type": "bold", "offset": welcome["entities"][0]["offset"], "length": welcome["entities"][0]["length"]} in (
        welcome["entities"]
    )
    assert "<b>" not in welcome["text"]  # text and entities, never HTML
    assert [c["command"] for c in vera["commands"]][:2] == ["inbox", "case"]
    assert [c["command"] for c in phone(body, "english_reporter")["commands"]][0] == "start"
    assert phone(body, "english_reporter")["commands"][1]["description"] == "Make a report"
    assert phone(body, "reporter")["messages"] == []  # a reporter begins with Telegram's START button


async def test_typing_pressing_and_attaching_work_as_in_telegram(demo, page):
    sanne = demo.emulator.user(SANNE)
    async with page.post("/api/send", json={"phone": "reporter", "text": "/start"}) as response:
        assert response.status == 200
    welcome = await sanne.next_screen(lambda m: "112" in m.text)
    report_button = messages.plain("nl", "button.report")
    body = await state(page)
    shown = next(m for m in phone(body, "reporter")["messages"] if m["id"] == welcome.message_id)
    async with page.post(
        "/api/press",
        json={"phone": "reporter", "message_id": welcome.message_id, "data": button_data(shown, report_button)},
    ) as response:
        assert (await response.json())["ok"] is True
    await sanne.next_screen(lambda m: "Wat is er gebeurd?" in m.text)
    await sanne.press(messages.plain("nl", "forms.threat"))
    await sanne.next_screen(lambda m: "Wanneer gebeurde het?" in m.text)
    await sanne.press(messages.plain("nl", "when.today"))
    await sanne.next_screen(lambda m: "Op welke manier gebeurde het?" in m.text)
    await sanne.press(messages.plain("nl", "channel.in_person"))
    await sanne.next_screen(lambda m: "eigen woorden" in m.text)

    form = aiohttp.FormData()
    form.add_field("phone", "reporter")
    form.add_field("caption", "De kras op mijn auto")
    form.add_field("file", PNG, filename="kras.png", content_type="image/png")
    async with page.post("/api/upload", data=form) as response:
        assert response.status == 200
    await sanne.next_screen(lambda m: "Bewaard" in m.text)
    form = aiohttp.FormData()
    form.add_field("phone", "reporter")
    form.add_field("file", b"Hij stuurde dit bericht.", filename="mail.txt", content_type="text/plain")
    async with page.post("/api/upload", data=form) as response:
        assert response.status == 200
    await sanne.next_screen(lambda m: "Bewaard" in m.text)

    mine = [m for m in phone(await state(page), "reporter")["messages"] if not m["from_bot"] and m["media"]]
    photo, document = mine
    assert (photo["media"]["kind"], photo["media"]["image"], photo["text"]) == ("photo", True, "De kras op mijn auto")
    async with page.get(photo["media"]["url"]) as response:
        assert response.headers["Content-Type"] == "image/png" and await response.read() == PNG
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert (document["media"]["kind"], document["media"]["name"], document["media"]["image"]) == (
        "document",
        "mail.txt",
        False,
    )
    async with page.get(document["media"]["url"]) as response:
        assert response.headers["Content-Type"] == "application/octet-stream"  # downloaded, never shown
        assert response.headers["Content-Disposition"] == 'attachment; filename="mail.txt"'
    async with page.get("/api/file/not-a-file") as response:
        assert response.status == 404
    async with page.post("/api/send", json={"phone": "nobody", "text": "hallo"}) as response:
        assert response.status == 400
    async with page.post("/api/press", json={"phone": "reporter", "message_id": 999, "data": "x"}) as response:
        assert response.status == 400


async def test_a_press_answered_with_a_toast_returns_it(demo, page):
    vera = demo.emulator.user(VERA)
    sanne = demo.emulator.user(SANNE)
    reference = reference_in(await file_report(sanne))
    report = await vera.next_screen(lambda m: reference in m.text)
    acknowledge = messages.plain("nl", "staff.button.acknowledge")
    data = next(d for label, d in report.buttons if label == acknowledge)
    async with page.post("/api/press", json={"phone": "counsellor", "message_id": report.message_id, "data": data}):
        pass
    await sanne.next_screen(lambda m: "gelezen" in m.text)
    # The old button pressed again: the bot answers with a toast, which the page shows.
    async with page.post(
        "/api/press", json={"phone": "counsellor", "message_id": report.message_id, "data": data}
    ) as response:
        answer = await response.json()
    assert answer == {"ok": True, "toast": messages.plain("nl", "toast.acknowledged_by_you"), "alert": False}


async def test_messages_the_bot_deletes_disappear_from_the_phone(demo, page):
    sanne = demo.emulator.user(SANNE)
    await file_report(sanne)
    before = [m["id"] for m in phone(await state(page), "reporter")["messages"]]
    await sanne.press(messages.plain("nl", "button.cleanup"))
    async with asyncio.timeout(5):
        while not sanne.chat.deleted_ids:
            await demo.emulator.wait_for_change(demo.emulator.world_version, 1.0)
    after = [m["id"] for m in phone(await state(page), "reporter")["messages"]]
    gone = set(before) - set(after)
    assert gone and gone <= demo.emulator.chat(SANNE).deleted_ids


async def test_moving_the_clock_brings_what_is_due_in_minutes(demo, page):
    sanne = demo.emulator.user(SANNE)
    reference = reference_in(await file_report(sanne))
    await demo.emulator.user(VERA).next_screen(lambda m: reference in m.text)
    body = await state(page)
    kinds = [d["kind"] for d in body["due"] if d["source"] == "scheduled"]
    assert "escalate_counsellors" in kinds and "check_in" in kinds
    before = body["now"]

    async with page.post("/api/clock", json={"step": "day"}) as response:
        assert (await response.json())["ok"] is True
    # Not acknowledged within 24 hours: the other counsellor of the group is asked to take it.
    ingrid = demo.emulator.user(INGRID)
    await ingrid.next_screen(lambda m: reference in m.text, timeout=15)
    body = await state(page)
    assert body["now"] - before >= timedelta(days=1).total_seconds()
    kinds = [d["kind"] for d in body["due"]]
    assert "escalate_counsellors" not in kinds and "escalate_coordinators" in kinds
    assert all(set(d) == {"kind", "source", "at"} for d in body["due"])  # kind and time, never content

    async with page.post("/api/clock", json={"step": "next"}) as response:
        assert (await response.json())["ok"] is True
    async with page.post("/api/clock", json={"step": "backwards"}) as response:
        assert response.status == 400


async def test_the_event_stream_announces_each_change(demo, page):
    async with page.get("/api/events") as events:
        assert events.headers["Content-Type"] == "text/event-stream"
        first = await events.content.readuntil(b"\n\n")
        await demo.emulator.user(SANNE).send("hallo")
        second = await events.content.readuntil(b"\n\n")
    assert int(second.split(b":")[1]) > int(first.split(b":")[1])


async def test_stopping_removes_the_database_and_key():
    demo = await DemoRun(port=0).start()
    folder = demo.folder
    assert (folder / "meldbot.db").exists() and (folder / "meldbot.key").exists()
    await demo.stop()
    assert not folder.exists()


async def test_an_installed_demo_runs_without_the_spec(tmp_path, monkeypatch):
    """Installed from a package there is no ../shared beside it: the emulator then skips the spec."""
    monkeypatch.setattr("bot.demo.run.DEFAULT_SPEC_PATH", tmp_path / "not-here.json")
    async with DemoRun(port=0) as bare:
        assert bare.emulator.spec is None
        sanne = bare.emulator.user(SANNE)
        await sanne.command("/start")
        await sanne.next_screen(lambda m: "112" in m.text)


def test_a_port_in_use_is_said_plainly(capsys, monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "false")  # main() opts in process-wide; keep that out of other tests
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["demo", "--port", str(port)]) == 1
    assert f"the demo cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_the_page_speaks_dutch_and_english_about_everything_it_shows():
    assert PAGE_TEXTS["nl"].keys() == PAGE_TEXTS["en"].keys()
    script = resources.files("bot.demo").joinpath("static", "app.js").read_text()
    named = set(re.findall(r'\bt\("([a-z_]+)"\)', script))
    named |= {f"forward_{step}" for step in ("hour", "day", "week", "next")}
    assert named and named <= PAGE_TEXTS["nl"].keys()
    for language in ("nl", "en"):
        texts = PAGE_TEXTS[language]
        assert all(f"role_{persona.role}" in texts for persona in CAST)
        assert all(f"due_{kind}" in texts for kind in (*AFTERCARE_KINDS, *ESCALATION_KINDS))
