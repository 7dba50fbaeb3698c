"""Who did it: the perpetrator details of a report, and matching them without decrypting.

A reporter (or a counsellor or coordinator) may name the perpetrator in several ways.
Each detail is stored encrypted like all content; beside it, storage keeps a keyed index
of its *canonical form*, so that two reports naming the same person can be found by
comparing indexes, never by decrypting. This module owns the canonical forms, the index,
and the one rule of linking ("share at least one identifier"). It knows nothing of
storage, keys' origin or Telegram, except :func:`recorded_details`, the one way the case
file reads a case's details.

Normalisation decisions (each function returns the canonical form, or None when the
input is not usable as an identifier; a None detail is still kept and shown, it just
never links reports):

- Every kind: Unicode NFKC; text that is only a way of saying "I don't know"
  ("onbekend", "weet ik niet", "n.v.t.", "unknown", "?") is not an identifier.
- Names: case, accents (é → e, ß → ss, ø → o), punctuation and spacing do not count; an
  apostrophe joins ("O'Brien" = "OBrien"), any other punctuation separates
  ("Jan-Willem" = "Jan Willem"). The name parts are *sorted*, so "Jansen, Piet",
  "Piet Jansen" and "Jansen Piet" are one name: Dutch lists often put the surname first,
  with or without a comma, and two different people whose names are each other's
  permutation are much rarer than one person written both ways. A single name part
  ("Piet", "Bakker") is not an identifier: it would link strangers. Initials are not
  expanded ("P. Jansen" is not "Piet Jansen").
- Handles: the platform is *not* part of the identity. "@piet", "instagram.com/piet",
  "https://x.com/Piet" and "tiktok.com/@piet" are one handle "piet": reporters often
  don't say (or know) the platform, people reuse one handle everywhere, and a link is a
  hint for a coordinator who reads both reports, not a conclusion. Handles are
  case-insensitive on every major platform, so they are casefolded; dots, underscores
  and hyphens are kept because they tell accounts apart. A link to a post rather than a
  profile, or to a site that is not a known platform, is not a handle.
- Phone numbers: E.164 via ``phonenumbers`` with the Netherlands as the default
  region (so "06-12345678" = "+31 6 1234 5678" = "0031612345678"); a number that is
  not valid for its region is not an identifier.
- E-mail: trimmed, "mailto:" and a "Name <address>" wrapper removed, lowercased as a
  whole (local parts are case-sensitive in theory, never in practice), the domain in its
  ASCII (IDNA) form. No provider-specific rules (Gmail's dots and +tags): applied to
  other providers they would merge different people.
- Licence plates (Dutch and foreign): uppercase, accents folded, spaces, dashes and dots
  removed ("12-ABC-3" = "12 abc 3" = "12ABC3"); a plate has letters *and* digits.
- Address or place: casefolded, accents folded, punctuation and extra spaces removed, a
  Dutch postcode written together ("1234 AB" = "1234AB"), a house-number letter joined
  ("12 a" = "12-A" = "12a") and the one safe abbreviation expanded: a word ending in
  "str." ("Kerkstr. 12" = "Kerkstraat 12"). Only an address (with a house number or
  postcode) is an identifier: a bare town or district would link everyone from there.
- A free description is never matched.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import parse_qs, urlsplit

import phonenumbers

if TYPE_CHECKING:
    from storage import Storage


class IdentifierKind(StrEnum):
    """The ways to name a perpetrator. All but DESCRIPTION can link reports."""

    NAME = "name"
    HANDLE = "handle"  # an alias or a social-media handle
    PHONE = "phone"
    EMAIL = "email"
    PLATE = "plate"  # a licence plate, Dutch or foreign
    PLACE = "place"  # an address or place
    DESCRIPTION = "description"  # free text ("tall man, red coat"): never matched

    @property
    def matchable(self) -> bool:
        return self is not IdentifierKind.DESCRIPTION


@dataclass(frozen=True, slots=True)
class PerpetratorDetail:
    """One detail about the perpetrator as it was entered (the plaintext, kept encrypted)."""

    kind: IdentifierKind
    value: str


MIN_KEY_BYTES = 32
DEFAULT_PHONE_REGION = "NL"

# Compared after folding and removing everything but letters and digits.
_NOT_KNOWN = frozenset(
    {
        "onbekend",
        "nietbekend",
        "weetiknie",
        "weetikniet",
        "weetniet",
        "geenidee",
        "geen",
        "niemand",
        "iemand",
        "anoniem",
        "nvt",
        "unknown",
        "notknown",
        "idontknow",
        "idk",
        "dontknow",
        "noidea",
        "none",
        "nobody",
        "someone",
        "anonymous",
        "na",
        "x",
        "xx",
        "xxx",
    }
)

# Latin letters that Unicode does not decompose into a base letter and an accent.
_LETTERS = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"})


def _fold(text: str) -> str:
    """Casefolded, accents removed, compatibility forms unified (NFKC)."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_LETTERS)
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn"))


