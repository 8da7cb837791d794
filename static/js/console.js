// Small behaviours for every page. No inline scripts anywhere (CSP-ready).
(function () {
  "use strict";

  // Dismissible alerts.
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".alert .dismiss");
    if (button) button.closest(".alert").remove();
  });

  function alertBox(kind, text) {
    var box = document.getElementById("alerts");
    if (!box) return;
    var div = document.createElement("div");
    div.className = "alert alert-" + kind;
    div.setAttribute("role", "alert");
    div.textContent = text;
    var close = document.createElement("button");
    close.type = "button"; close.className = "dismiss"; close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    div.appendChild(close);
    box.appendChild(div);
  }

  // A request that never reached the server: say so, the user's input stays on the page.
  document.addEventListener("htmx:sendError", function () {
    alertBox("error", "The console could not be reached. Check your connection; nothing was lost, try again.");
  });
  document.addEventListener("htmx:timeout", function () {
    alertBox("error", "The console took too long to answer. Try again in a moment.");
  });

  // A row pushed live can arrive before the page it belongs to is loaded ("Load more"):
  // after any swap into the spaces table keep the first row with each id, drop later copies.
  document.addEventListener("htmx:afterSwap", function () {
    var rows = document.getElementById("space-rows");
    if (!rows) return;
    var seen = {};
    Array.prototype.slice.call(rows.querySelectorAll(":scope > tr[id]")).forEach(function (row) {
      if (seen[row.id]) row.remove(); else seen[row.id] = true;
    });
  });

  // Live indicator and full re-render after a websocket reconnects (delivery is at-most-once).
  var opened = false;
  var LABELS = { live: "Live", reconnecting: "Reconnecting…", off: "Not live: reload the page" };
  function setLive(state) {
    var el = document.getElementById("live-status");
    if (!el) return;
    el.hidden = false;
    el.dataset.state = state;
    el.querySelector(".live-label").textContent = LABELS[state];
  }
  // Requests in flight, so live updates never pull the ground from under them: a pushed
  // fragment does not replace an element holding one (its own answer is about to, and a
  // detached element could not place that answer), and a resync waits until none is left.
  var inflight = new Map(); // element -> when its request started
  var resyncWanted = false;
  var inMessage = false;
  function busy(except) {
    var now = Date.now();
    var found = false;
    inflight.forEach(function (since, elt) {
      // A request from an element gone from the page (or stuck) no longer counts.
      if (!elt.isConnected || now - since > 30000) { inflight.delete(elt); return; }
      if (elt !== except && !elt.hasAttribute("data-live-resync")) found = true;
    });
    return found;
  }
  function resync() {
    if (busy()) { resyncWanted = true; return; }
    resyncWanted = false;
    document.body.dispatchEvent(new CustomEvent("console:resync"));
  }
  // Requests are numbered as they start: a resync's answer read before a later action's
  // change took effect would put the old state back (the action answered first), so it is
  // dropped and the resync asked again.
  var started = 0;
  var lastAction = 0;
  var resyncTickets = new WeakMap(); // resync element -> number of its latest request
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    inflight.set(elt, Date.now());
    started += 1;
    if (elt.hasAttribute && elt.hasAttribute("data-live-resync")) resyncTickets.set(elt, started);
    else lastAction = started;
  });
  ["htmx:afterRequest", "htmx:sendError", "htmx:timeout", "htmx:sendAbort"].forEach(function (name) {
    document.addEventListener(name, function (event) {
      inflight.delete(event.detail.elt);
      if (resyncWanted && !busy()) resync();
    });
  });
  // A resync answer that arrives while the person started something else waits for it; one
  // read before an action that started after it is stale, and is asked for again.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!(elt && elt.hasAttribute && elt.hasAttribute("data-live-resync"))) return;
    if (busy(elt) || (resyncTickets.get(elt) || 0) < lastAction) {
      event.detail.shouldSwap = false;
      resyncWanted = true;
    }
  });
  // Compact frames (dashboard/streams/frames.py): JSON arrays the page applies itself, not
  // HTML for htmx. ["t", seq, target, text] appends text to an element ("~x": relative to the
  // stream's DOM prefix) and moves the page's stream position; ["resync"] re-renders the page's
  // live region. Every frame counts towards the acknowledgements the server paces itself by
  // (dashboard/fanout/socket.py): a page that stops reading is paused, not buffered for.
  var ACK_EVERY = 65536;
  var counts = new WeakMap(); // socket wrapper -> {received, acked}
  function count(wrapper, size) {
    if (!wrapper) return;
    var c = counts.get(wrapper);
    if (!c) { c = { received: 0, acked: 0 }; counts.set(wrapper, c); }
    c.received += size;
    if (c.received - c.acked >= ACK_EVERY) {
      c.acked = c.received;
      try { wrapper.send('{"ack":' + c.received + "}"); } catch (e) { /* reconnecting */ }
    }
  }
  document.addEventListener("htmx:wsOpen", function (event) {
    if (event.detail && event.detail.socketWrapper) counts.set(event.detail.socketWrapper, { received: 0, acked: 0 });
  });
  function applyText(root, frame) {
    var pos = root.querySelector(".stream-pos");
    var target = String(frame[2]);
    if (target.charAt(0) === "~") target = (pos ? pos.getAttribute("data-dom") || "" : "") + target.slice(1);
    var el = document.getElementById(target);
    if (el) el.appendChild(document.createTextNode(String(frame[3])));
    if (pos) pos.setAttribute("data-seq", String(frame[1]));
  }
  document.addEventListener("htmx:wsBeforeMessage", function (event) {
    var data = event.detail ? event.detail.message : null;
    if (typeof data === "string") count(event.detail.socketWrapper, data.length);
    if (typeof data !== "string" || data.charAt(0) !== "[") { inMessage = true; return; }
    event.preventDefault();
    var frame;
    try { frame = JSON.parse(data); } catch (e) { return; }
    if (!Array.isArray(frame)) return;
    var root = event.target;
    if (frame[0] === "t") applyText(root, frame);
    else if (frame[0] === "resync") resync();
    // Pages follow their sockets' messages (scrolling, "last heard"): tell them as htmx would.
    root.dispatchEvent(new CustomEvent("htmx:wsAfterMessage", {
      bubbles: true, detail: { message: data, socketWrapper: event.detail.socketWrapper }
    }));
  });
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    if (!inMessage) return;
    var target = event.detail.target;
    inflight.forEach(function (since, elt) {
      if (target.contains(elt)) event.detail.shouldSwap = false;
    });
  });

  // Reconnect soon, but spread out and never more than 30 s apart: half the delay fixed, half
  // random, doubling per failed attempt (htmx's default waits up to 64 s).
  if (window.htmx) {
    htmx.config.wsReconnectDelay = function (retries) {
      var ceiling = Math.min(30000, 500 * Math.pow(2, retries));
      return ceiling / 2 + Math.random() * ceiling / 2;
    };
  }

  // A quiet socket (the top bar's count, data-live-quiet) keeps itself current: it neither
  // drives the page's live indicator nor makes the page re-render its live region.
  function quiet(event) {
    return Boolean(event.target && event.target.closest && event.target.closest("[data-live-quiet]"));
  }
  document.addEventListener("htmx:wsOpen", function (event) {
    if (quiet(event)) return;
    setLive("live");
    if (opened) resync();
    opened = true;
  });
  document.addEventListener("htmx:wsClose", function (event) {
    var code = event.detail && event.detail.event ? event.detail.event.code : 0;
    // 4xxx: the server refused the socket for good (signed out, no such page): htmx stops.
    if (!quiet(event)) setLive(code >= 4000 ? "off" : "reconnecting");
    // 1009: what the page sent was over the server's limit, which closed the socket. Nothing
    // of it was acted on; the form still holds what was typed. Say so, and reconnect.
    if (code === 1009) {
      var limit = document.body.getAttribute("data-ws-max-mib");
      alertBox("error", "That was too large to send over the live connection" +
        (limit ? " (at most " + limit + " MiB at once)" : "") +
        ". Nothing was sent, and what you typed is still here: shorten it and send again.");
    }
    // A clean close from a server going away (1000/1001) is not retried by htmx: retry here.
    if ((code === 1000 || code === 1001 || code === 1009) && event.detail.socketWrapper && !unloading) {
      setTimeout(function () {
        if (document.body.contains(event.target)) event.detail.socketWrapper.reconnect();
      }, htmx.config.wsReconnectDelay(1));
    }
  });
  document.addEventListener("htmx:wsError", function (event) { if (!quiet(event)) setLive("reconnecting"); });
  var unloading = false;
  window.addEventListener("pagehide", function () { unloading = true; });

  // The server asks for a full re-render when the tab may have missed something (its first
  // poll of a resource came after the page was rendered): <div id="live-sync" data-resync>.
  document.addEventListener("htmx:wsAfterMessage", function (event) {
    inMessage = false;
    if (quiet(event)) return;
    var sync = document.getElementById("live-sync");
    if (sync && sync.hasAttribute("data-resync")) {
      sync.removeAttribute("data-resync");
      resync();
    }
  });

  // --- The top bar's menu on narrow screens (CSS folds it only when scripting is on) --------
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".menu-button");
    var bar = document.getElementById("topbar");
    if (!bar) return;
    if (button) {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      bar.classList.toggle("menu-open", open);
    } else if (bar.classList.contains("menu-open") && !event.target.closest("#topbar-menu")) {
      bar.classList.remove("menu-open");
      bar.querySelector(".menu-button").setAttribute("aria-expanded", "false");
    }
  });
  document.addEventListener("keydown", function (event) {
    var bar = document.getElementById("topbar");
    if (event.key === "Escape" && bar && bar.classList.contains("menu-open")) {
      bar.classList.remove("menu-open");
      var button = bar.querySelector(".menu-button");
      button.setAttribute("aria-expanded", "false");
      button.focus();
    }
  });

  // Tabs that scroll sideways on a phone: the current one in view.
  document.querySelectorAll(".space-tabs [aria-current=page]").forEach(function (tab) {
    var row = tab.parentElement;
    if (row.scrollWidth > row.clientWidth) row.scrollLeft = tab.offsetLeft - row.clientWidth / 3;
  });

  // --- One time format (dashboard/core/moments.py) ------------------------------------------
  // <time class="moment" datetime="…Z">4 minutes ago</time>: the words stay current, and the
  // title (hover) and data-local (shown on focus by console.css) give the moment in the
  // browser's own time zone. Words as the server's relative(): the largest unit only.
  var UNITS = [[3600, 60, "minute"], [86400, 3600, "hour"], [14 * 86400, 86400, "day"],
               [60 * 86400, 7 * 86400, "week"], [365 * 86400, 30 * 86400, "month"]];
  function relative(ms) {
    var seconds = (Date.now() - ms) / 1000;
    var future = seconds < 0;
    seconds = Math.abs(seconds);
    if (seconds < 60) return "just now";
    var count = Math.floor(seconds / (365 * 86400)), name = "year";
    for (var i = 0; i < UNITS.length; i++) {
      if (seconds < UNITS[i][0]) { count = Math.floor(seconds / UNITS[i][1]); name = UNITS[i][2]; break; }
    }
    var words = count + " " + name + (count === 1 ? "" : "s");
    return future ? "in " + words : words + " ago";
  }
  var LOCAL = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
    second: "2-digit", hourCycle: "h23", timeZoneName: "short"
  });
  function moments(root) {
    (root || document).querySelectorAll("time.moment[datetime]").forEach(function (el) {
      var ms = Date.parse(el.getAttribute("datetime"));
      if (isNaN(ms)) return;
      if (!el.hasAttribute("data-local")) {
        var local = LOCAL.format(new Date(ms));
        el.setAttribute("data-local", local);
        el.title = local;
      }
      var words = relative(ms);
      if (el.textContent !== words) el.textContent = words;
    });
  }
  moments(document);
  document.addEventListener("htmx:afterSettle", function () { moments(document); });
  document.addEventListener("htmx:wsAfterMessage", function () { moments(document); });
  setInterval(function () { moments(document); }, 30000);
})();
