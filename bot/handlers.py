"""The Telegram side of every conversation: updates in, flow calls, replies out.

Each handler turns an update into a plain call on a flow and shows the
:class:`~flows.outcome.Outcome` it returns. Handler groups (see :func:`register`):

- group -1, the guard: anything that is not a private chat is answered once with
  "I only work in a private chat" and the bot leaves; nothing is stored. Stops
  further processing.
- group 0, the handlers proper: commands, button presses, text, files, and a
  last catch-all for message types the bot cannot keep.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass

from telegram import BotCommand, BotCommandScopeChat, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

import messages
from bot import callbacks, render
from bot.delivery import Courier, send_reply
from flows.acknowledgement import Acknowledgements
from flows.intake import MAX_ATTACHMENT_BYTES, Intake
from flows.model import AttachmentKind, IncomingAttachment, Language, Sender
from flows.outcome import (
    Acknowledge,
    Answer,
    Choice,
    ChooseLanguage,
    CleanUp,
    Outcome,
    Reply,
    ResumeDraft,
    StartReport,
)
from storage import Storage

log = logging.getLogger(__name__)

COMMANDS = ("start", "report", "cancel", "language", "help")


@dataclass(slots=True)
class Services:
    storage: Storage
    intake: Intake
    acknowledgements: Acknowledgements
    courier: Courier
    clock: object


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]


def sender_of(update: Update) -> Sender:
    user = update.effective_user
    return Sender(
        telegram_id=user.id,
        display_name=user.full_name,
        username=user.username,
        language_code=user.language_code,
    )


def command_menu(language: str) -> list[BotCommand]:
    return [BotCommand(name, messages.plain(language, f"command.{name}")) for name in COMMANDS]


# -- showing an outcome ----------------------------------------------------------------


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: Outcome) -> None:
    """Answer the press, edit the pressed message, send replies, and record the exchange."""
    language = outcome.language.value
    query = update.callback_query
    chat_id = update.effective_chat.id
    if query is not None:
        toast = None if outcome.toast is None else messages.plain(language, outcome.toast.key, outcome.toast.params)
        await _quietly(query.answer(toast, show_alert=outcome.toast_alert))
        if outcome.edit_pressed is not None:
            await _quietly(
                query.edit_message_text(
                    render.text(language, outcome.edit_pressed),
                    parse_mode=render.PARSE_MODE,
                    reply_markup=render.keyboard(language, outcome.edit_pressed.keyboard),
                )
            )
        elif outcome.clear_pressed_buttons and query.message is not None and _has_buttons(query.message):
            await _quietly(query.edit_message_reply_markup(reply_markup=None))
    sent: list[int] = []
    for reply in outcome.replies:
        message = await send_reply(context.bot, chat_id, language, reply)
        sent.append(message.message_id)
    if outcome.delete_messages:
        ids = list(outcome.delete_messages)
        for start in range(0, len(ids), 100):
            await _quietly(context.bot.delete_messages(chat_id, ids[start : start + 100]))
    if outcome.case_id is not None:
        incoming = [update.effective_message.message_id] if update.message is not None else []
        await services(context).intake.remember_messages(outcome.case_id, incoming + sent)
    if outcome.wake_outbox:
        services(context).courier.wake()


def _has_buttons(message: object) -> bool:
    markup = getattr(message, "reply_markup", None)
    return bool(markup and markup.inline_keyboard)


async def _quietly(call) -> None:
    """Edits and answers that may legitimately fail (message not modified, too old, already answered)."""
    try:
        await call
    except BadRequest as error:
        log.debug("ignored Telegram refusal: %s", type(error).__name__)


# -- the guard: private chats only -------------------------------------------------------


async def private_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    if update.callback_query is not None:
        await _quietly(update.callback_query.answer())
    elif update.effective_message is not None:
        language = Language.from_telegram(update.effective_user.language_code if update.effective_user else None)
        try:
            await context.bot.send_message(
                chat.id,
                messages.render(language.value, "private_only", {"bot": context.bot.username}),
                parse_mode=render.PARSE_MODE,
            )
            await context.bot.leave_chat(chat.id)
        except TelegramError as error:
            log.info("could not answer in a %s chat: %s", chat.type, type(error).__name__)
    raise ApplicationHandlerStop


# -- commands ---------------------------------------------------------------------------


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show(update, context, await services(context).intake.welcome(sender_of(update)))


async def on_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show(update, context, await services(context).intake.start(sender_of(update)))


async def on_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show(update, context, await services(context).intake.cancel_command(sender_of(update)))


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    sender = sender_of(update)
    person = await services(context).storage.people.find(sender.telegram_id)
    language = Language(person.language) if person else Language.from_telegram(sender.language_code)
    await show(update, context, Outcome(language, replies=[Reply("help")]))


async def on_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    sender = sender_of(update)
    person = await services(context).storage.people.find(sender.telegram_id)
    language = Language(person.language) if person else Language.from_telegram(sender.language_code)
    buttons = (
        (Choice("language.nl", ChooseLanguage(Language.NL)), Choice("language.en", ChooseLanguage(Language.EN))),
    )
    await show(update, context, Outcome(language, replies=[Reply("language.ask", keyboard=buttons)]))


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await on_help(update, context)


# -- buttons ---------------------------------------------------------------------------


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    action = callbacks.decode(query.data)
    sender = sender_of(update)
    svc = services(context)
    match action:
        case StartReport():
            outcome = await svc.intake.start(sender)
        case Answer():
            outcome = await svc.intake.press(sender, action)
        case ResumeDraft():
            outcome = await svc.intake.resume(sender, action)
        case ChooseLanguage(language):
            outcome = await _choose_language(update, context, sender, language)
        case Acknowledge():
            outcome = await svc.acknowledgements.press(sender, action)
        case CleanUp():
            outcome = await svc.intake.clean_up(sender, action)
        case _:
            # Forged, mangled, or from a version of the bot that no longer exists.
            person = await svc.storage.people.find(sender.telegram_id)
            language = Language(person.language) if person else Language.from_telegram(sender.language_code)
            outcome = Outcome(language, toast=messages.Label("toast.stale"))
    await show(update, context, outcome)


async def _choose_language(update: Update, context, sender: Sender, language: Language) -> Outcome:
    svc = services(context)
    person = await svc.storage.people.ensure(
        telegram_id=sender.telegram_id,
        display_name=sender.display_name,
        username=sender.username,
        language=language.value,
        now=svc.clock.now(),
    )
    await svc.storage.people.choose_language(person.id, language.value, svc.clock.now())
    try:
        await context.bot.set_my_commands(
            command_menu(language.value), scope=BotCommandScopeChat(update.effective_chat.id)
        )
    except TelegramError as error:
        log.info("could not set the chat's command menu: %s", type(error).__name__)
    return Outcome(language, edit_pressed=Reply("language.set"))


# -- messages --------------------------------------------------------------------------


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show(update, context, await services(context).intake.text(sender_of(update), update.message.text))


async def on_attachment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    svc = services(context)
    sender = sender_of(update)
    kind, media, file_name, mime_type, duration = _media_of(message)
    if media.file_size is not None and media.file_size > MAX_ATTACHMENT_BYTES:
        await show(
            update,
            context,
            await svc.intake.notice(sender, "attachment.too_big", {"max_mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)}),
        )
        return
    try:
        telegram_file = await media.get_file()
        content = bytes(await telegram_file.download_as_bytearray())
    except BadRequest as error:
        log.info("could not fetch an attachment: %s", type(error).__name__)
        key = "attachment.too_big" if "too big" in error.message.lower() else "attachment.failed"
        await show(
            update, context, await svc.intake.notice(sender, key, {"max_mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)})
        )
        return
    except TelegramError as error:
        log.info("could not fetch an attachment: %s", type(error).__name__)
        await show(update, context, await svc.intake.notice(sender, "attachment.failed", {}))
        return
    incoming = IncomingAttachment(kind, content, file_name, mime_type, duration, message.caption)
    await show(update, context, await svc.intake.attachment(sender, incoming))


def _media_of(message: Message):
    if message.photo:
        return AttachmentKind.PHOTO, message.photo[-1], None, "image/jpeg", None
    if message.document:
        doc = message.document
        return AttachmentKind.DOCUMENT, doc, doc.file_name, doc.mime_type, None
    if message.voice:
        return AttachmentKind.VOICE, message.voice, None, message.voice.mime_type, message.voice.duration
    if message.audio:
        audio = message.audio
        return AttachmentKind.AUDIO, audio, audio.file_name, audio.mime_type, audio.duration
    if message.video:
        video = message.video
        return AttachmentKind.VIDEO, video, video.file_name, video.mime_type, video.duration
    note = message.video_note
    return AttachmentKind.VIDEO_NOTE, note, None, "video/mp4", note.duration


async def on_unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show(update, context, await services(context).intake.unsupported(sender_of(update)))


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show(update, context, await services(context).intake.edited(sender_of(update)))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log what failed without its content, and tell the person their input is safe."""
    error = context.error
    where = f"update {update.update_id}" if isinstance(update, Update) else "a job"
    log.error(
        "%s failed: %s at %s",
        where,
        type(error).__name__,
        "".join(f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} " for frame in _frames(error))[-300:],
    )
    if isinstance(update, Update) and update.effective_chat and update.effective_chat.type == ChatType.PRIVATE:
        language = Language.from_telegram(update.effective_user.language_code if update.effective_user else None)
        try:
            if update.callback_query is not None:
                await _quietly(update.callback_query.answer())
            await send_reply(context.bot, update.effective_chat.id, language, Reply("error.internal"))
        except TelegramError:
            pass