def _says_unknown(folded: str) -> bool:
    return "".join(c for c in folded if c.isalnum()) in _NOT_KNOWN


def _words(folded: str) -> list[str]:
    """Letters and digits in runs; apostrophes join, anything else separates."""
    joined = re.sub(r"['’‘`´]", "", folded)
    return re.findall(r"[^\W_]+", joined)


def normalise_name(text: str) -> str | None:
    folded = _fold(text)
    if _says_unknown(folded):
        return None
    parts = _words(folded)
    if len(parts) < 2 or not any(c.isalpha() for c in "".join(parts)):
        return None
    return " ".join(sorted(parts))


# Per platform: path segments that come before a handle (skipped), and the first
# segments that mean the link is to content rather than to a profile.
@dataclass(frozen=True, slots=True)
class _Platform:
    skip: frozenset[str] = frozenset()
    content: frozenset[str] = frozenset()


_PLATFORMS: dict[str, _Platform] = {
    "instagram.com": _Platform(
        skip=frozenset({"stories"}), content=frozenset({"p", "reel", "reels", "tv", "explore", "accounts", "direct"})
    ),
    "x.com": _Platform(
        content=frozenset({"i", "home", "search", "hashtag", "intent", "share", "explore", "settings", "messages"})
    ),
    "twitter.com": _Platform(
        content=frozenset({"i", "home", "search", "hashtag", "intent", "share", "explore", "settings", "messages"})
    ),
    "tiktok.com": _Platform(content=frozenset({"tag", "discover", "music", "video", "t", "search"})),
    "facebook.com": _Platform(
        content=frozenset(
            {"groups", "pages", "events", "watch", "share", "hashtag", "marketplace", "photo", "people", "reel"}
            | {"story.php", "permalink.php", "photo.php"}
        )
    ),
    "youtube.com": _Platform(
        skip=frozenset({"c", "user", "channel"}), content=frozenset({"watch", "shorts", "playlist", "results"})
    ),
    "t.me": _Platform(content=frozenset({"joinchat", "s", "c", "addstickers", "share"})),
    "threads.net": _Platform(),
    "threads.com": _Platform(),
    "linkedin.com": _Platform(skip=frozenset({"in", "company"}), content=frozenset({"posts", "feed", "jobs"})),
    "snapchat.com": _Platform(skip=frozenset({"add"}), content=frozenset({"spotlight", "discover"})),
    "reddit.com": _Platform(skip=frozenset({"u", "user"}), content=frozenset({"r"})),
    "bsky.app": _Platform(skip=frozenset({"profile"}), content=frozenset({"search"})),
}
_ALIASES = {"fb.com": "facebook.com", "telegram.me": "t.me", "mobile.twitter.com": "twitter.com"}
_LOOKS_LIKE_LINK = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|(?:[\w-]+\.)+[a-z]{2,}/)")


def _platform_handle(text: str) -> str | None:
    """The handle in a link to a profile on a known platform, or None."""
    parts = urlsplit(text if "://" in text else "https://" + text)
    host = (parts.hostname or "").removeprefix("www.").removeprefix("m.").removeprefix("web.")
    host = _ALIASES.get(host, host)
    platform = _PLATFORMS.get(host)
    if platform is None:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if host == "facebook.com" and segments[:1] == ["profile.php"]:
        return next(iter(parse_qs(parts.query).get("id", [])), None)
    while segments and segments[0] in platform.skip:
        segments = segments[1:]
    if not segments or segments[0] in platform.content:
        return None
    return segments[0]


def normalise_handle(text: str) -> str | None:
    folded = _fold(text).strip()
    if _LOOKS_LIKE_LINK.match(folded):
        handle = _platform_handle(folded)
        if handle is None:
            return None
        folded = handle
    folded = "".join(folded.split()).lstrip("@")
    # Fediverse handles keep their server ("piet@mastodon.social"); other characters
    # outside a handle's alphabet are punctuation around it.
    handle = re.sub(r"[^\w.@-]", "", folded).strip(".-@")
    if len(handle) < 2 or not any(c.isalnum() for c in handle) or _says_unknown(handle):
        return None
    return handle


