"""IVR flows defined as data.

A flow is a JSON map stored in the config DB::

    {"start": "welcome", "lang": "zh",
     "express": {"*1": "balance"},
     "nodes": {
       "welcome": {"type": "play",  "prompt": "welcome", "next": "hours"},
       "hours":   {"type": "hours", "open": [{"days": "mon-fri", "from": "08:00", "to": "20:00"}],
                   "holidays": ["2026-10-01"], "next": "menu", "closed": "closed"},
       "menu":    {"type": "menu",  "prompt": "menu", "choices": {"1": "support", "9": "english"},
                   "timeout_s": 5, "retries": 2, "invalid_prompt": "invalid", "default": "support"},
       "english": {"type": "lang",  "lang": "en", "next": "menu"},
       "ticket":  {"type": "collect", "prompt": "enter_number", "var": "ticket", "min": 4, "max": 12,
                   "terminator": "#", "timeout_s": 5, "retries": 2, "next": "support"},
       "support": {"type": "queue", "queue": "support"},
       "vm":      {"type": "transfer", "target": "voicemail:support"},
       "closed":  {"type": "hangup", "prompt": "closed"}}}

Node types: ``play`` (a prompt or a list of prompts, then ``next``), ``menu`` (one
DTMF choice), ``collect`` (several digits into a variable), ``lang`` (switch the
call's language), ``hours`` (opening hours and holidays in the box's local time),
``set`` (store a value, e.g. a survey score, then ``next``), ``queue``,
``transfer`` (to ``queue:``, ``ivr:``, ``seat:``, ``voicemail:``, ``external:``),
``hangup`` (after an optional prompt). Every node may name an ``announce``
prompt played before it; an incident announcement can also be hung on any node
while the box runs (``Ivr.set_announcement``). ``express`` codes typed at any
point jump straight to their node.

Digits pressed while a prompt plays are kept (type-ahead) and used by the next
menu or collect node. ``validate_flow`` checks a flow completely before it is
stored, naming the node and field of the first problem, including nodes that
cannot be reached and loops that never wait for the caller. The Ivr class is
pure logic: it asks its ``actions`` to play prompts, route the call or hang up,
and takes timers from an injected clock.
"""
import re
import time

from callbox.errors import ConfigError

NODE_TYPES = {
    "play": {"prompt", "next"},
    "menu": {"prompt", "choices"},
    "collect": {"prompt", "var", "next"},
    "lang": {"lang", "next"},
    "hours": {"open", "next", "closed"},
    "set": {"var", "value", "next"},
    "queue": {"queue"},
    "transfer": {"target"},
    "hangup": set(),
}
WAITS = ("play", "menu", "collect", "queue", "transfer", "hangup")   # nodes that stop for the caller or leave
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TRANSFER_KINDS = ("queue", "ivr", "seat", "voicemail", "external")
NAME = re.compile(r"^[a-z]{2,3}/[a-z0-9_-]{1,40}$|^[a-z0-9_-]{1,40}$")


def _days(spec, w):
    out = set()
    for part in str(spec).split(","):
        a, _, b = part.strip().partition("-")
        if a not in DAYS or (b and b not in DAYS):
            raise ConfigError("%s: days %r must be like mon-fri or sat,sun" % (w, spec))
        i, j = DAYS.index(a), DAYS.index(b or a)
        out.update(DAYS[k % 7] for k in range(i, i + (j - i) % 7 + 1))
    return out


def _hhmm(v, w):
    m = re.match(r"^([01]\d|2[0-4]):([0-5]\d)$", str(v))
    if not m or (m.group(1) == "24" and m.group(2) != "00"):
        raise ConfigError("%s: %r is not a time HH:MM" % (w, v))
    return int(m.group(1)) * 60 + int(m.group(2))


def _prompts(v, w):
    names = v if isinstance(v, list) else [v]
    if not names or not all(isinstance(n, str) and NAME.match(n) for n in names):
        raise ConfigError("%s: %r must be a prompt name (a-z, 0-9, _ or -, optionally lang/) or a list of them"
                          % (w, v))


