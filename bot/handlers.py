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

import asyncio
import logging
import traceback
import warnings
from collections.abc import Awaitable, Sequence
from datetime import timedelta
from typing import cast

from telegram import (
    Audio,
    BotCommand,
    BotCommandScopeChat,
    CallbackQuery,
    Document,
    InputFile,
    Message,
    PhotoSize,
    Update,
    Video,
    VideoNote,
    Voice,
)
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
from bot import callbacks, dispatch, render
from bot.delivery import send_made_file, send_reply
from bot.services import Services
from flows import privacy
from flows.invites import INVITE_MODE
from flows.model import AttachmentKind, Coordinator, Counsellor, IncomingAttachment, Language, Manager, Sender
from flows.outcome import (
    Choice,
    ChooseLanguage,
    Outcome,
    RegisterView,
    Reply,
)
from flows.routing import StaffMember

log = logging.getLogger(__name__)

# How long a press may keep the client's spinner turning before it is answered without waiting
# for the flow (whose outcome then follows as an edit or a message).
ANSWER_WITHIN = 0.15

# The command menus per role (set per chat for staff; the default is the reporters' menu).
REPORTER_COMMANDS = ("start", "report", "mycases", "cancel", "language", "forgetme", "privacy", "help")
STRANGER_COMMANDS = ("start", "language", "privacy", "help")
COUNSELLOR_COMMANDS = ("inbox", "case", "dossier", "report", "mycases", "cancel", "language", "privacy", "help")
COORDINATOR_COMMANDS = (
    "register",
    "case",
    "dossier",
    "stats",
    "export",
    "invite",
    "pulse",
    "report",
    "mycases",
    "cancel",
    "language",
    "privacy",
    "help",
)
# Management sees no case: no list, no /case; the statistics and the pulse; they may report like anyone.
MANAGEMENT_COMMANDS = ("stats", "pulse", "report", "mycases", "cancel", "language", "privacy", "help")


def staff_commands(members: Sequence[StaffMember], invite_mode: bool) -> tuple[str, ...] | None:
    """The command menu of someone's most involved role (None: the reporters' menu is theirs)."""
    kinds = {type(m) for m in members}
    if Counsellor in kinds:
        return COUNSELLOR_COMMANDS
    if Coordinator in kinds:
        return COORDINATOR_COMMANDS if invite_mode else tuple(c for c in COORDINATOR_COMMANDS if c != "invite")
    if Manager in kinds:
        return MANAGEMENT_COMMANDS
    return None


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return cast(Services, context.application.bot_data["services"])


def sender_of(update: Update) -> Sender:
    user = update.effective_user
    # Every update the bot receives (messages, edits, presses) has a sender; channel posts are not asked for.
    assert user is not None
    return Sender(
        telegram_id=user.id,
        display_name=user.full_name,
        username=user.username,
        language_code=user.language_code,
    )


def command_menu(language: str, commands: tuple[str, ...] = REPORTER_COMMANDS) -> list[BotCommand]:
    return [BotCommand(name, messages.plain(language, f"command.{name}")) for name in commands]


async def language_of(context: ContextTypes.DEFAULT_TYPE, sender: Sender) -> Language:
    svc = services(context)
    members = svc.router.staff_member(sender.telegram_id)
    if members:
        return members[0].language
    person = await svc.storage.people.find(sender.telegram_id)
    return Language(person.language) if person else Language.from_telegram(sender.language_code)


async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """In invite mode, someone without an invitation gets the explanation and nothing else."""
    sender = sender_of(update)
    svc = services(context)
    if await svc.admission.admitted(sender):
        return True
    await show(update, context, svc.admission.stranger(sender))
    return False


