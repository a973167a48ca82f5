"""The stretch of time a summary covers, and the one before it to compare with.

Times are naive UTC, as the tables store them. A week runs from Monday 00:00 UTC to the next Monday,
so the scheduler and a host asking for "last week" mean the same seven days.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_SINCE = re.compile(r"^\s*(\d{1,4})\s*([hdw])\s*$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
MAX_SPAN = timedelta(days=366)


@dataclass(frozen=True)
class Period:
    """A half-open stretch of time [start, end)."""

    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    @property
    def days(self) -> int:
        """Return the length in whole days (at least 1), as the script says it."""
        return max(1, round(self.length / timedelta(days=1)))

    def previous(self) -> Period:
        """Return the period of the same length just before this one."""
        return Period(self.start - self.length, self.start)

    def key(self) -> str:
        """Name the period in job ids and file names: 20261116T0000-20261123T0000."""
        return f"{self.start:%Y%m%dT%H%M}-{self.end:%Y%m%dT%H%M}"


def parse_since(text: str) -> timedelta:
    """Turn "7d", "24h" or "2w" into a timedelta; raise ValueError naming the accepted forms."""
    match = _SINCE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a length of time: write a number and h, d or w (e.g. 7d)")
    span = int(match.group(1)) * _UNITS[match.group(2)]
    if not timedelta(hours=1) <= span <= MAX_SPAN:
        raise ValueError(f"{text!r} must be between 1h and 366d")
    return span


def last(span: timedelta, now: datetime) -> Period:
    """Return the period of the given length that ends now."""
    return Period(now - span, now)


def week_of(moment: datetime) -> Period:
    """Return the Monday-to-Monday week (UTC) that holds a moment."""
    monday = (moment - timedelta(days=moment.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return Period(monday, monday + timedelta(weeks=1))


def last_complete_week(now: datetime) -> Period:
    """Return the most recent week that has ended: what the scheduler summarises."""
    return week_of(now).previous()
