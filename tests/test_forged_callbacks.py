"""Tens of thousands of forged and mutated button presses: zero state changes, zero data returned.

Callback data comes back from the user's client and can be anything. Here people press
payloads built from every action bot/callbacks.py declares, filled with the real references
and action ids of a database with reports, messages and actions in it (and every value each
field can hold), then mutated (other references, other verbs, other arguments, flipped
characters, truncations), and made up. Each press is by someone with no right to what it
names: a stranger, a reporter, the reporter of a withdrawn case, a counsellor (on a
colleague's case, a withdrawn one, one she handed over, one she was kept out of) and a
coordinator (on cases outside the register, taken out of it, or kept from her). After every
press the database must be untouched, and nothing shown to them may contain a case
reference they may not see or any report text.
"""

from __future__ import annotations

import random
import re
import string
from collections import Counter
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import messages
from bot import callbacks, dispatch
from bot.callbacks import Declaration
from flows.casework import FILTERS
from flows.intake import _OPTIONS
from flows.lifecycle import (
    ActionKind,
    ActionOutcome,
    CaseStatus,
    CheckInAnswer,
    ClaimStatus,
    ConsentAnswer,
    CostKind,
    FootageState,
    PoliceStep,
    SurveyAnswer,
    Thread,
)
from flows.model import Form, Language, Perpetrator, Role, Sender, StaffRole, Step
from flows.outcome import (
    Action,
    ChooseLanguage,
    CreateInvite,
    CreateStaffInvite,
    Forget,
    Outcome,
    Reply,
    Serves,
    StartReport,
)
from flows.statistics import PeriodKind
from storage import Storage
from tests.support import COORDINATOR, ManualClock, World, reporter, staff
from tests.test_authorization import ANNA, NO_CASE, VERA, WENDY, Template, build_template

PRESSES = 30_000
REPORT_TEXT = "Hij schreeuwde tegen me."  # what every report in the template says
# Buttons that act on the presser alone, whatever message they were on: anyone may start a
# report or choose a language (open mode), and erase their own data.
SELF_ACTING = (StartReport, ChooseLanguage, Forget)


@dataclass(frozen=True)
class Presser:
    sender: Sender
    acts_on: frozenset[str]  # cases this person may act on (presses on them are not forgeries)
    sees: frozenset[str]  # cases whose reference may appear in what this person is shown
    coordinator: bool = False


def pressers(template: Template) -> list[Presser]:
    ref = template.references

    def cases(*names: str) -> frozenset[str]:
        return frozenset(ref[name] for name in names)

    return [
        Presser(reporter(5005, "Sam"), frozenset(), frozenset()),  # a stranger to every case
        Presser(ANNA, cases("A"), cases("A")),  # a reporter, on other people's cases
        Presser(WENDY, cases("W"), cases("W")),  # the reporter of a withdrawn case
        # A counsellor: on a colleague's case (B), one withdrawn (W: its reference stays in her
        # list), one she handed over (F), one she was kept out of (X); V is her own report.
        Presser(VERA, cases("A", "R", "V"), cases("A", "R", "V", "W")),
        # A coordinator: on a case never in the register (A), taken out of it (R), kept from her
        # (X), withdrawn (W: its reference stays in the register).
        Presser(staff(COORDINATOR), cases("B", "C"), cases("B", "C", "W"), coordinator=True),
    ]


def vocabulary(template: Template) -> list[str]:
    """Every value a field of a button can hold, and the real references and action ids."""
    words = [*template.references.values(), NO_CASE, *template.action_prefix.values(), "00000000", "0123abcd"]
    words += ["", "0", "1", "2", "3", "4", "9", "99", "999", "9999", "2025", "Handhaving", "Toezicht & Handhaving"]
    for enum in (
        CaseStatus,
        ActionKind,
        ActionOutcome,
        Thread,
        ConsentAnswer,
        CheckInAnswer,
        SurveyAnswer,
        Role,
        Language,
        Step,
        Form,
        Perpetrator,
        FootageState,
        PoliceStep,
        CostKind,
        ClaimStatus,
        StaffRole,
        Serves,
        PeriodKind,
    ):
        words += [member.value for member in enum]
    words += [value for values in _OPTIONS.values() for value in values]
    words += [code for codes in FILTERS.values() for code in codes] + ["c0", "c2", "k0", "back"]
    words += ["2026q4", "2026m11", "2025q1", "2026y1"]  # safety pulse periods (flows/pulse.py period_key)
    return sorted(set(words))


def candidates(declaration: Declaration, words: list[str]) -> list[list[str]]:
    """For each field of the declaration, the words its codec reads."""
    found = [[w for w in words if re.fullmatch(f"(?:{codec.pattern})", w)] for _, codec in declaration.fields]
    assert all(found), f"no value for a field of {declaration.action.__name__}"
    return found


