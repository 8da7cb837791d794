"""The AgentCore section: its top-bar link, its landing page listing whatever areas are
registered as section tabs (other apps add theirs without touching this one), and the tabs on
every AgentCore page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.core import nav, roles

pytestmark = pytest.mark.django_db


def test_the_top_bar_links_to_agentcore_and_marks_it_current(viewer_client):
    html = viewer_client.get(reverse("agentcore:index")).content.decode()
    assert f'<a href="{reverse("agentcore:index")}" aria-current="page">AgentCore</a>' in html


def test_the_landing_page_lists_memory_and_flow_traces(viewer_client):
    html = viewer_client.get(reverse("agentcore:index")).content.decode()
    assert f'<a href="{reverse("agentcore:memory-choose")}">Memory</a>' in html
    assert f'<a href="{reverse("flows:choose")}">Flow traces</a>' in html
    assert "long-term records" in html


def test_the_landing_page_lists_areas_registered_by_other_apps_in_tab_order(viewer_client):
    # As another app does: its own tab and what it is for, early in the section.
    nav.section_tab(
        "agentcore",
        "Some area",
        "audit-log",
        order=5,
        role=roles.VIEWER,
        description="What some area is for.",
    )
    try:
        html = viewer_client.get(reverse("agentcore:index")).content.decode()
    finally:
        nav.SECTIONS["agentcore"] = [
            link for link in nav.SECTIONS["agentcore"] if link.url_name != "audit-log"
        ]
    assert "What some area is for." in html
    assert html.index("Some area") < html.index(">Memory<") < html.index("Flow traces")


def test_areas_above_the_users_role_are_not_listed(viewer_client, admin_client):
    nav.section_tab("agentcore", "Admin only", "audit-log", order=5, role=roles.ADMIN)
    try:
        assert "Admin only" not in viewer_client.get(reverse("agentcore:index")).content.decode()
        assert "Admin only" in admin_client.get(reverse("agentcore:index")).content.decode()
    finally:
        nav.SECTIONS["agentcore"] = [
            link for link in nav.SECTIONS["agentcore"] if link.url_name != "audit-log"
        ]


@pytest.mark.parametrize(
    ("name", "tab"),
    [
        ("agentcore:memory-choose", "Memory"),
        ("flows:choose", "Flow traces"),
        ("browser:list", "Browser sessions"),
    ],
)
def test_each_area_page_shows_the_section_tabs_with_its_own_marked(viewer_client, name, tab):
    html = viewer_client.get(reverse(name)).content.decode()
    assert 'aria-label="agentcore"' in html
    assert f'<a href="{reverse(name)}" aria-current="page">{tab}</a>' in html
    # The top-bar link is current on every page of the section.
    assert f'<a href="{reverse("agentcore:index")}" aria-current="page">AgentCore</a>' in html


def test_anonymous_users_are_sent_to_sign_in(anon_client):
    response = anon_client.get(reverse("agentcore:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
