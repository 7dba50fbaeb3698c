"""Forgiving parser for the incident date a reporter types.

What this module owns
---------------------
One thing: turning the free text a reporter types after "When did it
happen?" -> "Earlier date" into a calendar date, or into one precise reason
why it could not (a :class:`DateProblem`).  It does *not* own the question,
the buttons, the wording of any reply, the user's language or the clock: the
caller passes ``today`` (the Europe/Amsterdam local date) and maps each
problem to a message.  Standard library only; no ``telegram`` import.

The reporter may be upset and typing on a phone, in Dutch or English,
regardless of the language they chose.  Everything is case-insensitive and
accents, curly quotes and surrounding whitespace/punctuation are ignored.

Accepted forms (examples, not the full list)
--------------------------------------------
* numeric, always DAY FIRST: ``14-3-2026``, ``14/3/2026``, ``14.3.2026``,
  ``14-03-26``, ``14-3``, ``14/3``; ISO year first when the first group has
  four digits: ``2026-03-14``.
* month names/abbreviations (nl + en): ``14 maart``, ``14 maart 2026``,
  ``maart 14``, ``14 mrt``, ``14 March``, ``March 14th, 2026``,
  ``14th of March 2026``, ``1e``/``1ste``/``2de``/``3rd``, ``sept``,
  ``okt``/``oct``, ``mei``/``may``.
* relative: ``vandaag``/``today``, ``gisteren``/``gister``/``yesterday``,
  ``eergisteren``/``day before yesterday``, ``3 dagen geleden``,
  ``3 days ago``, ``een week geleden``, ``a week ago``,
  ``twee weken geleden``, ``2 weeks ago``, ``zo'n week geleden`` (digits
  or the number words een..twaalf / one..twelve), ``vorige week`` /
  ``last week`` (7 days ago), ``vanochtend``, ``gisteravond``,
  ``this morning``, ``yesterday evening``.  ``morgen`` / ``tomorrow`` are
  understood - and rejected as IN_FUTURE.
* weekdays: ``maandag``, ``afgelopen maandag``, ``vorige maandag``,
  ``maandag jl.``, ``monday``, ``last monday``, ``ma``, ``mon``,
  ``maandagavond``; ``vorige week maandag`` / ``monday last week``;
  a weekday in front of a full date (``maandag 16 maart``) is checked.
* a trailing time is ignored: ``14-3 om 15:30``, ``gisteren rond 10 uur``,
  ``yesterday at 3pm``, ``dinsdag 's avonds``, ``gisteren half vier``.
* leading filler is ignored: ``op``, ``on the``, ``ongeveer``, ``about``,
  ``zo'n``, ``het was``, ``it was`` ...

Rules chosen for ambiguous input
--------------------------------
* Numbers are always day first, also for English users: ``3-4`` is 3 April
  and ``3-14-2026`` is NO_SUCH_DAY (there is no 14th month), never 14 March.
* No year (``14-3``, ``14 maart``): the most recent such date that is not
  after today.  ``29-2`` goes back to the most recent leap year (which may
  make it TOO_OLD around 2100, when 29 February skips eight years).
* Two-digit years go to the century that puts them closest to today:
  ``26`` -> 2026, ``27`` -> 2027 (IN_FUTURE, so a typo is reported as one),
  ``99`` -> 1999 (TOO_OLD).
* A bare weekday means its most recent occurrence *before* today, 1 to 7
  days back - never today.  Whoever means today has the "Today" button (or
  types ``vandaag``); someone who types "dinsdag" on a Tuesday is nearly
  always talking about last week.  ``afgelopen``/``vorige``/``last``/
  ``past``/``jl.`` give the same result.  Some Dutch speakers mean "Monday
  of last week" by ``vorige maandag``; we deliberately read it like
  ``afgelopen maandag`` (most recent), while ``vorige week maandag`` /
  ``maandag vorige week`` / ``monday last week`` explicitly select the day
  in the previous Monday-to-Sunday week.
* A weekday together with a date (``maandag 16 maart``) must agree; if it
  does not we cannot tell which half is the typo: UNREADABLE.  A date
  without a year is resolved first, so on 19 March 2026 ``maandag 23
  maart`` means 23 March 2025, a Sunday, and is UNREADABLE too.
* A bare number (``14``, ``de 14e``, ``the 14th``), a month without a day
  (``maart 2026``), vague phrases (``een paar dagen geleden``, ``vorige
  maand``) and ``vannacht``/``last night`` (before or after midnight?) are
  UNREADABLE: better to ask again than to record a guessed date.
* Sentences are not searched for a date: the whole answer must be a date
  expression, optionally with filler words in front and a time behind.
  A time needs a colon/point, a unit (``uur``, ``u``, ``pm``) or a word in
  front (``om``, ``rond``, ``at``), so a lone number after a date is read
  as a year: ``14 maart 15`` is 14 March 2015 (TOO_OLD), and after a date
  that cannot take a year (``gisteren 15``) it is UNREADABLE.
* Problem precedence: NO_SUCH_DAY (not a date at all) before IN_FUTURE
  before TOO_OLD.  A day number outside 1..31 or a month outside 1..12
  (``32-1``, ``14-13``) is NO_SUCH_DAY: it has the shape of a date but
  names a day that does not exist.
* TOO_OLD means strictly before the same calendar day MAX_AGE_YEARS ago
  (29 February falls back to 28 February); that day itself is accepted.
* Input longer than MAX_INPUT_LENGTH characters after stripping surrounding
  whitespace is UNREADABLE without further work; that bounds the cost of
  any input.  The parser tokenises with a single linear regex and matches
  token lists by hand, so there is no regex backtracking to exploit, and it
  never raises for any ``str``.
"""

