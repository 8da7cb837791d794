"""Who may do what on the configuration pages: everyone signed in reads what is not secret;
only admins write; nobody signed out gets anything but the login page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.aws import configuration as aws_config
from dashboard.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def ids(space) -> dict[str, str]:
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
        asset_type="attachment",
        content={"file": {"path": "notes.md", "body": {"text": "x"}}},
    )
    aws_config.enable_operator_app(
        sid, "iam", role_arn="arn:aws:iam::123456789012:role/DevOpsAgentOperator"
    )
    return {"space": sid, "asset": asset["assetId"]}


def reads(ids: dict[str, str]) -> list[str]:
    space = f"/spaces/{ids['space']}"
    asset = f"{space}/assets/{ids['asset']}"
    return [
        "/private-connections/",
        "/private-connections/grafana-prod/",
        "/usage/",
        f"{space}/operator-app/",
        f"{space}/assets/",
        f"{asset}/",
        f"{asset}/content.zip",
        f"{asset}/file/?path=notes.md",
        f"{asset}/file/download?path=notes.md",
    ]


def writes(ids: dict[str, str]) -> list[str]:
    space = f"/spaces/{ids['space']}"
    asset = f"{space}/assets/{ids['asset']}"
    return [
        "/private-connections/new/",
        "/private-connections/grafana-prod/certificate/",
        "/private-connections/grafana-prod/delete/",
        "/private-connections/grafana-prod/tags/",
        "/private-connections/grafana-prod/tags/remove/",
        f"{space}/operator-app/iam/enable/",
        f"{space}/operator-app/idp/enable/",
        f"{space}/operator-app/iam/disable/",
        f"{space}/operator-app/idp-secret/",
        f"{space}/assets/new/",
        f"{asset}/edit/",
        f"{asset}/delete/",
        f"{asset}/file/new/",
        f"{asset}/file/edit/?path=notes.md",
        f"{asset}/file/delete/?path=notes.md",
    ]


@pytest.mark.parametrize("who", ["viewer_client", "operator_client", "admin_client"])
def test_everyone_signed_in_reads(request, ids, who):
    client = request.getfixturevalue(who)
    for url in reads(ids):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("who", ["viewer_client", "operator_client"])
def test_only_admins_write(request, ids, who):
    client = request.getfixturevalue(who)
    for url in writes(ids):
        if not url.endswith(("/tags/", "/tags/remove/")):
            assert client.get(url).status_code == 403, url
        assert client.post(url, {"confirm_name": "grafana-prod", "key": "a"}).status_code == 403, (
            url
        )
    assert not AuditEntry.objects.exists()
    assert aws_config.describe_private_connection("grafana-prod")["status"] == "CREATE_IN_PROGRESS"
    assert aws_config.get_asset(ids["space"], ids["asset"])["version"] == 1


def test_admins_reach_every_write_page(admin_client, ids):
    idp_secret = f"/spaces/{ids['space']}/operator-app/idp-secret/"
    pages = [u for u in writes(ids) if not u.endswith(("/tags/", "/tags/remove/"))]  # POST-only
    assert idp_secret in pages
    for url in pages:
        response = admin_client.get(url)
        if url == idp_secret:
            continue  # below: a space without IdP sign-in has no secret to set
        assert response.status_code == 200, url
        assert f'action="{url}"' in response.content.decode(), url  # the form posts here
    # The IdP secret of a space that signs in through IAM has nothing to do: back to the app.
    response = admin_client.get(idp_secret, follow=True)
    assert response.redirect_chain == [(f"/spaces/{ids['space']}/operator-app/", 302)]
    assert "Enable the external identity provider sign-in first." in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_signed_out_users_are_sent_to_sign_in(anon_client, ids):
    for url in reads(ids) + writes(ids):
        response = anon_client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_navigation_offers_the_new_pages(viewer_client, ids):
    listing = viewer_client.get(reverse("private_connections:list")).content.decode()
    assert 'aria-current="page">Private connections</a>' in listing
    assert f'href="{reverse("usage:usage")}">Usage</a>' in listing
    board = viewer_client.get(f"/spaces/{ids['space']}/tasks/").content.decode()
    assert f'href="/spaces/{ids["space"]}/operator-app/">Operator App</a>' in board
    assert f'href="/spaces/{ids["space"]}/assets/">Assets</a>' in board
    assets = viewer_client.get(f"/spaces/{ids['space']}/assets/").content.decode()
    assert f'href="/spaces/{ids["space"]}/assets/" aria-current="page">Assets</a>' in assets
