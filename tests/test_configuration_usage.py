"""Account usage: each monthly hours metric as a used-of-limit bar (plain SVG), the period, and
a warning past 80 % of a limit."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import time_machine

from dashboard.aws import configuration as aws_config
from dashboard.configuration import display
from dashboard.sandbox import tasks as backlog
from dashboard.sandbox.models import AgentSpace, UsageLimit

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 5, 21, 12, 0, tzinfo=dt.UTC)


def plain(response) -> str:
    """The page's text: tags dropped, entities and whitespace as a person reads them."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def answer(**metrics: tuple[float, int]) -> dict:
    out: dict = {
        "usagePeriodStartTime": dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
        "usagePeriodEndTime": dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
    }
    for name, (used, limit) in metrics.items():
        out[name] = {"usage": used, "limit": limit}
    return out


@pytest.mark.parametrize(
    ("used", "limit", "warn", "over", "bar", "percent"),
    [
        (10, 40, False, False, 25.0, "25 %"),
        (32, 40, False, False, 80.0, "80 %"),  # at 80 %: not yet past it
        (32.1, 40, True, False, 80.25, "80 %"),
        (40, 40, True, True, 100.0, "100 %"),
        (55, 40, True, True, 100.0, "138 %"),  # the bar ends at its end; the text says more
        (0, 0, False, False, 0.0, "0 %"),
    ],
)
def test_a_metric_is_a_share_of_its_limit(used, limit, warn, over, bar, percent):
    row = display.usage_metric("monthlyAccountInvestigationHours", {"usage": used, "limit": limit})
    assert (row["warn"], row["over"], row["bar"], row["percent_text"]) == (
        warn,
        over,
        bar,
        percent,
    )
    assert row["label"] == "Investigation"


def test_no_limit_has_no_bar_and_no_warning():
    row = display.usage_metric("monthlyAccountGraderHours", {"usage": 12.5, "limit": -1})
    assert row["unlimited"] and row["limit_text"] == "no limit"
    assert row["percent"] is None and not row["warn"]


def test_metrics_keep_the_models_order_and_new_ones_get_a_readable_name():
    shown = display.usage(
        answer(
            monthlyAccountOnDemandHours=(1, 10),
            monthlyAccountInvestigationHours=(1, 10),
            monthlyAccountCodeReviewHours=(1, 10),
        ),
        NOW,
    )
    assert [r["label"] for r in shown["rows"]] == ["Investigation", "On-demand", "Code review"]
    assert shown["period"]["last_day"] == dt.datetime(2026, 5, 31, 23, 59, 59, tzinfo=dt.UTC)
    assert shown["period"]["days_left"] == 11


def test_the_page_draws_a_bar_per_metric_and_warns_past_80_percent(viewer_client, monkeypatch):
    monkeypatch.setattr(
        aws_config,
        "get_account_usage",
        lambda: answer(
            monthlyAccountInvestigationHours=(34.5, 40),
            monthlyAccountEvaluationHours=(2, 20),
            monthlyAccountGraderHours=(1.25, -1),
        ),
    )
    with time_machine.travel(NOW, tick=False):
        response = viewer_client.get("/usage/")
    body = response.content.decode()
    text = plain(response)
    assert response.status_code == 200
    assert "Period: 1 May \u2013 31 May 2026 (UTC), resets in 11 days." in text
    assert "Investigation: 86 % of the monthly limit used (34.5 of 40.0 hours)" in text
    assert "Evaluation:" not in text
    widths = re.findall(r'<rect class="fill" x="0" y="0" width="([\d.]+)"', body)
    assert widths == ["86.25", "10.00"]  # the unlimited metric has no bar
    assert "1.2 h used · no limit" in text
    assert body.count('<svg class="usage-bar"') == 2 and "chart" not in body.lower()


def test_usage_in_the_sandbox_grows_with_an_investigation_and_then_warns(viewer_client):
    UsageLimit.objects.create(metric="monthlyAccountInvestigationHours", limit=1)
    with time_machine.travel(NOW, tick=False) as clock:
        from dashboard.aws import spaces

        created = spaces.create_space(name="Usage")
        space = AgentSpace.objects.get(pk=created["agentSpaceId"])
        for title in ("Disk full", "5xx spike", "Queue backlog"):
            backlog.create_task(
                space, task_type="INVESTIGATION", title=title, priority="HIGH", at=NOW
            )
        quiet = plain(viewer_client.get("/usage/"))
        # Over a minute of work each for three investigations (the emulated agent is 20 times
        # faster than a real one): more than the one-hour limit.
        clock.shift(200)
        busy = plain(viewer_client.get("/usage/"))
    assert "of the monthly limit used" not in quiet
    assert "Investigation: " in busy and "of the monthly limit used" in busy, busy
