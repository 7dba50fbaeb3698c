"""Telegram's text formatting rules: the HTML parse mode, trimming, lengths, entities.

This module owns everything the emulator does to a ``text``/``caption`` before it is
stored on a message:

* :func:`parse_html` is a port of tdlib's ``parse_html`` (td/telegram/MessageEntity.cpp),
  which is what the Bot API server runs for ``parse_mode=HTML``. It works on the UTF-8
  bytes so that the "at byte offset N" numbers in its errors are the ones Telegram
  reports, and it produces entities with UTF-16 offsets as the Bot API does.
  Error texts are tdlib's; the Bot API prefixes them with ``can't parse entities:``.

  One deliberate difference, on by default (``strict_entities=True``): Telegram passes
  an ``&`` that does not start one of ``&lt; &gt; &amp; &quot; &#N; &#xH;`` through as a
  literal character, and also accepts those entities without the closing ``;``. Both are
  almost always a missing ``html.escape`` in the bot (user text such as ``"&lt;"`` would
  silently turn into ``"<"``), so the emulator refuses them with
  ``Character entity expected at byte offset N``. Pass ``strict_entities=False`` to get
  Telegram's lenient behaviour.

* :func:`finish_text` applies tdlib's ``fix_formatted_text`` trimming (only ``' '`` and
  ``'\\n'`` are trimmed; leading whitespace is kept when an entity starts inside it) and
  drops empty entities.

* :func:`text_length` measures text the way the Bot API limits do. tdlib checks
  ``utf8_length`` (Unicode code points) against 4096/1024, so that is the default; the
  emulator can be switched to UTF-16 code units, which is stricter for astral characters
  such as emoji.

* :func:`detect_entities` finds the entities a Telegram client attaches to a message a
  human types (bot commands, mentions, hashtags, URLs, e-mail addresses), so simulated
  users' messages look like real ones to ``CommandHandler`` and friends.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = [
    "HtmlParseError",
    "checked_link",
    "detect_entities",
    "finish_text",
    "parse_html",
    "text_length",
    "utf16_len",
    "utf16_slice",
]

_SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "tg-time",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SPACE = frozenset(b" \t\r\n\0\v\f")  # tdlib's is_space(); NUL doubles as end of string
# tdlib MessageEntity::get_type_priority: entities sort by offset, longer first, then this.
_PRIORITY = {
    "mention": 50,
    "hashtag": 50,
    "bot_command": 50,
    "url": 50,
    "email": 50,
    "cashtag": 50,
    "phone_number": 50,
    "bank_card_number": 50,
    "bold": 90,
    "italic": 91,
    "code": 20,
    "pre": 11,
    "text_link": 49,
    "text_mention": 49,
    "underline": 92,
    "strikethrough": 93,
    "blockquote": 0,
    "spoiler": 94,
    "custom_emoji": 99,
    "expandable_blockquote": 0,
    "date_time": 30,
}


def sort_entities(entities: list[dict[str, Any]]) -> None:
    """Sort in place the way tdlib does (offset, then longer first, then type priority)."""
    entities.sort(
        key=lambda e: (
            e["offset"],
            -e["length"],
            _PRIORITY.get(e["type"], 50) - (1 if e["type"] == "pre" and e.get("language") else 0),
        )
    )


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML. ``str(exc)`` is tdlib's message."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (the unit of entity offsets)."""
    return len(text.encode("utf-16-le")) // 2


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The part of ``text`` an entity (UTF-16 offset/length) covers."""
    raw = text.encode("utf-16-le")
    return raw[2 * offset : 2 * (offset + length)].decode("utf-16-le", "replace")


def text_length(text: str, unit: str = "codepoint") -> int:
    """Length used for the 4096/1024 limits: code points (Telegram) or UTF-16 units."""
    if unit == "utf16":
        return utf16_len(text)
    if unit == "codepoint":
        return len(text)
    raise ValueError(f"unknown text length unit {unit!r}")


def _decode_entity(data: bytes, pos: int, strict: bool) -> tuple[int, int]:
    """Port of tdlib's decode_html_entity. Returns (code point or 0, position after it)."""
    n = len(data)

    def at(i: int) -> int:
        return data[i] if i < n else 0

    end = pos + 1
    res = 0
    if at(pos + 1) == ord("#"):
        end += 1
        if at(pos + 2) == ord("x"):
            end += 1
            while chr(at(end)) in "0123456789abcdefABCDEF" and at(end):
                res = res * 16 + int(chr(at(end)), 16)
                end += 1
                if res >= 0x10FFFF:
                    return 0, pos
        else:
            while ord("0") <= at(end) <= ord("9"):
                res = res * 10 + at(end) - ord("0")
                end += 1
                if res >= 0x10FFFF:
                    return 0, pos
        if res == 0 or res >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while (ord("a") <= at(end) <= ord("z")) or (ord("A") <= at(end) <= ord("Z")):
            end += 1
        name = data[pos + 1 : end]
        res = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}.get(name, 0)
        if not res:
            return 0, pos
    if at(end) == ord(";"):
        return res, end + 1
    if strict:
        return 0, pos
    return res, end


