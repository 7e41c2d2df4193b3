% rebase("base")
<h1>{{status}}</h1>
<p class="error" role="alert">{{message}}</p>
% if code in (401, 403, 429) and not user:
<p><a href="/login">Log in</a></p>
% else:
<p><a href="/">Back to the dashboard</a></p>
% end
