// Recommendations, goals and triggers: live rows, and the spec's copy button. No inline
// scripts (CSP-ready); the pages work without this file (the raw spec is there to select).
(function () {
  "use strict";

  document.documentElement.classList.add("js-prevention");

  // --- live rows -----------------------------------------------------------------------------
  // The server pushes the same rows to everyone (dashboard/prevention/live.py), appended to a
  // list's <tbody data-live-rows> marked data-live. Each tab puts them in place: a changed row
  // replaces the tab's copy, a new one goes on top, a deleted one goes, and rows the tab's own
  // filter (its form fields marked data-live-filter) excludes are dropped.

  function matches(row, form) {
    if (!form) return true;
    var fields = form.querySelectorAll("[data-live-filter]");
    for (var i = 0; i < fields.length; i++) {
      var value = fields[i].value;
      if (value && row.getAttribute("data-" + fields[i].name) !== value) return false;
    }
    return true;
  }

  function settle(body) {
    var selector = body.getAttribute("data-filter-form");
    var form = selector ? document.querySelector(selector) : null;
    var pushed = Array.prototype.slice.call(body.querySelectorAll(":scope > tr[data-live]"));
    pushed.forEach(function (row) {
      var kind = row.getAttribute("data-live");
      row.removeAttribute("data-live");
      var copies = Array.prototype.filter.call(body.children, function (other) {
        return other !== row && row.id && other.id === row.id;
      });
      if (kind === "deleted") {
        copies.forEach(function (other) { other.remove(); });
        row.remove();
        return;
      }
      if (copies.length) {
        copies[0].replaceWith(row);
        copies.slice(1).forEach(function (other) { other.remove(); });
      } else {
        body.insertBefore(row, body.firstElementChild);
      }
      if (!matches(row, form)) {
        row.remove();
        return;
      }
      row.classList.add("live-flash");
    });
  }

  function settleAll() {
    document.querySelectorAll("tbody[data-live-rows]").forEach(settle);
  }
  document.addEventListener("htmx:wsAfterMessage", settleAll);

  // "Load more" may bring rows a live push put on the page already: keep the first of each id.
  document.addEventListener("htmx:afterSwap", function () {
    document.querySelectorAll("tbody[data-live-rows]").forEach(function (body) {
      var seen = {};
      Array.prototype.slice.call(body.querySelectorAll(":scope > tr[id]")).forEach(function (row) {
        if (seen[row.id]) row.remove(); else seen[row.id] = true;
      });
    });
  });

  // --- copy the spec -------------------------------------------------------------------------

  function say(button, text) {
    var status = document.getElementById(button.getAttribute("aria-describedby") || "");
    if (status) status.textContent = text;
    var label = button.textContent;
    if (!button.dataset.label) button.dataset.label = label;
    button.textContent = text.indexOf("Copied") === 0 ? "Copied" : button.dataset.label;
    window.setTimeout(function () {
      button.textContent = button.dataset.label;
      if (status) status.textContent = "";
    }, 2500);
  }

  function fallbackCopy(source) {
    // Older browsers, or a page not served over https/localhost: select the text and copy.
    var details = source.closest("details");
    if (details) details.open = true;
    source.focus();
    source.select();
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { say(button, "Copied the spec (" + text.length + " characters)."); },
        function () {
          say(button, fallbackCopy(source) ? "Copied the spec." : "Could not copy: select the raw Markdown and copy it.");
        }
      );
    } else {
      say(button, fallbackCopy(source) ? "Copied the spec." : "Could not copy: select the raw Markdown and copy it.");
    }
  });
})();
