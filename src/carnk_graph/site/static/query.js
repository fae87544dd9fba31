/* carnk-graph question page: run a saved question (or a typed query) on the server's endpoint and
   show the answer as a table. Opened from disk there is no endpoint: the page says so. */
(function () {
  "use strict";
  var root = document.documentElement.getAttribute("data-root") || "";
  var labels = {};
  (window.CARNK_SEARCH || []).forEach(function (e) { labels[e[0]] = [e[1], e[4]]; });
  var status = document.getElementById("query-status");
  if (window.location.protocol === "file:" && status) {
    status.textContent = "Opened from disk: run `carnk-graph serve` and open this page there to run the questions.";
  }
  function cell(term) {
    var td = document.createElement("td");
    if (!term) { return td; }
    if (term.type === "uri" && labels[term.value]) {
      var a = document.createElement("a");
      a.href = root + labels[term.value][1];
      a.title = term.value;
      a.textContent = labels[term.value][0];
      td.appendChild(a);
    } else {
      td.textContent = term.value;
    }
    return td;
  }
  function render(target, data) {
    target.innerHTML = "";
    if (typeof data.boolean === "boolean") { target.textContent = data.boolean ? "yes" : "no"; return; }
    var vars = data.head.vars, rows = data.results.bindings;
    var p = document.createElement("p");
    p.className = "row-count";
    p.textContent = rows.length + (rows.length === 1 ? " row" : " rows");
    var table = document.createElement("table"), head = table.createTHead().insertRow(), body = table.createTBody();
    table.className = "results";
    vars.forEach(function (v) { var th = document.createElement("th"); th.textContent = v; head.appendChild(th); });
    rows.forEach(function (b) { var tr = body.insertRow(); vars.forEach(function (v) { tr.appendChild(cell(b[v])); }); });
    target.appendChild(p);
    target.appendChild(table);
  }
  function fail(target, text) {
    target.innerHTML = "";
    var p = document.createElement("p");
    p.className = "error";
    p.textContent = text;
    target.appendChild(p);
  }
  function run(form, target, url, init) {
    target.textContent = "running…";
    fetch(url, init).then(function (r) {
      return r.text().then(function (t) {
        if (!r.ok) { throw new Error(t || ("HTTP " + r.status)); }
        return JSON.parse(t);
      });
    }).then(function (data) { render(target, data); })
      .catch(function (e) { fail(target, "Could not run it: " + e.message); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("form.run-saved"), function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var name = form.getAttribute("data-name"), params = new URLSearchParams();
      Array.prototype.forEach.call(form.querySelectorAll("input[type=text]"), function (i) {
        if (i.value) { params.append(i.name, i.value); }
      });
      run(form, document.getElementById("answer-" + name), root + "saved/" + encodeURIComponent(name) + "?" + params.toString(),
          {headers: {"Accept": "application/sparql-results+json"}});
    });
  });
  var free = document.querySelector("form.run-free");
  if (free) {
    free.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = new URLSearchParams();
      body.append("query", free.querySelector("textarea").value);
      run(free, document.getElementById("answer-free"), root + "sparql",
          {method: "POST", body: body, headers: {"Accept": "application/sparql-results+json"}});
    });
  }
})();
