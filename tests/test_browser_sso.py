"""Single sign-on end to end: Chromium signs in to the console (daphne) through a real OpenID
Connect provider (oidc-provider on node, its own process), whose groups map to roles.

Nothing is mocked: discovery, the authorization-code flow with PKCE, the token exchange, the
ID token's signature and claims, the userinfo endpoint and the groups claim all go over HTTP
between the three processes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing

import pytest
from playwright.sync_api import expect

from tests.browser_support import LiveServer, require_chromium, shot
from tests.oidc_support import OidcProvider, require_oidc_provider

pytestmark = pytest.mark.browser

ACCOUNTS = {
    "ana": {"name": "Ana Admin", "groups": ["console-admins", "staff"]},
    "olga": {"name": "Olga Ops", "groups": ["console-ops"]},
    "vic": {"name": "Vic Viewer", "groups": ["console-readers"]},
    "nina": {"name": "Nina Nobody", "groups": ["marketing"]},
}


@pytest.fixture(scope="module")
def idp(server: LiveServer) -> OidcProvider:
    return server.idp  # type: ignore[attr-defined,no-any-return]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    require_oidc_provider()
    workdir = tmp_path_factory.mktemp("sso")
    live = LiveServer(workdir)
    with OidcProvider(workdir / "idp", redirect_uri=live.url + "/accounts/sso/callback/") as idp:
        idp.set_accounts(ACCOUNTS)
        live.env.update(
            idp.console_env(
                OIDC_PROVIDER_NAME="Example ID",
                OIDC_ADMIN_GROUPS="console-admins",
                OIDC_OPERATOR_GROUPS="console-ops",
                OIDC_VIEWER_GROUPS="console-readers,console-auditors",
            )
        )
        live.idp = idp  # type: ignore[attr-defined]
        with live:
            yield live


def sso_sign_in(page, server: LiveServer, login: str, next_path: str = "") -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page.get_by_role("link", name="Sign in with Example ID").click()
    # The provider's own sign-in page (oidc-provider's development interaction).
    page.wait_for_url(server.idp.issuer + "/**")  # type: ignore[attr-defined]
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.get_by_role("button", name="Sign-in").click()


def role_badge(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator("header .who .role").inner_text()


def sqlite_rows(server: LiveServer, sql: str, *args: object) -> list[tuple]:
    with closing(sqlite3.connect(server.database, timeout=20)) as db:
        return db.execute(sql, args).fetchall()


def test_the_login_page_offers_the_provider(server, new_page):  # type: ignore[no-untyped-def]
    page = new_page(signed_in=False)
    page.goto(server.url + "/accounts/login/")
    expect(page.get_by_role("link", name="Sign in with Example ID")).to_be_visible()
    expect(page.get_by_label("Password")).to_be_visible()  # passwords stay on by default
    shot(page, "sso-login-page")


def test_groups_map_to_roles_and_users_are_created(server, new_page):  # type: ignore[no-untyped-def]
    pages = {}
    for login, role in (("ana", "admin"), ("olga", "operator"), ("vic", "viewer")):
        page = pages[login] = new_page(signed_in=False)
        sso_sign_in(page, server, login, next_path="/usage/")
        page.wait_for_url(server.url + "/usage/")  # back where they were going
        assert role_badge(page) == role
        assert page.locator("header .who").inner_text().startswith(login)
    # Admins see Users and find the new accounts there, with their groups.
    assert pages["vic"].goto(server.url + "/users/").status == 403
    page = pages["ana"]
    page.goto(server.url + "/users/")
    row = page.locator("tr", has_text="olga")
    expect(row).to_contain_text("Example ID")
    expect(row).to_contain_text("console-ops")
    shot(page, "sso-users-page")
    rows = sqlite_rows(
        server,
        "SELECT u.username, i.subject FROM auth_user u JOIN accounts_ssoidentity i "
        "ON i.user_id = u.id ORDER BY u.username",
    )
    assert rows == [("ana", "ana"), ("olga", "olga"), ("vic", "vic")]
    signed_in = sqlite_rows(
        server, "SELECT target FROM core_auditentry WHERE operation = 'SignIn' ORDER BY id"
    )
    assert [r[0] for r in signed_in][-3:] == ["ana", "olga", "vic"]


def test_a_user_in_no_mapped_group_gets_no_access(server, new_page):  # type: ignore[no-untyped-def]
    page = new_page(signed_in=False)
    sso_sign_in(page, server, "nina")
    expect(page.get_by_role("heading", name="No access to the console")).to_be_visible()
    expect(page.locator("#no-access")).to_contain_text("marketing")
    shot(page, "sso-no-access")
    # Not signed in: the console sends her to the sign-in page.
    page.goto(server.url + "/spaces/")
    assert "/accounts/login/" in page.url
    assert sqlite_rows(server, "SELECT id FROM auth_user WHERE username = 'nina'") == []
    failed = sqlite_rows(
        server,
        "SELECT target, error FROM core_auditentry WHERE operation = 'SignInFailed' "
        "AND target = 'nina'",
    )
    assert failed and "none of the groups" in failed[-1][1]


def test_the_role_follows_the_groups_at_each_sign_in(server, idp, new_page):  # type: ignore[no-untyped-def]
    earlier = new_page(signed_in=False)
    sso_sign_in(earlier, server, "olga")
    earlier.wait_for_url(server.url + "/inbox/")
    assert role_badge(earlier) == "operator"

    # Moved to the readers at the provider: a viewer from the next sign-in on.
    idp.set_accounts({**ACCOUNTS, "olga": {"groups": ["console-auditors"]}})
    page = new_page(signed_in=False)
    sso_sign_in(page, server, "olga")
    page.wait_for_url(server.url + "/inbox/")
    assert role_badge(page) == "viewer"

    # Out of every mapped group: no access, and the sessions she had are ended.
    idp.set_accounts({**ACCOUNTS, "olga": {"groups": []}})
    page = new_page(signed_in=False)
    sso_sign_in(page, server, "olga")
    expect(page.get_by_role("heading", name="No access to the console")).to_be_visible()
    earlier.goto(server.url + "/spaces/")
    assert "/accounts/login/" in earlier.url
    idp.set_accounts(ACCOUNTS)


def test_a_deactivated_user_stays_out(server, new_page):  # type: ignore[no-untyped-def]
    admin = new_page()  # the local admin, by password
    admin.goto(server.url + "/users/")
    row = admin.locator("tr", has_text="vic")
    if not row.count():  # signed in by an earlier test; sign in once to create the user
        sso_sign_in(new_page(signed_in=False), server, "vic")
        admin.reload()
    admin.locator("tr", has_text="vic").get_by_role("link", name="Deactivate").click()
    admin.get_by_role("button", name="Deactivate vic").click()
    expect(admin.locator("#alerts")).to_contain_text("vic is deactivated")

    page = new_page(signed_in=False)
    sso_sign_in(page, server, "vic")
    expect(page.get_by_role("heading", name="Account deactivated")).to_be_visible()
    admin.locator("tr", has_text="vic").get_by_role("button", name="Reactivate").click()
    page = new_page(signed_in=False)
    sso_sign_in(page, server, "vic")
    page.wait_for_url(server.url + "/inbox/")
