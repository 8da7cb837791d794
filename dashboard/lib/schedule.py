"""Schedule expressions as AWS DevOps Agent takes them (goal evaluation schedules, triggers):
EventBridge's `rate(value unit)` and six-field `cron(minutes hours day-of-month month
day-of-week year)`, in UTC.

`parse` checks an expression by EventBridge's rules and says, per field, what is wrong, so a
person sees the problem before anything is sent to AWS. `describe` gives the human reading
("every 7 days", "At 09:00, Monday through Friday (UTC)"): rate readings are written here, cron
readings come from cron-descriptor (lists, ranges, steps, L, W and # read correctly; DOW
numbered 1 = Sunday as EventBridge numbers it). `next_run` works out the next firing time
(the sandbox's scheduled evaluations and the console's "next run" use it).

The rules (EventBridge Scheduler, "Schedule types"):
- rate: a positive whole number and minute(s), hour(s) or day(s); singular for 1, plural
  otherwise.
- cron: minutes 0-59, hours 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7
  or SUN-SAT, year 1970-2199; `,` `-` `*` `/` everywhere; `?` in exactly one of day-of-month
  and day-of-week; `L` and `W` in day-of-month; `L` and `#` in day-of-week.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from dataclasses import dataclass

MAX_LENGTH = 256  # ScheduleExpression's max in the model

_RATE = re.compile(r"rate\(\s*(\S+)\s+(\S+)\s*\)", re.IGNORECASE)
_CRON = re.compile(r"cron\((.*)\)", re.IGNORECASE | re.DOTALL)
_UNITS = {"minute": 60, "hour": 3600, "day": 86400}

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")

EXAMPLES = (
    ("rate(7 days)", "every 7 days"),
    ("rate(1 hour)", "every hour"),
    ("cron(0 9 ? * MON-FRI *)", "weekdays at 09:00 UTC"),
    ("cron(0 0 1 * ? *)", "the first of every month at midnight UTC"),
)


def _digits(text: str) -> bool:
    """ASCII digits only: str.isdigit() also takes "²" (which int() refuses) and the digits
    of other scripts (which AWS refuses)."""
    return text.isascii() and text.isdigit()


class ScheduleError(ValueError):
    """An expression AWS would refuse; the message says why in words."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()

    @property
    def span(self) -> str:
        text = f"{self.low}-{self.high}"
        if self.names:
            text += f" or {self.names[0]}-{self.names[-1]}"
        return text


_FIELDS = (
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, MONTHS),
    _Field("day-of-week", 1, 7, DAYS),
    _Field("year", 1970, 2199),
)
DOM, DOW = 2, 4


@dataclass(frozen=True)
class Schedule:
    """A checked expression: a rate (`seconds`) or a cron (`fields`, as written)."""

    expression: str
    kind: str  # "rate" or "cron"
    seconds: int = 0
    fields: tuple[str, ...] = ()

    @property
    def interval(self) -> dt.timedelta | None:
        return dt.timedelta(seconds=self.seconds) if self.kind == "rate" else None


def parse(expression: str) -> Schedule:
    """The checked schedule, or ScheduleError saying what is wrong."""
    text = (expression or "").strip()
    if not text:
        raise ScheduleError("Enter a schedule expression, for example rate(7 days).")
    if len(text) > MAX_LENGTH:
        raise ScheduleError(f"Use at most {MAX_LENGTH} characters (this has {len(text)}).")
    if text.lower().startswith("at("):
        raise ScheduleError(
            "One-time at(...) schedules are not supported here: use rate(...) or cron(...)."
        )
    if text.lower().startswith("rate"):
        return _parse_rate(text)
    if text.lower().startswith("cron"):
        return _parse_cron(text)
    raise ScheduleError(
        "Start with rate(...) or cron(...), for example rate(7 days) or cron(0 9 ? * MON-FRI *)."
    )


def _parse_rate(text: str) -> Schedule:
    found = _RATE.fullmatch(text)
    if not found:
        raise ScheduleError("Write a rate as rate(value unit), for example rate(30 minutes).")
    value_text, unit = found.group(1), found.group(2).lower()
    if not _digits(value_text) or int(value_text) < 1:
        raise ScheduleError(
            f"The rate's value must be a whole number of 1 or more, not {value_text!r}."
        )
    value = int(value_text)
    singular = unit.rstrip("s") if unit.endswith("s") else unit
    if singular not in _UNITS:
        raise ScheduleError(f"The rate's unit must be minutes, hours or days, not {unit!r}.")
    if value == 1 and unit != singular:
        raise ScheduleError(f"For a value of 1 write the unit in the singular: rate(1 {singular}).")
    if value > 1 and unit == singular:
        raise ScheduleError(
            f"For a value above 1 write the unit in the plural: rate({value} {singular}s)."
        )
    return Schedule(text, "rate", seconds=value * _UNITS[singular])


