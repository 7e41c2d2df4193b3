% rebase("base")
<h1>Recording {{rec["id"]}}</h1>
<dl class="facts">
  <dt>Call</dt><dd><a href="/calls/{{quote(rec["call_id"])}}">{{rec["call_id"]}}</a></dd>
  <dt>Start</dt><dd>{{fmt_time(rec["start"])}}</dd>
  <dt>Duration</dt><dd>{{fmt_dur(rec["duration_s"])}}</dd>
  <dt>Channels</dt><dd>{{rec["channels"]}}</dd>
  <dt>Size</dt><dd>{{fmt_bytes(rec["bytes"])}}</dd>
  <dt>State</dt><dd>{{rec["state"]}}</dd>
</dl>
<audio controls preload="metadata" src="/recordings/{{rec["id"]}}.wav">
  Your browser cannot play WAV audio; <a href="/recordings/{{rec["id"]}}.wav" download>download the file</a>.
</audio>
<p><a href="/recordings/{{rec["id"]}}.wav" download="callbox-recording-{{rec["id"]}}.wav">Download</a>
· listening and downloads are recorded in the audit log.</p>
