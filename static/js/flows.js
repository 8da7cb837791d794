// Flow trace page: the page-size select applies itself; expand or collapse every JSON tree.
(function () {
  "use strict";
  document.documentElement.classList.add("js-agentcore");

  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.requestSubmit();
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-details]");
    if (!button) return;
    var open = button.dataset.details === "open";
    var root = document.getElementById("fe-timeline");
    if (!root) return;
    root.querySelectorAll("details").forEach(function (el) { el.open = open; });
  });
})();
