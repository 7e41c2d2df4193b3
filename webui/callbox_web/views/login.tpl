% rebase("base")
<h1>{{t("Log in")}}</h1>
% if notice:
<p class="notice" role="status">{{notice}}</p>
% end
% if error:
<p class="error" role="alert">{{error}}</p>
% end
<form class="form" method="post" action="/login">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <input type="hidden" name="next" value="{{next}}">
  <label>{{t("Username")}} <input name="username" value="{{username}}" required maxlength="32" autocomplete="username" autofocus></label>
  <label>{{t("Password")}} <input type="password" name="password" required autocomplete="current-password"></label>
  <button type="submit">{{t("Log in")}}</button>
</form>
