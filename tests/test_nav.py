"""Navigation contributed by the apps: the top bar and an agent space's tabs."""

from __future__ import annotations

from django.urls import reverse


def test_the_top_bar_shows_agent_spaces_to_everyone(viewer_client):
    html = viewer_client.get(reverse("spaces:list")).content.decode()
    assert f'<a href="{reverse("spaces:list")}" aria-current="page">Agent spaces</a>' in html
    assert "Audit log" not in html


def test_the_top_bar_shows_the_audit_log_to_admins(admin_client):
    html = admin_client.get(reverse("spaces:list")).content.decode()
    assert f'href="{reverse("audit-log")}"' in html


def test_space_pages_show_their_tabs_with_the_current_one_marked(viewer_client, space):
    space_id = space["agentSpaceId"]
    html = viewer_client.get(reverse("spaces:detail", args=[space_id])).content.decode()
    assert 'class="space-tabs"' in html
    assert (
        f'<a href="{reverse("spaces:detail", args=[space_id])}" aria-current="page">Overview'
        in html
    )
    board = reverse("tasks:board", args=[space_id])
    assert f'<a href="{board}">Board</a>' in html

    html = viewer_client.get(board).content.decode()
    assert f'<a href="{board}" aria-current="page">Board</a>' in html


def test_section_tabs_render_registered_links_by_role(rf, viewer_user, admin_user):
    from django.template import Context, Template

    from dashboard.core import nav, roles

    nav.section_tab("test-area", "Audit", "audit-log", order=1, role=roles.ADMIN)
    nav.section_tab("test-area", "Spaces", "spaces:list", order=2)
    try:
        template = Template('{% load console %}{% section_tabs "test-area" %}')
        request = rf.get(reverse("spaces:list"))
        request.resolver_match = None
        request.user = viewer_user
        html = template.render(Context({"request": request}))
        assert "Spaces" in html and "Audit" not in html
        request.user = admin_user
        html = template.render(Context({"request": request}))
        assert html.index("Audit") < html.index("Spaces")
    finally:
        nav.SECTIONS.pop("test-area", None)


def test_every_page_of_a_space_is_under_agent_spaces_whichever_app_serves_it(viewer_client, space):
    from dashboard.core.nav import SPACE_TABS

    space_id = space["agentSpaceId"]
    spaces_link = f'<a href="{reverse("spaces:list")}" aria-current="page">Agent spaces</a>'
    for tab in SPACE_TABS:
        url = reverse(tab.url_name, args=[space_id])
        html = viewer_client.get(url).content.decode()
        assert spaces_link in html, tab.url_name
        assert f'<a href="{url}" aria-current="page">{tab.label}</a>' in html, tab.url_name