from __future__ import annotations

import re
import unicodedata
from calendar import isleap
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date
from enum import Enum

__all__ = [
    "MAX_AGE_YEARS",
    "MAX_INPUT_LENGTH",
    "DateProblem",
    "ParsedDate",
    "parse_incident_date",
]

MAX_AGE_YEARS = 5
"""Dates more than this many years before today are TOO_OLD."""

MAX_INPUT_LENGTH = 200
"""Longer answers (after stripping surrounding whitespace) are UNREADABLE."""


class DateProblem(Enum):
    UNREADABLE = "unreadable"  # could not make a date of it
    IN_FUTURE = "in_future"  # a date after `today`
    TOO_OLD = "too_old"  # more than MAX_AGE_YEARS before today
    NO_SUCH_DAY = "no_such_day"  # e.g. 31-2 or 30 februari


@dataclass(frozen=True)
class ParsedDate:
    """Outcome of :func:`parse_incident_date`: exactly one field is set.

    Constructing one with both or neither raises ValueError, so callers can
    rely on ``result.value is None`` meaning ``result.problem`` is set.
    """

    value: date | None
    problem: DateProblem | None

    def __post_init__(self) -> None:
        if (self.value is None) == (self.problem is None):
            raise ValueError("ParsedDate needs exactly one of value and problem")


_UNREADABLE = ParsedDate(None, DateProblem.UNREADABLE)
_IN_FUTURE = ParsedDate(None, DateProblem.IN_FUTURE)
_TOO_OLD = ParsedDate(None, DateProblem.TOO_OLD)
_NO_SUCH_DAY = ParsedDate(None, DateProblem.NO_SUCH_DAY)

# --------------------------------------------------------------------------
# Vocabulary.  All entries are lower-case ASCII, as produced by _tokens().
# --------------------------------------------------------------------------

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        ("januari", "january", "jan"),
        ("februari", "february", "feb", "febr", "febuari", "febuary", "feburary"),
        ("maart", "march", "mrt", "mar"),
        ("april", "apr"),
        ("mei", "may"),
        ("juni", "june", "jun"),
        ("juli", "july", "jul"),
        ("augustus", "august", "aug"),
        ("september", "sep", "sept"),
        ("oktober", "october", "okt", "oct"),
        ("november", "nov"),
        ("december", "dec"),
    ),
    start=1,
):
    for _name in _names:
        _MONTHS[_name] = _number

