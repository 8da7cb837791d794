"""One time format for the whole console: how long ago (or how soon), with the exact moment
in the reader's own time zone on hover and focus.

The server writes `<time class="moment" datetime="…Z" title="… UTC" tabindex="0">4 minutes
ago</time>` (`moment_html`, the `moment` filter); static/js/console.js then puts the moment in
the browser's time zone in the title and keeps the words current. Without JavaScript the title
says the moment in UTC. Exports and the API's own values stay in UTC.

`relative()` and console.js's `relative()` word things the same way: one unit, whole numbers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.safestring import SafeString

_UNITS = (
    # (upper bound in seconds, seconds per unit, name)
    (3600, 60, "minute"),
    (86400, 3600, "hour"),
    (14 * 86400, 86400, "day"),
    (60 * 86400, 7 * 86400, "week"),
    (365 * 86400, 30 * 86400, "month"),
)


def as_datetime(value: Any) -> dt.datetime | None:
    """A timezone-aware datetime from a datetime or an ISO 8601 string (naive means UTC)."""
    if isinstance(value, str):
        value = parse_datetime(value.strip()) if value.strip() else None
    if not isinstance(value, dt.datetime):
        return None
    if timezone.is_naive(value):
        value = value.replace(tzinfo=dt.UTC)
    return value


def relative(value: dt.datetime, now: dt.datetime | None = None) -> str:
    """ "just now", "4 minutes ago", "in 3 days": the largest unit only."""
    now = now or timezone.now()
    seconds = (now - value).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        return "just now"
    count, name = int(seconds // (365 * 86400)), "year"
    for bound, size, unit in _UNITS:
        if seconds < bound:
            count, name = int(seconds // size), unit
            break
    words = f"{count} {name}{'' if count == 1 else 's'}"
    return f"in {words}" if future else f"{words} ago"


def utc_text(value: dt.datetime) -> str:
    """2026-12-07 12:10:29 UTC (the title without JavaScript; exports use ISO 8601)."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso_utc(value: dt.datetime) -> str:
    """2026-12-07T12:10:29Z (milliseconds kept when there are any)."""
    value = value.astimezone(dt.UTC)
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def moment_html(value: Any, now: dt.datetime | None = None) -> SafeString:
    """The <time> element for `value`; text that is not a time is shown as it is."""
    when = as_datetime(value)
    if when is None:
        return format_html("{}", value if value not in (None, "") else "—")
    return format_html(
        '<time class="moment" datetime="{}" title="{}" tabindex="0">{}</time>',
        iso_utc(when),
        utc_text(when),
        relative(when, now),
    )
