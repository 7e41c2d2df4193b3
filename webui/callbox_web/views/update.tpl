% rebase("base")
<h1>Firmware update</h1>
<p id="upd-slots">{{slots}}</p>
<p>State: <strong id="upd-state">{{upd["state"]}}</strong> <progress id="upd-bar" max="100" value="{{upd["percent"]}}"></progress>
  <span id="upd-pct">{{upd["percent"]}} %</span></p>
<p id="upd-text">{{upd["text"]}}</p>
<p id="upd-error" class="error"{{!"" if upd.get("error") else " hidden"}}>{{upd.get("error") or ""}}</p>
<p><a href="/system">Back to System</a> (restart the box there to run the new firmware).</p>
<script src="/static/update.js"></script>
