% rebase("base")
<h1>{{t("Dashboard")}}</h1>
<p class="muted" id="live-status" aria-live="polite"></p>
<div class="panels">
% for key, heading, columns, empty in panels:
%   error = live["errors"].get(key)
<section class="panel" id="panel-{{key}}">
  <h2>{{t(heading)}}</h2>
  <p class="error" data-error-for="{{key}}"{{!"" if error else " hidden"}}>{{error or ""}}</p>
  <table data-panel="{{key}}" data-empty="{{t(empty)}}"{{!" hidden" if error else ""}}>
    <thead><tr>
%   for col in columns:
      <th>{{t(col)}}</th>
%   end
    </tr></thead>
    <tbody>
%   for row in rows[key]:
      <tr>
%     for text, cls in row:
        <td class="{{cls}}">{{text}}</td>
%     end
      </tr>
%   end
%   if not rows[key]:
      <tr class="empty"><td colspan="{{len(columns)}}">{{t(empty)}}</td></tr>
%   end
    </tbody>
  </table>
</section>
% end
</div>
