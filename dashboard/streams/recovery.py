"""A relay that dies is not the end of the reply.

A run's relay holds the key's lock and renews it every heartbeat; when its process is killed or
redeployed the lock lapses. Viewers in other processes notice (they hear nothing, read the log
and find the run open with nobody holding it). For kinds that can recover (`recover=` at
`register`), the first such process to take the lock for that run becomes its *recoverer*:

1. it logs and publishes `stream.relay_lost` (not terminal: viewers are told the relay stopped
   and that the reply will show once recorded; pages that rendered the run from the log before
   show the same event at the same position, so nobody sees it twice);
2. it asks the kind's `recover(key, run, events)` (blocking; e.g. the chat reads the reply
   from the chat's journal) every `STREAM_RECOVER_POLL` seconds, renewing the lock, until it
   returns events (e.g. `stream.recovered` with the reply as AWS recorded it);
3. it logs and publishes those and `stream.end`, and closes the run. After
   `STREAM_RECOVER_SECONDS` without an answer it ends the run with `stream.lost` instead.

If the recoverer dies too, its lock lapses as well and another viewer's process takes over.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from django.conf import settings

from dashboard.aws import executor
from dashboard.fanout.broker import ORIGIN

from . import frames, log
from .log import Event
from .relay import (
    BATCH,
    END,
    LOST,
    RELAY_LOST,
    TERMINAL,
    kind_of,
    lease,
    relay_lost_event,
    topic,
    writer,
)

logger = logging.getLogger(__name__)

_RECOVERING: dict[tuple[str, str], asyncio.Task[None]] = {}


def can_recover(key: str) -> bool:
    try:
        return kind_of(key).recover is not None
    except LookupError:
        return False


def ensure(key: str, run: str) -> None:
    """Recover `run` of `key` from this process unless it already is (call on the loop when a
    viewer finds the run open with no relay)."""
    task = _RECOVERING.get((key, run))
    if task is not None and not task.done():
        return
    if not can_recover(key):
        return
    _RECOVERING[(key, run)] = asyncio.get_running_loop().create_task(
        _recover(key, run), name=f"recover {key}"
    )


def claimer(run: str) -> str:
    """What a recoverer holds the key's lock as: not the run itself (the run's relay is dead,
    and readers must keep seeing it so), and this process's own."""
    return f"{run}+recovery:{ORIGIN}"


async def _recover(key: str, run: str) -> None:
    holder = claimer(run)
    try:
        if await lease(log.claim, key, holder) is not None:
            return  # another process recovers it, or a new run began
        try:
            await _run(key, run, holder)
        finally:
            await lease(log.release, key, holder)
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("Could not recover stream %s run %s", key, run)
    finally:
        _RECOVERING.pop((key, run), None)


async def _run(key: str, run: str, holder: str) -> None:
    kind = kind_of(key)
    events = await asyncio.to_thread(log.read, key, run)
    if events and events[-1]["type"] in TERMINAL:
        return
    if not events or events[-1]["type"] != RELAY_LOST:
        await _publish(key, run, events, [relay_lost_event(events)])
        events = await asyncio.to_thread(log.read, key, run)
    poll = float(getattr(settings, "STREAM_RECOVER_POLL", 2.0))
    give_up = time.monotonic() + float(getattr(settings, "STREAM_RECOVER_SECONDS", 600.0))
    while True:
        try:
            found = await executor.run(kind.recover, key, run, events)  # type: ignore[misc]
        except Exception as exc:
            logger.warning("Recovering %s: %s", key, exc)
            found = None
        # The claim lapses when a look at AWS outlasts it: another process may be recovering
        # the run by now (two recoverers would log the end twice, at the same seqs).
        if not await lease(log.renew, key, holder):
            logger.warning("Recovering %s: another process took the run over", key)
            return
        if found is not None:
            await _publish(key, run, events, _numbered(events, [*found, (END, {})]))
            break
        if time.monotonic() > give_up:
            lost = {"message": "The reply could not be recovered after its relay stopped."}
            await _publish(key, run, events, _numbered(events, [(LOST, lost)]))
            break
        await asyncio.sleep(poll)
    await asyncio.to_thread(log.finish, key, run)


def _numbered(before: list[Event], items: list[tuple[str, dict[str, Any]]]) -> list[Event]:
    seq = before[-1]["seq"] if before else 0
    out = []
    for event_type, data in items:
        seq += 1
        out.append(Event(seq=seq, type=event_type, data=data, at=time.time()))
    return out


async def _publish(key: str, run: str, before: list[Event], new: list[Event]) -> None:
    """Render `new` after `before` (the state they built), log and publish them as a batch."""
    kind = kind_of(key)
    state: dict[str, Any] = {}
    if before:
        kind.render(key, run, before, state)
    parts = kind.render(key, run, new, state)
    message = {
        "k": BATCH,
        "run": run,
        "first": new[0]["seq"],
        "last": new[-1]["seq"],
        "end": new[-1]["type"] in TERMINAL,
        "frame": frames.encode(key, run, new[-1]["seq"], parts, kind.dom(run)),
    }
    await writer().write(key, run, new, topic(key), message)
