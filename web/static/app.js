// Orchard's pages: live queue rows (server-sent events), sorting,
// filtering and countdowns. No framework, nothing from outside.
(function () {
  "use strict";
  function countdowns() {
    document.querySelectorAll("time[data-countdown]").forEach(function (t) {
      var at = Date.parse(t.getAttribute("data-countdown"));
      if (isNaN(at)) { return; }
      var s = Math.round((at - Date.now()) / 1000);
      t.textContent = s <= 0 ? "now" : (s >= 3600 ? Math.floor(s / 3600) + " h " : "") + Math.floor((s % 3600) / 60) + " min " + (s % 60) + " s";
    });
  }
  setInterval(countdowns, 1000);
  countdowns();

  // The pool version this page was rendered at: the server says at once
  // if it has moved since.
  var events = "/ui/events?since=" + encodeURIComponent(document.body.getAttribute("data-seen") || "");

  // My leads and the desk reload when a lead changes (a claim, a contact,
  // an assignment seen by the views), unless a form is being filled in.
  if (document.querySelector("[data-live-reload]")) {
    var busy = false;
    document.addEventListener("input", function () { busy = true; });
    new EventSource(events).addEventListener("pool", function () { if (!busy) { location.reload(); } });
  }

  var table = document.getElementById("queue");
  if (!table) { return; }
  var body = table.tBodies[0];
  var filter = document.getElementById("filter");
  function applyFilter() {
    var q = (filter.value || "").toLowerCase();
    Array.prototype.forEach.call(body.rows, function (r) { r.hidden = q !== "" && r.textContent.toLowerCase().indexOf(q) < 0; });
  }
  filter.addEventListener("input", applyFilter);
  var sortBy = -1, desc = false;
  function applySort() {
    if (sortBy < 0) { return; }
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[sortBy], y = b.cells[sortBy];
      if (!x || !y) { return 0; }
      var vx = x.getAttribute("data-v"), vy = y.getAttribute("data-v");
      var c = vx !== null && vy !== null ? Number(vx) - Number(vy) : x.textContent.localeCompare(y.textContent);
      return desc ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  table.querySelectorAll("button[data-sort]").forEach(function (b) {
    b.addEventListener("click", function () {
      var col = Number(b.getAttribute("data-sort"));
      desc = sortBy === col ? !desc : false;
      sortBy = col;
      applySort();
    });
  });
  function refresh() {
    fetch(table.getAttribute("data-live"), { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      body.innerHTML = html;
      applySort();
      applyFilter();
      table.setAttribute("data-refreshed", String(Date.now()));
    });
  }
  var es = new EventSource(events);
  es.addEventListener("pool", refresh);
})();