def validate_flow(name, flow, prompt_exists=None):
    """Check a flow; return it.

    Args:
        prompt_exists: optional callable(name) -> bool; when given, every prompt must exist.

    Raises:
        ConfigError: "ivr[<name>].nodes.<node>.<field>: <problem>".
    """
    where = "ivr[%s]" % name
    if not isinstance(flow, dict) or not isinstance(flow.get("nodes"), dict) or not flow["nodes"]:
        raise ConfigError("%s: a flow needs a non-empty 'nodes' map" % where)
    nodes = flow["nodes"]
    if flow.get("start") not in nodes:
        raise ConfigError("%s.start: %r is not a node of this flow" % (where, flow.get("start")))
    if "lang" in flow and not re.match(r"^[a-z]{2,3}$", str(flow["lang"])):
        raise ConfigError("%s.lang: %r is not a language code such as zh or en" % (where, flow["lang"]))
    express = flow.get("express", {})
    if not isinstance(express, dict):
        raise ConfigError("%s.express: must map digit codes to nodes" % where)
    for code, target in express.items():
        if not re.match(r"^[0-9*#]{2,8}$", code):
            raise ConfigError("%s.express: code %r must be 2-8 DTMF digits" % (where, code))
        if target not in nodes:
            raise ConfigError("%s.express.%s: %r is not a node of this flow" % (where, code, target))
    edges = {}
    for nid, node in nodes.items():
        w = "%s.nodes.%s" % (where, nid)
        if not isinstance(node, dict) or node.get("type") not in NODE_TYPES:
            raise ConfigError("%s.type: %r is not one of: %s" % (w, node.get("type") if isinstance(node, dict) else node,
                                                                 ", ".join(NODE_TYPES)))
        t = node["type"]
        missing = NODE_TYPES[t] - set(node)
        if missing:
            raise ConfigError("%s: missing %s" % (w, ", ".join(sorted(missing))))
        targets = [("next", node["next"])] if "next" in node else []
        for field in ("prompt", "announce", "invalid_prompt"):
            if field in node:
                _prompts(node[field], "%s.%s" % (w, field))
                for p in (node[field] if isinstance(node[field], list) else [node[field]]):
                    if prompt_exists is not None and not prompt_exists(p):
                        raise ConfigError("%s.%s: prompt %r has not been recorded or uploaded" % (w, field, p))
        if t == "menu":
            if not isinstance(node["choices"], dict) or not node["choices"]:
                raise ConfigError("%s.choices: must map digits to nodes" % w)
            for d, tgt in node["choices"].items():
                if d not in "0123456789*#" or len(d) != 1:
                    raise ConfigError("%s.choices: %r is not a single DTMF digit" % (w, d))
                targets.append(("choices." + d, tgt))
            if "default" in node:
                targets.append(("default", node["default"]))
        if t in ("menu", "collect"):
            for key, lo, hi in (("timeout_s", 1, 60), ("retries", 0, 9)):
                v = node.get(key, lo)
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
                    raise ConfigError("%s.%s: %r is outside %s..%s" % (w, key, v, lo, hi))
        if t == "collect":
            lo, hi = node.get("min", 1), node.get("max", 20)
            if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi <= 32):
                raise ConfigError("%s: min %r and max %r must be whole numbers with 1 <= min <= max <= 32" % (w, lo, hi))
            if node.get("terminator", "#") not in ("#", "*", ""):
                raise ConfigError("%s.terminator: %r must be '#', '*' or ''" % (w, node.get("terminator")))
            if "default" in node:
                targets.append(("default", node["default"]))
        if t in ("collect", "set") and not re.match(r"^[a-z][a-z0-9_]{0,31}$", str(node["var"])):
            raise ConfigError("%s.var: %r must be a lower-case name" % (w, node["var"]))
        if t == "lang" and not re.match(r"^[a-z]{2,3}$", str(node["lang"])):
            raise ConfigError("%s.lang: %r is not a language code such as zh or en" % (w, node["lang"]))
        if t == "hours":
            if not isinstance(node["open"], list) or not node["open"]:
                raise ConfigError("%s.open: must be a list of {days, from, to}" % w)
            for i, r in enumerate(node["open"]):
                ww = "%s.open[%d]" % (w, i)
                if not isinstance(r, dict):
                    raise ConfigError("%s: must be {days, from, to}" % ww)
                _days(r.get("days", "mon-sun"), ww)
                if _hhmm(r.get("from"), ww + ".from") >= _hhmm(r.get("to"), ww + ".to"):
                    raise ConfigError("%s: from %s is not before to %s" % (ww, r.get("from"), r.get("to")))
            for d in node.get("holidays", []):
                if not re.match(r"^\d{4}-\d{2}-\d{2}$", str(d)):
                    raise ConfigError("%s.holidays: %r is not a date YYYY-MM-DD" % (w, d))
            targets.append(("closed", node["closed"]))
        if t == "transfer":
            kind, _, arg = str(node["target"]).partition(":")
            if kind not in TRANSFER_KINDS or not arg:
                raise ConfigError("%s.target: %r must be one of %s followed by ':name'"
                                  % (w, node["target"], ", ".join(TRANSFER_KINDS)))
        for field, tgt in targets:
            if tgt not in nodes:
                raise ConfigError("%s.%s: %r is not a node of this flow" % (w, field, tgt))
        edges[nid] = [tgt for _, tgt in targets]
    # every node reachable from the start or an express code
    seen, todo = set(), [flow["start"]] + list(express.values())
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(edges[n])
    unreachable = sorted(set(nodes) - seen)
    if unreachable:
        raise ConfigError("%s.nodes.%s: cannot be reached from the start or an express code" % (where, unreachable[0]))
    # no loop made only of nodes that never wait for the caller (lang, hours, set)
    for start in nodes:
        path, n = [], start
        while nodes[n]["type"] not in WAITS:
            if n in path:
                raise ConfigError("%s.nodes.%s: loops back to itself (%s) without waiting for the caller"
                                  % (where, n, " -> ".join(path + [n])))
            path.append(n)
            n = nodes[n]["next"]
    return flow


