"""Call control: trunk calls in, through the IVR and the ACD, to an agent's seat.

Design note
-----------
Inputs are events: call events from each PRI or MFC/R2 span, media events (DTMF
digits, prompt ends, seat hook and keys, span state) and bus requests. All run
on one asyncio loop, so no locks. Outputs are media commands (fire-and-forget
bus requests), Q.931 primitives, events published for the web UI and console,
and durable rows: one CDR per call and its event log.

A call's life: SETUP -> CALL PROCEEDING + CONNECT (the box answers so the IVR
can speak and hear DTMF) -> IVR flow -> queue -> offered to the longest-idle
agent (the seat rings) -> the agent picks up: caller and seat are connected and
recording starts -> either side hangs up -> the other side is cleared, the
recording closed, the CDR written, the agent goes to after-call work.
"""
import collections
import itertools
import logging
import re
import time

from callbox.acd.acd import Acd, Callback
from callbox.calls.ivr import DEFAULT_FLOW, SURVEY_FLOW, Ivr, validate_flow
from callbox.calls.r2_span import R2Span
from callbox.config.store import R2_DEFAULTS
from callbox.errors import ConfigError
from callbox.signalling.trace import describe

log = logging.getLogger("callbox.calls")
_seq = itertools.count(1)
LADDER_MAX = 400          # lines kept per call (a call that loops on errors stops growing here)
LADDER_TAIL_S = 2.0       # lines that follow the end of a call (RELEASE COMPLETE, idle) still count


class Call:
    """One trunk call. Times (start, answer, end, queued_at) are on the control clock;
    CallControl.wall() turns them into Unix time for CDRs and views."""

    def __init__(self, span, chan, ani, dnis, q931_id, now):
        where = "s%dc%d" % (span, chan) if span is not None else "seat%d" % chan
        self.call_id = "%s-%04d-%s" % (time.strftime("%Y%m%d%H%M%S"), next(_seq) % 10000, where)
        self.span = span            # None for an internal call from a seat (chan is the seat)
        self.chan = chan
        self.ep = "s%d.%d" % (span, chan) if span is not None else "seat%d" % chan
        self.ani = ani
        self.dnis = dnis
        self.q931_id = q931_id
        self.state = "setup"
        self.digits = ""
        self.queue = None
        self.queued_at = None
        self.agent = None
        self.agent_login = None
        self.seat = None
        self.start = now
        self.answer = None       # agent answered
        self.end = None
        self.recording = False
        self.cause = None
        self.priority = 0
        self.lang = "zh"
        self.vars = {}              # values the IVR collected (ticket number, survey score, ...)
        self.direction = "in"
        self.callback = None        # the Callback an outgoing call serves
        self.announce_timer = None
        self.voicemail = None       # mailbox while a message is being left
        self.exit_reason = None     # queue rule that took the call out of its queue

    def snapshot(self, wall):
        mon = getattr(self, "monitor", None)
        return {"call_id": self.call_id, "direction": self.direction, "priority": self.priority,
                "vars": dict(self.vars), "lang": self.lang,
                "monitor": {"seat": mon[0], "mode": mon[1]} if mon else None, "span": self.span, "chan": self.chan, "ani": self.ani, "dnis": self.dnis,
                "state": self.state, "digits": self.digits, "queue": self.queue,
                "agent": self.agent_login, "seat": self.seat, "start": wall(self.start),
                "answer": wall(self.answer)}


class Consult:
    """An attended transfer in progress: ``call`` waits on hold while ``agent`` talks to
    ``other`` (an Agent rung at ``other_seat``, or an outgoing Call)."""

    def __init__(self, call, agent, kind, name):
        self.call, self.agent, self.kind, self.name = call, agent, kind, name
        self.other = None
        self.other_seat = None
        self.state = "ringing"
        self.timer = None


CONSULT_RING_S = 20.0


