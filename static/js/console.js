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
  function setLive(state) {
    var el = document.getElementById("live-status");
    if (!el) return;
    el.hidden = false;
    el.dataset.state = state;
    el.querySelector(".live-label").textContent = state === "live" ? "Live" : "Reconnecting…";
  }
  document.addEventListener("htmx:wsOpen", function () {
    setLive("live");
    if (opened) document.body.dispatchEvent(new CustomEvent("console:resync"));
    opened = true;
  });
  document.addEventListener("htmx:wsClose", function () { setLive("reconnecting"); });
  document.addEventListener("htmx:wsError", function () { setLive("reconnecting"); });
})();