# -- showing an outcome ----------------------------------------------------------------


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: Outcome) -> None:
    """Answer the press, edit the pressed message, send replies, and record the exchange."""
    language = outcome.language.value
    query = update.callback_query
    # Private chats only: the chat is the person's own (an update without one is answered there too).
    chat_id = update.effective_chat.id if update.effective_chat else sender_of(update).telegram_id
    replies = list(outcome.replies)
    if query is not None:
        answered = services(context).answered
        if query.id in answered:
            # Answered early (the flow was slow), so a short answer of the flow's comes as a message.
            if outcome.toast is not None:
                replies.insert(0, Reply(outcome.toast.key, outcome.toast.params))
            answering: asyncio.Future[None] = asyncio.ensure_future(asyncio.sleep(0))
        else:
            toast = None if outcome.toast is None else messages.plain(language, outcome.toast.key, outcome.toast.params)
            answered.add(query.id)
            # The answer (it stops the client's spinner) and the edit go out together.
            answering = asyncio.ensure_future(_quietly(query.answer(toast, show_alert=outcome.toast_alert)))
        if outcome.edit_pressed is not None:
            if not await _edit_pressed(query, language, outcome.edit_pressed):
                replies.insert(0, outcome.edit_pressed)
        elif outcome.pressed_keyboard is not None:
            await _quietly(
                query.edit_message_reply_markup(reply_markup=render.keyboard(language, outcome.pressed_keyboard))
            )
        elif outcome.clear_pressed_buttons and query.message is not None and _has_buttons(query.message):
            await _quietly(query.edit_message_reply_markup(reply_markup=None))
        await answering
    elif outcome.edit_pressed is not None:
        # Meant for a pressed message, but this was typed: it is shown as a message of its own.
        replies.insert(0, outcome.edit_pressed)
    sent: list[int] = []
    for reply in replies:
        message = await send_reply(context.bot, chat_id, language, reply)
        sent.append(message.message_id)
    for made in outcome.files:
        await send_made_file(context.bot, chat_id, language, made)
    if outcome.delete_messages:
        ids = list(outcome.delete_messages)
        for start in range(0, len(ids), 100):
            await _quietly(context.bot.delete_messages(chat_id, ids[start : start + 100]))
    if outcome.case_id is not None:
        incoming = [update.message.message_id] if update.message is not None else []
        await services(context).intake.remember_messages(outcome.case_id, incoming + sent)


async def _edit_pressed(query: CallbackQuery, language: str, reply: Reply) -> bool:
    """Turn the pressed message into ``reply``; False when that did not happen, so that the reply
    is sent as a new message instead (the next question must never be lost). After a timeout the
    edit may have been made all the same: then the person sees it twice, never not at all."""
    try:
        await query.edit_message_text(
            render.text(language, reply),
            parse_mode=render.PARSE_MODE,
            reply_markup=render.keyboard(language, reply.keyboard),
        )
    except BadRequest as error:
        if "not modified" in error.message.lower():
            return True  # it already shows exactly this (a second press of the same button)
        log.info("could not edit the pressed message (%s); sending it anew", type(error).__name__)
        return False
    except TelegramError as error:
        log.info("editing the pressed message failed (%s); sending it anew", type(error).__name__)
        return False
    return True


def _has_buttons(message: object) -> bool:
    markup = getattr(message, "reply_markup", None)
    return bool(markup and markup.inline_keyboard)


async def _quietly(call: Awaitable[object]) -> None:
    """Cosmetic steps (answering a press, editing the pressed message, deleting messages) that may
    fail without harm: not modified, too old, already answered, or a network hiccup. They never
    stop the reply itself, which carries what the person must see."""
    try:
        await call
    except BadRequest as error:
        log.debug("ignored Telegram refusal: %s", type(error).__name__)
    except TelegramError as error:
        log.info("a cosmetic step failed (%s); the reply goes on", type(error).__name__)


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
    svc = services(context)
    sender = sender_of(update)
    payload = context.args[0] if context.args else ""
    if payload:
        enrolled = await svc.enrolment.redeem(sender, payload)
        if enrolled is not None:
            await show(update, context, enrolled)
            await _staff_menus(context, sender)
            return
        outcome = await svc.admission.redeem(sender, payload)
        if outcome is not None:
            await show(update, context, outcome)
            if svc.admission.mode == INVITE_MODE and await svc.admission.admitted(sender):
                await _set_menu(context, sender.telegram_id, outcome.language, REPORTER_COMMANDS)
            return
    if svc.courier is not None:
        # Whatever waited for this person because they had not opened the bot goes now.
        await svc.courier.arrived(svc.storage.people.index_of(sender.telegram_id))
    if not await gate(update, context):
        return
    await show(update, context, await svc.intake.welcome(sender))
    await _staff_menus(context, sender)


