"""Limited guessing across processes: failures counted by one daphne lock the user out on
another (the counts are in the shared database), and an admin signed in on the second
unlocks them from the Users page, after which the first lets them in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser_support import LiveServer, require_chromium, shot

pytestmark = pytest.mark.browser

LIMIT = 3


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    live = LiveServer(
        tmp_path_factory.mktemp("lockout"),
        extra_env={
            "SIGN_IN_FAILURE_LIMIT": str(LIMIT),
            "SIGN_IN_COOLOFF_MINUTES": "30",
            # Behind a proxy, as in production: each browser below comes from its own address
            # (the proxy's X-Forwarded-For hop), so locking the guesser's address locks no one
            # else's.
            "DASHBOARD_BEHIND_PROXY": "1",
        },
    )
    with live:
        live.shell(
            "from django.contrib.auth.models import Group, User\n"
            "u = User.objects.create_user('lou', password='lou-right-password-7')\n"
            "u.groups.add(Group.objects.get_or_create(name='operator')[0])\n"
        )
        yield live


@pytest.fixture(scope="module")
def second(server: LiveServer) -> Iterator[LiveServer]:
    other = server.another_process()
    other.serve()
    try:
        yield other
    finally:
        other.stop()


def from_address(page, address: str):  # type: ignore[no-untyped-def]
    page.context.set_extra_http_headers({"X-Forwarded-For": address})
    return page


def attempt(page, server: LiveServer, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/accounts/login/")
    page.get_by_label("Username").fill("lou")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_lockout_and_unlock_across_two_processes(server, second, new_page):  # type: ignore[no-untyped-def]
    assert server.port != second.port
    guesser = from_address(new_page(signed_in=False), "10.0.0.66")
    for n in range(LIMIT - 1):
        attempt(guesser, server, f"guess-{n}")
        expect(guesser.get_by_role("alert")).to_contain_text("enter a correct username")
    attempt(guesser, server, "guess-last")
    expect(guesser.locator("#sign-in-locked")).to_contain_text("Too many failed sign-ins")

    # The other process refuses the right password too, and says why and for how long.
    lou = from_address(new_page(signed_in=False), "10.0.0.7")
    attempt(lou, second, "lou-right-password-7")
    locked = lou.locator("#sign-in-locked")
    expect(locked).to_contain_text("refused for 30 minutes")
    expect(lou.get_by_label("Username")).to_have_value("lou")  # what was typed stays
    assert "/accounts/login/" in lou.url
    shot(lou, "lockout-message")

    # An admin on the second process sees the lock and lifts it.
    admin = from_address(new_page(signed_in=False), "10.0.0.1")
    admin.goto(second.url + "/accounts/login/")
    admin.get_by_label("Username").fill(second.username)
    admin.get_by_label("Password").fill(second.password)
    admin.get_by_role("button", name="Sign in").click()
    admin.goto(second.url + "/users/")
    row = admin.locator("tr", has_text="lou")
    expect(row).to_contain_text("Locked out, ends in")
    shot(admin, "users-locked")
    row.get_by_role("button", name="Unlock").click()
    expect(admin.locator("#alerts")).to_contain_text("Unlocked lou")
    expect(admin.locator("tr", has_text="lou")).not_to_contain_text("Locked out")
    # The guesser's failures were all lou's: unlocking lou cleared its address's count too.
    expect(admin.locator("#lockouts")).to_have_count(0)

    # The first process lets lou in now.
    attempt(lou, server, "lou-right-password-7")
    lou.wait_for_url(server.url + "/inbox/")
    expect(lou.locator("header .who")).to_contain_text("lou")

    # The audit log, read on either process, has the story.
    admin.goto(second.url + "/audit/?user=lou")
    for operation in ("SignInFailed", "LockedOut", "SignIn"):
        expect(admin.locator("#audit-entries")).to_contain_text(operation)
    admin.goto(second.url + "/audit/?operation=UnlockSignIn")
    expect(admin.locator("#audit-entries")).to_contain_text("lou")