def _frames(error: BaseException | None) -> list[traceback.FrameSummary]:
    if error is None or error.__traceback__ is None:
        return []
    return traceback.extract_tb(error.__traceback__)


def register(application: Application) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(TypeHandler(Update, private_only), group=-1)
    # Edits first: an edited "/start" or text must not run the command or step again.
    application.add_handler(MessageHandler(private & filters.UpdateType.EDITED_MESSAGE, on_edited))
    application.add_handler(CommandHandler("start", on_start, filters=private))
    application.add_handler(CommandHandler(["report", "melden"], on_report, filters=private))
    application.add_handler(CommandHandler(["cancel", "stop"], on_cancel, filters=private))
    application.add_handler(CommandHandler(["language", "taal"], on_language, filters=private))
    application.add_handler(CommandHandler(["help", "hulp"], on_help, filters=private))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(private & filters.COMMAND, on_unknown_command))
    application.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE, on_text)
    )
    media = filters.PHOTO | filters.Document.ALL | filters.VOICE | filters.AUDIO | filters.VIDEO | filters.VIDEO_NOTE
    application.add_handler(MessageHandler(private & media & filters.UpdateType.MESSAGE, on_attachment))
    application.add_handler(MessageHandler(private & filters.UpdateType.MESSAGE, on_unsupported))
    application.add_error_handler(on_error)
