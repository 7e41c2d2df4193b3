% rebase("base")
<h1>System</h1>
% include("config_msgs")
<p>Firmware {{version}}. {{slots}}.</p>
<h2>Firmware update</h2>
<form method="post" action="/system/update" enctype="multipart/form-data" class="config">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label>Signed bundle <input type="file" name="file" accept=".raucb" required></label>
  <button type="submit">Check and install</button>
  <span class="muted">The bundle's signature, board and every block are checked before anything is written; it goes
  to the other slot and runs after a restart, kept only if the box passes its health check.</span>
</form>
% if upd["state"] != "idle":
<p>Last update: <a href="/system/update">{{upd["state"]}}</a>{{(": " + upd["error"]) if upd.get("error") else ""}}</p>
% end
% if health:
<p>Health: <strong>{{"good" if health["healthy"] else "BAD"}}</strong> ({{health["why"]}});
  the hardware watchdog has been fed {{health["watchdog_feeds"]}} times{{"" if health["healthy"] else " and is no longer fed: the box resets unless this clears"}}.
  LEDs: {{", ".join("%s %s" % (k, "on" if v else "off") for k, v in sorted(health["leds"].items())) or "none"}}.</p>
% end
<table class="records">
  <thead><tr><th>Daemon</th><th>State</th><th>PID</th><th>Restarts</th><th>Up</th><th>Last exit</th></tr></thead>
  <tbody>
% for d in daemons:
    <tr><td>{{d.get("name")}}</td><td>{{d.get("state")}}</td><td>{{d.get("pid") or "-"}}</td>
      <td class="num">{{d.get("restarts")}}</td><td class="num">{{fmt_dur(d.get("uptime_s"))}}</td><td>{{d.get("last_exit") or ""}}</td></tr>
% end
  </tbody>
</table>
<h2>Configuration backup</h2>
<p><a href="/system/backup.json" download>Download the whole configuration</a> (users' passwords only as hashes).</p>
<form method="post" action="/system/restore" enctype="multipart/form-data" class="config">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label>Restore from <input type="file" name="file" accept=".json,application/json" required></label>
  <button type="submit">Check and restore</button>
  <span class="muted">Everything is checked first; a bad file replaces nothing.</span>
</form>
<h2>Recordings</h2>
<form method="post" action="/system/retention" class="config">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label>Keep recordings <input name="days" size="5" value="{{retention}}"> days (0 = for ever)</label>
  <button type="submit">Save</button>
  <span class="muted">The recorder deletes older finished recordings every hour; each deletion is in the audit log.</span>
</form>
<h2>Restart</h2>
<form method="post" action="/system/restart" class="config">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label><input type="checkbox" name="confirm" value="yes"> I know every call in progress is dropped</label>
  <button type="submit">Restart the box</button>
</form>
