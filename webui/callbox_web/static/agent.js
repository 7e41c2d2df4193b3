/* CallBox agent page: refresh the state and the screen pop from /api/agent once a second.
 * Text goes in with textContent only; a 401 (session ended) reloads to the login form. */
(function () {
  "use strict";
  function set(id, v) {
    var el = document.getElementById(id);
    if (el && el.textContent !== String(v)) { el.textContent = String(v); }
  }
  function fmt(t) { return new Date(t * 1000).toLocaleString(); }
  function update(d) {
    var a = d.agent;
    if (a) {
      set("agent-state", a.state);
      document.getElementById("agent-state").className = "state-" + a.state;
      set("agent-reason", a.reason || "");
      set("agent-pending", a.pending ? "; then " + a.pending : "");
      set("agent-seat", a.seat || "-");
      set("agent-calls", a.calls || 0);
    }
    var err = document.getElementById("agent-error");
    if (d.error) { err.textContent = d.error; err.hidden = false; } else if (err.textContent.indexOf("not reachable") >= 0) { err.hidden = true; }
    var pop = document.getElementById("screen-pop"), c = d.call;
    pop.hidden = !c;
    if (!c) { return; }
    set("pop-ani", c.ani || "");
    set("pop-vip", c.priority ? "yes (priority " + c.priority + ")" : "no");
    set("pop-queue", c.queue || "");
    set("pop-digits", c.digits || "");
    set("pop-vars", Object.keys(c.vars || {}).sort().map(function (k) { return k + "=" + c.vars[k]; }).join(", "));
    var ul = document.getElementById("pop-history");
    while (ul.firstChild) { ul.removeChild(ul.firstChild); }
    (d.history || []).forEach(function (h) {
      var li = document.createElement("li");
      li.textContent = fmt(h.start) + " " + h.disposition + " " + (h.queue || "") + " " + (h.agent || "");
      ul.appendChild(li);
    });
  }
  function poll() {
    fetch("/api/agent", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); throw new Error("session ended"); }
        return r.json();
      })
      .then(update)
      .catch(function () {})
      .then(function () { setTimeout(poll, 1000); });
  }
  setTimeout(poll, 1000);
}());
