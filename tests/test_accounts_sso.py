"""Single sign-on's decisions, without a browser: who the claims are, which role the groups
give, invited users, name clashes, and what the pages say when the provider fails. (The whole
flow against a real provider is tests/test_browser_sso.py.)"""

from __future__ import annotations

from unittest import mock

import pytest
import requests
from django.contrib.auth.models import Group, User
from django.test import Client, override_settings
from django.urls import reverse

from dashboard.accounts import oidc
from dashboard.accounts.models import SsoIdentity
from dashboard.core import roles
from dashboard.core.models import AuditEntry

pytestmark = pytest.mark.django_db

SSO = override_settings(
    OIDC_ISSUER="https://idp.example.test",
    OIDC_DISCOVERY_URL="https://idp.example.test/.well-known/openid-configuration",
    OIDC_CLIENT_ID="console",
    OIDC_CLIENT_SECRET="s3cret",
    OIDC_PROVIDER_NAME="Example ID",
    OIDC_GROUPS_CLAIM="groups",
    OIDC_ROLE_GROUPS={"viewer": ["readers"], "operator": ["ops"], "admin": ["admins"]},
)


def claims(sub: str = "u-1", **extra: object) -> dict:
    return {"sub": sub, "preferred_username": "pat", "email": "pat@example.test", **extra}


@SSO
def test_the_highest_mapped_group_wins():
    assert oidc.role_for(["readers", "ops"]) == roles.OPERATOR
    assert oidc.role_for(["admins", "readers"]) == roles.ADMIN
    assert oidc.role_for(["marketing"]) is None
    assert oidc.role_for([]) is None


@SSO
@pytest.mark.parametrize(
    ("value", "expected"),
    [(["a", "b"], ["a", "b"]), ("a b", ["a", "b"]), ("a,b", ["a", "b"]), (None, []), (3, [])],
)
def test_the_groups_claim_in_any_shape(value, expected):
    assert oidc.groups_of({"groups": value}) == expected


@SSO
def test_first_sign_in_creates_the_user_with_the_role():
    result = oidc.user_for(claims(groups=["ops"]))
    assert result.created and result.role == roles.OPERATOR
    user = User.objects.get(username="pat")
    assert not user.has_usable_password() and user.email == "pat@example.test"
    assert roles.role_of(user) == roles.OPERATOR
    assert SsoIdentity.objects.get(user=user).subject == "u-1"


@SSO
def test_the_user_is_found_by_subject_not_by_name():
    oidc.user_for(claims(groups=["ops"]))
    renamed = oidc.user_for(claims(preferred_username="patricia", groups=["admins"]))
    assert renamed.user.username == "pat" and not renamed.created
    assert roles.role_of(User.objects.get(username="pat")) == roles.ADMIN


@SSO
def test_a_local_user_of_the_same_name_is_never_taken_over():
    local = User.objects.create_user("pat", password="local-password")
    result = oidc.user_for(claims(groups=["readers"]))
    assert result.user != local and result.user.username == "pat-sso2"
    assert not hasattr(User.objects.get(pk=local.pk), "sso_identity")


@SSO
def test_an_invited_sso_only_user_is_linked_at_first_sign_in():
    invited = User.objects.create(username="pat")
    invited.set_unusable_password()
    invited.save()
    invited.groups.add(Group.objects.get_or_create(name="viewer")[0])
    result = oidc.user_for(claims(groups=["ops"]))
    assert result.user.pk == invited.pk
    assert roles.role_of(User.objects.get(pk=invited.pk)) == roles.OPERATOR


@SSO
def test_a_superuser_without_a_password_is_never_linked_by_name():
    # What `createsuperuser --noinput` leaves: no usable password. A provider's user who
    # calls themselves "root" (in any mapped group) gets an account of their own.
    root = User.objects.create_superuser("root", email="", password=None)
    assert not root.has_usable_password()
    result = oidc.user_for(claims(preferred_username="root", groups=["readers"]))
    assert result.user.pk != root.pk and not result.user.is_superuser
    assert roles.role_of(result.user) == roles.VIEWER
    assert not hasattr(User.objects.get(pk=root.pk), "sso_identity")


@SSO
def test_no_mapped_group_creates_nobody_and_strips_a_linked_user():
    assert oidc.user_for(claims(groups=["marketing"])).user is None
    assert not User.objects.filter(username="pat").exists()
    oidc.user_for(claims(groups=["ops"]))
    result = oidc.user_for(claims(groups=["marketing"]))
    assert result.user is None
    assert not User.objects.get(username="pat").groups.exists()


@SSO
def test_the_discovery_document_must_be_the_issuers(anon_client):
    client = mock.Mock()
    client.load_server_metadata.return_value = {"issuer": "https://evil.example"}
    with mock.patch.object(oidc, "client", return_value=client):
        response = anon_client.get(reverse("accounts:sso-login"))
    assert response.status_code == 502
    assert "evil.example" in response.content.decode()
    client.authorize_redirect.assert_not_called()


