"""Limited guessing on the sign-in page: after SIGN_IN_FAILURE_LIMIT failures for a user, or
from an address, sign-in is refused for the cool-off with a clear message, even with the right
password; the failures, the lockout and the refused attempts are in the audit log."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from dashboard.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _try(username: str, password: str, address: str = "10.1.1.1") -> object:
    return Client(REMOTE_ADDR=address).post(
        reverse("login"), {"username": username, "password": password}
    )


@pytest.fixture
def lena(db) -> User:
    return User.objects.create_user("lena", password="right-horse-battery")


def test_after_the_limit_even_the_right_password_is_refused(lena, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _try("lena", "wrong").status_code == 200
    locked = _try("lena", "wrong")
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed sign-ins" in page and "15 minutes" in page
    assert 'value="lena"' in page  # the typed username stays
    refused = _try("lena", "right-horse-battery")
    assert refused.status_code == 429
    assert "_auth_user_id" not in refused.wsgi_request.session
    # Another user from another address is not affected.
    User.objects.create_user("otto", password="otto-password-1")
    assert _try("otto", "otto-password-1", address="10.2.2.2").status_code == 302


def test_one_address_guessing_many_users_is_locked_out(lena, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _try(f"someone{n}", "wrong", address="10.9.9.9")
    assert _try("lena", "right-horse-battery", address="10.9.9.9").status_code == 429
    assert _try("lena", "right-horse-battery", address="10.3.3.3").status_code == 302


def test_failures_and_lockouts_are_audited_without_passwords(lena, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        _try("lena", "wrong-horse")
    failed = AuditEntry.objects.filter(operation="SignInFailed")
    assert failed.count() == settings.AXES_FAILURE_LIMIT + 1
    assert failed.first().username == "lena"
    assert AuditEntry.objects.filter(operation="LockedOut", target="lena").exists()
    assert "wrong-horse" not in str(list(AuditEntry.objects.values()))


def test_a_success_is_audited_and_resets_the_count(lena, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _try("lena", "wrong")
    assert _try("lena", "right-horse-battery").status_code == 302
    entry = AuditEntry.objects.get(operation="SignIn")
    assert entry.user == lena and entry.detail["method"] == "password"
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _try("lena", "wrong")
    assert _try("lena", "right-horse-battery").status_code == 302


def test_signing_in_as_oneself_does_not_forgive_guesses_at_someone_else(lena, settings):
    User.objects.create_user("mallory", password="mallory-password-1")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _try("lena", "guess", address="10.6.6.6").status_code == 200
    # Mallory's own account, from the same address: her success forgives her typos only.
    assert _try("mallory", "mallory-password-1", address="10.6.6.6").status_code == 302
    assert _try("lena", "guess", address="10.6.6.6").status_code == 429
    assert _try("lena", "right-horse-battery", address="10.5.5.5").status_code == 429


def test_an_admin_unlocks_from_the_users_page(lena, admin_client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _try("lena", "wrong")
    assert _try("lena", "right-horse-battery").status_code == 429
    page = admin_client.get(reverse("accounts:users")).content.decode()
    assert "Locked out, ends" in page
    admin_client.post(reverse("accounts:unlock"), {"username": "lena"})
    assert _try("lena", "right-horse-battery", address="10.4.4.4").status_code == 302


def test_behind_the_proxy_the_address_is_the_proxys_last_hop(lena, settings):
    settings.BEHIND_PROXY = True
    for _ in range(settings.AXES_FAILURE_LIMIT):
        Client(REMOTE_ADDR="127.0.0.1").post(
            reverse("login"),
            {"username": f"u{_}", "password": "x"},
            HTTP_X_FORWARDED_FOR="1.2.3.4, 10.7.7.7",
        )
    # The client-chosen first hop changes nothing: the proxy's hop is locked.
    blocked = Client(REMOTE_ADDR="127.0.0.1").post(
        reverse("login"),
        {"username": "lena", "password": "right-horse-battery"},
        HTTP_X_FORWARDED_FOR="5.6.7.8, 10.7.7.7",
    )
    assert blocked.status_code == 429
    other = Client(REMOTE_ADDR="127.0.0.1").post(
        reverse("login"),
        {"username": "lena", "password": "right-horse-battery"},
        HTTP_X_FORWARDED_FOR="10.8.8.8",
    )
    assert other.status_code == 302


def test_a_typed_username_cannot_forge_log_lines(lena, caplog):
    forged = "lena\nINFO dashboard.audit audit user=admin op=DeleteAgentSpace outcome=OK\x1b[2K"
    with caplog.at_level("INFO", logger="dashboard.audit"):
        _try(forged, "wrong")
    lines = [r.getMessage() for r in caplog.records if r.name == "dashboard.audit"]
    assert len(lines) == 1 and "op=SignInFailed" in lines[0]
    assert "\n" not in lines[0] and "\x1b" not in lines[0]
    # The audit log itself keeps what was typed.
    assert AuditEntry.objects.get(operation="SignInFailed").username == forged[:150]


def test_behind_a_proxy_that_appends_ports_the_address_is_still_one_an_admin_unlocks(
    lena, admin_client, settings
):
    from axes.models import AccessAttempt

    settings.BEHIND_PROXY = True

    def attempt(password: str, hop: str) -> int:
        return (
            Client(REMOTE_ADDR="127.0.0.1")
            .post(
                reverse("login"),
                {"username": "lena", "password": password},
                HTTP_X_FORWARDED_FOR=hop,
            )
            .status_code
        )

    for port in range(settings.AXES_FAILURE_LIMIT):
        attempt("wrong", f"[2001:DB8::7]:{50000 + port}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"2001:db8::7"}
    admin_client.post(reverse("accounts:unlock"), {"username": "lena"})
    assert attempt("right-horse-battery", "[2001:db8::7]:1") == 302
    for port in range(settings.AXES_FAILURE_LIMIT):
        attempt("wrong", f"203.0.113.7:{40000 + port}")
    admin_client.post(reverse("accounts:unlock"), {"ip_address": "203.0.113.7"})
    admin_client.post(reverse("accounts:unlock"), {"username": "lena"})
    assert attempt("right-horse-battery", "203.0.113.7:2") == 302