def checked_link(url: str) -> str | None:
    """Simplified tdlib LinkManager::getchecked_link: normalised URL or None (dropped)."""
    url = url.strip()
    if not url:
        return None
    lower = url.lower()
    for scheme in ("tg:", "ton:", "tonsite:"):
        if lower.startswith(scheme):
            rest = url[len(scheme) :]
            rest = rest[2:] if rest.startswith("//") else rest
            m = re.match(r"^([A-Za-z0-9_.-]+)(.*)$", rest)
            if not m or lower.startswith(scheme + "//http"):
                return None
            query = m.group(2) or "/"
            if not query.startswith("/"):
                query = "/" + query
            if query.startswith("/?"):
                query = query[1:]
            return f"{scheme[:-1]}://{m.group(1).lower()}{query}"
    m = re.match(r"^(?:([A-Za-z][A-Za-z0-9+.-]*)://)?([^/?#]*)(.*)$", url, re.DOTALL)
    if m is None:
        return None
    scheme = (m.group(1) or "http").lower()
    if scheme not in ("http", "https"):
        return None
    authority, rest = m.group(2), m.group(3)
    userinfo, _, hostport = authority.rpartition("@")
    host, _, port = hostport.partition(":")
    host = host.lower()
    if not host or "." not in host or not re.fullmatch(r"[a-z0-9._~%!$&'()*+,;=\-\u0080-\uffff]+", host):
        return None
    if port and not port.isdigit():
        return None
    if not rest.startswith("/"):
        rest = "/" + rest
    return f"{scheme}://{userinfo + '@' if userinfo else ''}{host}{':' + port if port else ''}{rest}"


def _link_user_id(url: str) -> int | None:
    """tdlib LinkManager::get_link_user_id: the id in tg://user?id=N, else None."""
    u = url.lower()
    if not u.startswith("tg:"):
        return None
    u = u[3:]
    u = u[2:] if u.startswith("//") else u
    if not u.startswith("user") or (len(u) > 4 and u[4] not in "/?#"):
        return None
    u = u[4:]
    u = u[1:] if u.startswith("/") else u
    if not u.startswith("?"):
        return None
    for part in u[1:].split("#", 1)[0].split("&"):
        key, _, value = part.partition("=")
        if key == "id":
            return int(value) if re.fullmatch(r"-?\d+", value) else None
    return None