_WEEKDAYS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        ("maandag", "ma", "monday", "mon"),
        ("dinsdag", "di", "tuesday", "tue", "tues"),
        ("woensdag", "wo", "wednesday", "wed"),
        ("donderdag", "do", "thursday", "thu", "thur", "thurs"),
        ("vrijdag", "vr", "vrij", "friday", "fri"),
        ("zaterdag", "za", "zat", "saturday", "sat"),
        ("zondag", "zo", "zon", "sunday", "sun"),
    )
):
    for _name in _names:
        _WEEKDAYS[_name] = _number

# Dutch writes "maandagavond", "gistermiddag" as one word; the part of the
# day is irrelevant for the date, so it is cut off these stems.
_DAY_PARTS = ("ochtend", "morgen", "middag", "avond", "nacht")
_DAY_PART_STEMS = frozenset(
    ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag")
    + ("gister", "gisteren", "eergister", "eergisteren")
)

# Whole phrases -> days before today (negative: after today).
_RELATIVE: dict[tuple[str, ...], int] = {}
for _days, _phrases in (
    (
        0,
        (
            "vandaag",
            "today",
            "vanochtend",
            "vanmorgen",
            "vanmiddag",
            "vanavond",
            "this morning",
            "this afternoon",
            "this evening",
            "tonight",
            "zojuist",
            "zonet",
            "net",
            "just now",
            "eerder vandaag",
            "earlier today",
        ),
    ),
    (1, ("gisteren", "gister", "yesterday")),
    (
        2,
        (
            "eergisteren",
            "eergister",
            "day before yesterday",
            "the day before yesterday",
        ),
    ),
    (7, ("vorige week", "last week", "afgelopen week", "past week")),
    (-1, ("morgen", "tomorrow")),
    (-2, ("overmorgen", "day after tomorrow")),
):
    for _phrase in _phrases:
        _RELATIVE[tuple(_phrase.split())] = _days

_NUMBER_WORDS = {
    "een": 1, "one": 1, "a": 1, "an": 1, "n": 1,  # "'n week geleden"
    "twee": 2, "two": 2,
    "drie": 3, "three": 3,
    "vier": 4, "four": 4,
    "vijf": 5, "five": 5,
    "zes": 6, "six": 6,
    "zeven": 7, "seven": 7,
    "acht": 8, "eight": 8,
    "negen": 9, "nine": 9,
    "tien": 10, "ten": 10,
    "elf": 11, "eleven": 11,
    "twaalf": 12, "twelve": 12,
}  # fmt: skip
_UNIT_DAYS = {"dag": 1, "dagen": 1, "day": 1, "days": 1,
              "week": 7, "weken": 7, "weeks": 7}  # fmt: skip
_SINGULAR_UNITS = frozenset(("dag", "day", "week"))
_AGO = frozenset(("geleden", "ago", "terug"))

_WEEKDAY_MODIFIERS = frozenset((("afgelopen",), ("vorige",), ("vorig",), ("last",), ("past",), ("this", "past")))
_PREVIOUS_WEEK = frozenset((("vorige", "week"), ("last", "week"), ("afgelopen", "week"), ("past", "week")))

_ORDINAL_SUFFIXES = frozenset(("st", "nd", "rd", "th", "e", "ste", "de"))

