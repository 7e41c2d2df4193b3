% rebase("base")
% a = view["agent"]
<h1>Agent {{login}}</h1>
% if notice:
<p class="notice" role="status">Done: {{notice}}</p>
% end
<p class="error" role="alert" id="agent-error"{{!"" if error else " hidden"}}>{{error or ""}}</p>
% if a is None:
<p>There is no agent <strong>{{login}}</strong> in the configuration; ask an admin to add one with this login.</p>
% else:
<p>{{t("State")}}: <strong id="agent-state" class="state-{{a["state"]}}">{{a["state"]}}</strong>
  <span id="agent-reason">{{a.get("reason") or ""}}</span>
  <span id="agent-pending">{{("; then " + a["pending"]) if a.get("pending") else ""}}</span>
  {{t("at seat")}} <span id="agent-seat">{{a.get("seat") or "-"}}</span>, {{t("calls today")}} <span id="agent-calls">{{a.get("calls", 0)}}</span></p>
<form method="post" action="/agent" class="config">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label>{{t("Seat")}} <input name="seat" size="4" inputmode="numeric" value="{{a.get("seat") or ""}}"></label>
  <button type="submit" name="action" value="login">{{t("Sign in")}}</button>
  <button type="submit" name="action" value="ready">{{t("Ready")}}</button>
  <label>{{t("Reason")}} <select name="reason">
% for r in reasons:
    <option>{{r}}</option>
% end
  </select></label>
  <button type="submit" name="action" value="not-ready">{{t("Not ready")}}</button>
  <button type="submit" name="action" value="end-acw">{{t("End after-call work")}}</button>
  <button type="submit" name="action" value="logged-out">{{t("Sign out")}}</button>
</form>
% end
<section class="panel" id="screen-pop"{{!"" if view["call"] else " hidden"}}>
  <h2>{{t("Caller")}}</h2>
% c = view["call"] or {}
  <dl class="facts">
    <dt>{{t("Number")}}</dt><dd id="pop-ani">{{c.get("ani") or ""}}</dd>
    <dt>{{t("VIP")}}</dt><dd id="pop-vip">{{"yes (priority %s)" % c.get("priority") if c.get("priority") else "no"}}</dd>
    <dt>{{t("Queue")}}</dt><dd id="pop-queue">{{c.get("queue") or ""}}</dd>
    <dt>{{t("IVR choices")}}</dt><dd id="pop-digits">{{c.get("digits") or ""}}</dd>
    <dt>{{t("Entered")}}</dt><dd id="pop-vars">{{", ".join("%s=%s" % kv for kv in sorted((c.get("vars") or {}).items()))}}</dd>
  </dl>
  <form method="post" action="/agent/call" class="config" id="call-actions">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <button type="submit" name="action" value="hold">{{t("Hold")}}</button>
    <button type="submit" name="action" value="unhold">{{t("Take back")}}</button>
    <label>{{t("To")}} <input name="target" size="16" maxlength="64" placeholder="1002, 0216..., queue:sales"></label>
    <button type="submit" name="action" value="transfer">{{t("Transfer")}}</button>
    <button type="submit" name="action" value="consult">{{t("Consult first")}}</button>
    <button type="submit" name="action" value="complete">{{t("Complete transfer")}}</button>
    <button type="submit" name="action" value="cancel">{{t("Back to caller")}}</button>
  </form>
  <h3>{{t("Previous calls")}}</h3>
  <ul id="pop-history">
% for h in view["history"]:
    <li>{{fmt_time(h["start"])}} {{h["disposition"]}} {{h["queue"] or ""}} {{h["agent"] or ""}}{{(": %s %s" % (h["note"]["disposition"], h["note"]["note"])) if h.get("note") else ""}}</li>
% end
  </ul>
</section>
% w = view.get("wrapup") or {}
% if w.get("call_id"):
% n = w.get("note") or {}
<section class="panel" id="wrapup">
  <h2>{{t("Wrap-up of call")}} {{w["call_id"]}}</h2>
  <form method="post" action="/agent/note" class="config">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <input type="hidden" name="call_id" value="{{w["call_id"]}}">
    <label>{{t("Disposition")}} <select name="disposition">
% for d in w["dispositions"]:
      <option value="{{d}}"{{!" selected" if d == n.get("disposition") else ""}}>{{d}}</option>
% end
    </select></label>
    <label>{{t("Note")}} <textarea name="note" maxlength="500" rows="3" cols="48">{{n.get("note", "")}}</textarea></label>
    <button type="submit">{{t("Save")}}</button>
  </form>
</section>
% end
% if view.get("callbacks"):
<p>{{t("Callbacks waiting in the queues")}}: <strong>{{view["callbacks"]}}</strong> (they ring a ready agent like a call).</p>
% end
