"""IVR flows and prompts (admin): flows shown as a tree and edited as checked JSON, prompt
uploads converted to the box's format, incident announcements hung on a node.

A flow is saved only if ``validate_flow`` accepts it (the error names the node and field)
and every prompt it names exists. Uploaded prompts must be WAV; 8 kHz mono 16-bit is stored
as it is, other rates and stereo are converted (by the C converter of Python's audioop when
the running Python has it, otherwise refused with the format to use). Names are checked
against a strict pattern, so nothing can be written outside the prompts directory.
"""
import io
import json
import os
import re
import wave

from bottle import request, response

from callbox.calls.ivr import DEFAULT_FLOW, NODE_TYPES, validate_flow
from callbox.errors import BusError, ConfigError
from callbox.media.prompts import PromptSet, write_wav

from callbox_web.context import see_other

ADMIN = ("admin",)
PROMPT_NAME = re.compile(r"^[a-z0-9_-]{1,40}$")
LANGS = ("", "zh", "en")
MAX_PROMPT_S = 300


def flow_tree(flow):
    """The flow as nested (node id, node, [children]) from its start; a node seen before is a
    back-reference (children None)."""
    nodes = flow.get("nodes", {})
    seen = set()

    def walk(nid, edge):
        if nid in seen or nid not in nodes:
            return (edge, nid, nodes.get(nid, {}), None)
        seen.add(nid)
        node = nodes[nid]
        kids = []
        if "next" in node:
            kids.append(walk(node["next"], "next"))
        for d, tgt in sorted(node.get("choices", {}).items()):
            kids.append(walk(tgt, "key " + d))
        for field in ("default", "closed"):
            if field in node:
                kids.append(walk(node[field], field))
        return (edge, nid, node, kids)
    roots = [walk(flow.get("start"), "start")]
    for code, tgt in sorted(flow.get("express", {}).items()):
        roots.append(walk(tgt, "express " + code))
    return roots


def convert_wav(data):
    """Uploaded WAV bytes -> int16 samples at 8 kHz mono. Raises ConfigError saying what to send."""
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            ch, width, rate, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            pcm = w.readframes(n)
    except (wave.Error, EOFError) as e:
        raise ConfigError("file: not a WAV file the box can read (%s); send 16-bit PCM WAV" % e) from None
    if width != 2 or ch not in (1, 2):
        raise ConfigError("file: %d-bit, %d channel(s); send 16-bit PCM, mono or stereo" % (8 * width, ch))
    if n / float(rate) > MAX_PROMPT_S:
        raise ConfigError("file: %.0f s long; prompts are at most %d s" % (n / float(rate), MAX_PROMPT_S))
    if ch == 1 and rate == 8000:
        import array
        return array.array("h", pcm)
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import audioop
    except ImportError:
        raise ConfigError("file: %d Hz %s; this box converts only with audioop (absent): send 8000 Hz mono "
                          "16-bit PCM WAV" % (rate, "stereo" if ch == 2 else "mono")) from None
    if ch == 2:
        pcm = audioop.tomono(pcm, 2, 0.5, 0.5)
    if rate != 8000:
        pcm, _ = audioop.ratecv(pcm, 2, 1, rate, 8000, None)
    import array
    return array.array("h", pcm)


def install(app, web):
    prompt_dir = os.path.join(web.data_dir, "prompts")

    def prompts():
        ps, errors = PromptSet.load(prompt_dir)
        return ps, errors

    def page(status=200, error=None, edit=None, text=None):
        with web.db_lock:
            flows = web.store.ivr_flows()
        if not any(f["name"] == "default" for f in flows):
            flows.insert(0, {"name": "default", "flow": DEFAULT_FLOW, "builtin": True})
        ps, perrors = prompts()
        current = next((f for f in flows if f["name"] == edit), None)
        response.status = status
        return web.render("config_ivr", title="IVR flows and prompts", flows=flows, tree=flow_tree,
                          prompts=sorted(ps), data_prompts=sorted(ps.data_keys), prompt_errors=perrors,
                          error=error, notice=request.query.getunicode("done") or None, edit=edit,
                          text=text if text is not None else (json.dumps(current["flow"], indent=1, ensure_ascii=False)
                                                             if current else ""),
                          node_types=sorted(NODE_TYPES))

    def apply_live():
        try:
            r = web.bus.request("acd.reload", None, 3.0)
            return "Saved and applied." + (" Not applied: " + "; ".join(r["problems"]) if r.get("problems") else "")
        except BusError as e:
            return "Saved. Call control is not reachable (%s); it applies the change when it starts." % e

    @app.get("/config/ivr", roles=ADMIN, nav="IVR")
    def ivr_get():
        edit = request.query.getunicode("edit") or None
        return page(edit=edit)

    @app.post("/config/ivr", roles=ADMIN)
    def ivr_post():
        name = (request.forms.getunicode("name", default="") or "").strip()
        text = request.forms.getunicode("flow", default="") or ""
        if not re.match(r"^[A-Za-z0-9_-]{1,32}$", name):
            return page(400, "name: %r must be 1-32 letters, digits, '_' or '-'" % name, name, text)
        try:
            flow = json.loads(text)
        except ValueError as e:
            return page(400, "flow: not valid JSON (%s)" % e, name, text)
        ps, _ = prompts()
        try:
            validate_flow(name, flow, prompt_exists=lambda p: ps.resolve(p, flow.get("lang") if isinstance(flow, dict)
                                                                           else None) is not None)
        except ConfigError as e:
            return page(400, str(e), name, text)
        with web.db_lock:
            web.store.put_ivr_flow(name, flow)
        web.audit.write(web.current_user()["username"], "config.change", "ivr flow %s saved" % name)
        see_other("/config/ivr?edit=%s&done=%s" % (name, apply_live().replace(" ", "+")[:300]))

    @app.post("/config/prompts", roles=ADMIN)
    def prompt_upload():
        name = (request.forms.getunicode("name", default="") or "").strip().lower()
        lang = (request.forms.getunicode("lang", default="") or "").strip()
        upload = request.files.get("file")
        if not PROMPT_NAME.match(name):
            return page(400, "name: %r must be 1-40 of a-z, 0-9, '_' or '-'" % name)
        if lang not in LANGS:
            return page(400, "lang: %r must be empty (every language), zh or en" % lang)
        if upload is None:
            return page(400, "file: choose a WAV file to upload")
        data = upload.file.read(UPLOAD_LIMIT + 1)
        try:
            samples = convert_wav(data)
        except ConfigError as e:
            return page(400, str(e))
        target_dir = os.path.join(prompt_dir, lang) if lang else prompt_dir
        os.makedirs(target_dir, exist_ok=True)
        write_wav(os.path.join(target_dir, name + ".wav"), samples)      # atomic: temp file + rename
        key = (lang + "/" if lang else "") + name
        web.audit.write(web.current_user()["username"], "config.change",
                        "prompt %s uploaded (%.1f s)" % (key, len(samples) / 8000.0))
        try:
            web.bus.request("media.prompts", None, 5.0)
            note = "Prompt %s saved and in use." % key
        except BusError as e:
            note = "Prompt %s saved; the media engine is not reachable (%s) and loads it when it starts." % (key, e)
        see_other("/config/ivr?done=" + re.sub(r"[^A-Za-z0-9 .,;()/_'-]", "", note)[:300].replace(" ", "+"))


UPLOAD_LIMIT = 8 * 1024 * 1024
