"""The test side: simulated humans, groups and channels.

This module owns what a test *does* to the bot and how it *waits* for the bot:

* :class:`SimUser` – a person in a private chat with the bot: sends text, commands,
  photos, documents, voice notes, stickers, locations, contacts and albums; presses
  inline buttons; edits own messages; blocks and unblocks the bot.
* :class:`SimGroup` / :class:`SimChannel` – group chats (with Telegram's privacy mode:
  by default the bot only receives commands, mentions and replies to itself) and
  channels (``channel_post`` updates).

Every action builds the same Bot API objects Telegram would deliver (messages carry the
entities a Telegram client adds, e.g. ``bot_command``) and queues the update at once,
without awaiting anything first, so actions of one user keep their order even when many
users act concurrently from different tasks.

Waiting is cursor based: ``wait_for_message`` returns the first *new* bot message in the
chat since the previous wait that matches the predicate (earlier non-matching ones are
passed over). On timeout it raises ``AssertionError`` with a dump of the chat, the bot's
failed requests for that chat and any spec violations, which is usually enough to see
why the bot stayed silent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from .formatting import detect_entities, utf16_slice
from .model import CallbackAnswer, ChatMessage, ChatState, ChatView

if TYPE_CHECKING:
    from .server import BotApiEmulator

__all__ = ["SimChannel", "SimGroup", "SimUser"]

Predicate = Callable[[ChatMessage], bool]


class _ChatWatcher:
    """Cursor-based waiting on the bot's messages in one chat."""

    def __init__(self, emu: BotApiEmulator, state: ChatState) -> None:
        self._emu = emu
        self._state = state
        self._new_cursor = 0
        self._edit_cursor = 0
        self._screen_cursor = 0

    @property
    def chat(self) -> ChatView:
        return ChatView(self._state)

    @property
    def chat_id(self) -> int:
        return self._state.id

    def skip_pending(self) -> None:
        """Treat every bot message and edit so far as seen."""
        self._new_cursor = len(self._state.new_log)
        self._edit_cursor = len(self._state.edit_log)
        self._screen_cursor = len(self._state.screen_log)

    async def wait_for_message(self, predicate: Predicate | None = None, timeout: float | None = None) -> ChatMessage:
        """The next new bot message (since the last wait) that matches ``predicate``."""
        return await self._wait(self._state.new_log, "_new_cursor", predicate, timeout, "bot message")

    async def next_message(self, timeout: float | None = None) -> ChatMessage:
        """The next new bot message in this chat."""
        return await self.wait_for_message(None, timeout)

    async def wait_for_edit(
        self,
        predicate: Predicate | None = None,
        *,
        message_id: int | None = None,
        timeout: float | None = None,
    ) -> ChatMessage:
        """The next edit of a bot message (optionally of ``message_id``) matching ``predicate``."""

        def matches(msg: ChatMessage) -> bool:
            return (message_id is None or msg.message_id == message_id) and (predicate is None or predicate(msg))

        return await self._wait(self._state.edit_log, "_edit_cursor", matches, timeout, "edit of a bot message")

    async def next_screen(self, predicate: Predicate | None = None, timeout: float | None = None) -> ChatMessage:
        """What the person sees next: a new bot message, or a bot message whose text was edited
        (a button's answer replaces the question it was pressed on). Waiting for messages or
        edits afterwards goes on after this one."""
        timeout = self._emu.default_timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        state = self._state
        while True:
            while self._screen_cursor < len(state.screen_log):
                kind, index = state.screen_log[self._screen_cursor]
                self._screen_cursor += 1
                msg = (state.new_log if kind == "new" else state.edit_log)[index]
                if predicate is None or predicate(msg):
                    if kind == "new":
                        self._new_cursor = max(self._new_cursor, index + 1)
                    else:
                        self._edit_cursor = max(self._edit_cursor, index + 1)
                    return msg.snapshot()
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(self._timeout_report("no new or edited bot message", timeout))
            await state.notifier.wait(remaining)

    async def expect_silence(self, seconds: float = 0.3) -> None:
        """Assert that the bot sends no new message here for ``seconds``."""
        start = len(self._state.new_log)
        await asyncio.sleep(seconds)
        extra = self._state.new_log[start:]
        if extra:
            raise AssertionError("expected no bot message, got:\n  " + "\n  ".join(m.describe() for m in extra))

    async def _wait(
        self,
        log: list[ChatMessage],
        cursor_name: str,
        predicate: Predicate | None,
        timeout: float | None,
        what: str,
    ) -> ChatMessage:
        timeout = self._emu.default_timeout if timeout is None else timeout
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            index = getattr(self, cursor_name)
            while index < len(log):
                msg = log[index]
                index += 1
                if predicate is None or predicate(msg):
                    setattr(self, cursor_name, index)
                    return msg.snapshot()
            setattr(self, cursor_name, index)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(self._timeout_report(f"no matching {what}", timeout))
            await self._state.notifier.wait(remaining)

    def _timeout_report(self, what: str, timeout: float) -> str:
        emu = self._emu
        lines = [f"{what} in chat {self._state.id} within {timeout:g}s", self.chat.dump()]
        failed = [
            r for r in emu.requests if not r.ok and r.method != "getUpdates" and str(r.chat_id) == str(self._state.id)
        ][-10:]
        if failed:
            lines.append("failed bot requests for this chat:\n  " + "\n  ".join(str(r) for r in failed))
        if emu.spec_violations:
            lines.append("spec violations:\n  " + "\n  ".join(emu.spec_violations[-10:]))
        if emu.emulator_errors:
            lines.append("emulator errors:\n" + "\n".join(emu.emulator_errors[-3:]))
        if emu.pending_updates:
            lines.append(f"{emu.pending_updates} updates not yet confirmed by the bot")
        return "\n".join(lines)

    # -- shared building blocks ------------------------------------------------------
    def _find_button(self, text: str) -> tuple[ChatMessage, str | None]:
        bot_msgs = [m for m in reversed(self._state.messages.values()) if m.from_bot and not m.deleted]
        for msg in bot_msgs:
            for label, data in msg.buttons:
                if label == text:
                    return msg, data
        low = text.lower()
        for msg in bot_msgs:
            for label, data in msg.buttons:
                if low in label.lower():
                    return msg, data
        raise AssertionError(f"no inline button {text!r} in chat {self._state.id}\n{self.chat.dump()}")

    async def _press(
        self, user: SimUser, message_id: int, data: str, timeout: float | None, must_answer: bool
    ) -> CallbackAnswer | None:
        emu = self._emu
        msg = self._state.messages.get(message_id)
        if msg is None:
            raise ValueError(f"message {message_id} does not exist in chat {self._state.id}")
        if msg.deleted:
            message: dict[str, Any] = {"chat": self._state.api(), "message_id": message_id, "date": 0}
        else:
            message = msg.api
        pending = emu._new_callback(self._state, user.id, message_id, data)
        payload = {
            "id": pending.query_id,
            "from": user.api(),
            "message": message,
            "chat_instance": str(abs(self._state.id) * 7919 + emu.bot_id),
            "data": data,
        }
        if emu.enqueue_update("callback_query", payload) is None:
            raise AssertionError("the bot's allowed_updates filter out callback_query updates")
        timeout = emu.default_timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(asyncio.shield(pending.future), timeout)
        except TimeoutError:
            if not must_answer:
                return None
            raise AssertionError(
                self._timeout_report(f"no answerCallbackQuery for button data {data!r}", timeout)
            ) from None

    def _user_message(
        self,
        user: SimUser | None,
        *,
        text: str = "",
        media_type: str | None = None,
        content: dict[str, Any] | None = None,
        caption: str | None = None,
        reply_to: int | None = None,
        media_group_id: str | None = None,
        file: Any = None,
    ) -> ChatMessage:
        emu = self._emu
        if reply_to is not None:
            target = self._state.messages.get(reply_to)
            if target is None or target.deleted:
                raise ValueError(f"message {reply_to} to reply to does not exist")
        visible = caption if media_type is not None else text
        msg = emu._new_message(
            self._state,
            from_bot=False,
            sender=user.api() if user is not None else None,
            text=visible or "",
            html=visible,
            entities=detect_entities(visible) if visible else [],
            media_type=media_type,
            content=content or {},
            caption=caption,
            reply_to_message_id=reply_to,
            media_group_id=media_group_id,
            file_id=getattr(file, "file_id", None),
            file_bytes=getattr(file, "data", None),
            file_name=getattr(file, "file_name", None),
            mime_type=getattr(file, "mime_type", None),
        )
        return emu._store_message(self._state, msg)


