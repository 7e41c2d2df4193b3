"""One MFC/R2 span: 30 R2 channels over the media engine's CAS bits and MF tones.

It offers call control the same call API as a PRI span (``sig.setup``, ``sig.proceeding``,
``sig.connect``, ``sig.disconnect``, ``sig.restart_interface``, ``sig.calls``) and reports the
same events (``setup``, ``alerting``, ``connect``, ``disconnect``, ``released``), so routing,
IVR, ACD and recording work alike on PRI and R2 trunks. The box and the simulated exchange
both use it; only ``send`` differs (the media bus, or the far end's engine directly).

Media commands sent (topic, data):
    ``chan.abcd``  {ep, abcd}                   the channel's transmitted ABCD bits
    ``chan.r2mf``  {ep, on, backward}           report the register signals heard on ep
    ``chan.tone``  {ep, freq, freq2, level}     an MF signal (a continuous two-frequency tone)
    ``chan.stop``  {ep}                         silence it
Media events taken (``on_media``): ``chan.abcd`` {ep, abcd}, ``chan.r2mf`` {ep, signal}.
"""
import itertools
import logging

from callbox import dsp
from callbox.errors import SignallingError
from callbox.signalling.r2 import R2Channel, digit_signal

log = logging.getLogger("callbox.r2")

TIMESLOTS = tuple(ts for ts in range(1, 32) if ts != 16)
MF_LEVEL_DBM0 = -11.0           # per frequency, as OpenR2 sends
# group B results -> Q.850 causes for call control
REFUSED_CAUSE = {"busy": 17, "congestion": 34, "unallocated number": 1, "out of order": 27}
VARIANT_OF = {"r2-cn": "cn", "r2-itu": "itu"}


class _Actions:
    def __init__(self, span, ts):
        self.span, self.ts = span, ts

    def set_abcd(self, nibble):
        self.span._send("chan.abcd", self.ts, abcd=nibble)
        self.span._trace("tx", self.ts, "ABCD %s" % format(nibble, "04b"))

    def mf_start(self, signal):
        ch = self.span.chans[self.ts]
        f1, f2 = dsp.r2mf_pair(signal, backward=ch.role == "backward")
        self.span._send("chan.tone", self.ts, freq=f1, freq2=f2, level=MF_LEVEL_DBM0)
        self.span._trace("tx", self.ts, "MF %s-%d on" % ("A/B" if ch.role == "backward" else "I/II", signal))

    def mf_stop(self):
        self.span._send("chan.stop", self.ts)
        self.span._trace("tx", self.ts, "MF off")

    def event(self, name, detail):
        self.span._on_r2(self.ts, name, detail)


