"""Both languages say the same things, and user text can never break the HTML."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

import messages
from flows.model import QUESTIONS, Audience, Channel, Form, Role, Step, Wish
from flows.views import PERPETRATOR_ANSWERS
from messages import Label, render

ROOT = Path(__file__).resolve().parent.parent


def test_dutch_and_english_have_the_same_keys():
    assert set(messages.catalogue("nl")) == set(messages.catalogue("en"))


def test_dutch_and_english_have_the_same_placeholders_for_every_key():
    nl, en = messages.catalogue("nl"), messages.catalogue("en")
    differing = {k: (messages.placeholders(nl[k]), messages.placeholders(en[k])) for k in nl}
    differing = {k: v for k, v in differing.items() if v[0] != v[1]}
    assert differing == {}


def test_placeholders_are_plain_names():
    for language in messages.LANGUAGES:
        for key, template in messages.catalogue(language).items():
            for name in messages.placeholders(template):
                assert re.fullmatch(r"[a-z_]+", name), f"{language}:{key} has placeholder {name!r}"


def test_every_choice_of_every_step_has_a_label():
    expected = [f"forms.{f}" for f in Form] + [f"channel.{c}" for c in Channel]
    expected += [f"role.{r}" for r in Role] + [f"wish.{w}" for w in Wish] + [f"audience.{a}" for a in Audience]
    expected += [f"perpetrator.{value}" for value in PERPETRATOR_ANSWERS]
    expected += [f"title.{s}" for s in QUESTIONS] + [f"change.{s}" for s in QUESTIONS]
    assert Step.FORMS in QUESTIONS
    assert [k for k in expected if not messages.has(k)] == []


def test_every_key_named_in_the_code_exists():
    """Keys appear in the code as string literals such as "ask.forms" or Label("toast.stale")."""
    known = set(messages.catalogue("nl"))
    prefixes = {k.split(".")[0] for k in known}
    missing = []
    for folder in ("bot", "flows"):
        for path in (ROOT / folder).rglob("*.py"):
            for literal in re.findall(r'"([a-z_]+(?:\.[a-z_0-9]+)+)"', path.read_text(encoding="utf-8")):
                if literal.split(".")[0] in prefixes and literal not in known and not literal.endswith("."):
                    missing.append(f"{path.name}: {literal}")
    assert missing == []


def test_user_text_is_escaped_where_it_is_filled_in():
    html = render("nl", "date.unreadable", {"text": "<b>boos</b> & <script>"})
    assert "&lt;b&gt;boos&lt;/b&gt; &amp; &lt;script&gt;" in html
    assert "<script>" not in html


def test_labels_and_dates_render_in_the_same_language():
    nl = render(
        "nl", "answered", {"question": Label("title.when"), "answer": Label("when.on", {"date": date(2026, 3, 14)})}
    )
    en = render(
        "en", "answered", {"question": Label("title.when"), "answer": Label("when.on", {"date": date(2026, 3, 14)})}
    )
    assert nl == "Wanneer: <b>14 maart 2026</b>"
    assert en == "When: <b>14 March 2026</b>"


def test_a_missing_parameter_is_a_loud_error_not_a_silent_gap():
    with pytest.raises(KeyError):
        render("nl", "welcome", {"name": "Anna"})


def test_plain_text_for_buttons_has_no_markup():
    assert messages.plain("nl", "summary.sent", {"reference": "MB-2345-6789"}) == "✅ Verstuurd: melding MB-2345-6789."


def test_every_text_is_valid_telegram_html_whatever_is_filled_in():
    """Parsed exactly as Telegram would (bot/emulator's parser, strict about '&')."""
    from bot.emulator import HtmlParseError, parse_html

    hostile = "<b>&amp; & <script> </i>"
    broken = []
    for language in messages.LANGUAGES:
        for key, template in messages.catalogue(language).items():
            filled = template.format_map({name: messages.escape(hostile) for name in messages.placeholders(template)})
            try:
                plain_text, _ = parse_html(filled)
            except HtmlParseError as error:
                broken.append(f"{language}:{key}: {error}")
                continue
            if messages.placeholders(template):
                assert hostile in plain_text, f"{language}:{key}"
    assert broken == []
