<!DOCTYPE html>
<html lang="{{lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
% if csrf:
<meta name="csrf-token" content="{{csrf}}">
% end
<title>{{t(title)}} · CallBox</title>
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
    <a href="{{href}}" aria-current="page">{{t(label)}}</a>
%     else:
    <a href="{{href}}">{{t(label)}}</a>
%     end
%   end
  </nav>
  <form class="lang" method="post" action="/account/lang">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
%   for code, name in lang_names.items():
%     if code != lang:
    <button type="submit" name="lang" value="{{code}}" lang="{{code}}">{{name}}</button>
%     end
%   end
  </form>
  <form class="logout" method="post" action="/logout">
    <input type="hidden" name="csrf_token" value="{{csrf}}">
    <span class="who">{{user["username"]}} ({{user["role"]}})</span>
    <button type="submit">{{t("Log out")}}</button>
  </form>
% end
</header>
<main>
{{!base}}
</main>
</body>
</html>
