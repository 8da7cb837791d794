"""Every configuration write keeps what was typed whatever AWS answers: not only validation,
conflicts and throttling, but also "not found" (deleted meanwhile), "access denied" and
"not set up". The form comes back with AWS's message on top, never a bare error page."""

from __future__ import annotations

import html

import pytest

from dashboard.aws import configuration as aws_config
from dashboard.aws import errors
from tests.test_configuration_assets import make as make_asset
from tests.test_configuration_connections import MANAGED, pem
from tests.test_configuration_connections import make as make_connection
from tests.test_configuration_operator_app import IDP

pytestmark = pytest.mark.django_db

FAILURES = [errors.NotFound, errors.AccessDenied, errors.NotConfigured, errors.QuotaExceeded]


def _cases(space: dict, admin_client) -> list[tuple[str, str, dict, str]]:
    sid = space["agentSpaceId"]
    make_connection("grafana-prod")
    asset = make_asset(space)
    base = f"/spaces/{sid}/assets/{asset['assetId']}"
    admin_client.post(f"/spaces/{sid}/operator-app/idp/enable/", {**IDP, "idp_client_secret": "s"})
    return [
        (
            "create_private_connection",
            "/private-connections/new/",
            {**MANAGED, "name": "typed-conn"},
            'value="typed-conn"',
        ),
        (
            "update_private_connection_certificate",
            "/private-connections/grafana-prod/certificate/",
            {"certificate": pem(50)},
            "BEGIN CERTIFICATE",
        ),
        (
            "enable_operator_app",
            f"/spaces/{sid}/operator-app/idp/enable/",
            {**IDP, "idp_client_id": "typed-client"},
            'value="typed-client"',
        ),
        (
            "create_asset",
            f"/spaces/{sid}/assets/new/",
            {
                "asset_type": "skill",
                "metadata": '{"name": "typed-asset"}',
                "content_kind": "file",
                "file_path": "SKILL.md",
                "file_text": "typed text",
            },
            "typed-asset",
        ),
        (
            "update_asset",
            f"{base}/edit/",
            {"metadata": '{"name": "typed-asset-2"}', "seen_version": str(asset["version"])},
            "typed-asset-2",
        ),
        (
            "create_asset_file",
            f"{base}/file/new/",
            {"path": "typed-path.md", "text": "typed body"},
            "typed-path.md",
        ),
        (
            "update_asset_file",
            f"{base}/file/edit/?path=notes.md",
            {"text": "typed new body"},
            "typed new body",
        ),
    ]


@pytest.mark.parametrize("failure", FAILURES, ids=lambda c: c.__name__)
def test_a_refused_write_brings_the_form_back_with_what_was_typed(
    admin_client, space, monkeypatch, failure
):
    for function, url, data, typed in _cases(space, admin_client):

        def refuse(*args, _name=function, **kwargs):
            raise failure(f"AWS said no to {_name}", code="X", operation=_name)

        with monkeypatch.context() as patch:
            patch.setattr(aws_config, function, refuse)
            response = admin_client.post(url, data)
        page = html.unescape(response.content.decode())
        assert response.status_code == failure.status, (function, response.status_code)
        assert f"AWS said no to {function}" in page, function
        assert typed in page, (function, "the typed input is gone")
        assert "<form" in page and 'name="csrfmiddlewaretoken"' in page, function