# Filler in front of the date ("op 14 maart", "on the 14th", "zo'n week
# geleden", "het was gisteren") and behind it ("14 maart jl.").
_LEADING_FILLER = tuple(
    tuple(phrase.split())
    for phrase in (
        "zo ' n", "it ' s", "het was", "dat was", "it was", "was",
        "op", "on", "the", "de", "het",
        "ongeveer", "omstreeks", "rond", "rondom", "circa", "ca",
        "about", "around", "approx", "approximately",
    )
)  # fmt: skip
_TRAILING_FILLER = tuple(
    tuple(phrase.split()) for phrase in ("j . l", "j l", "jl", "jongstleden", "l . l", "ll", "laatstleden")
)

# Words that may stand around a time of day: "om 15:30", "rond 10 uur",
# "tussen 10 en 11", "at about 3pm", "laat in de avond".
_TIME_MARKERS = frozenset(
    (
        "om", "rond", "rondom", "omstreeks", "tegen", "ongeveer", "circa", "ca",
        "tussen", "en", "in", "de", "het", "op", "laat", "vroeg",
        "at", "around", "about", "approx", "approximately", "between", "and",
        "the", "late", "early",
    )
)  # fmt: skip
_PARTS_OF_DAY = frozenset(
    (
        "ochtend", "morgen", "middag", "avond", "nacht", "middernacht",
        "morning", "afternoon", "evening", "night", "noon", "midnight",
    )
)  # fmt: skip
_GENITIVE_PARTS_OF_DAY = frozenset(("ochtends", "morgens", "middags", "avonds", "nachts"))
_CLOCK_UNITS = tuple(
    tuple(unit.split())
    for unit in (
        "a . m .", "p . m .", "a . m", "p . m", "a m", "p m", "am", "pm",
        "o ' clock", "oclock", "uur", "u", "h", "hr", "hrs",
    )
)  # fmt: skip
_CLOCK_SEPARATORS = frozenset((":", ".", "h", "u"))
_NUMERIC_SEPARATORS = frozenset(("-", "/", "."))
# Punctuation that may sit between the words of a date ("14-mrt-2026",
# "March 14, 2026", "14 mrt. '26"); anything else makes the text unreadable.
_WORD_PUNCTUATION = frozenset((",", ".", "-", "/", "'"))
_TAIL_PUNCTUATION = frozenset((",", ";", "-", "(", ")"))
_MAX_TAIL_TOKENS = 16
_DIGITS = frozenset("0123456789")
_ALNUM = frozenset("0123456789abcdefghijklmnopqrstuvwxyz")

# One linear pass: runs of ASCII digits, runs of ASCII letters, or any other
# single non-space character.  No alternation can overlap, so no backtracking.
_TOKEN_RE = re.compile(r"[0-9]+|[a-z]+|[^\sa-z0-9]")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})


def parse_incident_date(text: str, today: date) -> ParsedDate:
    """Read the date a reporter typed, relative to ``today`` (local date).

    Returns a :class:`ParsedDate` with either ``value`` set to a date in
    ``[today - MAX_AGE_YEARS years, today]`` or ``problem`` set.  Never
    raises for any string.
    """
    if not isinstance(text, str):
        return _UNREADABLE
    text = text.strip()
    if not text or len(text) > MAX_INPUT_LENGTH:
        return _UNREADABLE
    tokens = _trim_punctuation(_tokens(text))
    # Longest date first, so "14 maart 15" is 14 March 2015 rather than
    # 14 March at three o'clock; a shorter head needs a valid time behind it.
    lowest_cut = max(1, len(tokens) - _MAX_TAIL_TOKENS)
    for cut in range(len(tokens), lowest_cut - 1, -1):
        if cut < len(tokens) and not _is_time_tail(tokens[cut:]):
            continue
        result = _parse_head(tokens[:cut], today)
        if result is not None:
            return result
    return _UNREADABLE


# --------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------


def _tokens(text: str) -> list[str]:
    text = text.translate(_QUOTES)
    text = unicodedata.normalize("NFKD", text)  # "één" -> "een", "１４" -> "14"
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _TOKEN_RE.findall(text.casefold())


def _is_word(token: str) -> bool:
    return token[0] in _ALNUM


