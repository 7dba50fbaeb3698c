"""Every message fits, whatever people typed: a property over the longest inputs there can be.

Every free-text field is filled to its maximum (the report's words, messages both ways,
additions, private notes, notes on actions), with names as long as Telegram allows, in
text drawn from emoji, accents, right-to-left script and the characters HTML cares about.
Then every view is opened and every notification composed; each message must parse as
Telegram HTML and fit Telegram's limits (4,096 characters of text, 1,024 of caption),
counted in UTF-16 code units, the stricter way, with the emulator's own functions.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import messages
from bot import render
from bot.emulator.formatting import parse_html, utf16_len
from flows.intake import MAX_DESCRIPTION, MAX_DETAIL
from flows.lifecycle import ActionKind, ActionOutcome, Notice, Party, Thread
from flows.model import AttachmentKind, IncomingAttachment
from flows.notices import FileNotice
from flows.outcome import MyCases, Outcome, RegisterView, Reply
from flows.perpetrator import IdentifierKind
from flows.relay import MAX_MESSAGE, MAX_NOTE
from storage import Storage
from storage.outbox import OutboxItem
from tests.support import COORDINATOR, STAFF_COUNSELLOR, ManualClock, World, reference_of, reporter, staff

# Pieces people type, chosen to be expensive: astral emoji count twice, & < > are escaped
# into entities (longer in HTML, one character when shown), Arabic and Dutch diacritics.
PIECES = st.sampled_from(["😡", "🔪", "<b>", "&amp;", "&", "<", ">", "é", "ij", "مرحبا", "a", " ", "\n", "A1"])


def filled(pieces: list[str], limit: int) -> str:
    """Text as long as ``limit`` allows (in UTF-16 units), repeating ``pieces`` (and never blank)."""
    text, n = "x", 0
    while True:
        piece = pieces[n % len(pieces)]
        if utf16_len(text + piece + "x") > limit:
            return text + "x"
        text += piece
        n += 1


class Checked:
    def __init__(self) -> None:
        self.messages = 0

    def reply(self, language: str, reply: Reply, *, caption: bool = False) -> None:
        html = render.caption(language, reply) if caption else render.text(language, reply)
        plain, _ = parse_html(html)
        assert utf16_len(plain) <= (messages.MAX_CAPTION if caption else messages.MAX_TEXT), reply.key
        self.messages += 1

    def outcome(self, outcome: Outcome) -> None:
        for reply in [*outcome.replies, *([outcome.edit_pressed] if outcome.edit_pressed else [])]:
            self.reply(outcome.language.value, reply)


async def play(folder: Path, pieces: list[str]) -> Checked:
    storage = await Storage.open(folder / "meldbot.db", folder / "meldbot.key")
    try:
        clock = ManualClock()
        world = World(storage, clock)
        check = Checked()
        first, last = filled(pieces, 64), filled(list(reversed(pieces)), 64)
        anna = reporter(5001, f"{first} {last}", "a" * 32)
        # The report, its description at the maximum, through the intake's own questions.
        out = await world.intake.start(anna)
        check.outcome(out)
        for label in ("forms.threat", "when.today", "channel.in_person"):
            out = await world.press(anna, out, label)
            check.outcome(out)
        out = await world.intake.text(anna, filled(pieces, 4000))
        check.outcome(out)
        out = await world.press(anna, out, "perpetrator.citizen_named")
        for kind in IdentifierKind:  # every detail at its longest, shown in the question and the summary
            out = await world.press(anna, out, f"perpetrator.kind.{kind.value}")
            out = await world.intake.text(anna, filled(pieces, MAX_DETAIL))
            check.outcome(out)
        out = await world.press(anna, out, "details.done")
        out = await world.press(anna, out, "role.employee")
        out = await world.press(anna, out, "work_process.skip")
        out = await world.press(anna, out, "wish.counsellor_and_register")
        check.outcome(out)
        out = await world.press(anna, out, "button.change")
        out = await world.press(anna, out, "change.description")
        out = await world.intake.text(anna, filled(pieces, MAX_DESCRIPTION))
        check.outcome(out)
        out = await world.intake.text(anna, filled(pieces, 3000))  # one more: refused kindly, nothing lost
        check.outcome(out)
        check.outcome(
            await world.intake.attachment(
                anna, IncomingAttachment(AttachmentKind.PHOTO, b"\xff\xd8", None, None, None, None)
            )
        )
        out = await world.press(anna, out, "button.exclude")
        check.outcome(out)
        out = await world.press(anna, out, "change.back")
        check.outcome(out)
        submitted = await world.press(anna, out, "button.confirm")
        check.outcome(submitted)
        reference = reference_of(submitted)
        case = await storage.cases.by_reference(reference)
        assert messages.length(case.description) > MAX_DESCRIPTION - 10

        vera, coby = staff(STAFF_COUNSELLOR), staff(COORDINATOR)
        await world.casework.acknowledge(vera, reference)
        for n in range(4):
            # Messages both ways, additions and notes, each as long as allowed.
            await world.casework.start_message(vera, reference)
            check.outcome(await world.relay.text(vera, filled(pieces[n:] + pieces[:n], MAX_MESSAGE)))
            await world.mycases.start(anna, reference, "reply", Thread.COUNSELLOR.value)
            check.outcome(await world.relay.text(anna, filled(pieces, MAX_MESSAGE)))
            await world.mycases.start(anna, reference, "addition", "")
            check.outcome(await world.relay.text(anna, filled(pieces, MAX_MESSAGE)))
            await world.casework.start_note(vera, reference)
            check.outcome(await world.relay.text(vera, filled(pieces, MAX_NOTE)))
        for _ in range(12):
            await world.casework.record_action(coby, reference, ActionKind.WARNING_LETTER, ActionOutcome.IN_PROGRESS)
            check.outcome(await world.relay.text(coby, filled(pieces, MAX_NOTE)))

        # Every view.
        check.outcome(await world.casework.open(vera, reference))
        check.outcome(await world.casework.open(coby, reference))
        notes = await world.casework.notes(vera, reference)
        check.outcome(notes)
        page = 0
        while any(c.label == "notes.older" for row in notes.replies[0].keyboard for c in row):
            page += 1
            notes = await world.casework.notes(vera, reference, page)
            check.outcome(notes)
        assert page >= 1  # four long notes do not fit in one message: they are paged
        check.outcome(await world.casework.inbox(vera))
        check.outcome(await world.casework.register(coby, RegisterView()))
        check.outcome(await world.casework.hand_over(vera, reference))
        check.outcome(await world.casework.status(vera, reference))
        check.outcome(await world.casework.record_action(coby, reference))
        check.outcome(await world.casework.record_action(coby, reference, ActionKind.POLICE_REPORT_EMPLOYER))
        action = (await storage.casefile.actions(case.id))[0].id[:8]
        check.outcome(await world.casework.update_action(coby, reference, action))
        check.outcome(await world.mycases.list(anna, MyCases()))
        check.outcome(await world.mycases.open(anna, reference))

        # Every notification in the outbox, composed as it would be sent.
        async with storage.db.transaction() as conn:
            async with conn.execute("SELECT * FROM outbox") as cursor:
                rows = await cursor.fetchall()
        for row in rows:
            item = OutboxItem(
                row["id"],
                row["case_id"],
                row["recipient_index"],
                Party(row["recipient_role"]),
                Notice(row["kind"]),
                row["ref"],
                row["seq"],
                1,
                clock.now(),
            )
            notice = await world.notices.compose(item, "nl")
            if isinstance(notice, FileNotice):
                check.reply("nl", notice.caption, caption=True)
            else:
                check.reply("nl", notice)
        return check
    finally:
        await storage.close()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(PIECES, min_size=1, max_size=6))
def test_every_view_and_notification_fits_telegrams_limits_whatever_was_typed(pieces):
    with tempfile.TemporaryDirectory() as folder:
        check = asyncio.run(play(Path(folder), pieces))
    assert check.messages > 60
