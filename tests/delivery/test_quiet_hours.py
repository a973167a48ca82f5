"""Quiet hours and the local day, on explicit clocks."""

from __future__ import annotations

from datetime import datetime

import pytest

from ivr.core.local_time import (
    QuietHours,
    QuietHoursError,
    allowed_at,
    local_day_start,
    parse_quiet_hours,
    parse_timezone,
)

FIJI = parse_timezone("Pacific/Fiji")  # UTC+12, no daylight saving since 2022


def test_parse() -> None:
    assert parse_quiet_hours("21-07") == QuietHours(21, 7)
    assert parse_quiet_hours(" 0-6 ") == QuietHours(0, 6)
    assert parse_quiet_hours("") is None and parse_quiet_hours("off") is None
    for bad in ("21", "21-25", "a-b", "7-7", "21:00-07:00"):
        with pytest.raises(QuietHoursError):
            parse_quiet_hours(bad)
    with pytest.raises(QuietHoursError):
        parse_timezone("Pacific/Nowhere")


@pytest.mark.parametrize(("utc", "expected"), [
    (datetime(2030, 1, 1, 8, 59), datetime(2030, 1, 1, 8, 59)),   # 20:59 in Fiji: still allowed
    (datetime(2030, 1, 1, 9, 0), datetime(2030, 1, 1, 19, 0)),    # 21:00 Fiji -> 07:00 Fiji next day
    (datetime(2030, 1, 1, 11, 30), datetime(2030, 1, 1, 19, 0)),  # 23:30 Fiji
    (datetime(2030, 1, 1, 13, 0), datetime(2030, 1, 1, 19, 0)),   # 01:00 Fiji, after midnight: same morning
    (datetime(2030, 1, 1, 18, 59), datetime(2030, 1, 1, 19, 0)),  # 06:59 Fiji
    (datetime(2030, 1, 1, 19, 0), datetime(2030, 1, 1, 19, 0)),   # 07:00 Fiji: allowed
])
def test_calls_wait_for_the_end_of_quiet_hours(utc: datetime, expected: datetime) -> None:
    assert allowed_at(utc, QuietHours(21, 7), FIJI) == expected


def test_quiet_hours_within_one_day_and_none() -> None:
    quiet = QuietHours(12, 14)
    utc = parse_timezone("UTC")
    assert allowed_at(datetime(2030, 1, 1, 13, 0), quiet, utc) == datetime(2030, 1, 1, 14, 0)
    assert allowed_at(datetime(2030, 1, 1, 15, 0), quiet, utc) == datetime(2030, 1, 1, 15, 0)
    assert allowed_at(datetime(2030, 1, 1, 3, 0), None, utc) == datetime(2030, 1, 1, 3, 0)


def test_daylight_saving_night_still_ends_at_the_local_hour() -> None:
    paris = parse_timezone("Europe/Paris")  # clocks go forward at 02:00 on 2030-03-31
    end = allowed_at(datetime(2030, 3, 30, 21, 0), QuietHours(21, 7), paris)  # 22:00 CET
    assert end == datetime(2030, 3, 31, 5, 0)  # 07:00 CEST is 05:00 UTC


def test_local_day_start() -> None:
    assert local_day_start(datetime(2030, 1, 1, 11, 0), FIJI) == datetime(2029, 12, 31, 12, 0)  # 23:00 Fiji, Jan 1
    assert local_day_start(datetime(2030, 1, 1, 12, 30), FIJI) == datetime(2030, 1, 1, 12, 0)  # 00:30 Fiji, Jan 2
