"""Views whose length grows with what people typed, made to fit one Telegram message; and the
words for a case's coarse facts (its forms, its work process) wherever they are shown.

Telegram refuses a message over 4096 characters (messages.MAX_TEXT). A list of notes or
of actions towards the perpetrator can grow without end, so it is paged by size or
shortened to the latest entries here; bot.render refuses anything that still would not fit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import messages
from flows.lifecycle import Case
from flows.model import DEFAULT_WORK_PROCESSES, Form, Perpetrator, in_order
from messages import Label
from storage.casefile import ActionRecord
from storage.cases import StoredDetail

# Who did it and whether the reporter knows their name, in one answer ("citizen, known by name").
_PERPETRATOR_WORD = {
    Perpetrator.CITIZEN_CLIENT: "citizen",
    Perpetrator.BUSINESS_OWNER: "business",
    Perpetrator.COLLEAGUE_OR_OFFICE_HOLDER: "colleague",
    Perpetrator.OTHER: "other",
}
PERPETRATOR_ANSWERS: dict[str, tuple[Perpetrator, bool]] = {
    **{
        f"{word}_{'named' if named else 'unnamed'}": (perpetrator, named)
        for perpetrator, word in _PERPETRATOR_WORD.items()
        for named in (True, False)
    },
    "unknown": (Perpetrator.UNKNOWN, False),
}


def perpetrator_answer(perpetrator: Perpetrator, named: bool) -> str:
    """The button value for this perpetrator answer."""
    if perpetrator is Perpetrator.UNKNOWN:
        return "unknown"
    return f"{_PERPETRATOR_WORD[perpetrator]}_{'named' if named else 'unnamed'}"


def perpetrator_label(perpetrator: Perpetrator, named: bool) -> Label:
    return Label(f"perpetrator.{perpetrator_answer(perpetrator, named)}")


def detail_line(kind: str, value: str) -> Label:
    """One thing known of the perpetrator, as typed (escaped when rendered)."""
    return Label("details.line", {"kind": Label(f"perpetrator.kind.{kind}"), "value": value})


# What one page of notes may hold, leaving room for its heading within Telegram's 4096.
NOTES_BUDGET = 3800
ACTIONS_SHOWN = 8
NAMES_SHOWN = 4
# What staff see of the perpetrator details in a case view: the latest few, each shortened (the
# case file keeps them all, in full).
DETAILS_SHOWN = 4
DETAIL_EXCERPT = 60


def pages(language: str, lines: Sequence[Label], budget: int) -> list[tuple[Label, ...]]:
    """Lines in pages of at most ``budget`` characters, the newest page first (each in date order)."""
    found: list[tuple[Label, ...]] = []
    current: list[Label] = []
    used = 0
    for line in reversed(lines):
        size = messages.visible_length(messages.render(language, line.key, line.params)) + 1
        if current and used + size > budget:
            found.append(tuple(current))
            current, used = [], 0
        current.insert(0, line)
        used += size
    if current:
        found.append(tuple(current))
    return found


def latest_actions(actions: Sequence[ActionRecord]) -> tuple[Label, ...]:
    """What was done towards the perpetrator, the latest few (the case file keeps them all)."""
    lines = tuple(
        Label("view.action", {"kind": Label(f"action.{a.kind}"), "outcome": Label(f"outcome.{a.outcome}")})
        for a in actions[-ACTIONS_SHOWN:]
    )
    if len(actions) > ACTIONS_SHOWN:
        lines = (Label("view.actions_earlier", {"n": len(actions) - ACTIONS_SHOWN}), *lines)
    return lines or (Label("view.no_actions"),)


def names(all_names: Iterable[str]) -> str | Label:
    """A few names in full; for more, the first ones and how many others."""
    listed = list(all_names)
    if len(listed) <= NAMES_SHOWN:
        return ", ".join(listed)
    return Label(
        "names.and_others", {"names": ", ".join(listed[: NAMES_SHOWN - 1]), "n": len(listed) - NAMES_SHOWN + 1}
    )


def forms_label(forms: Iterable[Form]) -> Label:
    """What happened, every form of it in the question's order, on one line."""
    ordered = in_order(forms)
    if not ordered:
        raise ValueError("a report has at least one form")
    label = Label(f"forms.{ordered[-1].value}")
    for form in reversed(ordered[:-1]):
        label = Label("forms.joined", {"first": Label(f"forms.{form.value}"), "rest": label})
    return label


def work_process_label(name: str) -> Label:
    """A work process: the catalogue's words for the default ones, the configured name for others."""
    if name in DEFAULT_WORK_PROCESSES:
        return Label(f"stats.work_process.{name}")
    return Label("work_process.named", {"name": name})


def case_facts(case: Case, details: Sequence[StoredDetail] = ()) -> Label:
    """What staff see of the register's facts: who did it, department, work process, and (in the
    case view) what is known of the perpetrator."""
    lines = [Label("facts.perpetrator", {"answer": perpetrator_label(case.perpetrator, case.perpetrator_named)})]
    if case.department is not None:
        lines.append(Label("facts.department", {"department": case.department}))
    if case.work_process is not None:
        lines.append(Label("facts.work_process", {"work_process": work_process_label(case.work_process)}))
    if details:
        known = tuple(
            detail_line(d.kind.value, messages.shorten(d.value, DETAIL_EXCERPT)) for d in details[-DETAILS_SHOWN:]
        )
        if len(details) > DETAILS_SHOWN:
            known = (Label("details.earlier", {"n": len(details) - DETAILS_SHOWN}), *known)
        lines.append(Label("facts.details", {"lines": known}))
    return Label("facts", {"lines": tuple(lines)})
