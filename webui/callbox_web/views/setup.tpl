% rebase("base")
<h1>First boot: create the administrator</h1>
<p>This CallBox has no administrator yet, and it has no default password. Choose the
administrator's username and a password of at least {{pw_min}} characters. Until this is done,
every page of the web UI leads here.</p>
% if error:
<p class="error" role="alert">{{error}}</p>
% end
<form class="form" method="post" action="/setup">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label>Username <input name="username" value="{{username}}" required maxlength="32" autocomplete="username"></label>
  <label>Password <input type="password" name="password" required minlength="{{pw_min}}" autocomplete="new-password"></label>
  <label>Confirm password <input type="password" name="confirm" required minlength="{{pw_min}}" autocomplete="new-password"></label>
  <button type="submit">Create administrator</button>
</form>