def _parse_cron(text: str) -> Schedule:
    found = _CRON.fullmatch(text)
    if not found:
        raise ScheduleError(
            "Write a cron expression as cron(minutes hours day-of-month month day-of-week year)."
        )
    parts = found.group(1).split()
    if len(parts) != 6:
        raise ScheduleError(
            f"A cron expression has 6 fields (minutes hours day-of-month month day-of-week "
            f"year); this one has {len(parts)}."
        )
    for index, (field, part) in enumerate(zip(_FIELDS, parts, strict=True)):
        _check_field(index, field, part.upper())
    dom, dow = parts[DOM], parts[DOW]
    if (dom == "?") == (dow == "?"):
        raise ScheduleError(
            "Use ? in exactly one of day-of-month and day-of-week (for example "
            "cron(0 9 ? * MON-FRI *) or cron(0 0 1 * ? *))."
        )
    return Schedule(text, "cron", fields=tuple(p.upper() for p in parts))


def _number(field: _Field, text: str) -> int:
    if _digits(text):
        value = int(text)
    elif field.names and text in field.names:
        value = field.names.index(text) + field.low
    else:
        raise ScheduleError(f"{field.name}: {text!r} is not a value ({field.span}).")
    if not field.low <= value <= field.high:
        raise ScheduleError(f"{field.name}: {value} is out of range ({field.span}).")
    return value


def _check_field(index: int, field: _Field, part: str) -> None:
    if part == "?":
        if index not in (DOM, DOW):
            raise ScheduleError(f"{field.name}: ? is only allowed in day-of-month or day-of-week.")
        return
    for item in part.split(","):
        if not item:
            raise ScheduleError(f"{field.name}: an empty item in {part!r}.")
        if "?" in item:
            raise ScheduleError(f"{field.name}: ? must stand alone.")
        if index == DOM and (item in ("L", "LW") or re.fullmatch(r"[0-9]{1,2}W", item)):
            if item.endswith("W") and item != "LW":
                _number(field, item[:-1])
            continue
        if index == DOW and item == "L":
            continue
        if index == DOW and re.fullmatch(r"\w+L", item):
            _number(field, item[:-1])
            continue
        if index == DOW and "#" in item:
            day, _, nth = item.partition("#")
            _number(field, day)
            if not (_digits(nth) and 1 <= int(nth) <= 5):
                raise ScheduleError(f"{field.name}: in {item!r} the week must be 1 to 5.")
            continue
        base, slash, step = item.partition("/")
        if slash:
            if not (_digits(step) and int(step) >= 1):
                raise ScheduleError(f"{field.name}: the step in {item!r} must be 1 or more.")
        if base == "*":
            continue
        low, dash, high = base.partition("-")
        first = _number(field, low)
        if dash:
            last = _number(field, high)
            if last < first:
                raise ScheduleError(f"{field.name}: the range {base!r} runs backwards.")


# --- reading -----------------------------------------------------------------------------


def describe(expression: str) -> str:
    """The human reading of a valid expression; "" when it is not one."""
    try:
        schedule = parse(expression)
    except ScheduleError:
        return ""
    if schedule.kind == "rate":
        return _rate_words(schedule.seconds)
    fields = list(schedule.fields)
    if fields[DOW] == "L":
        fields[DOW] = "7"  # the last day of the week: Saturday, which cron-descriptor reads
    return _cron_words(" ".join(fields))


def _rate_words(seconds: int) -> str:
    for unit in ("day", "hour", "minute"):
        size = _UNITS[unit]
        if seconds % size == 0:
            count = seconds // size
            return f"every {unit}" if count == 1 else f"every {count} {unit}s"
    return f"every {seconds} seconds"  # not reachable: rates are whole minutes


