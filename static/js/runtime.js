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

  // --- the answer where the person looks ---------------------------------------------------
  // After invoking, the page scrolls to the new answer when it appears (newest first, below the
  // form) and follows it as it grows, until the person scrolls away. An answer streaming out of
  // sight shows a pill at the bottom of the screen that says so and goes to it; when it ends
  // out of sight the pill says it is ready for a few seconds.
  var progress = document.getElementById("rt-progress");
  var known = null; // ids of the answers shown when this page invoked, until its answer comes
  var following = null; // the answer this page asked for, while it is followed
  var readyUntil = 0;
  function answers() { return Array.prototype.slice.call(root.querySelectorAll("#rt-runs > .rt-inv")); }
  function busyAnswer() { return root.querySelector("#rt-runs > .rt-inv:has(.ci-state-sending, .ci-state-streaming)"); }
  function inSight(el) {
    var box = el.getBoundingClientRect();
    return box.bottom > 80 && box.top < window.innerHeight - 40;
  }
  function showProgress() {
    if (!progress) return;
    var busy = busyAnswer();
    var target = busy || (Date.now() < readyUntil ? following : null);
    if (!target || inSight(target)) { progress.hidden = true; return; }
    progress.href = "#" + target.id;
    progress.classList.toggle("done", !busy);
    progress.querySelector(".rt-progress-text").textContent = busy ? "Answering…" : "The answer is ready";
    progress.hidden = false;
  }
  function follow() {
    if (known) {
      var fresh = answers().filter(function (a) { return !known[a.id]; })[0];
      if (fresh) {
        known = null;
        following = fresh;
        fresh.scrollIntoView({ block: "start", behavior: "smooth" });
      }
    } else if (following && following.isConnected && busyAnswer() === following) {
      // Keep the end of a growing answer on screen while its top is still in sight.
      var box = following.getBoundingClientRect();
      if (box.top < window.innerHeight && box.top > -20 && box.bottom > window.innerHeight) {
        window.scrollBy({ top: Math.min(box.bottom - window.innerHeight + 24, box.top - 8) });
      }
    } else if (following && !busyAnswer()) {
      if (!inSight(following)) readyUntil = Date.now() + 6000;
      following = null;
    }
    showProgress();
  }
  if (progress) {
    progress.addEventListener("click", function (event) {
      var target = document.getElementById(progress.getAttribute("href").slice(1));
      if (!target) return;
      event.preventDefault();
      target.scrollIntoView({ block: "start", behavior: "smooth" });
      readyUntil = 0;
      progress.hidden = true;
    });
  }
  window.addEventListener("scroll", showProgress, { passive: true });

  root.addEventListener("htmx:wsConfigSend", function (event) {
    if (!form || event.target !== form) return;
    // No socket (refused, or reconnecting): cancelling here lets the form post the plain way,
    // which waits for the answer and shows the page with it.
    if (!socket) { event.preventDefault(); return; }
    if (button) { button.disabled = true; button.textContent = "Invoking…"; }
    known = {};
    answers().forEach(function (a) { known[a.id] = true; });
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
    follow();
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
    showProgress();
  }, 2000);
})();