class IvrSession:
    def __init__(self, call, flow, lang):
        self.call = call
        self.flow = flow
        self.lang = lang
        self.node = None
        self.digits = ""          # type-ahead not yet used
        self.collected = ""
        self.recent = ""          # every digit, for express codes
        self.tries = 0
        self.timer = None
        self.playing = False
        self.announced = False


class Ivr:
    """Runs calls through flows.

    Args:
        clock: time() / call_later(delay, fn, *args).
        actions: play(call, prompt, lang), enqueue(call, queue), route(call, target),
            hangup(call, prompt), event(call, name, detail).
        localtime: callable() -> time.struct_time of the box's local time (opening hours).
    """

    def __init__(self, clock, actions, localtime=time.localtime):
        self.clock = clock
        self.actions = actions
        self.localtime = localtime
        self.sessions = {}
        self.announcements = {}      # (flow name, node) -> prompt: incident announcements

    def set_announcement(self, flow, node, prompt):
        """Hang an announcement on a node of a flow (prompt None takes it down)."""
        if prompt is None:
            self.announcements.pop((flow, node), None)
        else:
            _prompts(prompt, "announcement")
            self.announcements[(flow, node)] = prompt

    def start(self, call, flow, node=None, name="default"):
        s = IvrSession(call, flow, flow.get("lang", "zh"))
        s.name = name
        call.lang = s.lang
        self.sessions[call.call_id] = s
        start = node or flow["start"]
        if start not in flow["nodes"]:
            raise ValueError("ivr %s: node %r is not in the flow" % (name, start))
        self._enter(s, start)

    def stop(self, call):
        s = self.sessions.pop(call.call_id, None)
        if s and s.timer:
            s.timer.cancel()

    def _play(self, s, prompt):
        s.playing = True
        self.actions.play(s.call, prompt, s.lang)

    def _enter(self, s, nid):
        for _ in range(len(s.flow["nodes"]) + 1):      # validated flows cannot loop without waiting
            if s.timer:
                s.timer.cancel()
                s.timer = None
            s.node = nid
            s.announced = False
            node = s.flow["nodes"][nid]
            self.actions.event(s.call, "ivr.node", {"node": nid, "type": node["type"]})
            announce = self.announcements.get((s.name, nid)) or node.get("announce")
            if announce:
                s.announced = True
                self._play(s, announce)
                return
            nxt = self._run(s, nid, node)
            if nxt is None:
                return
            nid = nxt

    def _run(self, s, nid, node):
        """Act on a node; return the next node for nodes that do not wait."""
        t = node["type"]
        if t == "play":
            self._play(s, node["prompt"])
        elif t in ("menu", "collect"):
            s.tries = 0
            s.collected = ""
            if s.digits:
                self._take_digits(s, node)
            else:
                self._play(s, node["prompt"])
        elif t == "lang":
            s.lang = s.call.lang = node["lang"]
            return node["next"]
        elif t == "set":
            self.actions.event(s.call, "ivr.set", {"var": node["var"], "value": node["value"]})
            getattr(s.call, "vars", {}).__setitem__(node["var"], node["value"])
            return node["next"]
        elif t == "hours":
            open_now = self._open(node)
            self.actions.event(s.call, "ivr.hours", {"node": nid, "open": open_now})
            return node["next"] if open_now else node["closed"]
        elif t == "queue":
            self.stop(s.call)
            self.actions.enqueue(s.call, node["queue"])
        elif t == "transfer":
            self.stop(s.call)
            self.actions.route(s.call, node["target"])
        elif t == "hangup":
            self.stop(s.call)
            self.actions.hangup(s.call, node.get("prompt"))
        return None

    def _open(self, node):
        now = self.localtime()
        if time.strftime("%Y-%m-%d", now) in node.get("holidays", []):
            return False
        day, minute = DAYS[now.tm_wday], now.tm_hour * 60 + now.tm_min
        for r in node["open"]:
            if day in _days(r.get("days", "mon-sun"), "") and _hhmm(r["from"], "") <= minute < _hhmm(r["to"], ""):
                return True
        return False

    def on_digit(self, call, digit):
        s = self.sessions.get(call.call_id)
        if s is None:
            return
        s.recent = (s.recent + digit)[-8:]
        for code, target in s.flow.get("express", {}).items():
            if s.recent.endswith(code):
                self.actions.event(call, "ivr.express", {"code": code, "next": target})
                s.digits = s.recent = ""
                self._enter(s, target)
                return
        s.digits += digit
        node = s.flow["nodes"][s.node]
        if node["type"] in ("menu", "collect") and not s.announced:
            self._take_digits(s, node)

    def _take_digits(self, s, node):
        if node["type"] == "menu":
            d, s.digits = s.digits[0], s.digits[1:]
            if d in "*#" and any(c.startswith(d) for c in s.flow.get("express", {})) and d not in node["choices"]:
                return                      # maybe the start of an express code
            target = node["choices"].get(d)
            if target is None:
                self.actions.event(s.call, "ivr.invalid", {"node": s.node, "digit": d})
                self._retry(s, node, node.get("invalid_prompt"))
                return
            self.actions.event(s.call, "ivr.choice", {"node": s.node, "digit": d, "next": target})
            self._enter(s, target)
            return
        # collect
        term = node.get("terminator", "#")
        while s.digits:
            d, s.digits = s.digits[0], s.digits[1:]
            if term and d == term:
                self._collected(s, node)
                return
            s.collected += d
            if len(s.collected) >= node.get("max", 20):
                self._collected(s, node)
                return
        if s.timer:
            s.timer.cancel()
        if not s.playing:
            s.timer = self.clock.call_later(node.get("timeout_s", 5), self._timeout, s.call.call_id)

    def _collected(self, s, node):
        value = s.collected
        if len(value) < node.get("min", 1):
            self.actions.event(s.call, "ivr.invalid", {"node": s.node, "digits": value})
            s.collected = ""
            self._retry(s, node, node.get("invalid_prompt"))
            return
        getattr(s.call, "vars", {}).__setitem__(node["var"], value)
        self.actions.event(s.call, "ivr.collect", {"node": s.node, "var": node["var"], "value": value})
        self._enter(s, node["next"])

    def on_play_done(self, call):
        s = self.sessions.get(call.call_id)
        if s is None or not s.playing:
            return
        s.playing = False
        node = s.flow["nodes"][s.node]
        if s.announced:
            s.announced = False
            nxt = self._run(s, s.node, node)
            if nxt is not None:
                self._enter(s, nxt)
            return
        if node["type"] == "play":
            self._enter(s, node["next"])
        elif node["type"] in ("menu", "collect"):
            if s.digits:
                self._take_digits(s, node)
            else:
                s.timer = self.clock.call_later(node.get("timeout_s", 5), self._timeout, call.call_id)

    def _timeout(self, call_id):
        s = self.sessions.get(call_id)
        if s is None:
            return
        s.timer = None
        node = s.flow["nodes"][s.node]
        if node["type"] == "collect" and s.collected:
            self._collected(s, node)        # a pause ends the number (too short: retried)
            return
        self.actions.event(s.call, "ivr.timeout", {"node": s.node})
        self._retry(s, node, None)

    def _retry(self, s, node, prompt):
        s.tries += 1
        if s.tries > node.get("retries", 2):
            if "default" in node:
                self._enter(s, node["default"])
            else:
                self.stop(s.call)
                self.actions.hangup(s.call, "goodbye")
            return
        self._play(s, prompt or node["prompt"])