@functools.lru_cache(maxsize=512)
def _cron_words(fields: str) -> str:
    from cron_descriptor import ExpressionDescriptor, Options

    options = Options()
    options.day_of_week_start_index_zero = False  # EventBridge: 1 = Sunday
    options.use_24hour_time_format = True
    options.verbose = False
    try:
        text = ExpressionDescriptor(fields, options).get_description()
    except Exception:  # a reading is a convenience: never an error page
        return ""
    # Lower-case first letter: the reading continues a sentence ("Runs at 09:00, ...").
    return f"{text[:1].lower()}{text[1:]} (UTC)" if text else ""


# --- the next run ------------------------------------------------------------------------


def next_run(
    expression: str, after: dt.datetime, anchor: dt.datetime | None = None
) -> dt.datetime | None:
    """The first firing strictly after `after` (UTC), or None (invalid, or nothing within
    the years the expression allows). A rate fires every interval from `anchor` (when the
    schedule was set up; `after` when not given)."""
    try:
        schedule = parse(expression)
    except ScheduleError:
        return None
    after = after.astimezone(dt.UTC)
    if schedule.kind == "rate":
        start = (anchor or after).astimezone(dt.UTC)
        if start > after:
            return start
        try:
            step = dt.timedelta(seconds=schedule.seconds)
            periods = int((after - start) / step) + 1
            return start + periods * step
        except OverflowError:  # rate(9999999999 days): no run before the calendar ends
            return None
    return _next_cron(schedule.fields, after)


def _values(field: _Field, part: str) -> set[int]:
    """The plain values a field allows (the L/W/# forms are matched per day instead)."""
    out: set[int] = set()
    for item in part.split(","):
        base, _, step = item.partition("/")
        if base in ("*", "?"):
            low, high = field.low, field.high
        elif "-" in base:
            first, last = base.split("-")
            low, high = _number(field, first), _number(field, last)
        elif _digits(base) or base in field.names:
            low = _number(field, base)
            high = field.high if step else low
        else:
            continue  # L, W, # forms
        out.update(range(low, high + 1, int(step) if step else 1))
    return out


def _day_matches(fields: tuple[str, ...], day: dt.date) -> bool:
    dom, dow = fields[DOM], fields[DOW]
    last = calendar.monthrange(day.year, day.month)[1]
    weekday = (day.isoweekday() % 7) + 1  # EventBridge: SUN=1 .. SAT=7
    if dom != "?":
        for item in dom.split(","):
            if item == "L" and day.day == last:
                return True
            if item == "LW" and day == _nearest_weekday(day.replace(day=last)):
                return True
            if item.endswith("W") and _digits(item[:-1]):
                wanted = min(int(item[:-1]), last)
                if day == _nearest_weekday(day.replace(day=wanted)):
                    return True
        return day.day in _values(_FIELDS[DOM], dom)
    for item in dow.split(","):
        if item == "L" and weekday == 7:
            return True
        if item.endswith("L") and len(item) > 1:
            target = _number(_FIELDS[DOW], item[:-1])
            if weekday == target and day.day + 7 > last:
                return True
        if "#" in item:
            target_text, _, nth = item.partition("#")
            if weekday == _number(_FIELDS[DOW], target_text) and (day.day - 1) // 7 + 1 == int(nth):
                return True
    return weekday in _values(_FIELDS[DOW], dow)


def _nearest_weekday(day: dt.date) -> dt.date:
    if day.weekday() == 5:  # Saturday: the Friday before, unless that leaves the month
        return day - dt.timedelta(days=1) if day.day > 1 else day + dt.timedelta(days=2)
    if day.weekday() == 6:  # Sunday: the Monday after, unless that leaves the month
        following = day + dt.timedelta(days=1)
        return following if following.month == day.month else day - dt.timedelta(days=2)
    return day


def _next_cron(fields: tuple[str, ...], after: dt.datetime) -> dt.datetime | None:
    minutes = sorted(_values(_FIELDS[0], fields[0]))
    hours = sorted(_values(_FIELDS[1], fields[1]))
    months = _values(_FIELDS[3], fields[3])
    years = _values(_FIELDS[5], fields[5])
    if not (minutes and hours and months and years):
        return None
    start = after.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    day = start.date()
    # Eight years of days at most: enough for a 29 February on a Monday, bounded for anything.
    for _ in range(8 * 366):
        if day.year > max(years):
            return None
        if day.year in years and day.month in months and _day_matches(fields, day):
            for hour in hours:
                for minute in minutes:
                    moment = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)
                    if moment >= start:
                        return moment
        day += dt.timedelta(days=1)
    return None
