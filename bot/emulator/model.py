"""Data the emulator keeps and hands to tests.

This module owns the plain data types shared by the server side (``server.py``,
``methods.py``) and the test side (``actors.py``):

* :class:`ChatMessage` – one message in a chat as a test sees it (bot or human sender),
  with the plain text after entity parsing, the HTML as sent, the inline buttons and the
  uploaded bytes. The server keeps one mutable record per message; tests always receive
  *snapshots* (copies), so a message returned by ``wait_for_message`` does not change
  under the test's feet when the bot edits it later – ask the :class:`ChatView` for the
  current state.
* :class:`ChatView` – a read-only window on one chat's current state.
* :class:`ApiRequest` – one HTTP request the bot made, as recorded in ``emulator.requests``.
* :class:`Fault`, :class:`RateLimits` – fault injection and rate limit configuration.
* :class:`CallbackAnswer`, :class:`StoredFile` – answers to button presses, stored files.
* :class:`ApiError` – raised inside method implementations to produce a refusal.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ApiError",
    "ApiRequest",
    "CallbackAnswer",
    "ChatMessage",
    "ChatView",
    "Fault",
    "RateLimits",
    "StoredFile",
]


class ApiError(Exception):
    """A Bot API refusal: becomes ``{"ok": false, "error_code": code, "description": ...}``."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def envelope(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _clip(value: Any, limit: int = 120) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 3] + "..."
    return value


def bad_request(text: str) -> ApiError:
    """400 with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {text}")


def forbidden(text: str) -> ApiError:
    """403 with Telegram's "Forbidden: " prefix."""
    return ApiError(403, f"Forbidden: {text}")