class R2Span:
    """Args:
        sid (int): span number.
        variant (str): "cn" or "itu" (or the span's signalling "r2-cn" / "r2-itu").
        send (callable): send(topic, data) to the media engine (see the module docstring).
        on_event (callable): on_event(dict) for call events, as PriSpan's.
        clock: call_later()/time() (the asyncio loop in daemons).
        on_link (callable): on_link(bool) when the span becomes usable or not (line up and the
            CAS multiframe aligned).
        dnis_digits (int): DNIS digits an incoming call collects (China sends no end of DNIS).
        ani (bool): ask incoming calls for the category and ANI.
        trace (callable): trace(direction, text, ts) for the signalling monitor and the calls'
            ladders (direction "tx", "rx" or "ev", a channel event).
    """

    def __init__(self, sid, variant, send, on_event, clock, on_link=None, dnis_digits=4, ani=True,
                 trace=None, timers=None):
        self.sid = sid
        self.variant = VARIANT_OF.get(variant, variant)
        self.send = send
        self.on_event = on_event
        self.clock = clock
        self.on_link = on_link or (lambda up: None)
        self.trace = trace or (lambda direction, text, ts: None)
        self.side = "r2"
        self.kind = "E1"
        self.link = False
        self.sig = self                # the call API, as PriSpan.sig
        self._ids = itertools.count(1)
        self._calls = {}               # call id -> {"chan": ts, "dir": "in"|"out", "cause": int|None}
        self._by_ts = {}
        self.counters = {"calls:in": 0, "calls:out": 0, "timeouts": 0, "protocol_errors": 0}
        self.chans = {}
        for ts in TIMESLOTS:
            self.chans[ts] = R2Channel(self.variant, clock, _Actions(self, ts), max_dnis=dnis_digits,
                                       ani=ani, timers=timers, name="span%d.ts%d" % (sid, ts))

    # -- plumbing -------------------------------------------------------------------------
    def ep(self, ts):
        return "s%d.%d" % (self.sid, ts)

    def _send(self, topic, ts, **data):
        data["ep"] = self.ep(ts)
        self.send(topic, data)

    def _trace(self, direction, ts, text):
        self.trace(direction, "ts%d %s" % (ts, text), ts)

    # -- the line ------------------------------------------------------------------------
    @property
    def line_is_up(self):
        return self.link

    def line_up(self):
        if not self.link:
            self.link = True
            log.info("span%d: MFC/R2 (%s) up", self.sid, self.variant)
            self.on_link(True)

    def line_down(self):
        if self.link:
            self.link = False
            log.info("span%d: MFC/R2 down: clearing %d call(s)", self.sid, len(self._calls))
            for ts in list(self._by_ts):
                cid = self._by_ts[ts]
                self._calls[cid]["cause"] = 38             # network out of order
                self.chans[ts].reset("line down")
            self.on_link(False)

    def rx_frame(self, frame):
        """No D-channel on a CAS span."""

    def on_media(self, topic, data):
        """Media events for this span's channels (``chan.abcd``, ``chan.r2mf``)."""
        ep = data.get("ep", "")
        try:
            sid, ts = ep[1:].split(".")
            ts = int(ts)
        except ValueError:
            return
        ch = self.chans.get(ts)
        if ch is None or int(sid) != self.sid:
            return
        if topic == "chan.abcd":
            self._trace("rx", ts, "ABCD %s" % format(data["abcd"], "04b"))
            ch.rx_abcd(data["abcd"])
        elif topic == "chan.r2mf":
            self._trace("rx", ts, "MF %s" % (data["signal"] or "off"))
            ch.rx_mf(data["signal"])

    # -- the call API (as Q931Link's) ---------------------------------------------------------
    @property
    def calls(self):
        return {cid: {"chan": c["chan"]} for cid, c in self._calls.items()}

    def setup(self, called, calling="", chan=None, category=1):
        """Seize a free channel and send the call (DNIS, then ANI and category when asked).

        Raises:
            SignallingError: the span is down, a number is not digits, no channel is free.
        """
        for what, num in (("called", called), ("calling", calling)):
            try:
                for d in num:
                    digit_signal(d)
            except ValueError:
                raise SignallingError("Placing a call on span %d: %s number %r must be digits 0-9"
                                      % (self.sid, what, num)) from None
        if not called:
            raise SignallingError("Placing a call on span %d: no called number" % self.sid)
        if not self.link:
            raise SignallingError("Placing a call on span %d: the span is down" % self.sid)
        if chan is None:
            chan = next((ts for ts in TIMESLOTS if self.chans[ts].state == "idle"), None)
            if chan is None:
                raise SignallingError("Placing a call on span %d: no idle channel" % self.sid)
        elif chan not in self.chans or self.chans[chan].state != "idle":
            raise SignallingError("Placing a call on span %d: channel %r is not an idle timeslot" % (self.sid, chan))
        cid = next(self._ids)
        self._calls[cid] = {"chan": chan, "dir": "out", "cause": None}
        self._by_ts[chan] = cid
        self.counters["calls:out"] += 1
        self._send("chan.r2mf", chan, on=True, backward=True)     # our forward register hears A/B
        self.chans[chan].place(called, calling, category)
        return cid

    def proceeding(self, call_id):
        """Nothing to send in R2: the call was accepted in group B."""
        return call_id in self._calls

    def connect(self, call_id):
        """Answer an incoming call (backward answer bits)."""
        c = self._calls.get(call_id)
        if c is None:
            return False
        try:
            self.chans[c["chan"]].answer()
        except ValueError as e:
            log.warning("span%d: %s", self.sid, e)
            return False
        return True

    def disconnect(self, call_id, cause=16):
        """Clear a call (clear-forward or clear-back); ``released`` follows when it is idle."""
        c = self._calls.get(call_id)
        if c is None:
            return False
        c["cause"] = c["cause"] or cause
        self.chans[c["chan"]].hangup()
        return True

    def restart_interface(self):
        """Clear every channel: calls a previous call control left are released (R2 has no
        RESTART message: idle bits tell the far end)."""
        for ch in self.chans.values():
            ch.reset("restart")

    def status(self):
        busy = sum(1 for ch in self.chans.values() if ch.state not in ("idle", "blocked"))
        return {"span": self.sid, "side": "r2-" + self.variant, "dchan": "up" if self.link else "down",
                "l2_state": "cas", "calls": len(self._calls), "busy_channels": busy,
                "blocked": sorted(ts for ts, ch in self.chans.items() if ch.state == "blocked"),
                "counters": dict(self.counters)}

    # -- channel events --------------------------------------------------------------------
    def _emit(self, ev, **kw):
        kw["ev"] = ev
        try:
            self.on_event(kw)
        except Exception:
            log.exception("span%d: call event %s failed", self.sid, ev)

    def _on_r2(self, ts, name, d):
        ch = self.chans[ts]
        cid = self._by_ts.get(ts)
        self._trace("ev", ts, "%s %s" % (name, " ".join("%s=%s" % kv for kv in sorted(d.items())) if d else ""))
        if name == "seized" and ch.role == "backward":
            self._send("chan.r2mf", ts, on=True, backward=False)   # our backward register hears I/II
        elif name == "incoming":
            self._send("chan.r2mf", ts, on=False)
            cid = next(self._ids)
            self._calls[cid] = {"chan": ts, "dir": "in", "cause": None}
            self._by_ts[ts] = cid
            self.counters["calls:in"] += 1
            self._emit("setup", call=cid, chan=ts, called=d.get("dnis", ""), calling=d.get("ani", ""),
                       category=d.get("category"))
        elif cid is None:
            if name in ("timeout", "protocol_error"):
                self.counters["timeouts" if name == "timeout" else "protocol_errors"] += 1
            elif name == "idle":
                self._send("chan.r2mf", ts, on=False)
            return
        elif name == "accepted":
            self._send("chan.r2mf", ts, on=False)
            self._emit("alerting", call=cid)
        elif name == "refused":
            self._send("chan.r2mf", ts, on=False)
            cause = REFUSED_CAUSE.get(d.get("result"), 21)
            self._calls[cid]["cause"] = cause
            self._emit("disconnect", call=cid, cause=cause)
        elif name == "answered" and ch.role == "forward":
            self._emit("connect", call=cid)
        elif name == "clear_back":
            self._emit("disconnect", call=cid, cause=16)
        elif name in ("timeout", "protocol_error"):
            self.counters["timeouts" if name == "timeout" else "protocol_errors"] += 1
            c = self._calls[cid]
            c["cause"] = c["cause"] or (102 if name == "timeout" else 111)
        elif name == "idle":
            self._send("chan.r2mf", ts, on=False)
            c = self._calls.pop(cid)
            del self._by_ts[ts]
            why = d.get("why", "")
            if why.startswith("far clear-forward") and c["dir"] == "in" and c["cause"] is None:
                self._emit("disconnect", call=cid, cause=16)
            self._emit("released", call=cid, cause=c["cause"] or 16)


def engine_sender(engine):
    """send(topic, data) for an R2Span beside a media engine in the same process (the
    simulated exchange): the same commands the media daemon takes over the bus."""
    def send(topic, data):
        ep = data["ep"]
        if topic == "chan.abcd":
            engine.submit(engine.cas_set, ep, data["abcd"])
        elif topic == "chan.r2mf":
            engine.submit(engine.r2mf_enable, ep, data["on"], data.get("backward", False))
        elif topic == "chan.tone":
            engine.submit(engine.play_tone, ep, data["freq"], data["freq2"], data["level"])
        elif topic == "chan.stop":
            engine.submit(engine.stop_ep, ep)
        else:
            raise ValueError("R2 span: unknown media command %r" % topic)
    return send
