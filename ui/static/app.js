// hookd dashboard: small progressive enhancements. Every page works without
// this file; it adds refresh in place, search as you type, select-all and
// confirmations.
(function () {
  "use strict";

  // Refresh in place: regions marked data-live="name" are replaced by the
  // same regions of a fresh copy of this page, every data-refresh seconds,
  // unless the user is working inside one (focus or a checked box). Scroll
  // position, filters and form fields outside the regions stay as they are.
  function refreshEvery() {
    var el = document.querySelector("[data-refresh]");
    return el ? Math.max(2, parseInt(el.getAttribute("data-refresh"), 10) || 10) * 1000 : 0;
  }
  var timer = null;
  function schedule() {
    var ms = refreshEvery();
    if (ms) timer = setTimeout(refresh, ms);
  }
  function busy(region) {
    return region.contains(document.activeElement) && document.activeElement !== document.body ||
      region.querySelector("input[type=checkbox]:checked, details[open]") !== null;
  }
  function refresh() {
    if (document.hidden) { schedule(); return; }
    fetch(location.href, { credentials: "same-origin", headers: { "X-Requested-With": "refresh" } })
      .then(function (r) {
        if (!r.ok || r.url.indexOf("/ui/signin") >= 0) throw new Error("stop");
        return r.text();
      })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (old) {
          var fresh = doc.querySelector('[data-live="' + old.getAttribute("data-live") + '"]');
          if (fresh && !busy(old) && fresh.innerHTML !== old.innerHTML) {
            old.innerHTML = fresh.innerHTML;
          }
        });
        document.querySelectorAll("[data-live-time]").forEach(function (t) {
          var f = doc.querySelector("[data-live-time]");
          if (f) { t.textContent = f.textContent; t.setAttribute("datetime", f.getAttribute("datetime")); }
        });
        // A page that stopped asking for refresh (deliveries settled) stops.
        var note = document.querySelector("[data-refresh]");
        if (note && !doc.querySelector("[data-refresh]")) note.remove();
        applyFilter();
        schedule();
      })
      .catch(function () { /* signed out or offline: stop refreshing */ });
  }

  // Search as you type on the overview (the form still works on Enter).
  var filterInput = document.querySelector("input[data-filter]");
  function applyFilter() {
    if (!filterInput) return;
    var q = filterInput.value.trim().toLowerCase();
    document.querySelectorAll(filterInput.getAttribute("data-filter") + " tbody tr").forEach(function (tr) {
      var hay = (tr.getAttribute("data-search") || "").toLowerCase();
      tr.hidden = q !== "" && hay.indexOf(q) < 0;
    });
  }
  if (filterInput) filterInput.addEventListener("input", applyFilter);

  // Select all / count selected (dead letters).
  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    var form = all.form, name = all.getAttribute("data-select-all");
    var out = form.querySelector("[data-selected-count]");
    function boxes() { return form.querySelectorAll('input[type=checkbox][name="' + name + '"]'); }
    function count() {
      var n = 0; boxes().forEach(function (b) { if (b.checked) n++; });
      if (out) out.textContent = n ? n + " selected" : "";
      all.checked = n > 0 && n === boxes().length;
    }
    all.addEventListener("change", function () { boxes().forEach(function (b) { b.checked = all.checked; }); count(); });
    form.addEventListener("change", function (e) { if (e.target !== all) count(); });
  });

  // Confirm before destructive or bulk actions.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
    });
  });

  schedule();
})();
