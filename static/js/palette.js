// The command palette (dashboard/core/palette.py): Ctrl/Cmd+K or the top bar's "Go to…" opens
// it on every page; what is typed goes to the server (htmx on #palette-q), which answers the
// results list; ↑/↓ choose, Enter goes, Esc closes. Without JavaScript "Go to…" is a link to
// the same search as a page.
(function () {
  "use strict";
  var dialog = document.getElementById("palette");
  var input = document.getElementById("palette-q");
  if (!dialog || !input) return;

  function options() {
    return Array.prototype.slice.call(dialog.querySelectorAll("#palette-results [role=option]"));
  }
  function selected() {
    return dialog.querySelector("#palette-results [role=option][aria-selected=true]");
  }
  function choose(option) {
    options().forEach(function (o) { o.setAttribute("aria-selected", o === option ? "true" : "false"); });
    input.setAttribute("aria-activedescendant", option ? option.id : "");
    if (option) option.scrollIntoView({ block: "nearest" });
  }
  function open() {
    if (dialog.open) { input.select(); return; }
    dialog.showModal();
    input.select();
    htmx.trigger(input, "paletteopen");
  }

  document.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey && event.key.toLowerCase() === "k") {
      event.preventDefault();
      open();
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target.closest(".palette-button");
    if (button) { event.preventDefault(); open(); return; }
    // A click on the backdrop (outside the dialog's box) closes it.
    if (event.target === dialog) dialog.close();
  });

  input.addEventListener("keydown", function (event) {
    var all = options();
    var at = all.indexOf(selected());
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!all.length) return;
      var step = event.key === "ArrowDown" ? 1 : -1;
      choose(all[(at + step + all.length) % all.length]);
    } else if (event.key === "Enter") {
      event.preventDefault();
      var go = at >= 0 ? all[at].querySelector(".palette-go") : null;
      if (go) go.click();
    }
  });
  // Results answered by the server: the first is chosen; a pointer chooses what it is over.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "palette-results") choose(options()[0] || null);
  });
  document.addEventListener("htmx:afterSettle", function () {
    var results = document.getElementById("palette-results");
    if (results && dialog.open && !selected()) choose(options()[0] || null);
  });
  dialog.addEventListener("mousemove", function (event) {
    var option = event.target.closest("[role=option]");
    if (option && option !== selected()) choose(option);
  });
})();
