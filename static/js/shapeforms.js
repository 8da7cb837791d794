// Generated forms (dashboard/core/shapeforms.py): show only the chosen variant of a union, and
// add rows to lists in place (without JavaScript both work through the server).
(function () {
  "use strict";
  if (window.__shapeforms) return;
  window.__shapeforms = true;

  function sync(union) {
    var checked = union.querySelector(":scope > .sf-choices input:checked");
    var chosen = checked ? checked.value : "";
    union.querySelectorAll(":scope > .sf-variant").forEach(function (variant) {
      if (variant.dataset.sfVariant === chosen) variant.removeAttribute("data-sf-unchosen");
      else variant.setAttribute("data-sf-unchosen", "");
    });
  }

  // A text member offered with options: its text input shows for "Another" (and while it
  // holds text nothing in the select replaces, so a typed value never disappears).
  function syncPick(select) {
    var other = select.parentElement.querySelector(":scope > [data-sf-other]");
    if (!other) return;
    var text = other.querySelector("input");
    var typed = select.value === "" && text && text.value !== "";
    if (select.value === "_other" || typed) other.removeAttribute("data-sf-hidden");
    else other.setAttribute("data-sf-hidden", "");
  }

  function init(root) {
    root.querySelectorAll("[data-shapeform]").forEach(function (form) {
      if (form.classList.contains("sf-js")) return;
      form.classList.add("sf-js");
      form.querySelectorAll("[data-sf-union]").forEach(sync);
      form.querySelectorAll("select[data-sf-pick]").forEach(syncPick);
    });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches) return;
    if (input.matches("select[data-sf-pick]")) {
      syncPick(input);
      if (input.value === "_other") {
        var text = input.parentElement.querySelector(":scope > [data-sf-other] input");
        if (text) text.focus();
      }
      return;
    }
    if (!input.matches(".sf-choices input[type=radio]")) return;
    sync(input.closest("[data-sf-union]"));
  });

  // "Add a row": copy the last row with the next index and empty values.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-sf-add]") : null;
    if (!button) return;
    var list = button.closest("[data-sf-list]");
    var rows = list.querySelector(":scope > .sf-row-list");
    var last = rows.lastElementChild;
    var count = list.querySelector(":scope > [data-sf-count]");
    if (!last || !count) return;
    event.preventDefault();
    var index = Number(last.dataset.sfRow);
    var next = index + 1;
    var path = list.dataset.sfList;
    var clone = last.cloneNode(true);
    clone.dataset.sfRow = String(next);
    var nameFrom = path + "." + index + ".", nameTo = path + "." + next + ".";
    var idFrom = "-" + path.replace(/[^A-Za-z0-9_-]/g, "-") + "-" + index + "-";
    var idTo = "-" + path.replace(/[^A-Za-z0-9_-]/g, "-") + "-" + next + "-";
    clone.querySelectorAll("*").forEach(function (el) {
      ["name", "id", "for", "aria-describedby", "data-sf-list"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) el.setAttribute(attr, value.split(nameFrom).join(nameTo).split(idFrom).join(idTo));
      });
      if (el.matches("input[type=checkbox], input[type=radio]")) el.checked = false;
      else if (el.matches("input:not([type=hidden]), textarea")) el.value = "";
      else if (el.matches("select")) el.selectedIndex = 0;
      if (el.matches(".errorlist")) el.remove();
      if (el.classList.contains("has-error")) el.classList.remove("has-error");
      el.removeAttribute("aria-invalid");
    });
    rows.appendChild(clone);
    count.value = String(next + 1);
    var max = Number(button.dataset.sfMax || 0);
    if (max && next + 1 >= max) button.hidden = true;
    var first = clone.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
  document.addEventListener("htmx:load", function (event) { init(event.detail.elt || document); });
})();
