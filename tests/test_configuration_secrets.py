"""The IdP client secret is write-only: set through the console with a known string, it appears
in no page, fragment, redirect, log line, audit entry or Django error report afterwards.
(The websocket side is in test_configuration_live.py.)

`set_idp_secret` is the console's way of setting it, for crawler tests elsewhere:

    from tests.test_configuration_secrets import IDP_SECRET, set_idp_secret
    set_idp_secret(admin_client, space_id)            # enable idp + replace the secret
"""

from __future__ import annotations

import json
import logging
import sys

import pytest
from django.core.signals import got_request_exception
from django.test import Client
from django.views.debug import ExceptionReporter

from dashboard.aws import configuration as aws_config
from dashboard.core.models import AuditEntry

pytestmark = pytest.mark.django_db

IDP_SECRET = "idp-client-secret-7f3a9c2e-do-not-leak"
ROLE = "arn:aws:iam::123456789012:role/DevOpsAgentOperator"
HX = {"HX-Request": "true"}


def set_idp_secret(client: Client, space_id: str, secret: str = IDP_SECRET) -> None:
    """Enable the space's Operator App with an external IdP whose client secret is `secret`,
    then replace the secret (with the same value), both through the console's forms."""
    base = f"/spaces/{space_id}/operator-app/"
    enabled = client.post(
        base + "idp/enable/",
        {
            "role_arn": ROLE,
            "provider": "Okta",
            "issuer_url": "https://acme.okta.com/oauth2/default",
            "idp_client_id": "0oa-console-test",
            "idp_client_secret": secret,
        },
    )
    assert enabled.status_code == 302, enabled.content.decode()[:2000]
    replaced = client.post(base + "idp-secret/", {"idp_client_secret": secret})
    assert replaced.status_code == 302, replaced.content.decode()[:2000]


def configuration_pages(space_id: str, asset_id: str, connection: str) -> list[tuple[str, bool]]:
    """Every page and fragment of the configuration area: (url, as an htmx request)."""
    space = f"/spaces/{space_id}"
    asset = f"{space}/assets/{asset_id}"
    return [
        ("/private-connections/", False),
        ("/private-connections/?fragment=rows", True),
        ("/private-connections/new/", False),
        (f"/private-connections/{connection}/", False),
        (f"/private-connections/{connection}/?fragment=status", True),
        (f"/private-connections/{connection}/certificate/", False),
        (f"/private-connections/{connection}/delete/", False),
        ("/usage/", False),
        (f"{space}/operator-app/", False),
        (f"{space}/operator-app/", True),
        (f"{space}/operator-app/iam/enable/", False),
        (f"{space}/operator-app/idc/enable/", False),
        (f"{space}/operator-app/idp/enable/", False),
        (f"{space}/operator-app/idp/disable/", False),
        (f"{space}/operator-app/idp-secret/", False),
        (f"{space}/assets/", False),
        (f"{space}/assets/new/", False),
        (f"{asset}/", False),
        (f"{asset}/?version=1", False),
        (f"{asset}/edit/", False),
        (f"{asset}/delete/", False),
        (f"{asset}/content.zip", False),
        (f"{asset}/file/?path=AGENTS.md", False),
        (f"{asset}/file/download?path=AGENTS.md", False),
        (f"{asset}/file/new/", False),
        (f"{asset}/file/edit/?path=AGENTS.md", False),
        (f"{asset}/file/delete/?path=AGENTS.md", False),
        (f"{space}/", False),
        ("/audit/", False),
        ("/audit/?operation=EnableOperatorApp", True),
    ]


@pytest.fixture
def world(space) -> dict[str, str]:
    sid = space["agentSpaceId"]
    aws_config.create_private_connection(
        "grafana-prod",
        {
            "serviceManaged": {
                "hostAddress": "grafana.internal",
                "vpcId": "vpc-0123abcd",
                "subnetIds": ["subnet-0123abcd"],
            }
        },
    )
    asset = aws_config.create_asset(
        sid,
        asset_type="agents_md",
        content={"file": {"path": "AGENTS.md", "body": {"text": "# Guidance"}}},
    )
    return {"space": sid, "asset": asset["assetId"], "connection": "grafana-prod"}


# Paths of the pages only admins may open (forms that write, and the audit log).
_ADMIN_PATHS = (
    "/new/",
    "/edit/",
    "/certificate/",
    "/delete/",
    "/enable/",
    "/disable/",
    "/idp-secret/",
)


def _admin_only(url: str) -> bool:
    path = url.split("?", 1)[0]
    return path.endswith(_ADMIN_PATHS) or path == "/audit/"


def _leaks(response) -> bool:
    body = b"".join(response) if response.streaming else response.content
    headers = json.dumps(dict(response.headers))
    return IDP_SECRET.encode() in body or IDP_SECRET in headers