def normalise_phone(text: str, default_region: str = DEFAULT_PHONE_REGION) -> str | None:
    cleaned = unicodedata.normalize("NFKC", text).strip().removeprefix("tel:")
    try:
        number = phonenumbers.parse(cleaned, default_region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_EMAIL_LOCAL = re.compile(r"[^\s@<>()\[\],;:\"]{1,64}")
_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def normalise_email(text: str) -> str | None:
    cleaned = unicodedata.normalize("NFKC", text).strip()
    wrapped = re.search(r"<([^<>]*)>", cleaned)
    if wrapped:
        cleaned = wrapped.group(1).strip()
    cleaned = re.sub(r"^mailto:", "", cleaned, flags=re.IGNORECASE).strip(" .,;:'\"")
    local, at, domain = cleaned.rpartition("@")
    if not at or not _EMAIL_LOCAL.fullmatch(local):
        return None
    try:
        ascii_domain = domain.casefold().encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        return None
    if len(labels[-1]) < 2 or labels[-1].isdigit():  # no top-level domain has one letter or only digits
        return None
    return f"{local.lower()}@{ascii_domain}"


def normalise_plate(text: str) -> str | None:
    folded = _fold(text)
    if _says_unknown(folded):
        return None
    plate = re.sub(r"[\s\-.·_‐‑–—]", "", folded).upper()
    if not re.fullmatch(r"[A-Z0-9]{2,10}", plate):
        return None
    if not (re.search(r"[A-Z]", plate) and re.search(r"[0-9]", plate)):
        return None
    return plate


def normalise_place(text: str) -> str | None:
    folded = _fold(text)
    if _says_unknown(folded):
        return None
    folded = re.sub(r"(?<=[^\W\d_])str\.", "straat ", folded)
    place = " ".join(_words(folded))
    place = re.sub(r"\b(\d{4}) ([a-z]{2})\b", r"\1\2", place)
    place = re.sub(r"\b(\d+) ([a-z])\b", r"\1\2", place)
    if not (re.search(r"\d", place) and sum(c.isalpha() for c in place) >= 2):
        return None
    return place


def normalise(kind: IdentifierKind, text: str) -> str | None:
    """The canonical form of ``text`` as a ``kind``, or None when it cannot identify anyone."""
    match kind:
        case IdentifierKind.NAME:
            return normalise_name(text)
        case IdentifierKind.HANDLE:
            return normalise_handle(text)
        case IdentifierKind.PHONE:
            return normalise_phone(text)
        case IdentifierKind.EMAIL:
            return normalise_email(text)
        case IdentifierKind.PLATE:
            return normalise_plate(text)
        case IdentifierKind.PLACE:
            return normalise_place(text)
        case IdentifierKind.DESCRIPTION:
            return None


def identifier_index(key: bytes, kind: IdentifierKind, canonical: str) -> bytes:
    """The keyed index of one canonical identifier: HMAC-SHA256, separated per kind.

    Equal identifiers of one kind give equal indexes; without ``key`` an index says
    nothing, not even which kind it is. Raises ValueError for a key that is too short,
    a description, or a value that is not in canonical form (index only what
    :func:`normalise` returned, or equal people would get different indexes).
    """
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the identifier key must have at least {MIN_KEY_BYTES} bytes")
    if not kind.matchable:
        raise ValueError("a description is never indexed")
    if normalise(kind, canonical) != canonical:
        raise ValueError(f"not a canonical {kind.value}")
    # Kind values never contain NUL, so kind and value cannot run into each other.
    message = b"meldbot perpetrator identifier v1\x00" + kind.value.encode() + b"\x00" + canonical.encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def detail_indexes(key: bytes, details: Iterable[PerpetratorDetail]) -> frozenset[bytes]:
    """The indexes of every usable identifier among ``details`` (descriptions and junk give none)."""
    indexes = set()
    for detail in details:
        canonical = normalise(detail.kind, detail.value)
        if canonical is not None:
            indexes.add(identifier_index(key, detail.kind, canonical))
    return frozenset(indexes)


Report = TypeVar("Report")


def reports_naming_the_same_person(
    own: Collection[bytes], others: Mapping[Report, Collection[bytes]]
) -> frozenset[Report]:
    """The other reports that share at least one identifier index with ``own``."""
    mine = set(own)
    return frozenset(report for report, indexes in others.items() if not mine.isdisjoint(indexes))


async def recorded_details(storage: Storage, case_id: str) -> Sequence[PerpetratorDetail]:
    """The perpetrator details recorded for a case, decrypted, in the order they were entered.

    The one place the case file (flows/dossiers.py) gets them from (storage/cases.py keeps them
    sealed under the case's key, migration 0010).
    """
    return tuple(PerpetratorDetail(d.kind, d.value) for d in await storage.cases.perpetrator_details(case_id))
