"""The demo page and its small API, served on 127.0.0.1 by aiohttp.

``GET /`` the page; ``/static/...`` its script and style; ``GET /api/texts`` the page's
words; ``GET /api/state`` every phone's chat as Telegram would show it (text with its
entities, inline keyboards, photos and files, edits; deleted messages gone), the
commands menu, the demo time and what is due next; ``GET /api/events`` server-sent
events whenever any of that changes; ``POST /api/send``, ``/api/press``, ``/api/upload``
what a person does on a phone; ``POST /api/clock`` moving time forward; ``GET
/api/file/{file_id}`` a photo or file.

The page loads nothing from the internet (the Content-Security-Policy says so to the
browser, too). Requests must name this host (so another web site cannot reach the demo
through DNS tricks), and every POST carries a header no other site's page can send
without the browser asking first.
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from bot.demo.cast import BY_KEY, CAST, Persona
from bot.demo.texts import PAGE_TEXTS
from bot.emulator import ChatMessage

if TYPE_CHECKING:
    from bot.demo.run import DemoRun

STATIC = {"app.js": "text/javascript", "app.css": "text/css"}
POST_HEADER = "X-Meldbot-Demo"
MAX_UPLOAD = 20 * 1024 * 1024  # what a bot may download from Telegram
CLOCK_STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
PRESS_WAIT = 10.0
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self';"
        " base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_IMAGE_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF8", "image/gif"),
)


def image_type(data: bytes) -> str | None:
    """The image type the bytes really are (never trusting a name or a claimed type), or None."""
    for magic, mime in _IMAGE_MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _page_file(name: str) -> bytes:
    return resources.files("bot.demo").joinpath("static", name).read_bytes()


class DemoSite:
    def __init__(self, demo: DemoRun, host: str, port: int) -> None:
        self._demo = demo
        self.host = host
        self.port: int | None = None
        self._requested_port = port
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        app = web.Application(middlewares=[self._guard], client_max_size=MAX_UPLOAD + 64 * 1024)
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/favicon.ico", self._no_icon)
        app.router.add_get("/api/texts", self._texts)
        app.router.add_get("/api/state", self._state)
        app.router.add_get("/api/events", self._events)
        app.router.add_get("/api/file/{file_id}", self._file)
        app.router.add_post("/api/send", self._send)
        app.router.add_post("/api/press", self._press)
        app.router.add_post("/api/upload", self._upload)
        app.router.add_post("/api/clock", self._clock)
        self._app = app

    async def start(self) -> None:
        # Short: open event streams are cut at shutdown instead of being waited for.
        runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            raise OSError(f"the demo cannot listen on {self.host}:{self._requested_port}: {error.strerror}") from None
        server = site._server  # the asyncio Server; aiohttp exposes no public accessor
        assert isinstance(server, asyncio.Server) and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        self._runner = runner

    async def stop(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- guard ----------------------------------------------------------------------------
    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        allowed = {f"{self.host}:{self.port}", f"localhost:{self.port}"}
        if request.host not in allowed:
            return web.Response(status=403, text="This demo answers only at its own address.")
        if request.method == "POST" and request.headers.get(POST_HEADER) != "1":
            return web.Response(status=403, text="Only the demo page can do that.")
        response = await handler(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    # -- the page ---------------------------------------------------------------------------
    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(body=_page_file("index.html"), content_type="text/html", charset="utf-8")

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return web.Response(body=_page_file(name), content_type=STATIC[name], charset="utf-8")

    async def _no_icon(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _texts(self, request: web.Request) -> web.Response:
        return web.json_response(PAGE_TEXTS)

    # -- what the phones show ------------------------------------------------------------------
    async def _state(self, request: web.Request) -> web.Response:
        demo = self._demo
        assert demo.emulator is not None and demo.meldbot is not None
        due = await demo.due_next()
        body = {
            "version": demo.emulator.world_version,
            "now": demo.clock.now().timestamp(),
            "zone": demo.meldbot.settings.timezone,
            "bot_name": demo.emulator.bot_first_name,
            "due": [{"kind": d.kind, "source": d.source, "at": d.due.timestamp()} for d in due],
            "phones": [self._phone(persona) for persona in CAST],
        }
        return web.json_response(body)

    def _phone(self, persona: Persona) -> dict[str, Any]:
        emulator = self._demo.emulator
        assert emulator is not None
        chat = emulator.chat(persona.telegram_id)
        return {
            "key": persona.key,
            "name": persona.name,
            "role": persona.role,
            "language": persona.language,
            "shown": persona.shown,
            "messages": [_message(m) for m in chat.messages],
            "bot_messages": len(chat.bot_messages),
            "commands": self._commands(persona),
        }

    def _commands(self, persona: Persona) -> list[dict[str, str]]:
        """The menu as a Telegram app resolves it: this chat's, then all private chats', then the default."""
        emulator = self._demo.emulator
        assert emulator is not None
        scopes: list[dict[str, Any]] = [
            {"type": "chat", "chat_id": persona.telegram_id},
            {"type": "all_private_chats"},
            {"type": "default"},
        ]
        for scope in scopes:
            for language in (persona.language, ""):
                commands = emulator.commands(scope, language)
                if commands:
                    return commands
        return []

    async def _events(self, request: web.Request) -> web.StreamResponse:
        emulator = self._demo.emulator
        assert emulator is not None
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", **SECURITY_HEADERS})
        await response.prepare(request)
        seen = -1
        try:
            while not self._closing.is_set():
                version = await emulator.wait_for_change(seen, 15.0)
                if version == seen:
                    await response.write(b": still here\n\n")
                    continue
                seen = version
                await response.write(f"data: {version}\n\n".encode())
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response

    async def _file(self, request: web.Request) -> web.Response:
        emulator = self._demo.emulator
        assert emulator is not None
        try:
            stored = emulator.file(request.match_info["file_id"])
        except KeyError:
            raise web.HTTPNotFound() from None
        mime = image_type(stored.data)
        if mime is not None:
            return web.Response(body=stored.data, content_type=mime)
        # Anything else is only ever downloaded, never shown by the browser in the page's name.
        name = (stored.file_name or "bestand").replace('"', "")
        return web.Response(
            body=stored.data,
            content_type="application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    # -- what a person does -------------------------------------------------------------------------
    async def _person(self, request: web.Request) -> tuple[Any, dict[str, Any]]:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise web.HTTPBadRequest(text="JSON expected") from None
        key = body.get("phone") if isinstance(body, dict) else None
        persona = BY_KEY.get(key) if isinstance(key, str) else None
        if persona is None:
            raise web.HTTPBadRequest(text="unknown phone")
        assert self._demo.emulator is not None
        return self._demo.emulator.user(persona.telegram_id), body

    async def _send(self, request: web.Request) -> web.Response:
        user, body = await self._person(request)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > 4096:
            raise web.HTTPBadRequest(text="a message of 1 to 4096 characters")
        await user.send(text.strip())
        return web.json_response({"ok": True})

    async def _press(self, request: web.Request) -> web.Response:
        user, body = await self._person(request)
        message_id, data = body.get("message_id"), body.get("data")
        if not isinstance(message_id, int) or not isinstance(data, str) or user.chat.get(message_id) is None:
            raise web.HTTPBadRequest(text="no such button")
        answer = await user.press_data(message_id, data, timeout=PRESS_WAIT)
        if answer is None:
            return web.json_response({"ok": False})
        return web.json_response({"ok": True, "toast": answer.text, "alert": answer.show_alert})

    async def _upload(self, request: web.Request) -> web.Response:
        fields: dict[str, Any] = {}
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                fields["file"] = (part.filename, part.headers.get("Content-Type"), await part.read())
            else:
                fields[part.name] = await part.text()
        persona = BY_KEY.get(str(fields.get("phone", "")))
        upload = fields.get("file")
        if persona is None or upload is None or not upload[2]:
            raise web.HTTPBadRequest(text="a phone and a file")
        assert self._demo.emulator is not None
        user = self._demo.emulator.user(persona.telegram_id)
        file_name, claimed_type, data = upload
        caption = (fields.get("caption") or "").strip() or None
        if image_type(bytes(data)) in ("image/jpeg", "image/png"):
            await user.send_photo(bytes(data), caption=caption)  # Telegram apps send pictures as photos
        else:
            await user.send_document(
                bytes(data),
                file_name=file_name[:100] or "bestand",
                mime_type=claimed_type or "application/octet-stream",
                caption=caption,
            )
        return web.json_response({"ok": True})

    async def _clock(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise web.HTTPBadRequest(text="JSON expected") from None
        step = body.get("step") if isinstance(body, dict) else None
        if step == "next":
            moved = await self._demo.advance_to_next()
        elif step in CLOCK_STEPS:
            await self._demo.advance(CLOCK_STEPS[step])
            moved = True
        else:
            raise web.HTTPBadRequest(text="step: hour, day, week or next")
        return web.json_response({"ok": moved, "now": self._demo.clock.now().timestamp()})


def _message(message: ChatMessage) -> dict[str, Any]:
    """One message as the page draws it: the text and its entities, never HTML."""
    media = None
    if message.media_type in ("photo", "document", "voice", "audio", "video", "video_note") and message.file_id:
        media = {
            "kind": message.media_type,
            "url": f"/api/file/{message.file_id}",
            "name": message.file_name,
            "image": message.media_type == "photo" or _is_image(message),
        }
    keyboard = []
    if message.reply_markup and "inline_keyboard" in message.reply_markup:
        for row in message.reply_markup["inline_keyboard"]:
            keyboard.append(
                [
                    {"text": button.get("text", ""), "data": button.get("callback_data"), "url": button.get("url")}
                    for button in row
                    if isinstance(button, dict)
                ]
            )
    return {
        "id": message.message_id,
        "from_bot": message.from_bot,
        "date": message.date,
        "text": message.text,
        "entities": message.entities,
        "media": media,
        "keyboard": keyboard,
        "edited": bool(message.edited),
        "protected": message.protect_content,
    }


def _is_image(message: ChatMessage) -> bool:
    return message.file_bytes is not None and image_type(message.file_bytes) is not None
