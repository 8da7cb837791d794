"""Reading streams for pages and consumers: the runs a key has, rendered from any point, and
the small fragments that tell a page where it stands.

Blocking (cache reads): call from views, or from consumers through `asyncio.to_thread`.
"""

from __future__ import annotations

import logging
from typing import Any, TypedDict

from django.utils.html import format_html
from django.utils.safestring import SafeString

from . import frames, log
from .frames import html_of, suffix
from .log import Event
from .relay import RELAY_LOST, TERMINAL, kind_of, lost_event, relay_lost_event

logger = logging.getLogger(__name__)


class RunView(TypedDict):
    run: str
    open: bool  # still streaming (its relay is alive)
    meta: dict[str, Any]
    started: float
    events: list[Event]
    last: int  # the last seq


def read_runs(key: str) -> list[RunView]:
    """The key's recent runs, oldest first, with their events. A run the head calls open but
    whose relay is gone (its process died) ends with a LOST event (not logged)."""
    holder, found = log.read_all(key)
    out: list[RunView] = []
    recoverable = kind_of(key).recover is not None
    for info, events in found:
        alive = info["open"] and holder == info["run"]
        if not alive and (not events or events[-1]["type"] not in TERMINAL):
            if not recoverable or not events:
                events.append(lost_event(events))
            elif events[-1]["type"] != RELAY_LOST:
                events.append(relay_lost_event(events))
        out.append(
            RunView(
                run=info["run"],
                open=alive,
                meta=dict(info.get("meta") or {}),
                started=float(info.get("started") or 0),
                events=events,
                last=events[-1]["seq"] if events else 0,
            )
        )
    return out


UNREACHABLE = (
    "Live updates are unavailable for the moment: the console cannot reach its Redis. What "
    "is shown comes from AWS; replies in progress appear when it is back (reload then)."
)


def read_runs_or_notice(key: str) -> tuple[list[RunView], str]:
    """`read_runs`, or no runs and a notice for the page while the log cannot be reached."""
    try:
        return read_runs(key), ""
    except Exception as exc:
        if not log.unreachable(exc):
            raise
        logger.warning("The stream log of %s is unreachable: %s", key, exc)
        return [], UNREACHABLE


def orphaned(view: RunView) -> bool:
    """The run's relay died before its end and the run waits to be recovered (recovery.py)."""
    return bool(view["events"]) and view["events"][-1]["type"] == RELAY_LOST


def render_from(key: str, run: str, events: list[Event], after: int) -> str:
    """The HTML for `events` with seq > `after`, rendered with the state the earlier ones
    built (a text block started before `after` still gets its text)."""
    kind = kind_of(key)
    state: dict[str, Any] = {}
    before = [e for e in events if e["seq"] <= after]
    rest = [e for e in events if e["seq"] > after]
    try:
        if before:
            kind.render(key, run, before, state)
        return html_of(kind.render(key, run, rest, state), kind.dom(run)) if rest else ""
    except Exception:  # as the relay does: a bad event costs its fragment, not the viewer
        logger.exception("Could not render stream events of %s", key)
        return ""


def position_fragment(key: str, run: str | None, seq: int, *, oob: bool = True) -> SafeString:
    """Where the page stands in `key`'s stream; the page sends it back in its hello."""
    dom = kind_of(key).dom(run) if run else ""
    return frames.position_fragment(key, run, seq, oob=oob, dom=dom)


def beat_fragment(key: str, at: float) -> SafeString:
    """The relay is alive (sent while a stream is quiet)."""
    return format_html(
        '<div id="stream-beat-{}" class="stream-beat" hidden data-at="{}" '
        'hx-swap-oob="true"></div>',
        suffix(key),
        f"{at:.3f}",
    )


def resync_fragment(key: str) -> SafeString:
    """The page is older than the log: it must reload its stream region."""
    return format_html(
        '<div id="stream-pos-{}" class="stream-pos" hidden data-run="" data-seq="0" '
        'data-resync="1" hx-swap-oob="true"></div>',
        suffix(key),
    )


def page_position(key: str, runs: list[RunView]) -> SafeString:
    """The position fragment a page renders with the runs it shows (not out of band)."""
    if not runs:
        return position_fragment(key, None, 0, oob=False)
    return position_fragment(key, runs[-1]["run"], runs[-1]["last"], oob=False)
