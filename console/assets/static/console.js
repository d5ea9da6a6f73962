// alertgw console: a little vanilla JavaScript on server-rendered pages.
// Everything works without it except live refresh; nothing here builds
// HTML from data (rows are rendered by the server and escaped there).
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  // Select all / none in a table of groups, and the selection count. The
  // listener sits on the document: live refresh replaces the table.
  document.addEventListener("change", function (e) {
    var all = e.target;
    if (all.matches("input[data-select-all]")) {
      document.querySelectorAll("input.sel[name=" + all.dataset.selectAll + "]").forEach(function (c) { c.checked = all.checked; });
    }
    if (all.matches("input.sel, input[data-select-all]")) { updateSelection(); }
  });
  updateSelection();

  // Confirm destructive buttons.
  document.querySelectorAll("[data-confirm]").forEach(function (b) {
    b.addEventListener("click", function (e) {
      if (!window.confirm(b.dataset.confirm)) { e.preventDefault(); }
    });
  });

  // The time-range picker: the custom from/to fields show on demand.
  var custom = document.getElementById("range-custom-toggle");
  if (custom) {
    custom.addEventListener("click", function (e) {
      e.preventDefault();
      document.getElementById("range-custom").hidden = false;
    });
  }

  // Live refresh: reload the rows of the inbox every data-refresh seconds,
  // keeping the analyst's selection and pausing while one exists or the
  // tab is hidden.
  var live = document.querySelector("[data-refresh]");
  if (live) {
    var every = parseInt(live.dataset.refresh, 10) * 1000;
    var status = document.getElementById("refresh-status");
    setInterval(function () {
      if (document.hidden || document.querySelector("input.sel:checked")) { return; }
      var url = new URL(window.location.href);
      url.searchParams.set("partial", "1");
      fetch(url.toString(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) {
          if (r.status === 401 || r.redirected) { window.location.reload(); return null; }
          if (!r.ok) { throw new Error("HTTP " + r.status); }
          return r.text();
        })
        .then(function (html) {
          if (html === null) { return; }
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById(live.id);
          if (fresh) { live.replaceWith(fresh); live = fresh; }
          updateSelection();
          if (status) { status.textContent = "updated " + new Date().toLocaleTimeString(); }
        })
        .catch(function (err) { if (status) { status.textContent = "refresh failed: " + err.message; } });
    }, every);
  }
});

function updateSelection() {
  var n = document.querySelectorAll("input.sel:checked").length;
  document.querySelectorAll("[data-needs-selection]").forEach(function (b) { b.disabled = n === 0; });
  var count = document.getElementById("selection-count");
  if (count) { count.textContent = n ? n + " selected" : ""; }
}
