"""Who may do what: anonymous users sign in first, viewers and operators read, admins write."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User

from dashboard.aws import spaces as aws_spaces
from dashboard.core import roles

HX = {"HX-Request": "true"}
SID = "{sid}"

READ_PAGES = ["/spaces/", f"/spaces/{SID}/", "/setup/"]
# (method, path, data): every write, as a GET (the form) and as a POST.
WRITES = [
    ("get", "/spaces/new/", None),
    ("post", "/spaces/new/", {"name": "Intruder"}),
    ("get", f"/spaces/{SID}/edit/", None),
    ("post", f"/spaces/{SID}/edit/", {"name": "Intruder", "overwrite": "1"}),
    ("get", f"/spaces/{SID}/delete/", None),
    ("post", f"/spaces/{SID}/delete/", {"confirm_name": "Payments"}),
    ("post", f"/spaces/{SID}/tags/", {"key": "intruder", "value": "1"}),
    ("post", f"/spaces/{SID}/tags/remove/", {"key": "team"}),
]
WRITE_IDS = [f"{m}-{p.replace(SID, 'id')}" for m, p, _ in WRITES]


def _request(client, method, path, data, space, headers=None):
    url = path.replace(SID, space["agentSpaceId"])
    return getattr(client, method)(url, data or {}, headers=headers or {}), url


def _unchanged(space: dict) -> None:
    now, tags = aws_spaces.describe_space(space["agentSpaceId"])
    assert now["name"] == "Payments"
    assert tags == {"team": "pay"}
    assert len(aws_spaces.list_spaces()["agentSpaces"]) == 1


# --- anonymous -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [("get", p, None) for p in [*READ_PAGES, "/audit/", "/"]] + WRITES,
)
def test_it_redirects_anonymous_users_to_sign_in(anon_client, space, method, path, data):
    response, url = _request(anon_client, method, path, data, space)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={quote(url)}"
    _unchanged(space)


def test_it_sends_anonymous_htmx_requests_to_sign_in_as_a_whole_page(anon_client, space):
    response = anon_client.get(
        "/spaces/?fragment=rows", headers={**HX, "HX-Current-URL": "http://testserver/spaces/"}
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=/spaces/"
    assert response.content == b""


def test_the_login_page_and_healthz_need_no_sign_in(anon_client):
    assert anon_client.get("/accounts/login/").status_code == 200
    assert anon_client.get("/healthz").status_code == 200


# --- viewer and operator --------------------------------------------------------------------


@pytest.mark.parametrize("client_name", ["viewer_client", "operator_client"])
@pytest.mark.parametrize(("method", "path", "data"), WRITES, ids=WRITE_IDS)
def test_it_returns_403_for_viewer_and_operator_writes(
    request, client_name, space, method, path, data
):
    client = request.getfixturevalue(client_name)
    response, _ = _request(client, method, path, data, space)
    assert response.status_code == 403
    body = response.content.decode()
    assert "You can't do that here" in body
    assert "This needs the admin role." in body
    _unchanged(space)


@pytest.mark.parametrize("client_name", ["viewer_client", "operator_client"])
@pytest.mark.parametrize(("method", "path", "data"), WRITES, ids=WRITE_IDS)
def test_it_returns_a_403_alert_for_htmx_writes_below_admin(
    request, client_name, space, method, path, data
):
    client = request.getfixturevalue(client_name)
    response, _ = _request(client, method, path, data, space, headers=HX)
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#alerts"
    assert "<html" not in response.content.decode()
    _unchanged(space)


@pytest.mark.parametrize("client_name", ["viewer_client", "operator_client"])
def test_it_returns_403_for_the_audit_log_below_admin(request, client_name):
    client = request.getfixturevalue(client_name)
    assert client.get("/audit/").status_code == 403
    assert client.get("/audit/", headers=HX).status_code == 403


@pytest.mark.parametrize("client_name", ["viewer_client", "operator_client", "admin_client"])
@pytest.mark.parametrize("path", READ_PAGES)
def test_every_role_can_read(request, client_name, space, path):
    client = request.getfixturevalue(client_name)
    assert client.get(path.replace(SID, space["agentSpaceId"])).status_code == 200


# --- admin ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [p for m, p, _ in WRITES if m == "get"])
def test_it_shows_an_admin_every_write_form(admin_client, space, path):
    response, url = _request(admin_client, "get", path, None, space)
    assert response.status_code == 200
    assert f'action="{url}"' in response.content.decode()
    _unchanged(space)


def test_it_lets_an_admin_create_a_space(admin_client, space):
    response = admin_client.post("/spaces/new/", {"name": "Second"})
    created = next(s for s in aws_spaces.list_spaces()["agentSpaces"] if s["name"] == "Second")
    assert response.status_code == 302
    assert response["Location"] == f"/spaces/{created['agentSpaceId']}/"


def test_it_lets_an_admin_edit_a_space(admin_client, space):
    url = f"/spaces/{space['agentSpaceId']}/edit/"
    form = admin_client.get(url).context["form"]
    data = {**{k: v for k, v in form.initial.items() if v is not None}, "name": "Renamed"}
    response = admin_client.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == f"/spaces/{space['agentSpaceId']}/"
    assert aws_spaces.get_space(space["agentSpaceId"])["name"] == "Renamed"


def test_it_lets_an_admin_delete_a_space(admin_client, space):
    response = admin_client.post(
        f"/spaces/{space['agentSpaceId']}/delete/", {"confirm_name": "Payments"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/spaces/"
    assert aws_spaces.list_spaces()["agentSpaces"] == []


def test_it_lets_an_admin_add_and_remove_tags(admin_client, space):
    base = f"/spaces/{space['agentSpaceId']}/"
    added = admin_client.post(f"{base}tags/", {"key": "owner", "value": "sre"})
    assert added.status_code == 302 and added["Location"] == f"{base}#tags"
    assert aws_spaces.describe_space(space["agentSpaceId"])[1] == {"team": "pay", "owner": "sre"}
    removed = admin_client.post(f"{base}tags/remove/", {"key": "team"})
    assert removed.status_code == 302 and removed["Location"] == f"{base}#tags"
    assert aws_spaces.describe_space(space["agentSpaceId"])[1] == {"owner": "sre"}


def test_it_lets_an_admin_read_the_audit_log(admin_client):
    assert admin_client.get("/audit/").status_code == 200


def test_a_superuser_in_no_group_is_an_admin(client, db, space):
    user = User.objects.create_superuser("root", password="pw")
    client.force_login(user)
    assert client.get("/spaces/new/").status_code == 200
    response = client.post("/spaces/new/", {"name": "Root's space"})
    assert response.status_code == 302
    names = {s["name"] for s in aws_spaces.list_spaces()["agentSpaces"]}
    assert names == {"Payments", "Root's space"}


def test_a_signed_in_user_in_no_group_is_a_viewer(client, db, space):
    user = User.objects.create_user("nobody", password="pw")
    client.force_login(user)
    assert client.get("/spaces/").status_code == 200
    assert client.get("/spaces/new/").status_code == 403


# --- the role functions ------------------------------------------------------------------------


def test_role_of_takes_the_highest_group(db):
    user = User.objects.create_user("both")
    user.groups.add(
        Group.objects.get_or_create(name="viewer")[0],
        Group.objects.get_or_create(name="operator")[0],
    )
    assert roles.role_of(user) == roles.OPERATOR
    assert roles.has_role(user, roles.VIEWER)
    assert roles.has_role(user, roles.OPERATOR)
    assert not roles.has_role(user, roles.ADMIN)


def test_anonymous_users_have_no_role():
    assert roles.role_of(AnonymousUser()) is None
    assert not roles.has_role(AnonymousUser(), roles.VIEWER)