async def _staff_menus(context: ContextTypes.DEFAULT_TYPE, sender: Sender) -> None:
    """Staff who open the bot after it started (or were just enrolled) get their menu now
    (Telegram refuses it before)."""
    svc = services(context)
    members = svc.router.staff_member(sender.telegram_id)
    commands = staff_commands(members, svc.admission.mode == INVITE_MODE)
    if commands is not None:
        await _set_menu(context, sender.telegram_id, members[0].language, commands)


async def on_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await gate(update, context):
        await show(update, context, await services(context).intake.start(sender_of(update)))


async def on_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    sender = sender_of(update)
    if await svc.relay.current(sender) is not None:
        await show(update, context, await svc.relay.stop(sender))
        return
    if await gate(update, context):
        await show(update, context, await svc.intake.cancel_command(sender))


async def on_mycases(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await gate(update, context):
        await show(update, context, await services(context).mycases.list(sender_of(update)))


async def on_forgetme(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show(update, context, await services(context).mycases.forget_question(sender_of(update)))


async def on_inbox(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    outcome = await services(context).casework.inbox(sender_of(update))
    await show(update, context, _as_reply(outcome, "staff.only_counsellors"))


async def on_register(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    outcome = await services(context).casework.register(sender_of(update), RegisterView())
    await show(update, context, _as_reply(outcome, "staff.only_coordinators"))


async def on_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show(update, context, await services(context).steering.stats(sender_of(update)))


async def on_export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show(update, context, await services(context).steering.export(sender_of(update)))


async def on_case(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/case MB-XXXX-XXXX: staff open the case; its reporter opens their own view."""
    svc = services(context)
    sender = sender_of(update)
    reference = (context.args[0] if context.args else "").strip().upper()
    if not reference:
        await show(update, context, Outcome(await language_of(context, sender), replies=[Reply("case.usage")]))
        return
    outcome = await svc.casework.open(sender, reference)
    if outcome.toast is not None:
        outcome = await svc.mycases.open(sender, reference)
    await show(update, context, _as_reply(outcome, "case.not_found"))


async def on_dossier(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/dossier MB-XXXX-XXXX: staff have the case file for the police drawn up (the reporter is asked first)."""
    svc = services(context)
    sender = sender_of(update)
    reference = (context.args[0] if context.args else "").strip().upper()
    if not reference:
        await show(update, context, Outcome(await language_of(context, sender), replies=[Reply("dossier.usage")]))
        return
    await show(update, context, await svc.dossiers.request(sender, reference))


async def on_invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await show(update, context, await services(context).admission.menu(sender_of(update), " ".join(context.args or ())))


async def on_pulse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pulse: the safety pulse's results per period, as text and as a chart (content-protected)."""
    view = await services(context).pulse.results(sender_of(update))
    await show(update, context, view.outcome)
    if view.chart is not None and view.caption is not None:
        chat_id = update.effective_chat.id if update.effective_chat else sender_of(update).telegram_id
        language = view.outcome.language.value
        await context.bot.send_photo(
            chat_id,
            InputFile(view.chart, filename="veiligheidspeiling.png"),
            render.caption(language, view.caption),
            parse_mode=render.PARSE_MODE,
            protect_content=True,
        )


def _as_reply(outcome: Outcome, key: str) -> Outcome:
    """A refusal to a typed command is a message, not a toast (there is no button to answer)."""
    if outcome.toast is not None and not outcome.replies:
        outcome.replies = [Reply(key)]
        outcome.toast = None
    return outcome


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    sender = sender_of(update)
    svc = services(context)
    language = await language_of(context, sender)
    roles = {type(m).__name__ for m in svc.router.staff_member(sender.telegram_id)}
    key = "help"
    if "Counsellor" in roles:
        key = "help.counsellor"
    elif "Coordinator" in roles:
        key = "help.coordinator"
    elif "Manager" in roles:
        key = "help.management"
    elif not await svc.admission.admitted(sender):
        key = "invite.stranger"
    await show(update, context, Outcome(language, replies=[Reply(key)]))


async def on_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await gate(update, context):
        return
    sender = sender_of(update)
    language = await language_of(context, sender)
    buttons = (
        (Choice("language.nl", ChooseLanguage(Language.NL)), Choice("language.en", ChooseLanguage(Language.EN))),
    )
    await show(update, context, Outcome(language, replies=[Reply("language.ask", keyboard=buttons)]))


async def on_privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """For everyone, also strangers in invite mode (it stores nothing): what happens to their data."""
    language = await language_of(context, sender_of(update))
    policy = services(context).policy
    await show(update, context, privacy.statement(policy.organisation, language, policy.retention))


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await on_help(update, context)


async def _set_menu(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, language: Language, commands: tuple[str, ...]
) -> None:
    try:
        await context.bot.set_my_commands(command_menu(language.value, commands), scope=BotCommandScopeChat(chat_id))
    except TelegramError as error:
        log.info("could not set a chat's command menu: %s", type(error).__name__)


# -- buttons ---------------------------------------------------------------------------


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None  # this handler is registered for presses only
    sender = sender_of(update)
    svc = services(context)
    if query.message is None:
        # A button on an inline message: this bot never sends one, so it is not ours to act on.
        language = await language_of(context, sender)
        svc.answered.add(query.id)
        await _quietly(query.answer(messages.plain(language.value, "toast.stale")))
        return
    action = callbacks.decode(query.data)
    work = asyncio.ensure_future(dispatch.press(svc, sender, action, context.bot.username))
    done, _ = await asyncio.wait({work}, timeout=ANSWER_WITHIN)
    if not done:
        # Busy: stop the client's spinner now; what the press does follows as soon as it is done.
        svc.answered.add(query.id)
        await _quietly(query.answer())
    outcome = await work
    if isinstance(action, ChooseLanguage) and outcome.toast is None:
        members = svc.router.staff_member(sender.telegram_id)
        if staff_commands(members, svc.admission.mode == INVITE_MODE) is None:
            commands = REPORTER_COMMANDS if await svc.admission.admitted(sender) else STRANGER_COMMANDS
            await _set_menu(context, sender.telegram_id, action.language, commands)
    await show(update, context, outcome)


# -- messages --------------------------------------------------------------------------


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    sender = sender_of(update)
    text = update.message.text if update.message is not None else None
    if text is None:  # the filter admits text messages only
        return
    relayed = await svc.relay.text(sender, text)
    if relayed is not None:
        await show(update, context, relayed)
        return
    if await gate(update, context):
        await show(update, context, await svc.intake.text(sender, text))


async def on_attachment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.message
    if message is None:  # the filter admits new messages only
        return
    svc = services(context)
    sender = sender_of(update)
    composing = await svc.relay.current(sender)
    if composing is None and not await gate(update, context):
        return
    kind, media, file_name, mime_type, duration = _media_of(message)
    too_big: dict[str, object] = {"max_mb": svc.intake.max_attachment_mb}
    if media.file_size is not None and media.file_size > svc.intake.max_attachment_bytes:
        await show(update, context, await svc.intake.notice(sender, "attachment.too_big", too_big))
        return
    try:
        telegram_file = await media.get_file()
        content = bytes(await telegram_file.download_as_bytearray())
    except BadRequest as error:
        log.info("could not fetch an attachment: %s", type(error).__name__)
        key = "attachment.too_big" if "too big" in error.message.lower() else "attachment.failed"
        await show(update, context, await svc.intake.notice(sender, key, too_big))
        return
    except TelegramError as error:
        log.info("could not fetch an attachment: %s", type(error).__name__)
        await show(update, context, await svc.intake.notice(sender, "attachment.failed", {}))
        return
    incoming = IncomingAttachment(kind, content, file_name, mime_type, duration, message.caption)
    relayed = await svc.relay.attachment(sender, incoming) if composing is not None else None
    if relayed is not None:
        await show(update, context, relayed)
        return
    await show(update, context, await svc.intake.attachment(sender, incoming))


def _seconds(duration: object) -> int | None:
    """A duration as whole seconds: python-telegram-bot gives an int, or a timedelta with PTB_TIMEDELTA on."""
    if isinstance(duration, timedelta):
        return round(duration.total_seconds())
    return duration if isinstance(duration, int) else None


Media = PhotoSize | Document | Voice | Audio | Video | VideoNote


def _media_of(message: Message) -> tuple[AttachmentKind, Media, str | None, str | None, int | None]:
    with warnings.catch_warnings():
        # Reading .duration warns about python-telegram-bot's coming timedelta unless PTB_TIMEDELTA is on.
        warnings.simplefilter("ignore", DeprecationWarning)
        if message.photo:
            return AttachmentKind.PHOTO, message.photo[-1], None, "image/jpeg", None
        if message.document:
            doc = message.document
            return AttachmentKind.DOCUMENT, doc, doc.file_name, doc.mime_type, None
        if message.voice:
            voice = message.voice
            return AttachmentKind.VOICE, voice, None, voice.mime_type, _seconds(voice.duration)
        if message.audio:
            audio = message.audio
            return AttachmentKind.AUDIO, audio, audio.file_name, audio.mime_type, _seconds(audio.duration)
        if message.video:
            video = message.video
            return AttachmentKind.VIDEO, video, video.file_name, video.mime_type, _seconds(video.duration)
        note = message.video_note
        assert note is not None  # the filter admits only the kinds above
        return AttachmentKind.VIDEO_NOTE, note, None, "video/mp4", _seconds(note.duration)


async def on_unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await gate(update, context):
        await show(update, context, await services(context).intake.unsupported(sender_of(update)))


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if await gate(update, context):
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
        query = update.callback_query
        try:
            if query is not None and query.id not in services(context).answered:
                await _quietly(query.answer())
            await send_reply(context.bot, update.effective_chat.id, language, Reply("error.internal"))
        except Exception as failure:  # the apology is best effort; its failure must not escape
            log.warning("could not send the apology for %s: %s", where, type(failure).__name__)


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
    application.add_handler(CommandHandler(["mycases", "mijnmeldingen"], on_mycases, filters=private))
    application.add_handler(CommandHandler(["forgetme", "vergeetmij"], on_forgetme, filters=private))
    application.add_handler(CommandHandler("inbox", on_inbox, filters=private))
    application.add_handler(CommandHandler(["register", "register_gir"], on_register, filters=private))
    application.add_handler(CommandHandler(["case", "zaak"], on_case, filters=private))
    application.add_handler(CommandHandler("dossier", on_dossier, filters=private))
    application.add_handler(CommandHandler(["stats", "cijfers"], on_stats, filters=private))
    application.add_handler(CommandHandler("export", on_export, filters=private))
    application.add_handler(CommandHandler(["invite", "uitnodigen"], on_invite, filters=private))
    application.add_handler(CommandHandler(["language", "taal"], on_language, filters=private))
    application.add_handler(CommandHandler(["help", "hulp"], on_help, filters=private))
    application.add_handler(CommandHandler("privacy", on_privacy, filters=private))
    application.add_handler(CommandHandler(["pulse", "peiling"], on_pulse, filters=private))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_handler(MessageHandler(private & filters.COMMAND, on_unknown_command))
    application.add_handler(
        MessageHandler(private & filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE, on_text)
    )
    media = filters.PHOTO | filters.Document.ALL | filters.VOICE | filters.AUDIO | filters.VIDEO | filters.VIDEO_NOTE
    application.add_handler(MessageHandler(private & media & filters.UpdateType.MESSAGE, on_attachment))
    application.add_handler(MessageHandler(private & filters.UpdateType.MESSAGE, on_unsupported))
    application.add_error_handler(on_error)
