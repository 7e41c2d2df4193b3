% rebase("base")
<h1>Recordings</h1>
<table class="records">
  <thead><tr><th>#</th><th>Start</th><th>Call</th><th>Duration</th><th>Channels</th><th>Size</th><th>State</th><th></th></tr></thead>
  <tbody>
% for r in recordings:
    <tr>
      <td class="num">{{r["id"]}}</td>
      <td>{{fmt_time(r["start"])}}</td>
      <td><a href="/calls/{{quote(r["call_id"])}}">{{r["call_id"]}}</a></td>
      <td class="num">{{fmt_dur(r["duration_s"])}}</td>
      <td class="num">{{r["channels"]}}</td>
      <td class="num">{{fmt_bytes(r["bytes"])}}</td>
      <td>{{r["state"]}}</td>
      <td><a href="/recordings/{{r["id"]}}">listen</a></td>
    </tr>
% end
% if not recordings:
    <tr class="empty"><td colspan="8">No recordings on this page.</td></tr>
% end
  </tbody>
</table>
% include("pager", base_url="/recordings")