DEFAULT_FLOW = {
    "start": "welcome",
    "lang": "zh",
    "nodes": {
        "welcome": {"type": "play", "prompt": "welcome", "next": "menu"},
        "menu": {"type": "menu", "prompt": ["menu", "en/for_english"],
                 "choices": {"1": "support", "2": "support", "0": "support", "9": "english"},
                 "timeout_s": 5, "retries": 2, "invalid_prompt": "invalid", "default": "support"},
        "english": {"type": "lang", "lang": "en", "next": "menu_en"},
        "menu_en": {"type": "menu", "prompt": "menu", "choices": {"1": "support", "2": "support", "0": "support"},
                    "timeout_s": 5, "retries": 2, "invalid_prompt": "invalid", "default": "support"},
        "support": {"type": "queue", "queue": "support"},
    },
}

SURVEY_FLOW = {
    "start": "ask",
    "nodes": {
        "ask": {"type": "menu", "prompt": "survey", "choices": {"1": "good", "2": "fair", "3": "poor"},
                "timeout_s": 6, "retries": 1, "invalid_prompt": "invalid", "default": "none"},
        "good": {"type": "set", "var": "survey", "value": 1, "next": "thanks"},
        "fair": {"type": "set", "var": "survey", "value": 2, "next": "thanks"},
        "poor": {"type": "set", "var": "survey", "value": 3, "next": "thanks"},
        "none": {"type": "hangup", "prompt": "goodbye"},
        "thanks": {"type": "hangup", "prompt": "survey_thanks"},
    },
}