class SimUser(_ChatWatcher):
    """A simulated Telegram user and their private chat with the bot."""

    def __init__(
        self,
        emu: BotApiEmulator,
        state: ChatState,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        is_premium: bool = False,
    ) -> None:
        super().__init__(emu, state)
        self.id = state.id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.is_premium = is_premium

    def api(self) -> dict[str, Any]:
        """This user's Bot API ``User`` object."""
        d: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            d["last_name"] = self.last_name
        if self.username:
            d["username"] = self.username
        if self.language_code:
            d["language_code"] = self.language_code
        if self.is_premium:
            d["is_premium"] = True
        return d

    @property
    def blocked(self) -> bool:
        return self._state.blocked

    def __repr__(self) -> str:
        return f"<SimUser {self.id} {self.first_name!r}>"

    # -- sending -------------------------------------------------------------------------
    def _deliver(self, msg: ChatMessage, kind: str = "message") -> ChatMessage:
        self._emu.enqueue_update(kind, msg.api)
        return msg.snapshot()

    def _open_chat(self) -> None:
        if self._state.blocked:
            raise RuntimeError(f"{self!r} has blocked the bot; call unblock() before writing to it")
        self._state.started = True

    async def send(self, text: str, *, reply_to: int | None = None) -> ChatMessage:
        """Send a text message to the bot; returns the user's message."""
        if not text:
            raise ValueError("Telegram clients cannot send an empty message")
        self._open_chat()
        return self._deliver(self._user_message(self, text=text, reply_to=reply_to))

    async def command(self, command: str, payload: str | None = None) -> ChatMessage:
        """Send ``/command`` (or ``/command payload``, as a t.me deep link does)."""
        command = command if command.startswith("/") else "/" + command
        return await self.send(f"{command} {payload}" if payload else command)

    async def send_photo(
        self, data: bytes, caption: str | None = None, *, width: int | None = None, height: int | None = None
    ) -> ChatMessage:
        """Send a photo; the bot can getFile any of its sizes and download the bytes."""
        self._open_chat()
        sf = self._emu.register_file("photo", data, width=width, height=height)
        return self._deliver(
            self._user_message(
                self, media_type="photo", content=self._emu.media_content("photo", sf), caption=caption, file=sf
            )
        )

    async def send_document(
        self,
        data: bytes,
        file_name: str = "document.bin",
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
    ) -> ChatMessage:
        self._open_chat()
        sf = self._emu.register_file("document", data, file_name=file_name, mime_type=mime_type)
        return self._deliver(
            self._user_message(
                self,
                media_type="document",
                content=self._emu.media_content("document", sf),
                caption=caption,
                file=sf,
            )
        )

    async def send_voice(self, data: bytes, duration: int = 3, mime_type: str = "audio/ogg") -> ChatMessage:
        self._open_chat()
        sf = self._emu.register_file("voice", data, mime_type=mime_type, duration=duration)
        return self._deliver(
            self._user_message(self, media_type="voice", content=self._emu.media_content("voice", sf), file=sf)
        )

    async def send_video(
        self, data: bytes, duration: int = 5, caption: str | None = None, mime_type: str = "video/mp4"
    ) -> ChatMessage:
        self._open_chat()
        sf = self._emu.register_file("video", data, mime_type=mime_type, duration=duration, width=640, height=480)
        return self._deliver(
            self._user_message(
                self, media_type="video", content=self._emu.media_content("video", sf), caption=caption, file=sf
            )
        )

    async def send_audio(
        self, data: bytes, duration: int = 30, file_name: str = "opname.mp3", mime_type: str = "audio/mpeg"
    ) -> ChatMessage:
        self._open_chat()
        sf = self._emu.register_file("audio", data, file_name=file_name, mime_type=mime_type, duration=duration)
        return self._deliver(
            self._user_message(self, media_type="audio", content=self._emu.media_content("audio", sf), file=sf)
        )

    async def send_video_note(self, data: bytes, duration: int = 8) -> ChatMessage:
        self._open_chat()
        sf = self._emu.register_file("video_note", data, mime_type="video/mp4", duration=duration)
        return self._deliver(
            self._user_message(
                self, media_type="video_note", content=self._emu.media_content("video_note", sf), file=sf
            )
        )

    async def send_sticker(self, emoji: str = "👍") -> ChatMessage:
        self._open_chat()
        sf = self._emu.register_file("sticker", b"RIFF\x00\x00\x00\x00WEBPVP8 sticker", mime_type="image/webp")
        content = self._emu.media_content("sticker", sf)
        content["sticker"]["emoji"] = emoji
        return self._deliver(self._user_message(self, media_type="sticker", content=content, file=sf))

    async def send_location(self, latitude: float, longitude: float) -> ChatMessage:
        self._open_chat()
        content = {"location": {"latitude": float(latitude), "longitude": float(longitude)}}
        return self._deliver(self._user_message(self, media_type="location", content=content))

    async def send_contact(self, phone_number: str, first_name: str | None = None) -> ChatMessage:
        """Share a contact; with no ``first_name`` it is the user's own (request_contact)."""
        self._open_chat()
        contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name or self.first_name}
        if first_name is None:
            contact["user_id"] = self.id
            if self.last_name:
                contact["last_name"] = self.last_name
        return self._deliver(self._user_message(self, media_type="contact", content={"contact": contact}))

    async def send_media_group(
        self, items: Sequence[bytes | tuple[str, bytes] | tuple[str, bytes, str | None]]
    ) -> list[ChatMessage]:
        """Send an album: items are photo bytes or (kind, bytes[, caption]) with kind photo/video/document.

        Each item becomes its own message update sharing one media_group_id, as at Telegram.
        """
        if not 2 <= len(items) <= 10:
            raise ValueError("an album has 2 to 10 items")
        self._open_chat()
        group_id = str(20**13 + self._emu._file_counter)
        result = []
        for item in items:
            if isinstance(item, bytes):
                kind, data, caption = "photo", item, None
            else:
                kind, data = item[0], item[1]
                caption = item[2] if len(item) > 2 else None
            extra: dict[str, Any] = {}
            if kind == "document":
                extra = {"file_name": "document.bin", "mime_type": "application/octet-stream"}
            elif kind == "video":
                extra = {"mime_type": "video/mp4", "duration": 5, "width": 640, "height": 480}
            sf = self._emu.register_file(kind, data, **extra)
            msg = self._user_message(
                self,
                media_type=kind,
                content=self._emu.media_content(kind, sf),
                caption=caption,
                media_group_id=group_id,
                file=sf,
            )
            result.append(self._deliver(msg))
        return result

    async def edit_message(self, message_id: int, text: str) -> ChatMessage:
        """Edit one of this user's text messages; the bot gets an edited_message update."""
        state = self._state
        msg = state.messages.get(message_id)
        if msg is None or msg.deleted or msg.from_bot or msg.sender_id != self.id:
            raise ValueError(f"{self!r} has no message {message_id} to edit")
        if msg.media_type is not None:
            raise ValueError("only text messages can be edited by this helper")
        msg.history.append((msg.text, msg.entities, msg.reply_markup))
        msg.text = msg.html = text
        msg.entities = detect_entities(text)
        msg.edited += 1
        msg.edit_date = int(self._emu.clock())
        msg.api = self._emu._render(msg)
        return self._deliver(msg, "edited_message")

    # -- buttons --------------------------------------------------------------------------
    async def press(self, text: str, timeout: float | None = None) -> CallbackAnswer:
        """Press the inline button labelled ``text`` on the newest bot message having it.

        Waits for the bot's answerCallbackQuery and returns it; raises AssertionError if
        there is no such button or the bot does not answer in time.
        """
        msg, data = self._find_button(text)
        if data is None:
            raise AssertionError(f"button {text!r} on message {msg.message_id} has no callback_data")
        answer = await self._press(self, msg.message_id, data, timeout, must_answer=True)
        assert answer is not None
        return answer

    async def press_data(self, message_id: int, data: str, timeout: float | None = None) -> CallbackAnswer | None:
        """Press arbitrary callback data on a message (forgery tests); None if unanswered."""
        return await self._press(self, message_id, data, timeout, must_answer=False)

    # -- relationship with the bot ------------------------------------------------------------
    def _member_update(self, old: str, new: str) -> None:
        bot = self._emu.bot_user()
        new_member: dict[str, Any] = {"status": new, "user": bot}
        if new == "kicked":
            new_member["until_date"] = 0
        old_member: dict[str, Any] = {"status": old, "user": bot}
        if old == "kicked":
            old_member["until_date"] = 0
        self._emu.enqueue_update(
            "my_chat_member",
            {
                "chat": self._state.api(),
                "from": self.api(),
                "date": int(self._emu.clock()),
                "old_chat_member": old_member,
                "new_chat_member": new_member,
            },
        )

    def block(self) -> None:
        """Block the bot: sends then fail with 403; the bot gets a my_chat_member update."""
        if not self._state.blocked:
            self._state.blocked = True
            self._member_update("member", "kicked")

    def unblock(self) -> None:
        """Unblock the bot (it gets a my_chat_member update back to "member")."""
        if self._state.blocked:
            self._state.blocked = False
            self._member_update("kicked", "member")