def _is_number(token: str) -> bool:
    return token[0] in _DIGITS


def _trim_punctuation(tokens: list[str]) -> list[str]:
    start, end = 0, len(tokens)
    while start < end and not _is_word(tokens[start]):
        start += 1
    while end > start and not _is_word(tokens[end - 1]):
        end -= 1
    return tokens[start:end]


def _strip_filler(tokens: list[str]) -> list[str]:
    changed = True
    while changed and tokens:
        changed = False
        for phrase in _LEADING_FILLER:
            if tuple(tokens[: len(phrase)]) == phrase:
                tokens = _trim_punctuation(tokens[len(phrase) :])
                changed = True
                break
        for phrase in _TRAILING_FILLER:
            if len(tokens) > len(phrase) and tuple(tokens[-len(phrase) :]) == phrase:
                tokens = _trim_punctuation(tokens[: -len(phrase)])
                changed = True
                break
    return tokens


def _words(tokens: list[str]) -> list[str] | None:
    """The words of a date, dropping harmless punctuation; None if other."""
    words = []
    for token in tokens:
        if token in _WORD_PUNCTUATION:
            continue
        if not _is_word(token):
            return None
        words.append(_without_day_part(token))
    return words


def _without_day_part(word: str) -> str:
    for part in _DAY_PARTS:
        if word.endswith(part) and word[: -len(part)] in _DAY_PART_STEMS:
            return word[: -len(part)]
    return word


# --------------------------------------------------------------------------
# The time behind the date (only recognised, never used)
# --------------------------------------------------------------------------


def _is_time_tail(tokens: list[str]) -> bool:
    i, n = 0, len(tokens)
    saw_time = after_marker = False
    while i < n:
        token = tokens[i]
        if token in _TAIL_PUNCTUATION:
            i += 1
        elif token in _TIME_MARKERS:
            after_marker = True
            i += 1
        elif j := _match_part_of_day(tokens, i):
            saw_time, after_marker, i = True, False, j
        elif j := _match_clock(tokens, i, after_marker):
            saw_time, after_marker, i = True, False, j
        else:
            return False
    return saw_time


def _match_part_of_day(tokens: list[str], i: int) -> int:
    if tokens[i] in _PARTS_OF_DAY:
        return i + 1
    j = i + 1 if tokens[i] == "'" else i  # "'s avonds", also typed "s avonds"
    if j + 1 < len(tokens) and tokens[j] == "s" and tokens[j + 1] in _GENITIVE_PARTS_OF_DAY:
        return j + 2
    return 0


def _match_clock(tokens: list[str], i: int, after_marker: bool) -> int:
    """Index after a clock time starting at i, or 0.

    "15:30", "15.30 uur", "15u30", "3pm", "3 p.m.", "10 uur", "half vier",
    "kwart over drie", "tien voor half vier"; a bare hour only after a
    marker word ("om 3", "at 3").
    """
    n = len(tokens)
    j = i
    explicit = False
    if tokens[j] == "half":
        j, explicit = j + 1, True
    elif (
        j + 1 < n
        and tokens[j + 1] in ("over", "voor", "past", "to")
        and (tokens[j] == "kwart" or _hour(tokens[j]) is not None)
    ):
        j, explicit = j + 2, True
        if j < n and tokens[j] == "half":
            j += 1
    if j >= n:
        return 0
    hour = _hour(tokens[j])
    if hour is None:
        return 0
    j += 1
    if (
        j + 1 < n
        and tokens[j] in _CLOCK_SEPARATORS
        and len(tokens[j + 1]) == 2
        and _is_number(tokens[j + 1])
        and int(tokens[j + 1]) <= 59
    ):
        j, explicit = j + 2, True
    for unit in _CLOCK_UNITS:
        if tuple(tokens[j : j + len(unit)]) == unit:
            j, explicit = j + len(unit), True
            break
    return j if explicit or after_marker else 0


