% rebase("base")
% def pct(v):
%   return "-" if v is None else "%.0f%%" % v
% end
<h1>{{t("Wallboard")}}</h1>
<p class="muted" id="wall-status" aria-live="polite">{{t("Updated every second.")}}</p>
<div class="wall-big">
  <div><span class="wall-num" id="wall-waiting">{{wall["waiting"]}}</span><span class="wall-label">{{t("waiting")}}</span></div>
% for st in states:
  <div><span class="wall-num state-{{st}}" id="wall-agents-{{st}}">{{wall["agents"][st]}}</span><span class="wall-label">{{t(st)}}</span></div>
% end
</div>
<p class="error" id="wall-alarms"{{!"" if wall["alarms"] else " hidden"}}>
% for a in wall["alarms"]:
  span {{a["span"]}}: {{" ".join(a["alarms"])}}
% end
</p>
<table class="records wall" id="wall-queues">
  <thead><tr>{{!"".join("<th>%s</th>" % t(h) for h in ("Queue", "Waiting", "Longest wait", "SL today", "Answered", "Abandoned", "Ready"))}}</tr></thead>
  <tbody>
% for q in wall["queues"]:
    <tr><td>{{q["name"]}}</td><td class="num">{{q["waiting"]}}</td><td class="num">{{fmt_dur(q["longest_wait_s"])}}</td>
      <td class="num">{{pct(q["sl_pct"])}}</td><td class="num">{{q["answered"]}}</td><td class="num">{{q["abandoned"]}}</td>
      <td class="num">{{q["agents_ready"]}}</td></tr>
% end
  </tbody>
</table>
