// The chat page: say where the page stands when its websocket opens (so the server sends
// exactly what it lacks), keep the message box pleasant (Enter sends, Shift+Enter breaks the
// line, the Send button says "Sending…" until the server answers), follow the reply as it
// grows, and say so when a reply in progress has gone quiet for too long.
(function () {
  "use strict";
  var root = document.getElementById("chat-root");
  if (!root) return;
  var lastHeard = Date.now();
  var idle = (parseInt(root.getAttribute("data-idle"), 10) || 45) * 1000;
  var socket = null;

  function position() {
    var pos = root.querySelector(".stream-pos");
    if (!pos) return { run: null, after: 0 };
    return { run: pos.getAttribute("data-run") || null, after: parseInt(pos.getAttribute("data-seq"), 10) || 0 };
  }

  function hello() {
    if (!socket) return;
    var at = position();
    socket.send(JSON.stringify({ streams: "hello", run: at.run, after: at.after }));
  }

  function nearBottom() {
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 160;
  }

  // History and live copies of one reply (a reply that finished while the page loaded): keep
  // the live one.
  function dedupe() {
    var live = root.querySelectorAll("#chat-live .exchange[data-response-id]");
    live.forEach(function (x) {
      var id = x.getAttribute("data-response-id");
      root.querySelectorAll('#conversation > .exchange[data-response-id="' + CSS.escape(id) + '"]').forEach(function (old) {
        old.remove();
      });
    });
  }

  function resync() {
    var url = root.getAttribute("data-resync-url");
    if (!url || !window.htmx) return;
    htmx.ajax("GET", url, { target: "#conversation", swap: "outerHTML" }).then(hello);
  }

  root.addEventListener("htmx:wsOpen", function (event) {
    socket = event.detail.socketWrapper;
    lastHeard = Date.now();
    document.getElementById("chat-lost").hidden = true;
    hello();
  });
  root.addEventListener("htmx:wsClose", function () { socket = null; });

  var stick = false;
  root.addEventListener("htmx:wsBeforeMessage", function () { stick = nearBottom(); });
  root.addEventListener("htmx:wsAfterMessage", function () {
    lastHeard = Date.now();
    document.getElementById("chat-lost").hidden = true;
    var pos = root.querySelector(".stream-pos");
    if (pos && pos.getAttribute("data-resync")) { pos.removeAttribute("data-resync"); resync(); }
    dedupe();
    var button = root.querySelector(".send-button");
    if (button && !button.disabled) button.textContent = "Send";
    if (stick) window.scrollTo(0, document.body.scrollHeight);
  });

  // Sending: the form's fields go over the socket (htmx ws-send). Until the server answers
  // with a fresh message box (or the same text and the reason it was not sent), the button
  // says so; the typed text stays where it is.
  root.addEventListener("htmx:wsConfigSend", function (event) {
    var form = event.target.closest ? event.target.closest("form") : null;
    var button = form ? form.querySelector("button") : null;
    if (form && form.id === "composer") {
      button = form.querySelector(".send-button");
      var text = form.querySelector("textarea");
      if (text && !text.value.trim()) { event.preventDefault(); text.focus(); return; }
    }
    if (!socket && form && form.getAttribute("action")) {
      // No open websocket (a proxy that does not pass them, or a reconnect under way): the
      // socket would only queue the message. Post the form instead, as without JavaScript;
      // the server waits for the reply and shows the page with it.
      event.preventDefault();
      postPlainly(form, button);
      return;
    }
    if (button) { button.disabled = true; button.textContent = "Sending…"; }
    stick = true;
  });

  function csrfToken() {
    var input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    if (input && input.value) return input.value;
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }

  function postPlainly(form, button) {
    // Forms that arrived over the socket (retry, a prompt's choices) carry no CSRF token.
    if (!form.querySelector('input[name="csrfmiddlewaretoken"]')) {
      var token = document.createElement("input");
      token.type = "hidden";
      token.name = "csrfmiddlewaretoken";
      token.value = csrfToken();
      form.appendChild(token);
    }
    if (button) { button.disabled = true; button.textContent = "Sending…"; }
    HTMLFormElement.prototype.submit.call(form);  // no submit event: htmx stays out of it
  }
  root.addEventListener("htmx:wsAfterSend", function (event) {
    // Choice and retry buttons live in the reply; a new reply replaces their purpose.
    var form = event.detail && event.detail.elt ? event.detail.elt.closest("form") : null;
    if (form && form.id !== "composer") {
      setTimeout(function () {
        var b = form.querySelector("button");
        if (b) { b.disabled = false; b.textContent = b.getAttribute("data-label") || b.textContent.replace("Sending…", "Sent"); }
      }, 1500);
    }
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target || target.tagName !== "TEXTAREA" || !target.closest("#composer")) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      target.closest("form").requestSubmit();
    }
  });

  // A reply in progress that has gone silent (no fragment, no beat) for too long: the relay
  // may be gone with its server. Say so instead of spinning for ever.
  setInterval(function () {
    var working = root.querySelector("#chat-live .xstatus.xs-sending, #chat-live .xstatus.xs-working, #chat-live .xstatus.xs-replying");
    var quiet = Date.now() - lastHeard > idle;
    document.getElementById("chat-lost").hidden = !(working && quiet);
  }, 2000);

  dedupe();
  var box = document.querySelector("#composer textarea");
  if (box && !location.hash) box.focus();
})();
