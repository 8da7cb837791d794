// The inbox and the space overview: items pushed live, kept where they belong.
//
// Every change arrives in #needs-sink (dashboard/inbox/live.py) marked data-live and data-slot.
// After each websocket message it moves into the page's list for its slot
// ([data-needs-list=<slot>]) at the place its data-sort gives it, replacing the copy the page
// shows; a deleted one leaves; one the page has no list for (a kind it filters out) is
// dropped. A copy the person is working in (focus, typed text, a request on its way) is left
// alone: an update waits for the next one, a removal until the request is done.
(function () {
  "use strict";

  function canOperate(el) {
    var root = el.closest("[data-live-root]");
    return Boolean(root && root.hasAttribute("data-can-operate"));
  }

  function typedIn(el) {
    return Array.prototype.some.call(el.querySelectorAll("textarea, input"), function (field) {
      if (field.type === "hidden") return false;
      if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
      return field.value !== field.defaultValue;
    });
  }

  function busy(el) {
    return el.contains(document.activeElement) || el.hasAttribute("data-busy") || typedIn(el);
  }

  function place(list, el) {
    var key = el.getAttribute("data-sort") || "";
    var others = Array.prototype.slice.call(list.children);
    for (var i = 0; i < others.length; i++) {
      if ((others[i].getAttribute("data-sort") || "") > key) { list.insertBefore(el, others[i]); return; }
    }
    list.appendChild(el);
  }

  function flash(el) {
    el.classList.remove("live-flash");
    void el.offsetWidth; // restart the animation
    el.classList.add("live-flash");
  }

  function recount() {
    document.querySelectorAll("[data-needs-count-of]").forEach(function (count) {
      var list = document.querySelector('[data-needs-list="' + count.getAttribute("data-needs-count-of") + '"]');
      count.textContent = list ? String(list.children.length) : "0";
    });
  }

  function apply() {
    var sink = document.getElementById("needs-sink");
    if (!sink || !sink.children.length) return;
    Array.prototype.slice.call(sink.children).forEach(function (el) {
      el.remove();
      var old = document.getElementById(el.id);
      if (el.getAttribute("data-live") === "deleted") {
        if (!old) return;
        if (busy(old)) old.setAttribute("data-gone", "");
        else old.remove();
        return;
      }
      var slot = el.getAttribute("data-slot");
      var list = slot ? document.querySelector('[data-needs-list="' + slot + '"]') : null;
      // A whole-element slot (the overview's counts and usage) is replaced where it stands.
      var whole = slot ? document.querySelector('[data-needs-whole="' + slot + '"]') : null;
      if (whole && old) { el.removeAttribute("data-live"); old.replaceWith(el); return; }
      if (!list) return;
      if (!canOperate(list)) el.querySelectorAll(".operator-only").forEach(function (c) { c.remove(); });
      if (old) {
        if (busy(old)) return;
        old.remove();
      }
      el.removeAttribute("data-live");
      place(list, el);
      flash(el);
    });
    recount();
  }

  // Requests from inside an item (an approval being answered) keep it on the page until done.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var item = event.detail.elt.closest && event.detail.elt.closest("[data-slot]");
    if (item) item.setAttribute("data-busy", "");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var item = event.detail.elt.closest && event.detail.elt.closest("[data-slot]");
    if (!item) return;
    item.removeAttribute("data-busy");
    if (item.hasAttribute("data-gone") && !busy(item)) { item.remove(); recount(); }
  });
  document.addEventListener("htmx:wsAfterMessage", apply);
})();
