% rebase("base")
% def pct(v):
%   return "" if v is None else "%.1f%%" % (100 * v)
% end
<h1>Reports</h1>
<form method="get" action="/reports" class="inline">
  <label>From <input type="date" name="from" value="{{p["from"]}}"></label>
  <label>To <input type="date" name="to" value="{{p["to"]}}"></label>
  <label>SL target T (s) <input name="T" size="4" value="{{"%g" % p["T"]}}"></label>
  <label>Short abandon (s) <input name="short" size="4" value="{{"%g" % p["short"]}}"></label>
  <button type="submit">Show</button>
  <a href="/reports.csv?from={{p["from"]}}&amp;to={{p["to"]}}&amp;T={{"%g" % p["T"]}}&amp;short={{"%g" % p["short"]}}" download>Export queues as CSV</a>
</form>
<h2>Queues</h2>
<p class="muted">Service level = answered within {{"%g" % p["T"]}} s / offered (other variants in the CSV and below).</p>
<table class="records">
  <thead><tr><th>Queue</th><th>Offered</th><th>Answered</th><th>Abandoned (short)</th><th>Timeouts</th>
    <th>Callbacks</th><th>Blocked</th><th>SL</th><th>SL answered</th><th>SL ignore short</th><th>Abandon</th>
    <th>ASA</th><th>Longest</th><th>AHT</th><th>ACW</th><th>FCR</th><th>Survey good</th></tr></thead>
  <tbody>
% for q in queues:
    <tr>
      <td>{{"All queues" if q["queue"] == "*" else q["queue"]}}</td>
      <td class="num">{{q["offered"]}}</td><td class="num">{{q["answered"]}}</td>
      <td class="num">{{q["abandoned"]}} ({{q["abandoned_short"]}})</td><td class="num">{{q["timeouts"]}}</td>
      <td class="num">{{q["callbacks"]}}</td><td class="num">{{q["blocked"]}}</td>
      <td class="num">{{pct(q["sl_offered"])}}</td><td class="num">{{pct(q["sl_answered"])}}</td>
      <td class="num">{{pct(q["sl_ignore_short"])}}</td><td class="num">{{pct(q["abandon_rate"])}}</td>
      <td class="num">{{fmt_dur(q["asa_s"])}}</td><td class="num">{{fmt_dur(q["longest_wait_s"])}}</td>
      <td class="num">{{fmt_dur(q["aht_s"])}}</td><td class="num">{{fmt_dur(q["acw_s"])}}</td>
      <td class="num">{{pct(q["fcr"])}}</td>
      <td class="num">{{pct(q["survey_good"])}} ({{q["survey_n"]}})</td>
    </tr>
% end
% if not queues:
    <tr class="empty"><td colspan="17">No queued calls in this period.</td></tr>
% end
  </tbody>
</table>
<h2>Agents</h2>
<table class="records">
  <thead><tr><th>Agent</th><th>Answered</th><th>Talk</th><th>ACW</th><th>AHT</th><th>Ready</th><th>Paused</th>
    <th>Signed in</th><th>Occupancy</th><th>Pauses by reason</th></tr></thead>
  <tbody>
% for a in agents:
    <tr>
      <td>{{a["agent"]}}</td><td class="num">{{a["answered"]}}</td><td class="num">{{fmt_dur(a["talk_s"])}}</td>
      <td class="num">{{fmt_dur(a["acw_s"])}}</td><td class="num">{{fmt_dur(a["aht_s"])}}</td>
      <td class="num">{{fmt_dur(a["ready_s"])}}</td><td class="num">{{fmt_dur(a["paused_s"])}}</td>
      <td class="num">{{fmt_dur(a["signed_in_s"])}}</td><td class="num">{{pct(a["occupancy"])}}</td>
      <td>{{", ".join("%s %s" % (k, fmt_dur(v)) for k, v in sorted(a["paused_by_reason"].items()))}}</td>
    </tr>
% end
% if not agents:
    <tr class="empty"><td colspan="10">No agent activity in this period.</td></tr>
% end
  </tbody>
</table>
<h2>Traffic by hour of day</h2>
<table class="records">
  <thead><tr><th>Hour</th><th>Calls</th><th>Answered</th><th>Abandoned</th><th>Calls per day</th><th>Mean talk</th></tr></thead>
  <tbody>
% for h in hours:
%   if h["calls"]:
    <tr><td>{{"%02d:00" % h["hour"]}}</td><td class="num">{{h["calls"]}}</td><td class="num">{{h["answered"]}}</td>
      <td class="num">{{h["abandoned"]}}</td><td class="num">{{"%.1f" % h["calls_per_day"]}}</td>
      <td class="num">{{fmt_dur(h["talk_s"])}}</td></tr>
%   end
% end
  </tbody>
</table>
<h2>Staffing</h2>
% if staff:
<p>Busiest hour {{"%02d:00" % staff["hour"]}}: {{"%.1f" % staff["calls_per_hour"]}} calls, mean talk
{{fmt_dur(staff["aht_s"])}}. Erlang C needs <strong>{{staff["agents"]}}</strong> agents for {{staff["target"]}}.</p>
% else:
<p class="muted">Not enough answered calls in this period to size the staff.</p>
% end
<h2>Definitions</h2>
<pre class="definitions">{{definitions}}</pre>
