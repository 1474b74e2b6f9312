"""Local wall-clock times in a time zone, refused when a daylight-saving change makes them nonexistent
(skipped when clocks go forward) or ambiguous (twice when they go back: both readings are named)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsletter.errors import ScheduleError


def local_time(naive: datetime, zone: str) -> datetime:
    """`naive` read in `zone` as an aware datetime; ScheduleError when that local time does not exist
    or exists twice there."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"unknown time zone {zone!r}") from None
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    shown = naive.strftime("%Y-%m-%d %H:%M")
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise ScheduleError(
            f"{shown} does not exist in {zone}: the clocks skip it (daylight saving time starts); "
            "choose a time outside the gap"
        )
    if first.utcoffset() != second.utcoffset():
        readings = " or ".join(
            f"{when.isoformat(sep=' ', timespec='minutes')} ({when:%Z})" for when in (first, second)
        )
        raise ScheduleError(
            f"{shown} happens twice in {zone} (the clocks go back): write it with its offset, {readings}"
        )
    return first