class CallControl:
    """Args:
        store (Store): config and CDRs.
        media: object with send(op, args) (fire-and-forget bus requests to the media daemon).
        publish (callable): publish(topic, data) on call control's bus.
        clock: the asyncio loop (call_later, time).
        span_factory (callable): span_factory(sid, side, send_frame, on_event, clock, on_link) -> PriSpan.
    """

    def __init__(self, store, media, publish, clock, span_factory):
        self.store = store
        self.media = media
        self.publish = publish
        self.clock = clock
        self.calls = {}            # call_id -> Call
        self.by_q931 = {}          # (span, q931 id) -> Call
        self.by_ep = {}            # trunk endpoint -> Call
        self.spans = {}
        self._restarted = set()     # spans that had their RESTART since this process started
        # calls a previous call control left in flight (it was killed): cleared at link-up
        self._orphans = self.store.get_setting("callctl.inflight", []) or []
        self.acd = Acd(clock, self)
        self.ivr = Ivr(clock, _IvrActions(self))
        self.flows = {}
        self.routes = []
        self._wall_offset = time.time() - clock.time()
        self.counters = {"calls:offered": 0, "calls:answered": 0, "calls:abandoned": 0, "calls:failed": 0}
        self.seat_up = {}     # seat -> its phone is plugged/registered and answering keep-alives
        self.consults = {}    # call_id of the held caller -> Consult (attended transfers)
        self.agent_digits = {}  # seat -> (in-call code keyed so far, when)
        # per-call signalling ladders: call_id -> [[t, dir, text], ...]; lines that come before
        # their call exists (SETUP, R2 register signalling) wait under (span, key)
        self.ladders = {}
        self._sig_pending = collections.OrderedDict()
        self._ladder_tail = {}  # (span, key) -> call_id for LADDER_TAIL_S after the call ended
        self.load_config(span_factory)

    # -- configuration -------------------------------------------------------------
    def load_config(self, span_factory):
        self.reload_routing()
        self.restore_agents()
        for s in self.store.spans():
            if s["enabled"] and s["signalling"] == "pri":
                sid = s["id"]
                kw = {"kind": "T1"} if s.get("kind") == "T1" else {}
                if self.store.get_setting("pri.overlap", False) is True:
                    kw.update(overlap=True, number_complete=self.number_complete)
                kw["on_line"] = lambda qid, text, sid=sid: self._ladder(sid, ("q", qid), "q931", text)
                self.spans[sid] = span_factory(
                    sid, s["side"], lambda fr, sid=sid: self._dchan_tx(sid, fr),
                    lambda ev, sid=sid: self.on_q931(sid, ev), self.clock,
                    lambda up, sid=sid: self._link(sid, up), **kw)
            elif s["enabled"] and s["signalling"] == "cas":
                log.error("span %d: signalling cas carries ABCD bits only; this firmware has no E&M call "
                          "control, so the span takes no calls (use pri, r2-cn or r2-itu)", s["id"])
            elif s["enabled"] and s["signalling"] in ("r2-cn", "r2-itu") and s.get("kind", "E1") == "E1":
                sid = s["id"]
                r2 = self.r2_options()
                self.spans[sid] = R2Span(
                    sid, s["signalling"], self.media.send, lambda ev, sid=sid: self.on_q931(sid, ev), self.clock,
                    lambda up, sid=sid: self._link(sid, up), dnis_digits=r2["dnis_digits"], ani=r2["ani"],
                    trace=lambda d, text, ts, sid=sid: self._r2_trace(sid, d, text, ts))

    def r2_options(self):
        """The ``r2`` setting: DNIS digits incoming MFC/R2 calls collect (1-20; China sends no
        end-of-number) and whether to ask for the caller's category and number."""
        opts = dict(R2_DEFAULTS)
        got = self.store.get_setting("r2", {}) or {}
        n = got.get("dnis_digits", 4) if isinstance(got, dict) else None
        if isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 20:
            opts["dnis_digits"] = n
        elif got:
            log.error("setting r2: dnis_digits %r is not 1..20; 4 used", n)
        if isinstance(got, dict) and isinstance(got.get("ani"), bool):
            opts["ani"] = got["ani"]
        return opts

    def _link(self, sid, up):
        self.publish("sig.link", {"span": sid, "up": up})
        orphans = [o for o in self._orphans if o["span"] == sid]
        if up and orphans and sid not in self._restarted:
            # a call control before this one died with calls in flight on this span: the far end
            # still holds them, so restart the whole interface, free the media and close their
            # records cleanly (disposition "interrupted")
            self._restarted.add(sid)
            try:
                self.spans[sid].sig.restart_interface()
            except Exception:
                log.exception("span %d: sending RESTART failed", sid)
            for o in orphans:
                self._close_orphan(o)
            self._orphans = [o for o in self._orphans if o["span"] != sid]
            self._save_inflight()

    def _close_orphan(self, o):
        self.media.send("chan.stop", {"ep": o["ep"]})
        self.media.send("media.disconnect", {"ep": o["ep"]})
        if o.get("seat"):
            self.media.send("media.disconnect", {"ep": "seat%d" % o["seat"]})
            self.media.send("seat.control", {"seat": o["seat"], "msg": {"ring": False, "hangup": True}})
        if o.get("recording"):
            self.media.send("media.record", {"call_id": o["call_id"], "stop": True})
        now = time.time()
        cdr = {"call_id": o["call_id"], "start": o["start"], "answer": o.get("answer"), "end": now,
               "span": o["span"], "chan": o["chan"], "ani": o.get("ani"), "dnis": o.get("dnis"),
               "queue": o.get("queue"), "agent": o.get("agent"), "seat": o.get("seat"),
               "talk_s": round(now - o["answer"], 3) if o.get("answer") else None,
               "disposition": "interrupted", "cause": 41}
        try:
            self.store.add_cdr(cdr)
            self.store.add_call_event(o["call_id"], "interrupted", {"why": "call control restarted"})
        except Exception:
            log.exception("call %s: closing after a restart failed", o["call_id"])
        log.warning("call %s: interrupted by a restart of call control; record closed", o["call_id"])

    def _save_inflight(self):
        """Keep the list of calls in flight in the store, so a successor can close them."""
        rows = [{"call_id": c.call_id, "span": c.span, "chan": c.chan, "ep": c.ep, "start": self.wall(c.start),
                 "answer": self.wall(c.answer), "ani": c.ani, "dnis": c.dnis, "queue": c.queue,
                 "agent": c.agent_login, "seat": c.seat, "recording": c.recording}
                for c in self.calls.values()] + list(self._orphans)
        try:
            self.store.set_setting("callctl.inflight", rows)
        except Exception:
            log.exception("saving the calls in flight failed")

    def reload_routing(self):
        """Read queues, agents, IVR flows and routes from the store and apply them now.

        Calls in progress keep their place; a queue or agent removed from the store stays
        until call control restarts (reported in the result). Returns a summary with any
        entries that could not be loaded and why.
        """
        problems = []
        for q in self.store.queues():
            try:
                self.acd.add_queue(q["name"], **self.store.queue_settings(q))
            except (ValueError, TypeError) as e:
                problems.append("queue %s not loaded: %s" % (q["name"], e))
        for a in self.store.agents():
            try:
                self.acd.add_agent(a["login"], a["name"], a.get("skills") or {})
            except ValueError as e:
                problems.append("agent %s: skills ignored: %s" % (a["login"], e))
                self.acd.add_agent(a["login"], a["name"])
        try:
            self.acd.check_config()
        except ValueError as e:
            problems.append("queue configuration: %s" % e)
        flows = {}
        for f in self.store.ivr_flows():
            try:
                flows[f["name"]] = validate_flow(f["name"], f["flow"])
            except Exception as e:
                problems.append("IVR flow %s not loaded: %s" % (f["name"], e))
        flows.setdefault("default", DEFAULT_FLOW)
        self.flows = flows
        self.routes = self.store.routes()
        try:
            self.translations = self.store.translations()
        except ConfigError as e:
            problems.append("called-number translation not loaded: %s" % e)
            self.translations = []
        for p in problems:
            log.error("%s", p)
        stale = sorted(set(self.acd.queues) - {q["name"] for q in self.store.queues()})
        return {"queues": len(self.acd.queues), "agents": len(self.acd.agents), "flows": len(self.flows),
                "routes": len(self.routes), "problems": problems,
                "restart_needed_for": ["removed queue %s" % q for q in stale]}

    def _dchan_tx(self, sid, frame):
        self._trace(sid, "tx", frame)
        self.media.send("span.dchan.tx", {"span": sid, "frame": frame})

    def _trace(self, sid, direction, frame):
        """Publish every D-channel frame, decoded, for the console's signalling monitor."""
        self.publish("sig.trace", {"span": sid, "dir": direction, "text": describe(frame)})

    def _r2_trace(self, sid, direction, text, ts):
        self.publish("sig.trace", {"span": sid, "dir": direction, "text": text})
        self._ladder(sid, ("ts", ts), direction, text)

    # -- per-call signalling ladders -------------------------------------------------
    def _ladder_call(self, sid, key):
        if key[0] == "q":
            return self.by_q931.get((sid, key[1]))
        return self.by_ep.get("s%d.%d" % (sid, key[1]))

    def _ladder(self, sid, key, direction, text):
        """One signalling line (a Q.931 message, state change or timer; an R2 bit or tone
        change or channel event) into the ladder of the call it belongs to."""
        entry = [self.wall(self.clock.time()), direction, text]
        if key[0] == "ts" and text.split(" ", 2)[1:2] == ["seized"]:
            self._ladder_tail.pop((sid, key), None)      # a new call on the timeslot
        call = self._ladder_call(sid, key)
        cid = call.call_id if call is not None else self._ladder_tail.get((sid, key))
        if cid is not None:
            lad = self.ladders.setdefault(cid, [])
            if len(lad) < LADDER_MAX:
                lad.append(entry)
            return
        q = self._sig_pending.get((sid, key))
        if q is None:
            q = self._sig_pending[(sid, key)] = collections.deque(maxlen=80)
            while len(self._sig_pending) > 256:            # calls that never became calls
                self._sig_pending.popitem(last=False)
        q.append(entry)

    def _ladder_start(self, call, key):
        """A call now exists: its lines so far (R2: since the seizure) open its ladder."""
        got = list(self._sig_pending.pop((call.span, key), ()))
        if key[0] == "ts":
            starts = [i for i, e in enumerate(got) if e[2].split(" ", 2)[1:2] == ["seized"]]
            got = got[starts[-1]:] if starts else got
        self.ladders[call.call_id] = got[-LADDER_MAX:]

    def _ladder_end(self, call):
        """The call ended: lines of the next LADDER_TAIL_S seconds still join it, then the
        ladder is written to the call's event log (one row)."""
        if call.call_id not in self.ladders:
            return
        keys = [(call.span, ("q", call.q931_id)), (call.span, ("ts", call.chan))]
        for k in keys:
            self._ladder_tail[k] = call.call_id
        self.clock.call_later(LADDER_TAIL_S, self._ladder_flush, call, keys)

    def _ladder_flush(self, call, keys):
        for k in keys:
            if self._ladder_tail.get(k) == call.call_id:
                del self._ladder_tail[k]
        lad = self.ladders.pop(call.call_id, None)
        if lad:
            self.event(call, "signalling", {"ladder": lad})

    def ladder(self, call_id):
        """The signalling ladder of a call in progress (or just ended), or None."""
        lad = self.ladders.get(call_id)
        return [list(e) for e in lad] if lad is not None else None

    def wall(self, t):
        """Control-clock time -> Unix time (None stays None)."""
        return None if t is None else round(t + self._wall_offset, 3)

    @staticmethod
    def _matches(pattern, number):
        if pattern == "*":
            return True
        if pattern.endswith("*"):
            return (number or "").startswith(pattern[:-1])
        return pattern == number

    def translate(self, dnis):
        """The called number after the first matching translation rule (or as received)."""
        for rx, template in getattr(self, "translations", []):
            if rx.fullmatch(dnis or ""):
                return rx.sub(template, dnis, count=1)
        return dnis

    def number_complete(self, digits):
        """Overlap receiving: the digits so far are a whole number when, translated, a route
        names exactly them (prefix and catch-all routes wait for Sending Complete or T302)."""
        dnis = self.translate(digits)
        return any(r["dnis"] == dnis for r in self.routes)

    def route(self, dnis, ani=""):
        """The first route whose called and calling number patterns match -> (target, priority)."""
        for r in self.routes:
            if self._matches(r["dnis"], dnis) and self._matches(r.get("ani") or "*", ani):
                return r["target"], int(r.get("priority") or 0)
        return "ivr:default", 0

    # -- media events ------------------------------------------------------------------
    def on_media_event(self, topic, data):
        if topic in ("chan.abcd", "chan.r2mf"):
            m = re.match(r"s(\d+)\.", str(data.get("ep", "")))
            sp = self.spans.get(int(m.group(1))) if m else None
            if sp is not None and hasattr(sp, "on_media"):
                sp.on_media(topic, data)
        elif topic == "span.dchan.rx":
            sp = self.spans.get(data["span"])
            if sp:
                self._trace(data["span"], "rx", data["frame"])
                sp.rx_frame(data["frame"])
        elif topic == "span.state":
            sp = self.spans.get(data["span"])
            if sp:
                (sp.line_up if data["up"] else sp.line_down)()
            self.publish("span.state", data)
        elif topic == "span.alarm":
            self.publish("span.alarm", data)
        elif topic == "chan.dtmf":
            call = self.by_ep.get(data["ep"])
            if call is None and str(data["ep"]).startswith("seat"):
                self.on_agent_digit(int(data["ep"][4:]), data["digit"])
            if call:
                call.digits += data["digit"]
                self.event(call, "dtmf", {"digit": data["digit"]})
                self.publish("call.digit", {"call_id": call.call_id, "digit": data["digit"]})
                if call.state == "queued":
                    self._queued_digit(call, data["digit"])
                elif call.state == "voicemail":
                    if data["digit"] == "#":
                        self._voicemail_end(call, "saved")
                else:
                    self.ivr.on_digit(call, data["digit"])
        elif topic == "chan.play.done":
            call = self.by_ep.get(data["ep"])
            if call:
                if call.state == "closing":
                    self._release_trunk(call, 16)
                elif call.state == "queued":
                    self.play(call, "queue", loop=True)        # back to hold music after an announcement
                elif call.state == "voicemail-greeting":
                    self._voicemail_record(call)
                else:
                    self.ivr.on_play_done(call)
        elif topic == "seat.hook":
            self.on_seat_hook(data["seat"], data["hook"])
        elif topic == "seat.key":
            self.on_seat_key(data)
        elif topic == "seat.dial":
            self.on_seat_dial(data["seat"], str(data.get("number", "")))
        elif topic == "seat.plug":
            self.on_seat_plug(data["seat"], data["plugged"])

    def media_status(self, spans, seats=()):
        """After (re)connecting to media: start signalling on every span that is up and learn
        which seats' phones are reachable."""
        for s in spans:
            sp = self.spans.get(s["span"])
            if sp:
                (sp.line_up if s["up"] else sp.line_down)()
        for st in seats:
            self.on_seat_plug(st["seat"], st["plugged"])
        internal = [o for o in self._orphans if o.get("span") is None]
        if internal:
            # internal calls of a call control that died: hang their seats up, close the records
            for o in internal:
                self.media.send("seat.control", {"seat": o["chan"], "msg": {"hangup": True}})
                self._close_orphan(o)
            self._orphans = [o for o in self._orphans if o.get("span") is not None]
            self._save_inflight()

    def on_seat_plug(self, seat, plugged):
        """A seat's phone came or went (sim socket, SIP registration and keep-alives): the
        ACD skips the agent signed in there while it is unreachable."""
        self.seat_up[seat] = bool(plugged)
        agent = self.acd.agent_at_seat(seat)
        if agent is not None and agent.reachable != bool(plugged):
            log.info("seat %d %s: agent %s %s", seat, "reachable" if plugged else "unreachable", agent.login,
                     "back in the queues" if plugged else "skipped until it is back")
            self.acd.set_reachable(agent.login, bool(plugged))

    # -- Q.931 --------------------------------------------------------------------------
    def on_q931(self, sid, ev):
        kind = ev["ev"]
        call = self.by_q931.get((sid, ev.get("call")))
        if kind == "setup":
            self.incoming(sid, ev)
        elif call is None:
            return
        elif kind in ("proceeding", "alerting", "progress") and call.direction == "out":
            self.event(call, kind, {})
            if kind == "alerting":
                call.state = "alerting"
        elif kind == "connect" and call.direction == "out":
            self._outgoing_answered(call)
        elif kind == "disconnect":
            self.event(call, "far_disconnect", {"cause": ev.get("cause")})
            call.cause = ev.get("cause")
            self._caller_gone(call)
        elif kind == "released":
            call.cause = call.cause or ev.get("cause")
            self._caller_gone(call)
            self._finish(call)

    def incoming(self, sid, ev):
        sp = self.spans[sid]
        call = Call(sid, ev["chan"], ev.get("calling", ""), ev.get("called", ""), ev["call"], self.clock.time())
        self.calls[call.call_id] = call
        self.by_q931[(sid, ev["call"])] = call
        self._save_inflight()
        self.by_ep[call.ep] = call
        self._ladder_start(call, ("q", ev["call"]) if sp.sig is not sp else ("ts", call.chan))
        self.counters["calls:offered"] += 1
        self.event(call, "setup", {"ani": call.ani, "dnis": call.dnis, "chan": call.chan})
        self.publish("call.new", call.snapshot(self.wall))
        sp.sig.proceeding(ev["call"])
        sp.sig.connect(ev["call"])
        new = self.translate(call.dnis)
        if new != call.dnis:
            self.event(call, "translated", {"from": call.dnis, "to": new})
            call.dnis = new
        target, call.priority = self.route(call.dnis, call.ani)
        self.event(call, "route", {"target": target, "priority": call.priority})
        call.state = "ivr"
        self.media.send("chan.dtmf", {"ep": call.ep, "on": True})
        self.route_to(call, target)

    def route_to(self, call, target):
        """Send a call to ``ivr:<flow>[#node]``, ``queue:<name>``, ``voicemail:<box>``,
        ``seat:<n>`` / ``agent:<login>`` (rings that agent first, through its first queue, the
        queue takes the call if it does not answer), ``external:<number>`` (forwarded on a
        trunk; back to goodbye if nobody answers) or ``hangup``."""
        kind, _, name = target.partition(":")
        if kind in ("seat", "agent"):
            agent = self.acd.agent_at_seat(int(name)) if kind == "seat" and name.isdigit() else \
                self.acd.agents.get(name)
            queue = agent.queues[0].name if agent is not None and agent.queues else None
            if agent is None or agent.state == "logged-out" or queue is None:
                self.event(call, "route_unavailable", {"target": target, "problem": "nobody signed in there"})
                self.hangup(call, "goodbye")
                return
            self.enqueue(call, queue, agent=agent.login)
            return
        if kind == "external":
            if call.direction == "internal" or call.span is None or not self._forward(call, name):
                self.event(call, "route_unavailable", {"target": target, "problem": "cannot dial out"})
                self.hangup(call, "goodbye")
            return
        if kind == "voicemail":
            self.voicemail(call, name)
            return
        if kind == "ivr":
            call.state = "ivr"
            fname, _, node = name.partition("#")          # ivr:<flow>#<node>: an express line
            flow = self.flows.get(fname)
            if flow is None:
                self.event(call, "route_error", {"target": target, "problem": "no such IVR flow"})
                fname, flow, node = "default", self.flows.get("default", DEFAULT_FLOW), ""
            try:
                self.ivr.start(call, flow, node or None, fname)
            except ValueError as e:
                self.event(call, "route_error", {"target": target, "problem": str(e)})
                self.ivr.start(call, flow, None, fname)
        elif kind == "queue":
            self.enqueue(call, name)
        else:
            if kind != "hangup":
                self.event(call, "route_unavailable", {"target": target})
            self.hangup(call, "goodbye")

    # -- IVR actions ----------------------------------------------------------------
    def enqueue(self, call, queue, agent=None):
        call.state = "queued"
        self.play(call, "queue", loop=True)
        self.event(call, "queued", {"queue": queue, **({"agent": agent} if agent else {})})
        self.publish("call.queued", {"call_id": call.call_id, "queue": queue})
        try:
            refused = self.acd.enqueue(call, queue, priority=call.priority, agent=agent)
        except ValueError as e:
            log.error("call %s: %s", call.call_id, e)
            self.hangup(call, "goodbye")
            return
        if refused is None and call.state == "queued":
            self._announce(call)

    def _announce(self, call):
        """Tell a waiting caller its place and expected wait (and the callback key), then hold
        music again; repeated every ``announce_every_s`` of its queue."""
        call.announce_timer = None
        q = self.acd.queues.get(call.queue)
        pos = self.acd.position(call)
        if q is None or call.state != "queued" or not pos:
            return
        parts = []
        if q.announce_position:
            parts += ["position_before", "num_%d" % min(pos, 99), "position_after"]
        ewt = self.acd.expected_wait(call)
        if q.announce_ewt and ewt:
            parts += ["ewt_before", "num_%d" % min(99, max(1, int(round(ewt / 60.0)))), "ewt_after"]
        if q.callback_key:
            parts.append("callback_offer")
        if parts:
            self.event(call, "announce", {"position": pos, "ewt_s": ewt})
            call.announcing = True
            self.play(call, parts)
        if q.announce_every_s:
            call.announce_timer = self.clock.call_later(q.announce_every_s, self._announce, call)

    def play(self, call, prompt, loop=False, lang=None):
        """Play a prompt (or a list of prompts) to the caller in the call's language."""
        msg = {"ep": call.ep, "prompt": prompt, "lang": lang or call.lang}
        if loop:
            msg["loop"] = True
        self.media.send("chan.play", msg)

    def _queued_digit(self, call, digit):
        q = self.acd.queues.get(call.queue)
        if q is None or not q.callback_key or digit != q.callback_key:
            return
        try:
            cb, new = self.acd.request_callback(call, call.ani)
        except ValueError as e:
            self.event(call, "callback_refused", {"problem": str(e)})
            return
        self.event(call, "callback", {"number": call.ani, "callback": cb.call_id, "new": new})
        self.publish("call.callback", {"call_id": call.call_id, "callback": cb.call_id, "number": cb.number})
        call.exit_reason = "callback"
        self._stop_announcements(call)
        call.state = "ivr"
        self.hangup(call, "callback_confirm")

    def _stop_announcements(self, call):
        if call.announce_timer is not None:
            call.announce_timer.cancel()
            call.announce_timer = None

    # -- voicemail --------------------------------------------------------------------
    VOICEMAIL_MAX_S = 120.0

    def voicemail(self, call, box):
        """Greeting, beep, then record the caller until '#', hang-up or two minutes."""
        self.ivr.stop(call)
        call.voicemail = box
        call.state = "voicemail-greeting"
        self.event(call, "voicemail", {"box": box})
        self.play(call, ["voicemail", "beep"])

    def _voicemail_record(self, call):
        call.state = "voicemail"
        self.media.send("media.record", {"call_id": "vm-" + call.call_id, "caller": call.ep, "agent": call.ep,
                                         "kind": "voicemail", "box": call.voicemail})
        call.recording = True
        call.vm_timer = self.clock.call_later(self.VOICEMAIL_MAX_S, self._voicemail_end, call, "time limit")

    def _voicemail_end(self, call, why):
        if call.state != "voicemail":
            return
        if getattr(call, "vm_timer", None):
            call.vm_timer.cancel()
        self.media.send("media.record", {"call_id": "vm-" + call.call_id, "stop": True})
        call.recording = False
        self.event(call, "voicemail_saved", {"box": call.voicemail, "why": why})
        self.publish("voicemail.new", {"box": call.voicemail, "call_id": call.call_id, "ani": call.ani})
        call.exit_reason = call.exit_reason or "voicemail"
        call.state = "ivr"
        if why != "caller hung up":
            self.hangup(call, "voicemail_saved")

    # -- callbacks: the box calls the caller back -------------------------------------
    def dial_out(self, number, calling=""):
        """Place an outgoing call on the first span whose link is up and that has a free
        B-channel. Returns the Call, or None (with the reasons logged)."""
        problems = []
        for sid in sorted(self.spans):
            sp = self.spans[sid]
            try:
                qid = sp.sig.setup(number, calling)
            except Exception as e:          # SignallingError: link down, no channel, bad number
                problems.append(str(e))
                continue
            chan = sp.sig.calls[qid]["chan"]
            call = Call(sid, chan, calling, number, qid, self.clock.time())
            call.direction = "out"
            call.state = "dialling"
            self.calls[call.call_id] = call
            self.by_q931[(sid, qid)] = call
            self._save_inflight()
            self.by_ep[call.ep] = call
            self._ladder_start(call, ("q", qid) if sp.sig is not sp else ("ts", chan))
            self.counters["calls:outgoing"] = self.counters.get("calls:outgoing", 0) + 1
            self.event(call, "dial", {"number": number, "span": sid, "chan": chan})
            self.publish("call.new", call.snapshot(self.wall))
            return call
        log.error("dialling %s failed: %s", number, "; ".join(problems) or "no PRI span")
        return None

    def _start_callback(self, cb, agent, seat):
        """The agent took a callback: dial the caller and let the agent hear the progress."""
        self.media.send("seat.control", {"seat": seat, "msg": {"ring": False}})
        cb.attempts += 1
        out = self.dial_out(cb.number)
        if out is None:
            self.event(cb, "callback_failed", {"why": "no trunk"})
            self.media.send("seat.control", {"seat": seat, "msg": {"hangup": True, "error": "no free trunk"}})
            self.acd.call_ended(agent)
            self.acd.callback_failed(cb, retry=cb.attempts < 3)
            return
        cb.out = out
        out.callback = cb
        out.agent = agent
        out.agent_login = agent.login
        out.seat = seat
        out.queue = cb.queue
        self.event(out, "callback_dial", {"callback": cb.call_id, "agent": agent.login})
        self.media.send("media.connect", {"a": out.ep, "b": "seat%d" % seat})

    def _outgoing_answered(self, call):
        call.state = "connected"
        call.answer = self.clock.time()
        k = getattr(call, "consult", None)
        if k is not None:
            k.state = "talking"
            self.event(k.call, "consult_answered", {"number": call.dnis})
            return
        peer = getattr(call, "bridge", None)
        if peer is not None:
            # an external transfer answered: the caller and the number talk, recorded
            self.media.send("media.record", {"call_id": call.call_id, "caller": peer.ep, "agent": call.ep})
            call.recording = True
            self._save_inflight()
            self.event(call, "answered", {"transfer_of": peer.call_id})
            self.event(peer, "transfer_answered", {"number": call.dnis, "call": call.call_id})
            return
        if call.callback is not None:
            self.acd.callback_done(call.callback)
            self.counters["calls:answered"] += 1
        if call.seat is not None:
            self.media.send("media.record", {"call_id": call.call_id, "caller": call.ep,
                                             "agent": "seat%d" % call.seat})
            call.recording = True
        self._save_inflight()
        self.event(call, "answered", {"agent": call.agent_login, "seat": call.seat})
        self.publish("call.answered", {"call_id": call.call_id, "agent": call.agent_login, "seat": call.seat})

    def hangup(self, call, prompt=None):
        """Clear a call from the box's side (after an optional goodbye prompt)."""
        if call.state in ("closing", "ended"):
            return
        self.ivr.stop(call)
        if call.agent is not None:
            self._agent_side_end(call)
        elif call.state in ("queued", "ringing"):
            self.acd.remove(call, "hangup")
        call.state = "closing"
        if prompt:
            self.play(call, prompt)
        else:
            self._release_trunk(call, 16)

    def _release_trunk(self, call, cause):
        call.state = "clearing"
        if call.direction == "internal":
            # no trunk: hang the calling seat up and end the call here
            self.media.send("seat.control", {"seat": call.chan, "msg": {"hangup": True}})
            call.cause = call.cause or cause
            self._caller_gone(call)
            self._finish(call)
            return
        self.spans[call.span].sig.disconnect(call.q931_id, cause)

    # -- ACD actions (called by Acd) -------------------------------------------------
    def offer(self, call, agent):
        call.state = "ringing"
        call.seat = agent.seat
        call.agent_login = agent.login
        self.event(call, "offered", {"agent": agent.login, "seat": agent.seat})
        self.media.send("seat.control", {"seat": agent.seat, "msg": {"ring": True, "call_id": call.call_id,
                                                                     "ani": call.ani, "queue": call.queue}})
        self.publish("call.offered", {"call_id": call.call_id, "agent": agent.login, "seat": agent.seat})

    def queue_exit(self, call, dest, reason):
        """A queue rule (timeout, full, empty) took the call out of its queue."""
        self.media.send("chan.stop", {"ep": call.ep})
        call.exit_reason = reason
        self.publish("call.queue_exit", {"call_id": call.call_id, "dest": dest, "reason": reason})
        if call.state in ("queued", "ringing"):
            call.state = "ivr"
            self.clock.call_later(0, self.route_to, call, dest)

    def alert(self, kind, detail):
        log.warning("ACD alert %s: %s", kind, detail)
        self.publish("acd.alert", dict(detail, kind=kind))

    def cancel_offer(self, call, agent):
        self.media.send("seat.control", {"seat": agent.seat, "msg": {"ring": False}})
        self.event(call, "offer_cancelled", {"agent": agent.login})
        if call.state == "ringing":
            call.state = "queued"
            call.seat = call.agent_login = None

    def agent_changed(self, agent):
        self.publish("acd.agent", agent.snapshot(self.acd.wall_offset))
        if agent.seat is not None:      # the phone's display (and its confirmation of a key)
            self.media.send("seat.control", {"seat": agent.seat, "msg": {"agent": agent.login, "agent_state": agent.state}})
        try:
            now = time.time()
            self.store.execute("INSERT OR REPLACE INTO agent_state(login, seat, state, reason, t) VALUES(?, ?, ?, ?, ?)",
                               (agent.login, agent.seat, agent.state, agent.reason, now))
            self.store.execute("INSERT INTO agent_events(t, login, state, reason, seat) VALUES(?, ?, ?, ?, ?)",
                               (now, agent.login, agent.state, agent.reason, agent.seat))
        except Exception:
            log.exception("agent %s: saving the state failed", agent.login)

    def restore_agents(self):
        """Sign agents in again as they were before call control restarted.

        Calls in flight did not survive, so an agent who was ringing, on a call or in
        after-call work comes back ready; not-ready keeps its reason.
        """
        for row in self.store.query("SELECT * FROM agent_state WHERE state != 'logged-out' ORDER BY t"):
            if row["login"] not in self.acd.agents or row["seat"] is None:
                continue
            try:
                self.acd.login(row["login"], row["seat"])
                if row["state"] == "not-ready":
                    self.acd.not_ready(row["login"], row["reason"] or "break")
                else:
                    self.acd.ready(row["login"])
            except ValueError as e:
                log.warning("agent %s not restored: %s", row["login"], e)

    # -- seats -------------------------------------------------------------------------
    # -- in-call codes an agent keys on any phone -----------------------------------------
    AGENT_CODES = "*1<number># blind transfer, *2<number># consult, *3 complete, *4 back to the caller"

    def on_agent_digit(self, seat, digit):
        """DTMF from an agent's phone during a call: ``*1<agent or number>#`` blind transfer,
        ``*2<agent or number>#`` consult (attended), ``*3`` complete the transfer, ``*4``
        back to the caller. Other digits pass to the caller as usual and are ignored here."""
        agent = self.acd.agent_at_seat(seat)
        if agent is None or agent.state != "on-call":
            return
        now = self.clock.time()
        buf, last = self.agent_digits.get(seat, ("", 0.0))
        if now - last > 5.0:
            buf = ""
        buf += digit
        if not buf.startswith("*"):
            buf = ""
        self.agent_digits[seat] = (buf, now)
        action = None
        if buf in ("*3", "*4"):
            action = ("complete" if buf == "*3" else "cancel", "")
        elif len(buf) > 2 and buf[1] in "12" and buf.endswith("#"):
            action = ("transfer" if buf[1] == "1" else "consult", "number:" + buf[2:-1])
        elif len(buf) > 2 and buf[1] not in "12":
            buf = ""
            self.agent_digits[seat] = (buf, now)
        if action is None:
            return
        self.agent_digits.pop(seat, None)
        try:
            if action[0] == "transfer":
                self.transfer(agent, action[1])
            elif action[0] == "consult":
                self.consult(agent, action[1])
            elif action[0] == "complete":
                self.consult_complete(agent)
            else:
                self.consult_cancel(agent)
        except ValueError as e:
            log.warning("seat %d: in-call code %s refused: %s", seat, buf, e)
            self.media.send("seat.control", {"seat": seat, "msg": {"error": str(e)}})

    def on_seat_dial(self, seat, number):
        """A seat's phone called a number: an internal call, routed by that number like a
        trunk call's DNIS (IVR, queue, voicemail). The agent signed in at that seat gets
        no queue calls until it hangs up."""
        ep = "seat%d" % seat
        if ep in self.by_ep:
            log.warning("seat %d dialled %s during another call; refused", seat, number)
            self.media.send("seat.control", {"seat": seat, "msg": {"hangup": True}})
            return
        agent = self.acd.agent_at_seat(seat)
        call = Call(None, seat, agent.login if agent else ep, number, None, self.clock.time())
        call.direction = "internal"
        self.calls[call.call_id] = call
        self.by_ep[ep] = call
        self.counters["calls:internal"] = self.counters.get("calls:internal", 0) + 1
        if agent is not None and agent.state not in ("ringing", "on-call"):
            self.acd.set_reachable(agent.login, False)
            call.busy_agent = agent.login
        self.event(call, "setup", {"ani": call.ani, "dnis": call.dnis, "seat": seat})
        self.publish("call.new", call.snapshot(self.wall))
        target, call.priority = self.route(call.dnis, call.ani)
        self.event(call, "route", {"target": target, "priority": call.priority})
        call.state = "ivr"
        self.media.send("chan.dtmf", {"ep": ep, "on": True})
        self.route_to(call, target)

    def on_seat_hook(self, seat, hook):
        if self._consult_hook(seat, hook):
            return
        if hook == "on":
            for c in list(self.calls.values()):
                mon = getattr(c, "monitor", None)
                if mon is not None and mon[0] == seat:
                    # the supervisor hung up: stop listening
                    try:
                        self.monitor(c.call_id, seat, "off")
                    except ValueError:            # the call is on hold or moving: just drop the taps
                        self.media.send("media.disconnect", {"ep": "seat%d" % seat})
                        c.monitor = None
                    return
        internal = self.by_ep.get("seat%d" % seat)
        if internal is not None and internal.direction == "internal":
            if hook == "on":
                self.event(internal, "far_disconnect", {"cause": 16})
                internal.cause = 16
                self._caller_gone(internal)
                self._finish(internal)
            return
        agent = self.acd.agent_at_seat(seat)
        if agent is None or agent.call is None:
            return
        call = agent.call
        if isinstance(call, Callback):
            if hook == "off" and agent.state == "ringing":
                if self.acd.answered(agent, call):
                    self._start_callback(call, agent, seat)
                return
            call = getattr(call, "out", None)
            if call is None:
                return
        if hook == "off" and agent.state == "ringing":
            if not self.acd.answered(agent, call):
                # another seat won this ring-all call first (or the caller has gone)
                self.media.send("seat.control", {"seat": seat, "msg": {"ring": False, "hangup": True}})
                return
            call.seat = seat
            call.agent_login = agent.login
            call.state = "connected"
            call.answer = self.clock.time()
            self.counters["calls:answered"] += 1
            self.media.send("seat.control", {"seat": seat, "msg": {"ring": False}})
            self.media.send("media.connect", {"a": call.ep, "b": "seat%d" % seat})
            self.media.send("chan.dtmf", {"ep": "seat%d" % seat, "on": True})     # in-call codes (*1, *2 ...)
            self.media.send("media.record", {"call_id": call.call_id, "caller": call.ep, "agent": "seat%d" % seat})
            call.recording = True
            self._save_inflight()
            self.event(call, "answered", {"agent": agent.login, "seat": seat})
            self.publish("call.answered", {"call_id": call.call_id, "agent": agent.login, "seat": seat})
        elif hook == "on" and agent.state == "on-call":
            self.event(call, "agent_hangup", {"agent": agent.login})
            self._agent_side_end(call)
            q = self.acd.queues.get(call.queue)
            survey = q.survey if q is not None and call.direction == "in" else ""
            if survey:
                # the caller stays on the line for the satisfaction survey
                flow = SURVEY_FLOW if survey == "default" else self.flows.get(survey, SURVEY_FLOW)
                self.media.send("media.disconnect", {"ep": call.ep})
                call.state = "survey"
                self.event(call, "survey_start", {"flow": survey})
                self.ivr.start(call, flow, None, survey)
                return
            call.state = "clearing"
            self._release_trunk(call, 16)

    def on_seat_key(self, ev):
        seat, key = ev["seat"], ev["key"]
        try:
            if key == "login":
                a = self.acd.login(str(ev.get("agent")), seat)
                a.reachable = self.seat_up.get(seat, True)
                if ev.get("ready"):
                    self.acd.ready(str(ev.get("agent")))
            else:
                agent = self.acd.agent_at_seat(seat)
                if agent is None:
                    raise ValueError("seat %d: nobody is signed in" % seat)
                if key == "ready":
                    self.acd.ready(agent.login)
                elif key == "not-ready":
                    self.acd.not_ready(agent.login, str(ev.get("reason", "break")))
                elif key == "logout":
                    self.acd.logout(agent.login)
                elif key == "end-acw":
                    self.acd.end_acw(agent.login)
                elif key in ("hold", "unhold"):
                    self.hold(agent, key == "hold")
                elif key == "transfer":
                    self.transfer(agent, str(ev.get("target", "")))
                elif key == "consult":
                    self.consult(agent, str(ev.get("target", "")))
                elif key == "complete":
                    self.consult_complete(agent)
                elif key == "cancel":
                    self.consult_cancel(agent)
                else:
                    raise ValueError("key %r is not login, ready, not-ready, logout, end-acw, hold, unhold, "
                                     "transfer, consult, complete or cancel" % key)
        except ValueError as e:
            log.warning("seat %d key %s refused: %s", seat, key, e)
            self.media.send("seat.control", {"seat": seat, "msg": {"error": str(e)}})

    def _agents_call(self, agent):
        call = agent.call
        if isinstance(call, Callback):
            call = getattr(call, "out", None)
        if call is None or agent.state != "on-call" or call.state not in ("connected", "held"):
            raise ValueError("agent %s has no call connected" % agent.login)
        return call

    def _no_consult(self, call):
        if call.call_id in self.consults:
            raise ValueError("a consultation is running for this call; complete or cancel it first")

    def hold(self, agent, on):
        """Put the agent's caller on hold (hold music, the agent hears nothing) or take it back."""
        call = self._agents_call(agent)
        self._no_consult(call)
        if on == (call.state == "held"):
            raise ValueError("the call is %s on hold" % ("already" if on else "not"))
        if on:
            self.media.send("media.disconnect", {"ep": call.ep})
            self.play(call, "queue", loop=True)
            call.state, call.hold_since = "held", self.clock.time()
        else:
            self.media.send("chan.stop", {"ep": call.ep})
            self.media.send("media.connect", {"a": call.ep, "b": "seat%d" % call.seat})
            call.hold_s = getattr(call, "hold_s", 0.0) + self.clock.time() - call.hold_since
            call.state = "connected"
        self.event(call, "hold" if on else "unhold", {"agent": agent.login})

    def transfer(self, agent, target):
        """Blind transfer of the agent's caller; the agent goes to after-call work.

        Targets: ``queue:<name>`` (the caller keeps its priority and waits again),
        ``ivr:<flow>``, ``agent:<login>`` (rings that agent first, through the call's queue
        or the agent's first queue; if it does not answer, the queue takes the call) and
        ``external:<number>`` (dialled on a trunk; the caller hears the progress and is
        bridged; if the number does not answer, the caller goes back to its queue)."""
        call = self._agents_call(agent)
        self._no_consult(call)
        kind, _, name = target.partition(":")
        if kind == "number":
            # dialled on the phone: an agent's login, or else an outside number
            kind, name = self._resolve_target(kind, name)
            target = "%s:%s" % (kind, name)
        if kind not in ("queue", "ivr", "agent", "external") or not name:
            raise ValueError("transfer target %r must be queue:<name>, ivr:<flow>, agent:<login> or "
                             "external:<number>" % target)
        if kind == "queue" and name not in self.acd.queues:
            raise ValueError("transfer target: no queue %r" % name)
        queue = None
        if kind == "agent":
            other = self._other_agent(agent, name, "transfer target")
            if other.state == "logged-out":
                raise ValueError("transfer target: agent %s is not signed in" % name)
            queue = call.queue if call.queue in self.acd.queues else (other.queues[0].name if other.queues else None)
            if queue is None:
                raise ValueError("transfer target: agent %s serves no queue" % name)
        if kind == "external":
            if not re.match(r"^\+?[0-9]{2,24}$", name):
                raise ValueError("transfer target: %r is not a telephone number" % name)
            if call.direction == "internal" or call.span is None:
                raise ValueError("transfer target: an internal call cannot be sent to a trunk")
        self.event(call, "transfer", {"agent": agent.login, "to": target})
        call.transfers = getattr(call, "transfers", 0) + 1
        if kind == "external":
            if not self._forward(call, name, before=lambda: self._agent_side_end(call)):
                raise ValueError("transfer target %s: no free trunk" % name)
            return
        self._agent_side_end(call)
        call.state = "ivr"
        if kind == "agent":
            self.enqueue(call, queue, agent=name)
            return
        self.route_to(call, target)

    # -- attended transfer (consultation) ----------------------------------------------
    def _forward(self, call, number, before=None):
        """Dial ``number`` on a trunk and bridge the caller to it (recorded once it answers;
        a number that does not answer sends the caller back to its queue). False when no
        trunk could take the call."""
        out = self.dial_out(number, call.ani or "")
        if out is None:
            return False
        if before is not None:
            before()
        self.ivr.stop(call)
        self.media.send("chan.stop", {"ep": call.ep})
        call.state, call.bridge, out.bridge = "bridged", out, call
        out.transfer_of = call.call_id
        self.media.send("media.connect", {"a": call.ep, "b": out.ep})
        return True

    def _other_agent(self, agent, name, what):
        other = self.acd.agents.get(name)
        if other is None:
            raise ValueError("%s: no agent %r" % (what, name))
        if other is agent:
            raise ValueError("%s: agent %s is you" % (what, name))
        return other

    def _resolve_target(self, kind, name):
        if kind == "number":
            kind = "agent" if name in self.acd.agents else "external"
        return kind, name

    def consult(self, agent, target):
        """Attended transfer, first step: the agent's caller waits on hold music while the
        agent talks to ``agent:<login>`` (rung directly and reserved meanwhile; it must be
        ready) or ``external:<number>`` (dialled on a trunk); ``number:<digits>`` is either.
        Then ``consult_complete`` hands the caller over, ``consult_cancel`` goes back to it.
        The agent hanging up completes it (while the target still rings: a blind transfer)."""
        call = self._agents_call(agent)
        if call.call_id in self.consults:
            raise ValueError("a consultation is already running for this call; complete or cancel it")
        kind, _, name = target.partition(":")
        kind, name = self._resolve_target(kind, name)
        k = Consult(call, agent, kind, name)
        if kind == "agent":
            other = self._other_agent(agent, name, "consult")
            if other.state != "ready" or not other.reachable or other.seat is None:
                raise ValueError("consult: agent %s is %s; try later or transfer blind" % (
                    name, other.state if other.reachable else "unreachable"))
            self.acd.set_reachable(name, False)            # reserved: no queue call meanwhile
            k.other, k.other_seat = other, other.seat
            self.media.send("seat.control", {"seat": other.seat, "msg": {
                "ring": True, "call_id": call.call_id, "ani": "%s via %s" % (call.ani, agent.login),
                "queue": call.queue or ""}})
            k.timer = self.clock.call_later(CONSULT_RING_S, self._consult_timeout, k)
        elif kind == "external":
            if not re.match(r"^\+?[0-9]{2,24}$", name):
                raise ValueError("consult: %r is not a telephone number" % name)
            out = self.dial_out(name, call.ani or "")
            if out is None:
                raise ValueError("consult %s: no free trunk" % name)
            out.consult = k
            k.other = out
            self.media.send("media.connect", {"a": "seat%d" % agent.seat, "b": out.ep})
        else:
            raise ValueError("consult target %r must be agent:<login>, external:<number> or a number" % target)
        if call.state != "held":
            self.media.send("media.disconnect", {"ep": call.ep})
            self.play(call, "queue", loop=True)
            call.state, call.hold_since = "held", self.clock.time()
        self.consults[call.call_id] = k
        self.event(call, "consult", {"agent": agent.login, "to": "%s:%s" % (kind, name)})
        self.publish("call.consult", {"call_id": call.call_id, "agent": agent.login, "to": "%s:%s" % (kind, name)})

    def _consult_of(self, agent):
        call = self._agents_call(agent)
        k = self.consults.get(call.call_id)
        if k is None:
            raise ValueError("agent %s has no consultation running" % agent.login)
        return k

    def consult_complete(self, agent):
        k = self._consult_of(agent)
        if k.state != "talking":
            raise ValueError("%s has not answered yet; wait, cancel, or hang up to transfer blind" % k.name)
        self._consult_finish(k)

    def consult_cancel(self, agent):
        self._consult_abort(self._consult_of(agent), "cancelled by agent %s" % agent.login)

    def _consult_hook(self, seat, hook):
        """Seat hook events that belong to a consultation; True when handled."""
        for k in list(self.consults.values()):
            if k.kind == "agent" and k.other_seat == seat:
                if hook == "off" and k.state == "ringing":
                    if k.timer is not None:
                        k.timer.cancel()
                    k.state = "talking"
                    self.media.send("seat.control", {"seat": seat, "msg": {"ring": False}})
                    self.media.send("media.connect", {"a": "seat%d" % k.agent.seat, "b": "seat%d" % seat})
                    self.event(k.call, "consult_answered", {"agent": k.name})
                elif hook == "on" and k.state == "talking":
                    self._consult_abort(k, "agent %s hung up" % k.name)
                return True
            if k.agent.seat == seat and hook == "on":
                if k.state == "talking" or k.kind == "external":
                    self._consult_finish(k)
                else:
                    # the agent hung up while the other agent still rings: a blind transfer to it
                    self._consult_abort(k, "agent %s hung up while %s rang" % (k.agent.login, k.name), back=False)
                    self.transfer(k.agent, "agent:%s" % k.name)
                return True
        return False

    def _consult_timeout(self, k):
        k.timer = None
        if self.consults.get(k.call.call_id) is k and k.state == "ringing":
            self._consult_abort(k, "%s did not answer" % k.name)

    def _consult_finish(self, k):
        """Hand the waiting caller to the consulted party; the agent goes to after-call work."""
        call, a = k.call, k.agent
        self.consults.pop(call.call_id, None)
        if k.timer is not None:
            k.timer.cancel()
        self.media.send("chan.stop", {"ep": call.ep})
        call.hold_s = getattr(call, "hold_s", 0.0) + self.clock.time() - call.hold_since
        if call.recording:
            self.media.send("media.record", {"call_id": getattr(call, "rec_id", call.call_id), "stop": True})
            call.recording = False
        self.media.send("media.disconnect", {"ep": "seat%d" % a.seat})
        self.media.send("seat.control", {"seat": a.seat, "msg": {"hangup": True}})
        self.acd.call_ended(a)
        call.agent = None
        call.transfers = getattr(call, "transfers", 0) + 1
        self.event(call, "transfer", {"agent": a.login, "to": "%s:%s" % (k.kind, k.name), "attended": True})
        if k.kind == "agent":
            b = k.other
            self.acd.set_reachable(b.login, self.seat_up.get(b.seat, True))
            self.acd.assign(call, b.login)
            call.seat, call.agent_login, call.state = b.seat, b.login, "connected"
            self.media.send("media.connect", {"a": call.ep, "b": "seat%d" % b.seat})
            self.media.send("chan.dtmf", {"ep": "seat%d" % b.seat, "on": True})
            self.media.send("chan.dtmf", {"ep": "seat%d" % a.seat, "on": False})
            # the new agent's part is a recording of its own: <call id>-2, -3, ...
            call.rec_part = getattr(call, "rec_part", 1) + 1
            call.rec_id = "%s-%d" % (call.call_id, call.rec_part)
            self.media.send("media.record", {"call_id": call.rec_id, "caller": call.ep, "agent": "seat%d" % b.seat})
            call.recording = True
            self.publish("call.answered", {"call_id": call.call_id, "agent": b.login, "seat": b.seat})
        else:
            out = k.other
            out.consult = None
            out.transfer_of = call.call_id
            call.state, call.bridge, out.bridge = "bridged", out, call
            self.media.send("media.disconnect", {"ep": out.ep})
            self.media.send("media.connect", {"a": call.ep, "b": out.ep})
            if out.answer is not None:
                self.media.send("media.record", {"call_id": out.call_id, "caller": call.ep, "agent": out.ep})
                out.recording = True
        self._save_inflight()

    def _consult_abort(self, k, why, back=True):
        """End the consultation; the agent is back with the caller (``back``)."""
        call, a = k.call, k.agent
        self.consults.pop(call.call_id, None)
        if k.timer is not None:
            k.timer.cancel()
            k.timer = None
        if k.kind == "agent":
            self.media.send("seat.control", {"seat": k.other_seat, "msg": {"ring": False, "hangup": True}})
            self.media.send("media.disconnect", {"ep": "seat%d" % k.other_seat})
            self.acd.set_reachable(k.other.login, self.seat_up.get(k.other_seat, True))
        else:
            out = k.other
            out.consult = None
            self.media.send("media.disconnect", {"ep": out.ep})
            if out.state not in ("clearing", "closing", "ended", "far-cleared"):
                self._release_trunk(out, 16)
        self.event(call, "consult_ended", {"why": why})
        if back and call.state == "held" and a.call is call:
            self.media.send("chan.stop", {"ep": call.ep})
            self.media.send("media.connect", {"a": call.ep, "b": "seat%d" % a.seat})
            call.hold_s = getattr(call, "hold_s", 0.0) + self.clock.time() - call.hold_since
            call.state = "connected"
            if not why.startswith("cancelled"):
                self.media.send("seat.control", {"seat": a.seat, "msg": {"error": "consultation ended: " + why}})

    def _agent_side_end(self, call):
        """Take the seat out of a call: stop ring/connection/recording, agent to ACW."""
        agent = call.agent
        if agent is None:
            return
        if call.recording:
            self.media.send("media.record", {"call_id": getattr(call, "rec_id", call.call_id), "stop": True})
            call.recording = False
        self.media.send("media.disconnect", {"ep": "seat%d" % call.seat})
        self.media.send("chan.dtmf", {"ep": "seat%d" % call.seat, "on": False})
        self.agent_digits.pop(call.seat, None)
        if call.direction == "out":
            self.media.send("seat.control", {"seat": call.seat, "msg": {"hangup": True}})
            self.acd.call_ended(agent)
            if call.answer is None and call.callback is not None:
                self.event(call, "callback_failed", {"why": "not answered", "cause": call.cause})
                self.acd.callback_failed(call.callback, retry=call.callback.attempts < 3)
        elif call.answer is None:
            self.acd.abandon(call)
        else:
            self.media.send("seat.control", {"seat": call.seat, "msg": {"hangup": True}})
            self.acd.call_ended(agent)
        call.agent = None

    def _caller_gone(self, call):
        if call.state == "ended":
            return
        k = self.consults.get(call.call_id)
        if k is not None:
            self._consult_abort(k, "the caller hung up", back=False)
        k = getattr(call, "consult", None)
        if k is not None and self.consults.get(k.call.call_id) is k:
            self._consult_abort(k, "%s hung up or did not answer" % k.name)
        peer = getattr(call, "bridge", None)
        if peer is not None:
            # one side of an external transfer left
            call.bridge = peer.bridge = None
            if call.recording or peer.recording:
                rec = call if call.recording else peer
                self.media.send("media.record", {"call_id": rec.call_id, "stop": True})
                rec.recording = False
            if call.direction == "out" and call.answer is None and peer.state == "bridged":
                # the number did not answer: the caller goes back to its queue (or hears goodbye)
                self.event(peer, "transfer_failed", {"number": call.dnis, "cause": call.cause})
                self.media.send("media.disconnect", {"ep": peer.ep})
                if peer.queue in self.acd.queues:
                    self.enqueue(peer, peer.queue)
                else:
                    self.hangup(peer, "goodbye")
            elif peer.state not in ("clearing", "closing", "ended"):
                self._release_trunk(peer, 16)
        self._stop_announcements(call)
        if call.state == "voicemail":
            self._voicemail_end(call, "caller hung up")
        self.ivr.stop(call)
        if call.agent is not None:
            self._agent_side_end(call)
        elif call.state in ("queued", "ringing"):
            self.acd.abandon(call)
        self.media.send("chan.dtmf", {"ep": call.ep, "on": False})
        self.media.send("media.disconnect", {"ep": call.ep})
        self.media.send("chan.stop", {"ep": call.ep})
        if call.state not in ("clearing",):
            call.state = "far-cleared"

    def _finish(self, call):
        if call.state == "ended":
            return
        busy = getattr(call, "busy_agent", None)
        if busy is not None and busy in self.acd.agents:
            self.acd.set_reachable(busy, self.seat_up.get(call.chan, True))
        mon = getattr(call, "monitor", None)
        if mon is not None:
            # the call is over: the supervisor listening to it is hung up
            self.media.send("media.disconnect", {"ep": "seat%d" % mon[0]})
            self.media.send("seat.control", {"seat": mon[0], "msg": {"hangup": True}})
            call.monitor = None
        call.state = "ended"
        call.end = self.clock.time()
        self.calls.pop(call.call_id, None)
        self._save_inflight()
        self.by_q931.pop((call.span, call.q931_id), None)
        if self.by_ep.get(call.ep) is call:
            del self.by_ep[call.ep]
        if getattr(call, "transfer_of", None):
            disp = "transfer-answered" if call.answer else "transfer-failed"
        elif call.direction == "out":
            disp = "callback-answered" if call.answer else "callback-failed"
        elif call.answer:
            disp = "answered"
        elif call.exit_reason in ("callback", "voicemail"):
            disp = call.exit_reason
        elif call.exit_reason:
            disp = "queue-" + call.exit_reason        # queue-timeout, queue-full, queue-empty
        elif call.queue:
            disp = "abandoned"
            self.counters["calls:abandoned"] += 1
        else:
            disp = "ivr-only" if call.digits or call.cause == 16 else "failed"
        cdr = {"call_id": call.call_id, "start": self.wall(call.start), "answer": self.wall(call.answer),
               "end": self.wall(call.end),
               "span": call.span, "chan": call.chan, "ani": call.ani, "dnis": call.dnis, "digits": call.digits,
               "queue": call.queue, "agent": call.agent_login, "seat": call.seat,
               "wait_s": round((call.answer or call.end) - call.queued_at, 3) if call.queued_at else None,
               "talk_s": round(call.end - call.answer, 3) if call.answer else None,
               "disposition": disp, "cause": call.cause, "survey": call.vars.get("survey"),
               "priority": call.priority}
        try:
            self.store.add_cdr(cdr)
        except Exception:
            log.exception("call %s: writing the CDR failed", call.call_id)
        self.event(call, "ended", {"disposition": disp, "cause": call.cause})
        self.publish("call.ended", cdr)
        self._ladder_end(call)

    def event(self, call, name, detail=None):
        log.info("call %s: %s %s", call.call_id, name, detail or "")
        try:
            self.store.add_call_event(call.call_id, name, detail)
        except Exception:
            log.exception("call %s: writing event %s failed", call.call_id, name)

    # -- views ---------------------------------------------------------------------------
    def list_calls(self):
        return [c.snapshot(self.wall) for c in self.calls.values()]

    def monitor(self, call_id, seat, mode):
        """A supervisor at ``seat`` listens to, whispers to or barges into a connected call
        (mode listen|whisper|barge), or leaves it (off)."""
        call = self.calls.get(call_id)
        if call is None:
            raise ValueError("call %r: no such call in progress" % call_id)
        if mode not in ("listen", "whisper", "barge", "off"):
            raise ValueError("mode %r is not listen, whisper, barge or off" % (mode,))
        if call.state != "connected" or call.seat is None:
            raise ValueError("call %s is %s; only a call connected to an agent can be supervised"
                             % (call_id, call.state))
        if isinstance(seat, bool) or not isinstance(seat, int) or seat == call.seat:
            raise ValueError("seat %r: the supervisor needs a seat of their own (not the agent's seat %s)"
                             % (seat, call.seat))
        busy = [c.call_id for c in self.calls.values() if c is not call and
                (c.seat == seat or getattr(c, "monitor", (None,))[0] == seat)]
        if busy:
            raise ValueError("seat %d is busy with call %s" % (seat, busy[0]))
        self.media.send("media.monitor", {"sup": "seat%d" % seat, "caller": call.ep, "agent": "seat%d" % call.seat,
                                          "mode": mode})
        was = getattr(call, "monitor", None)
        if mode == "off":
            self.media.send("seat.control", {"seat": seat, "msg": {"hangup": True}})
        elif was is None:
            # the supervisor's phone is rung (a SIP phone carries audio only in a call);
            # a phone that is already off-hook just hears the call
            self.media.send("seat.control", {"seat": seat, "msg": {
                "ring": True, "call_id": call.call_id, "ani": "%s %s" % (mode, call.ani or ""), "queue": "monitor"}})
        call.monitor = None if mode == "off" else (seat, mode)
        self.event(call, "monitor", {"seat": seat, "mode": mode})
        self.publish("call.monitor", {"call_id": call_id, "seat": seat, "mode": mode})
        return {"call_id": call_id, "seat": seat, "mode": mode}

    def hangup_request(self, call_id):
        call = self.calls.get(call_id)
        if call is None:
            raise ValueError("call %r: no such call in progress" % call_id)
        self.hangup(call)
        return {"call_id": call_id}


class _IvrActions:
    def __init__(self, cc):
        self.cc = cc

    def play(self, call, prompt, lang=None):
        self.cc.play(call, prompt, lang=lang)

    def route(self, call, target):
        self.cc.route_to(call, target)

    def enqueue(self, call, queue):
        self.cc.enqueue(call, queue)

    def hangup(self, call, prompt):
        self.cc.hangup(call, prompt)

    def event(self, call, name, detail):
        self.cc.event(call, name, detail)