def parse_html(
    text: str,
    *,
    strict_entities: bool = True,
    user_lookup: Callable[[int], dict[str, Any] | None] | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into (plain text, Bot API MessageEntity dicts).

    Raises :class:`HtmlParseError` with tdlib's wording (without the ``can't parse
    entities:`` prefix, which the caller adds). ``user_lookup`` turns the id of a
    ``tg://user?id=N`` link into the User dict of the resulting ``text_mention``.
    """
    data = text.encode("utf-8")
    n = len(data)

    def at(i: int) -> int:
        return data[i] if i < n else 0

    out = bytearray()
    utf16 = 0
    entities: list[dict[str, Any]] = []
    # (tag_name, argument, date, utf16 start, byte start in out)
    nested: list[tuple[str, str, int, int, int]] = []
    i = 0
    while i < n:
        c = data[i]
        if c == 0x26:  # '&'
            code, new_i = _decode_entity(data, i, strict_entities)
            if code:
                if 0xD800 <= code <= 0xDFFF:
                    raise HtmlParseError(
                        "Text contains invalid Unicode characters after decoding HTML entities, "
                        "check for unmatched surrogate code units"
                    )
                out += chr(code).encode("utf-8")
                utf16 += 2 if code > 0xFFFF else 1
                i = new_i
                continue
            if strict_entities:
                raise HtmlParseError(f"Character entity expected at byte offset {i}")
        if c != 0x3C:  # not '<'
            if (c & 0xC0) != 0x80:
                utf16 += 2 if c >= 0xF0 else 1
            out.append(c)
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != ord("/"):
            while at(i) not in _SPACE and at(i) != ord(">"):
                i += 1
            if at(i) == 0:
                raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
            tag = data[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _SUPPORTED_TAGS:
                raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            date = 0
            while at(i) != ord(">"):
                while at(i) != 0 and at(i) in _SPACE:
                    i += 1
                if at(i) == ord(">"):
                    break
                attr_begin = i
                while at(i) not in _SPACE and at(i) not in b"=>/\"'":
                    i += 1
                attr_name = data[attr_begin:i].decode("utf-8", "replace")
                if not attr_name:
                    raise HtmlParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
                while at(i) != 0 and at(i) in _SPACE:
                    i += 1
                if at(i) != ord("="):
                    if at(i) == 0:
                        raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                    if tag == "blockquote" and attr_name == "expandable":
                        argument = "1"
                    continue
                i += 1
                while at(i) != 0 and at(i) in _SPACE:
                    i += 1
                if at(i) == 0:
                    raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if at(i) not in (ord("'"), ord('"')):
                    token_begin = i
                    while chr(at(i)).isascii() and (chr(at(i)).isalnum() or at(i) in b".-") and at(i):
                        i += 1
                    value = data[token_begin:i].decode("utf-8", "replace").lower()
                    if at(i) not in _SPACE and at(i) != ord(">"):
                        raise HtmlParseError(f"Unexpected end of name token at byte offset {token_begin}")
                else:
                    quote = at(i)
                    i += 1
                    buf = bytearray()
                    while at(i) != quote and at(i) != 0:
                        if at(i) == 0x26:
                            code, new_i = _decode_entity(data, i, strict_entities)
                            if code:
                                buf += chr(code).encode("utf-8", "surrogatepass")
                                i = new_i
                                continue
                            if strict_entities:
                                raise HtmlParseError(f"Character entity expected at byte offset {i}")
                        buf.append(at(i))
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = buf.decode("utf-8", "replace")
                if at(i) == 0:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")
                if tag == "a" and attr_name == "href":
                    argument = value
                elif tag == "code" and attr_name == "class" and value.startswith("language-"):
                    argument = value[9:]
                elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
                    argument = value[3:]
                elif tag == "tg-emoji" and attr_name == "emoji-id":
                    argument = value
                elif tag == "blockquote" and attr_name == "expandable":
                    argument = "1"
                elif tag == "tg-time" and attr_name == "unix":
                    date = int(value) if re.fullmatch(r"-?\d+", value) else 0
                elif tag == "tg-time" and attr_name == "format":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
            nested.append((tag, argument, date, utf16, len(out)))
            i += 1  # skip '>'
            continue

        # end tag
        if not nested:
            raise HtmlParseError(f"Unexpected end tag at byte offset {begin}")
        while at(i) not in _SPACE and at(i) != ord(">"):
            i += 1
        end_tag = data[begin + 2 : i].decode("utf-8", "replace").lower()
        while at(i) in _SPACE and at(i) != 0:
            i += 1
        if at(i) != ord(">"):
            raise HtmlParseError(f"Unclosed end tag at byte offset {begin}")
        tag, argument, date, start, byte_start = nested[-1]
        if end_tag and end_tag != tag:
            raise HtmlParseError(f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", found "</{end_tag}>"')
        if utf16 > start:
            length = utf16 - start
            ent: dict[str, Any] | None = None
            if tag in ("i", "em"):
                ent = {"type": "italic"}
            elif tag in ("b", "strong"):
                ent = {"type": "bold"}
            elif tag in ("s", "strike", "del"):
                ent = {"type": "strikethrough"}
            elif tag in ("u", "ins"):
                ent = {"type": "underline"}
            elif tag == "tg-spoiler" or tag == "span":
                ent = {"type": "spoiler"}
            elif tag == "tg-emoji":
                if not re.fullmatch(r"-?\d+", argument) or int(argument) == 0:
                    raise HtmlParseError("Invalid custom emoji identifier specified")
                ent = {"type": "custom_emoji", "custom_emoji_id": str(int(argument))}
            elif tag == "tg-time":
                if date > 0:
                    ent = {"type": "date_time", "unix_time": date}
                    if argument:
                        ent["date_time_format"] = argument
            elif tag == "a":
                url = argument or bytes(out[byte_start:]).decode("utf-8", "replace")
                user_id = _link_user_id(url)
                if user_id is not None and user_id > 0:
                    user = (user_lookup(user_id) if user_lookup else None) or {
                        "id": user_id,
                        "is_bot": False,
                        "first_name": "",
                    }
                    ent = {"type": "text_mention", "user": user}
                else:
                    checked = checked_link(url)
                    if checked:
                        ent = {"type": "text_link", "url": checked}
            elif tag == "pre":
                last = entities[-1] if entities else None
                if (
                    last is not None
                    and last["type"] == "code"
                    and last["offset"] == start
                    and last["length"] == length
                    and last.get("language")
                ):
                    last["type"] = "pre"
                else:
                    ent = {"type": "pre"}
            elif tag == "code":
                last = entities[-1] if entities else None
                if (
                    last is not None
                    and last["type"] == "pre"
                    and last["offset"] == start
                    and last["length"] == length
                    and argument
                ):
                    last["language"] = argument
                else:
                    ent = {"type": "code"}
                    if argument:
                        ent["language"] = argument  # dropped below unless a <pre> claims it
            elif tag == "blockquote":
                ent = {"type": "expandable_blockquote" if argument else "blockquote"}
            if ent is not None:
                ent["offset"] = start
                ent["length"] = length
                entities.append(ent)
        nested.pop()
        i += 1  # skip '>'

    if nested:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{nested[-1][0]}"')
    for ent in entities:
        if ent["type"] == "code":
            ent.pop("language", None)
    entities = [_ordered(e) for e in entities]
    sort_entities(entities)
    return out.decode("utf-8", "replace"), entities


def _ordered(entity: dict[str, Any]) -> dict[str, Any]:
    """Put type/offset/length first so dumps read naturally."""
    head = {"type": entity["type"], "offset": entity["offset"], "length": entity["length"]}
    head.update((k, v) for k, v in entity.items() if k not in head)
    return head


def finish_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """tdlib fix_formatted_text trimming: rtrim/ltrim ' ' and '\\n', clip entities.

    Returns the trimmed text and entities (empty ones removed, offsets shifted). An
    all-whitespace text comes back as "" – the caller decides whether that is an error.
    """
    entities = [dict(e) for e in entities if e.get("length", 0) > 0]
    stripped_right = text.rstrip(" \n")
    if not stripped_right:
        return "", []
    end16 = utf16_len(stripped_right)
    kept = []
    for e in entities:
        if e["offset"] >= end16:
            continue
        if e["offset"] + e["length"] > end16:
            e["length"] = end16 - e["offset"]
        kept.append(e)
    entities = kept
    first_entity = min((e["offset"] for e in entities), default=len(stripped_right))
    lead = 0
    while lead < first_entity and lead < len(stripped_right) and stripped_right[lead] in " \n":
        lead += 1
    result = stripped_right[lead:]
    for e in entities:
        e["offset"] -= lead  # leading spaces/newlines are one UTF-16 unit each
    sort_entities(entities)
    return result, entities


_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,64})?(?![\w/])")
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{3,32}(?![\w@])")
_HASHTAG_RE = re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")
_EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_URL_RE = re.compile(
    r"(?<![\w@/])(?:https?://(?:[A-Za-z0-9-]+\.)*[A-Za-z0-9-]+"
    r"|(?:[A-Za-z0-9-]+\.)+(?:nl|com|org|net|eu|gov|io|be|de|info|app|dev))"
    r"(?::\d+)?(?:/[^\s]*)?(?![\w-])",
    re.IGNORECASE,
)


def detect_entities(text: str) -> list[dict[str, Any]]:
    """Entities a Telegram client would attach to ``text`` typed by a human.

    Covers bot_command, mention, hashtag, email and url with the usual word-boundary
    rules; overlapping matches keep the earliest, longest one.
    """
    found: list[tuple[int, int, str]] = []
    for kind, regex in (
        ("bot_command", _COMMAND_RE),
        ("email", _EMAIL_RE),
        ("mention", _MENTION_RE),
        ("hashtag", _HASHTAG_RE),
        ("url", _URL_RE),
    ):
        for m in regex.finditer(text):
            span = m.group(0).rstrip(".,;:!?)")
            if span:
                found.append((m.start(), m.start() + len(span), kind))
    found.sort(key=lambda t: (t[0], -(t[1] - t[0])))
    result: list[dict[str, Any]] = []
    taken_until = -1
    for start, end, kind in found:
        if start < taken_until:
            continue
        taken_until = end
        offset = utf16_len(text[:start])
        result.append({"type": kind, "offset": offset, "length": utf16_len(text[start:end])})
    return result
