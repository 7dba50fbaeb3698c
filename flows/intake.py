"""Report intake: the reporter's conversation from the report button to a routed case.

The draft (flows.lifecycle.Draft) is stored sealed after every answer, so a restart of
the bot loses nothing and the reporter continues where they left off. The questions are
asked in the order of :data:`flows.model.QUESTIONS`, each described once in
:data:`QUESTIONS_ASKED` (how it is asked, its buttons, how an answer is kept, echoed and
undone); a question already answered (a role remembered from an earlier report) is
skipped. A button answer turns the pressed message into the next question, with the
answer just given above it. Free text is never thrown away: at a question that expects a
button it is added to the description. The state diagram is ``flows/intake.mmd``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from zoneinfo import ZoneInfo

import messages
from flows import lifecycle
from flows.aftercare import AftercareFlow
from flows.clock import Clock, Periods, local_today
from flows.dates import parse_incident_date
from flows.lifecycle import CaseStatus, Draft, DraftState, NewAttachment, RegisterRules, Timer, TimerKind
from flows.linking import Linking
from flows.model import (
    DEFAULT_WORK_PROCESSES,
    PROFILE_QUESTIONS,
    QUESTIONS,
    Audience,
    Channel,
    Coordinator,
    Counsellor,
    Form,
    IncomingAttachment,
    Language,
    Role,
    Sender,
    Step,
    Wish,
)
from flows.outcome import (
    Answer,
    Choice,
    CleanUp,
    Keyboard,
    Label,
    Outcome,
    Reply,
    ResumeDraft,
    StartReport,
)
from flows.perpetrator import IdentifierKind
from flows.routing import Route, Router
from flows.views import (
    PERPETRATOR_ANSWERS,
    detail_line,
    forms_label,
    names,
    perpetrator_answer,
    perpetrator_label,
    work_process_label,
)
from storage import Storage
from storage.crypto import DecryptionError
from storage.people import PersonRecord

log = logging.getLogger(__name__)

MAX_DESCRIPTION = 8000  # characters (messages.length), all text of one report together
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_MB = 20  # the most a bot may download through the Bot API
SUMMARY_EXCERPT = 900
WELCOME_LINES = 8
# Telegram lets a bot delete messages in a private chat for 48 hours.
CLEANUP_WINDOW = timedelta(hours=48)
# Text typed outside a report becomes the start of one only if it reads like an account.
_STORY_MIN_CHARS = 25
_STORY_MIN_WORDS = 4

WHEN_TODAY, WHEN_YESTERDAY, WHEN_EARLIER = "today", "yesterday", "earlier"
CANCEL_ASK, CANCEL_YES, CANCEL_NO = "ask", "yes", "no"
NO_TEXT = "no_text"
KEEP_TEXT = "keep_text"  # the text typed before the report started is the whole account
SUMMARY_CONFIRM = "confirm"
SUMMARY_CHANGE = "change"
EXCLUDE = "exclude"  # conflict of interest: keep someone out of this report
TOGGLE_COUNSELLOR = "name_counsellor"
TOGGLE_COORDINATOR = "name_coordinator"
REMOVE_ATTACHMENTS = "remove_attachments"
BACK = "back"
FORMS_SEVERAL = "several"  # "more than one thing happened": tick several forms
FORMS_DONE = "done"
SKIP = "skip"
MAX_DETAIL = 200  # characters of one perpetrator detail
TOGGLE_LINK = "link"  # may be combined with other reports about the same person


@dataclass(frozen=True, slots=True)
class Question:
    """One question of the report: how it is asked and answered."""

    step: Step
    ask: str  # the message key of the question
    options: tuple[str, ...]  # the buttons' values
    per_row: int
    answered: Callable[[Draft], bool]
    current: Callable[[Draft], str | None]  # the answer as a button value (to recognise a repeated press)
    clear: Callable[[Draft], None]  # forget the answer, to ask it again ("change")


def _set_wish(draft: Draft, wish: Wish) -> None:
    draft.wish = wish
    draft.share_name_counsellor = wish.reaches_counsellor
    draft.share_name_coordinator = False


def _clear_description(draft: Draft) -> None:
    # Kept until new text arrives, so a change that is abandoned loses nothing.
    draft.state.replacing_description = True


def _clear_forms(draft: Draft) -> None:
    # Changing what happened starts from the forms chosen, so adding one is a single tick.
    draft.state.choosing_forms = True


def _clear_details(draft: Draft) -> None:
    # The details typed so far stay: changing them adds to or replaces them one by one.
    draft.state.details_done = False
    draft.state.asks_details = True


def _clear_department(draft: Draft) -> None:
    draft.department = None
    draft.state.asks_department = True


def _clear_work_process(draft: Draft) -> None:
    draft.work_process = None
    draft.state.work_process_skipped = False
    draft.state.asks_work_process = True


QUESTIONS_ASKED: dict[Step, Question] = {
    q.step: q
    for q in (
        Question(
            Step.FORMS,
            "ask.forms",
            (*(str(f) for f in Form), FORMS_SEVERAL, FORMS_DONE),
            1,
            lambda d: bool(d.forms) and not d.state.choosing_forms,
            lambda d: next(iter(d.forms)).value if len(d.forms) == 1 and not d.state.choosing_forms else None,
            _clear_forms,
        ),
        Question(
            Step.WHEN,
            "ask.when",
            (WHEN_TODAY, WHEN_YESTERDAY, WHEN_EARLIER),
            1,
            lambda d: d.incident_date is not None,
            lambda d: None,
            lambda d: setattr(d, "incident_date", None),
        ),
        Question(
            Step.CHANNEL,
            "ask.channel",
            tuple(Channel),
            2,
            lambda d: d.channel is not None,
            lambda d: d.channel,
            lambda d: setattr(d, "channel", None),
        ),
        Question(
            Step.DESCRIPTION,
            "ask.description",
            (NO_TEXT, KEEP_TEXT),
            1,
            lambda d: (bool(d.description) and not d.state.early_text) or (d.state.no_text and d.attachment_count > 0),
            lambda d: None,
            _clear_description,
        ),
        Question(
            Step.PERPETRATOR,
            "ask.perpetrator",
            tuple(PERPETRATOR_ANSWERS),
            2,
            lambda d: d.perpetrator is not None,
            lambda d: None if d.perpetrator is None else perpetrator_answer(d.perpetrator, bool(d.perpetrator_named)),
            lambda d: setattr(d, "perpetrator", None),
        ),
        Question(
            Step.DETAILS,
            "ask.details",
            (*(str(k) for k in IdentifierKind), FORMS_DONE, SKIP, BACK),
            2,
            lambda d: d.state.details_done or not (d.perpetrator_named or d.state.asks_details),
            lambda d: None,
            _clear_details,
        ),
        Question(
            Step.ROLE,
            "ask.role",
            tuple(Role),
            2,
            lambda d: d.role is not None,
            lambda d: d.role,
            lambda d: setattr(d, "role", None),
        ),
        # The options of these two come from the configuration (Intake._values): a number each.
        Question(
            Step.DEPARTMENT,
            "ask.department",
            (),
            1,
            lambda d: d.department is not None or not d.state.asks_department,
            lambda d: None,
            _clear_department,
        ),
        Question(
            Step.WORK_PROCESS,
            "ask.work_process",
            (),
            2,
            lambda d: d.work_process is not None or d.state.work_process_skipped or not d.state.asks_work_process,
            lambda d: None,
            _clear_work_process,
        ),
        Question(
            Step.WISH,
            "ask.wish",
            tuple(Wish),
            1,
            lambda d: d.wish is not None,
            lambda d: d.wish,
            lambda d: setattr(d, "wish", None),
        ),
    )
}

# Every button value each step accepts (for decoding and tests).
_OPTIONS: dict[Step, tuple[str, ...]] = {
    **{step: tuple(str(v) for v in q.options) for step, q in QUESTIONS_ASKED.items()},
    Step.SUMMARY: (SUMMARY_CONFIRM, SUMMARY_CHANGE, TOGGLE_COUNSELLOR, TOGGLE_COORDINATOR, TOGGLE_LINK, EXCLUDE),
    Step.CHANGE: (*(s.value for s in QUESTIONS), REMOVE_ATTACHMENTS, BACK),
    Step.CANCEL: (CANCEL_ASK, CANCEL_YES, CANCEL_NO),
}


def tag_of(draft: Draft) -> str:
    """The short draft tag carried in button data; a button of another draft will not match."""
    return draft.id[:8]


def _is_story(text: str) -> bool:
    return len(text) >= _STORY_MIN_CHARS and len(text.split()) >= _STORY_MIN_WORDS


class Intake:
    def __init__(
        self,
        storage: Storage,
        router: Router,
        clock: Clock,
        zone: ZoneInfo,
        periods: Periods,
        aftercare: AftercareFlow | None = None,
        *,
        max_attachment_mb: int = MAX_ATTACHMENT_MB,
        register: RegisterRules | None = None,
        departments: Sequence[str] = (),
        work_processes: Sequence[str] = DEFAULT_WORK_PROCESSES,
        linking: Linking,
    ) -> None:
        self._linking = linking
        self._aftercare = aftercare
        self._register = register or RegisterRules()
        self._departments = tuple(departments)  # none: the department is not asked
        self._work_processes = tuple(work_processes)  # none: the work process is not asked
        self.max_attachment_mb = max_attachment_mb
        self._storage = storage
        self._router = router
        self._clock = clock
        self._zone = zone
        self._periods = periods
        self._response_hours = max(1, round(periods.acknowledge_within.total_seconds() / 3600))

    @property
    def max_attachment_bytes(self) -> int:
        return self.max_attachment_mb * 1024 * 1024

    # -- who is talking -------------------------------------------------------------

    async def _known(self, sender: Sender) -> tuple[PersonRecord | None, Language]:
        person = await self._storage.people.find(sender.telegram_id)
        if person is None:
            return None, Language.from_telegram(sender.language_code)
        return person, Language(person.language)

    async def _ensure(self, sender: Sender) -> tuple[PersonRecord, Language]:
        person = await self._storage.people.ensure(
            telegram_id=sender.telegram_id,
            display_name=sender.display_name,
            username=sender.username,
            language=Language.from_telegram(sender.language_code).value,
            now=self._clock.now(),
        )
        return person, Language(person.language)

    async def draft_for(self, sender: Sender) -> Draft | None:
        person, _ = await self._known(sender)
        return None if person is None else await self._storage.cases.draft_of(person.id)

    # -- entry points ---------------------------------------------------------------

    async def welcome(self, sender: Sender) -> Outcome:
        # Management and the damages helper are welcomed like anyone who may report.
        members = [m for m in self._router.staff_member(sender.telegram_id) if isinstance(m, Counsellor | Coordinator)]
        if members:
            return self._staff_welcome(members[0])
        person, language = await self._known(sender)
        outcome = Outcome(language)
        outcome.replies.append(
            Reply(
                "welcome",
                {"name": sender.display_name.split(" ")[0] or sender.display_name, "recipients": self._who_receives()},
                ((Choice("button.report", StartReport()),),),
            )
        )
        if person is not None:
            draft = await self._storage.cases.draft_of(person.id)
            if draft is not None:
                outcome.replies.append(self._resume_question(draft))
        return outcome

    def _staff_welcome(self, member: Counsellor | Coordinator) -> Outcome:
        """Counsellors and coordinators are welcomed in their role, with their commands."""
        if isinstance(member, Counsellor):
            reply = Reply("welcome.as_counsellor", {"name": member.name, "serves": _serves(member)})
        else:
            reply = Reply("welcome.as_coordinator", {"name": member.name})
        return Outcome(member.language, replies=[reply])

    def _who_receives(self) -> tuple[Label, ...]:
        lines = [Label("welcome.counsellor", {"name": c.name, "serves": _serves(c)}) for c in self._router.counsellors]
        lines += [Label("welcome.coordinator", {"name": c.name}) for c in self._router.coordinators]
        if len(lines) > WELCOME_LINES:  # a large organisation: the welcome stays one message
            lines = [*lines[: WELCOME_LINES - 1], Label("welcome.others", {"n": len(lines) - WELCOME_LINES + 1})]
        return tuple(lines) or (Label("welcome.nobody"),)

    async def start(self, sender: Sender) -> Outcome:
        """The report button or /report: a new draft, or the offer to continue the open one."""
        person, language = await self._ensure(sender)
        draft = await self._storage.cases.draft_of(person.id)
        outcome = Outcome(language)
        if draft is not None:
            outcome.replies.append(self._resume_question(draft))
            outcome.case_id = draft.id
            return outcome
        draft = await self._new_draft(person)
        outcome.case_id = draft.id
        outcome.replies.append(await self._prompt(draft))
        return outcome

    async def _new_draft(self, person: PersonRecord) -> Draft:
        """A new draft that already knows what the person's profile says (role, department, work
        process); the profile questions still open belong to this report ("step n of m")."""
        role = None if person.role is None else Role(person.role)
        state = DraftState(
            asks_role=role is None,
            asks_department=bool(self._departments) and person.department is None,
            asks_work_process=bool(self._work_processes) and not person.work_process_asked,
        )
        return await self._storage.cases.create_draft(
            person_id=person.id,
            role=role,
            asks_role=state.asks_role,
            now=self._clock.now(),
            department=person.department,
            work_process=person.work_process,
            state=state,
        )

    def _resume_question(self, draft: Draft) -> Reply:
        tag = tag_of(draft)
        return Reply(
            "draft.resume",
            {"started": draft.created_at.astimezone(self._zone).date()},
            (
                (Choice("button.resume", ResumeDraft(tag, keep=True)),),
                (Choice("button.discard", ResumeDraft(tag, keep=False)),),
            ),
        )

    async def resume(self, sender: Sender, action: ResumeDraft) -> Outcome:
        person, language = await self._known(sender)
        draft = None if person is None else await self._storage.cases.draft_of(person.id)
        outcome = Outcome(language, clear_pressed_buttons=True)
        if person is None or draft is None or tag_of(draft) != action.draft_tag:
            outcome.toast = Label("toast.stale")
            if draft is not None:
                outcome.replies.append(await self._prompt(draft))
            return outcome
        outcome.case_id = draft.id
        if action.keep:
            outcome.replies.append(await self._prompt(draft))
            return outcome
        await self._storage.cases.delete_draft(draft.id)
        new = await self._new_draft(person)
        outcome.case_id = new.id
        outcome.replies.append(Reply("draft.discarded"))
        outcome.replies.append(await self._prompt(new))
        return outcome

    async def cancel_command(self, sender: Sender) -> Outcome:
        person, language = await self._known(sender)
        draft = None if person is None else await self._storage.cases.draft_of(person.id)
        if draft is None:
            return Outcome(language, replies=[Reply("cancel.nothing", keyboard=self._report_button())])
        outcome = Outcome(language, case_id=draft.id)
        await self._enter_cancel(draft)
        outcome.replies.append(await self._prompt(draft))
        return outcome

    # -- button presses ---------------------------------------------------------------

    async def press(self, sender: Sender, answer: Answer) -> Outcome:
        person, language = await self._known(sender)
        draft = None if person is None else await self._storage.cases.draft_of(person.id)
        outcome = Outcome(language)
        if person is None or draft is None or tag_of(draft) != answer.draft_tag:
            # A button from a report that was sent, cancelled, or never existed.
            outcome.toast = Label("toast.stale")
            outcome.clear_pressed_buttons = True
            if draft is not None:
                outcome.case_id = draft.id
                outcome.replies.append(await self._prompt(draft))
            return outcome
        outcome.case_id = draft.id
        if not self._accepts(answer.step, answer.value):
            outcome.toast = Label("toast.invalid")
            return outcome
        if answer.step is Step.CANCEL and answer.value == CANCEL_ASK:
            if draft.step is not Step.CANCEL:
                await self._enter_cancel(draft)
            outcome.clear_pressed_buttons = True
            outcome.replies.append(await self._prompt(draft))
            return outcome
        if answer.step is not draft.step:
            question = QUESTIONS_ASKED.get(answer.step)
            if question is not None and question.current(draft) == answer.value:
                outcome.toast = Label("toast.already_noted")
            else:
                outcome.toast = Label("toast.moved_on")
                outcome.replies.append(await self._prompt(draft))
            outcome.clear_pressed_buttons = True
            return outcome
        await self._apply_answer(draft, person, answer.value, outcome)
        return outcome

    async def _apply_answer(self, draft: Draft, person: PersonRecord, value: str, outcome: Outcome) -> None:
        step = draft.step
        now = self._clock.now()
        if step is Step.SUMMARY:
            await self._summary_action(draft, person, value, outcome)
            return
        if step is Step.CHANGE:
            await self._change_action(draft, value, outcome)
            return
        if step is Step.EXCLUDE:
            await self._exclude_action(draft, value, outcome)
            return
        if step is Step.CANCEL:
            if value == CANCEL_YES:
                await self._storage.cases.delete_draft(draft.id)
                outcome.edit_pressed = Reply("cancel.done")
                outcome.replies.append(Reply("cancel.after", keyboard=self._report_button()))
                outcome.case_id = None
                return
            draft.step = draft.state.before_cancel or Step.FORMS
            draft.state.before_cancel = None
            outcome.clear_pressed_buttons = True
            await self._storage.cases.save_draft(draft, now)
            outcome.replies.append(await self._prompt(draft))
            return
        if step is Step.DETAILS:
            await self._details_action(draft, value, outcome)
            return
        if step is Step.FORMS and (value in (FORMS_SEVERAL, FORMS_DONE) or draft.state.choosing_forms):
            await self._choose_forms(draft, value, outcome)
            return
        if step is Step.WHEN and value == WHEN_EARLIER:
            draft.state.typing_date = True
            await self._storage.cases.save_draft(draft, now)
            outcome.edit_pressed = Reply(
                "ask.when_typed", keyboard=(self._cancel_row(draft),), before=_answered(step, Label("when.earlier"))
            )
            return
        if step is Step.DESCRIPTION and value == KEEP_TEXT:  # what they typed first is the account
            if not draft.state.early_text:
                outcome.toast = Label("toast.invalid")
                return
            draft.state.early_text = False
            echo: Label = Label("description.as_typed")
        elif step is Step.DESCRIPTION:  # send without text
            if draft.attachment_count == 0:
                outcome.toast = Label("toast.invalid")
                return
            draft.state.no_text = True
            echo = Label("description.none")
        else:
            echo = self._record(draft, step, value)
        if step is Step.ROLE:
            await self._storage.people.set_role(person.id, value, now)
        elif step is Step.DEPARTMENT and draft.department is not None:
            await self._storage.people.set_department(person.id, draft.department, now)
        elif step is Step.WORK_PROCESS:
            await self._storage.people.set_work_process(person.id, draft.work_process, now)
        # The pressed question becomes the next one, with this answer above it.
        following = await self._advance(draft)
        outcome.edit_pressed = replace(following, before=_answered(step, echo))

    def _accepts(self, step: Step, value: str) -> bool:
        """Whether ``value`` is an answer the step can have (the exclusion codes are checked there)."""
        if step is Step.EXCLUDE:
            return True
        if step in (Step.DEPARTMENT, Step.WORK_PROCESS):
            return value in self._values(step)
        if step is Step.CHANGE and value in (Step.DEPARTMENT.value, Step.WORK_PROCESS.value):
            return bool(self._values(Step(value)))
        return value in _OPTIONS.get(step, ())

    def _values(self, step: Step) -> tuple[str, ...]:
        """The button values of a question; the department and work process are numbered from the configuration."""
        if step is Step.DEPARTMENT:
            return tuple(str(n) for n in range(len(self._departments)))
        if step is Step.WORK_PROCESS:
            return (*(str(n) for n in range(len(self._work_processes))), SKIP) if self._work_processes else ()
        return QUESTIONS_ASKED[step].options

    async def _choose_forms(self, draft: Draft, value: str, outcome: Outcome) -> None:
        """Several forms: "more than one thing" turns the question into ticks, "done" answers it."""
        if value == FORMS_SEVERAL:
            draft.state.choosing_forms = True
        elif value == FORMS_DONE:
            if not draft.state.choosing_forms or not draft.forms:
                outcome.toast = Label("toast.choose_a_form")
                return
            draft.state.choosing_forms = False
            following = await self._advance(draft)
            outcome.edit_pressed = replace(following, before=_answered(Step.FORMS, forms_label(draft.forms)))
            return
        else:
            form = Form(value)
            draft.forms = draft.forms - {form} if form in draft.forms else draft.forms | {form}
        await self._storage.cases.save_draft(draft, self._clock.now())
        outcome.edit_pressed = await self._prompt(draft)

    async def _details_action(self, draft: Draft, value: str, outcome: Outcome) -> None:
        """A kind of detail pressed (then typed), back to the list, or done (or skipped: nothing given)."""
        if value in (FORMS_DONE, SKIP):
            draft.state.detail_kind = None
            draft.state.details_done = True
            given = len(draft.state.details)
            following = await self._advance(draft)
            echo = Label("details.given", {"n": given}) if given else Label("details.skipped")
            outcome.edit_pressed = replace(following, before=_answered(Step.DETAILS, echo))
            return
        draft.state.detail_kind = None if value == BACK else value
        await self._storage.cases.save_draft(draft, self._clock.now())
        outcome.edit_pressed = await self._prompt(draft)

    async def _typed_detail(self, draft: Draft, text: str, outcome: Outcome) -> None:
        """A typed detail, of the kind pressed before; typed without one, it describes the perpetrator."""
        if messages.length(text) > MAX_DETAIL:
            outcome.replies.append(Reply("details.too_long", {"max": MAX_DETAIL}))
            outcome.replies.append(await self._prompt(draft))
            return
        kind = draft.state.detail_kind or IdentifierKind.DESCRIPTION.value
        # One of each kind: typing a kind again replaces what was there.
        draft.state.details = [[k, v] for k, v in draft.state.details if k != kind] + [[kind, text]]
        draft.state.detail_kind = None
        await self._storage.cases.save_draft(draft, self._clock.now())
        outcome.replies.append(
            replace(
                await self._prompt(draft), before=Label("details.noted", {"kind": Label(f"perpetrator.kind.{kind}")})
            )
        )

    def _details_prompt(self, draft: Draft) -> Reply:
        tag, step = tag_of(draft), Step.DETAILS
        if draft.state.detail_kind is not None:
            return Reply(
                "ask.detail_value",
                {"kind": Label(f"perpetrator.kind.{draft.state.detail_kind}"), "max": MAX_DETAIL},
                ((Choice("details.back", Answer(tag, step, BACK)),), self._cancel_row(draft)),
            )
        choices = [Choice(f"perpetrator.kind.{k.value}", Answer(tag, step, k.value)) for k in IdentifierKind]
        rows = tuple(tuple(choices[i : i + 2]) for i in range(0, len(choices), 2))
        finish = Choice("details.done", Answer(tag, step, FORMS_DONE)) if draft.state.details else None
        last_row = (finish or Choice("details.skip", Answer(tag, step, SKIP)),)
        return Reply(
            "ask.details",
            {"progress": self._progress(draft, step), "given": _details_lines(draft) or Label("details.none")},
            (*rows, last_row, self._cancel_row(draft)),
        )

    def _record(self, draft: Draft, step: Step, value: str) -> Label:
        """Keep a button answer on the draft; returns how to echo it."""
        if step is Step.FORMS:
            draft.forms = frozenset({Form(value)})
            return forms_label(draft.forms)
        if step is Step.PERPETRATOR:
            draft.perpetrator, draft.perpetrator_named = PERPETRATOR_ANSWERS[value]
        elif step is Step.DEPARTMENT:
            draft.department = self._departments[int(value)]
            return Label("department.option", {"name": draft.department})
        elif step is Step.WORK_PROCESS:
            if value == SKIP:
                draft.work_process = None
                draft.state.work_process_skipped = True
                return Label("work_process.skip")
            draft.work_process = self._work_processes[int(value)]
            return work_process_label(draft.work_process)
        elif step is Step.WHEN:
            today = local_today(self._clock, self._zone)
            draft.incident_date = today if value == WHEN_TODAY else today - timedelta(days=1)
            draft.state.typing_date = False
            return Label("when.on", {"date": draft.incident_date})
        elif step is Step.CHANNEL:
            draft.channel = Channel(value)
        elif step is Step.ROLE:
            draft.role = Role(value)
        elif step is Step.WISH:
            _set_wish(draft, Wish(value))
        return Label(f"{step.value}.{value}")

    async def _advance(self, draft: Draft) -> Reply:
        """Move to the next unanswered question (or the summary), save, and return its prompt."""
        draft.step = self._next_step(draft)
        await self._storage.cases.save_draft(draft, self._clock.now())
        return await self._prompt(draft)

    @staticmethod
    def _next_step(draft: Draft) -> Step:
        for step in QUESTIONS:
            if not QUESTIONS_ASKED[step].answered(draft):
                return step
        return Step.SUMMARY

    async def _enter_cancel(self, draft: Draft) -> None:
        if draft.step is not Step.CANCEL:
            draft.state.before_cancel = draft.step
            draft.step = Step.CANCEL
            await self._storage.cases.save_draft(draft, self._clock.now())

    async def _summary_action(self, draft: Draft, person: PersonRecord, value: str, outcome: Outcome) -> None:
        now = self._clock.now()
        assert draft.wish is not None
        if value == TOGGLE_COUNSELLOR and draft.wish.reaches_counsellor:
            draft.share_name_counsellor = not draft.share_name_counsellor
        elif value == TOGGLE_COORDINATOR and draft.wish is Wish.COUNSELLOR_AND_REGISTER:
            draft.share_name_coordinator = not draft.share_name_coordinator
        elif value == TOGGLE_LINK:
            draft.link_consent = not draft.link_consent
        elif value == SUMMARY_CHANGE:
            draft.step = Step.CHANGE
            await self._storage.cases.save_draft(draft, now)
            outcome.clear_pressed_buttons = True
            outcome.replies.append(await self._prompt(draft))
            return
        elif value == SUMMARY_CONFIRM:
            await self._submit(draft, person, outcome)
            return
        elif value == EXCLUDE and self._exclusion_candidates(draft):
            draft.step = Step.EXCLUDE
            await self._storage.cases.save_draft(draft, now)
            outcome.edit_pressed = await self._prompt(draft)
            return
        else:
            outcome.toast = Label("toast.invalid")
            return
        await self._storage.cases.save_draft(draft, now)
        # The summary is shown again in place, with the toggle's new state.
        outcome.edit_pressed = await self._prompt(draft)

    async def _change_action(self, draft: Draft, value: str, outcome: Outcome) -> None:
        now = self._clock.now()
        outcome.clear_pressed_buttons = True
        if value == BACK:
            draft.step = Step.SUMMARY
        elif value == REMOVE_ATTACHMENTS:
            await self._storage.cases.remove_attachments(draft)
            draft.state.no_text = False
            outcome.replies.append(Reply("attachments.removed"))
            draft.step = self._next_step(draft)
        else:
            step = Step(value)
            QUESTIONS_ASKED[step].clear(draft)
            draft.step = step
        await self._storage.cases.save_draft(draft, now)
        outcome.replies.append(await self._prompt(draft))

    # -- text and files ------------------------------------------------------------------

    async def text(self, sender: Sender, text: str) -> Outcome:
        text = text.strip()
        person, language = await self._known(sender)
        draft = None if person is None else await self._storage.cases.draft_of(person.id)
        if draft is None:
            if not _is_story(text):
                return Outcome(language, replies=[Reply("outside_flow", keyboard=self._report_button())])
            person, language = await self._ensure(sender)
            draft = await self._new_draft(person)
            outcome = Outcome(language, case_id=draft.id)
            # Kept, but the description is still asked for: "Hallo, ik wil iets kwijt over gisteren"
            # is an opening, not yet the account. The question shows what was kept.
            draft.description = text  # one Telegram message: far within MAX_DESCRIPTION
            draft.state.early_text = True
            outcome.replies.append(Reply("description.started_from_message"))
            outcome.replies.append(await self._advance(draft))
            return outcome
        outcome = Outcome(language, case_id=draft.id)
        if draft.step is Step.WHEN:
            await self._typed_date(draft, text, outcome)
            return outcome
        if draft.step is Step.DETAILS:
            await self._typed_detail(draft, text, outcome)
            return outcome
        typed = next((n for n in self._departments if n.casefold() == text.casefold()), None)
        if draft.step is Step.DEPARTMENT and typed is not None:  # the department typed instead of pressed
            draft.department = typed
            await self._storage.people.set_department(draft.person_id, typed, self._clock.now())
            following = await self._advance(draft)
            outcome.replies.append(
                replace(following, before=_answered(Step.DEPARTMENT, Label("department.option", {"name": typed})))
            )
            return outcome
        if draft.step is Step.DESCRIPTION:
            if draft.state.replacing_description:
                draft.state.replacing_description = False
                draft.description = ""
            if not self._add_text(draft, text, outcome):
                outcome.replies.append(await self._prompt(draft))
                return outcome
            draft.state.early_text = False
            outcome.replies.append(await self._advance(draft))
            return outcome
        # A step that expects a button: the text joins the description rather than being lost.
        if self._add_text(draft, text, outcome):
            await self._storage.cases.save_draft(draft, self._clock.now())
            outcome.replies.append(
                Reply("description.added", {"length": messages.length(draft.description), "max": MAX_DESCRIPTION})
            )
        outcome.replies.append(await self._prompt(draft))
        return outcome

    def _add_text(self, draft: Draft, text: str, outcome: Outcome) -> bool:
        joined = f"{draft.description}\n\n{text}" if draft.description else text
        if messages.length(joined) > MAX_DESCRIPTION:
            outcome.replies.append(
                Reply(
                    "description.too_long",
                    {
                        "length": messages.length(text),
                        "room": max(0, MAX_DESCRIPTION - messages.length(draft.description) - 2),
                        "max": MAX_DESCRIPTION,
                    },
                )
            )
            return False
        draft.description = joined
        return True

    async def _typed_date(self, draft: Draft, text: str, outcome: Outcome) -> None:
        parsed = parse_incident_date(text, local_today(self._clock, self._zone))
        if parsed.value is not None:
            draft.incident_date = parsed.value
            draft.state.typing_date = False
            following = await self._advance(draft)
            outcome.replies.append(
                replace(following, before=_answered(Step.WHEN, Label("when.on", {"date": parsed.value})))
            )
            return
        if _is_story(text) and not any(ch.isdigit() for ch in text):
            # Someone typing their account here: keep it, and ask the date again.
            if self._add_text(draft, text, outcome):
                await self._storage.cases.save_draft(draft, self._clock.now())
                outcome.replies.append(Reply("description.kept_early"))
            outcome.replies.append(await self._prompt(draft))
            return
        assert parsed.problem is not None
        outcome.replies.append(Reply(f"date.{parsed.problem.value}", {"text": text[:60]}))
        outcome.replies.append(await self._prompt(draft))

    async def attachment(self, sender: Sender, incoming: IncomingAttachment) -> Outcome:
        person, language = await self._ensure(sender)
        draft = await self._storage.cases.draft_of(person.id)
        started = draft is None
        if draft is None:
            draft = await self._new_draft(person)
        outcome = Outcome(language, case_id=draft.id)
        if draft.attachment_count >= MAX_ATTACHMENTS:
            outcome.replies.append(Reply("attachment.too_many", {"max": MAX_ATTACHMENTS}))
            return outcome
        if len(incoming.content) > self.max_attachment_bytes:
            outcome.replies.append(Reply("attachment.too_big", {"max_mb": self.max_attachment_mb}))
            return outcome
        now = self._clock.now()
        new = NewAttachment(
            uuid.uuid4().hex,
            incoming.kind,
            incoming.content,
            incoming.file_name,
            incoming.mime_type,
            incoming.duration,
            added_later=False,
        )
        draft.attachment_count = count = await self._storage.cases.add_attachment(draft.id, new, now)
        outcome.replies.append(
            Reply(
                "attachment.kept_new_report" if started else "attachment.kept", {"count": count, "max": MAX_ATTACHMENTS}
            )
        )
        caption = (incoming.caption or "").strip()
        step = draft.step
        if caption:
            if step is Step.DESCRIPTION and draft.state.replacing_description:
                draft.state.replacing_description = False
                draft.description = ""
            self._add_text(draft, caption, outcome)
        # One prompt per album is enough: the next question follows the first file or a caption.
        if started or (step is Step.DESCRIPTION and (caption or count == 1)):
            outcome.replies.append(await self._advance(draft))
        else:
            await self._storage.cases.save_draft(draft, now)
        return outcome

    async def notice(self, sender: Sender, key: str, params: dict[str, object]) -> Outcome:
        """A message about the sender's input (a file too big to fetch, say); the draft stays as it is."""
        person, language = await self._known(sender)
        draft = None if person is None else await self._storage.cases.draft_of(person.id)
        return Outcome(language, replies=[Reply(key, params)], case_id=None if draft is None else draft.id)

    async def unsupported(self, sender: Sender) -> Outcome:
        person, language = await self._known(sender)
        draft = None if person is None else await self._storage.cases.draft_of(person.id)
        if draft is None:
            return Outcome(language, replies=[Reply("unsupported", keyboard=self._report_button())])
        return Outcome(language, replies=[Reply("unsupported"), await self._prompt(draft)], case_id=draft.id)

    async def edited(self, sender: Sender) -> Outcome:
        person, language = await self._known(sender)
        draft = None if person is None else await self._storage.cases.draft_of(person.id)
        return Outcome(
            language,
            replies=[Reply("edited" if draft else "edited.outside")],
            case_id=None if draft is None else draft.id,
        )

    # -- who receives it --------------------------------------------------------------

    def _exclusion_candidates(self, draft: Draft) -> list[Counsellor | Coordinator]:
        """Everyone who could receive this report, so the reporter can keep someone out of it."""
        assert draft.wish is not None and draft.role is not None
        members: list[Counsellor | Coordinator] = []
        if draft.wish.reaches_counsellor:
            members += self._router.serving(Audience.of(draft.role))
        if draft.wish.reaches_coordinator:
            members += self._router.coordinators
        return members

    @staticmethod
    def _code(member: Counsellor | Coordinator) -> str:
        return f"{'c' if isinstance(member, Counsellor) else 'k'}{member.position}"

    async def _exclude_action(self, draft: Draft, value: str, outcome: Outcome) -> None:
        """Toggle one person in or out; back to the summary with BACK."""
        now = self._clock.now()
        if value == BACK:
            draft.step = Step.SUMMARY
            await self._storage.cases.save_draft(draft, now)
            outcome.edit_pressed = await self._prompt(draft)
            return
        codes = {self._code(m) for m in self._exclusion_candidates(draft)}
        if value not in codes:
            outcome.toast = Label("toast.invalid")
            return
        excluded = draft.state.excluded
        draft.state.excluded = [c for c in excluded if c != value] if value in excluded else [*excluded, value]
        await self._storage.cases.save_draft(draft, now)
        outcome.edit_pressed = await self._prompt(draft)

    def _excluded(self, draft: Draft) -> list[bytes]:
        """The staff the reporter excluded, from the codes kept in the draft."""
        members = {f"c{c.position}": c for c in self._router.counsellors} | {
            f"k{c.position}": c for c in self._router.coordinators
        }
        return [self._router.index(members[code]) for code in draft.state.excluded if code in members]

    async def _route(self, draft: Draft) -> tuple[Route, frozenset[bytes], bool]:
        """Who receives this draft if it is sent now: what the summary shows and submission keeps.

        Never the reporter themself, nor anyone they excluded; of the counsellors left, the one
        with the fewest open cases. Also returns the excluded staff, and whether the group does
        have counsellors but none of them may take this report.
        """
        assert draft.wish is not None and draft.role is not None
        excluded = frozenset(self._excluded(draft))
        own = await self._storage.people.index_of_person(draft.person_id)
        barred = excluded | ({own} if own is not None else frozenset())
        audience = Audience.of(draft.role)
        candidates = self._router.serving(audience, barred)
        load = await self._storage.cases.open_load([self._router.index(c) for c in candidates]) if candidates else {}
        route = self._router.route(draft.role, draft.wish, load, barred)
        nobody_else = draft.wish.reaches_counsellor and not route.counsellors and bool(self._router.serving(audience))
        return route, excluded, nobody_else

    # -- submitting -------------------------------------------------------------------

    async def _submit(self, draft: Draft, person: PersonRecord, outcome: Outcome) -> None:
        now = self._clock.now()
        assert draft.wish is not None
        route, excluded, nobody_else = await self._route(draft)
        own = await self._storage.people.index_of_person(draft.person_id)
        barred = excluded | ({own} if own is not None else frozenset())
        timers: list[Timer] = []
        if draft.wish.reaches_counsellor:
            first = now + self._periods.acknowledge_within
            timers = [
                Timer(TimerKind.ESCALATE_COUNSELLORS, first),
                Timer(TimerKind.ESCALATE_COORDINATORS, first + self._periods.escalate_after),
            ]
        if self._aftercare is not None:
            timers += self._aftercare.timers_at_submission(draft, now)
        submission = lifecycle.submit(
            draft,
            audience=route.audience,
            department=draft.department,
            counsellors=[self._router.index(c) for c in route.counsellors],
            coordinators=[self._router.index(c) for c in route.coordinators],
            waiting_for=[i for i in self._router.coordinator_indexes() if i not in barred] if nobody_else else [],
            excluded=sorted(excluded),
            attachment_ids=await self._storage.cases.attachment_ids(draft.id),
            timers=timers,
            rules=self._register,
            now=now,
            month=now.astimezone(self._zone).date(),
            facts_id=uuid.uuid4().hex,
        )
        await self._storage.cases.submit(submission, now)
        await self._linking.match_may_appear(draft.id)
        if route.wish.reaches_counsellor:
            next_key = "submitted.next_counsellor_missing" if route.counsellor_missing else "submitted.next_counsellor"
            if nobody_else:
                next_key = "submitted.next_counsellor_nobody_else"
        else:
            next_key = (
                "submitted.next_coordinator_missing" if route.coordinator_missing else "submitted.next_coordinator"
            )
        lines = [
            Label(next_key, {"hours": self._response_hours, "audience": Label(f"audience.{route.audience.value}")})
        ]
        if route.wish is Wish.COUNSELLOR_AND_REGISTER:
            lines.append(
                Label(
                    "submitted.also_coordinator_missing" if route.coordinator_missing else "submitted.also_coordinator"
                )
            )
        # The summary becomes the confirmation: one message, with the reference and what happens next.
        outcome.edit_pressed = Reply(
            "submitted",
            {"reference": draft.reference, "next": tuple(lines)},
            ((Choice("button.cleanup", CleanUp(draft.reference)),),),
        )

    async def route_waiting(self) -> int:
        """Queue reports that came in while nobody held the role they need; returns how many."""
        routed = 0
        now = self._clock.now()
        for case_id in await self._storage.cases.without_counsellor():
            case = await self._readable(case_id)
            if case is None:
                continue
            serving = self._router.serving(case.audience, case.barred)
            if not serving:
                continue
            load = await self._storage.cases.open_load([self._router.index(c) for c in serving])
            chosen = self._router.index(self._router.least_loaded(serving, load))
            await self._storage.cases.change(case.id, partial(lifecycle.assign, to=chosen, send_report=True), now)
            routed += 1
        coordinators = self._router.coordinator_indexes()
        if coordinators:
            for case_id in await self._storage.cases.without_coordinator_delivery():
                case = await self._readable(case_id)
                if case is None:
                    continue
                recipients = [(i, lifecycle.Party.COORDINATOR) for i in lifecycle.coordinators_of(case, coordinators)]
                deliveries = lifecycle.report_deliveries(
                    case, case.attachment_ids, recipients, lifecycle.Notice.CASE_REPORT
                )
                await self._storage.outbox.enqueue(case.id, deliveries, now)
                routed += 1
        return routed

    async def _readable(self, case_id: str) -> lifecycle.Case | None:
        """A case, or None (logged) if it cannot be decrypted: one damaged row must not stop the bot."""
        try:
            return await self._storage.cases.get(case_id)
        except DecryptionError as error:
            log.error("case row cannot be read and is skipped: %s", error)
            return None

    async def clean_up(self, sender: Sender, action: CleanUp) -> Outcome:
        """Delete the report's conversation from the reporter's chat (within Telegram's 48 hours)."""
        person, language = await self._known(sender)
        case = await self._storage.cases.by_reference(action.reference)
        outcome = Outcome(language)
        if person is None or case is None or case.person_id != person.id or case.status is CaseStatus.DRAFT:
            outcome.toast = Label("toast.not_yours")
            return outcome
        if self._clock.now() - case.submitted_at > CLEANUP_WINDOW:
            outcome.toast = Label("cleanup.too_old")
            outcome.toast_alert = True
            outcome.clear_pressed_buttons = True
            return outcome
        outcome.delete_messages = await self._storage.cases.forget_messages(case.id)
        outcome.toast = Label("cleanup.done", {"reference": case.reference})
        outcome.toast_alert = True
        return outcome

    async def remember_messages(self, case_id: str, message_ids: list[int]) -> None:
        await self._storage.cases.remember_messages(case_id, message_ids, self._clock.now())

    # -- prompts --------------------------------------------------------------------

    def _report_button(self) -> Keyboard:
        return ((Choice("button.report", StartReport()),),)

    def _cancel_row(self, draft: Draft) -> tuple[Choice, ...]:
        return (Choice("button.cancel", Answer(tag_of(draft), Step.CANCEL, CANCEL_ASK)),)

    @staticmethod
    def _asks(draft: Draft, step: Step) -> bool:
        """Whether this report asks a question that not every report asks (a known profile is skipped)."""
        if step is Step.DETAILS:
            return bool(draft.perpetrator_named) or draft.state.asks_details
        if step is Step.ROLE:
            return draft.state.asks_role
        if step is Step.DEPARTMENT:
            return draft.state.asks_department
        return draft.state.asks_work_process

    def _progress(self, draft: Draft, step: Step) -> Label:
        asked = [s for s in QUESTIONS if s not in (*PROFILE_QUESTIONS, Step.DETAILS) or self._asks(draft, s)]
        number = asked.index(step) + 1 if step in asked else len(asked)
        return Label("progress", {"n": number, "total": len(asked)})

    def _options(self, draft: Draft, question: Question) -> Keyboard:
        tag, step = tag_of(draft), question.step
        choices = [Choice(f"{step.value}.{v}", Answer(tag, step, v)) for v in self._values(step)]
        if step is Step.DEPARTMENT:
            choices = [
                Choice("department.option", Answer(tag, step, str(n)), {"name": name})
                for n, name in enumerate(self._departments)
            ]
        elif step is Step.WORK_PROCESS:
            choices = [
                Choice("work_process.option", Answer(tag, step, str(n)), {"name": work_process_label(name)})
                for n, name in enumerate(self._work_processes)
            ]
        elif step is Step.FORMS:
            return self._forms_options(draft)
        rows = tuple(tuple(choices[i : i + question.per_row]) for i in range(0, len(choices), question.per_row))
        if step is Step.WORK_PROCESS:  # optional: one tap passes it
            rows = (*rows, (Choice("work_process.skip", Answer(tag, step, SKIP)),))
        return (*rows, self._cancel_row(draft))

    def _forms_options(self, draft: Draft) -> Keyboard:
        """One press on a form answers; "more than one thing" turns the buttons into ticks."""
        tag, step = tag_of(draft), Step.FORMS
        if not draft.state.choosing_forms:
            rows = [(Choice(f"forms.{form.value}", Answer(tag, step, form.value)),) for form in Form]
            rows.append((Choice("forms.several", Answer(tag, step, FORMS_SEVERAL)),))
            return (*rows, self._cancel_row(draft))
        ticks = [
            (
                Choice(
                    "forms.ticked" if form in draft.forms else "forms.unticked",
                    Answer(tag, step, form.value),
                    {"form": Label(f"forms.{form.value}")},
                ),
            )
            for form in Form
        ]
        return (*ticks, (Choice("forms.done", Answer(tag, step, FORMS_DONE)),), self._cancel_row(draft))

    async def _prompt(self, draft: Draft) -> Reply:
        """The question for the step the draft stands at, with its buttons."""
        step = draft.step
        tag = tag_of(draft)
        if step is Step.SUMMARY and (missing := self._next_step(draft)) is not Step.SUMMARY:
            # A draft from before a question was added (an upgrade): that question first.
            draft.step = step = missing
            await self._storage.cases.save_draft(draft, self._clock.now())
        if step is Step.WHEN and draft.state.typing_date:
            return Reply("ask.when_typed", keyboard=(self._cancel_row(draft),))
        if step is Step.DESCRIPTION:
            return self._description_prompt(draft)
        if step is Step.DETAILS:
            return self._details_prompt(draft)
        question = QUESTIONS_ASKED.get(step)
        if question is not None:
            ask = "ask.forms_several" if step is Step.FORMS and draft.state.choosing_forms else question.ask
            return Reply(ask, {"progress": self._progress(draft, step)}, self._options(draft, question))
        if step is Step.SUMMARY:
            return await self._summary(draft)
        if step is Step.EXCLUDE:
            excluded = set(draft.state.excluded)
            rows: Keyboard = tuple(
                (
                    Choice(
                        "exclude.out" if self._code(m) in excluded else "exclude.in",
                        Answer(tag, step, self._code(m)),
                        {
                            "name": m.name,
                            "role": Label("exclude.counsellor" if isinstance(m, Counsellor) else "exclude.coordinator"),
                        },
                    ),
                )
                for m in self._exclusion_candidates(draft)
            )
            return Reply("ask.exclude", keyboard=(*rows, (Choice("change.back", Answer(tag, step, BACK)),)))
        if step is Step.CHANGE:
            values = [s.value for s in QUESTIONS if s not in (Step.DEPARTMENT, Step.WORK_PROCESS) or self._values(s)]
            if draft.attachment_count:
                values.append(REMOVE_ATTACHMENTS)
            choices = [Choice(f"change.{v}", Answer(tag, step, v)) for v in values]
            rows = tuple(tuple(choices[i : i + 2]) for i in range(0, len(choices), 2))
            return Reply("ask.change", keyboard=(*rows, (Choice("change.back", Answer(tag, step, BACK)),)))
        return Reply(
            "ask.cancel",
            keyboard=(
                (Choice("button.cancel_yes", Answer(tag, Step.CANCEL, CANCEL_YES)),),
                (Choice("button.cancel_no", Answer(tag, Step.CANCEL, CANCEL_NO)),),
            ),
        )

    def _description_prompt(self, draft: Draft) -> Reply:
        step, tag = Step.DESCRIPTION, tag_of(draft)
        keyboard: Keyboard = (self._cancel_row(draft),)
        if draft.attachment_count:
            keyboard = ((Choice("description.no_text", Answer(tag, step, NO_TEXT)),), *keyboard)
        progress = self._progress(draft, step)
        if draft.state.early_text:
            keyboard = ((Choice("description.keep_text", Answer(tag, step, KEEP_TEXT)),), *keyboard)
            return Reply(
                "ask.description_kept",
                {
                    "progress": progress,
                    "kept": messages.shorten(draft.description, SUMMARY_EXCERPT),
                    "max": MAX_DESCRIPTION,
                },
                keyboard,
            )
        key = "ask.description_replace" if draft.state.replacing_description else "ask.description"
        if draft.attachment_count and not draft.description:
            key = "ask.description_after_attachment"
        return Reply(key, {"progress": progress, "max": MAX_DESCRIPTION}, keyboard)

    async def _summary(self, draft: Draft) -> Reply:
        assert draft.forms and draft.incident_date and draft.channel and draft.role and draft.wish
        assert draft.perpetrator is not None
        tag = tag_of(draft)
        route, excluded, nobody_else = await self._route(draft)
        description = draft.description
        more: Label | str = ""
        if messages.length(description) > SUMMARY_EXCERPT:
            more = Label("summary.more", {"n": messages.length(description) - SUMMARY_EXCERPT})
            description = messages.shorten(description, SUMMARY_EXCERPT)
        receivers: list[Label] = []
        audience = Label(f"audience.{route.audience.value}")
        if route.wish.reaches_counsellor:
            if nobody_else:
                receivers.append(Label("summary.counsellor_nobody_else", {"audience": audience}))
            elif route.counsellor_missing:
                receivers.append(Label("summary.counsellor_missing", {"audience": audience}))
            else:
                sees = "summary.sees_name" if draft.share_name_counsellor else "summary.sees_pseudonym"
                receivers.append(
                    Label(
                        "summary.to_counsellor",
                        {"names": names(c.name for c in route.counsellors), "sees": Label(sees)},
                    )
                )
        if route.wish.reaches_coordinator:
            if route.coordinator_missing:
                receivers.append(Label("summary.coordinator_missing"))
            else:
                shares = route.wish is Wish.COUNSELLOR_AND_REGISTER and draft.share_name_coordinator
                receivers.append(
                    Label(
                        "summary.to_coordinator",
                        {
                            "names": names(c.name for c in route.coordinators),
                            "sees": Label("summary.sees_name" if shares else "summary.sees_no_name"),
                        },
                    )
                )
        if excluded:
            kept_out = [m.name for m in self._exclusion_candidates(draft) if self._router.index(m) in excluded]
            receivers.append(Label("summary.excluded", {"names": names(kept_out)}))
        rows: list[tuple[Choice, ...]] = [(Choice("button.confirm", Answer(tag, Step.SUMMARY, SUMMARY_CONFIRM)),)]
        if route.wish.reaches_counsellor and route.counsellors:
            label = "toggle.counsellor_on" if draft.share_name_counsellor else "toggle.counsellor_off"
            rows.append((Choice(label, Answer(tag, Step.SUMMARY, TOGGLE_COUNSELLOR)),))
        if route.wish is Wish.COUNSELLOR_AND_REGISTER and route.coordinators:
            label = "toggle.coordinator_on" if draft.share_name_coordinator else "toggle.coordinator_off"
            rows.append((Choice(label, Answer(tag, Step.SUMMARY, TOGGLE_COORDINATOR)),))
        rows.append(
            (
                Choice(
                    "toggle.link_on" if draft.link_consent else "toggle.link_off",
                    Answer(tag, Step.SUMMARY, TOGGLE_LINK),
                ),
            )
        )
        if self._exclusion_candidates(draft):
            rows.append((Choice("button.exclude", Answer(tag, Step.SUMMARY, EXCLUDE)),))
        rows.append(
            (
                Choice("button.change", Answer(tag, Step.SUMMARY, SUMMARY_CHANGE)),
                Choice("button.cancel", Answer(tag, Step.CANCEL, CANCEL_ASK)),
            )
        )
        return Reply(
            "summary",
            {
                "forms": forms_label(draft.forms),
                "date": draft.incident_date,
                "channel": Label(f"channel.{draft.channel.value}"),
                "perpetrator": perpetrator_label(draft.perpetrator, bool(draft.perpetrator_named)),
                "details": Label("summary.details", {"lines": _details_lines(draft)}) if draft.state.details else "",
                "role": Label(f"role.{draft.role.value}"),
                "profile": self._profile_lines(draft),
                "description": description or "—",
                "more": more,
                "attachments": draft.attachment_count,
                "wish": Label(f"wish.{draft.wish.value}"),
                "receivers": tuple(receivers),
                "link": Label("summary.link_on" if draft.link_consent else "summary.link_off"),
            },
            tuple(rows),
        )

    def _profile_lines(self, draft: Draft) -> Label | str:
        """The department and work process on the summary, where the organisation asks them."""
        lines: list[Label] = []
        if self._departments or draft.department is not None:
            lines.append(Label("summary.department", {"department": draft.department or Label("summary.not_given")}))
        if self._work_processes:
            given = None if draft.work_process is None else work_process_label(draft.work_process)
            lines.append(Label("summary.work_process", {"work_process": given or Label("summary.not_given")}))
        return Label("summary.profile", {"lines": tuple(lines)}) if lines else ""


def _answered(step: Step, answer: Label) -> Label:
    """The answer just given, shown above the next question."""
    return Label("answered", {"question": Label(f"title.{step.value}"), "answer": answer})


def _details_lines(draft: Draft) -> tuple[Label, ...]:
    """What the reporter typed about the perpetrator, a line per detail (escaped when rendered)."""
    return tuple(detail_line(kind, value) for kind, value in draft.state.details)


def _serves(counsellor: Counsellor) -> Label:
    serves = "both" if len(counsellor.serves) == 2 else next(iter(counsellor.serves)).value
    return Label(f"serves.{serves}")
