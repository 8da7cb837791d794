// The top bar's inbox link on every page: the number of approvals waiting in the tab's title,
// and desktop notifications (opt-in, per browser) for new approval requests and root causes.
// The server pushes the count and the notices over the top bar's own socket
// (templates/inbox/topbar.html, dashboard/inbox/live.py).
(function () {
  "use strict";

  var PREFS = "console.notifications"; // {"approval": true, "root-cause": true}
  var SHOWN = "console.notified"; // {notice key: when}, so several tabs notify once
  var KINDS = ["approval", "root-cause"];

  function read(name) {
    try { return JSON.parse(window.localStorage.getItem(name) || "{}") || {}; } catch (e) { return {}; }
  }
  function write(name, value) {
    try { window.localStorage.setItem(name, JSON.stringify(value)); } catch (e) { /* private mode */ }
  }

  // --- the count in the title ---------------------------------------------------------------
  function setTitle() {
    var link = document.getElementById("needs-count");
    var count = link ? link.getAttribute("data-count") : "";
    var base = document.title.replace(/^\(\d+\) /, "");
    document.title = count && count !== "0" ? "(" + count + ") " + base : base;
  }

  // --- notifications ------------------------------------------------------------------------
  function supported() { return "Notification" in window; }
  function allowed() { return supported() && window.Notification.permission === "granted"; }

  function alreadyShown(key) {
    var shown = read(SHOWN);
    var now = Date.now();
    Object.keys(shown).forEach(function (k) { if (now - shown[k] > 3600000) delete shown[k]; });
    var seen = Boolean(shown[key]);
    shown[key] = now;
    write(SHOWN, shown);
    return seen;
  }

  function show(notice) {
    var kind = notice.getAttribute("data-kind");
    var key = notice.getAttribute("data-key") || "";
    if (!allowed() || !read(PREFS)[kind] || alreadyShown(key)) return;
    var url = notice.getAttribute("data-url");
    var shown = new window.Notification(notice.getAttribute("data-title") || "Agent Console", {
      body: notice.getAttribute("data-body") || "",
      tag: key,
    });
    shown.onclick = function () {
      window.focus();
      if (url) window.location.assign(url);
      shown.close();
    };
    document.dispatchEvent(new CustomEvent("console:notified", { detail: { kind: kind, key: key, url: url } }));
  }

  function takeNotices() {
    var box = document.getElementById("needs-notify");
    if (!box) return;
    Array.prototype.slice.call(box.querySelectorAll("[data-notice]")).forEach(function (notice) {
      notice.remove();
      show(notice);
    });
  }

  document.addEventListener("htmx:wsAfterMessage", function () {
    setTitle();
    takeNotices();
  });

  // --- the settings card (the inbox page) --------------------------------------------------
  function settings() { return document.querySelector("[data-notify-settings]"); }

  function chosen(card) {
    var prefs = {};
    card.querySelectorAll("[data-notify-kind]").forEach(function (box) { prefs[box.value] = box.checked; });
    return prefs;
  }

  function describe(card) {
    var state = card.querySelector("[data-notify-state]");
    var enable = card.querySelector("[data-notify-enable]");
    var disable = card.querySelector("[data-notify-disable]");
    var prefs = read(PREFS);
    var on = KINDS.some(function (k) { return prefs[k]; });
    if (!supported()) {
      state.textContent = "This browser cannot show desktop notifications.";
      enable.hidden = true; disable.hidden = true;
      return;
    }
    var permission = window.Notification.permission;
    if (permission === "denied") {
      state.textContent = "Blocked: allow notifications for this site in the browser's settings, then turn them on here.";
    } else if (permission === "granted" && on) {
      state.textContent = "On in this browser.";
    } else {
      state.textContent = "Off in this browser.";
    }
    enable.hidden = permission === "granted" && on;
    disable.hidden = !(permission === "granted" && on);
  }

  function setUp() {
    var card = settings();
    if (!card || card.hasAttribute("data-ready")) return;
    card.setAttribute("data-ready", "");
    card.hidden = false;
    var prefs = read(PREFS);
    if (KINDS.some(function (k) { return k in prefs; })) {
      card.querySelectorAll("[data-notify-kind]").forEach(function (box) { box.checked = Boolean(prefs[box.value]); });
    }
    card.querySelector("[data-notify-enable]").addEventListener("click", function () {
      if (!supported()) return;
      // Asked for only now, after the click: browsers refuse (or bury) unprompted requests.
      window.Notification.requestPermission().then(function (permission) {
        if (permission === "granted") write(PREFS, chosen(card));
        describe(card);
      });
    });
    card.querySelector("[data-notify-disable]").addEventListener("click", function () {
      write(PREFS, {});
      describe(card);
    });
    card.addEventListener("change", function (event) {
      if (!event.target.hasAttribute("data-notify-kind")) return;
      if (allowed() && KINDS.some(function (k) { return read(PREFS)[k]; })) write(PREFS, chosen(card));
      describe(card);
    });
    describe(card);
  }

  function ready() { setTitle(); setUp(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