@dataclass
class ChatMessage:
    """One message as the test side sees it.

    ``text`` is what a human reads: the message text, or the caption of a media
    message, or "" – so predicates such as ``lambda m: "welkom" in m.text`` never need
    a None check. ``caption`` is set only for media messages. ``entities`` are the text
    entities (caption entities for media). ``html`` is the raw ``text``/``caption``
    parameter exactly as the bot sent it. ``buttons`` flattens the inline keyboard to
    ``(text, callback_data)`` pairs (callback_data is None for URL and other buttons).
    ``api`` is the Bot API ``Message`` object the emulator returned or delivered last;
    ``msg["message_id"]`` indexes into it.
    """

    message_id: int
    chat_id: int
    from_bot: bool
    sender_id: int | None
    date: int
    text: str = ""
    html: str | None = None
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    buttons: list[tuple[str, str | None]] = field(default_factory=list)
    protect_content: bool = False
    media_type: str | None = None
    file_id: str | None = None
    file_bytes: bytes | None = field(default=None, repr=False)
    file_name: str | None = None
    mime_type: str | None = None
    caption: str | None = None
    edited: int = 0
    edit_date: int | None = None
    reply_to_message_id: int | None = None
    media_group_id: str | None = None
    method: str | None = None
    deleted: bool = False
    api: dict[str, Any] = field(default_factory=dict, repr=False)
    # server-side bookkeeping
    date_exact: float = field(default=0.0, repr=False)
    content: dict[str, Any] = field(default_factory=dict, repr=False)
    sender: dict[str, Any] | None = field(default=None, repr=False)
    forward_origin: dict[str, Any] | None = field(default=None, repr=False)
    history: list[tuple[str, list[dict[str, Any]], dict[str, Any] | None]] = field(default_factory=list, repr=False)

    def __getitem__(self, key: str) -> Any:
        return self.api[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.api.get(key, default)

    @property
    def has_keyboard(self) -> bool:
        return bool(self.reply_markup and "inline_keyboard" in self.reply_markup)

    def button(self, text: str) -> tuple[str, str | None] | None:
        """The inline button whose text equals ``text`` (else contains it), or None."""
        for b in self.buttons:
            if b[0] == text:
                return b
        low = text.lower()
        for b in self.buttons:
            if low in b[0].lower():
                return b
        return None

    def snapshot(self) -> ChatMessage:
        snap = copy.copy(self)
        snap.history = list(self.history)
        return snap

    def describe(self) -> str:
        who = "bot " if self.from_bot else f"user {self.sender_id}" if self.sender_id else "chat"
        kind = f"[{self.media_type}] " if self.media_type else ""
        flags = []
        if self.edited:
            flags.append(f"edited x{self.edited}")
        if self.deleted:
            flags.append("deleted")
        if self.protect_content:
            flags.append("protected")
        extra = f" ({', '.join(flags)})" if flags else ""
        btns = f" buttons={[b[0] for b in self.buttons]}" if self.buttons else ""
        text = self.text if len(self.text) <= 300 else self.text[:297] + "..."
        return f"#{self.message_id} {who}: {kind}{text!r}{btns}{extra}"


@dataclass
class CallbackAnswer:
    """What the bot passed to answerCallbackQuery for one button press."""

    callback_query_id: str
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int | None = None


@dataclass
class StoredFile:
    """A file known to the emulator: uploaded by the bot or sent by a simulated user."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes = field(repr=False)
    file_path: str
    mime_type: str | None = None
    file_name: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None
    photo_sizes: list[StoredFile] | None = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class ApiRequest:
    """One request made to the emulator.

    ``params`` are decoded according to the spec (ints, bools, dicts/lists for JSON
    objects, :class:`~bot.emulator.spec.UploadedFile` for uploads). ``status`` is the
    HTTP status (0 when the connection was dropped by an injected fault). ``timestamp``
    is the emulator clock at arrival, ``monotonic`` the real monotonic time.
    """

    method: str
    params: dict[str, Any]
    status: int
    response: dict[str, Any] | None
    timestamp: float
    monotonic: float
    duration: float = 0.0
    chat_id: int | str | None = None
    fault: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        return (self.response or {}).get("result")

    @property
    def description(self) -> str | None:
        return (self.response or {}).get("description")

    def __str__(self) -> str:
        shown = {k: _clip(v) for k, v in self.params.items() if k != "chat_id"}
        outcome = "ok" if self.ok else f"{self.status} {self.description or self.fault or ''}".strip()
        return f"{self.method}(chat={self.chat_id}, {shown}) -> {outcome}"


@dataclass
class Fault:
    """An injected failure for matching requests (see ``BotApiEmulator.inject_fault``)."""

    method: str | None
    kind: str = "error"  # "error" | "drop" | "delay"
    status: int = 500
    retry_after: int | None = None
    seconds: float = 0.0
    times: int | None = 1  # None: forever
    chat_id: int | str | None = None
    description: str | None = None
    after: bool = False  # apply after the method took effect (Telegram did it, the answer got lost)
    served: int = 0

    def matches(self, method: str, chat_id: str | None) -> bool:
        if self.times is not None and self.times <= 0:
            return False
        if self.method is None:
            # "Every method" means the bot's requests: not its long polls, not webhook deliveries.
            if method in ("getUpdates", "@webhook"):
                return False
        elif self.method.lower() != method.lower():
            return False
        if self.chat_id is not None and str(self.chat_id) != (chat_id or ""):
            return False
        return True


@dataclass
class RateLimits:
    """Telegram's documented sending limits, as token buckets.

    Per chat: ``per_chat_burst`` messages at once, refilled at ``per_chat_per_second``
    (Telegram: "avoid sending more than one message per second" to a chat; short bursts
    go through in practice, so 3 are allowed). Groups/channels additionally get
    ``group_per_minute`` per minute. Overall: ``global_burst`` at once refilled at
    ``global_per_second`` (Telegram: about 30 messages per second).
    Counted methods: every ``send*`` except sendChatAction, plus copyMessage(s) and
    forwardMessage(s). Edits, deletions and callback answers are not counted.
    """

    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    group_per_minute: int = 20
    global_per_second: float = 30.0
    global_burst: int = 30


class TokenBucket:
    """Classic token bucket on the monotonic clock."""

    __slots__ = ("capacity", "rate", "tokens", "stamp")

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.stamp = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 if one is available now)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


class Notifier:
    """Wake every current waiter; cheap for a handful of waiters per chat."""

    __slots__ = ("_waiters",)

    def __init__(self) -> None:
        self._waiters: list[asyncio.Future[None]] = []

    def notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait(self, timeout: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            pass
        finally:
            if fut in self._waiters:
                self._waiters.remove(fut)


@dataclass
class ChatState:
    """Server-side state of one chat (private, group, supergroup or channel)."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    user_id: int | None = None  # private chats: the simulated user
    started: bool = False  # private: the user has written to the bot
    blocked: bool = False  # private: the user blocked the bot
    bot_member: bool = True
    bot_is_admin: bool = False
    privacy_mode: bool = True
    messages: dict[int, ChatMessage] = field(default_factory=dict)
    next_message_id: int = 1
    new_log: list[ChatMessage] = field(default_factory=list)  # bot messages, as sent
    edit_log: list[ChatMessage] = field(default_factory=list)  # bot messages, after each edit
    # What a person sees change, in order: ("new", i) for new_log[i], ("edit", i) for edit_log[i]
    # when the edit changed the text or caption (not only the buttons).
    screen_log: list[tuple[str, int]] = field(default_factory=list)
    deleted_ids: set[int] = field(default_factory=set)
    actions: list[str] = field(default_factory=list)
    reply_keyboard: dict[str, Any] | None = None
    menu_button: dict[str, Any] | None = None
    notifier: Notifier = field(default_factory=Notifier)

    def api(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object."""
        d: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            d["first_name"] = self.first_name or ""
            if self.last_name:
                d["last_name"] = self.last_name
        else:
            d["title"] = self.title or ""
        if self.username:
            d["username"] = self.username
        return d

    def live(self) -> Iterator[ChatMessage]:
        """Current messages in order (ids are allocated ascending, dicts keep order)."""
        for msg in self.messages.values():
            if not msg.deleted:
                yield msg


class ChatView:
    """Read-only view of one chat's current state (edits applied, deletions removed)."""

    def __init__(self, state: ChatState) -> None:
        self._state = state

    @property
    def chat_id(self) -> int:
        return self._state.id

    @property
    def type(self) -> str:
        return self._state.type

    @property
    def messages(self) -> list[ChatMessage]:
        """All current messages (bot and human) in order."""
        return [m.snapshot() for m in self._state.live()]

    @property
    def bot_messages(self) -> list[ChatMessage]:
        return [m.snapshot() for m in self._state.live() if m.from_bot]

    @property
    def user_messages(self) -> list[ChatMessage]:
        return [m.snapshot() for m in self._state.live() if not m.from_bot]

    @property
    def last_bot_message(self) -> ChatMessage | None:
        for msg in reversed(self._state.messages.values()):
            if msg.from_bot and not msg.deleted:
                return msg.snapshot()
        return None

    @property
    def deleted_ids(self) -> set[int]:
        return set(self._state.deleted_ids)

    @property
    def actions(self) -> list[str]:
        """Chat actions (typing, upload_photo, ...) the bot sent, in order."""
        return list(self._state.actions)

    @property
    def reply_keyboard(self) -> dict[str, Any] | None:
        """The ReplyKeyboardMarkup currently shown to the user, if any."""
        return self._state.reply_keyboard

    @property
    def blocked(self) -> bool:
        return self._state.blocked

    def get(self, message_id: int) -> ChatMessage | None:
        """Current state of a message, or None if unknown or deleted."""
        msg = self._state.messages.get(message_id)
        return None if msg is None or msg.deleted else msg.snapshot()

    def dump(self, limit: int = 25) -> str:
        """Human-readable listing of the last ``limit`` messages (deleted ones marked)."""
        msgs = list(self._state.messages.values())[-limit:]
        head = f"chat {self._state.id} ({self._state.type}), {len(self._state.messages)} messages"
        if not msgs:
            return head + ": <empty>"
        return head + ":\n" + "\n".join("  " + m.describe() for m in msgs)

    def __repr__(self) -> str:
        return f"<ChatView {self._state.id} {self._state.type} messages={len(self._state.messages)}>"
