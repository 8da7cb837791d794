"""Fan-out: every live thing reaches every open tab at a cost per message, not per viewer.

Publishers (a stream relay's batch, a poller's changed rows, a view that just wrote) send one
*message* to a *topic*. A message is a small JSON-able dict whose rendered part (the frame the
browser gets) was rendered once, by the publisher. Sockets subscribe to topics in their own
process:

    browser ◄─ socket ◄─ Outbox ◄─┐
    browser ◄─ socket ◄─ Outbox ◄─┤ Hub (one per process): the same message object to each local
    browser ◄─ socket ◄─ Outbox ◄─┘ subscriber of the topic, in memory
                                   ▲
            publish(topic, msg) ───┤ delivered here directly, and
                                   └─ to every other process that has subscribers of the topic:
                                      one Redis PUBLISH per message (REDIS_URL), whatever the
                                      number of viewers; each process SUBSCRIBEs once per topic
                                      it has local subscribers of. Without Redis the console is
                                      one process and the hub is all there is.

- `publish(topic, message)` from sync code (views, threads) reuses long-lived connections: no
  event loop or connection pool per call. `apublish` from async code.
- `Hub.subscribe(topic, subscriber)` / `unsubscribe`: a subscriber is anything with
  `deliver(topic, message)`, called on the event loop, which must not block (consumers put the
  message in their bounded `Outbox`).
- A subscriber also gets `resync(topic)` when messages may have been lost on the way (the Redis
  subscription broke and came back): it re-reads what it shows (streams from their replay log,
  live pages re-render their live region).
- Redis pub/sub is at-most-once, like the channel layer it replaces: streams number their
  batches and repair gaps from their replay log; live pages resync on reconnect.

Why redis-py's PubSub rather than channels_redis's pub/sub layer: that layer still gives every
consumer a channel of its own (a SUBSCRIBE per socket, an unbounded queue per socket, a msgpack
decode per socket per message) and copies each group message into every local queue; here a
process decodes a message once and hands the same frame to its sockets, and every buffer is
bounded (`Outbox`).
"""

from __future__ import annotations

from .broker import apublish, get_broker, publish
from .hub import Hub, Subscriber, hub
from .outbox import Outbox

__all__ = ["Hub", "Outbox", "Subscriber", "apublish", "get_broker", "hub", "publish"]