def _hour(token: str) -> int | None:
    if _is_number(token):
        return int(token) if len(token) <= 2 and int(token) <= 24 else None
    return _NUMBER_WORDS.get(token) if token not in ("a", "an", "n") else None


# --------------------------------------------------------------------------
# The date itself
# --------------------------------------------------------------------------


def _parse_head(tokens: list[str], today: date) -> ParsedDate | None:
    """Parse a whole date expression; None if it is not one we know."""
    tokens = _strip_filler(tokens)
    if not tokens:
        return None
    result = _parse_numeric(tokens, today)
    if result is not None:
        return result
    words = _words(tokens)
    if not words:
        return None
    for parser in (_parse_relative, _parse_weekday, _parse_month_name):
        result = parser(words, today)
        if result is not None:
            return result
    return _parse_weekday_and_date(tokens, today)


def _parse_numeric(tokens: list[str], today: date) -> ParsedDate | None:
    """d-m, d-m-yy, d-m-yyyy (separators - / .) and yyyy-m-d."""
    if len(tokens) == 3:
        day, sep, month = tokens
        if sep in _NUMERIC_SEPARATORS and _is_number(day) and _is_number(month) and len(day) <= 2 and len(month) <= 2:
            return _resolve_without_year(int(day), int(month), today)
        return None
    if len(tokens) == 5:
        first, sep1, second, sep2, third = tokens
        if not (
            sep1 in _NUMERIC_SEPARATORS
            and sep2 in _NUMERIC_SEPARATORS
            and _is_number(first)
            and _is_number(second)
            and _is_number(third)
            and len(second) <= 2
        ):
            return None
        if len(first) == 4 and len(third) <= 2:
            return _resolve(int(first), int(second), int(third), today)
        if len(first) <= 2 and len(third) in (2, 4):
            return _resolve(_year(third, today), int(second), int(first), today)
    return None


def _parse_relative(words: list[str], today: date) -> ParsedDate | None:
    days = _RELATIVE.get(tuple(words))
    if days is not None:
        return _days_before(days, today)
    if len(words) == 3 and words[2] in _AGO and words[1] in _UNIT_DAYS:
        count = _count(words[0])
        if count is not None:
            return _days_before(count * _UNIT_DAYS[words[1]], today)
    if len(words) == 2 and words[1] in _AGO and words[0] in _SINGULAR_UNITS:
        # What is left of "zo'n week geleden" once the filler is gone.
        return _days_before(_UNIT_DAYS[words[0]], today)
    return None


def _count(word: str) -> int | None:
    if _is_number(word):
        # Anything this long is centuries ago; don't even convert it.
        return int(word) if len(word) <= 6 else 10**7
    return _NUMBER_WORDS.get(word)


def _parse_weekday(words: list[str], today: date) -> ParsedDate | None:
    if len(words) == 3:
        if tuple(words[:2]) in _PREVIOUS_WEEK and words[2] in _WEEKDAYS:
            return _in_previous_week(_WEEKDAYS[words[2]], today)
        if words[0] in _WEEKDAYS and tuple(words[1:]) in _PREVIOUS_WEEK:
            return _in_previous_week(_WEEKDAYS[words[0]], today)
    for modifier in _WEEKDAY_MODIFIERS:
        if tuple(words[: len(modifier)]) == modifier:
            words = words[len(modifier) :]
            break
    if len(words) == 1 and words[0] in _WEEKDAYS:
        weekday = _WEEKDAYS[words[0]]
        return _days_before((today.weekday() - weekday - 1) % 7 + 1, today)
    return None


def _in_previous_week(weekday: int, today: date) -> ParsedDate:
    """The given weekday in the Monday-to-Sunday week before this one."""
    return _days_before(today.weekday() + 7 - weekday, today)


