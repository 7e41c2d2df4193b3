% rebase("base")
<h1>Span diagnostics</h1>
% include("config_msgs")
<p><a href="/diagnostics">Refresh</a> &middot; the same as the console's <code>show span N</code>,
<code>loopback</code> and <code>bert</code>.</p>
% for s in spans:
<section class="panel">
  <h2>{{s.get("kind", "E1")}} {{s["span"]}} is {{"up" if s.get("up") else "DOWN"}}</h2>
% alarms = [k.upper() for k, v in sorted((s.get("alarms") or {}).items()) if v]
% failures = [k.upper() for k, v in sorted((s.get("failures") or {}).items()) if v]
  <p>{{("Receiver has " + ", ".join(alarms) + ".") if alarms else "No alarms detected."}}
     Failures: {{", ".join(failures) or "none"}}.
     Framing {{str(s.get("framing", "")).upper()}}, line code {{str(s.get("line_code", "")).upper()}},
     loopback {{s.get("loopback", "off")}}.</p>
  <table class="records">
    <thead><tr><th>Counter</th><th>Value</th></tr></thead>
    <tbody>
% for k, v in sorted((s.get("counters") or {}).items()):
      <tr><td class="mono">{{k}}</td><td class="num">{{v}}</td></tr>
% end
    </tbody>
  </table>
% p = (s.get("perf") or {}).get("current")
% if p:
  <table class="records">
    <thead><tr><th>This interval</th>{{!"".join("<th>%s</th>" % c.upper() for c in perf)}}</tr></thead>
    <tbody><tr><td></td>{{!"".join('<td class="num">%d</td>' % int(p.get(c, 0)) for c in perf)}}</tr></tbody>
  </table>
% end
% b = berts.get(s["span"])
  <p>BERT: {{("%s, %s, %d bits, %d errors, BER %s, %d sync losses" % (b.get("pattern"), "in sync" if b.get("synced") else "NO SYNC", b.get("bits", 0), b.get("errors", 0), ("%.2e" % b["ber"]) if b.get("ber") is not None else "-", b.get("sync_losses", 0))) if b and b.get("running") else "not running"}}</p>
% if admin:
  <form method="post" action="/diagnostics/loopback" class="config">
    <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="span" value="{{s["span"]}}">
    <label>Loopback <select name="mode">
% for m in loopbacks:
      <option value="{{m}}"{{!" selected" if m == s.get("loopback", "off") else ""}}>{{m}}</option>
% end
    </select></label>
    <label><input type="checkbox" name="confirm" value="yes"> calls on this span are dropped</label>
    <button type="submit">Set</button>
  </form>
  <form method="post" action="/diagnostics/bert" class="config">
    <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="span" value="{{s["span"]}}">
    <label>Pattern 2^<select name="pattern">
% for pt in patterns:
      <option value="{{pt}}"{{!" selected" if pt == "15" else ""}}>{{pt}}</option>
% end
    </select>-1</label>
    <label><input type="checkbox" name="inverted" value="yes"> inverted</label>
    <button type="submit" name="action" value="start">Start BERT</button>
    <button type="submit" name="action" value="insert">Insert an error</button>
    <button type="submit" name="action" value="reset">Reset counts</button>
    <button type="submit" name="action" value="stop">Stop</button>
  </form>
% end
</section>
% end
% if not spans:
<p>No spans.</p>
% end
