"""A crash while registering a service or associating one (a bug, a connection pool falling
over) must not put the typed credentials into Django's error report: the POSTed fields are
hidden (sensitive_post_parameters) and so are the local variables of the view and of every
frame below it (sensitive_variables), where botocore holds the request body."""

from __future__ import annotations

import json
import sys

import pytest
from django.core.signals import got_request_exception
from django.test import Client
from django.views.debug import ExceptionReporter

from dashboard.aws import integrations as aws_integrations
from dashboard.integrations import catalog
from dashboard.sandbox.demo_integrations import app_service
from tests.integrations_support import post_data

pytestmark = pytest.mark.django_db


def _reports_of(client: Client, url: str, data: dict, operation: str, monkeypatch) -> list[str]:
    real_call = aws_integrations.call

    def crashing_call(service_name, op, /, **params):
        if op != operation:
            return real_call(service_name, op, **params)
        body = json.dumps(params).encode()  # what botocore's frames hold  # noqa: F841
        raise RuntimeError("the connection pool fell over")

    monkeypatch.setattr(aws_integrations, "call", crashing_call)
    reports: list[str] = []

    def capture(sender, request, **kwargs):
        reporter = ExceptionReporter(request, *sys.exc_info())
        reports.append(reporter.get_traceback_text())
        reports.append(reporter.get_traceback_html())

    got_request_exception.connect(capture)
    try:
        response = client.post(url, data)
    finally:
        got_request_exception.disconnect(capture)
    assert response.status_code == 500
    assert len(reports) == 2 and "the connection pool fell over" in reports[0]
    assert "crashing_call" in reports[1]  # the frame that held the request body is shown
    return reports


@pytest.fixture
def crash_client(admin_user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("variant", ["apiKey", "bearerToken", "oAuthClientCredentials"])
def test_a_crash_while_registering_leaves_the_credentials_out_of_the_report(
    crash_client, monkeypatch, variant
):
    secrets: list[str] = []
    data = post_data(
        catalog.register_layout("mcpserver"),
        variants={"serviceDetails.mcpserver.authorizationConfig": variant},
        secrets=secrets,
    )
    assert secrets
    reports = _reports_of(
        crash_client, "/services/new/mcpserver/", data, "RegisterService", monkeypatch
    )
    for report in reports:
        for secret in secrets:
            assert secret not in report


def test_a_crash_while_associating_leaves_the_credentials_out_of_the_report(
    crash_client, space, monkeypatch
):
    """No association configuration holds a credential today; a value typed in one must
    still stay out of the report, whatever the model adds later."""
    service = app_service("github", "acme", {"owner": "acme", "ownerType": "organization"})
    data = post_data(catalog.association_layout("github"))
    data["configuration.github.repoName"] = "repo-typed-9f2c"
    url = f"/spaces/{space['agentSpaceId']}/associations/new/{service.service_id}/"
    reports = _reports_of(crash_client, url, data, "AssociateService", monkeypatch)
    for report in reports:
        assert "repo-typed-9f2c" not in report
