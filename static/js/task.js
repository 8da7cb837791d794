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

  // --- live updates ---------------------------------------------------------------------------
  // The server pushes the same fragments to everyone (dashboard/tasks/live.py): new journal
  // records appended to their journal marked data-live, new executions at the top. Here each tab
  // applies its own view: a journal's record-type filter and order (data-type / data-order on
  // its list), no record twice, operator controls only for operators, and an approval form
  // turns into its answer when the answer arrives.

  function liveRoot() { return document.querySelector("[data-live-root][data-task-id]"); }
  function canOperate() {
    var root = liveRoot();
    return Boolean(root && root.hasAttribute("data-can-operate"));
  }
  function stripControls(element) {
    if (canOperate()) {
      // The pushed approval form does not know the task: the page does.
      var root = liveRoot();
      element.querySelectorAll("input[name=task]").forEach(function (input) {
        if (!input.value && root) input.value = root.dataset.taskId;
      });
      return;
    }
    element.querySelectorAll(".operator-only").forEach(function (el) { el.remove(); });
  }

  function copiesOf(list, item) {
    return Array.prototype.filter.call(list.children, function (other) {
      return other !== item && item.id && other.id === item.id;
    });
  }

  function records(list, except) {
    return Array.prototype.filter.call(list.children, function (li) {
      return li !== except && li.classList.contains("record");
    });
  }

  // Journals only grow at the end (ascending): a new record goes after every record as old as
  // it (before them, newest first), unless that is past a "Load more" (a page not loaded yet).
  function place(list, item) {
    var created = Number(item.dataset.createdUs) || 0;
    var others = records(list, item);
    var more = list.querySelector(":scope > li.load-more");
    if ((list.dataset.order || "ASC") === "DESC") {
      for (var i = 0; i < others.length; i++) {
        if ((Number(others[i].dataset.createdUs) || 0) <= created) {
          list.insertBefore(item, others[i]);
          return true;
        }
      }
      if (more) return false;
      list.appendChild(item);
      return true;
    }
    for (var j = 0; j < others.length; j++) {
      if ((Number(others[j].dataset.createdUs) || 0) > created) {
        list.insertBefore(item, others[j]);
        return true;
      }
    }
    if (more) return false;
    list.appendChild(item);
    return true;
  }

  function markAnswered(approvalId, action) {
    if (!approvalId) return;
    var form = document.getElementById("approval-" + approvalId);
    if (!form) return;
    var answer = document.createElement("p");
    answer.className = "approval-answered";
    answer.appendChild(document.createTextNode("Answered: "));
    var badge = document.createElement("span");
    badge.className = "tbadge tone-" + (action === "APPROVED" ? "ok" : "failed");
    badge.textContent = action.charAt(0) + action.slice(1).toLowerCase().replace(/_/g, " ");
    answer.appendChild(badge);
    form.replaceWith(answer);
  }

  function reconcileJournal(list) {
    var type = list.dataset.type || "";
    list.querySelectorAll(":scope > li[data-live]").forEach(function (item) {
      var kind = item.dataset.live;
      item.removeAttribute("data-live");
      var copies = copiesOf(list, item);
      if (kind === "deleted") {
        item.remove();
        copies.forEach(function (copy) { copy.remove(); });
        return;
      }
      if (item.dataset.action) markAnswered(item.dataset.approvalId, item.dataset.action);
      // Records never change: the one the tab shows stays.
      if (copies.length || (type && item.dataset.type !== type) || !place(list, item)) {
        item.remove();
        return;
      }
      stripControls(item);
      item.classList.add("live-flash");
    });
    // "Load more" after records pushed live (newest first) may bring one again: keep the first.
    var seen = {};
    Array.prototype.slice.call(list.querySelectorAll(":scope > li[id]")).forEach(function (li) {
      if (seen[li.id]) li.remove(); else seen[li.id] = true;
    });
  }

  // A new execution: its journal is not watched by this socket yet; ask for it (the server
  // then has the page re-render once, so records written meanwhile are shown too).
  function adoptExecutions(socket) {
    document.querySelectorAll("section.execution[data-live]").forEach(function (section) {
      section.removeAttribute("data-live");
      stripControls(section);
      if (socket && section.dataset.executionId) {
        socket.send(JSON.stringify({ journal: section.dataset.executionId }));
      }
    });
  }

  // Above the journal: the pushed approval banner and Actions-panel buttons get the task (or
  // lose their controls), and a finding pushed twice is listed once.
  function reconcileGlance() {
    ["approval-banner", "actions-approval"].forEach(function (id) {
      var el = document.getElementById(id);
      if (el) stripControls(el);
    });
    var findings = document.getElementById("findings-list");
    if (!findings) return;
    var seen = {};
    Array.prototype.slice.call(findings.querySelectorAll(":scope > li[id]")).forEach(function (li) {
      if (seen[li.id]) li.remove(); else seen[li.id] = true;
    });
  }

  document.addEventListener("htmx:wsAfterMessage", function (event) {
    if (!liveRoot()) return;
    adoptExecutions(event.detail.socketWrapper);
    document.querySelectorAll("ol.journal").forEach(reconcileJournal);
    reconcileGlance();
    // The actions panel is pushed to everyone; only operators have a visible place for it.
    var actions = document.getElementById("task-actions");
    if (actions && !canOperate()) actions.replaceChildren();
  });
  document.addEventListener("htmx:afterSwap", function () {
    document.querySelectorAll("ol.journal").forEach(reconcileJournal);
  });

  // A resync re-renders the whole page with the filter of its URL: give each journal back the
  // record-type filter and order this tab had chosen for it.
  var chosen = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!event.detail.elt || event.detail.elt.id !== "task-resync") return;
    chosen = {};
    document.querySelectorAll("ol.journal[id]").forEach(function (list) {
      chosen[list.id] = { type: list.dataset.type || "", order: list.dataset.order || "ASC" };
    });
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!chosen || !event.detail.elt || event.detail.elt.id !== "task-resync") return;
    var wanted = chosen;
    chosen = null;
    Object.keys(wanted).forEach(function (id) {
      var list = document.getElementById(id);
      var section = list && list.closest(".journal-section");
      var form = section && section.querySelector("form.journal-filter");
      var want = wanted[id];
      if (!form || ((list.dataset.type || "") === want.type && (list.dataset.order || "ASC") === want.order)) return;
      form.elements.namedItem("type").value = want.type;
      form.querySelectorAll("input[name=order]").forEach(function (radio) { radio.checked = radio.value === want.order; });
      htmx.trigger(form, "submit");
    });
  });
})();
