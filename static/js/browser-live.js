// The live view of an AgentCore browser session.
//
// The page's websocket (htmx ws extension) hands this tab, and only this tab, a presigned
// live-view URL in <div id="live-view-endpoint" data-url data-expires-at>, a fresh one when it
// reconnects and before the old one expires. The viewer connects with the newest URL:
// - sandbox: a websocket of screencast frames (one binary message per JPEG/SVG picture),
//   drawn into <img id="live-view-frame">;
// - dcv: the Amazon DCV Web Client SDK (window.dcv, served from DCV_SDK_DIR).
// When the viewer is refused (expired or bad signature) it asks the page's socket for a new
// URL ({"live_view": "renew"}) and connects again. The URL is never logged or stored.
(function () {
  "use strict";

  var root = document.getElementById("live-view");
  if (!root) return;
  var mode = root.dataset.mode;
  var stateEl = document.getElementById("live-view-state");
  var overlay = document.getElementById("live-view-overlay");
  var frame = document.getElementById("live-view-frame");
  var meta = document.getElementById("live-view-meta");

  var endpoint = null; // {url, expiresAt}
  var pageSocket = null; // the htmx socket wrapper, to ask for a new URL
  var viewer = null; // the frame websocket (sandbox) or DCV connection
  var connecting = false;
  var ended = !root.dataset.ready;
  var retries = 0;
  var retryTimer = null;
  var frames = 0;
  var lastFrameAt = 0;
  var objectUrl = null;
  var waitingForUrl = false;

  var LABELS = {
    connecting: "Connecting…",
    live: "Live",
    stalled: "Live (no change on the page)",
    reconnecting: "Reconnecting…",
    renewing: "Getting a fresh link…",
    ended: "Session ended",
    error: "Not connected",
  };

  function setState(state, detail) {
    if (stateEl) {
      stateEl.dataset.state = state;
      stateEl.textContent = LABELS[state] + (detail ? ": " + detail : "");
    }
    if (!overlay) return;
    var hasPicture = frames > 0 || (mode === "dcv" && state === "live");
    if (state === "ended") {
      overlay.hidden = false;
      overlay.textContent = "This session has ended." + (frames ? " The last picture is shown." : "");
      overlay.classList.add("dim");
    } else if (!hasPicture) {
      overlay.hidden = false;
      overlay.classList.remove("dim");
      overlay.textContent = state === "error" && detail ? detail : LABELS[state];
    } else {
      overlay.hidden = true;
    }
  }

  function readEndpoint() {
    var el = document.getElementById("live-view-endpoint");
    if (!el) return;
    if (el.hasAttribute("data-ended")) { end(); return; }
    if (el.dataset.error) { setState("error", el.dataset.error); return; }
    if (!el.dataset.url) return;
    var fresh = { url: el.dataset.url, expiresAt: Date.parse(el.dataset.expiresAt) };
    // Read once, then drop it from the page: it only needs to live in this closure.
    el.removeAttribute("data-url");
    if (endpoint && fresh.url === endpoint.url) return;
    endpoint = fresh;
    waitingForUrl = false;
    if (!viewer && !connecting && !ended) connect();
  }

  function askForUrl() {
    if (waitingForUrl || ended) return;
    waitingForUrl = true;
    setState("renewing");
    if (pageSocket) pageSocket.send(JSON.stringify({ live_view: "renew" }));
    // Asked too soon after the last one (the server rate-limits): ask again later.
    setTimeout(function () { if (waitingForUrl) { waitingForUrl = false; askForUrl(); } }, 6000);
  }

  function retryLater() {
    if (ended || retryTimer) return;
    var delay = Math.min(15000, 500 * Math.pow(2, retries++)) * (0.5 + Math.random() / 2);
    setState("reconnecting");
    retryTimer = setTimeout(function () { retryTimer = null; connect(); }, delay);
  }

  function connect() {
    if (ended || !endpoint || viewer || connecting) return;
    if (Date.now() > endpoint.expiresAt - 3000) { askForUrl(); return; }
    if (mode === "sandbox") connectFrames();
    else if (mode === "dcv") connectDcv();
  }

  // --- sandbox: screencast frames over a websocket ---------------------------------------
  function sniffType(bytes) {
    if (bytes[0] === 0xff && bytes[1] === 0xd8) return "image/jpeg";
    if (bytes[0] === 0x89 && bytes[1] === 0x50) return "image/png";
    return "image/svg+xml";
  }

  function showFrame(buffer) {
    var bytes = new Uint8Array(buffer);
    var url = URL.createObjectURL(new Blob([bytes], { type: sniffType(bytes) }));
    var previous = objectUrl;
    objectUrl = url;
    frame.onload = function () { if (previous) URL.revokeObjectURL(previous); };
    frame.src = url;
    frame.hidden = false;
    frames += 1;
    lastFrameAt = Date.now();
    frame.dataset.frames = String(frames);
    if (stateEl && stateEl.dataset.state !== "live") setState("live");
  }

  function connectFrames() {
    connecting = true;
    setState(frames ? "reconnecting" : "connecting");
    var socket = new WebSocket(endpoint.url.replace(/^http/, "ws"));
    socket.binaryType = "arraybuffer";
    viewer = socket;
    socket.onopen = function () { connecting = false; retries = 0; };
    socket.onmessage = function (event) {
      if (typeof event.data !== "string") { showFrame(event.data); return; }
      var message;
      try { message = JSON.parse(event.data); } catch (e) { return; }
      if (message.type === "hello") {
        if (meta) {
          meta.textContent = message.engine === "chromium"
            ? "Sandbox: screencast of a real headless Chromium (" + message.viewPort.width + " × " + message.viewPort.height + ")."
            : "Sandbox: a generated picture. " + (message.note || "");
        }
      } else if (message.type === "ended") {
        end();
      } else if (message.type === "error") {
        socket.refusal = message;
      }
    };
    socket.onclose = function (event) {
      connecting = false;
      if (viewer === socket) viewer = null;
      if (ended) return;
      if (event.code === 4401 || event.code === 4403) {
        // Expired or refused signature: a fresh URL is the cure.
        endpoint = null;
        askForUrl();
      } else if (event.code === 4404 || event.code === 4410) {
        end();
      } else {
        retryLater();
      }
    };
  }

  // --- AWS: the Amazon DCV Web Client SDK --------------------------------------------------
  function dcvParams() {
    return endpoint ? new URL(endpoint.url).searchParams : new URLSearchParams();
  }

  function connectDcv() {
    var dcv = window.dcv;
    if (!dcv) { setState("error", "the DCV SDK did not load (check DCV_SDK_DIR)"); return; }
    connecting = true;
    setState("connecting");
    var url = endpoint.url;
    dcv.authenticate(url, {
      promptCredentials: function () {},
      httpExtraSearchParams: dcvParams,
      error: function () {
        connecting = false;
        endpoint = null;
        askForUrl();
      },
      success: function (auth, result) {
        var session = result && result[0];
        if (!session) { connecting = false; retryLater(); return; }
        dcv.connect({
          url: url,
          sessionId: session.sessionId,
          authToken: session.authToken,
          divId: "dcv-display",
          baseUrl: root.dataset.dcvBase,
          callbacks: {
            httpExtraSearchParams: dcvParams,
            firstFrame: function () { frames += 1; retries = 0; setState("live"); },
            disconnect: function () { viewer = null; retryLater(); },
          },
        }).then(function (connection) {
          connecting = false;
          viewer = connection;
        }).catch(function () {
          connecting = false;
          viewer = null;
          retryLater();
        });
      },
    });
  }

  function end() {
    ended = true;
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
    if (viewer) {
      if (viewer.close) viewer.close();
      else if (viewer.disconnect) viewer.disconnect();
      viewer = null;
    }
    endpoint = null;
    setState("ended");
  }

  // The page's socket: keep its wrapper to ask for URLs, and read what it brings.
  document.addEventListener("htmx:wsOpen", function (event) {
    pageSocket = event.detail.socketWrapper;
  });
  document.addEventListener("htmx:wsAfterMessage", function () {
    readEndpoint();
    var status = document.querySelector(".browser-status[data-status]");
    if (status && status.dataset.status !== "READY") end();
  });

  // A page that changes nothing sends no frames: say so rather than look frozen.
  setInterval(function () {
    if (mode === "sandbox" && viewer && frames && stateEl) {
      var idle = Date.now() - lastFrameAt > 5000;
      if (idle && stateEl.dataset.state === "live") setState("stalled");
    }
  }, 2000);

  if (ended) setState("ended");
})();
