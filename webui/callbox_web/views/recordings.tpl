% rebase("base")
<h1>Recordings</h1>
<form method="get" action="/recordings" class="config">
  <label>Caller number starts <input name="ani" size="12" value="{{q.get("ani", "")}}"></label>
  <label>Agent <input name="agent" size="8" value="{{q.get("agent", "")}}"></label>
  <label>Queue <input name="queue" size="10" value="{{q.get("queue", "")}}"></label>
  <label>Day <input type="date" name="day" value="{{q.get("day", "")}}"></label>
  <button type="submit">Search</button>
</form>
<table class="records">
  <thead><tr><th>#</th><th>Start</th><th>Call</th><th>Caller</th><th>Agent</th><th>Queue</th><th>Duration</th><th>Channels</th><th>Size</th><th>State</th><th></th></tr></thead>
  <tbody>
% for r in recordings:
    <tr>
      <td class="num">{{r["id"]}}</td>
      <td>{{fmt_time(r["start"])}}</td>
      <td><a href="/calls/{{quote(r["call_id"])}}">{{r["call_id"]}}</a></td>
      <td>{{r.get("ani") or ""}}</td><td>{{r.get("agent") or ""}}</td><td>{{r.get("queue") or ""}}</td>
      <td class="num">{{fmt_dur(r["duration_s"])}}</td>
      <td class="num">{{r["channels"]}}</td>
      <td class="num">{{fmt_bytes(r["bytes"])}}</td>
      <td>{{r["state"]}}</td>
      <td><a href="/recordings/{{r["id"]}}">listen</a></td>
    </tr>
% end
% if not recordings:
    <tr class="empty"><td colspan="11">No recordings match.</td></tr>
% end
  </tbody>
</table>
% from urllib.parse import urlencode
% filters = urlencode([(k, v) for k, v in sorted(q.items()) if v])
% include("pager", base_url="/recordings" + ("?" + filters if filters else ""))
