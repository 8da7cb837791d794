"""Usage says each limited metric's pace: at the rate so far, when it runs out (a warning when
that comes before the period ends) or what it reaches by the end."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import time_machine

from dashboard.aws import configuration as aws_config
from dashboard.configuration import display

START = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
END = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


def answer(**metrics: tuple[float, int]) -> dict:
    out: dict = {"usagePeriodStartTime": START, "usagePeriodEndTime": END}
    for name, (used, limit) in metrics.items():
        out[name] = {"usage": used, "limit": limit}
    return out


def row(shown: dict, metric: str) -> dict:
    return next(r for r in shown["rows"] if r["metric"] == metric)


def test_a_pace_that_reaches_the_limit_before_the_end_says_when_and_warns():
    # 12 h in 3 days of a 40 h limit: 4 h a day, so the 40th hour comes 7 days later.
    shown = display.usage(
        answer(monthlyAccountInvestigationHours=(12, 40)), now=START + dt.timedelta(days=3)
    )
    r = row(shown, "monthlyAccountInvestigationHours")
    assert r["runs_out"] == dt.datetime(2026, 12, 11, tzinfo=dt.UTC)
    assert not r["warn"]  # 30 % used: no 80 % warning, but the pace warns
    assert shown["pace_warnings"] == [r]


def test_a_pace_within_the_limit_says_where_it_ends():
    shown = display.usage(
        answer(monthlyAccountInvestigationHours=(2, 40)), now=START + dt.timedelta(days=10)
    )
    r = row(shown, "monthlyAccountInvestigationHours")
    assert r["runs_out"] is None and shown["pace_warnings"] == []
    assert (
        r["projected_text"]
        == display.usage_metric("x", {"usage": 2 * 31 / 10, "limit": 40})["used_text"]
    )


@pytest.mark.parametrize(
    ("used", "limit", "days"),
    [(5, -1, 3), (40, 40, 3), (0, 40, 3), (12, 40, 0.5)],
    ids=["no limit", "reached", "nothing used", "first day"],
)
def test_no_pace_without_a_limit_or_before_a_day_has_gone_by(used, limit, days):
    shown = display.usage(
        answer(monthlyAccountInvestigationHours=(used, limit)),
        now=START + dt.timedelta(days=days),
    )
    assert row(shown, "monthlyAccountInvestigationHours")["runs_out"] is None
    assert shown["pace_warnings"] == []


@pytest.mark.django_db
def test_the_page_says_the_pace_in_words(viewer_client, monkeypatch):
    monkeypatch.setattr(
        aws_config,
        "get_account_usage",
        lambda: answer(monthlyAccountInvestigationHours=(12, 40)),
    )
    with time_machine.travel(START + dt.timedelta(days=3), tick=False):
        body = viewer_client.get("/usage/").content.decode()
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
    assert "At this pace, Investigation runs out around 11 Dec , before the period ends" in text


def test_a_tiny_use_against_a_large_limit_is_a_pace_within_it_not_an_error():
    # One second of use in two days against 1,000 hours would run out some 30,000 years on,
    # past the largest date Python holds: that is simply "within the limit".
    shown = display.usage(
        answer(monthlyAccountInvestigationHours=(1 / 3600, 1000)),
        now=START + dt.timedelta(days=2),
    )
    r = row(shown, "monthlyAccountInvestigationHours")
    assert r["runs_out"] is None and shown["pace_warnings"] == []
    assert r["projected_text"]
