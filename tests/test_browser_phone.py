"""Every page on a phone: at 390 px wide, no page reachable from the top bar, an agent space's
tabs or AgentCore's tabs (nor the first detail page each lists) scrolls sideways; the top bar
folds into a menu that opens and shows every link; touch targets in the bar are at least 40 px.
Screenshots of each page go to test-artifacts/phone-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.browser_support import LiveServer, require_chromium, shot

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# Links not to follow: downloads, exports, signing out, the sandbox's own endpoints, forms that
# start something.
SKIP = re.compile(
    r"/(export|download|files/|sign-out|logout|sandbox/|static/|new/|delete/|stop/)|\.(csv|json|zip)(\?|$)"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    with LiveServer(tmp_path_factory.mktemp("phone")) as live:
        live.manage("seed_sandbox")
        yield live


def _same_site(page, server: LiveServer, selector: str) -> list[str]:  # type: ignore[no-untyped-def]
    out = []
    for href in page.eval_on_selector_all(selector, "els => els.map(e => e.href)"):
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != server.url:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not SKIP.search(path) and path not in out:
            out.append(path)
    return out


def _overflow(page) -> dict | None:  # type: ignore[no-untyped-def]
    """What sticks out sideways, or None: the page's own width against the viewport's."""
    return page.evaluate(
        """() => {
          const width = document.scrollingElement.scrollWidth, inner = innerWidth;
          if (width <= inner) return null;
          const wide = [...document.querySelectorAll('body *')].filter(el => {
            const r = el.getBoundingClientRect();
            return r.right > inner + 1 && getComputedStyle(el).position !== 'fixed';
          }).slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
            (typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : ''));
          return {width, inner, wide};
        }"""
    )


def test_no_page_scrolls_sideways_on_a_phone(server, browser):  # type: ignore[no-untyped-def]
    # Not is_mobile: a mobile viewport widens itself to fit what sticks out (innerWidth grows
    # with the page), which would hide the very thing this test looks for.
    context = browser.new_context(viewport=PHONE, has_touch=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    page.goto(server.url + "/accounts/login/")
    assert _overflow(page) is None
    page.get_by_label("Username").fill(server.username)
    page.get_by_label("Password").fill(server.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/(spaces|inbox)/.*"))

    # The top bar: brand, "Go to…", and a menu button; the links are behind the menu.
    menu = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Main")
    assert not nav.is_visible()
    for control in (menu, page.locator(".palette-button")):
        box = control.bounding_box()
        assert box and box["width"] >= 40 and box["height"] >= 40, box
    menu.click()
    assert nav.is_visible()
    links = nav.get_by_role("link")
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert box["height"] >= 40, box
    top = _same_site(page, server, "header.topbar nav a")
    assert "/spaces/" in top and "/agentcore/" in top and "/audit/" in top
    page.keyboard.press("Escape")
    assert not nav.is_visible()

    pages: list[str] = []
    seen: set[str] = set()
    wide: list[str] = []

    def visit(path: str) -> bool:
        if path in seen:
            return False
        seen.add(path)
        response = page.goto(server.url + path, wait_until="load")
        assert response is not None and response.status < 500, (path, response.status)
        try:
            page.wait_for_load_state("networkidle", timeout=3_000)
        except Exception:  # pages that keep a socket busy never go idle; what loaded counts
            pass
        found = _overflow(page)
        name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
        shot(page, f"phone-{name[:80]}")
        if found:
            wide.append(f"{path}: {found}")
        return True

    for path in top:
        if visit(path):
            pages.append(path)
        if path == "/spaces/":
            space = next(
                p
                for p in _same_site(page, server, "main a[href^='/spaces/']")
                if re.fullmatch(r"/spaces/[0-9a-f-]{36}/", p)
            )
            visit(space)
            tabs = _same_site(page, server, "nav.space-tabs a")
            assert len(tabs) >= 5, tabs
            for tab in tabs:
                if visit(tab):
                    pages.append(tab)
        if path == "/agentcore/":
            for tab in _same_site(page, server, "nav.space-tabs a"):
                if visit(tab):
                    pages.append(tab)
    # And the first detail page each of them lists (a task, a chat, a live view, a session...).
    # (The board opens on open work, which may be empty: all statuses list a task to open.)
    for path in [p + "?status=ALL" if p.endswith("/tasks/") else p for p in pages]:
        page.goto(server.url + path, wait_until="load")
        for link in _same_site(
            page, server, "main table a[href^='/'], main .card a[href^='/'], main li a[href^='/']"
        )[:1]:
            visit(link)
    context.close()
    assert len(pages) >= 16, pages
    assert not wide, "\n".join(wide)
    assert not errors, errors
