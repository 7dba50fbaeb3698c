"""Scenarios for flows.dates: what a reporter types after "Earlier date".

Unless a scenario says otherwise, "today" is Thursday 19 March 2026.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.dates import (
    MAX_AGE_YEARS,
    MAX_INPUT_LENGTH,
    DateProblem,
    ParsedDate,
    parse_incident_date,
)

TODAY = date(2026, 3, 19)  # a Thursday
assert TODAY.weekday() == 3

UNREADABLE = DateProblem.UNREADABLE
IN_FUTURE = DateProblem.IN_FUTURE
TOO_OLD = DateProblem.TOO_OLD
NO_SUCH_DAY = DateProblem.NO_SUCH_DAY


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


def parses_to(text: str, expected: date, today: date = TODAY) -> None:
    assert parse_incident_date(text, today) == ParsedDate(expected, None), text


def is_rejected(text: str, problem: DateProblem, today: date = TODAY) -> None:
    assert parse_incident_date(text, today) == ParsedDate(None, problem), text


def earliest_allowed(today: date) -> date:
    if today.year - MAX_AGE_YEARS < date.min.year:
        return date.min
    try:
        return today.replace(year=today.year - MAX_AGE_YEARS)
    except ValueError:  # today is 29 February
        return today.replace(year=today.year - MAX_AGE_YEARS, day=28)


# ---------------------------------------------------------------------------
# Table-driven scenarios: the reporter types X and gets date Y.
# ---------------------------------------------------------------------------

NUMERIC = [
    ("14-3-2026", date(2026, 3, 14)),
    ("14/3/2026", date(2026, 3, 14)),
    ("14.3.2026", date(2026, 3, 14)),
    ("14-03-2026", date(2026, 3, 14)),
    ("14-03-26", date(2026, 3, 14)),
    ("14/03/26", date(2026, 3, 14)),
    ("14-3", date(2026, 3, 14)),
    ("14/3", date(2026, 3, 14)),
    ("14.03", date(2026, 3, 14)),
    ("1-3", date(2026, 3, 1)),
    ("19-3", date(2026, 3, 19)),  # today itself
    ("20-3", date(2025, 3, 20)),  # not yet this year -> last year
    ("3-4", date(2025, 4, 3)),  # day first: 3 April, never 4 March
    ("5/6/2025", date(2025, 6, 5)),
    ("2026-03-14", date(2026, 3, 14)),
    ("2026/3/14", date(2026, 3, 14)),
    ("2025.12.31", date(2025, 12, 31)),
    ("14 - 3 - 2026", date(2026, 3, 14)),
]

MONTH_NAMES = [
    ("14 maart", date(2026, 3, 14)),
    ("14 maart 2026", date(2026, 3, 14)),
    ("maart 14", date(2026, 3, 14)),
    ("maart 14 2026", date(2026, 3, 14)),
    ("14 mrt", date(2026, 3, 14)),
    ("14 mrt.", date(2026, 3, 14)),
    ("14-mrt-2026", date(2026, 3, 14)),
    ("14 mrt '26", date(2026, 3, 14)),
    ("14 March", date(2026, 3, 14)),
    ("March 14", date(2026, 3, 14)),
    ("March 14th, 2026", date(2026, 3, 14)),
    ("14th of March 2026", date(2026, 3, 14)),
    ("the 14th of March", date(2026, 3, 14)),
    ("on the 14th of March", date(2026, 3, 14)),
    ("March the 14th", date(2026, 3, 14)),
    ("op 14 maart", date(2026, 3, 14)),
    ("1e mei", date(2025, 5, 1)),
    ("1ste mei", date(2025, 5, 1)),
    ("2de oktober", date(2025, 10, 2)),
    ("3rd oct", date(2025, 10, 3)),
    ("1st of May", date(2025, 5, 1)),
    ("2nd june 2025", date(2025, 6, 2)),
    ("3 okt", date(2025, 10, 3)),
    ("sept 3", date(2025, 9, 3)),
    ("3 sep 2025", date(2025, 9, 3)),
    ("12 mei", date(2025, 5, 12)),
    ("may 12", date(2025, 5, 12)),
    ("5 jan", date(2026, 1, 5)),
    ("5 januari 2026", date(2026, 1, 5)),
    ("january 5 2026", date(2026, 1, 5)),
    ("28 feb", date(2026, 2, 28)),
    ("28 febr.", date(2026, 2, 28)),
    ("10 februari", date(2026, 2, 10)),
    ("10 febuari", date(2026, 2, 10)),  # common misspelling
    ("7 apr", date(2025, 4, 7)),
    ("7 april", date(2025, 4, 7)),
    ("1 juni", date(2025, 6, 1)),
    ("1 jul", date(2025, 7, 1)),
    ("1 juli", date(2025, 7, 1)),
    ("15 aug", date(2025, 8, 15)),
    ("15 augustus", date(2025, 8, 15)),
    ("15 August", date(2025, 8, 15)),
    ("11 nov", date(2025, 11, 11)),
    ("11 november", date(2025, 11, 11)),
    ("25 dec", date(2025, 12, 25)),
    ("25 december 2025", date(2025, 12, 25)),
    ("31 oktober 2024", date(2024, 10, 31)),
]

RELATIVE = [
    ("vandaag", TODAY),
    ("today", TODAY),
    ("vanochtend", TODAY),
    ("vanmiddag", TODAY),
    ("this morning", TODAY),
    ("gisteren", days_ago(1)),
    ("gister", days_ago(1)),
    ("yesterday", days_ago(1)),
    ("gisteravond", days_ago(1)),
    ("gistermiddag", days_ago(1)),
    ("yesterday evening", days_ago(1)),
    ("eergisteren", days_ago(2)),
    ("day before yesterday", days_ago(2)),
    ("the day before yesterday", days_ago(2)),
    ("3 dagen geleden", days_ago(3)),
    ("3 days ago", days_ago(3)),
    ("drie dagen geleden", days_ago(3)),
    ("three days ago", days_ago(3)),
    ("1 dag geleden", days_ago(1)),
    ("een dag geleden", days_ago(1)),
    ("a day ago", days_ago(1)),
    ("een week geleden", days_ago(7)),
    ("één week geleden", days_ago(7)),
    ("'n week geleden", days_ago(7)),
    ("zo'n week geleden", days_ago(7)),
    ("ongeveer een week geleden", days_ago(7)),
    ("a week ago", days_ago(7)),
    ("about a week ago", days_ago(7)),
    ("twee weken geleden", days_ago(14)),
    ("2 weeks ago", days_ago(14)),
    ("two weeks ago", days_ago(14)),
    ("tien dagen geleden", days_ago(10)),
    ("ten days ago", days_ago(10)),
    ("vijf dagen terug", days_ago(5)),
    ("vorige week", days_ago(7)),
    ("last week", days_ago(7)),
    ("het was gisteren", days_ago(1)),
    ("it was yesterday", days_ago(1)),
]

NUMBER_WORDS = [
    ("een", "one", 1), ("twee", "two", 2), ("drie", "three", 3),
    ("vier", "four", 4), ("vijf", "five", 5), ("zes", "six", 6),
    ("zeven", "seven", 7), ("acht", "eight", 8), ("negen", "nine", 9),
    ("tien", "ten", 10),
]  # fmt: skip

# Today is Thursday 19 March 2026.
WEEKDAYS = [
    ("maandag", date(2026, 3, 16)),
    ("afgelopen maandag", date(2026, 3, 16)),
    ("vorige maandag", date(2026, 3, 16)),
    ("maandag jl.", date(2026, 3, 16)),
    ("op maandag", date(2026, 3, 16)),
    ("monday", date(2026, 3, 16)),
    ("last monday", date(2026, 3, 16)),
    ("this past monday", date(2026, 3, 16)),
    ("on Monday", date(2026, 3, 16)),
    ("ma", date(2026, 3, 16)),
    ("mon", date(2026, 3, 16)),
    ("dinsdag", date(2026, 3, 17)),
    ("di", date(2026, 3, 17)),
    ("tue", date(2026, 3, 17)),
    ("woensdag", date(2026, 3, 18)),
    ("wed", date(2026, 3, 18)),
    ("vrijdag", date(2026, 3, 13)),
    ("friday", date(2026, 3, 13)),
    ("zaterdag", date(2026, 3, 14)),
    ("za", date(2026, 3, 14)),
    ("zondag", date(2026, 3, 15)),
    ("sunday", date(2026, 3, 15)),
    ("zo", date(2026, 3, 15)),
    ("maandagavond", date(2026, 3, 16)),
    ("zaterdagnacht", date(2026, 3, 14)),
    # Today's own weekday means last week's, never today.
    ("donderdag", date(2026, 3, 12)),
    ("thursday", date(2026, 3, 12)),
    ("afgelopen donderdag", date(2026, 3, 12)),
    ("do", date(2026, 3, 12)),
    # The previous Monday-to-Sunday week, asked for explicitly.
    ("vorige week maandag", date(2026, 3, 9)),
    ("maandag vorige week", date(2026, 3, 9)),
    ("vorige week zondag", date(2026, 3, 15)),
    ("monday last week", date(2026, 3, 9)),
    ("last week friday", date(2026, 3, 13)),
    # A weekday in front of a full date is fine when it agrees.
    ("maandag 16 maart", date(2026, 3, 16)),
    ("ma 16-3", date(2026, 3, 16)),
    ("Monday, March 16th 2026", date(2026, 3, 16)),
]

WITH_A_TIME = [
    ("14-3 om 15:30", date(2026, 3, 14)),
    ("14-3-2026 15:30", date(2026, 3, 14)),
    ("14 maart om 15.30 uur", date(2026, 3, 14)),
    ("14/3 rond 9u", date(2026, 3, 14)),
    ("gisteren rond 10 uur", days_ago(1)),
    ("gisteren om 10", days_ago(1)),
    ("gisteren 14.30", days_ago(1)),
    ("gisteren, 14:30", days_ago(1)),
    ("gisteren 15u30", days_ago(1)),
    ("gisteren half vier", days_ago(1)),
    ("gisteren om kwart over drie", days_ago(1)),
    ("gisteren tien voor half vier 's middags", days_ago(1)),
    ("gisteren tussen 10 en 11 uur", days_ago(1)),
    ("gisteren 's avonds", days_ago(1)),
    ("gisteravond om 8 uur", days_ago(1)),
    ("vandaag om 9:00", TODAY),
    ("yesterday at 3pm", days_ago(1)),
    ("yesterday at 3 p.m.", days_ago(1)),
    ("yesterday around 3 in the afternoon", days_ago(1)),
    ("yesterday at about 10 o'clock", days_ago(1)),
    ("today 9am", TODAY),
    ("dinsdag 's avonds", date(2026, 3, 17)),
    ("dinsdag rond 22:00", date(2026, 3, 17)),
    ("last monday at 11", date(2026, 3, 16)),
    ("3 dagen geleden om 14:00", days_ago(3)),
    ("on the 14th of March 2026 at 3pm", date(2026, 3, 14)),
    ("maandag 16 maart om 8 uur 's ochtends", date(2026, 3, 16)),
]

CLUMSY_TYPING = [
    ("  GISTEREN  ", days_ago(1)),
    ("Gisteren!", days_ago(1)),
    ("gisteren...", days_ago(1)),
    ("(14-3)", date(2026, 3, 14)),
    ("14-3.", date(2026, 3, 14)),
    ("\t14 MAART\n", date(2026, 3, 14)),
    ("Yesterday?!", days_ago(1)),
    ("ＧＩＳＴＥＲＥＮ", days_ago(1)),  # full-width phone keyboard
    ("１４－３", date(2026, 3, 14)),
    ("yesterday 😢", days_ago(1)),
    ("maandag jl", date(2026, 3, 16)),
    ("ca. 3 dagen geleden", days_ago(3)),
    ("zo’n week geleden", days_ago(7)),  # curly apostrophe
]


@pytest.mark.parametrize(("text", "expected"), NUMERIC)
def test_a_reporter_types_a_numeric_date_day_first(text, expected):
    parses_to(text, expected)


@pytest.mark.parametrize(("text", "expected"), MONTH_NAMES)
def test_a_reporter_names_the_month_in_dutch_or_english(text, expected):
    parses_to(text, expected)
    parses_to(text.upper(), expected)


@pytest.mark.parametrize(("text", "expected"), RELATIVE)
def test_a_reporter_says_how_long_ago_it_was(text, expected):
    parses_to(text, expected)


@pytest.mark.parametrize(("dutch", "english", "number"), NUMBER_WORDS)
def test_number_words_one_to_ten_count_days_and_weeks_in_both_languages(dutch, english, number):
    parses_to(f"{dutch} dagen geleden", days_ago(number))
    parses_to(f"{english} days ago", days_ago(number))
    parses_to(f"{dutch} weken geleden", days_ago(7 * number))
    parses_to(f"{english} weeks ago", days_ago(7 * number))


@pytest.mark.parametrize(("text", "expected"), WEEKDAYS)
def test_a_reporter_names_a_weekday(text, expected):
    parses_to(text, expected)


@pytest.mark.parametrize(("text", "expected"), WITH_A_TIME)
def test_a_reporter_adds_the_time_and_only_the_date_is_kept(text, expected):
    parses_to(text, expected)


@pytest.mark.parametrize(("text", "expected"), CLUMSY_TYPING)
def test_an_upset_reporter_on_a_phone_is_still_understood(text, expected):
    parses_to(text, expected)


def test_a_reporter_types_gisteren_and_gets_yesterday():
    assert parse_incident_date("gisteren", TODAY) == ParsedDate(date(2026, 3, 18), None)


def test_every_weekday_name_lands_one_to_seven_days_back_on_that_weekday():
    names = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]
    english = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    for offset in range(7):
        today = TODAY + timedelta(days=offset)
        for weekday, (nl, en) in enumerate(zip(names, english, strict=True)):
            for text in (nl, en, f"afgelopen {nl}", f"last {en}"):
                value = parse_incident_date(text, today).value
                assert value is not None, text
                assert value.weekday() == weekday, text
                assert 1 <= (today - value).days <= 7, (text, today)


# ---------------------------------------------------------------------------
# Rejections: the reporter gets the right reason.
# ---------------------------------------------------------------------------

REJECTED = [
    # Future dates.
    ("20-3-2026", IN_FUTURE),
    ("1 april 2026", IN_FUTURE),
    ("2026-12-31", IN_FUTURE),
    ("14-3-2027", IN_FUTURE),
    ("14-3-27", IN_FUTURE),  # nearest century: 2027, a typo reported as such
    ("morgen", IN_FUTURE),
    ("tomorrow", IN_FUTURE),
    ("overmorgen", IN_FUTURE),
    ("maandag 23 maart 2026", IN_FUTURE),
    # More than five years ago.
    ("18-3-2021", TOO_OLD),
    ("1 januari 2020", TOO_OLD),
    ("14-3-99", TOO_OLD),  # 1999
    ("14 maart 15", TOO_OLD),  # a trailing number is read as the year
    ("2000-01-01", TOO_OLD),
    ("14-3-0000", TOO_OLD),
    ("2000 dagen geleden", TOO_OLD),
    ("300 weeks ago", TOO_OLD),
    ("999999999999 dagen geleden", TOO_OLD),
    # Days that do not exist.
    ("31-2", NO_SUCH_DAY),
    ("30-2-2026", NO_SUCH_DAY),
    ("30 februari", NO_SUCH_DAY),
    ("31 april", NO_SUCH_DAY),
    ("31 june 2025", NO_SUCH_DAY),
    ("29-2-2025", NO_SUCH_DAY),
    ("32-1", NO_SUCH_DAY),
    ("0-3", NO_SUCH_DAY),
    ("14-13-2026", NO_SUCH_DAY),
    ("3-14-2026", NO_SUCH_DAY),  # American order: there is no 14th month
    ("2026-02-30", NO_SUCH_DAY),
    ("0 maart", NO_SUCH_DAY),
    # Unreadable, including the merely ambiguous.
    ("", UNREADABLE),
    ("   ", UNREADABLE),
    ("?!", UNREADABLE),
    ("asdfgh", UNREADABLE),
    ("14", UNREADABLE),
    ("de 14e", UNREADABLE),
    ("the 14th", UNREADABLE),
    ("maart", UNREADABLE),
    ("maart 2026", UNREADABLE),
    ("2026", UNREADABLE),
    ("14 3 2026", UNREADABLE),
    ("14-3-202", UNREADABLE),
    ("014-3", UNREADABLE),
    ("2026-03", UNREADABLE),
    ("een paar dagen geleden", UNREADABLE),
    ("a few days ago", UNREADABLE),
    ("vorige maand", UNREADABLE),
    ("vannacht", UNREADABLE),
    ("last night", UNREADABLE),
    ("om 15:30", UNREADABLE),
    ("gisteren 14-3", UNREADABLE),  # two different dates
    ("gisteren 15", UNREADABLE),
    ("maandag 17 maart", UNREADABLE),  # 17 March 2026 is a Tuesday
    ("maandag 23 maart", UNREADABLE),  # no year: 23 March 2025, a Sunday
    ("gisteren bij het stadhuis werd ik bedreigd", UNREADABLE),
    ("14-3 om 25:00", UNREADABLE),
]


@pytest.mark.parametrize(("text", "problem"), REJECTED)
def test_a_reporter_gets_the_right_reason_for_a_rejected_date(text, problem):
    is_rejected(text, problem)


def test_the_oldest_accepted_day_is_exactly_five_years_back():
    assert MAX_AGE_YEARS == 5
    parses_to("19-3-2021", date(2021, 3, 19))
    is_rejected("18-3-2021", TOO_OLD)
    parses_to("1826 dagen geleden", TODAY - timedelta(days=1826))  # 19 March 2021
    is_rejected("1827 dagen geleden", TOO_OLD)


def test_on_a_leap_day_five_years_back_falls_on_28_february():
    leap_day = date(2028, 2, 29)
    parses_to("28-2-2023", date(2023, 2, 28), today=leap_day)
    is_rejected("27-2-2023", TOO_OLD, today=leap_day)


def test_no_year_and_no_such_day_anywhere_is_no_such_day_not_too_old():
    is_rejected("31-11", NO_SUCH_DAY)
    is_rejected("31 november", NO_SUCH_DAY)


# ---------------------------------------------------------------------------
# Year boundaries and leap days.
# ---------------------------------------------------------------------------


def test_just_after_new_year_30_december_is_last_year():
    new_year = date(2026, 1, 2)
    parses_to("30-12", date(2025, 12, 30), today=new_year)
    parses_to("30 december", date(2025, 12, 30), today=new_year)
    parses_to("dec 31st", date(2025, 12, 31), today=new_year)
    parses_to("2-1", date(2026, 1, 2), today=new_year)
    parses_to("3-1", date(2025, 1, 3), today=new_year)
    parses_to("vorige week", date(2025, 12, 26), today=new_year)
    parses_to("eergisteren", date(2025, 12, 31), today=new_year)
    is_rejected("3-1-2026", IN_FUTURE, today=new_year)


def test_29_february_without_a_year_is_the_most_recent_leap_day():
    parses_to("29-2", date(2024, 2, 29))
    parses_to("29 februari", date(2024, 2, 29))
    parses_to("feb 29th", date(2024, 2, 29))
    parses_to("29-2", date(2024, 2, 29), today=date(2028, 2, 28))
    parses_to("29-2", date(2028, 2, 29), today=date(2028, 2, 29))
    parses_to("29-2-2024", date(2024, 2, 29))


def test_29_february_eight_years_back_around_2100_is_too_old():
    # 2100 is not a leap year, so on 28 February 2104 the last 29 February
    # was in 2096: more than five years ago.  A day later it is 2104's own.
    is_rejected("29-2", TOO_OLD, today=date(2104, 2, 28))
    parses_to("29-2", date(2104, 2, 29), today=date(2104, 2, 29))


def test_two_digit_years_go_to_the_nearest_century():
    parses_to("1-1-25", date(2025, 1, 1))
    parses_to("14 maart '26", date(2026, 3, 14))
    is_rejected("1-1-80", TOO_OLD)  # 1980 is nearer than 2080


# ---------------------------------------------------------------------------
# Properties.
# ---------------------------------------------------------------------------

DUTCH_MONTHS = ["januari", "februari", "maart", "april", "mei", "juni", "juli",
                "augustus", "september", "oktober", "november", "december"]  # fmt: skip
ENGLISH_MONTHS = ["January", "February", "March", "April", "May", "June", "July",
                  "August", "September", "October", "November", "December"]  # fmt: skip

FORMATS = {
    "d-m-yyyy": lambda d: f"{d.day}-{d.month}-{d.year}",
    "d/m/yyyy": lambda d: f"{d.day}/{d.month}/{d.year}",
    "d.m.yyyy": lambda d: f"{d.day}.{d.month}.{d.year}",
    "dd-mm-yy": lambda d: f"{d.day:02}-{d.month:02}-{d.year % 100:02}",
    "d <dutch month> yyyy": lambda d: f"{d.day} {DUTCH_MONTHS[d.month - 1]} {d.year}",
    "<english month> d yyyy": lambda d: f"{ENGLISH_MONTHS[d.month - 1]} {d.day} {d.year}",
    "yyyy-mm-dd": lambda d: d.isoformat(),
}


@given(
    day=st.dates(min_value=earliest_allowed(TODAY), max_value=TODAY),
    form=st.sampled_from(sorted(FORMATS)),
)
def test_any_date_of_the_last_five_years_written_out_reads_back_exactly(day, form):
    text = FORMATS[form](day)
    assert parse_incident_date(text, TODAY) == ParsedDate(day, None), text


@st.composite
def today_and_allowed_day(draw):
    today = draw(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)))
    day = draw(st.dates(min_value=earliest_allowed(today), max_value=today))
    return today, day


@given(pair=today_and_allowed_day(), form=st.sampled_from(sorted(FORMATS)))
def test_round_trip_holds_whatever_day_today_is(pair, form):
    today, day = pair
    text = FORMATS[form](day)
    assert parse_incident_date(text, today) == ParsedDate(day, None), (text, today)


@st.composite
def today_and_day_within_a_year(draw):
    today = draw(st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)))
    day = draw(st.dates(min_value=today - timedelta(days=364), max_value=today))
    return today, day


@given(
    pair=today_and_day_within_a_year(),
    form=st.sampled_from(["d-m", "d <dutch month>", "<english month> d"]),
)
def test_without_a_year_a_date_within_the_last_year_reads_back(pair, form):
    today, day = pair
    text = {
        "d-m": f"{day.day}-{day.month}",
        "d <dutch month>": f"{day.day} {DUTCH_MONTHS[day.month - 1]}",
        "<english month> d": f"{ENGLISH_MONTHS[day.month - 1]} {day.day}",
    }[form]
    assert parse_incident_date(text, today) == ParsedDate(day, None), (text, today)


def check_outcome(result: ParsedDate, today: date) -> None:
    assert isinstance(result, ParsedDate)
    assert (result.value is None) != (result.problem is None)
    if result.value is not None:
        assert earliest_allowed(today) <= result.value <= today
    else:
        assert isinstance(result.problem, DateProblem)


@settings(max_examples=500)
@given(text=st.text())
def test_any_text_whatsoever_gives_a_date_or_a_problem_and_never_raises(text):
    check_outcome(parse_incident_date(text, TODAY), TODAY)


# Text built from the parser's own vocabulary reaches far more of its rules
# than random characters do.
VOCABULARY = (
    [str(n) for n in range(0, 40)]
    + ["2019", "2021", "2024", "2025", "2026", "2027", "00", "99", "123456789"]
    + ["-", "/", ".", ":", ",", "'", "'s", "e", "ste", "th", "of", "the"]
    + DUTCH_MONTHS
    + [m.lower() for m in ENGLISH_MONTHS]
    + ["mrt", "sept", "okt"]
    + ["maandag", "zondag", "ma", "mon", "friday", "afgelopen", "vorige", "last", "week"]
    + ["vandaag", "gisteren", "eergisteren", "yesterday", "morgen", "geleden", "ago"]
    + ["dagen", "days", "weken", "weeks", "een", "a", "twee", "tien"]
    + ["om", "rond", "at", "uur", "pm", "half", "vier", "avonds", "jl", "op"]
)


@given(
    words=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=8),
    today=st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
)
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
def test_no_accepted_date_is_ever_in_the_future_or_older_than_five_years(words, today):
    check_outcome(parse_incident_date(" ".join(words), today), today)
    check_outcome(parse_incident_date("".join(words), today), today)


@given(text=st.text(max_size=30), today=st.dates())
def test_even_at_the_ends_of_the_calendar_nothing_raises(text, today):
    for candidate in (text, "morgen", "1000 dagen geleden", "29-2", "31-12-99", "maandag"):
        check_outcome(parse_incident_date(candidate, today), today)


@given(pair=today_and_allowed_day(), padding=st.sampled_from(["", " ", "  \n", "!", "...", "?!"]))
def test_case_and_surrounding_punctuation_do_not_change_the_answer(pair, padding):
    today, day = pair
    text = f"{day.day} {DUTCH_MONTHS[day.month - 1]} {day.year}"
    expected = parse_incident_date(text, today)
    assert parse_incident_date(f"  {text.upper()}{padding}", today) == expected
    assert parse_incident_date(f"{text.title()}{padding}", today) == expected


# ---------------------------------------------------------------------------
# Speed: hostile or accidental huge input must not hang the bot.
# ---------------------------------------------------------------------------

LONG_INPUTS = [
    "a" * 10_000,
    "1" * 10_000,
    "1-" * 5_000,
    "14-3 " * 2_000,
    "gisteren " * 1_111,
    "om 15:30 " * 1_111,
    "'s " * 3_333,
    "é" * 10_000,
    "\U0001f622" * 10_000,
]


@pytest.mark.parametrize("text", LONG_INPUTS, ids=lambda t: repr(t[:6]))
def test_ten_thousand_characters_are_answered_at_once(text):
    assert len(text) >= 9_990
    started = time.perf_counter()
    result = parse_incident_date(text, TODAY)
    assert time.perf_counter() - started < 0.5
    assert result == ParsedDate(None, UNREADABLE)


def test_a_date_padded_with_ten_thousand_spaces_is_still_read_quickly():
    started = time.perf_counter()
    result = parse_incident_date(" " * 5_000 + "gisteren" + " " * 5_000, TODAY)
    assert time.perf_counter() - started < 0.5
    assert result == ParsedDate(days_ago(1), None)


def test_the_longest_accepted_input_is_still_fast():
    text = ("14 maart " + "om " * 200)[:MAX_INPUT_LENGTH]
    started = time.perf_counter()
    for _ in range(100):
        parse_incident_date(text, TODAY)
    assert time.perf_counter() - started < 1.0


def test_a_parsed_date_holds_exactly_one_of_value_and_problem():
    with pytest.raises(ValueError):
        ParsedDate(None, None)
    with pytest.raises(ValueError):
        ParsedDate(TODAY, DateProblem.TOO_OLD)
