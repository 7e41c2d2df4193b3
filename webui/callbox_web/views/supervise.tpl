% rebase("base")
<h1>{{t("Supervise")}}</h1>
% if notice:
<p class="notice" role="status">Done: {{notice}}</p>
% end
% if error:
<p class="error" role="alert">{{error}}</p>
% end
<h2>{{t("Calls in progress")}}</h2>
<p class="muted">Listen, whisper (the agent hears you, the caller does not) or barge in (everyone hears
everyone) from your own seat's phone. Off ends the supervision.</p>
<table class="records">
  <thead><tr>{{!"".join("<th>%s</th>" % t(h) for h in ("Call", "ANI", "Queue", "Agent", "Seat", "State", "Supervised", "Action"))}}</tr></thead>
  <tbody>
% for c in calls:
    <tr>
      <td class="mono">{{c.get("call_id")}}</td><td>{{c.get("ani") or ""}}</td><td>{{c.get("queue") or ""}}</td>
      <td>{{c.get("agent") or ""}}</td><td>{{"" if c.get("seat") is None else c.get("seat")}}</td>
      <td>{{c.get("state")}}</td>
      <td>{{("%s from seat %s" % (c["monitor"]["mode"], c["monitor"]["seat"])) if c.get("monitor") else ""}}</td>
      <td>
%   if c.get("state") == "connected":
        <form method="post" action="/supervise/call" class="inline">
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          <input type="hidden" name="call_id" value="{{c.get("call_id")}}">
          <label>{{t("My seat")}} <input name="seat" size="4" inputmode="numeric" required></label>
%     for m in modes:
          <button type="submit" name="mode" value="{{m}}">{{t(m)}}</button>
%     end
        </form>
%   end
      </td>
    </tr>
% end
% if not calls:
    <tr class="empty"><td colspan="8">{{t("No calls in progress.")}}</td></tr>
% end
  </tbody>
</table>
<h2>Agents</h2>
<table class="records">
  <thead><tr><th>Login</th><th>Name</th><th>Seat</th><th>State</th><th>Reason</th><th>Set state</th></tr></thead>
  <tbody>
% for a in agents:
    <tr>
      <td>{{a.get("login")}}</td><td>{{a.get("name")}}</td><td>{{"" if a.get("seat") is None else a.get("seat")}}</td>
      <td class="state-{{a.get("state")}}">{{a.get("state")}}</td><td>{{a.get("reason") or ""}}</td>
      <td>
        <form method="post" action="/supervise/agent" class="inline">
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          <input type="hidden" name="login" value="{{a.get("login")}}">
          <input name="reason" size="10" placeholder="reason" maxlength="64">
%   for st in states:
          <button type="submit" name="state" value="{{st}}">{{st}}</button>
%   end
        </form>
      </td>
    </tr>
% end
% if not agents:
    <tr class="empty"><td colspan="6">No agents.</td></tr>
% end
  </tbody>
</table>
