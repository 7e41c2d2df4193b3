% sep = "&" if "?" in base_url else "?"
<nav class="pager" aria-label="pages">
% if page > 1:
  <a href="{{base_url}}{{sep}}page={{page - 1}}" rel="prev">&larr; Newer</a>
% end
  <span>Page {{page}}</span>
% if more:
  <a href="{{base_url}}{{sep}}page={{page + 1}}" rel="next">Older &rarr;</a>
% end
</nav>
