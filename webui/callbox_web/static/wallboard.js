/* CallBox wallboard: follow /api/stream (server-sent events, one a second).
 * Text goes in with textContent only. EventSource reconnects by itself; a stream that
 * cannot start (session ended) reloads the page, which leads to the login form. */
(function () {
  "use strict";
  var STATES = ["ready", "ringing", "on-call", "acw", "not-ready"];

  function dur(s) {
    if (typeof s !== "number" || !isFinite(s)) { return ""; }
    s = Math.max(0, Math.round(s));
    var m = Math.floor(s / 60), sec = s % 60;
    return m + ":" + (sec < 10 ? "0" : "") + sec;
  }

  function set(id, v) {
    var el = document.getElementById(id);
    if (el && el.textContent !== String(v)) { el.textContent = String(v); }
  }

  function update(d) {
    set("wall-waiting", d.waiting);
    STATES.forEach(function (st) { set("wall-agents-" + st, d.agents[st] || 0); });
    var al = document.getElementById("wall-alarms");
    al.textContent = d.alarms.map(function (a) { return "span " + a.span + ": " + a.alarms.join(" "); }).join("  ");
    al.hidden = d.alarms.length === 0;
    var body = document.querySelector("#wall-queues tbody");
    while (body.rows.length > d.queues.length) { body.deleteRow(-1); }
    d.queues.forEach(function (q, i) {
      var tr = body.rows[i] || body.insertRow();
      var cells = [q.name, q.waiting, dur(q.longest_wait_s), q.sl_pct === null ? "-" : Math.round(q.sl_pct) + "%",
                   q.answered, q.abandoned, q.agents_ready];
      cells.forEach(function (c, j) {
        var td = tr.cells[j] || tr.insertCell();
        if (j) { td.className = "num"; }
        if (td.textContent !== String(c)) { td.textContent = String(c); }
      });
    });
    var errs = Object.keys(d.errors || {}).map(function (k) { return d.errors[k]; });
    set("wall-status", errs.length ? errs.join("; ") : "Live.");
  }

  var opened = false;
  var es = new EventSource("/api/stream");
  es.onopen = function () { opened = true; };
  es.onmessage = function (e) { update(JSON.parse(e.data)); };
  es.onerror = function () {
    if (!opened) { window.location.reload(); }
    set("wall-status", "Connection lost; reconnecting.");
    opened = false;
  };
}());
