// Board keyboard use: j/k move, Enter opens, x selects, / goes to the filters, ? shows the keys.
(function () {
  "use strict";
  var current = -1;

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#task-rows > tr[data-href]"));
  }
  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }
  function move(step) {
    var all = rows();
    if (!all.length) return;
    var active = document.querySelector("#task-rows > tr.kbd-current");
    current = active ? all.indexOf(active) : -1;
    current = Math.max(0, Math.min(all.length - 1, current + step));
    all.forEach(function (row) { row.classList.remove("kbd-current"); });
    var row = all[current];
    row.classList.add("kbd-current");
    var link = row.querySelector("a.task-link");
    if (link) link.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    var help = document.getElementById("keys-help");
    if (event.key === "j") { move(1); event.preventDefault(); }
    else if (event.key === "k") { move(-1); event.preventDefault(); }
    else if (event.key === "Enter") {
      var active = document.querySelector("#task-rows > tr.kbd-current");
      if (active && event.target.tagName !== "A") { window.location = active.dataset.href; event.preventDefault(); }
    } else if (event.key === "x") {
      var row = document.querySelector("#task-rows > tr.kbd-current input[type=checkbox]");
      if (row) { row.checked = !row.checked; event.preventDefault(); }
    } else if (event.key === "/") {
      var first = document.querySelector("#board-filters select:not([disabled])");
      if (first) { first.focus(); event.preventDefault(); }
    } else if (event.key === "?" && help) {
      if (help.open) help.close(); else help.showModal();
      event.preventDefault();
    }
  });
})();
