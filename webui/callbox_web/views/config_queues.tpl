% rebase("base")
<h1>Queues</h1>
% include("config_msgs")
<table class="records">
  <thead><tr><th>Name</th><th>Strategy</th><th>Skills</th><th>ACW</th><th>SL target</th><th>Max wait</th>
    <th>Timeout to</th><th>Ring</th><th>Callback key</th><th>Survey</th><th>Overflow</th><th></th></tr></thead>
  <tbody>
% for q in queues:
%   a = q["all"]
    <tr>
      <td>{{q["name"]}}</td><td>{{q["strategy"]}}</td><td>{{skills_text(a.get("skills"))}}</td>
      <td class="num">{{"%g" % q["acw_s"]}} s</td><td class="num">{{"%g" % q["sl_target_s"]}} s</td>
      <td class="num">{{"%g" % q["max_wait_s"]}} s</td><td>{{a.get("timeout_dest", "hangup")}}</td>
      <td class="num">{{"%g" % a.get("ring_s", 20)}} s</td><td>{{a.get("callback_key") or "-"}}</td>
      <td>{{a.get("survey") or "-"}}</td>
      <td>{{("%s after %g s" % (", ".join(a.get("overflow_to", [])), a.get("overflow_s", 0))) if a.get("overflow_to") else "-"}}</td>
      <td><form method="post" action="/config/queues/delete" class="inline">
        <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="name" value="{{q["name"]}}">
        <button type="submit">Delete</button></form></td>
    </tr>
% end
% if not queues:
    <tr class="empty"><td colspan="12">No queues yet.</td></tr>
% end
  </tbody>
</table>
<h2>Add or change a queue</h2>
<p class="muted">A queue with an existing name is changed; waiting callers keep their place.</p>
<form method="post" action="/config/queues" class="config">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label>Name <input name="name" required maxlength="32" value="{{form.get("name", "")}}"></label>
  <label>Strategy <select name="strategy">
% for s in strategies:
    <option{{!" selected" if form.get("strategy") == s else ""}}>{{s}}</option>
% end
  </select></label>
  <label>Skills needed <input name="skills" placeholder="zh:3, vip:1" value="{{form.get("skills", "")}}"></label>
  <label>After-call work (s) <input name="acw_s" size="5" value="{{form.get("acw_s", "")}}" placeholder="5"></label>
  <label>SL target T (s) <input name="sl_target_s" size="5" value="{{form.get("sl_target_s", "")}}" placeholder="15"></label>
  <label>Max wait (s, 0 = none) <input name="max_wait_s" size="6" value="{{form.get("max_wait_s", "")}}" placeholder="300"></label>
  <label>Then to <input name="timeout_dest" value="{{form.get("timeout_dest", "")}}" placeholder="voicemail:sales"></label>
  <label>Ring time (s) <input name="ring_s" size="4" value="{{form.get("ring_s", "")}}" placeholder="20"></label>
  <label>Announce every (s) <input name="announce_every_s" size="4" value="{{form.get("announce_every_s", "")}}" placeholder="30"></label>
  <label>Callback key <input name="callback_key" size="2" maxlength="1" value="{{form.get("callback_key", "")}}"></label>
  <label>Survey flow <input name="survey" value="{{form.get("survey", "")}}" placeholder="default"></label>
  <label>Overflow after (s) <input name="overflow_s" size="5" value="{{form.get("overflow_s", "")}}" placeholder="0"></label>
  <label>to queues <input name="overflow_to" value="{{form.get("overflow_to", "")}}" placeholder="support, general"></label>
  <button type="submit">Save</button>
</form>
