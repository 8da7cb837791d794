"""The Operator App page of a space: its URL and flows; enabling, changing and disabling a
flow; replacing the IdP client secret; errors in place with the input kept (never the secret)."""

from __future__ import annotations

import html

import pytest

from dashboard.aws import configuration as aws_config
from dashboard.aws import errors
from dashboard.core.models import AuditEntry

pytestmark = pytest.mark.django_db

ROLE = "arn:aws:iam::123456789012:role/DevOpsAgentOperator"
IDC = "arn:aws:sso:::instance/ssoins-1234567890abcdef"
IDP = {
    "role_arn": ROLE,
    "provider": "Okta",
    "issuer_url": "https://acme.okta.com/oauth2/default",
    "idp_client_id": "0oa-client",
}


def url(space: dict, tail: str = "") -> str:
    return f"/spaces/{space['agentSpaceId']}/operator-app/{tail}"


def text(response) -> str:
    return html.unescape(response.content.decode())


def test_a_space_without_the_app_says_it_is_off(viewer_client, space):
    body = text(viewer_client.get(url(space)))
    assert "The Operator App is off for this space." in body
    assert body.count(">Off<") == 3
    assert 'hx-history="false"' in body
    assert "Enable" not in body  # viewers get no buttons


def test_the_page_shows_the_url_and_each_enabled_flow(viewer_client, space):
    sid = space["agentSpaceId"]
    aws_config.enable_operator_app(sid, "iam", role_arn=ROLE)
    aws_config.enable_operator_app(
        sid,
        "idp",
        role_arn=ROLE,
        issuer_url=IDP["issuer_url"],
        idp_client_id="0oa-client",
        idp_client_secret="shh",
        provider="Okta",
    )
    body = text(viewer_client.get(url(space)))
    assert f"https://{sid}.operator.aidevops.us-east-1.on.aws/" in body
    assert "Open the Operator App" in body
    assert "2 sign-in methods enabled: IAM, External identity provider." in body
    assert ROLE in body and IDP["issuer_url"] in body and "0oa-client" in body
    assert "Stored by AWS, never shown" in body
    assert "shh" not in body


def test_the_tab_is_on_every_space_page(viewer_client, space):
    body = viewer_client.get(f"/spaces/{space['agentSpaceId']}/").content.decode()
    assert f'href="{url(space)}"' in body and ">Operator App</a>" in body


def test_an_admin_enables_iam(admin_client, space):
    response = admin_client.post(url(space, "iam/enable/"), {"role_arn": ROLE})
    assert response.status_code == 302 and response["Location"] == url(space)
    assert aws_config.get_operator_app(space["agentSpaceId"])["iam"]["operatorAppRoleArn"] == ROLE
    assert "Enabled the IAM sign-in" in text(admin_client.get(url(space)))
    assert AuditEntry.objects.get(operation="EnableOperatorApp").outcome == AuditEntry.OK


def test_an_admin_enables_identity_center(admin_client, space):
    response = admin_client.post(
        url(space, "idc/enable/"), {"role_arn": ROLE, "idc_instance_arn": IDC}
    )
    assert response.status_code == 302
    app = aws_config.get_operator_app(space["agentSpaceId"])
    assert app["idc"]["idcInstanceArn"] == IDC and app["idc"]["idcApplicationArn"]


def test_identity_center_refusing_is_shown_at_the_instance(admin_client, space):
    unknown = "arn:aws:sso:::instance/ssoins-0000000000000000"
    response = admin_client.post(
        url(space, "idc/enable/"), {"role_arn": ROLE, "idc_instance_arn": unknown}
    )
    assert response.status_code == 400
    body = text(response)
    assert "IAM Identity Center refused" in body and f'value="{unknown}"' in body


def test_an_admin_enables_an_external_idp(admin_client, space):
    response = admin_client.post(url(space, "idp/enable/"), {**IDP, "idp_client_secret": "x1"})
    assert response.status_code == 302
    idp = aws_config.get_operator_app(space["agentSpaceId"])["idp"]
    assert (idp["provider"], idp["clientId"]) == ("Okta", "0oa-client")


def test_enabling_idp_the_first_time_needs_the_secret(admin_client, space):
    response = admin_client.post(url(space, "idp/enable/"), IDP)
    assert response.status_code == 400
    assert "This field is required." in text(response)


