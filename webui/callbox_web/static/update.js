/* CallBox firmware update page: follow /api/update once a second until the update ends.
 * Text goes in with textContent only. */
(function () {
  "use strict";
  function set(id, v) {
    var el = document.getElementById(id);
    if (el && el.textContent !== String(v)) { el.textContent = String(v); }
  }
  function poll() {
    var x = new XMLHttpRequest();
    x.open("GET", "/api/update");
    x.onload = function () {
      if (x.status === 401) { window.location.reload(); return; }
      if (x.status !== 200) { setTimeout(poll, 2000); return; }
      var d = JSON.parse(x.responseText);
      set("upd-state", d.state);
      set("upd-pct", d.percent + " %");
      document.getElementById("upd-bar").value = d.percent;
      set("upd-text", d.text || "");
      set("upd-slots", d.slots || "");
      var err = document.getElementById("upd-error");
      err.textContent = d.error || "";
      err.hidden = !d.error;
      if (d.state === "receiving" || d.state === "checking") { setTimeout(poll, 1000); }
    };
    x.onerror = function () { setTimeout(poll, 2000); };
    x.send();
  }
  poll();
}());
