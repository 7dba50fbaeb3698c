"""Tens of thousands of forged and mutated button presses: zero state changes, zero data returned.

Callback data comes back from the user's client and can be anything. Here people
press payloads built from every real button of every case, mutated (other
references, other verbs, other arguments, flipped characters, truncations) and
made up, against a database with reports, messages, notes and actions in it. Each
press is by someone with no right to what it names; after every press the database
must be untouched and nothing rendered for them may contain another person's case
reference or any of the report texts.
"""

from __future__ import annotations

import random
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import messages
from bot import callbacks, dispatch
from flows.model import Language
from flows.outcome import Acknowledge, CaseCommand, ChooseLanguage, CleanUp, Forget, StartReport
from storage import Storage
from tests.conftest import ManualClock, reporter
from tests.test_authorization import ANNA, STAFF_COUNSELLOR, build_template, services
from tests.test_casework import staff

VERBS = ["o", "fl", "nt", "nl", "st", "ho", "rc", "ms", "cs", "ac", "au", "mo", "ma", "mr", "mc", "mn", "mw", "x", "zz"]
ARGS = [
    "",
    "y",
    "n",
    "in_progress",
    "closed",
    "0",
    "1",
    "2",
    "counsellor",
    "coordinator",
    "named",
    "anonymous",
    "no",
    "withdraw",
    "warning_letter",
    "warning_letter.completed",
    "nothing.in_progress",
    "00000000.completed",
]
PRESSES = 30_000


def payloads(references: list[str], prefixes: list[str], rng: random.Random, count: int) -> list[str]:
    """Real button shapes with real references, then mutated; plus noise."""
    seeds = [f"c:{verb}:{ref}" + (f":{arg}" if arg else "") for verb in VERBS for ref in references for arg in ARGS]
    seeds += [f"c:au:{ref}:{p}.completed" for ref in references for p in prefixes]
    seeds += [f"a:{ref}" for ref in references] + [f"x:{ref}" for ref in references]
    seeds += ["n:0", "n:1", "k:0", "g:a:a:a:a:0", "g:o:threat:h:w:0", "f:1", "f:0", "s", "v:employee:Handhaving"]
    seeds += ["i:0123abcd:category:threat", "d:0123abcd:1", "d:0123abcd:0"]
    out = []
    alphabet = string.ascii_letters + string.digits + ":-_."
    while len(out) < count:
        data = rng.choice(seeds)
        for _ in range(rng.randint(0, 2)):
            how = rng.randrange(6)
            if how == 0 and data:
                i = rng.randrange(len(data))
                data = data[:i] + rng.choice(alphabet) + data[i + 1 :]
            elif how == 1:
                data = data.replace(rng.choice(references), rng.choice(references))
            elif how == 2:
                data = data[: rng.randint(0, len(data))]
            elif how == 3:
                data += rng.choice(["", ":", ":y", "x", ":in_progress"])
            elif how == 4:
                data = rng.choice(seeds).split(":")[0] + data[1:]
            else:
                data = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 64)))
        out.append(data)
    return out


def _foreign(action, own: set[str]) -> bool:
    """Whether this decoded action names something the presser has no business with."""
    if isinstance(action, StartReport | ChooseLanguage | Forget):
        # Anyone may start a report or choose a language (open mode), and erase their own data:
        # these act on the presser alone, whatever message the button was on.
        return False
    if isinstance(action, CaseCommand | Acknowledge | CleanUp):
        return action.reference not in own
    return True


async def test_thirty_thousand_forged_presses_change_nothing_and_reveal_nothing(tmp_path):
    template = await build_template(tmp_path)
    references = list(template.references.values())
    secrets = [ref for ref in references] + ["Hij schreeuwde tegen me."]
    storage = await Storage.open(tmp_path / "m.db", tmp_path / "m.key")
    svc = services(storage, ManualClock())
    pressers = [
        (reporter(5005, "Sam"), set()),  # a stranger to every case
        (staff(STAFF_COUNSELLOR), {template.references["A"]}),  # a counsellor, presses on other cases
        (ANNA, {template.references["A"]}),  # a reporter, presses on other people's cases
    ]
    rng = random.Random(20261122)
    pressed = refused_at_decoding = 0
    leaks, changes = [], []
    try:
        for data in payloads(references, list(template.action_prefix.values()), rng, PRESSES):
            sender, own = rng.choice(pressers)
            action = callbacks.decode(data)
            if action is None:
                refused_at_decoding += 1
                continue
            if not _foreign(action, own):
                continue
            before = storage.db._conn.total_changes
            outcome = await dispatch.press(svc, sender, action, "meldbot_test_bot")
            pressed += 1
            if storage.db._conn.total_changes != before:
                changes.append(data)
            rendered = _render(outcome)
            visible_secrets = [s for s in secrets if s in rendered and s not in own]
            if visible_secrets:
                leaks.append((data, visible_secrets))
    finally:
        await storage.close()
    print(f"forged presses: {pressed} reached the flows, {refused_at_decoding} refused at decoding")
    assert pressed + refused_at_decoding > 10_000
    assert pressed > 5_000  # most forgeries are well-formed enough to reach the flows
    assert changes == []
    assert leaks == []


def _render(outcome) -> str:
    language = outcome.language.value if isinstance(outcome.language, Language) else "nl"
    parts = [messages.render(language, r.key, r.params) for r in outcome.replies]
    if outcome.edit_pressed is not None:
        parts.append(messages.render(language, outcome.edit_pressed.key, outcome.edit_pressed.params))
    if outcome.toast is not None:
        parts.append(messages.render(language, outcome.toast.key, outcome.toast.params))
    for reply in [*outcome.replies, *([outcome.edit_pressed] if outcome.edit_pressed else [])]:
        for row in reply.keyboard:
            parts.extend(callbacks.encode(choice.action) for choice in row)
    return "\n".join(parts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.text(alphabet=string.printable, max_size=64))
def test_any_text_as_callback_data_is_refused_or_decoded_exactly(data):
    action = callbacks.decode(data)
    assert action is None or callbacks.encode(action) == data
