"""IVR flows defined as data.

A flow is a JSON map stored in the config DB::

    {"start": "welcome",
     "nodes": {
       "welcome": {"type": "play",  "prompt": "welcome", "next": "menu"},
       "menu":    {"type": "menu",  "prompt": "menu", "choices": {"1": "support", "2": "support"},
                   "timeout_s": 5, "retries": 2, "invalid_prompt": "invalid", "default": "support"},
       "support": {"type": "queue", "queue": "support"},
       "bye":     {"type": "hangup", "prompt": "goodbye"}}}

Digits pressed while a prompt plays are kept (type-ahead) and used by the next
menu. ``validate_flow`` checks a flow completely before it is stored, naming the
node and field of the first problem. The Ivr class is pure logic: it asks its
``actions`` to play prompts, queue the call or hang up, and takes timers from an
injected clock.
"""
from callbox.errors import ConfigError

NODE_TYPES = {
    "play": {"prompt", "next"},
    "menu": {"prompt", "choices"},
    "queue": {"queue"},
    "hangup": set(),
}


def validate_flow(name, flow):
    """Check a flow; return it.

    Raises:
        ConfigError: "ivr[<name>].nodes.<node>.<field>: <problem>".
    """
    where = "ivr[%s]" % name
    if not isinstance(flow, dict) or not isinstance(flow.get("nodes"), dict) or not flow["nodes"]:
        raise ConfigError("%s: a flow needs a non-empty 'nodes' map" % where)
    nodes = flow["nodes"]
    if flow.get("start") not in nodes:
        raise ConfigError("%s.start: %r is not a node of this flow" % (where, flow.get("start")))
    for nid, node in nodes.items():
        w = "%s.nodes.%s" % (where, nid)
        if not isinstance(node, dict) or node.get("type") not in NODE_TYPES:
            raise ConfigError("%s.type: %r is not one of: %s" % (w, node.get("type") if isinstance(node, dict) else node,
                                                                 ", ".join(NODE_TYPES)))
        missing = NODE_TYPES[node["type"]] - set(node)
        if missing:
            raise ConfigError("%s: missing %s" % (w, ", ".join(sorted(missing))))
        targets = []
        if node["type"] == "play":
            targets.append(("next", node["next"]))
        if node["type"] == "menu":
            if not isinstance(node["choices"], dict) or not node["choices"]:
                raise ConfigError("%s.choices: must map digits to nodes" % w)
            for d, t in node["choices"].items():
                if d not in "0123456789*#" or len(d) != 1:
                    raise ConfigError("%s.choices: %r is not a single DTMF digit" % (w, d))
                targets.append(("choices." + d, t))
            if "default" in node:
                targets.append(("default", node["default"]))
            for key, lo, hi in (("timeout_s", 1, 60), ("retries", 0, 9)):
                v = node.get(key, lo)
                if not isinstance(v, (int, float)) or not lo <= v <= hi:
                    raise ConfigError("%s.%s: %r is outside %s..%s" % (w, key, v, lo, hi))
        for field, t in targets:
            if t not in nodes:
                raise ConfigError("%s.%s: %r is not a node of this flow" % (w, field, t))
    return flow


class IvrSession:
    def __init__(self, call, flow):
        self.call = call
        self.flow = flow
        self.node = None
        self.digits = ""          # type-ahead not yet used
        self.tries = 0
        self.timer = None
        self.playing = False


class Ivr:
    """Runs calls through flows.

    Args:
        clock: time() / call_later(delay, fn, *args).
        actions: play(call, prompt), enqueue(call, queue), hangup(call, prompt), event(call, name, detail).
    """

    def __init__(self, clock, actions):
        self.clock = clock
        self.actions = actions
        self.sessions = {}

    def start(self, call, flow):
        s = IvrSession(call, flow)
        self.sessions[call.call_id] = s
        self._enter(s, flow["start"])

    def stop(self, call):
        s = self.sessions.pop(call.call_id, None)
        if s and s.timer:
            s.timer.cancel()

    def _enter(self, s, nid):
        if s.timer:
            s.timer.cancel()
            s.timer = None
        s.node = nid
        node = s.flow["nodes"][nid]
        self.actions.event(s.call, "ivr.node", {"node": nid, "type": node["type"]})
        t = node["type"]
        if t == "play":
            s.playing = True
            self.actions.play(s.call, node["prompt"])
        elif t == "menu":
            s.tries = 0
            if s.digits:
                self._menu_digit(s, node)
            else:
                s.playing = True
                self.actions.play(s.call, node["prompt"])
        elif t == "queue":
            self.stop(s.call)
            self.actions.enqueue(s.call, node["queue"])
        elif t == "hangup":
            self.stop(s.call)
            self.actions.hangup(s.call, node.get("prompt"))

    def on_digit(self, call, digit):
        s = self.sessions.get(call.call_id)
        if s is None:
            return
        s.digits += digit
        node = s.flow["nodes"][s.node]
        if node["type"] == "menu":
            self._menu_digit(s, node)

    def _menu_digit(self, s, node):
        d, s.digits = s.digits[0], s.digits[1:]
        target = node["choices"].get(d)
        if target is None:
            self.actions.event(s.call, "ivr.invalid", {"node": s.node, "digit": d})
            self._retry(s, node, node.get("invalid_prompt"))
            return
        self.actions.event(s.call, "ivr.choice", {"node": s.node, "digit": d, "next": target})
        self._enter(s, target)

    def on_play_done(self, call):
        s = self.sessions.get(call.call_id)
        if s is None or not s.playing:
            return
        s.playing = False
        node = s.flow["nodes"][s.node]
        if node["type"] == "play":
            self._enter(s, node["next"])
        elif node["type"] == "menu":
            if s.digits:
                self._menu_digit(s, node)
            else:
                s.timer = self.clock.call_later(node.get("timeout_s", 5), self._timeout, call.call_id)

    def _timeout(self, call_id):
        s = self.sessions.get(call_id)
        if s is None:
            return
        s.timer = None
        node = s.flow["nodes"][s.node]
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
        s.playing = True
        self.actions.play(s.call, prompt or node["prompt"])


DEFAULT_FLOW = {
    "start": "welcome",
    "nodes": {
        "welcome": {"type": "play", "prompt": "welcome", "next": "menu"},
        "menu": {"type": "menu", "prompt": "menu", "choices": {"1": "support", "2": "support", "0": "support"},
                 "timeout_s": 5, "retries": 2, "invalid_prompt": "invalid", "default": "support"},
        "support": {"type": "queue", "queue": "support"},
    },
}
