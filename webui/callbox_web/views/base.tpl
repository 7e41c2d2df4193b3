<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
% if csrf:
<meta name="csrf-token" content="{{csrf}}">
% end
<title>{{title}} · CallBox</title>
<link rel="stylesheet" href="/static/style.css">
% for src in scripts:
<script src="{{src}}" defer></script>
% end
</head>
<body>
<header class="top">
  <a class="brand" href="/">CallBox</a>
% if user:
  <nav>
%   for href, label in nav:
%     if href == path:
    <a href="{{href}}" aria-current="page">{{label}}</a>
%     else:
    <a href="{{href}}">{{label}}</a>
%     end
%   end
  </nav>
  <form class="logout" method="post" action="/logout">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <span class="who">{{user["username"]}} ({{user["role"]}})</span>
    <button type="submit">Log out</button>
  </form>
% end
</header>
<main>
{{!base}}
</main>
</body>
</html>
