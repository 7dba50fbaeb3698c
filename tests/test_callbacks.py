"""Callback data: what we write fits in 64 bytes and reads back; anything else is refused."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot import callbacks
from flows.intake import _OPTIONS
from flows.model import Language, Step
from flows.outcome import Acknowledge, Answer, ChooseLanguage, CleanUp, ResumeDraft, StartReport


def every_action():
    yield StartReport()
    for step, values in _OPTIONS.items():
        for value in values:
            yield Answer("0123abcd", step, value)
    yield ResumeDraft("0123abcd", keep=True)
    yield ResumeDraft("0123abcd", keep=False)
    for language in Language:
        yield ChooseLanguage(language)
    yield Acknowledge("MB-ABCD-2345")
    yield CleanUp("MB-ZZZZ-9999")


def test_every_button_the_bot_can_show_fits_telegrams_limit_and_round_trips():
    for action in every_action():
        data = callbacks.encode(action)
        assert len(data.encode()) <= 64
        assert callbacks.decode(data) == action


def test_forged_and_mangled_data_is_refused():
    for forged in [
        "",
        "i:0123abcd:category:nonsense!",
        "i:0123ABCD:category:threat",
        "i:0123abcd:nostep:threat",
        "a:MB-0000-0000",
        "a:MB-ABCD-2345;DROP TABLE",
        "x:../../etc",
        "l:de",
        "d:0123abcd:2",
        "r:extra",
        "z",
        "i:" + "a" * 70,
    ]:
        assert callbacks.decode(forged) is None, forged


@given(st.text(max_size=80))
def test_no_input_makes_decoding_fail_loudly(data):
    action = callbacks.decode(data)
    assert action is None or callbacks.encode(action) == data


@given(st.sampled_from(list(Step)), st.from_regex(r"[a-z_]{1,32}", fullmatch=True))
def test_answers_decode_to_exactly_what_was_encoded(step, value):
    data = f"i:0123abcd:{step.value}:{value}"
    assert callbacks.decode(data) == Answer("0123abcd", step, value)
