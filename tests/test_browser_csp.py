"""The strict Content-Security-Policy holds on every page: a crawl of the seeded demo as an
admin (everything in the top bar, every tab of a space and of AgentCore, and the pages those
link to) in Chromium, failing on any violation the page reports (`securitypolicyviolation`
events and console messages) or the server logged through /csp-report."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.browser_support import LiveServer, require_chromium, shot, wait_until

pytestmark = pytest.mark.browser

# Collects violations before any page script runs (Playwright injects it outside the CSP).
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__csp.push(`${e.effectiveDirective} blocked ${e.blockedURI} at ${where}`);
});
"""
# Links not to follow: downloads, exports, signing out, the sandbox's own endpoints.
SKIP = re.compile(r"/(export|download|files/|sign-out|logout|sandbox/|static/)|\.(csv|json)(\?|$)")
# Pages a second level down per page: enough to reach detail pages of each kind.
FOLLOW_PER_PAGE = 3


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    with LiveServer(tmp_path_factory.mktemp("csp")) as live:
        live.manage("seed_sandbox")
        yield live


class Crawl:
    def __init__(self, page, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.server = server
        self.seen: set[str] = set()
        self.violations: list[str] = []
        page.on("console", self._console)

    def _console(self, message) -> None:  # type: ignore[no-untyped-def]
        if "Content Security Policy" in message.text:
            self.violations.append(f"{self.page.url}: console: {message.text}")

    def visit(self, path: str, *, again: bool = False) -> bool:
        """Open `path` (unless seen before and not `again`) and collect its violations."""
        if path in self.seen and not again:
            return False
        self.seen.add(path)
        response = self.page.goto(self.server.url + path, wait_until="load")
        assert response is not None and response.status < 500, (path, response and response.status)
        try:
            # htmx loads some parts after the page (hx-trigger="load"): let them arrive.
            self.page.wait_for_load_state("networkidle", timeout=5_000)
        except Exception:  # pages that poll never go idle; what loaded is checked
            pass
        found = self.page.evaluate("window.__csp || []")
        self.violations.extend(f"{path}: {item}" for item in found)
        return True

    def links(self, selector: str) -> list[str]:
        hrefs = self.page.eval_on_selector_all(selector, "els => els.map(e => e.href)")
        out = []
        for href in hrefs:
            parts = urlsplit(href)
            if f"{parts.scheme}://{parts.netloc}" != self.server.url:
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if not SKIP.search(path) and path not in out:
                out.append(path)
        return out


def test_no_page_violates_the_policy(server, new_page):  # type: ignore[no-untyped-def]
    page = new_page()
    page.context.add_init_script(WATCH)
    crawl = Crawl(page, server)

    # The watch itself works: an inline style attribute is reported.
    crawl.visit("/spaces/?csp-self-check")
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
        page.evaluate(
            "document.body.insertAdjacentHTML('beforeend', '<p style=\"color:red\">x</p>')"
        )
    wait_until(page, "window.__csp.length > 0")
    page.evaluate("window.__csp = []")
    assert any("csp-self-check" in line for line in crawl.violations)
    crawl.violations.clear()

    # Signed out: the sign-in page.
    anonymous = new_page(signed_in=False)
    anonymous.context.add_init_script(WATCH)
    outside = Crawl(anonymous, server)
    outside.visit("/accounts/login/")
    crawl.violations.extend(outside.violations)

    top = crawl.links("header.topbar nav a")
    assert "/spaces/" in top and "/users/" in top and "/audit/" in top
    pages: list[str] = []
    for path in top:
        crawl.visit(path)
        pages.append(path)
        # A space's tabs, from the first space of the list; AgentCore's tabs.
        if path == "/spaces/":
            first = crawl.links("main a[href^='/spaces/']")
            space = next(p for p in first if re.fullmatch(r"/spaces/[0-9a-f-]{36}/", p))
            crawl.visit(space)
            tabs = crawl.links("nav.space-tabs a")
            assert len(tabs) >= 5, tabs
            for tab in tabs:
                if crawl.visit(tab):
                    pages.append(tab)
        if path.startswith("/agentcore/"):
            for tab in crawl.links("nav.space-tabs a"):
                if crawl.visit(tab):
                    pages.append(tab)
    # One level further from each: detail pages, forms, confirmations.
    for path in list(pages):
        crawl.visit(path, again=True)
        followed = 0
        for link in crawl.links("main a[href^='/']"):
            if followed >= FOLLOW_PER_PAGE:
                break
            if crawl.visit(link):
                followed += 1
    shot(page, "csp-crawl-last-page")
    assert len(crawl.seen) >= 30, sorted(crawl.seen)
    # Reports that reached the server (one line each in its log), besides the one we caused.
    reported = [
        line
        for line in server.log_path.read_text(errors="replace").splitlines()
        if "CSP violation" in line and "csp-self-check" not in line
    ]
    assert not crawl.violations, "\n".join(crawl.violations)
    assert not reported, "\n".join(reported)
