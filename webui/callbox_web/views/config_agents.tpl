% rebase("base")
<h1>Agents</h1>
% include("config_msgs")
<table class="records">
  <thead><tr><th>Login</th><th>Name</th><th>Skills</th><th></th></tr></thead>
  <tbody>
% for a in agents:
    <tr><td>{{a["login"]}}</td><td>{{a["name"]}}</td><td>{{skills_text(a["skills"])}}</td>
      <td><form method="post" action="/config/agents/delete" class="inline">
        <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="login" value="{{a["login"]}}">
        <button type="submit">Delete</button></form></td></tr>
% end
% if not agents:
    <tr class="empty"><td colspan="4">No agents yet.</td></tr>
% end
  </tbody>
</table>
<h2>Add or change an agent</h2>
<form method="post" action="/config/agents" class="config">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label>Login <input name="login" required maxlength="32" value="{{form.get("login", "")}}"></label>
  <label>Name <input name="name" required maxlength="64" value="{{form.get("name", "")}}"></label>
  <label>Skills <input name="skills" placeholder="zh:5, en:3, vip:1" value="{{form.get("skills", "")}}"></label>
  <button type="submit">Save</button>
</form>
