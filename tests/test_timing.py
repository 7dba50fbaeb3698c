"""Follow-ups at the right local hour, across summer time, and never at night."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from flows.timing import QuietHours, add_period

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
QUIET = QuietHours(time(21), time(8), AMSTERDAM)


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_two_weeks_after_a_report_at_ten_is_ten_again_after_the_autumn_change():
    reported = utc(2026, 10, 20, 8, 0)  # 10:00 summer time
    due = add_period(reported, timedelta(days=14), AMSTERDAM)
    assert due == utc(2026, 11, 3, 9, 0)  # 10:00 winter time
    assert due.astimezone(AMSTERDAM).hour == 10


def test_and_after_the_spring_change():
    reported = utc(2026, 3, 20, 9, 0)  # 10:00 winter time
    assert add_period(reported, timedelta(days=14), AMSTERDAM) == utc(2026, 4, 3, 8, 0)  # 10:00 summer time


def test_hours_and_seconds_count_as_elapsed_time():
    reported = utc(2026, 3, 28, 23, 0)  # midnight local, the night summer time starts
    assert add_period(reported, timedelta(seconds=90), AMSTERDAM) == reported + timedelta(seconds=90)
    # 3 days and 6 hours: to midnight local on 1 April (summer time: 22:00 UTC), then 6 hours on the clock.
    assert add_period(reported, timedelta(days=3, hours=6), AMSTERDAM) == utc(2026, 4, 1, 4, 0)


def test_a_local_time_skipped_in_spring_moves_to_the_first_moment_that_exists():
    # 02:30 local does not exist on 29 March 2026: it becomes 03:30 summer time.
    reported = utc(2026, 3, 22, 1, 30)  # 02:30 winter time
    assert add_period(reported, timedelta(days=7), AMSTERDAM).astimezone(AMSTERDAM).hour == 3


def test_quiet_hours_hold_messages_until_eight_in_the_morning():
    evening = utc(2026, 11, 18, 20, 30)  # 21:30 local
    assert QUIET.is_quiet(evening)
    assert QUIET.next_allowed(evening) == utc(2026, 11, 19, 7, 0)
    early = utc(2026, 11, 19, 5, 0)  # 06:00 local
    assert QUIET.next_allowed(early) == utc(2026, 11, 19, 7, 0)
    day = utc(2026, 11, 19, 12, 0)
    assert not QUIET.is_quiet(day) and QUIET.next_allowed(day) == day


def test_quiet_hours_end_at_eight_local_on_the_night_summer_time_starts():
    night = utc(2026, 3, 28, 23, 30)  # 00:30 local, the night of the change
    assert QUIET.next_allowed(night) == utc(2026, 3, 29, 6, 0)  # 08:00 summer time


def test_quiet_hours_can_be_switched_off():
    never = QuietHours(time(0), time(0), AMSTERDAM)
    assert not never.is_quiet(utc(2026, 11, 18, 23, 0))


def test_daytime_quiet_hours_work_too():
    lunch = QuietHours(time(12), time(13), AMSTERDAM)
    assert lunch.is_quiet(utc(2026, 11, 18, 11, 30)) and lunch.next_allowed(utc(2026, 11, 18, 11, 30)) == utc(
        2026, 11, 18, 12, 0
    )


moments = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC))


@given(moments)
def test_the_next_allowed_moment_is_never_quiet_never_earlier_and_within_eleven_hours(moment):
    allowed = QUIET.next_allowed(moment)
    assert not QUIET.is_quiet(allowed)
    assert moment <= allowed <= moment + timedelta(hours=12)


@given(moments, st.integers(min_value=0, max_value=120))
def test_whole_days_keep_the_local_time_of_day(moment, days):
    due = add_period(moment, timedelta(days=days), AMSTERDAM)
    local_before, local_after = moment.astimezone(AMSTERDAM), due.astimezone(AMSTERDAM)
    assert local_after.date() == local_before.date() + timedelta(days=days)
    # The same wall-clock time, except when it does not exist that day (then an hour later).
    assert local_after.time() in (
        local_before.time(),
        (datetime.combine(local_before.date(), local_before.time()) + timedelta(hours=1)).time(),
    )