def test_changing_the_idp_keeps_the_secret_when_left_blank(admin_client, space):
    admin_client.post(url(space, "idp/enable/"), {**IDP, "idp_client_secret": "first"})
    form = text(admin_client.get(url(space, "idp/enable/")))
    assert "Leave blank to keep the current secret" in form
    assert 'value="0oa-client"' in form
    response = admin_client.post(url(space, "idp/enable/"), {**IDP, "idp_client_id": "0oa-new"})
    assert response.status_code == 302
    assert aws_config.get_operator_app(space["agentSpaceId"])["idp"]["clientId"] == "0oa-new"
    assert "Updated the External identity provider sign-in" in text(admin_client.get(url(space)))


def test_validation_keeps_the_input_but_never_the_secret(admin_client, space):
    response = admin_client.post(
        url(space, "idp/enable/"),
        {**IDP, "issuer_url": "http://insecure.example.com", "idp_client_secret": "typed-secret"},
    )
    assert response.status_code == 400
    body = text(response)
    assert "https:// issuer URL" in body
    assert 'value="http://insecure.example.com"' in body and 'value="0oa-client"' in body
    assert "typed-secret" not in body
    assert 'type="password"' in body and 'autocomplete="new-password"' in body


def test_a_bad_role_arn_is_caught_before_aws(admin_client, space):
    response = admin_client.post(url(space, "iam/enable/"), {"role_arn": "not-an-arn"})
    assert response.status_code == 400
    assert "Does not match the format AWS requires" in text(response)
    assert not AuditEntry.objects.exists()


def test_an_unknown_flow_is_404(admin_client, space):
    assert admin_client.get(url(space, "saml/enable/")).status_code == 404
    assert admin_client.post(url(space, "saml/disable/")).status_code == 404


def test_disable_asks_first_and_warns_when_it_is_the_last_flow(admin_client, space):
    sid = space["agentSpaceId"]
    aws_config.enable_operator_app(sid, "iam", role_arn=ROLE)
    confirm = text(admin_client.get(url(space, "iam/disable/")))
    assert "This is the only sign-in method enabled" in confirm
    aws_config.enable_operator_app(sid, "idc", role_arn=ROLE, idc_instance_arn=IDC)
    confirm = text(admin_client.get(url(space, "iam/disable/")))
    assert "The others keep signing in with IAM Identity Center" in confirm

    response = admin_client.post(url(space, "iam/disable/"))
    assert response.status_code == 302
    app = aws_config.get_operator_app(sid)
    assert "iam" not in app and "idc" in app
    assert AuditEntry.objects.get(operation="DisableOperatorApp").detail == {
        "agentSpaceId": sid,
        "authFlow": "iam",
    }


def test_disabling_a_flow_that_is_off_says_so(admin_client, space):
    response = admin_client.get(url(space, "idp/disable/"))
    assert response.status_code == 302
    assert "is not enabled" in text(admin_client.get(url(space)))


def test_an_admin_replaces_the_idp_secret(admin_client, space):
    admin_client.post(url(space, "idp/enable/"), {**IDP, "idp_client_secret": "old"})
    form = admin_client.get(url(space, "idp-secret/"))
    assert 'hx-history="false"' in form.content.decode()
    assert (
        admin_client.post(url(space, "idp-secret/"), {"idp_client_secret": ""}).status_code == 400
    )
    response = admin_client.post(url(space, "idp-secret/"), {"idp_client_secret": "new-one"})
    assert response.status_code == 302
    entry = AuditEntry.objects.get(operation="UpdateOperatorAppIdpConfig")
    assert entry.detail["idpClientSecret"] == "[redacted]"
    assert "Replaced the identity provider's client secret." in text(admin_client.get(url(space)))


def test_the_secret_page_sends_you_to_enable_first(admin_client, space):
    response = admin_client.get(url(space, "idp-secret/"))
    assert response.status_code == 302
    assert "Enable the external identity provider sign-in first." in text(
        admin_client.get(url(space))
    )


def test_a_throttled_enable_asks_for_the_secret_again(admin_client, space, monkeypatch):
    def busy(*args, **kwargs):
        raise errors.Throttled("AWS is throttling EnableOperatorApp requests.")

    monkeypatch.setattr(aws_config, "enable_operator_app", busy)
    response = admin_client.post(url(space, "idp/enable/"), {**IDP, "idp_client_secret": "s-77"})
    assert response.status_code == 503
    body = text(response)
    assert "Type the secret again and submit." in body
    assert 'value="0oa-client"' in body and "s-77" not in body


@pytest.mark.parametrize("tail", ["iam/enable/", "idp/enable/", "iam/disable/", "idp-secret/"])
def test_operators_and_viewers_cannot_write(operator_client, viewer_client, space, tail):
    for client in (operator_client, viewer_client):
        assert client.get(url(space, tail)).status_code == 403
        assert client.post(url(space, tail), {"role_arn": ROLE}).status_code == 403
    assert not AuditEntry.objects.exists()
