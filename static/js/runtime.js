// The runtime playground: say where the page stands when its websocket opens (so the server
// sends exactly what it lacks), invoke with Ctrl+Enter, show "Invoking…" until the server
// answers, and say so when an answer in progress has gone quiet for too long.
(function () {
  "use strict";
  var root = document.getElementById("rt-root");
  if (!root) return;
  var form = document.getElementById("rt-form");
  var button = document.getElementById("rt-run");
  var socket = null;
  var lastHeard = Date.now();
  var idle = (parseInt(root.getAttribute("data-idle"), 10) || 45) * 1000;
  var waiting = null;

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

  function resync() {
    var url = root.getAttribute("data-resync-url");
    if (!url || !window.htmx) return;
    htmx.ajax("GET", url, { target: "#rt-runs-region", swap: "outerHTML" }).then(hello);
  }

  function settle() {
    if (waiting) { clearTimeout(waiting); waiting = null; }
    if (button) { button.disabled = false; button.textContent = "Invoke"; }
  }

  root.addEventListener("htmx:wsConfigSend", function (event) {
    if (!form || event.target !== form) return;
    // No socket (refused, or reconnecting): cancelling here lets the form post the plain way,
    // which waits for the answer and shows the page with it.
    if (!socket) { event.preventDefault(); return; }
    if (button) { button.disabled = true; button.textContent = "Invoking…"; }
    waiting = setTimeout(settle, 20000);
  });

  root.addEventListener("htmx:wsOpen", function (event) {
    socket = event.detail.socketWrapper;
    lastHeard = Date.now();
    document.getElementById("rt-lost").hidden = true;
    hello();
  });
  root.addEventListener("htmx:wsClose", function () { socket = null; settle(); });
  root.addEventListener("htmx:wsBeforeMessage", function (event) {
    var text = event.detail && event.detail.message;
    if (typeof text === "string" && text.indexOf('id="rt-form-errors"') >= 0) settle();
  });
  root.addEventListener("htmx:wsAfterMessage", function () {
    lastHeard = Date.now();
    document.getElementById("rt-lost").hidden = true;
    var pos = root.querySelector(".stream-pos");
    if (pos && pos.getAttribute("data-resync")) { pos.removeAttribute("data-resync"); resync(); }
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!form || !target || !form.contains(target)) return;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  setInterval(function () {
    var busy = root.querySelector("#rt-runs .ci-state-sending, #rt-runs .ci-state-streaming");
    var quiet = Date.now() - lastHeard > idle;
    document.getElementById("rt-lost").hidden = !(busy && quiet);
  }, 2000);
})();
