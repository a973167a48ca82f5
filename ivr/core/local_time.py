"""Decide when the hotline may ring a caller: never in the local quiet hours, and the local day.

Pure functions on explicit clocks: every caller of these passes `now` (a naive UTC datetime, as the
tables store it), so tests move the clock by argument instead of by patching time.

    quiet = parse_quiet_hours("21-07")          # QuietHours(start=21, end=7)
    zone = parse_timezone("Pacific/Fiji")
    allowed_at(datetime(2030, 1, 1, 10, 0), quiet, zone)   # 10:00 UTC is 23:00 in Fiji -> 07:00 Fiji
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class QuietHoursError(ValueError):
    """A quiet-hours or time-zone setting that cannot be read; the message says what is wrong."""


@dataclass(frozen=True)
class QuietHours:
    """Local hours [start, end) when no call is placed; start > end spans midnight (21-07)."""

    start: int
    end: int

    def contains(self, local: datetime) -> bool:
        """Tell whether a local wall-clock time falls in the quiet hours."""
        hour = local.hour
        if self.start < self.end:
            return self.start <= hour < self.end
        return hour >= self.start or hour < self.end


def parse_quiet_hours(raw: str) -> QuietHours | None:
    """Read "START-END" in whole 24-hour-clock hours; empty or "off" means no quiet hours."""
    raw = raw.strip()
    if raw.lower() in ("", "off", "none"):
        return None
    start, sep, end = raw.partition("-")
    if not sep or not start.strip().isdigit() or not end.strip().isdigit():
        raise QuietHoursError(f"must look like 21-07 (START-END in whole hours), got {raw!r}")
    first, last = int(start), int(end)
    if not (0 <= first <= 23 and 0 <= last <= 23):
        raise QuietHoursError(f"hours must be between 0 and 23, got {raw!r}")
    if first == last:
        raise QuietHoursError(f"start and end are the same hour ({raw!r}): that would forbid every call")
    return QuietHours(first, last)


def parse_timezone(raw: str) -> ZoneInfo:
    """Return the IANA time zone named by the setting."""
    try:
        return ZoneInfo(raw.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise QuietHoursError(f"is not a known IANA time zone name: {raw!r}") from exc


def to_local(now: datetime, zone: ZoneInfo) -> datetime:
    """Turn a naive UTC datetime into the callers' local time (aware)."""
    return now.replace(tzinfo=UTC).astimezone(zone)


def to_utc(local: datetime) -> datetime:
    """Turn an aware local datetime back into naive UTC, the tables' convention."""
    return local.astimezone(UTC).replace(tzinfo=None)


def allowed_at(when: datetime, quiet: QuietHours | None, zone: ZoneInfo) -> datetime:
    """Return `when` (naive UTC) or, when it falls in quiet hours, the moment they end.

    Why the end and not "a bit later": a caller waiting for an answer should hear it first thing
    in the morning, and a queue of deferred calls starting together is spread by retry spacing.
    """
    if quiet is None:
        return when
    local = to_local(when, zone)
    if not quiet.contains(local):
        return when
    end_day = local.date() if local.hour < quiet.end else local.date() + timedelta(days=1)
    # Built from the wall clock, so a daylight-saving change overnight still ends quiet hours at END:00.
    end = datetime.combine(end_day, time(quiet.end), tzinfo=zone)
    return to_utc(end)


def local_day_start(now: datetime, zone: ZoneInfo) -> datetime:
    """Return the start of the callers' current local day, as naive UTC (for per-day limits)."""
    local = to_local(now, zone)
    return to_utc(datetime.combine(local.date(), time(0), tzinfo=zone))


@dataclass(frozen=True)
class Shown:
    """A stored time as an official reads it: local wall clock, how long ago, and UTC for the tooltip."""

    local: str  # "Fri 4 Dec 2026 19:05"
    ago: str  # "2 h ago", "in 3 d"
    utc: str  # "2026-12-04 07:05 UTC"
    iso: str  # "2026-12-04T07:05:00Z", for <time datetime>


def span(seconds: float) -> str:
    """Say a duration the way a busy official reads it: "40 min", "2 h", "3 d"."""
    seconds = abs(seconds)
    if seconds < 60:
        return "under 1 min"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 2 * 86400:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def shown(when: datetime, now: datetime, zone: ZoneInfo) -> Shown:
    """Describe a naive-UTC `when` in the hotline's zone, relative to `now` (also naive UTC)."""
    local = to_local(when, zone)
    delta = (now - when).total_seconds()
    ago = "just now" if abs(delta) < 60 else (f"{span(delta)} ago" if delta > 0 else f"in {span(delta)}")
    return Shown(local=f"{local:%a} {local.day} {local:%b %Y %H:%M}", ago=ago,
                 utc=f"{when:%Y-%m-%d %H:%M} UTC", iso=f"{when:%Y-%m-%dT%H:%M:%S}Z")
