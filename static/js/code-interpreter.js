// The code interpreter session page: say where the page stands when its websocket opens (so
// the server sends exactly what it lacks), switch tools without losing anything typed, run
// with Ctrl+Enter, show "Running…" until the server answers, and say so when a run in progress
// has gone quiet for too long.
(function () {
  "use strict";
  var root = document.getElementById("ci-root");
  if (!root) return;
  var form = document.getElementById("ci-form");
  var button = document.getElementById("ci-run");
  var socket = null;
  var lastHeard = Date.now();
  var idle = (parseInt(root.getAttribute("data-idle"), 10) || 45) * 1000;
  var waiting = null; // timer while a run request is unanswered

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
    htmx.ajax("GET", url, { target: "#ci-runs-region", swap: "outerHTML" }).then(hello);
  }

  // --- tools ----------------------------------------------------------------------------
  function chooseTool(name) {
    if (!form) return;
    var link = root.querySelector('.ci-tool[data-tool="' + name + '"]');
    if (!link) return;
    document.getElementById("ci-tool").value = name;
    root.querySelectorAll(".ci-tool").forEach(function (tab) {
      if (tab === link) tab.setAttribute("aria-current", "true"); else tab.removeAttribute("aria-current");
    });
    form.querySelectorAll(".ci-group").forEach(function (group) {
      group.hidden = (" " + group.getAttribute("data-tools") + " ").indexOf(" " + name + " ") < 0;
    });
    document.getElementById("ci-tool-help").textContent = link.getAttribute("data-help") || "";
    if (button && !button.disabled) button.textContent = label();
    var url = new URL(window.location.href);
    url.searchParams.set("tool", name);
    url.searchParams.delete("task");
    history.replaceState(history.state, "", url.toString());
  }

  function label() {
    var current = root.querySelector(".ci-tool[aria-current]");
    return current ? current.getAttribute("data-label") : "Run";
  }

  function focusFirst() {
    var group = form && form.querySelector(".ci-group:not([hidden])");
    var field = group && group.querySelector("textarea, input:not([type=hidden]), select");
    if (field) field.focus();
  }

  root.addEventListener("click", function (event) {
    var tab = event.target.closest(".ci-tool");
    if (tab && form) {
      event.preventDefault();
      chooseTool(tab.getAttribute("data-tool"));
      focusFirst();
      return;
    }
    var task = event.target.closest(".ci-task-link");
    if (task && form) {
      event.preventDefault();
      chooseTool("getTask");
      var input = form.querySelector('[name="task_id"]');
      if (input) { input.value = task.getAttribute("data-task"); input.focus(); }
      window.scrollTo({ top: 0, behavior: "smooth" });
    }
  });

  // --- running ----------------------------------------------------------------------------
  function settle() {
    if (waiting) { clearTimeout(waiting); waiting = null; }
    if (button) { button.disabled = false; button.textContent = label(); }
  }

  // Removing files cannot be taken back: ask first (capture phase, before htmx sends it).
  if (form) {
    form.addEventListener("submit", function (event) {
      var tool = document.getElementById("ci-tool");
      if (!tool || tool.value !== "removeFiles") return;
      var field = form.querySelector('[name="paths"]');
      var paths = (field ? field.value : "").split("\n").filter(function (line) { return line.trim(); });
      if (!paths.length) return; // the server says what is missing
      var what = paths.length === 1 ? "“" + paths[0].trim() + "”" : paths.length + " paths";
      if (!window.confirm("Remove " + what + " from this session? This cannot be undone.")) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    }, true);
  }

  root.addEventListener("htmx:wsConfigSend", function (event) {
    if (!form || event.target !== form) return;
    // No socket (refused, or reconnecting): cancelling here lets the form post the plain way,
    // which waits for the run and shows the page with its output.
    if (!socket) { event.preventDefault(); return; }
    if (button) { button.disabled = true; button.textContent = "Running…"; }
    waiting = setTimeout(settle, 20000);
  });

  root.addEventListener("htmx:wsOpen", function (event) {
    socket = event.detail.socketWrapper;
    lastHeard = Date.now();
    document.getElementById("ci-lost").hidden = true;
    hello();
  });
  root.addEventListener("htmx:wsClose", function () { socket = null; settle(); });

  root.addEventListener("htmx:wsBeforeMessage", function (event) {
    // The answer to this page's run request: the form's error region comes back.
    var text = event.detail && event.detail.message;
    if (typeof text === "string" && text.indexOf('id="ci-form-errors"') >= 0) settle();
  });
  root.addEventListener("htmx:wsAfterMessage", function () {
    lastHeard = Date.now();
    document.getElementById("ci-lost").hidden = true;
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

  // A run in progress that has gone silent (no fragment, no beat) for too long: the relay
  // may be gone with its server. Say so instead of spinning for ever.
  setInterval(function () {
    var running = root.querySelector("#ci-runs .ci-state-running");
    var quiet = Date.now() - lastHeard > idle;
    document.getElementById("ci-lost").hidden = !(running && quiet);
  }, 2000);

  if (button) button.textContent = label();
})();
