"""Every text the bot shows, per language, and the one place that escapes user input.

The texts live in ``nl.toml`` and ``en.toml`` beside this module, as Telegram HTML
with ``{placeholders}``. :func:`render` fills them in; every value that is a plain
string (which may come from a user) passes through :func:`escape` here and nowhere
else. Values that are :class:`Label` are texts from this catalogue, rendered in the
same language; dates are written out in that language.
"""

from __future__ import annotations

import html
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
# Telegram's limits on what a person sees of a message: its text, and a file's caption.
MAX_TEXT = 4096
MAX_CAPTION = 1024


@dataclass(frozen=True, slots=True)
class Label:
    """A catalogue text used inside another text, rendered in the same language."""

    key: str
    params: Mapping[str, object] = field(default_factory=dict)


def length(text: str) -> int:
    """How long a text is against Telegram's limits, in UTF-16 code units.

    Telegram counts a message's length in characters; an emoji or another character
    outside the Basic Multilingual Plane is one character to its server but two UTF-16
    code units to its clients and entity offsets. Counting code units is never less than
    Telegram's count, so a text that fits here fits there.
    """
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int) -> str:
    """``text`` itself if it fits in ``limit`` (see :func:`length`), else cut to fit with an ellipsis."""
    if length(text) <= limit:
        return text
    units = 0
    for position, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit - 1:
            return text[:position] + "…"
    return text


def visible_length(html_text: str) -> int:
    """The length of a rendered text as Telegram counts it: after its tags and entities."""
    return length(html.unescape(_strip_tags(html_text)))


class TooLong(ValueError):
    """A rendered message would be longer than Telegram accepts: a view that must page or split."""


def escape(text: str) -> str:
    """Make user text safe inside Telegram HTML: it can never open or close a tag."""
    return html.escape(text, quote=False)


@cache
def catalogue(language: str) -> dict[str, str]:
    if language not in LANGUAGES:
        raise KeyError(f"no texts for language {language!r}")
    raw = resources.files("messages").joinpath(f"{language}.toml").read_text(encoding="utf-8")
    texts = tomllib.loads(raw)
    for key, value in texts.items():
        if not isinstance(value, str):
            raise ValueError(f"{language}.toml: {key} must be a string")
    return texts


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def has(key: str) -> bool:
    return key in catalogue(DEFAULT_LANGUAGE)


def format_date(language: str, day: date) -> str:
    texts = catalogue(language)
    return texts["date.format"].format(day=day.day, month=texts[f"month.{day.month}"], year=day.year)


def _value(language: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Label):
        return render(language, value.key, value.params)
    if isinstance(value, tuple):
        return "\n".join(_value(language, item) for item in value)
    if isinstance(value, date):
        return format_date(language, value)
    if isinstance(value, bool):
        raise TypeError("booleans have no text; pass a Label")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return escape(value)
    raise TypeError(f"cannot put a {type(value).__name__} in a message")


def render(language: str, key: str, params: Mapping[str, object] | None = None) -> str:
    """The text ``key`` in ``language`` with ``params`` filled in, as Telegram HTML."""
    template = catalogue(language)[key]
    params = params or {}
    values = {name: _value(language, params[name]) for name in placeholders(template)}
    return template.format_map(values)


def render_message(
    language: str,
    key: str,
    params: Mapping[str, object] | None = None,
    *,
    limit: int = MAX_TEXT,
    before: Label | None = None,
) -> str:
    """:func:`render` for a whole message or caption: refused (:class:`TooLong`) if it would not fit.

    Views whose length grows with what people typed page or shorten before they get here;
    this is the check that they did.
    """
    text = render(language, key, params)
    if before is not None:
        text = f"{render(language, before.key, before.params)}\n\n{text}"
    size = visible_length(text)
    if size > limit:
        raise TooLong(f"message {key!r} would be {size} characters long, over Telegram's {limit}")
    return text


def plain(language: str, key: str, params: Mapping[str, object] | None = None) -> str:
    """A text for a place without HTML (button labels, toasts, command descriptions)."""
    return html.unescape(_strip_tags(render(language, key, params)))


def _strip_tags(text: str) -> str:
    out, inside = [], False
    for char in text:
        if char == "<":
            inside = True
        elif char == ">" and inside:
            inside = False
        elif not inside:
            out.append(char)
    return "".join(out)
