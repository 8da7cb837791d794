// The board: keyboard use, and live rows kept to this tab's own filter and sort.
(function () {
  "use strict";

  // --- live rows ------------------------------------------------------------------------------
  // The server pushes every changed task to every open board (dashboard/tasks/live.py), appended
  // to #task-rows and marked data-live="created|updated|deleted". Each tab has its own filter and
  // sort in its URL, so here, after each websocket message, the pushed row replaces the tab's
  // copy, is dropped when the tab's filter (read from its filter form) excludes it, and a row new
  // to the tab goes where the tab's sort puts it (or nowhere, if that is on a page not loaded
  // yet). Duplicate ids (a live row, then "Load more" bringing it again) keep the first.

  function filterForm() { return document.getElementById("board-filters"); }

  function field(form, name) {
    var el = form && form.elements.namedItem(name);
    if (!el || el.disabled) return "";
    // A date input drops a value it cannot show (a date-time from a hand-edited URL): the
    // server-rendered attribute still has it.
    return (el.value || el.getAttribute("value") || "").trim();
  }

  // A bound of the created-date filter in microseconds since the epoch (as data-created-us),
  // the way the server reads it: a date alone is midnight UTC, and as the upper bound it means
  // "through that day"; a date-time without a zone is UTC.
  function bound(text, end) {
    if (!text) return null;
    var ms;
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
      ms = Date.parse(text + "T00:00:00Z") + (end ? 86400000 : 0);
    } else {
      ms = Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(text) ? text : text + "Z");
    }
    return isNaN(ms) ? null : ms * 1000;
  }

  // The status field: "" is open work (the statuses in the form's data-open-statuses), "ALL"
  // every status, else one status.
  function tabQuery() {
    var form = filterForm();
    var status = field(form, "status");
    var open = status === "" ? ((form && form.getAttribute("data-open-statuses")) || "").split(" ") : null;
    return {
      status: status === "ALL" ? "" : status,
      open: open,
      priority: field(form, "priority"),
      type: field(form, "type"),
      primary: field(form, "primary"),
      after: bound(field(form, "created_after"), false),
      before: bound(field(form, "created_before"), true),
      sort: field(form, "sort") || (open ? "PRIORITY" : "CREATED_AT"),
      order: field(form, "order") || "DESC",
    };
  }

  function matches(row, q) {
    var d = row.dataset;
    if (q.open) { if (q.open.indexOf(d.status) < 0) return false; }
    else if (q.status && d.status !== q.status) return false;
    if (q.priority && d.priority !== q.priority) return false;
    if (q.type && d.type !== q.type) return false;
    if (q.primary && d.primary !== q.primary) return false;
    var created = Number(d.createdUs);
    if (q.after !== null && !(created >= q.after)) return false;
    if (q.before !== null && !(created < q.before)) return false;
    return true;
  }

  // < 0 when row a comes before row b in the tab's sort (the API's: priority rank, then
  // creation time, then task id, all in the chosen order). Open work is merged by the server
  // (dashboard/tasks/filters.py order_key): priority in the chosen order, then the oldest.
  function compare(a, b, q) {
    if (q.open && q.sort === "PRIORITY") {
      var ra = Number(a.dataset.priorityRank) || 0, rb = Number(b.dataset.priorityRank) || 0;
      if (ra !== rb) return (q.order === "DESC" ? rb - ra : ra - rb) < 0 ? -1 : 1;
      var ca = Number(a.dataset.createdUs) || 0, cb = Number(b.dataset.createdUs) || 0;
      if (ca !== cb) return ca < cb ? -1 : 1;
      return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    }
    var keysA = [Number(a.dataset.createdUs) || 0, a.id];
    var keysB = [Number(b.dataset.createdUs) || 0, b.id];
    if (q.sort === "PRIORITY") {
      keysA.unshift(Number(a.dataset.priorityRank) || 0);
      keysB.unshift(Number(b.dataset.priorityRank) || 0);
    }
    for (var i = 0; i < keysA.length; i++) {
      if (keysA[i] < keysB[i]) return q.order === "DESC" ? 1 : -1;
      if (keysA[i] > keysB[i]) return q.order === "DESC" ? -1 : 1;
    }
    return 0;
  }

  function taskRows(body) {
    return Array.prototype.slice.call(body.querySelectorAll(":scope > tr.task-row"));
  }

  function copiesOf(body, row) {
    return Array.prototype.filter.call(body.children, function (other) {
      return other !== row && other.id === row.id;
    });
  }

  // What the person was doing with the old copy stays: its selection (with the version they
  // selected, so a bulk change reports the task changed meanwhile instead of overwriting it),
  // the keyboard cursor and the focus.
  function carryOver(old, row) {
    var was = old.querySelector("input[name=task]");
    var now = row.querySelector("input[name=task]");
    if (was && now && was.checked) { now.checked = true; now.value = was.value; }
    if (old.classList.contains("kbd-current")) row.classList.add("kbd-current");
    return old.contains(document.activeElement);
  }

  function place(body, row, q) {
    var others = taskRows(body).filter(function (other) { return other !== row; });
    for (var i = 0; i < others.length; i++) {
      if (compare(row, others[i], q) < 0) { body.insertBefore(row, others[i]); return true; }
    }
    // After every loaded row: with more pages to load, it belongs to one of them.
    if (document.getElementById("load-more")) return false;
    body.appendChild(row);
    return true;
  }

  function flash(row) {
    row.classList.remove("live-flash");
    void row.offsetWidth; // restart the animation
    row.classList.add("live-flash");
  }

  // Pushed rows are the same for everyone: the selection box is for operators only (the
  // server refuses a bulk change from anyone else anyway).
  function canOperate(body) {
    var root = body.closest("[data-live-root]");
    return Boolean(root && root.hasAttribute("data-can-operate"));
  }

  function reconcile() {
    var body = document.getElementById("task-rows");
    if (!body) return;
    var q = tabQuery();
    var operator = canOperate(body);
    Array.prototype.slice.call(body.querySelectorAll(":scope > tr[data-live]")).forEach(function (row) {
      var kind = row.dataset.live;
      row.removeAttribute("data-live");
      if (!operator) row.querySelectorAll(".operator-only").forEach(function (el) { el.remove(); });
      var copies = copiesOf(body, row);
      if (kind === "deleted") {
        row.remove();
        copies.forEach(function (copy) { copy.remove(); });
        return;
      }
      var old = copies.shift();
      copies.forEach(function (copy) { copy.remove(); });
      var focused = false;
      if (old) {
        focused = carryOver(old, row);
        old.replaceWith(row);
      }
      if (!matches(row, q)) { row.remove(); return; }
      if (!old && !place(body, row, q)) { row.remove(); return; }
      flash(row);
      if (focused) {
        var link = row.querySelector("a.task-link");
        if (link) link.focus({ preventScroll: true });
      }
    });
    // Plain duplicates ("Load more" after live rows): keep the first.
    var seen = {};
    Array.prototype.slice.call(body.querySelectorAll(":scope > tr[id]")).forEach(function (row) {
      if (seen[row.id]) row.remove(); else seen[row.id] = true;
    });
  }

  // Live counts change the numbers; a chip shows while it counts something or is the filter.
  function refreshChips() {
    var nav = document.getElementById("status-chips");
    if (!nav) return;
    var any = false;
    nav.querySelectorAll("a.chip[data-status]").forEach(function (chip) {
      var count = parseInt((chip.querySelector("b") || {}).textContent, 10) || 0;
      chip.hidden = !count && !chip.classList.contains("active");
      if (!chip.hidden) any = true;
    });
    var none = nav.querySelector(".chips-none");
    if (none) none.hidden = any;
    // "Open work" and "All statuses" count the statuses they cover.
    nav.querySelectorAll("a.chip.scope[data-statuses]").forEach(function (scope) {
      var sum = 0;
      scope.getAttribute("data-statuses").split(" ").forEach(function (status) {
        var b = document.getElementById("chip-count-" + status);
        sum += b ? (parseInt(b.textContent, 10) || 0) : 0;
      });
      var out = scope.querySelector(".scope-count");
      if (out) out.textContent = String(sum);
    });
  }

  // --- menus ----------------------------------------------------------------------------------
  // The toolbar's <details> menus (filters, views, export) close on a click elsewhere or Esc;
  // one open at a time.
  function menus() { return Array.prototype.slice.call(document.querySelectorAll(".board-tools details[open]")); }
  document.addEventListener("click", function (event) {
    var inside = event.target.closest(".board-tools details");
    menus().forEach(function (menu) { if (menu !== inside) menu.open = false; });
    if (event.target.closest(".keys-button")) {
      var help = document.getElementById("keys-help");
      if (help) help.showModal();
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = menus();
    if (!open.length) return;
    open.forEach(function (menu) { menu.open = false; });
    var summary = open[0].querySelector("summary");
    if (summary) summary.focus();
  });

  document.addEventListener("htmx:wsAfterMessage", function () {
    reconcile();
    refreshChips();
  });
  document.addEventListener("htmx:afterSwap", function () { reconcile(); });

  // --- keyboard -------------------------------------------------------------------------------
  // j/k move, Enter opens, x selects, / goes to the filters, ? shows the keys.
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
      var panel = document.getElementById("board-filter-panel");
      if (panel) panel.open = true;
      var first = document.querySelector("#board-filters select:not([disabled])");
      if (first) { first.focus(); event.preventDefault(); }
    } else if (event.key === "?" && help) {
      if (help.open) help.close(); else help.showModal();
      event.preventDefault();
    }
  });
})();
