"""Schedule expressions: EventBridge's rate and cron rules checked field by field (good and bad),
the human readings, and the next firing time."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.lib import schedule

AT = dt.datetime(2026, 5, 4, 9, 30, tzinfo=dt.UTC)  # a Monday


@pytest.mark.parametrize(
    ("expression", "reading"),
    [
        ("rate(7 days)", "every 7 days"),
        ("rate(1 day)", "every day"),
        ("rate(1 hour)", "every hour"),
        ("rate(30 minutes)", "every 30 minutes"),
        ("rate(1 minute)", "every minute"),
        ("cron(0 9 ? * MON-FRI *)", "at 09:00, Monday through Friday (UTC)"),
        ("cron(0 0 1 * ? *)", "at 00:00, on day 1 of the month (UTC)"),
        ("cron(0 */6 ? * * *)", "every 6 hours (UTC)"),
        (
            "cron(15 10 ? * 6L 2026-2030)",
            "at 10:15, on the last Friday of the month, 2026 through 2030 (UTC)",
        ),
        ("cron(0 18 ? * 2#1 *)", "at 18:00, on the first Monday of the month (UTC)"),
        ("cron(0 8 L * ? *)", "at 08:00, on the last day of the month (UTC)"),
        ("cron(0 12 15W * ? *)", "at 12:00, on the weekday nearest day 15 of the month (UTC)"),
        ("cron(30 2 ? * 1 *)", "at 02:30, only on Sunday (UTC)"),
        ("cron(0 9 ? * L *)", "at 09:00, only on Saturday (UTC)"),
        ("  rate(7 days)  ", "every 7 days"),
    ],
)
def test_it_accepts_and_reads_valid_expressions(expression, reading):
    schedule.parse(expression)  # no error
    assert schedule.describe(expression) == reading


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("", "Enter a schedule expression"),
        ("every day", "Start with rate(...) or cron(...)"),
        ("at(2026-06-01T09:00:00)", "One-time at(...) schedules are not supported"),
        ("rate(0 days)", "whole number of 1 or more"),
        ("rate(-1 days)", "whole number of 1 or more"),
        ("rate(1.5 hours)", "whole number of 1 or more"),
        ("rate(1 days)", "singular: rate(1 day)"),
        ("rate(2 day)", "plural: rate(2 days)"),
        ("rate(5 weeks)", "minutes, hours or days"),
        ("rate(7days)", "rate(value unit)"),
        ("cron(0 9 * * MON-FRI *)", "? in exactly one of day-of-month and day-of-week"),
        ("cron(0 9 ? * ? *)", "? in exactly one of day-of-month and day-of-week"),
        ("cron(0 9 * *)", "has 6 fields"),
        ("cron(0 9 * * ? * *)", "has 6 fields"),
        ("cron(60 9 ? * * *)", "minutes: 60 is out of range (0-59)"),
        ("cron(0 24 ? * * *)", "hours: 24 is out of range (0-23)"),
        ("cron(0 9 32 * ? *)", "day-of-month: 32 is out of range (1-31)"),
        ("cron(0 9 1 13 ? *)", "month: 13 is out of range (1-12 or JAN-DEC)"),
        ("cron(0 9 ? * 8 *)", "day-of-week: 8 is out of range (1-7 or SUN-SAT)"),
        ("cron(0 9 ? * FUN *)", "day-of-week: 'FUN' is not a value"),
        ("cron(0 9 1 * ? 1969)", "year: 1969 is out of range"),
        ("cron(0 9 5-1 * ? *)", "the range '5-1' runs backwards"),
        ("cron(0/0 9 ? * * *)", "the step in '0/0' must be 1 or more"),
        ("cron(0 9 ? * MON#6 *)", "the week must be 1 to 5"),
        ("cron(? 9 * * ? *)", "? is only allowed in day-of-month or day-of-week"),
        ("cron(L 9 * * ? *)", "minutes: 'L' is not a value"),
        ("rate(" + "1" * 300 + " days)", "at most 256 characters"),
        # Characters str.isdigit() takes for digits but int() does not (were a ValueError: a
        # 500 on the form and the live check), and digits of other scripts AWS refuses.
        ("rate(\u00b2 days)", "must be a whole number"),
        ("rate(\u0661\u0662 days)", "must be a whole number"),
        ("cron(0 0 \u00b2 * ? *)", "day-of-month: '\u00b2' is not a value"),
        ("cron(0 0 ? * \u00b2L *)", "day-of-week: '\u00b2' is not a value"),
        ("cron(0 0 ? * 2#\u00b2 *)", "the week must be 1 to 5"),
    ],
)
def test_it_refuses_invalid_expressions_saying_why(expression, says):
    with pytest.raises(schedule.ScheduleError) as error:
        schedule.parse(expression)
    assert says in str(error.value)
    assert schedule.describe(expression) == ""


def test_a_rate_runs_every_interval_from_its_anchor():
    anchor = AT - dt.timedelta(days=10)
    assert schedule.next_run("rate(7 days)", AT, anchor=anchor) == anchor + dt.timedelta(days=14)
    assert schedule.next_run("rate(1 hour)", AT) == AT + dt.timedelta(hours=1)
    future = AT + dt.timedelta(hours=3)
    assert schedule.next_run("rate(1 day)", AT, anchor=future) == future


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(0 9 ? * MON-FRI *)", dt.datetime(2026, 5, 5, 9, 0, tzinfo=dt.UTC)),
        ("cron(0 0 1 * ? *)", dt.datetime(2026, 6, 1, 0, 0, tzinfo=dt.UTC)),
        ("cron(0 */6 ? * * *)", dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)),
        ("cron(15 10 ? * 6L *)", dt.datetime(2026, 5, 29, 10, 15, tzinfo=dt.UTC)),
        ("cron(0 18 ? * 2#1 *)", dt.datetime(2026, 5, 4, 18, 0, tzinfo=dt.UTC)),
        ("cron(0 8 L * ? *)", dt.datetime(2026, 5, 31, 8, 0, tzinfo=dt.UTC)),
        ("cron(0 12 16W * ? *)", dt.datetime(2026, 5, 15, 12, 0, tzinfo=dt.UTC)),  # Sat -> Fri
        ("cron(0 9 1 1 ? 2020)", None),  # only in the past
    ],
)
def test_the_next_cron_run(expression, expected):
    assert schedule.next_run(expression, AT) == expected


@pytest.mark.parametrize("expression", ["rate(9999999999 days)", "rate(99999999999999 minutes)"])
def test_a_rate_beyond_the_calendar_has_no_next_run(expression):
    # Was an OverflowError on every page that shows the trigger's next run.
    assert schedule.next_run(expression, AT) is None
    assert schedule.next_run(expression, AT, anchor=AT - dt.timedelta(days=1)) is None


def test_an_invalid_expression_has_no_next_run():
    assert schedule.next_run("rate(1 days)", AT) is None
