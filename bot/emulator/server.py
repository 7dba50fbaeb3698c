"""The emulator process: HTTP server, request pipeline, update queue, inspection API.

:class:`BotApiEmulator` owns a loopback aiohttp server that speaks the Bot API wire
protocol exactly as python-telegram-bot uses it (``{base_url}{token}/{method}`` and
``{base_file_url}{token}/{file_path}``), so a real ``Application`` with real
``HTTPXRequest`` networking, long polling and ``JobQueue`` can run against it. It never
opens a connection to anything else.

Every request goes through one pipeline (``_handle_api``):

1. token check (401 ``Unauthorized``) and body decoding (query string, urlencoded form,
   multipart with file parts, or JSON – JSON values are re-encoded to strings, which
   is what the real server does, so all three encodings behave the same);
2. spec check (``spec.py``): unknown method → 404 ``Not Found``; missing/unknown/
   ill-typed parameters → 400; every such problem is appended to
   ``spec_violations`` so a healthy test can assert that list stays empty;
3. fault injection (``inject_fault``) – before the method runs, or after it (``after=
   True``: Telegram did it but the answer never arrived, the case that makes bots send
   duplicates);
4. optional flood control (``enforce_rate_limits``) answering 429 with retry_after;
5. the method itself (``methods.py``) – spec methods without an implementation answer
   ``True`` and are listed in ``unhandled_methods``;
6. recording in ``requests`` (method, decoded params, status, response, times).

Updates produced by simulated users (``actors.py``) go into one queue served by
``getUpdates`` with Telegram's semantics: ``offset`` confirms and drops, ``limit``,
``timeout`` long polling that wakes as soon as an update arrives, ``allowed_updates``
remembered between calls and applied when an update is created, and 409 Conflict for
a second concurrent poller. ``stop()`` answers pending long polls at once so that a
bot shutting down never hangs.

Per-request work is O(1) in the number of stored messages: chats are indexed by id,
messages by (chat, message_id), files by file_id and path.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
import traceback
import urllib.parse
from collections import defaultdict, deque
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.hdrs import CONTENT_TYPE

from .actors import SimChannel, SimGroup, SimUser
from .methods import MAX_DOWNLOAD, Call, MethodsMixin, PendingCallback
from .model import ApiError, ApiRequest, ChatState, ChatView, Fault, Notifier, RateLimits, StoredFile, TokenBucket
from .spec import DEFAULT_SPEC_PATH, ApiSpec, UploadedFile
from .webhook import WebhookDelivery

__all__ = ["BotApiEmulator"]

MAX_UPLOAD = 50 * 1024 * 1024
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_ERROR_TEXT = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_NOT_COUNTED_SENDS = frozenset({"sendChatAction", "sendMessageDraft", "sendRichMessageDraft"})
_SPEC_CACHE: dict[Path, ApiSpec] = {}
_UPDATE_HISTORY = 10_000  # updates kept for redeliver()
_INT_LOOK = re.compile(r"[+-]?\d+")
_FLOAT_LOOK = re.compile(r"[+-]?\d*\.\d+(?:[eE][+-]?\d+)?")
# python-telegram-bot's Bot._send_message fills these from ``telegram.ext.Defaults`` for
# every send-like method, also for methods that do not take them (forwardMessage,
# sendLocation, sendSticker, ...). Telegram ignores them, so the emulator lists them in
# ``tolerated_params`` instead of refusing the request.
PTB_DEFAULTS_PARAMS = frozenset({"parse_mode", "disable_notification", "protect_content", "link_preview_options"})


def load_spec(path: str | Path = DEFAULT_SPEC_PATH) -> ApiSpec:
    """Load (once per process) and return the Bot API spec at ``path``."""
    key = Path(path).resolve()
    if not key.is_file():
        raise FileNotFoundError(
            f"Bot API spec not found at {key}: check out the shared folder beside this repository"
            " (../shared/telegram/bot-api-10.1.json) or set MELDBOT_BOT_API_SPEC"
        )
    spec = _SPEC_CACHE.get(key)
    if spec is None:
        spec = _SPEC_CACHE[key] = ApiSpec(key)
    return spec


def _loose_params(args: dict[str, str], files: dict[str, UploadedFile]) -> dict[str, Any]:
    """Decoded parameters without a spec to say their types: numbers and JSON by their look.

    Methods read texts from the raw arguments, so a text that looks like a number is harmless here.
    """
    decoded: dict[str, Any] = {}
    for key, value in args.items():
        text = value.strip()
        if _INT_LOOK.fullmatch(text):
            decoded[key] = int(text)
        elif _FLOAT_LOOK.fullmatch(text):
            decoded[key] = float(text)
        elif text[:1] in ("{", "["):
            try:
                decoded[key] = json.loads(text)
            except ValueError:
                decoded[key] = value
        else:
            decoded[key] = value
    decoded.update(files)
    return decoded


class BotApiEmulator(MethodsMixin):
    """A local Telegram Bot API server for end-to-end tests. See the module docstring.

    Use as ``async with BotApiEmulator(...) as emu:`` or ``await emu.start()`` /
    ``await emu.stop()``. Point python-telegram-bot at ``emu.api_base_url`` and
    ``emu.file_base_url``.
    """

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "meldbot_test_bot",
        *,
        bot_first_name: str | None = None,
        spec_path: str | Path | None = DEFAULT_SPEC_PATH,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        enforce_rate_limits: bool = False,
        rate_limits: RateLimits | None = None,
        strict_html_entities: bool = True,
        reject_unknown_params: bool = True,
        text_length_unit: str = "codepoint",
        callback_answer_timeout: float = 15.0,
        privacy_mode: bool = True,
        default_timeout: float = 5.0,
        local_mode: bool = False,
        webhook_retry: tuple[float, float] = (0.05, 2.0),
        webhook_timeout: float = 10.0,
    ) -> None:
        head, sep, _ = token.partition(":")
        if not sep or not head.isdigit():
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.bot_id = int(head)
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name or bot_username
        # No spec (the demo, installed without ../shared): requests are not checked against it,
        # but every refusal the methods themselves make (HTML, lengths, button data, "not
        # modified") still applies. Tests always pass a path, and fail if it is missing.
        self.spec: ApiSpec | None = None if spec_path is None else load_spec(spec_path)
        self.host = host
        self._requested_port = port
        self._clock_fn = clock
        self._clock_offset = 0.0
        self.enforce_rate_limits = enforce_rate_limits
        self.rate_limits = rate_limits or RateLimits()
        self.strict_html_entities = strict_html_entities
        self.reject_unknown_params = reject_unknown_params
        if text_length_unit not in ("codepoint", "utf16"):
            raise ValueError("text_length_unit must be 'codepoint' or 'utf16'")
        self.text_length_unit = text_length_unit
        self.callback_answer_timeout = callback_answer_timeout
        self.privacy_mode = privacy_mode
        self.default_timeout = default_timeout
        # Like telegram-bot-api started with --local: webhooks may use http:// and any port.
        self.local_mode = local_mode

        # inspection state (public)
        self.requests: list[ApiRequest] = []
        self.spec_violations: list[str] = []
        self.tolerated_params: list[str] = []
        self.unhandled_methods: list[str] = []
        self.emulator_errors: list[str] = []
        self.faults: list[Fault] = []
        self.faults_served = 0
        self.rate_limit_hits = 0
        self.rate_limit_events: list[tuple[float, str, int | None]] = []
        self.file_downloads: list[str] = []
        self.filtered_updates: list[dict[str, Any]] = []

        # world state
        self._chats: dict[int, ChatState] = {}
        self._chats_by_username: dict[str, ChatState] = {}
        self._users: dict[int, SimUser] = {}
        self._actors: dict[int, SimGroup | SimChannel] = {}
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_counter = 0
        self._callbacks: dict[str, PendingCallback] = {}
        self._callback_counter = 0
        self._commands: dict[tuple[Any, ...], list[dict[str, str]]] = {}
        self._bot_texts: dict[tuple[str, str], str] = {}
        self._default_menu_button: dict[str, Any] | None = None

        # updates
        self._updates: deque[dict[str, Any]] = deque()
        self._update_history: dict[int, dict[str, Any]] = {}
        self._next_update_id = 100_000_001
        self._allowed_updates: frozenset[str] | None = None
        self._pollers: set[asyncio.Future[str]] = set()
        self._queue_notifier = Notifier()
        self._request_notifier = Notifier()
        self._world_notifier = Notifier()
        self.world_version = 0
        first_retry, max_retry = webhook_retry
        self.webhook = WebhookDelivery(
            self, first_retry=first_retry, max_retry=max_retry, timeout=webhook_timeout, clock=self.clock
        )

        # rate limiting and send log
        self._global_bucket: TokenBucket | None = None
        self._chat_buckets: dict[int, TokenBucket] = {}
        self._group_buckets: dict[int, TokenBucket] = {}
        self._send_times: dict[int, list[float]] = defaultdict(list)
        self._all_send_times: list[float] = []
        self._methods = self._method_table()
        self._methods["getUpdates"] = self._m_get_updates
        known = [m.name for m in self.spec.methods.values()] if self.spec is not None else list(self._methods)
        self._method_names = {name.lower(): name for name in known}
        counted = {name for name in known if name.startswith("send")}
        self._counted_methods = (counted - _NOT_COUNTED_SENDS) | {
            "copyMessage",
            "copyMessages",
            "forwardMessage",
            "forwardMessages",
        }
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._closing = False
        self._closed = asyncio.Event()
        self.port: int | None = None

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> BotApiEmulator:
        """Start listening on ``host`` (random free port unless one was given)."""
        if self._runner is not None:
            return self
        self._closing = False
        self._closed = asyncio.Event()
        app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{file_path:.*}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown_path)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        await site.start()
        server = site._server  # the asyncio Server; aiohttp exposes no public accessor
        assert isinstance(server, asyncio.Server) and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        self._runner, self._site = runner, site
        self.webhook.start()
        self._global_bucket = TokenBucket(
            self.rate_limits.global_burst, self.rate_limits.global_per_second, time.monotonic()
        )
        return self

    async def stop(self) -> None:
        """Answer pending long polls with [] and shut the server down."""
        if self._runner is None:
            return
        self._closing = True
        self._closed.set()
        for fut in list(self._pollers):
            if not fut.done():
                fut.set_result("closing")
        runner, self._runner, self._site = self._runner, None, None
        await self.webhook.stop()
        await runner.cleanup()

    async def __aenter__(self) -> BotApiEmulator:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the emulator is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        """For ``ApplicationBuilder.base_url``: PTB appends the token and ``/method``."""
        return f"{self.base_url}/bot"

    @property
    def file_base_url(self) -> str:
        """For ``ApplicationBuilder.base_file_url``."""
        return f"{self.base_url}/file/bot"

    # ------------------------------------------------------------------ clock
    def clock(self) -> float:
        """The emulator's now (unix seconds); message dates and ages use it."""
        return self._clock_fn() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator clock forward, making existing messages and queries older."""
        self._clock_offset += seconds

    # ------------------------------------------------------------------ world
    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        *,
        is_premium: bool = False,
        started: bool = False,
    ) -> SimUser:
        """Create (or return the existing) simulated user; also creates the private chat.

        ``started=True`` means the user has written to the bot before (pressed Start), so
        the bot may message them; otherwise the first bot message is refused with 403
        until the user sends something.
        """
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        if user_id <= 0:
            raise ValueError("user ids are positive")
        if user_id in self._chats:
            raise ValueError(f"id {user_id} is already used by a chat")
        state = ChatState(
            id=user_id,
            type="private",
            first_name=first_name,
            last_name=last_name,
            username=username,
            user_id=user_id,
            started=started,
        )
        user = SimUser(self, state, first_name, last_name, username, language_code, is_premium)
        self._chats[user_id] = state
        self._users[user_id] = user
        return user

    def group(
        self,
        chat_id: int,
        title: str = "Group",
        *,
        username: str | None = None,
        supergroup: bool | None = None,
        bot_is_admin: bool = False,
        privacy_mode: bool | None = None,
    ) -> SimGroup:
        """Create a group the bot is a member of. Ids starting with -100 are supergroups."""
        if chat_id >= 0:
            raise ValueError("group ids are negative")
        if supergroup is None:
            supergroup = str(chat_id).startswith("-100")
        state = self._add_chat(
            ChatState(
                id=chat_id,
                type="supergroup" if supergroup else "group",
                title=title,
                username=username,
                bot_is_admin=bot_is_admin,
                privacy_mode=self.privacy_mode if privacy_mode is None else privacy_mode,
            )
        )
        actor = SimGroup(self, state)
        self._actors[chat_id] = actor
        return actor

    def channel(
        self, chat_id: int, title: str = "Channel", *, username: str | None = None, bot_is_admin: bool = True
    ) -> SimChannel:
        """Create a channel; the bot is an administrator unless told otherwise."""
        if chat_id >= 0:
            raise ValueError("channel ids are negative")
        state = self._add_chat(
            ChatState(id=chat_id, type="channel", title=title, username=username, bot_is_admin=bot_is_admin)
        )
        actor = SimChannel(self, state)
        self._actors[chat_id] = actor
        return actor

    def _add_chat(self, state: ChatState) -> ChatState:
        if state.id in self._chats:
            raise ValueError(f"chat {state.id} already exists")
        self._chats[state.id] = state
        if state.username:
            self._chats_by_username[state.username.lower()] = state
        return state

    def chat(self, chat_id: int) -> ChatView:
        """A read-only view of any chat."""
        return ChatView(self._chats[chat_id])

    def file(self, file_id: str) -> StoredFile:
        """A stored file by file_id (KeyError if unknown)."""
        return self._files[file_id]

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, str]]:
        """Commands set for exactly this scope and language (like getMyCommands)."""
        call = Call("getMyCommands", {"language_code": language_code}, {})
        if scope is not None:
            call.args["scope"] = json.dumps(scope)
            call.params["scope"] = scope
        key = (self._command_scope_key(call), language_code)
        return [dict(c) for c in self._commands.get(key, [])]

    # ------------------------------------------------------------------ faults
    def inject_fault(
        self,
        method: str | None = None,
        status: int | None = None,
        *,
        retry_after: int | None = None,
        times: int | None = 1,
        chat_id: int | str | None = None,
        kind: str | None = None,
        seconds: float = 0.0,
        description: str | None = None,
        after: bool = False,
    ) -> Fault:
        """Make matching requests fail.

        ``method`` None matches every method except getUpdates; ``"@file"`` matches file
        downloads. ``kind``: "error" (answer ``status``; 429 carries ``retry_after``,
        default 1), "drop" (close the connection without an answer), "delay" (wait
        ``seconds`` and then answer normally, or with ``status`` if one is given).
        ``times`` None means forever. ``after=True`` runs the method first, so the
        effect happens although the bot sees a failure. Faults are consumed in the
        order they were injected.
        """
        if kind is None:
            kind = "error" if status is not None or seconds == 0 else "delay"
        if kind not in ("error", "drop", "delay"):
            raise ValueError("kind must be 'error', 'drop' or 'delay'")
        if kind == "error" and status is None:
            status = 500
        if status == 429 and retry_after is None:
            retry_after = 1
        fault = Fault(
            method=method,
            kind=kind,
            status=status or 0,
            retry_after=retry_after,
            seconds=seconds,
            times=times,
            chat_id=chat_id,
            description=description,
            after=after,
        )
        self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        self.faults.clear()

    def take_fault(self, method: str) -> Fault | None:
        """The next injected fault for ``method`` (e.g. "@webhook"), consumed; None if there is none."""
        return self._take_fault(method, None)

    def _take_fault(self, method: str, chat_id: str | None) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, chat_id):
                if fault.times is not None:
                    fault.times -= 1
                fault.served += 1
                self.faults_served += 1
                return fault
        return None

    def _fault_envelope(self, fault: Fault) -> tuple[int, dict[str, Any]]:
        status = fault.status
        if status == 429:
            err = ApiError(
                429,
                fault.description or f"Too Many Requests: retry after {fault.retry_after}",
                retry_after=fault.retry_after,
            )
        else:
            text = (
                fault.description
                or _ERROR_TEXT.get(status)
                or {
                    400: "Bad Request: injected fault",
                    401: "Unauthorized",
                    403: "Forbidden: injected fault",
                    409: "Conflict: injected fault",
                }.get(status, "Injected fault")
            )
            err = ApiError(status, text)
        return status, err.envelope()

    async def _sleep(self, seconds: float) -> None:
        """Sleep that ends early when the emulator stops."""
        try:
            await asyncio.wait_for(self._closed.wait(), seconds)
        except TimeoutError:
            pass

    # ------------------------------------------------------------------ HTTP
    async def _handle_unknown_path(self, request: web.Request) -> web.Response:
        return self._response(404, {"ok": False, "error_code": 404, "description": "Not Found"})

    @staticmethod
    def _response(status: int, envelope: dict[str, Any]) -> web.Response:
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return web.Response(body=body, status=status, content_type="application/json")

    async def _read_params(self, request: web.Request) -> tuple[dict[str, str], dict[str, UploadedFile]]:
        args: dict[str, str] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if not request.body_exists:
            return args, files
        ctype = request.content_type
        if ctype.startswith("multipart/"):
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    chunks = []
                    size = 0
                    while chunk := await part.read_chunk(256 * 1024):
                        size += len(chunk)
                        if size > MAX_UPLOAD:
                            raise ApiError(413, "Request Entity Too Large")
                        chunks.append(chunk)
                    files[part.name] = UploadedFile(
                        part.name, part.filename, part.headers.get(CONTENT_TYPE), b"".join(chunks)
                    )
                else:
                    args[part.name] = (await part.read()).decode("utf-8", "replace")
            return args, files
        raw = await request.read()
        if ctype == "application/json":
            if raw.strip():
                try:
                    obj = json.loads(raw)
                except ValueError:
                    raise ApiError(400, "Bad Request: can't parse JSON object") from None
                if not isinstance(obj, dict):
                    raise ApiError(400, "Bad Request: JSON object expected")
                for key, value in obj.items():
                    if value is None:
                        continue
                    args[key] = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            return args, files
        for key, value in urllib.parse.parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
            args[key] = value
        return args, files

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        stamp = self.clock()
        name = request.match_info["method"]
        if request.match_info["token"] != self.token:
            envelope = ApiError(401, "Unauthorized").envelope()
            self._record(name, {}, 401, envelope, stamp, started, None, None)
            return self._response(401, envelope)
        try:
            args, files = await self._read_params(request)
        except ApiError as exc:
            self._record(name, {}, exc.code, exc.envelope(), stamp, started, None, None)
            return self._response(exc.code, exc.envelope())
        except ConnectionResetError:
            # The client gave up while sending (a request cancelled as it stops): nothing arrived,
            # nothing is done, and there is nobody left to answer, as with Telegram.
            return web.Response(status=400)

        method = self._method_names.get(name.lower())
        if method is None:
            where = self.spec.version if self.spec is not None else "the methods the emulator implements"
            self.spec_violations.append(f"unknown method {name!r} (not in {where})")
            envelope = {"ok": False, "error_code": 404, "description": "Not Found"}
            self._record(name, dict(args), 404, envelope, stamp, started, None, None)
            return self._response(404, envelope)
        if self.spec is not None:
            spec = self.spec.method(method)
            assert spec is not None
            params, problems = self.spec.check_request(
                spec, args, files, reject_unknown=self.reject_unknown_params, tolerated=PTB_DEFAULTS_PARAMS
            )
        else:
            params, problems = _loose_params(args, files), []
        for problem in problems:
            (self.tolerated_params if problem.tolerated else self.spec_violations).append(problem.violation)
        chat_id = params.get("chat_id")
        raw_chat = args.get("chat_id")

        fault = self._take_fault(method, raw_chat)
        fault_label = f"{fault.kind}:{fault.status}" if fault is not None else None
        if fault is not None and not fault.after:
            if fault.kind == "drop":
                self._record(method, params, 0, None, stamp, started, chat_id, fault_label)
                return self._drop(request)
            if fault.kind == "delay":
                await self._sleep(fault.seconds)
            if fault.kind == "error" or fault.status:
                status, envelope = self._fault_envelope(fault)
                self._record(method, params, status, envelope, stamp, started, chat_id, fault_label)
                return self._response(status, envelope)

        refusal = next((p for p in problems if p.refuse), None)
        if refusal is not None:
            status, envelope = 400, ApiError(400, refusal.description).envelope()
        else:
            try:
                self._check_rate(method, raw_chat)
                handler = self._methods.get(method)
                if handler is None:
                    if method not in self.unhandled_methods:
                        self.unhandled_methods.append(method)
                    result: Any = True
                else:
                    result = await handler(Call(method, args, files, params))
                status, envelope = 200, {"ok": True, "result": result}
            except ApiError as exc:
                status, envelope = exc.code, exc.envelope()
            except Exception:  # a bug in the emulator must be loud, never a silent pass
                self.emulator_errors.append(f"{method}: {traceback.format_exc()}")
                status = 500
                envelope = {"ok": False, "error_code": 500, "description": "Internal Server Error"}

        if fault is not None and fault.after:
            if fault.kind == "drop":
                self._record(method, params, 0, None, stamp, started, chat_id, fault_label)
                return self._drop(request)
            if fault.kind == "delay":
                await self._sleep(fault.seconds)
            if fault.kind == "error" or fault.status:
                status, envelope = self._fault_envelope(fault)
        self._record(method, params, status, envelope, stamp, started, chat_id, fault_label)
        return self._response(status, envelope)

    @staticmethod
    def _drop(request: web.Request) -> web.Response:
        """Close the connection without answering; the client sees a protocol error."""
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=204)  # never written: the transport is already closed

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        stamp = self.clock()
        path = request.match_info["file_path"]
        if request.match_info["token"] != self.token:
            return self._response(401, ApiError(401, "Unauthorized").envelope())
        fault = self._take_fault("@file", None)
        if fault is not None:
            label = f"{fault.kind}:{fault.status}"
            if fault.kind == "drop":
                self._record("@file", {"file_path": path}, 0, None, stamp, started, None, label)
                return self._drop(request)
            if fault.kind == "delay":
                await self._sleep(fault.seconds)
            if fault.kind == "error" or fault.status:
                status, envelope = self._fault_envelope(fault)
                self._record("@file", {"file_path": path}, status, envelope, stamp, started, None, label)
                return self._response(status, envelope)
        sf = self._files_by_path.get(path)
        if sf is None or sf.size > MAX_DOWNLOAD:
            return self._response(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        self.file_downloads.append(path)
        return web.Response(body=sf.data, content_type=sf.mime_type or "application/octet-stream")

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        status: int,
        envelope: dict[str, Any] | None,
        stamp: float,
        started: float,
        chat_id: Any,
        fault: str | None,
    ) -> None:
        self.requests.append(
            ApiRequest(
                method=method,
                params=params,
                status=status,
                response=envelope,
                timestamp=stamp,
                monotonic=started,
                duration=time.monotonic() - started,
                chat_id=chat_id,
                fault=fault,
            )
        )
        self._request_notifier.notify()

    # ------------------------------------------------------------------ rate limits
    def _check_rate(self, method: str, raw_chat: str | None) -> None:
        if not self.enforce_rate_limits or method not in self._counted_methods:
            return
        now = time.monotonic()
        assert self._global_bucket is not None
        waits = [self._global_bucket.wait_time(now)]
        chat = self._lookup_chat(raw_chat) if raw_chat else None
        if chat is not None:
            waits.append(self._chat_bucket(chat.id).wait_time(now))
            if chat.type != "private":
                waits.append(self._group_bucket(chat.id).wait_time(now))
        wait = max(waits)
        if wait > 0:
            self.rate_limit_hits += 1
            self.rate_limit_events.append((now, method, chat.id if chat is not None else None))
            retry_after = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)

    def _chat_bucket(self, chat_id: int) -> TokenBucket:
        bucket = self._chat_buckets.get(chat_id)
        if bucket is None:
            rl = self.rate_limits
            bucket = self._chat_buckets[chat_id] = TokenBucket(
                rl.per_chat_burst, rl.per_chat_per_second, time.monotonic()
            )
        return bucket

    def _group_bucket(self, chat_id: int) -> TokenBucket:
        bucket = self._group_buckets.get(chat_id)
        if bucket is None:
            rl = self.rate_limits
            bucket = self._group_buckets[chat_id] = TokenBucket(
                rl.group_per_minute, rl.group_per_minute / 60.0, time.monotonic()
            )
        return bucket

    def _record_send(self, chat_id: int) -> None:
        now = time.monotonic()
        self._send_times[chat_id].append(now)
        self._all_send_times.append(now)
        if self.enforce_rate_limits and self._global_bucket is not None:
            self._global_bucket.wait_time(now)
            self._global_bucket.take()
            self._chat_bucket(chat_id).wait_time(now)
            self._chat_bucket(chat_id).take()
            if self._chats[chat_id].type != "private":
                self._group_bucket(chat_id).wait_time(now)
                self._group_bucket(chat_id).take()

    def send_times(self, chat_id: int | None = None) -> list[float]:
        """Monotonic times of successful bot sends, to one chat or overall."""
        return list(self._all_send_times if chat_id is None else self._send_times.get(chat_id, []))

    def peak_rate(self, chat_id: int | None = None, window: float = 1.0) -> int:
        """Most bot sends that fell within any ``window`` seconds."""
        times = self._all_send_times if chat_id is None else self._send_times.get(chat_id, [])
        best = 0
        lo = 0
        for hi, t in enumerate(times):
            while t - times[lo] >= window:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    # ------------------------------------------------------------------ updates
    def _update_allowed(self, kind: str) -> bool:
        if self._allowed_updates is None:
            return kind not in _DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    def enqueue_update(self, kind: str, payload: dict[str, Any]) -> int | None:
        """Queue an update of ``kind`` (e.g. "message"); None if allowed_updates filters it."""
        if not self._update_allowed(kind):
            self.filtered_updates.append({kind: payload})
            return None
        update_id = self._next_update_id
        self._next_update_id += 1
        update = {"update_id": update_id, kind: payload}
        self._updates.append(update)
        self._update_history[update_id] = update
        if len(self._update_history) > _UPDATE_HISTORY:
            del self._update_history[next(iter(self._update_history))]
        self._updates_arrived()
        return update_id

    def _updates_arrived(self) -> None:
        for fut in self._pollers:
            if not fut.done():
                fut.set_result("update")
        self.webhook.kick()

    def redeliver(self, update_id: int) -> None:
        """Queue an update again as if its confirmation never reached Telegram (the bot crashed first).

        With polling, the bot sees it again after a restart (a running bot's offset confirms
        it at once); with a webhook it is posted again.
        """
        update = self._update_history[update_id]
        if self.is_queued(update_id):
            return
        position = sum(1 for queued in self._updates if queued["update_id"] < update_id)
        self._updates.insert(position, update)
        self._updates_arrived()

    def queued_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed (getUpdates) or answered with a 2xx (webhook), oldest first."""
        return list(self._updates)

    def is_queued(self, update_id: int) -> bool:
        return any(update["update_id"] == update_id for update in self._updates)

    def remove_update(self, update_id: int) -> None:
        """The webhook answered 2xx: the update is delivered."""
        for update in self._updates:
            if update["update_id"] == update_id:
                self._updates.remove(update)
                self._queue_notifier.notify()
                return

    def enqueue_raw_update(self, fields: dict[str, Any]) -> int:
        """Queue an update exactly as given, unchecked: for updates a client cannot parse."""
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, **fields})
        for fut in self._pollers:
            if not fut.done():
                fut.set_result("update")
        return update_id

    def _confirm(self, offset: int) -> None:
        removed = False
        if offset > 0:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
                removed = True
        elif offset < 0:
            while len(self._updates) > -offset:
                self._updates.popleft()
                removed = True
        if removed:
            self._queue_notifier.notify()

    def _drop_pending_updates(self) -> None:
        self._updates.clear()
        self._queue_notifier.notify()

    def _pending_update_count(self) -> int:
        return len(self._updates)

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by the bot (delivered or not)."""
        return len(self._updates)

    async def _m_get_updates(self, c: Call) -> list[dict[str, Any]]:
        if self.webhook.settings is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        for poller in list(self._pollers):
            if not poller.done():
                poller.set_result("conflict")
        limit = c.int("limit", 100)
        limit = 100 if limit <= 0 else min(limit, 100)
        timeout = max(0, c.int("timeout"))
        if c.has("allowed_updates"):
            allowed = c.json("allowed_updates")
            if isinstance(allowed, list):
                self._allowed_updates = frozenset(str(a) for a in allowed) if allowed else None
        self._confirm(c.int("offset"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._updates:
                return list(islice(self._updates, limit))
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                return []
            fut: asyncio.Future[str] = loop.create_future()
            self._pollers.add(fut)
            try:
                reason = await asyncio.wait_for(fut, remaining)
            except TimeoutError:
                return []
            finally:
                self._pollers.discard(fut)
            if reason == "conflict":
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            if reason == "closing":
                return []

    # ------------------------------------------------------------------ watching the world
    def touch(self) -> None:
        """Something a viewer sees changed (a message stored, edited or deleted, a press answered)."""
        self.world_version += 1
        self._world_notifier.notify()

    async def wait_for_change(self, since: int, timeout: float) -> int:
        """The world version once it differs from ``since``, or ``since`` after ``timeout`` seconds."""
        if self.world_version == since:
            await self._world_notifier.wait(timeout)
        return self.world_version

    # ------------------------------------------------------------------ inspection
    def calls(
        self, method: str | None = None, *, chat_id: int | str | None = None, ok: bool | None = None
    ) -> list[ApiRequest]:
        """Recorded requests filtered by method (case-insensitive), chat and success."""
        low = method.lower() if method else None
        return [
            r
            for r in self.requests
            if (low is None or r.method.lower() == low)
            and (chat_id is None or str(r.chat_id) == str(chat_id))
            and (ok is None or r.ok == ok)
        ]

    def failed_requests(self, *, include_injected: bool = False) -> list[ApiRequest]:
        """Requests that did not succeed, except 409s of superseded long polls.

        Injected faults are left out unless ``include_injected``.
        """
        return [
            r
            for r in self.requests
            if not r.ok and not (r.method == "getUpdates" and r.status == 409) and (include_injected or r.fault is None)
        ]

    def assert_healthy(self, *, allow_failed_requests: bool = False) -> None:
        """Fail if the bot broke the spec, used unimplemented methods, or crashed us."""
        problems = []
        if self.spec_violations:
            problems.append("spec violations:\n  " + "\n  ".join(self.spec_violations))
        if self.unhandled_methods:
            problems.append(f"methods without emulator behaviour: {self.unhandled_methods}")
        if self.emulator_errors:
            problems.append("emulator errors:\n" + "\n".join(self.emulator_errors))
        if not allow_failed_requests:
            failed = self.failed_requests()
            if failed:
                problems.append("failed requests:\n  " + "\n  ".join(str(r) for r in failed[-20:]))
        if problems:
            raise AssertionError("\n".join(problems))

    async def wait_for_request(
        self,
        method: str,
        predicate: Callable[[ApiRequest], bool] | None = None,
        *,
        timeout: float | None = None,
        since: int = 0,
    ) -> ApiRequest:
        """Wait until a request to ``method`` (matching ``predicate``) has been answered.

        ``since`` is an index into ``requests`` to start looking from.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.default_timeout if timeout is None else timeout)
        index = since
        low = method.lower()
        while True:
            while index < len(self.requests):
                req = self.requests[index]
                index += 1
                if req.method.lower() == low and (predicate is None or predicate(req)):
                    return req
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = "\n  ".join(str(r) for r in self.requests[-15:] if r.method != "getUpdates")
                raise AssertionError(f"no {method} request within the timeout; recent requests:\n  {recent}")
            await self._request_notifier.wait(remaining)

    async def wait_until_consumed(self, timeout: float | None = None) -> None:
        """Wait until the bot has fetched and confirmed every queued update."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.default_timeout if timeout is None else timeout)
        while self._updates:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"{len(self._updates)} updates still unconfirmed by the bot")
            await self._queue_notifier.wait(remaining)

    # ------------------------------------------------------------------ callback queries
    def _new_callback(self, chat: ChatState, user_id: int, message_id: int, data: str) -> PendingCallback:
        self._callback_counter += 1
        query_id = str(4_000_000_000_000_000_000 + self.bot_id * 1_000_000 + self._callback_counter)
        pending = PendingCallback(
            query_id=query_id,
            chat_id=chat.id,
            message_id=message_id,
            user_id=user_id,
            data=data,
            created=self.clock(),
            future=asyncio.get_running_loop().create_future(),
        )
        self._callbacks[query_id] = pending
        return pending