def _parse_month_name(words: list[str], today: date) -> ParsedDate | None:
    """14 maart [2026], 14th of March, maart 14, March the 14th, 2026."""
    n = len(words)
    day = month = None
    i = 0
    if (matched := _match_day(words, 0)) is not None:
        day, i = matched
        if i < n and words[i] == "of":
            i += 1
        if i < n and words[i] in _MONTHS:
            month, i = _MONTHS[words[i]], i + 1
    elif words[0] in _MONTHS:
        month, i = _MONTHS[words[0]], 1
        if i < n and words[i] == "the":
            i += 1
        if (matched := _match_day(words, i)) is not None:
            day, i = matched
    if day is None or month is None:
        return None
    if i == n:
        return _resolve_without_year(day, month, today)
    if i == n - 1 and _is_number(words[i]) and len(words[i]) in (2, 4):
        return _resolve(_year(words[i], today), month, day, today)
    return None


def _match_day(words: list[str], i: int) -> tuple[int, int] | None:
    if i < len(words) and _is_number(words[i]) and len(words[i]) <= 2:
        day, i = int(words[i]), i + 1
        if i < len(words) and words[i] in _ORDINAL_SUFFIXES:
            i += 1
        return day, i
    return None


def _parse_weekday_and_date(tokens: list[str], today: date) -> ParsedDate | None:
    """'maandag 16 maart', 'mon 16-3-2026': the weekday has to agree."""
    weekday = _WEEKDAYS.get(_without_day_part(tokens[0]))
    if weekday is None:
        return None
    rest = _strip_filler(_trim_punctuation(tokens[1:]))
    if not rest:
        return None
    result = _parse_numeric(rest, today)
    if result is None:
        words = _words(rest)
        if not words:
            return None
        result = _parse_month_name(words, today)
    if result is None:
        return None
    if result.value is not None and result.value.weekday() != weekday:
        return _UNREADABLE
    return result


# --------------------------------------------------------------------------
# Calendar arithmetic that cannot overflow
# --------------------------------------------------------------------------


def _year(digits: str, today: date) -> int:
    """A four-digit year as is; a two-digit one in the nearest century."""
    if len(digits) == 4:
        return int(digits)
    century = today.year // 100 * 100
    candidates = (century - 100 + int(digits), century + int(digits), century + 100 + int(digits))
    return min(candidates, key=lambda year: abs(year - today.year))


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if isleap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _exists(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)


def _earliest_allowed(today: date) -> tuple[int, int, int]:
    year = today.year - MAX_AGE_YEARS
    return (year, today.month, min(today.day, _days_in_month(year, today.month)))


def _judge(ymd: tuple[int, int, int], today: date) -> ParsedDate:
    if ymd > (today.year, today.month, today.day):
        return _IN_FUTURE
    if ymd < _earliest_allowed(today) or ymd[0] < MINYEAR:
        return _TOO_OLD
    return ParsedDate(date(*ymd), None)


def _resolve(year: int, month: int, day: int, today: date) -> ParsedDate:
    if not _exists(year, month, day):
        return _NO_SUCH_DAY
    return _judge((year, month, day), today)


def _resolve_without_year(day: int, month: int, today: date) -> ParsedDate:
    """The most recent existing (day, month) that is not after today."""
    if not _exists(2000, month, day):  # 2000 is a leap year: the most days
        return _NO_SUCH_DAY
    now = (today.year, today.month, today.day)
    # 29 February recurs at most eight years apart (e.g. 2096 -> 2104).
    for year in range(today.year, max(MINYEAR, today.year - 8) - 1, -1):
        if _exists(year, month, day) and (year, month, day) <= now:
            return _judge((year, month, day), today)
    return _TOO_OLD


def _days_before(days: int, today: date) -> ParsedDate:
    ordinal = today.toordinal() - days
    if ordinal < 1:
        return _TOO_OLD
    if ordinal > date(MAXYEAR, 12, 31).toordinal():
        return _IN_FUTURE
    day = date.fromordinal(ordinal)
    return _judge((day.year, day.month, day.day), today)
