% rebase("base")
% def show(item, depth=0):
%   edge, nid, node, kids = item
<li><span class="muted">{{edge}}</span> <strong>{{nid}}</strong>
%   if kids is None:
  <span class="muted">(see above)</span></li>
%   else:
  {{node.get("type", "?")}}{{(": " + (", ".join(node["prompt"]) if isinstance(node.get("prompt"), list) else node["prompt"])) if node.get("prompt") else ""}}{{(" -> queue " + node["queue"]) if node.get("queue") else ""}}{{(" -> " + node["target"]) if node.get("target") else ""}}
%     if kids:
  <ul>
%       for k in kids:
%         show(k, depth + 1)
%       end
  </ul>
%     end
</li>
%   end
% end
<h1>IVR flows and prompts</h1>
% include("config_msgs")
% for f in flows:
<section class="panel">
  <h2>{{f["name"]}} {{"(built in)" if f.get("builtin") else ""}} <a href="/config/ivr?edit={{f["name"]}}">edit</a></h2>
  <ul class="tree">
%   for root in tree(f["flow"]):
%     show(root)
%   end
  </ul>
</section>
% end
<h2>{{"Edit flow " + edit if edit else "New flow"}}</h2>
<p class="muted">Node types: {{", ".join(node_types)}}. Every prompt must exist; unreachable nodes and loops
that never wait for the caller are refused.</p>
<form method="post" action="/config/ivr" class="config">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label>Name <input name="name" required maxlength="32" value="{{edit or ""}}"></label><br>
  <textarea name="flow" rows="18" cols="90" spellcheck="false">{{text}}</textarea><br>
  <button type="submit">Check and save</button>
</form>
<h2>Prompts</h2>
<p>{{len(prompts)}} prompts loaded; recorded on this box: {{", ".join(data_prompts) or "none"}}.</p>
% if prompt_errors:
<p class="error">{{"; ".join(prompt_errors)}}</p>
% end
<form method="post" action="/config/prompts" enctype="multipart/form-data" class="config">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <label>Name <input name="name" required maxlength="40" placeholder="welcome"></label>
  <label>Language <select name="lang"><option value="">every language</option><option>zh</option><option>en</option></select></label>
  <label>WAV file <input type="file" name="file" accept=".wav,audio/wav" required></label>
  <button type="submit">Upload</button>
</form>
<details><summary>All prompt names</summary><p class="mono">{{", ".join(prompts)}}</p></details>
