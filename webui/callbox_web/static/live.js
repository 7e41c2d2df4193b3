/* CallBox dashboard: refresh the four tables from /api/live once a second.
 *
 * The cells are built the same way as routes/dashboard.py builds them for the
 * first render. Text goes in with textContent only, never as HTML. A request is
 * not started before the previous one finished; a 401 (session ended) reloads
 * the page, which leads to the login form.
 */
(function () {
  "use strict";

  var PERIOD_MS = 1000;
  var ALARMS = ["los", "ais", "lof", "rai"];

  function text(v) {
    return v === null || v === undefined ? "" : String(v);
  }

  function dur(s) {
    if (typeof s !== "number" || !isFinite(s)) { return ""; }
    s = Math.max(0, Math.round(s));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var mm = h ? (m < 10 ? "0" + m : String(m)) : String(m);
    return (h ? h + ":" : "") + mm + ":" + (sec < 10 ? "0" + sec : String(sec));
  }

  function since(t, now) {
    return typeof t === "number" ? dur(now - t) : "";
  }

  var CELLS = {
    spans: function (s) {
      var alarms = s.alarms || {};
      var active = ALARMS.filter(function (a) { return alarms[a]; }).map(function (a) { return a.toUpperCase(); });
      return [
        [text(s.name) || "span" + text(s.span), ""],
        [[s.kind, s.framing, s.line_code].map(text).join(" ").trim(), ""],
        s.up ? ["up", "ok"] : ["down", "bad"],
        active.length ? [active.join(" "), "bad"] : ["none", "ok"],
        [text(s.dchan), s.dchan === "up" ? "ok" : "bad"]
      ];
    },
    calls: function (c, now) {
      return [
        [c.span === null || c.span === undefined ? "seat" + text(c.chan) : text(c.span) + "/" + text(c.chan), ""],
        [text(c.ani), ""],
        [text(c.dnis), ""],
        [text(c.state), ""],
        [text(c.queue), ""],
        [text(c.agent), ""],
        [text(c.seat), ""],
        [since(c.start, now), "num"]
      ];
    },
    agents: function (a, now) {
      return [
        [text(a.login), ""],
        [text(a.name), ""],
        [text(a.seat), ""],
        [text(a.state), "state-" + text(a.state)],
        [since(a.since, now), "num"],
        [text(a.calls), "num"]
      ];
    },
    queues: function (q) {
      return [
        [text(q.name), ""],
        [text(q.waiting), "num"],
        [dur(q.longest_wait_s), "num"],
        [text(q.agents_ready), "num"],
        [text(q.answered), "num"],
        [text(q.abandoned), "num"]
      ];
    }
  };

  function setCell(td, cell) {
    if (td.textContent !== cell[0]) { td.textContent = cell[0]; }
    if (td.className !== cell[1]) { td.className = cell[1]; }
  }

  function fill(table, rows) {
    var body = table.tBodies[0];
    var ncols = table.tHead.rows[0].cells.length;
    if (!rows.length) {
      while (body.rows.length > 1) { body.deleteRow(-1); }
      var tr = body.rows[0] || body.insertRow();
      if (tr.className !== "empty" || tr.cells.length !== 1) {
        while (tr.cells.length) { tr.deleteCell(-1); }
        tr.className = "empty";
        var td = tr.insertCell();
        td.colSpan = ncols;
        td.textContent = table.getAttribute("data-empty") || "";
      }
      return;
    }
    rows.forEach(function (cells, i) {
      var tr = body.rows[i] || body.insertRow();
      if (tr.className === "empty") {
        while (tr.cells.length) { tr.deleteCell(-1); }
        tr.className = "";
      }
      cells.forEach(function (cell, j) { setCell(tr.cells[j] || tr.insertCell(), cell); });
      while (tr.cells.length > cells.length) { tr.deleteCell(-1); }
    });
    while (body.rows.length > rows.length) { body.deleteRow(-1); }
  }

  function update(data) {
    var errors = data.errors || {};
    Object.keys(CELLS).forEach(function (panel) {
      var table = document.querySelector('table[data-panel="' + panel + '"]');
      var error = document.querySelector('[data-error-for="' + panel + '"]');
      if (!table || !error) { return; }
      if (errors[panel]) {
        error.textContent = errors[panel];
        error.hidden = false;
        table.hidden = true;
        return;
      }
      error.hidden = true;
      table.hidden = false;
      fill(table, (data[panel] || []).map(function (item) { return CELLS[panel](item, data.now); }));
    });
  }

  function status(msg) {
    var el = document.getElementById("live-status");
    if (el && el.textContent !== msg) { el.textContent = msg; }
  }

  function poll() {
    if (document.hidden) {
      setTimeout(poll, PERIOD_MS);
      return;
    }
    fetch("/api/live", { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (r.status === 401) {
          window.location.reload();
          throw new Error("session ended");
        }
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (data) {
        update(data);
        status("");
      })
      .catch(function (e) {
        status("Live update failed (" + e.message + "); retrying.");
      })
      .then(function () { setTimeout(poll, PERIOD_MS); });
  }

  setTimeout(poll, PERIOD_MS);
}());
