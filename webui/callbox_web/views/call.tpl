% rebase("base")
<h1>Call {{call_id}}</h1>
% if cdr:
<dl class="facts">
  <dt>Start</dt><dd>{{fmt_time(cdr["start"])}}</dd>
  <dt>Answered</dt><dd>{{fmt_time(cdr["answer"])}}</dd>
  <dt>End</dt><dd>{{fmt_time(cdr["end"])}}</dd>
  <dt>Span/chan</dt><dd>{{"%s/%s" % (cdr["span"], cdr["chan"]) if cdr["span"] is not None else "seat %s (internal call)" % cdr["chan"]}}</dd>
  <dt>ANI</dt><dd>{{cdr["ani"] or ""}}</dd>
  <dt>DNIS</dt><dd>{{cdr["dnis"] or ""}}</dd>
  <dt>Digits</dt><dd>{{cdr["digits"] or ""}}</dd>
  <dt>Queue</dt><dd>{{cdr["queue"] or ""}}</dd>
  <dt>Agent</dt><dd>{{cdr["agent"] or ""}}</dd>
  <dt>Wait / talk</dt><dd>{{fmt_dur(cdr["wait_s"])}} / {{fmt_dur(cdr["talk_s"])}}</dd>
  <dt>Disposition</dt><dd>{{cdr["disposition"]}}{{(" (cause %s)" % cdr["cause"]) if cdr["cause"] is not None else ""}}</dd>
% if note:
  <dt>Wrap-up</dt><dd>{{note["disposition"]}} by {{note["agent"]}}: {{note["note"]}}</dd>
% end
</dl>
% else:
<p class="muted">No call record yet (the call may still be in progress).</p>
% end
% if recordings:
<h2>Recordings</h2>
<ul>
%   for r in recordings:
  <li><a href="/recordings/{{r["id"]}}">Recording {{r["id"]}}</a> ({{fmt_dur(r["duration_s"])}}, {{r["state"]}})</li>
%   end
</ul>
% end
<h2>Signalling ladder</h2>
% if ladder:
<table class="records ladder">
  <thead><tr><th>Time</th><th>Box &#8644; far end</th><th>Message, state change, timer</th></tr></thead>
  <tbody>
%   for r in ladder:
    <tr class="{{r["dir"]}}"><td>{{fmt_time(r["t"], ms=True)}}</td>
      <td class="arrow">{{"box ──▶" if r["dir"] == "out" else ("◀── far" if r["dir"] == "in" else "")}}</td>
      <td class="mono">{{r["text"]}}</td></tr>
%   end
  </tbody>
</table>
% else:
<p class="muted">{{ladder_note or "No signalling was recorded for this call (internal calls have none; calls before this firmware version were not traced)."}}</p>
% end
<h2>Event log</h2>
<table class="records">
  <thead><tr><th>Time</th><th>Event</th><th>Detail</th></tr></thead>
  <tbody>
% for e in events:
    <tr><td>{{fmt_time(e["t"], ms=True)}}</td><td>{{e["event"]}}</td><td class="mono">{{e["detail_text"]}}</td></tr>
% end
% if not events:
    <tr class="empty"><td colspan="3">No events logged for this call.</td></tr>
% end
  </tbody>
</table>
<p><a href="/cdr">Back to call records</a></p>
