% rebase("base")
<h1>Routes</h1>
% include("config_msgs")
<p class="muted">Inbound calls take the first route whose called number (DNIS) and calling number
(ANI) match: exact digits, a prefix ending in *, or * for any. Priority above 0 puts the caller
ahead in the queue (VIP).</p>
<table class="records">
  <thead><tr><th>#</th><th>Called (DNIS)</th><th>Calling (ANI)</th><th>Target</th><th>Priority</th><th></th></tr></thead>
  <tbody>
% for r in routes:
    <tr><td>{{r["id"]}}</td><td>{{r["dnis"]}}</td><td>{{r.get("ani") or "*"}}</td><td>{{r["target"]}}</td>
      <td class="num">{{r.get("priority") or 0}}</td>
      <td><form method="post" action="/config/routes/delete" class="inline">
        <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="id" value="{{r["id"]}}">
        <button type="submit">Delete</button></form></td></tr>
% end
% if not routes:
    <tr class="empty"><td colspan="6">No routes: every call goes to the default IVR flow.</td></tr>
% end
  </tbody>
</table>
<h2>Add a route</h2>
<form method="post" action="/config/routes" class="config">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label>Called (DNIS) <input name="dnis" value="{{form.get("dnis", "")}}" placeholder="10086 or 1008* or *"></label>
  <label>Calling (ANI) <input name="ani" value="{{form.get("ani", "")}}" placeholder="139* or *"></label>
  <label>Target <input name="target" required value="{{form.get("target", "")}}" placeholder="queue:vip, ivr:main#ticket, seat:3, agent:1001, external:02161234567, voicemail:sales"></label>
  <label>Priority <input name="priority" size="3" value="{{form.get("priority", "")}}" placeholder="0"></label>
  <button type="submit">Add</button>
</form>
<h2>Called-number translation</h2>
<p class="muted">Before routing, the first rule whose pattern matches the whole called number rewrites
it. One rule per line: <code>regex -&gt; replacement</code>, e.g. <code>^0086(\d+)$ -&gt; \1</code>
(drop a country prefix) or <code>^9(\d{3})$ -&gt; \1</code>.</p>
<form method="post" action="/config/routes/translations" class="config">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <textarea name="rules" rows="5" cols="60" maxlength="8000">{{rules_text}}</textarea>
  <button type="submit">Save rules</button>
</form>
