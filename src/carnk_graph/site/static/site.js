/* carnk-graph site: search over the prebuilt index (static/search-index.js) and sortable tables.
   Everything here is an extra: every page reads the same without JavaScript. */
(function () {
  "use strict";
  var root = document.documentElement.getAttribute("data-root") || "";
  var index = window.CARNK_SEARCH || [];
  function norm(s) {
    return (s || "").toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z0-9]+/g, " ").trim();
  }
  var prepared = index.map(function (e) { return [" " + norm(e[1]) + " ", " " + norm(e[2]) + " ", e]; });
  function search(q) {
    var toks = norm(q).split(" ").filter(Boolean);
    if (!toks.length) { return []; }
    var hits = [];
    prepared.forEach(function (p) {
      var hay = p[0] + p[1];
      if (toks.every(function (t) { return hay.indexOf(t) >= 0; })) {
        var whole = norm(q), rank = p[0].indexOf(" " + whole) >= 0 ? 0 : p[1].indexOf(" " + whole) >= 0 ? 1 : 2;
        hits.push([rank + 3 * (p[2][5] || 0), p[2][1].toLowerCase(), p[2]]);
      }
    });
    hits.sort(function (a, b) { return a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0); });
    return hits.map(function (h) { return h[2]; });
  }
  function list(hits, limit) {
    var ul = document.createElement("ul");
    hits.slice(0, limit).forEach(function (e) {
      var li = document.createElement("li"), a = document.createElement("a"), kind = document.createElement("span");
      a.href = root + e[4];
      a.textContent = e[1];
      kind.className = "note";
      kind.textContent = " " + e[3] + (e[2] ? " · " + e[2] : "");
      li.appendChild(a); li.appendChild(kind); ul.appendChild(li);
    });
    if (!hits.length) { var li = document.createElement("li"); li.textContent = "nothing found"; ul.appendChild(li); }
    return ul;
  }
  var box = document.getElementById("search-box"), drop = document.getElementById("search-results");
  var page = document.getElementById("search-page-results");
  function show() {
    var q = box.value, hits = search(q);
    drop.innerHTML = "";
    if (!norm(q)) { drop.classList.remove("open"); return; }
    drop.appendChild(list(hits, 30));
    drop.classList.add("open");
  }
  if (box && drop) {
    box.addEventListener("input", show);
    box.addEventListener("focus", show);
    document.addEventListener("click", function (ev) { if (!drop.contains(ev.target) && ev.target !== box) { drop.classList.remove("open"); } });
  }
  if (page && box) {  /* the A-Z page opened with ?q=: show the matches first */
    var q = new URLSearchParams(window.location.search).get("q");
    if (q) { box.value = q; page.appendChild(list(search(q), 500)); }
  }
  /* sortable tables: click a heading; cells sort by data-sort, else by their text */
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var heads = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(heads, function (th, col) {
      th.tabIndex = 0;
      function sort() {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        function key(r) { var c = r.cells[col]; return c ? (c.getAttribute("data-sort") || c.textContent.trim().toLowerCase()) : ""; }
        rows.sort(function (a, b) { var x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1); });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { sort(); } });
    });
  });
})();
