% rebase("base")
<h1>Call records</h1>
<p><a href="/cdr.csv" download>Export all as CSV</a></p>
<table class="records">
  <thead><tr>
    <th>Start</th><th>ANI</th><th>DNIS</th><th>Digits</th><th>Queue</th><th>Agent</th><th>Seat</th>
    <th>Wait</th><th>Talk</th><th>Disposition</th><th>Cause</th><th>Call</th><th>Recording</th>
  </tr></thead>
  <tbody>
% for c in cdrs:
    <tr>
      <td>{{fmt_time(c["start"])}}</td>
      <td>{{c["ani"] or ""}}</td>
      <td>{{c["dnis"] or ""}}</td>
      <td>{{c["digits"] or ""}}</td>
      <td>{{c["queue"] or ""}}</td>
      <td>{{c["agent"] or ""}}</td>
      <td>{{"" if c["seat"] is None else c["seat"]}}</td>
      <td class="num">{{fmt_dur(c["wait_s"])}}</td>
      <td class="num">{{fmt_dur(c["talk_s"])}}</td>
      <td class="disp-{{c["disposition"]}}">{{c["disposition"]}}</td>
      <td class="num">{{"" if c["cause"] is None else c["cause"]}}</td>
      <td><a href="/calls/{{quote(c["call_id"])}}">events</a></td>
%   rec = links.get(c["call_id"])
      <td>
%   if rec:
        <a href="/recordings/{{rec}}">listen</a>
%   end
      </td>
    </tr>
% end
% if not cdrs:
    <tr class="empty"><td colspan="13">No call records on this page.</td></tr>
% end
  </tbody>
</table>
% include("pager", base_url="/cdr")
