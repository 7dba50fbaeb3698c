"""Behaviour of the Bot API methods the emulator implements for real.

This module owns what each method *does* once the request passed the spec check in
``server.py``: storing and editing messages, files, commands, callback answers – and,
above all, refusing what Telegram refuses, with Telegram's HTTP code and description.
Descriptions follow telegram-bot-api (Client.cpp) and tdlib: the server lower-cases the
first letter of tdlib's sentence and prefixes "Bad Request: "/"Forbidden: "; upper-case
server codes such as ``BUTTON_DATA_INVALID`` pass through unchanged.

Checks run in the order the real server runs them, because a request with several
problems gets only the first refusal: text/caption parsing, then reply_markup, then the
chat lookup and membership, then tdlib's content checks (lengths, empty text), and
last the checks Telegram's servers make on delivery (blocked bot, user never started
the bot, channel rights).

:class:`MethodsMixin` is mixed into ``BotApiEmulator``; it relies on the state that
class sets up (chats, users, files, clock, update queue).
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
from base64 import urlsafe_b64encode
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .formatting import HtmlParseError, checked_link, finish_text, parse_html, text_length
from .model import ApiError, CallbackAnswer, ChatMessage, ChatState, StoredFile, bad_request, forbidden
from .spec import UploadedFile
from .webhook import WebhookDelivery, WebhookSettings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

__all__ = ["Call", "MethodsMixin"]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_TEXT = 200
MAX_CALLBACK_DATA = 64
MAX_DOWNLOAD = 20 * 1024 * 1024
DELETE_WINDOW = 48 * 3600

# kind -> (file_id prefix, directory for file_path, default extension, tdlib type name)
_KINDS: dict[str, tuple[str, str, str, str]] = {
    "photo": ("AgACAgQAAxkBAA", "photos", ".jpg", "Photo"),
    "document": ("BQACAgQAAxkBAA", "documents", "", "Document"),
    "voice": ("AwACAgQAAxkBAA", "voice", ".oga", "VoiceNote"),
    "audio": ("CQACAgQAAxkBAA", "music", ".mp3", "Audio"),
    "video": ("BAACAgQAAxkBAA", "videos", ".mp4", "Video"),
    "video_note": ("DQACAgQAAxkBAA", "video_notes", ".mp4", "VideoNote"),
    "animation": ("CgACAgQAAxkBAA", "animations", ".mp4", "Animation"),
    "sticker": ("CAACAgQAAxkBAA", "stickers", ".webp", "Sticker"),
}
_MEDIA_METHODS = {
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendVoice": "voice",
    "sendAudio": "audio",
    "sendVideo": "video",
    "sendVideoNote": "video_note",
    "sendAnimation": "animation",
    "sendSticker": "sticker",
}
_CHAT_ACTIONS = frozenset(
    {
        "cancel",
        "typing",
        "record_video",
        "upload_video",
        "record_audio",
        "record_voice",
        "upload_audio",
        "upload_voice",
        "upload_photo",
        "upload_document",
        "choose_sticker",
        "pick_up_location",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_INLINE_ACTIONS = (
    "callback_game",
    "pay",
    "switch_inline_query",
    "switch_inline_query_chosen_chat",
    "switch_inline_query_current_chat",
    "login_url",
    "web_app",
    "copy_text",
)
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_INT_RE = re.compile(r"\s*-?\d+\s*")


@dataclass
class Call:
    """One validated request as seen by a method implementation."""

    method: str
    args: dict[str, str]
    files: dict[str, UploadedFile]
    params: dict[str, Any] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return self.args.get(name, "") != "" or name in self.files

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.args.get(name, "")
        return value if value != "" else default

    def int(self, name: str, default: int = 0) -> int:
        """tdlib's to_integer: anything unparsable is 0 (then "not found"/"not specified")."""
        value = self.args.get(name, "")
        return int(value) if _INT_RE.fullmatch(value) else default

    def flag(self, name: str) -> bool:
        return self.args.get(name, "").strip().lower() in ("true", "1")

    def json(self, name: str) -> Any:
        value = self.params.get(name)
        if isinstance(value, dict | list):
            return value
        raw = self.args.get(name, "")
        if raw == "":
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None


@dataclass
class PendingCallback:
    query_id: str
    chat_id: int
    message_id: int
    user_id: int
    data: str
    created: float
    answered: bool = False
    answer: CallbackAnswer | None = None
    future: Any = None


def flatten_buttons(markup: dict[str, Any] | None) -> list[tuple[str, str | None]]:
    if not markup or "inline_keyboard" not in markup:
        return []
    return [
        (str(b.get("text", "")), b.get("callback_data"))
        for row in markup["inline_keyboard"]
        for b in row
        if isinstance(b, dict)
    ]


