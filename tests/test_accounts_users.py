"""The Users page: list, add (generated password or single sign-on only), change a role,
deactivate, reactivate, sign out everywhere, unlock; the role matrix for every URL; the audit
log; and the last admin who cannot lock the console out."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group, User
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.urls import reverse

from dashboard.core import roles
from dashboard.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _urls(user_id: int) -> list[tuple[str, str, dict]]:
    """Every URL of the Users page: (method, url, data)."""
    return [
        ("get", reverse("accounts:users"), {}),
        ("get", reverse("accounts:create"), {}),
        (
            "post",
            reverse("accounts:create"),
            {"username": "newbie", "role": "viewer", "sign_in": "password"},
        ),
        ("post", reverse("accounts:role", args=[user_id]), {"role": "operator"}),
        ("get", reverse("accounts:deactivate", args=[user_id]), {}),
        ("post", reverse("accounts:deactivate", args=[user_id]), {}),
        ("post", reverse("accounts:reactivate", args=[user_id]), {}),
        ("get", reverse("accounts:sign-out", args=[user_id]), {}),
        ("post", reverse("accounts:sign-out", args=[user_id]), {}),
        ("post", reverse("accounts:unlock"), {"username": "someone"}),
    ]


def _signs_in(username: str, password: str) -> bool:
    """Through the sign-in page, as a browser would (axes needs the request)."""
    response = Client().post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302


@pytest.fixture
def target(db) -> User:
    user = User.objects.create_user("tina-target", password="pw-tina")
    user.groups.add(Group.objects.get_or_create(name="viewer")[0])
    return user


@pytest.mark.parametrize("who", ["viewer", "operator"])
def test_it_returns_403_for_roles_below_admin(who, request, target):
    client = request.getfixturevalue(f"{who}_client")
    for method, url, data in _urls(target.pk):
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (method, url)
    target.refresh_from_db()
    assert target.is_active
    assert roles.role_of(target) == roles.VIEWER
    assert not User.objects.filter(username="newbie").exists()
    assert not AuditEntry.objects.exclude(operation__in=["SignIn"]).exists()


def test_it_sends_anonymous_visitors_to_sign_in(anon_client, target):
    for method, url, data in _urls(target.pk):
        response = getattr(anon_client, method)(url, data)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("login"))
    assert not User.objects.filter(username="newbie").exists()


def test_admin_reaches_every_url(admin_client, target):
    for method, url, data in _urls(target.pk):
        response = getattr(admin_client, method)(url, data)
        assert response.status_code in (200, 302), (method, url, response.status_code)


def test_the_list_shows_users_roles_and_how_they_sign_in(admin_client, target):
    page = admin_client.get(reverse("accounts:users")).content.decode()
    assert "tina-target" in page and "alice-admin" in page
    assert 'value="viewer" selected' in page
    assert "Users" in admin_client.get(reverse("spaces:list")).content.decode()


def test_the_top_bar_link_is_for_admins_only(viewer_client, admin_client):
    def top_bar(client: Client) -> str:
        return client.get(reverse("home"), follow=True).content.decode().split("</header>")[0]

    assert reverse("accounts:users") not in top_bar(viewer_client)
    assert reverse("accounts:users") in top_bar(admin_client)


def test_create_with_a_generated_password_shows_it_once(admin_client):
    response = admin_client.post(
        reverse("accounts:create"),
        {"username": "paula", "email": "p@example.test", "role": "operator", "sign_in": "password"},
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    password = response.context["password"]
    assert len(password) >= 12 and password in response.content.decode()
    user = User.objects.get(username="paula")
    assert roles.role_of(user) == roles.OPERATOR
    assert _signs_in("paula", password)
    entry = AuditEntry.objects.get(operation="CreateUser")
    assert entry.target == "paula" and entry.username == "alice-admin"
    assert password not in str(entry.detail)
    # The list never shows it again.
    assert password not in admin_client.get(reverse("accounts:users")).content.decode()


@override_settings(
    OIDC_ISSUER="http://idp.invalid",
    OIDC_CLIENT_ID="console",
    OIDC_CLIENT_SECRET="x",
    OIDC_PROVIDER_NAME="Acme SSO",
)
def test_create_sso_only_has_no_password(admin_client):
    response = admin_client.post(
        reverse("accounts:create"), {"username": "sam", "role": "viewer", "sign_in": "sso"}
    )
    assert response.status_code == 200
    assert "Acme SSO" in response.content.decode()
    user = User.objects.get(username="sam")
    assert not user.has_usable_password()


def test_sso_only_is_not_offered_without_single_sign_on(admin_client):
    response = admin_client.post(
        reverse("accounts:create"), {"username": "sam", "role": "viewer", "sign_in": "sso"}
    )
    assert response.status_code == 400
    assert not User.objects.filter(username="sam").exists()
    # What was typed stays in the form.
    assert 'value="sam"' in response.content.decode()


def test_create_refuses_a_taken_name_and_keeps_the_input(admin_client, target):
    response = admin_client.post(
        reverse("accounts:create"),
        {
            "username": "TINA-target",
            "email": "t@example.test",
            "role": "admin",
            "sign_in": "password",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "exists already" in page and 'value="t@example.test"' in page


def test_change_role_is_audited(admin_client, target):
    response = admin_client.post(reverse("accounts:role", args=[target.pk]), {"role": "operator"})
    assert response.status_code == 302
    target = User.objects.get(pk=target.pk)
    assert roles.role_of(target) == roles.OPERATOR
    assert set(target.groups.values_list("name", flat=True)) == {"operator"}
    entry = AuditEntry.objects.get(operation="ChangeRole")
    assert entry.detail == {"from": "viewer", "to": "operator"}


def test_the_last_admin_cannot_demote_or_deactivate_themselves(admin_client, admin_user):
    response = admin_client.post(reverse("accounts:role", args=[admin_user.pk]), {"role": "viewer"})
    assert response.status_code == 302
    assert roles.role_of(User.objects.get(pk=admin_user.pk)) == roles.ADMIN
    response = admin_client.post(reverse("accounts:deactivate", args=[admin_user.pk]))
    assert response.status_code == 409
    assert "last active admin" in response.content.decode()
    assert User.objects.get(pk=admin_user.pk).is_active
    assert AuditEntry.objects.filter(outcome=AuditEntry.FAILED).count() == 2
    page = admin_client.get(reverse("accounts:deactivate", args=[admin_user.pk])).content.decode()
    assert "last active admin" in page
    assert "Deactivate alice-admin</button>" not in page


def test_with_a_second_admin_the_first_may_step_down(admin_client, admin_user):
    other = User.objects.create_user("ada", password="pw")
    other.groups.add(Group.objects.get(name="admin"))
    admin_client.post(reverse("accounts:role", args=[admin_user.pk]), {"role": "operator"})
    assert roles.role_of(User.objects.get(pk=admin_user.pk)) == roles.OPERATOR


def test_deactivate_asks_first_then_signs_the_user_out(admin_client, target):
    other = Client()
    other.force_login(target)
    assert other.get(reverse("spaces:list")).status_code == 200
    page = admin_client.get(reverse("accounts:deactivate", args=[target.pk]))
    assert page.status_code == 200 and "Deactivate tina-target" in page.content.decode()
    assert User.objects.get(pk=target.pk).is_active  # asking changes nothing
    response = admin_client.post(reverse("accounts:deactivate", args=[target.pk]))
    assert response.status_code == 302
    assert not User.objects.get(pk=target.pk).is_active
    assert other.get(reverse("spaces:list")).status_code == 302
    assert not _signs_in("tina-target", "pw-tina")
    assert AuditEntry.objects.filter(operation="DeactivateUser", outcome="ok").exists()
    admin_client.post(reverse("accounts:reactivate", args=[target.pk]))
    assert _signs_in("tina-target", "pw-tina")
    assert AuditEntry.objects.filter(operation="ReactivateUser").exists()


def test_sign_out_everywhere_ends_every_session(admin_client, target):
    browsers = [Client(), Client()]
    for browser in browsers:
        browser.force_login(target)
    page = admin_client.get(reverse("accounts:sign-out", args=[target.pk])).content.decode()
    assert "Ends 2 open sessions" in page
    response = admin_client.post(reverse("accounts:sign-out", args=[target.pk]))
    assert response.status_code == 302
    for browser in browsers:
        assert browser.get(reverse("spaces:list")).status_code == 302
    # The admin's own session is untouched.
    assert admin_client.get(reverse("spaces:list")).status_code == 200
    assert Session.objects.count() == 1
    assert AuditEntry.objects.get(operation="SignOutEverywhere").detail == {"sessions": 2}


def test_unlock_clears_the_failures_and_is_audited(admin_client, target):
    AccessAttempt.objects.create(
        username="tina-target",
        ip_address="10.0.0.9",
        user_agent="x",
        http_accept="x",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=50,
    )
    page = admin_client.get(reverse("accounts:users")).content.decode()
    assert re.search(r"Locked out, ends <time [^>]*>in \d+ minutes?</time>", page)
    assert "10.0.0.9" in page
    admin_client.post(reverse("accounts:unlock"), {"username": "tina-target"})
    assert not AccessAttempt.objects.filter(username="tina-target").exists()
    entry = AuditEntry.objects.get(operation="UnlockSignIn")
    assert entry.target == "tina-target"


def test_unlock_without_a_target_says_so(admin_client):
    response = admin_client.post(reverse("accounts:unlock"), {}, follow=True)
    assert "Say which user or address" in response.content.decode()