@SSO
def test_a_provider_that_does_not_answer_is_a_clear_page(anon_client):
    client = mock.Mock()
    client.load_server_metadata.side_effect = requests.ConnectionError("connection refused")
    with mock.patch.object(oidc, "client", return_value=client):
        response = anon_client.get(reverse("accounts:sso-login"))
    assert response.status_code == 502
    page = response.content.decode()
    assert "Example ID did not answer" in page and "connection refused" in page


@SSO
def test_a_refused_or_forged_callback_is_a_clear_page_and_audited(anon_client):
    from authlib.integrations.base_client import OAuthError

    client = mock.Mock()
    client.authorize_access_token.side_effect = OAuthError(error="mismatching_state")
    with mock.patch.object(oidc, "client", return_value=client):
        response = anon_client.get(reverse("accounts:sso-callback") + "?code=x&state=y")
    assert response.status_code == 400
    assert "did not confirm the sign-in" in response.content.decode()
    assert AuditEntry.objects.filter(operation="SignInFailed", outcome="failed").exists()
    assert "_auth_user_id" not in anon_client.session


@SSO
def test_users_and_roles_the_groups_make_are_in_the_audit_log():
    client = mock.Mock()
    client.load_server_metadata.return_value = {"issuer": "https://idp.example.test"}

    def sign_in(groups: list[str]) -> int:
        client.authorize_access_token.return_value = {"userinfo": claims(groups=groups)}
        with mock.patch.object(oidc, "client", return_value=client):
            browser = Client()
            return browser.get(reverse("accounts:sso-callback") + "?code=x&state=y").status_code

    def changes() -> list[tuple[str, dict]]:
        entries = AuditEntry.objects.filter(operation__in=["CreateUser", "ChangeRole"])
        return [(e.operation, e.detail) for e in entries.order_by("id")]

    assert sign_in(["ops"]) == 302
    assert sign_in(["ops"]) == 302  # the same role again: nothing changed
    assert sign_in(["admins", "ops"]) == 302
    assert sign_in(["marketing"]) == 403
    found = changes()
    assert [(op, d.get("role"), d.get("from"), d.get("to")) for op, d in found] == [
        ("CreateUser", "operator", None, None),
        ("ChangeRole", None, "operator", "admin"),
        ("ChangeRole", None, "admin", None),
    ]
    assert found[1][1]["groups"] == ["admins", "ops"] and "Example ID" in found[1][1]["by"]
    assert {e.target for e in AuditEntry.objects.filter(operation="ChangeRole")} == {"pat"}


def test_without_single_sign_on_its_urls_say_so(anon_client):
    assert anon_client.get(reverse("accounts:sso-login")).status_code == 404
    assert anon_client.get(reverse("accounts:sso-callback")).status_code == 404
    assert "Sign in with" not in anon_client.get(reverse("login")).content.decode()


@SSO
@override_settings(PASSWORD_SIGN_IN=False)
def test_passwords_can_be_switched_off(anon_client):
    User.objects.create_user("lee", password="lee-password-1")
    page = anon_client.get(reverse("login")).content.decode()
    assert "Sign in with Example ID" in page and 'type="password"' not in page
    response = anon_client.post(reverse("login"), {"username": "lee", "password": "lee-password-1"})
    assert response.status_code == 403
    assert "Passwords are switched off" in response.content.decode()
    assert "_auth_user_id" not in anon_client.session


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OIDC_ISSUER": "https://idp"}, "OIDC_CLIENT_ID"),
        (
            {"OIDC_ISSUER": "https://idp", "OIDC_CLIENT_ID": "c", "OIDC_CLIENT_SECRET": "s"},
            "OIDC_VIEWER_GROUPS",
        ),
        (
            {
                "OIDC_ISSUER": "https://idp",
                "OIDC_CLIENT_ID": "c",
                "OIDC_CLIENT_SECRET": "s",
                "OIDC_ADMIN_GROUPS": "a",
                "OIDC_SCOPES": "email",
            },
            "openid",
        ),
        ({"PASSWORD_SIGN_IN": "0"}, "no way to sign in"),
        ({"SIGN_IN_FAILURE_LIMIT": "many"}, "SIGN_IN_FAILURE_LIMIT"),
    ],
)
def test_incomplete_configuration_fails_loudly(env, message, tmp_path):
    from tests.test_settings import _production, _run

    result = _run(["-c", "import dashboard.settings"], _production(tmp_path, **env))
    assert result.returncode != 0
    assert message in result.stderr


def test_check_deploy_is_clean_with_single_sign_on_and_passwords_off(tmp_path):
    from tests.test_settings import _production, _run

    env = _production(
        tmp_path,
        OIDC_ISSUER="https://idp.example.com",
        OIDC_CLIENT_ID="console",
        OIDC_CLIENT_SECRET="s3cret",
        OIDC_ADMIN_GROUPS="console-admins",
        PASSWORD_SIGN_IN="0",
    )
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