def _inline_only(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    return markup if markup and "inline_keyboard" in markup else None


class MethodsMixin:
    """Implementations of the Bot API methods; see the module docstring."""

    # Provided by BotApiEmulator ------------------------------------------------
    token: str
    bot_id: int
    bot_username: str
    bot_first_name: str
    privacy_mode: bool
    strict_html_entities: bool
    text_length_unit: str
    callback_answer_timeout: float
    _chats: dict[int, ChatState]
    _chats_by_username: dict[str, ChatState]
    _users: dict[int, Any]
    _files: dict[str, StoredFile]
    _files_by_path: dict[str, StoredFile]
    _callbacks: dict[str, PendingCallback]
    _commands: dict[tuple[Any, ...], list[dict[str, str]]]
    _bot_texts: dict[tuple[str, str], str]
    _default_menu_button: dict[str, Any] | None
    webhook: WebhookDelivery
    local_mode: bool
    _allowed_updates: frozenset[str] | None
    _file_counter: int
    spec_violations: list[str]

    if TYPE_CHECKING:  # ...and these methods of BotApiEmulator

        def clock(self) -> float: ...
        def _record_send(self, chat_id: int) -> None: ...
        def _drop_pending_updates(self) -> None: ...
        def _pending_update_count(self) -> int: ...
        def touch(self) -> None: ...

    # Table ----------------------------------------------------------------------
    def _method_table(self) -> dict[str, Callable[[Call], Awaitable[Any]]]:
        table: dict[str, Callable[[Call], Awaitable[Any]]] = {
            "getMe": self._m_get_me,
            "logOut": self._m_true,
            "close": self._m_true,
            "setWebhook": self._m_set_webhook,
            "deleteWebhook": self._m_delete_webhook,
            "getWebhookInfo": self._m_get_webhook_info,
            "setMyCommands": self._m_set_my_commands,
            "getMyCommands": self._m_get_my_commands,
            "deleteMyCommands": self._m_delete_my_commands,
            "setMyDescription": self._m_set_bot_text("description", 512),
            "getMyDescription": self._m_get_bot_text("description"),
            "setMyShortDescription": self._m_set_bot_text("short_description", 120),
            "getMyShortDescription": self._m_get_bot_text("short_description"),
            "setMyName": self._m_set_bot_text("name", 64),
            "getMyName": self._m_get_bot_text("name"),
            "setChatMenuButton": self._m_set_chat_menu_button,
            "getChatMenuButton": self._m_get_chat_menu_button,
            "sendMessage": self._m_send_message,
            "editMessageText": self._m_edit_message_text,
            "editMessageReplyMarkup": self._m_edit_message_reply_markup,
            "editMessageCaption": self._m_edit_message_caption,
            "deleteMessage": self._m_delete_message,
            "deleteMessages": self._m_delete_messages,
            "answerCallbackQuery": self._m_answer_callback_query,
            "sendChatAction": self._m_send_chat_action,
            "sendMediaGroup": self._m_send_media_group,
            "sendLocation": self._m_send_location,
            "copyMessage": self._m_copy_message,
            "forwardMessage": self._m_forward_message,
            "getFile": self._m_get_file,
            "getChat": self._m_get_chat,
            "leaveChat": self._m_leave_chat,
        }
        for method in _MEDIA_METHODS:
            table[method] = self._m_send_media
        return table

    # Helpers: users and chats -----------------------------------------------------
    def bot_user(self) -> dict[str, Any]:
        """The bot's ``User`` object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _user_api(self, user_id: int) -> dict[str, Any] | None:
        user = self._users.get(user_id)
        return user.api() if user is not None else None

    def _lookup_chat(self, raw: Any) -> ChatState | None:
        text = str(raw).strip()
        if text.startswith("@"):
            return self._chats_by_username.get(text[1:].lower())
        if _INT_RE.fullmatch(text):
            return self._chats.get(int(text))
        return None

    def _chat(self, c: Call, name: str = "chat_id", *, write: bool = True) -> ChatState:
        """Resolve a chat parameter the way check_chat does (existence, membership)."""
        raw = c.args.get(name, "")
        if raw == "":
            raise bad_request("chat_id is empty")
        chat = self._lookup_chat(raw)
        if chat is None:
            raise bad_request("chat not found")
        if chat.type != "private" and not chat.bot_member:
            # Reading a public supergroup/channel or a basic group works without membership.
            if write or (chat.type != "group" and not chat.username):
                raise forbidden(f"bot is not a member of the {chat.type} chat")
        return chat

    def _check_deliverable(self, chat: ChatState) -> None:
        """Refusals Telegram's servers give when the message is actually delivered."""
        if chat.type == "private":
            if chat.blocked:
                raise forbidden("bot was blocked by the user")
            if not chat.started:
                raise forbidden("bot can't initiate conversation with a user")
        elif chat.type == "channel" and not chat.bot_is_admin:
            raise bad_request("need administrator rights in the channel chat")

    # Helpers: text ----------------------------------------------------------------
    def _parse_text(
        self, c: Call, name: str, mode_name: str, entities_name: str
    ) -> tuple[str, list[dict[str, Any]], str]:
        """Parse a text/caption parameter; returns (plain, entities, raw)."""
        raw = c.args.get(name, "")
        if len(raw.encode("utf-8")) > (1 << 15):
            raise bad_request("text is too long")
        mode = c.args.get(mode_name, "").strip().lower()
        if raw == "" or mode in ("", "none"):
            entities = c.json(entities_name) or []
            return raw, [dict(e) for e in entities if isinstance(e, dict)], raw
        if mode == "html":
            try:
                text, entities = parse_html(raw, strict_entities=self.strict_html_entities, user_lookup=self._user_api)
            except HtmlParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
            return text, entities, raw
        if mode in ("markdown", "markdownv2"):
            self.spec_violations.append(
                f"{c.method}: parse_mode={c.args.get(mode_name)!r} is valid at Telegram but the "
                "emulator only implements HTML; use parse_mode=HTML"
            )
        raise bad_request("unsupported parse_mode")

    def _finish_text(self, text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
        text, entities = finish_text(text, entities)
        if text == "":
            raise bad_request("text must be non-empty")
        if text_length(text, self.text_length_unit) > MAX_TEXT:
            raise bad_request("message is too long")
        return text, entities

    def _finish_caption(self, text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
        text, entities = finish_text(text, entities)
        if text_length(text, self.text_length_unit) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return text, entities

    # Helpers: keyboards -------------------------------------------------------------
    def _reply_markup(self, c: Call) -> dict[str, Any] | None:
        """Validate reply_markup like get_reply_markup in telegram-bot-api."""
        if c.args.get("reply_markup", "") == "":
            return None
        value = c.json("reply_markup")
        if value is None:
            raise bad_request("can't parse reply keyboard markup JSON object")
        if not isinstance(value, dict):
            raise bad_request("object expected as reply markup")
        if "keyboard" in value:
            rows = value["keyboard"]
            if not isinstance(rows, list):
                raise bad_request('field "keyboard" must be of type Array')
            for row in rows:
                if not isinstance(row, list):
                    raise bad_request('field "keyboard" must be an Array of Arrays')
                for button in row:
                    if isinstance(button, str):
                        continue
                    if not isinstance(button, dict):
                        raise bad_request("can't parse keyboard button: KeyboardButton must be a String or an Object")
                    if not isinstance(button.get("text"), str):
                        raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')
            if rows and any(rows):
                return value
        if "inline_keyboard" in value:
            rows = value["inline_keyboard"]
            if not isinstance(rows, list):
                raise bad_request('field "inline_keyboard" must be of type Array')
            for row in rows:
                if not isinstance(row, list):
                    raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
                for button in row:
                    self._check_inline_button(button)
            if rows and any(rows):
                return {"inline_keyboard": rows}
        if value.get("remove_keyboard") is True or value.get("hide_keyboard") is True:
            return value
        if value.get("force_reply") is True:
            return value
        return None

    def _check_inline_button(self, button: Any) -> None:
        prefix = "can't parse inline keyboard button: "
        if not isinstance(button, dict):
            raise bad_request(prefix + "InlineKeyboardButton must be an Object")
        if "text" not in button:
            raise bad_request(prefix + 'Can\'t find field "text"')
        if not isinstance(button["text"], str):
            raise bad_request(prefix + 'Field "text" must be of type String')
        url = button.get("url")
        if isinstance(url, str) and url:
            if checked_link(url) is None:
                raise bad_request("BUTTON_URL_INVALID")
            return
        data = button.get("callback_data")
        if isinstance(data, str) and data:
            if len(data.encode("utf-8")) > MAX_CALLBACK_DATA:
                raise bad_request("BUTTON_DATA_INVALID")
            return
        if any(key in button for key in _INLINE_ACTIONS):
            return
        raise bad_request(prefix + "Text buttons are unallowed in the inline keyboard")

    def _remember_keyboard(self, chat: ChatState, markup: dict[str, Any] | None) -> None:
        if markup is None:
            return
        if "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup.get("remove_keyboard") or markup.get("hide_keyboard"):
            chat.reply_keyboard = None

    def _reply_to(self, c: Call, chat: ChatState) -> int | None:
        params = c.json("reply_parameters")
        if not isinstance(params, dict):
            return None
        target = chat
        if params.get("chat_id") not in (None, ""):
            target = self._lookup_chat(params["chat_id"]) or chat
        mid = params.get("message_id")
        msg = (
            target.messages.get(int(mid))
            if isinstance(mid, int) or (isinstance(mid, str) and _INT_RE.fullmatch(mid))
            else None
        )
        if msg is None or msg.deleted:
            if params.get("allow_sending_without_reply") is True:
                return None
            raise bad_request("message to be replied not found")
        return msg.message_id if target is chat else None

    # Helpers: messages ----------------------------------------------------------------
    def _render(self, msg: ChatMessage, *, nested: bool = True) -> dict[str, Any]:
        """The Bot API ``Message`` object for a stored message."""
        chat = self._chats[msg.chat_id]
        d: dict[str, Any] = {"message_id": msg.message_id}
        if chat.type == "channel":
            d["sender_chat"] = chat.api()
        elif msg.sender is not None:
            d["from"] = msg.sender
        d["chat"] = chat.api()
        d["date"] = msg.date
        if msg.forward_origin is not None:
            d["forward_origin"] = msg.forward_origin
        if nested and msg.reply_to_message_id is not None:
            replied = chat.messages.get(msg.reply_to_message_id)
            if replied is not None and not replied.deleted:
                d["reply_to_message"] = self._render(replied, nested=False)
        if msg.edit_date is not None:
            d["edit_date"] = msg.edit_date
        if msg.protect_content:
            d["has_protected_content"] = True
        if msg.media_group_id:
            d["media_group_id"] = msg.media_group_id
        if msg.media_type is None:
            d["text"] = msg.text
            if msg.entities:
                d["entities"] = msg.entities
        else:
            d.update(msg.content)
            if msg.caption:
                d["caption"] = msg.caption
                if msg.entities:
                    d["caption_entities"] = msg.entities
        inline = _inline_only(msg.reply_markup)
        if inline is not None:
            d["reply_markup"] = inline
        return d

    def _store_message(self, chat: ChatState, msg: ChatMessage) -> ChatMessage:
        chat.messages[msg.message_id] = msg
        msg.api = self._render(msg)
        if msg.from_bot:
            chat.new_log.append(msg.snapshot())
            chat.screen_log.append(("new", len(chat.new_log) - 1))
            self._remember_keyboard(chat, msg.reply_markup)
            self._record_send(chat.id)
            chat.notifier.notify()
        self.touch()
        return msg

    def _new_message(
        self, chat: ChatState, *, from_bot: bool, sender: dict[str, Any] | None, **fields: Any
    ) -> ChatMessage:
        now = self.clock()
        mid = chat.next_message_id
        chat.next_message_id += 1
        msg = ChatMessage(
            message_id=mid,
            chat_id=chat.id,
            from_bot=from_bot,
            sender_id=sender["id"] if sender else None,
            date=int(now),
            date_exact=now,
            sender=sender,
            **fields,
        )
        msg.buttons = flatten_buttons(msg.reply_markup)
        return msg

    def _bot_message(self, chat: ChatState, c: Call, **fields: Any) -> ChatMessage:
        sender = None if chat.type == "channel" else self.bot_user()
        msg = self._new_message(
            chat,
            from_bot=True,
            sender=sender,
            protect_content=c.flag("protect_content"),
            method=c.method,
            **fields,
        )
        return self._store_message(chat, msg)

    def _message_for_edit(self, c: Call) -> tuple[ChatState, ChatMessage]:
        if c.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._chat(c)
        mid = c.int("message_id")
        if mid <= 0:
            raise bad_request("message identifier is not specified")
        msg = chat.messages.get(mid)
        if msg is None or msg.deleted:
            raise bad_request("message to edit not found")
        if not msg.from_bot:
            raise bad_request("message can't be edited")
        return chat, msg

    def _apply_edit(self, chat: ChatState, msg: ChatMessage, **changes: Any) -> dict[str, Any]:
        msg.history.append((msg.text, msg.entities, msg.reply_markup))
        for key, value in changes.items():
            setattr(msg, key, value)
        msg.buttons = flatten_buttons(msg.reply_markup)
        msg.edited += 1
        msg.edit_date = int(self.clock())
        msg.api = self._render(msg)
        chat.edit_log.append(msg.snapshot())
        if msg.text != msg.history[-1][0]:
            chat.screen_log.append(("edit", len(chat.edit_log) - 1))
        chat.notifier.notify()
        self.touch()
        return msg.api

    # Helpers: files ---------------------------------------------------------------------
    def _new_ids(self, kind: str) -> tuple[str, str]:
        self._file_counter += 1
        n = self._file_counter
        digest = hashlib.blake2b(f"{self.token}/{kind}/{n}".encode(), digest_size=24).digest()
        tail = urlsafe_b64encode(digest).decode().rstrip("=")
        return f"{_KINDS[kind][0]}{n:06d}{tail}", f"AQAD{n:06d}{tail[:8]}"

    def register_file(
        self,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
        duration: int | None = None,
    ) -> StoredFile:
        """Store bytes as a Telegram file of ``kind``; photos get three PhotoSizes.

        The smaller photo sizes are separate files (own file_id/file_unique_id/path) but
        carry the original bytes: the emulator does not scale images.
        """
        _, directory, default_ext, _ = _KINDS[kind]
        ext = default_ext
        if kind in ("document", "audio") and file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[1]

        def make(w: int | None, h: int | None) -> StoredFile:
            file_id, unique_id = self._new_ids(kind)
            sf = StoredFile(
                file_id=file_id,
                file_unique_id=unique_id,
                kind=kind,
                data=data,
                file_path=f"{directory}/file_{self._file_counter}{ext}",
                mime_type=mime_type,
                file_name=file_name,
                width=w,
                height=h,
                duration=duration,
            )
            self._files[file_id] = sf
            self._files_by_path[sf.file_path] = sf
            return sf

        if kind != "photo":
            return make(width, height)
        w, h = width or 1280, height or 960
        sizes = []
        for side in (90, 320):
            scale = side / max(w, h)
            if scale < 1:
                sizes.append(make(max(1, round(w * scale)), max(1, round(h * scale))))
        full = make(w, h)
        sizes.append(full)
        for sf in sizes:
            sf.photo_sizes = sizes
        return full

    def media_content(self, kind: str, sf: StoredFile, c: Call | None = None) -> dict[str, Any]:
        """The Message fields describing a file (``photo``, ``document``, ...)."""
        if kind == "photo":
            return {
                "photo": [
                    {
                        "file_id": s.file_id,
                        "file_unique_id": s.file_unique_id,
                        "file_size": s.size,
                        "width": s.width or 1280,
                        "height": s.height or 960,
                    }
                    for s in (sf.photo_sizes or [sf])
                ]
            }
        obj: dict[str, Any] = {"file_id": sf.file_id, "file_unique_id": sf.file_unique_id}
        duration = (c.int("duration") if c is not None and c.has("duration") else None) or sf.duration
        if kind in ("voice", "audio", "video", "video_note", "animation"):
            obj["duration"] = duration or 1
        if kind in ("video", "animation"):
            obj["width"] = (c.int("width") if c is not None and c.has("width") else None) or sf.width or 640
            obj["height"] = (c.int("height") if c is not None and c.has("height") else None) or sf.height or 480
        if kind == "video_note":
            obj["length"] = (c.int("length") if c is not None and c.has("length") else None) or 240
        if kind == "audio" and c is not None:
            for key in ("performer", "title"):
                if c.has(key):
                    obj[key] = c.args[key]
        if kind == "sticker":
            obj.update({"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False})
            if c is not None and c.has("emoji"):
                obj["emoji"] = c.args["emoji"]
        if kind in ("document", "audio", "video", "animation") and sf.file_name:
            obj["file_name"] = sf.file_name
        if kind not in ("sticker", "video_note") and sf.mime_type:
            obj["mime_type"] = sf.mime_type
        obj["file_size"] = sf.size
        return {kind: obj}

    def _input_file(self, c: Call, kind: str, value: str | UploadedFile | None) -> StoredFile:
        """Resolve an InputFile: an upload, attach://name, or an existing file_id."""
        human = kind.replace("_", " ")
        if isinstance(value, str) and value.startswith("attach://"):
            value = c.files.get(value[len("attach://") :])
            if value is None:
                raise bad_request(f"there is no {human} in the request")
        if value is None or value == "":
            raise bad_request(f"there is no {human} in the request")
        if isinstance(value, UploadedFile):
            if value.size == 0:
                raise bad_request("file must be non-empty")
            mime = value.content_type if kind != "photo" else None
            if kind == "voice" and not (mime or "").startswith("audio/"):
                mime = "audio/ogg"  # Telegram stores voice notes as OGG/Opus
            return self.register_file(
                kind,
                value.data,
                file_name=value.filename if kind in ("document", "audio", "video", "animation") else None,
                mime_type=mime,
                width=c.int("width") or None,
                height=c.int("height") or None,
                duration=c.int("duration") or None,
            )
        text = value.strip()
        if re.match(r"(?i)^https?://", text):
            # The emulator never touches the network; Telegram would fetch the URL.
            raise bad_request("failed to get HTTP URL content")
        sf = self._files.get(text)
        if sf is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if (sf.kind == "photo") != (kind == "photo"):
            raise bad_request(f"can't use file of type {_KINDS[sf.kind][3]} as {_KINDS[kind][3]}")
        return sf

    # Methods: bot and webhook -------------------------------------------------------------
    async def _m_true(self, c: Call) -> bool:
        return True

    async def _m_get_me(self, c: Call) -> dict[str, Any]:
        me = self.bot_user()
        me.update(
            {
                "can_join_groups": True,
                "can_read_all_group_messages": not self.privacy_mode,
                "supports_inline_queries": False,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            }
        )
        return me

    async def _m_set_webhook(self, c: Call) -> bool:
        url = (c.text("url", "") or "").strip()
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme.lower() != "https" and not (self.local_mode and parsed.scheme.lower() == "http"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if not parsed.hostname:
            raise bad_request("bad webhook: Wrong HTTP URL specified")
        try:
            port = parsed.port
        except ValueError:
            raise bad_request("bad webhook: Wrong port number specified in the URL") from None
        if not self.local_mode and port not in (None, 80, 88, 443, 8443):
            raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = c.text("secret_token")
        if secret is not None:
            if len(secret) > 256:
                raise bad_request("secret token is too long")
            if not _SECRET_RE.fullmatch(secret):
                raise bad_request("secret token contains unallowed characters")
        max_connections = min(100, max(1, c.int("max_connections", 40))) if c.has("max_connections") else 40
        if c.has("allowed_updates"):
            allowed = c.json("allowed_updates")
            if isinstance(allowed, list):
                self._allowed_updates = frozenset(str(a) for a in allowed) if allowed else None
        if c.flag("drop_pending_updates"):
            self._drop_pending_updates()
        self.webhook.configure(
            WebhookSettings(url, secret, max_connections, c.text("ip_address")),
        )
        return True

    async def _m_delete_webhook(self, c: Call) -> bool:
        self.webhook.configure(None)
        if c.flag("drop_pending_updates"):
            self._drop_pending_updates()
        return True

    async def _m_get_webhook_info(self, c: Call) -> dict[str, Any]:
        settings = self.webhook.settings
        info: dict[str, Any] = {
            "url": settings.url if settings is not None else "",
            "has_custom_certificate": False,
            "pending_update_count": self._pending_update_count(),
        }
        if self.webhook.last_error_date is not None:
            info["last_error_date"] = self.webhook.last_error_date
            info["last_error_message"] = self.webhook.last_error_message
        if settings is not None:
            info["max_connections"] = settings.max_connections
            if settings.ip_address:
                info["ip_address"] = settings.ip_address
            if self._allowed_updates is not None:
                info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    # Methods: commands, descriptions, menu button ----------------------------------------------
    def _command_scope_key(self, c: Call) -> tuple[Any, ...]:
        scope = c.json("scope")
        if scope is None:
            if c.has("scope"):
                raise bad_request("can't parse BotCommandScope JSON object")
            scope = {"type": "default"}
        if not isinstance(scope, dict):
            raise bad_request("can't parse BotCommandScope: BotCommandScope must be an Object")
        kind = scope.get("type")
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return (kind,)
        if kind not in ("chat", "chat_administrators", "chat_member"):
            raise bad_request("can't parse BotCommandScope: Unsupported type specified")
        if scope.get("chat_id") in (None, ""):
            raise bad_request("can't parse BotCommandScope: Empty chat_id specified")
        chat = self._lookup_chat(scope["chat_id"])
        if chat is None:
            raise bad_request("chat not found")
        if kind == "chat_member":
            user_id = scope.get("user_id")
            if not isinstance(user_id, int) or user_id <= 0:
                raise bad_request("can't parse BotCommandScope: Invalid user_id specified")
            if user_id not in self._users:
                raise bad_request("user not found")
            return (kind, chat.id, user_id)
        return (kind, chat.id)

    def _language(self, c: Call) -> str:
        code = c.args.get("language_code", "")
        if code and not re.fullmatch(r"[a-z]{2}", code):
            raise bad_request("invalid language code specified")
        return code

    async def _m_set_my_commands(self, c: Call) -> bool:
        commands = c.json("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        cleaned = []
        for item in commands:
            if not isinstance(item, dict):
                raise bad_request("can't parse BotCommand: expected an Object")
            command = str(item.get("command", "")).strip()
            command = command[1:] if command.startswith("/") else command
            description = str(item.get("description", "")).strip()
            if not command:
                raise bad_request("command must be non-empty")
            if len(command) > 32:
                raise bad_request("command length must not exceed 32")
            if not description:
                raise bad_request("command description must be non-empty")
            if len(description) > 256:
                raise bad_request("command description length must not exceed 256")
            if not _COMMAND_RE.fullmatch(command):
                raise bad_request("BOT_COMMAND_INVALID")
            cleaned.append({"command": command, "description": description})
        key = (self._command_scope_key(c), self._language(c))
        if cleaned:
            self._commands[key] = cleaned
        else:
            self._commands.pop(key, None)
        return True

    async def _m_get_my_commands(self, c: Call) -> list[dict[str, str]]:
        key = (self._command_scope_key(c), self._language(c))
        return [dict(cmd) for cmd in self._commands.get(key, [])]

    async def _m_delete_my_commands(self, c: Call) -> bool:
        key = (self._command_scope_key(c), self._language(c))
        self._commands.pop(key, None)
        return True

    def _m_set_bot_text(self, name: str, limit: int) -> Callable[[Call], Awaitable[bool]]:
        async def handler(c: Call) -> bool:
            value = c.args.get(name, "")
            if len(value) > limit:
                raise bad_request(f"{name.replace('_', ' ')} is too long")
            if value:
                self._bot_texts[(name, self._language(c))] = value
            else:
                # An empty text removes the dedicated one: that language falls back to the default again.
                self._bot_texts.pop((name, self._language(c)), None)
            return True

        return handler

    def _m_get_bot_text(self, name: str) -> Callable[[Call], Awaitable[dict[str, str]]]:
        async def handler(c: Call) -> dict[str, str]:
            lang = self._language(c)
            value = self._bot_texts.get((name, lang))
            if value is None:
                value = self._bot_texts.get((name, ""), self.bot_first_name if name == "name" else "")
            return {name: value}

        return handler

    async def _m_set_chat_menu_button(self, c: Call) -> bool:
        button = c.json("menu_button") or {"type": "default"}
        if c.has("chat_id"):
            chat = self._chat(c, write=False)
            if chat.type != "private":
                raise bad_request("menu button can be set only in private chats")
            chat.menu_button = button
        else:
            self._default_menu_button = button
        return True

    async def _m_get_chat_menu_button(self, c: Call) -> dict[str, Any]:
        if c.has("chat_id"):
            chat = self._chat(c, write=False)
            if chat.menu_button is not None:
                return chat.menu_button
        return self._default_menu_button or {"type": "default"}

    # Methods: sending ----------------------------------------------------------------------------
    async def _m_send_message(self, c: Call) -> dict[str, Any]:
        if c.args.get("text", "") == "":
            raise bad_request("message text is empty")
        text, entities, raw = self._parse_text(c, "text", "parse_mode", "entities")
        markup = self._reply_markup(c)
        chat = self._chat(c)
        reply_to = self._reply_to(c, chat)
        text, entities = self._finish_text(text, entities)
        self._check_deliverable(chat)
        msg = self._bot_message(
            chat,
            c,
            text=text,
            entities=entities,
            html=raw,
            parse_mode=c.text("parse_mode"),
            reply_markup=markup,
            reply_to_message_id=reply_to,
        )
        return msg.api

    async def _m_send_media(self, c: Call) -> dict[str, Any]:
        kind = _MEDIA_METHODS[c.method]
        value = c.files.get(kind) or c.args.get(kind)
        if value is None or value == "":
            raise bad_request(f"there is no {kind.replace('_', ' ')} in the request")
        caption, entities, raw = self._parse_text(c, "caption", "parse_mode", "caption_entities")
        markup = self._reply_markup(c)
        chat = self._chat(c)
        reply_to = self._reply_to(c, chat)
        sf = self._input_file(c, kind, value)
        caption, entities = self._finish_caption(caption, entities)
        self._check_deliverable(chat)
        msg = self._bot_message(
            chat,
            c,
            text=caption,
            caption=caption or None,
            entities=entities,
            html=raw or None,
            parse_mode=c.text("parse_mode"),
            reply_markup=markup,
            reply_to_message_id=reply_to,
            media_type=kind,
            file_id=sf.file_id,
            file_bytes=sf.data,
            file_name=sf.file_name,
            mime_type=sf.mime_type,
            content=self.media_content(kind, sf, c),
        )
        return msg.api

    async def _m_send_location(self, c: Call) -> dict[str, Any]:
        latitude = c.params.get("latitude")
        longitude = c.params.get("longitude")
        if not isinstance(latitude, float) or not -90 <= latitude <= 90:
            raise bad_request("wrong latitude specified")
        if not isinstance(longitude, float) or not -180 <= longitude <= 180:
            raise bad_request("wrong longitude specified")
        markup = self._reply_markup(c)
        chat = self._chat(c)
        reply_to = self._reply_to(c, chat)
        self._check_deliverable(chat)
        msg = self._bot_message(
            chat,
            c,
            media_type="location",
            reply_markup=markup,
            reply_to_message_id=reply_to,
            content={"location": {"latitude": latitude, "longitude": longitude}},
        )
        return msg.api

    async def _m_send_media_group(self, c: Call) -> list[dict[str, Any]]:
        media = c.json("media")
        if not isinstance(media, list):
            raise bad_request("can't parse media JSON object")
        if not media:
            raise bad_request("there are no messages to send")
        if len(media) > 10:
            raise bad_request("too many messages to send as an album")
        chat = self._chat(c)
        reply_to = self._reply_to(c, chat)
        prepared = []
        for item in media:
            kind = item.get("type")
            if kind not in ("photo", "video", "document", "audio"):
                raise bad_request(f"can't parse InputMedia: type \"{kind}\" can't be used in sendMediaGroup")
            caption_call = Call(c.method, {k: str(v) for k, v in item.items() if isinstance(v, str)}, c.files)
            if isinstance(item.get("caption_entities"), list):
                caption_call.params["caption_entities"] = item["caption_entities"]
            caption, entities, raw = self._parse_text(caption_call, "caption", "parse_mode", "caption_entities")
            sf = self._input_file(c, kind, item.get("media"))
            caption, entities = self._finish_caption(caption, entities)
            prepared.append((kind, sf, caption, entities, raw))
        kinds = {p[0] for p in prepared}
        if len(kinds) > 1 and (kinds & {"document", "audio"}):
            raise bad_request("can't use the media of the specified type in the album")
        self._check_deliverable(chat)
        group_id = str(10**17 + self._file_counter) if len(prepared) > 1 else None
        results = []
        for kind, sf, caption, entities, raw in prepared:
            msg = self._bot_message(
                chat,
                c,
                text=caption,
                caption=caption or None,
                entities=entities,
                html=raw or None,
                reply_to_message_id=reply_to,
                media_type=kind,
                file_id=sf.file_id,
                file_bytes=sf.data,
                file_name=sf.file_name,
                mime_type=sf.mime_type,
                media_group_id=group_id,
                content=self.media_content(kind, sf),
            )
            results.append(msg.api)
        return results

    async def _m_send_chat_action(self, c: Call) -> bool:
        action = c.args.get("action", "")
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat = self._chat(c)
        self._check_deliverable(chat)
        chat.actions.append(action)
        return True

    def _source_message(self, c: Call, what: str) -> ChatMessage:
        source_chat = self._chat(c, "from_chat_id", write=False)
        mid = c.int("message_id")
        if mid <= 0:
            raise bad_request("message identifier is not specified")
        msg = source_chat.messages.get(mid)
        if msg is None or msg.deleted:
            raise bad_request(f"message to {what} not found")
        if msg.protect_content:
            raise bad_request("message has protected content and can't be forwarded")
        return msg

    async def _m_copy_message(self, c: Call) -> dict[str, int]:
        source = self._source_message(c, "copy")
        chat = self._chat(c)
        markup = self._reply_markup(c)
        reply_to = self._reply_to(c, chat)
        text, entities, html = source.text, source.entities, source.html
        caption = source.caption
        if source.media_type is not None and c.has("caption"):
            parsed, entities, html = self._parse_text(c, "caption", "parse_mode", "caption_entities")
            text, entities = self._finish_caption(parsed, entities)
            caption = text or None
        self._check_deliverable(chat)
        msg = self._bot_message(
            chat,
            c,
            text=text,
            caption=caption,
            entities=[dict(e) for e in entities],
            html=html,
            reply_markup=markup,
            reply_to_message_id=reply_to,
            media_type=source.media_type,
            file_id=source.file_id,
            file_bytes=source.file_bytes,
            file_name=source.file_name,
            mime_type=source.mime_type,
            content=dict(source.content),
        )
        return {"message_id": msg.message_id}

    async def _m_forward_message(self, c: Call) -> dict[str, Any]:
        source = self._source_message(c, "forward")
        chat = self._chat(c)
        self._check_deliverable(chat)
        source_chat = self._chats[source.chat_id]
        if source_chat.type == "channel":
            origin: dict[str, Any] = {
                "type": "channel",
                "date": source.date,
                "chat": source_chat.api(),
                "message_id": source.message_id,
            }
        elif source.sender is not None:
            origin = {"type": "user", "date": source.date, "sender_user": source.sender}
        else:
            origin = {"type": "chat", "date": source.date, "sender_chat": source_chat.api()}
        msg = self._bot_message(
            chat,
            c,
            text=source.text,
            caption=source.caption,
            entities=[dict(e) for e in source.entities],
            html=source.html,
            media_type=source.media_type,
            file_id=source.file_id,
            file_bytes=source.file_bytes,
            file_name=source.file_name,
            mime_type=source.mime_type,
            content=dict(source.content),
            forward_origin=origin,
        )
        return msg.api

    # Methods: editing and deleting -------------------------------------------------------------
    async def _m_edit_message_text(self, c: Call) -> dict[str, Any]:
        if c.args.get("text", "") == "":
            raise bad_request("message text is empty")
        text, entities, raw = self._parse_text(c, "text", "parse_mode", "entities")
        markup = _inline_only(self._reply_markup(c))
        chat, msg = self._message_for_edit(c)
        if msg.media_type is not None:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._finish_text(text, entities)
        self._check_deliverable(chat)
        if text == msg.text and entities == msg.entities and markup == _inline_only(msg.reply_markup):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )
        return self._apply_edit(
            chat,
            msg,
            text=text,
            entities=entities,
            html=raw,
            parse_mode=c.text("parse_mode"),
            reply_markup=markup,
        )

    async def _m_edit_message_caption(self, c: Call) -> dict[str, Any]:
        caption, entities, raw = self._parse_text(c, "caption", "parse_mode", "caption_entities")
        markup = _inline_only(self._reply_markup(c))
        chat, msg = self._message_for_edit(c)
        if msg.media_type is None or msg.media_type in ("location", "sticker", "video_note"):
            raise bad_request("there is no caption in the message to edit")
        caption, entities = self._finish_caption(caption, entities)
        self._check_deliverable(chat)
        if caption == (msg.caption or "") and entities == msg.entities and markup == _inline_only(msg.reply_markup):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )
        return self._apply_edit(
            chat,
            msg,
            text=caption,
            caption=caption or None,
            entities=entities,
            html=raw or None,
            parse_mode=c.text("parse_mode"),
            reply_markup=markup,
        )

    async def _m_edit_message_reply_markup(self, c: Call) -> dict[str, Any]:
        markup = _inline_only(self._reply_markup(c))
        chat, msg = self._message_for_edit(c)
        self._check_deliverable(chat)
        if markup == _inline_only(msg.reply_markup):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )
        return self._apply_edit(chat, msg, reply_markup=markup)

    def _delete_one(self, chat: ChatState, mid: int) -> None:
        msg = chat.messages.get(mid)
        if msg is None or msg.deleted:
            raise bad_request("message to delete not found")
        admin = chat.type != "private" and chat.bot_is_admin
        if chat.type in ("group", "supergroup") and not msg.from_bot and not admin:
            raise bad_request("message can't be deleted")
        if chat.type == "channel" and not admin:
            raise bad_request("message can't be deleted")
        if not admin and self.clock() - msg.date_exact > DELETE_WINDOW:
            raise bad_request("message can't be deleted for everyone")
        msg.deleted = True
        chat.deleted_ids.add(mid)
        chat.notifier.notify()
        self.touch()

    async def _m_delete_message(self, c: Call) -> bool:
        chat = self._chat(c)
        mid = c.int("message_id")
        if mid <= 0:
            raise bad_request("message identifier is not specified")
        self._delete_one(chat, mid)
        return True

    async def _m_delete_messages(self, c: Call) -> bool:
        chat = self._chat(c)
        ids = c.json("message_ids")
        if not isinstance(ids, list):
            raise bad_request("expected an Array of message identifiers")
        if not ids:
            raise bad_request("message identifiers are not specified")
        if len(ids) > 100:
            raise bad_request("too many message identifiers specified")
        for mid in ids:
            if not isinstance(mid, int) or mid <= 0:
                raise bad_request("invalid message identifier specified")
        for mid in ids:
            try:
                self._delete_one(chat, mid)
            except ApiError:
                continue  # "If some of the specified messages can't be found, they are skipped."
        return True

    # Methods: callback queries ----------------------------------------------------------------
    async def _m_answer_callback_query(self, c: Call) -> bool:
        query_id = c.args.get("callback_query_id", "")
        pending = self._callbacks.get(query_id)
        if pending is None or pending.answered or self.clock() - pending.created > self.callback_answer_timeout:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = c.text("text")
        if text is not None and len(text) > MAX_CALLBACK_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        pending.answered = True
        pending.answer = CallbackAnswer(
            callback_query_id=query_id,
            text=text,
            show_alert=c.flag("show_alert"),
            url=c.text("url"),
            cache_time=c.int("cache_time") if c.has("cache_time") else None,
        )
        if pending.future is not None and not pending.future.done():
            pending.future.set_result(pending.answer)
        self.touch()
        return True

    # Methods: files and chats --------------------------------------------------------------------
    async def _m_get_file(self, c: Call) -> dict[str, Any]:
        file_id = c.args.get("file_id", "").strip()
        sf = self._files.get(file_id)
        if sf is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if sf.size > MAX_DOWNLOAD:
            raise bad_request("file is too big")
        return {
            "file_id": sf.file_id,
            "file_unique_id": sf.file_unique_id,
            "file_size": sf.size,
            "file_path": sf.file_path,
        }

    async def _m_get_chat(self, c: Call) -> dict[str, Any]:
        chat = self._chat(c, write=False)
        info = chat.api()
        info.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        if chat.type == "private":
            user = self._users.get(chat.user_id or 0)
            if user is not None and user.username:
                info["username"] = user.username
        return info

    async def _m_leave_chat(self, c: Call) -> bool:
        chat = self._chat(c, write=False)
        if chat.type == "private":
            raise bad_request("can't leave private chats")
        chat.bot_member = False
        chat.bot_is_admin = False
        return True