def test_the_idp_secret_is_in_no_page_log_or_audit_entry(
    world, admin_client, operator_client, viewer_client, caplog
):
    caplog.set_level(logging.DEBUG)
    set_idp_secret(admin_client, world["space"])
    base = f"/spaces/{world['space']}/operator-app/"

    # Forms that fail validation with the secret typed in do not send it back.
    failed = [
        admin_client.post(
            base + "idp/enable/",
            {"role_arn": "bad", "idp_client_secret": IDP_SECRET, "issuer_url": "http://x"},
        ),
        admin_client.post(
            base + "idp/enable/",
            {"role_arn": ROLE, "idp_client_secret": IDP_SECRET, "issuer_url": "http://x"},
            headers=HX,
        ),
        admin_client.post(base + "idp-secret/", {"idp_client_secret": IDP_SECRET + "x" * 1100}),
        # The idc form ignores an idp secret it was sent anyway.
        admin_client.post(
            base + "idc/enable/", {"role_arn": ROLE, "idp_client_secret": IDP_SECRET}
        ),
    ]
    assert [r.status_code for r in failed] == [400, 400, 400, 400]
    assert not any(_leaks(r) for r in failed)

    pages = configuration_pages(world["space"], world["asset"], world["connection"])
    for client in (admin_client, operator_client, viewer_client):
        for url, htmx in pages:
            response = client.get(url, headers=HX if htmx else {})
            # Every page is read whole by an admin; the others are refused what writes.
            refused = client is not admin_client and _admin_only(url)
            assert response.status_code == (403 if refused else 200), (url, response.status_code)
            assert not _leaks(response), url

    audit = list(AuditEntry.objects.values("operation", "detail", "error"))
    assert {"EnableOperatorApp", "UpdateOperatorAppIdpConfig"} <= {a["operation"] for a in audit}
    assert IDP_SECRET not in json.dumps(audit, default=str)
    assert IDP_SECRET not in caplog.text
    for record in caplog.records:
        assert IDP_SECRET not in record.getMessage()


def test_an_aws_error_quoting_the_secret_is_scrubbed_everywhere(world, admin_client, caplog):
    """Should AWS ever echo the value it was sent, the page, the log and the audit do not."""
    from dashboard.aws import errors

    caplog.set_level(logging.DEBUG)

    def echoing(*args, **kwargs):
        raise errors.ValidationFailed(
            f"Value '{IDP_SECRET}' at 'idpClientSecret' failed to satisfy constraint",
            code="ValidationException",
            fields={"idpClientSecret": f"'{IDP_SECRET}' is not accepted"},
        )

    aws_config.enable_operator_app(
        world["space"],
        "idp",
        role_arn=ROLE,
        issuer_url="https://i.example.com",
        idp_client_id="c",
        idp_client_secret="first",
        provider="Okta",
    )
    original = aws_config.update_operator_app_idp_secret
    aws_config.update_operator_app_idp_secret = echoing  # type: ignore[assignment]
    try:
        response = admin_client.post(
            f"/spaces/{world['space']}/operator-app/idp-secret/", {"idp_client_secret": IDP_SECRET}
        )
    finally:
        aws_config.update_operator_app_idp_secret = original  # type: ignore[assignment]
    assert response.status_code == 400
    assert "[redacted]" in response.content.decode()
    assert not _leaks(response)
    entry = AuditEntry.objects.get(operation="UpdateOperatorAppIdpConfig")
    assert entry.outcome == AuditEntry.FAILED
    assert IDP_SECRET not in json.dumps([entry.detail, entry.error])
    assert IDP_SECRET not in caplog.text


@pytest.mark.parametrize("tail", ["idp/enable/", "idp-secret/"])
def test_a_crash_leaves_the_secret_out_of_the_error_report(
    world, admin_user, monkeypatch, caplog, tail
):
    """Django's error report (the 500 page in debug, mails to admins) hides the POSTed secret
    and every local variable of the frames below the view, botocore's request body included."""
    aws_config.enable_operator_app(
        world["space"],
        "idp",
        role_arn=ROLE,
        issuer_url="https://i.example.com",
        idp_client_id="c",
        idp_client_secret="first",
        provider="Okta",
    )

    real_call = aws_config.call

    def crashing_call(service, operation, **params):
        if operation not in ("EnableOperatorApp", "UpdateOperatorAppIdpConfig"):
            return real_call(service, operation, **params)
        body = json.dumps(params).encode()  # what botocore's frames hold  # noqa: F841
        raise RuntimeError("the connection pool fell over")

    monkeypatch.setattr(aws_config, "call", crashing_call)
    reports: list[str] = []

    def capture(sender, request, **kwargs):
        reporter = ExceptionReporter(request, *sys.exc_info())
        reports.append(reporter.get_traceback_text())
        reports.append(reporter.get_traceback_html())

    got_request_exception.connect(capture)
    caplog.set_level(logging.DEBUG)
    try:
        client = Client(raise_request_exception=False)
        client.force_login(admin_user)
        form = {
            "role_arn": ROLE,
            "provider": "Okta",
            "issuer_url": "https://acme.okta.com/",
            "idp_client_id": "c",
            "idp_client_secret": IDP_SECRET,
        }
        response = client.post(f"/spaces/{world['space']}/operator-app/{tail}", form)
    finally:
        got_request_exception.disconnect(capture)
    assert response.status_code == 500
    assert not _leaks(response)
    assert len(reports) == 2 and "the connection pool fell over" in reports[0]
    assert "crashing_call" in reports[1]  # the frame that held the request body is shown
    for report in reports:
        assert IDP_SECRET not in report
        assert "idp_client_secret" in report  # the parameter is named, its value hidden
    assert IDP_SECRET not in caplog.text
