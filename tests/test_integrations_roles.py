"""Who may do what: viewers and operators read services and associations (never a secret);
only admins register, associate, change, validate, tag or remove."""

from __future__ import annotations

import pytest

from dashboard.aws import integrations as aws
from dashboard.sandbox.models import RegisteredService, ServiceAssociation


@pytest.fixture
def world(space):
    service_id = aws.register_service(
        "mcpserver",
        {
            "name": "tools",
            "endpoint": "https://mcp.example.com/mcp",
            "authorizationConfig": {"bearerToken": {"tokenName": "t", "tokenValue": "tok-1"}},
        },
    )["serviceId"]
    made = aws.associate(space["agentSpaceId"], service_id, {"mcpserver": {"tools": ["x"]}})
    return {
        "space": space["agentSpaceId"],
        "service": service_id,
        "association": made["association"]["associationId"],
    }


def _reads(w):
    s, a, sv = w["space"], w["association"], w["service"]
    return [
        "/services/",
        f"/services/{sv}/",
        f"/services/{sv}/used-by/",
        f"/spaces/{s}/associations/",
        f"/spaces/{s}/associations/{a}/",
    ]


def _writes(w):
    s, a, sv = w["space"], w["association"], w["service"]
    return [
        ("get", "/services/new/"),
        ("get", "/services/new/mcpserver/"),
        ("post", "/services/new/mcpserver/"),
        ("get", f"/services/{sv}/deregister/"),
        ("post", f"/services/{sv}/deregister/"),
        ("post", f"/services/{sv}/tags/"),
        ("post", f"/services/{sv}/tags/remove/"),
        ("get", f"/spaces/{s}/associations/new/"),
        ("get", f"/spaces/{s}/associations/new/{sv}/"),
        ("post", f"/spaces/{s}/associations/new/{sv}/"),
        ("get", f"/spaces/{s}/associations/{a}/edit/"),
        ("post", f"/spaces/{s}/associations/{a}/edit/"),
        ("get", f"/spaces/{s}/associations/{a}/delete/"),
        ("post", f"/spaces/{s}/associations/{a}/delete/"),
        ("post", f"/spaces/{s}/associations/validate/"),
        ("get", "/services/oauth/return/"),
        ("post", "/services/pending/abc/dismiss/"),
    ]


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_every_role_reads_services_and_associations(request, world, role):
    client = request.getfixturevalue(f"{role}_client")
    for url in _reads(world):
        response = client.get(url)
        assert response.status_code == 200, (role, url)


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_it_returns_403_for_writes_below_admin(request, world, role):
    client = request.getfixturevalue(f"{role}_client")
    for method, url in _writes(world):
        response = getattr(client, method)(url, {"key": "k", "confirm": "tools"})
        assert response.status_code == 403, (role, method, url)
    assert RegisteredService.objects.count() == 1
    assert ServiceAssociation.objects.count() == 1


def _controls(w):
    s, a, sv = w["space"], w["association"], w["service"]
    return [
        'href="/services/new/"',
        f'href="/services/{sv}/deregister/"',
        f'action="/services/{sv}/tags/"',
        f'href="/spaces/{s}/associations/new/"',
        f'href="/spaces/{s}/associations/{a}/edit/"',
        f'href="/spaces/{s}/associations/{a}/delete/"',
        f'action="/spaces/{s}/associations/validate/"',
    ]


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_write_controls_are_not_shown_below_admin(request, world, role):
    client = request.getfixturevalue(f"{role}_client")
    pages = "".join(client.get(url).content.decode() for url in _reads(world))
    for control in _controls(world):
        assert control not in pages, control


def test_admins_see_the_write_controls(admin_client, world):
    pages = "".join(admin_client.get(url).content.decode() for url in _reads(world))
    for control in _controls(world):
        assert control in pages, control


def test_anonymous_users_are_sent_to_sign_in(anon_client, world):
    for url in _reads(world):
        response = anon_client.get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_the_navigation_has_services_and_the_space_tab_associations(viewer_client, world):
    page = viewer_client.get(f"/spaces/{world['space']}/associations/").content.decode()
    assert 'href="/services/"' in page
    assert f'href="/spaces/{world["space"]}/associations/" aria-current="page"' in page
