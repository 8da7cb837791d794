// Live private-connection rows (dashboard/configuration/live.py): a row pushed as "created"
// is appended to #pc-rows; put it in name order, and when the tab shows that connection
// already (the page was rendered after it was made) keep one copy: the newer one. Changed
// rows flash briefly. No inline scripts (CSP-ready).
(function () {
  "use strict";

  function placeRows() {
    var body = document.getElementById("pc-rows");
    if (!body) return;
    Array.prototype.slice.call(body.querySelectorAll(":scope > tr[data-live]")).forEach(function (row) {
      var kind = row.getAttribute("data-live");
      row.removeAttribute("data-live");
      var others = Array.prototype.filter.call(body.querySelectorAll(":scope > tr"), function (r) {
        return r !== row && r.id === row.id;
      });
      if (others.length) {
        others[0].replaceWith(row);
        others.slice(1).forEach(function (r) { r.remove(); });
      } else if (kind === "created") {
        var name = row.getAttribute("data-name") || "";
        var next = Array.prototype.find.call(body.querySelectorAll(":scope > tr"), function (r) {
          return r !== row && (r.getAttribute("data-name") || "") > name;
        });
        if (next) body.insertBefore(row, next);
      }
      row.classList.add("live-flash");
    });
  }

  document.addEventListener("htmx:wsAfterMessage", function () {
    placeRows();
    var status = document.getElementById("pc-status");
    if (status && status.hasAttribute("data-live")) {
      status.removeAttribute("data-live");
      status.classList.remove("live-flash");
      void status.offsetWidth;  // restart the animation
      status.classList.add("live-flash");
    }
  });
  document.addEventListener("htmx:afterSwap", placeRows);
})();
