% rebase("base")
<h1>Users</h1>
% include("config_msgs")
<table class="records">
  <thead><tr><th>User</th><th>Role</th><th></th></tr></thead>
  <tbody>
% for u in users:
    <tr><td>{{u["username"]}}</td><td>{{u["role"]}}</td>
      <td><form method="post" action="/config/users/delete" class="inline">
        <input type="hidden" name="csrf_token" value="{{csrf}}"><input type="hidden" name="username" value="{{u["username"]}}">
        <button type="submit">Delete</button></form></td></tr>
% end
  </tbody>
</table>
<h2>Add a user</h2>
<p class="muted">Admins configure the box; supervisors watch, supervise and pull reports and recordings;
agents use the agent page; viewers see the dashboard and call records.</p>
<form method="post" action="/config/users" class="config" autocomplete="off">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label>User name <input name="username" required maxlength="32" value="{{form.get("username", "")}}"></label>
  <label>Role <select name="role">
% for r in roles:
    <option{{!" selected" if form.get("role") == r else ""}}>{{r}}</option>
% end
  </select></label>
  <label>Password <input type="password" name="password" required autocomplete="new-password"></label>
  <label>Again <input type="password" name="confirm" required autocomplete="new-password"></label>
  <button type="submit">Add</button>
</form>
