% rebase("base")
<h1>Trunks and seats</h1>
% include("config_msgs")
<table class="records">
  <thead><tr><th>Span</th><th>Name</th><th>Type</th><th>Framing</th><th>Line code</th><th>Signalling</th>
    <th>Side</th><th>Backend</th><th>Enabled</th></tr></thead>
  <tbody>
% for x in spans:
    <tr><td>{{x["id"]}}</td><td>{{x["name"]}}</td><td>{{x["kind"]}}</td><td>{{x["framing"]}}</td>
      <td>{{x["line_code"]}}</td><td>{{x["signalling"]}}</td><td>{{x["side"]}}</td><td class="mono">{{x["backend"]}}</td>
      <td>{{"yes" if x["enabled"] else "no"}}</td></tr>
% end
% if not spans:
    <tr class="empty"><td colspan="9">No trunks configured.</td></tr>
% end
  </tbody>
</table>
<h2>Add or change a trunk</h2>
<p class="muted">E1: framing crc4 or no-crc4, line code hdb3 or ami. T1: esf or d4, b8zs or ami.
Signalling pri (user side towards the public network, network side towards a PBX) or MFC/R2.</p>
<form method="post" action="/config/spans" class="config">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label>Span <input name="id" size="3" required value="{{form.get("id", "")}}"></label>
  <label>Name <input name="name" maxlength="32" value="{{form.get("name", "")}}"></label>
  <label>Type <select name="kind">
% for k in kinds:
    <option{{!" selected" if form.get("kind") == k else ""}}>{{k}}</option>
% end
  </select></label>
  <label>Framing <select name="framing">
% for k in framings:
    <option{{!" selected" if form.get("framing") == k else ""}}>{{k}}</option>
% end
  </select></label>
  <label>Line code <select name="line_code">
% for k in codes:
    <option{{!" selected" if form.get("line_code") == k else ""}}>{{k}}</option>
% end
  </select></label>
  <label>Signalling <select name="signalling">
% for k in signallings:
    <option{{!" selected" if form.get("signalling") == k else ""}}>{{k}}</option>
% end
  </select></label>
  <label>Side <select name="side">
% for k in sides:
    <option{{!" selected" if form.get("side") == k else ""}}>{{k}}</option>
% end
  </select></label>
  <label>Backend <input name="backend" required value="{{form.get("backend", "")}}" placeholder="raw:///dev/callbox-e1-0 or sim://pair0/0"></label>
  <label><input type="checkbox" name="enabled" value="1" checked> enabled</label>
  <button type="submit">Save</button>
</form>
<h2>MFC/R2 trunks</h2>
<form method="post" action="/config/r2" class="config">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label>DNIS digits to collect <input name="dnis_digits" size="3" required value="{{r2["dnis_digits"]}}"></label>
  <label><input type="checkbox" name="ani" value="1"{{!" checked" if r2["ani"] else ""}}> ask for the caller's category and number (ANI)</label>
  <button type="submit">Save</button>
</form>
<p class="hint">China No. 1 (r2-cn) sends no end-of-number signal: the box takes this many called-number digits,
then accepts the call. Both variants run on E1 spans only; TS16 then carries the CAS bits instead of a D-channel.</p>
<h2>Seats</h2>
<table class="records">
  <thead><tr><th>Seat</th><th>Name</th><th>Backend</th><th>SIP password</th></tr></thead>
  <tbody>
% for x in seats:
    <tr><td>{{x["id"]}}</td><td>{{x["name"]}}</td><td class="mono">{{x["backend"]}}</td>
      <td>{{("set" if x.get("secret") else "NOT SET: the phone cannot register") if x["backend"].startswith("sip:") else "-"}}</td></tr>
% end
  </tbody>
</table>
<form method="post" action="/config/seats" class="config">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label>Seat <input name="id" size="4" required></label>
  <label>Name <input name="name" maxlength="32"></label>
  <label>Backend <input name="backend" required placeholder="sip://1007 or sim://seat/7"></label>
  <label>SIP password <input name="sip_password" type="password" autocomplete="new-password" minlength="8" maxlength="64"
    placeholder="unchanged"></label>
  <button type="submit">Save</button>
</form>
<p class="hint">A SIP seat <code>sip://&lt;user&gt;</code> is a phone or softphone that registers to this box as
&lt;user&gt; with its SIP password (digest), over UDP or TCP port 5060 or TLS port 5061. Agents sign in from the
phone by dialling <code>*11&lt;agent&gt;</code>; <code>*12</code> ready, <code>*13</code> not ready,
<code>*14</code> sign out, <code>*15</code> end after-call work. Changing the user name clears the password.</p>
