"""The console's navigation, contributed by each app rather than written into base.html.

The top bar (`main_link`), the tabs shown on every page of one agent space (`space_tab`), and
the tabs of other multi-page areas such as AgentCore (`section_tab`). An app registers its links
in its AppConfig.ready(), so adding an area touches no shared template:

    class ChatConfig(AppConfig):
        def ready(self) -> None:
            nav.space_tab("Chat", "chat:list", order=30, match=("chat",))

A link is shown to users with at least `role`; it is marked current when the request's URL
namespace (app_name) or URL name is in `match`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from . import roles


@dataclass(frozen=True)
class Link:
    label: str
    url_name: str
    order: int
    role: str = roles.VIEWER
    # URL namespaces or "namespace:name" / "name" entries that make this link current.
    match: tuple[str, ...] = ()
    # ...or a URL argument whose presence makes it current (every page of one agent space,
    # whichever app serves it, belongs under "Agent spaces").
    match_kwarg: str = ""
    # One sentence on what the area is for (a section's landing page lists its tabs with it).
    description: str = ""

    def is_current(self, request: HttpRequest) -> bool:
        found = getattr(request, "resolver_match", None)
        if found is None:
            return False
        if self.match_kwarg and self.match_kwarg in found.kwargs:
            return True
        names = {found.namespace, found.view_name, found.url_name}
        return bool(names & set(self.match or (self.url_name,)))


MAIN: list[Link] = []
SPACE_TABS: list[Link] = []
# Tabs of other areas, by section name (e.g. "agentcore"): pages without URL arguments.
SECTIONS: dict[str, list[Link]] = {}


def _add(links: list[Link], link: Link) -> None:
    # ready() can run twice (tests); keep one entry per URL name.
    links[:] = [item for item in links if item.url_name != link.url_name]
    links.append(link)
    links.sort(key=lambda item: (item.order, item.label))


def main_link(
    label: str,
    url_name: str,
    *,
    order: int,
    role: str = roles.VIEWER,
    match: tuple[str, ...] = (),
    match_kwarg: str = "",
) -> None:
    """A link in the top bar to a page without arguments."""
    _add(MAIN, Link(label, url_name, order, role, match, match_kwarg))


def space_tab(
    label: str, url_name: str, *, order: int, role: str = roles.VIEWER, match: tuple[str, ...] = ()
) -> None:
    """A tab on an agent space's pages; `url_name` takes the space id as its one argument."""
    _add(SPACE_TABS, Link(label, url_name, order, role, match))


def section_tab(
    section: str,
    label: str,
    url_name: str,
    *,
    order: int,
    role: str = roles.VIEWER,
    match: tuple[str, ...] = (),
    description: str = "",
) -> None:
    """A tab of `section` (shown with `{% section_tabs "<section>" %}`), to a page without
    arguments. `description` says what the area is for on the section's landing page."""
    link = Link(label, url_name, order, role, match, description=description)
    _add(SECTIONS.setdefault(section, []), link)


def _entries(links: list[Link], request: HttpRequest, *args: str) -> list[dict[str, Any]]:
    user = getattr(request, "user", None)
    out = []
    for link in links:
        if user is None or not roles.has_role(user, link.role):
            continue
        try:
            url = reverse(link.url_name, args=args)
        except NoReverseMatch:
            continue
        out.append(
            {
                "label": link.label,
                "url": url,
                "current": link.is_current(request),
                "description": link.description,
            }
        )
    return out


def main_entries(request: HttpRequest) -> list[dict[str, Any]]:
    return _entries(MAIN, request)


def space_entries(request: HttpRequest, space_id: str) -> list[dict[str, Any]]:
    return _entries(SPACE_TABS, request, space_id)


def section_entries(request: HttpRequest, section: str) -> list[dict[str, Any]]:
    return _entries(SECTIONS.get(section, []), request)
