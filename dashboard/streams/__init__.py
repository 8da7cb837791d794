"""Relaying AWS event streams (or any blocking stream) to every open tab, live.

Built for `send_message`'s reply (dashboard/chat) and meant for every streamed AWS answer:
InvokeCodeInterpreter's event stream, InvokeAgentRuntime's streaming response, flow events.
Nothing here knows about chats; a user of the relay supplies a *source* (the blocking call) and
a *kind* (how events are rendered).

What it guarantees
------------------
- **Blocking iteration off the event loop, bounded.** A source is opened and iterated in a
  pool of its own daemon threads (`STREAM_THREADS`, default 32), never in the AWS pool of short
  calls nor in `sync_to_async`'s shared thread. When every thread is busy, `start` raises
  `PoolFull` at once: tell the person, do not queue them behind minutes-long streams.
- **One relay per stream, not per viewer.** A *key* ("chat:<space>:<chat>") names what viewers
  watch; it has at most one *run* (one stream) at a time across all processes (a lock in the
  log; `AlreadyStreaming` otherwise).
- **Cost per batch, not per viewer.** Each batch is rendered once into a frame (compact text
  frames for streamed text, see frames.py), logged and published once (dashboard.fanout: one
  Redis PUBLISH, pipelined with the log append, whatever the number of viewers); every process
  with viewers hands the same frame to each of its sockets.
- **Numbered, logged, replayable.** Every event gets a dense sequence number per run (`seq`
  1, 2, ...; the source's own sequence numbers, if any, stay in its data) and is written to the
  replay log (log.py: in memory, or a Redis list per run with REDIS_URL, so every daphne
  process reads it) *before* it is published. A tab that opens mid-stream gets what streamed so
  far, then the rest; a tab that reconnects says the last (run, seq) it has and gets exactly
  what it missed, without duplicates. Finished runs stay readable for `STREAM_LOG_TTL` (900 s);
  a key keeps its last 10 runs.
- **Nothing lost when a batch is.** Redis pub/sub drops messages for a process whose
  subscription broke; a socket's bounded outbox overflows when its process falls behind; a page
  that stops reading is paused. A viewer refills a gap from the log on the next batch; batches
  say whether they end the run and beats say the last seq published, and a viewer that has
  heard nothing for 1.5 heartbeat periods while a run it follows is not over reads the log
  itself, so even a lost last batch arrives (late, never twice). An overflow, a resumed page or
  a broken subscription make the viewer read the log at once. A gap the log cannot fill any more
  (evicted, expired) makes the page reload its stream region.
- **Coalescing, adapted to the load.** Event types a kind names in `coalesce` (text deltas)
  travel in batches at most `STREAM_COALESCE_SECONDS` (50 ms) apart while the process keeps
  up; the window stretches with the process's lag (up to 1 s), so a busy process sends fewer,
  larger batches instead of queueing. The first delta after a quiet spell goes at once, and any
  other event flushes the batch before it, so order is kept.
- **Never a hang.** A source that raises ends the run with a `stream.error` event; one that
  ends without its own final event ends with `stream.end` (renderers decide whether that was
  complete); one silent for `STREAM_IDLE_TIMEOUT` (60 s; quiet events such as heartbeats count
  as signs of life) ends with `stream.timeout`. While a run is quiet, viewers get a beat every
  `STREAM_HEARTBEAT_SECONDS` (10 s), so a page can tell a slow stream from a dead relay. A run
  whose relay process died (its lock expired) reads as ended with `stream.lost`, or, for kinds
  that can recover it from AWS (`recover=`), is finished by another process from what AWS
  recorded (recovery.py): the chat shows the reply from the chat's journal.
- **Clean shutdown.** Under daphne, before the reactor stops, every run of the process ends
  with `stream.interrupted` (logged and published, so viewers in other processes are told),
  its reader is told to stop and its source is aborted; stream threads are daemons, so the
  process never waits for a read in progress. No "took too long to shut down".

Using it
--------
1. Register a kind, at import of the module that renders it::

       from dashboard import streams

       streams.register(
           "interp",                      # keys "interp:<...>" use it
           render=render_events,          # (key, run, events, state) -> HTML (oob fragments)
           coalesce={"stdout"},           # event types that may be batched
           quiet={"heartbeat"},           # proof of life only: neither logged nor sent
           dom=lambda run: f"r-{run}-",    # the prefix of a run's element ids (compact frames)
           recover=None,                  # or: finish a run whose relay died, from AWS
       )

   `render` may return HTML, or a list of HTML and `streams.Append(target, text)` parts:
   appended text (a target "~x" is `dom(run) + "x"`) travels in compact frames when a batch is
   only that, and as HTML otherwise.

   `render` is pure (no database, no AWS). It is called with consecutive events of one run and
   a `state` dict that lives for that run and that reader: remember there what later events
   need (e.g. the text of a block so far). The relay renders each batch once for every viewer;
   a consumer catching up renders from the log with a fresh state (events before the
   viewer's position are rendered into the state and their HTML dropped).

   Events are dicts: `{"seq", "type", "data", "at"}`. Besides the source's own types, a run
   has `stream.start` first (`data` = the `meta` given to `start`) and exactly one terminal
   event last: `stream.end`, `stream.error` (`data`: code, message, title), `stream.timeout`,
   `stream.interrupted` or `stream.lost` (`data.message`). A recovered run also has
   `stream.relay_lost` (not terminal) and whatever `recover` returned before its end.

2. Start a run where the user acts (a consumer's receive, an async view)::

       try:
           relay = await streams.start(key, lambda: aws_area.open_stream(params), meta={...})
       except streams.PoolFull as exc: ...        # tell the user: busy, try again
       except streams.AlreadyStreaming: ...       # one run per key at a time
       except AwsError as exc: ...                # the call itself failed (quota, throttling)

   The source runs in a stream thread: it makes the blocking call and returns an iterable of
   `(event_type, data)` pairs (dashboard/aws returns such iterables). Failures of the call
   itself are raised by `start`, before anything is published. If the iterable has `close()`
   it is called when the run ends; `abort()`, if present, is called from another thread to
   break a read in progress (timeout, shutdown). Once started, a run goes on even if the
   caller goes away; `await relay.wait(timeout)` waits for its end (the no-JavaScript path).

3. Viewers: subclass `StreamConsumer`, implement `stream_key()` from the URL route (and
   `has_access`), route it. The page sends ``{"streams": "hello", "run", "after"}`` once its
   socket is open (static/js/chat.js shows how, with the htmx ws extension), using the
   position fragment the page carries (`page_position`) and that every push updates.

4. Pages render the runs the log still has server-side, so a reload (or a page without
   JavaScript) shows them too: `read_runs(key)`, then `render_from(key, run, events, 0)` or
   a view of your own built from the events, plus `page_position(key, runs)`.
"""

from .consumer import StreamConsumer
from .frames import Append
from .log import Event
from .pool import PoolFull, StreamPool
from .relay import (
    END,
    ERROR,
    INTERRUPTED,
    LOST,
    RELAY_LOST,
    START,
    TERMINAL,
    TIMEOUT,
    AlreadyStreaming,
    Kind,
    Relay,
    active,
    kind_of,
    register,
    shutdown,
    start,
    topic,
)
from .views import (
    RunView,
    beat_fragment,
    page_position,
    position_fragment,
    read_runs,
    read_runs_or_notice,
    render_from,
    resync_fragment,
)

__all__ = [
    "END",
    "ERROR",
    "INTERRUPTED",
    "LOST",
    "RELAY_LOST",
    "START",
    "TERMINAL",
    "TIMEOUT",
    "AlreadyStreaming",
    "Append",
    "Event",
    "Kind",
    "PoolFull",
    "Relay",
    "RunView",
    "StreamConsumer",
    "StreamPool",
    "active",
    "beat_fragment",
    "kind_of",
    "page_position",
    "position_fragment",
    "read_runs",
    "read_runs_or_notice",
    "register",
    "render_from",
    "resync_fragment",
    "shutdown",
    "start",
    "topic",
]
