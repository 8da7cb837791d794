"""SANDBOX_FAULTS: injected throttling, server errors and latency, as the console sees them."""

from __future__ import annotations

import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from dashboard.aws import errors, spaces
from dashboard.aws.clients import call
from dashboard.sandbox import faults

pytestmark = pytest.mark.django_db


@override_settings(SANDBOX_FAULTS="throttle=1")
def test_it_throttles_every_call_and_tells_the_user_to_retry():
    with pytest.raises(errors.Throttled) as exc_info:
        spaces.list_spaces()

    assert exc_info.value.code == "ThrottlingException"
    assert "retry in a moment" in exc_info.value.message.lower()
    assert "ListAgentSpaces" in exc_info.value.message


@override_settings(SANDBOX_FAULTS="error=1")
def test_it_fails_every_call_with_a_server_error_the_console_calls_unavailable():
    with pytest.raises(errors.Unavailable) as exc_info:
        spaces.create_space(name="Never made")

    assert exc_info.value.code == "InternalServerException"
    assert "CreateAgentSpace" in exc_info.value.message


def test_it_leaves_no_trace_of_a_call_that_failed_by_injection():
    with override_settings(SANDBOX_FAULTS="error=1"), pytest.raises(errors.Unavailable):
        spaces.create_space(name="Never made")

    assert spaces.list_spaces()["agentSpaces"] == []


@override_settings(SANDBOX_FAULTS="slow=1,slow_seconds=0.05")
def test_it_delays_slow_calls_and_still_answers():
    started = time.monotonic()
    page = spaces.list_spaces()
    elapsed = time.monotonic() - started

    assert elapsed >= 0.05
    assert page == {"agentSpaces": [], "nextToken": None}


@override_settings(SANDBOX_FAULTS="throttle=0.5,seed=3")
def test_it_throttles_only_a_fraction_of_calls():
    outcomes = []
    for _ in range(40):
        try:
            call("devops-agent", "ListAgentSpaces")
            outcomes.append("ok")
        except errors.Throttled:
            outcomes.append("throttled")

    assert 5 < outcomes.count("throttled") < 35


@override_settings(SANDBOX_FAULTS="")
def test_it_injects_nothing_when_unset():
    assert faults.draw("") is None
    assert spaces.list_spaces()["agentSpaces"] == []


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ("nonsense=1", "unknown key"),
        ("throttle=lots", "needs a number"),
        ("error=1.5", "between 0 and 1"),
        ("slow=-0.1", "between 0 and 1"),
    ],
)
def test_it_rejects_a_malformed_spec(spec, complaint):
    with pytest.raises(ImproperlyConfigured, match=complaint):
        faults.parse(spec)


@override_settings(SANDBOX_FAULTS="throttle=often")
def test_it_surfaces_a_malformed_spec_to_the_caller_rather_than_as_a_fake_aws_error():
    with pytest.raises(ImproperlyConfigured):
        spaces.list_spaces()


def test_it_parses_every_key():
    parsed = faults.parse(" throttle=0.1, error=0.2 ,slow=0.3,slow_seconds=0.5,seed=9 ")

    assert parsed == faults.Faults(throttle=0.1, error=0.2, slow=0.3, slow_seconds=0.5, seed=9)
