// The task page's small behaviours. No inline scripts (CSP-ready); everything works without
// this file too (the journal filter submits normally, "Load more" is a link).
(function () {
  "use strict";

  // With htmx present, the journal filter applies on change: hide its "Apply" button.
  if (window.htmx) document.documentElement.classList.add("js-tasks");

  // "Load more" replaces its own list item: if it had the focus, give it to the first record
  // that arrived, so keyboard users continue where they were.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var item = event.detail.target;
    if (!item || !item.classList || !item.classList.contains("load-more")) return;
    var list = item.parentElement;
    if (list && item.contains(document.activeElement)) {
      list.dataset.focusIndex = String(Array.prototype.indexOf.call(list.children, item));
    }
  });
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("ol.journal[data-focus-index]").forEach(function (list) {
      var first = list.children[parseInt(list.dataset.focusIndex, 10)];
      delete list.dataset.focusIndex;
      if (first) {
        first.setAttribute("tabindex", "-1");
        first.focus({ preventScroll: true });
      }
    });
  });
})();