def seeds(words: list[str], rng: random.Random, per_declaration: int = 60) -> list[list[str]]:
    """Well-formed data for each declared action, its fields drawn from the vocabulary."""
    out = []
    for declaration in callbacks.DECLARATIONS:
        values = candidates(declaration, words)
        shapes = {":".join([declaration.prefix, *(rng.choice(v) for v in values)]) for _ in range(per_declaration)}
        out.append(sorted(shapes))
    return out


def _prefix_of(data: str) -> str | None:
    for declaration in callbacks.DECLARATIONS:
        if data == declaration.prefix or data.startswith(declaration.prefix + ":"):
            return declaration.prefix
    return None


def payloads(template: Template, rng: random.Random, count: int) -> list[str]:
    """Real button shapes with real references, then mutated; plus noise."""
    words = vocabulary(template)
    real = seeds(words, rng)
    references = [*template.references.values(), NO_CASE]
    prefixes = [d.prefix for d in callbacks.DECLARATIONS]
    alphabet = string.ascii_letters + string.digits + ":-_."
    out = []
    while len(out) < count:
        data = rng.choice(rng.choice(real))  # each action as often as any other
        for _ in range(rng.randint(0, 2)):
            how = rng.randrange(7)
            if how == 0 and data:  # a flipped character
                i = rng.randrange(len(data))
                data = data[:i] + rng.choice(alphabet) + data[i + 1 :]
            elif how == 1:  # another case
                data = data.replace(rng.choice(references), rng.choice(references))
            elif how == 2:  # cut short
                data = data[: rng.randint(0, len(data))]
            elif how == 3:  # something more
                data += rng.choice(["", ":", ":1", "x", ":in_progress", ":" + rng.choice(words)])
            elif how == 4:  # another verb, the same arguments
                prefix = _prefix_of(data)
                if prefix is not None:
                    data = rng.choice(prefixes) + data[len(prefix) :]
            elif how == 5:  # another value in one field
                parts = data.split(":")
                parts[rng.randrange(len(parts))] = rng.choice(words)
                data = ":".join(parts)
            else:  # noise
                data = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 64)))
        out.append(data)
    return out


def _foreign(action: Action, presser: Presser) -> bool:
    """Whether this decoded action names something the presser has no business with."""
    if isinstance(action, SELF_ACTING):
        return False
    if isinstance(action, CreateInvite | CreateStaffInvite):
        return not presser.coordinator  # coordinators create invitations, for reporters and for staff
    reference = getattr(action, "reference", None)
    return reference is None or reference not in presser.acts_on


async def test_thirty_thousand_forged_presses_change_nothing_and_reveal_nothing(tmp_path):
    template = await build_template(tmp_path)
    references = template.references.values()
    storage = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    services = World(storage, ManualClock()).services
    people = pressers(template)
    rng = random.Random(20261122)
    refused_at_decoding = 0
    decoded: Counter[type] = Counter()
    pressed: Counter[type] = Counter()
    leaks, changes = [], []
    try:
        for data in payloads(template, rng, PRESSES):
            presser = rng.choice(people)
            action = callbacks.decode(data)
            if action is None:
                refused_at_decoding += 1
                continue
            decoded[type(action)] += 1
            if not _foreign(action, presser):
                continue
            before = storage.db._conn.total_changes
            outcome = await dispatch.press(services, presser.sender, action, "meldbot_test_bot")
            pressed[type(action)] += 1
            if storage.db._conn.total_changes != before:
                changes.append(data)
            rendered = _render(outcome)
            secrets = [REPORT_TEXT, *(r for r in references if r not in presser.sees)]
            visible = [secret for secret in secrets if secret in rendered]
            if visible:
                leaks.append((data, visible))
    finally:
        await storage.close()
    total = sum(pressed.values())
    print(f"forged presses: {total} reached the flows, {refused_at_decoding} refused at decoding")
    assert total > 8_000  # many forgeries are well-formed enough to reach the flows
    # No declared button escapes: every action was decoded, and every one that can be forged was pressed.
    declared = {d.action for d in callbacks.DECLARATIONS}
    assert set(decoded) == declared
    assert set(pressed) == declared - set(SELF_ACTING)
    assert min(pressed.values()) >= 20, pressed
    assert changes == []
    assert leaks == []


def _texts(reply: Reply, language: str) -> list[str]:
    return [messages.render(language, reply.key, reply.params)] + [
        callbacks.encode(choice.action) for row in reply.keyboard for choice in row
    ]


def _render(outcome: Outcome) -> str:
    """Everything the presser would see or receive: texts, button data, the toast."""
    language = outcome.language.value
    parts = [text for reply in outcome.replies for text in _texts(reply, language)]
    if outcome.edit_pressed is not None:
        parts += _texts(outcome.edit_pressed, language)
    for row in outcome.pressed_keyboard or ():
        parts += [callbacks.encode(choice.action) for choice in row]
    if outcome.toast is not None:
        parts.append(messages.render(language, outcome.toast.key, outcome.toast.params))
    return "\n".join(parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.text(alphabet=string.printable, max_size=64))
def test_any_text_as_callback_data_is_refused_or_decoded_exactly(data):
    action = callbacks.decode(data)
    assert action is None or callbacks.encode(action) == data