class SimGroup(_ChatWatcher):
    """A group or supergroup with the bot as member; users act through it."""

    def __init__(self, emu: BotApiEmulator, state: ChatState) -> None:
        super().__init__(emu, state)

    def __repr__(self) -> str:
        return f"<SimGroup {self._state.id} {self._state.title!r}>"

    def _bot_sees(self, msg: ChatMessage) -> bool:
        """Telegram's privacy mode: what a non-admin bot receives from a group."""
        st = self._state
        if not st.bot_member:
            return False
        if not st.privacy_mode or st.bot_is_admin:
            return True
        username = self._emu.bot_username.lower()
        for ent in msg.entities:
            if ent["type"] == "bot_command":
                command = utf16_slice(msg.text, ent["offset"], ent["length"])
                _, _, target = command.partition("@")
                if not target or target.lower() == username:
                    return True
        if f"@{username}" in msg.text.lower():
            return True
        if msg.reply_to_message_id is not None:
            replied = st.messages.get(msg.reply_to_message_id)
            if replied is not None and replied.from_bot:
                return True
        return False

    async def send(self, user: SimUser, text: str, *, reply_to: int | None = None) -> ChatMessage:
        """``user`` writes ``text`` in the group; delivered to the bot if privacy mode allows."""
        if not text:
            raise ValueError("Telegram clients cannot send an empty message")
        msg = self._user_message(user, text=text, reply_to=reply_to)
        if self._bot_sees(msg):
            self._emu.enqueue_update("message", msg.api)
        return msg.snapshot()

    async def command(
        self, user: SimUser, command: str, payload: str | None = None, *, mention: bool = False
    ) -> ChatMessage:
        command = command if command.startswith("/") else "/" + command
        if mention:
            command += "@" + self._emu.bot_username
        return await self.send(user, f"{command} {payload}" if payload else command)

    async def press(self, user: SimUser, text: str, timeout: float | None = None) -> CallbackAnswer:
        msg, data = self._find_button(text)
        if data is None:
            raise AssertionError(f"button {text!r} on message {msg.message_id} has no callback_data")
        answer = await self._press(user, msg.message_id, data, timeout, must_answer=True)
        assert answer is not None
        return answer

    async def press_data(
        self, user: SimUser, message_id: int, data: str, timeout: float | None = None
    ) -> CallbackAnswer | None:
        return await self._press(user, message_id, data, timeout, must_answer=False)

    def remove_bot(self, by: SimUser) -> None:
        """``by`` removes the bot from the group; the bot gets my_chat_member (left)."""
        st = self._state
        if not st.bot_member:
            return
        st.bot_member = False
        st.bot_is_admin = False
        bot = self._emu.bot_user()
        self._emu.enqueue_update(
            "my_chat_member",
            {
                "chat": st.api(),
                "from": by.api(),
                "date": int(self._emu.clock()),
                "old_chat_member": {"status": "member", "user": bot},
                "new_chat_member": {"status": "left", "user": bot},
            },
        )


class SimChannel(_ChatWatcher):
    """A channel: posts become channel_post updates; bot posts carry sender_chat."""

    def __repr__(self) -> str:
        return f"<SimChannel {self._state.id} {self._state.title!r}>"

    async def post(self, text: str) -> ChatMessage:
        if not text:
            raise ValueError("Telegram clients cannot post an empty message")
        msg = self._user_message(None, text=text)
        if self._state.bot_member:
            self._emu.enqueue_update("channel_post", msg.api)
        return msg.snapshot()
