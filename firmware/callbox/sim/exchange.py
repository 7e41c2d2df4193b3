"""The simulated far-end exchange: it places calls into the box over real line bits.

It owns the far ends (``sim://<pair>/1``) of the box's simulated spans and
runs the same media engine, HDLC and LAPD/Q.931 code as the box, on the
network side. A call it places is a real PRI call: SETUP on the D-channel (or, on an
MFC/R2 span, a seizure in the CAS bits and the number in compelled MF tones),
then, once the box answers, DTMF digits as real tones in the B-channel and a
steady tone as the caller's voice. A traffic generator places calls as a
Poisson process at a given rate.
"""
import itertools
import logging
import random
import time

from callbox.calls.r2_span import R2Span, engine_sender

log = logging.getLogger("callbox.farend")
CALLER_VOICE_HZ = 1000


class FarCall:
    def __init__(self, fid, dnis, ani, digits, hangup_after_s):
        self.fid = fid
        self.dnis = dnis
        self.ani = ani
        self.digits = digits
        self.hangup_after_s = hangup_after_s
        self.span = None
        self.q931_id = None
        self.chan = None
        self.state = "new"
        self.t_setup = time.time()
        self.t_connect = None
        self.t_end = None
        self.cause = None
        self.timer = None

    def snapshot(self):
        return {"id": self.fid, "dnis": self.dnis, "ani": self.ani, "digits": self.digits, "span": self.span,
                "chan": self.chan, "state": self.state, "t_setup": self.t_setup, "t_connect": self.t_connect,
                "t_end": self.t_end, "cause": self.cause}


class Exchange:
    """Args:
        engine (Engine): the far end's media engine (spans = far ends of the pairs).
        clock: the asyncio loop.
        publish (callable): publish(topic, data) on the farend bus.
        span_factory: PriSpan-like factory (network side).
    """

    def __init__(self, engine, clock, publish, span_factory, digit_delay_s=1.0, seed=None):
        self.engine = engine
        self.clock = clock
        self.publish = publish
        self.rng = random.Random(seed)
        self.digit_delay_s = digit_delay_s
        self.calls = {}
        self.by_q931 = {}
        self.ids = itertools.count(1)
        self.rate_per_min = 0.0
        self._arrival = None
        self.counters = {"placed": 0, "connected": 0, "ended": 0, "failed": 0, "no_channel": 0}
        self.spans = {}
        for sp in engine.spans:
            sid = sp.sid
            on_link = lambda up, sid=sid: publish("farend.link", {"span": sid, "up": up})  # noqa: E731
            if sp.cfg.get("signalling") in ("r2-cn", "r2-itu") and sp.cas is not None:
                # the box collects r2.dnis_digits; the exchange's own register takes what comes
                self.spans[sid] = R2Span(sid, sp.cfg["signalling"], engine_sender(engine),
                                         lambda ev, sid=sid: self.on_q931(sid, ev), clock, on_link)
                continue
            kw = {"kind": "T1"} if sp.kind == "T1" else {}
            self.spans[sid] = span_factory(
                sid, "network", lambda fr, sid=sid: engine.submit(engine.dchan_send, sid, fr),
                lambda ev, sid=sid: self.on_q931(sid, ev), clock, on_link, **kw)

    # -- engine events (already moved onto the loop) -----------------------------------
    def on_engine_event(self, topic, data):
        if topic in ("chan.abcd", "chan.r2mf"):
            sp = self.spans.get(int(data["ep"][1:].split(".")[0]))
            if hasattr(sp, "on_media"):
                sp.on_media(topic, data)
        elif topic == "span.dchan.rx":
            self.spans[data["span"]].rx_frame(data["frame"])
        elif topic == "span.state":
            sp = self.spans[data["span"]]
            (sp.line_up if data["up"] else sp.line_down)()
        elif topic == "chan.tone.done":
            call = self._call_on_ep(data["ep"])
            if call and call.state == "dialling":
                call.state = "talking"
                self.engine.submit(self.engine.play_tone, data["ep"], CALLER_VOICE_HZ, 0, -15.0)

    def _call_on_ep(self, ep):
        for c in self.calls.values():
            if c.chan is not None and "s%d.%d" % (c.span, c.chan) == ep:
                return c
        return None

    # -- placing calls ----------------------------------------------------------------------
    def place_call(self, dnis="10086", ani=None, digits="1", hangup_after_s=None):
        """Place one call into the box. Returns the far-end call snapshot.

        Raises:
            ValueError: bad digits, or no span has its D-channel up.
        """
        if not all(c in "0123456789*#" for c in digits):
            raise ValueError("digits %r: only 0-9 * #" % digits)
        if not dnis.isdigit() or (ani and not ani.isdigit()):
            raise ValueError("dnis and ani must be digits")
        ready = [sp for sp in self.spans.values() if sp.link]
        if not ready:
            self.counters["no_channel"] += 1
            raise ValueError("no span towards the box has its D-channel up")
        call = FarCall(next(self.ids), dnis, ani or "138%08d" % self.rng.randrange(10 ** 8), digits, hangup_after_s)
        for sp in ready:
            try:
                qid = sp.sig.setup(call.dnis, call.ani)
            except Exception as e:   # no free channel on this span
                log.info("farend: span %d cannot take a call: %s", sp.sid, e)
                continue
            call.span, call.q931_id = sp.sid, qid
            call.chan = sp.sig.calls[qid]["chan"]
            break
        else:
            self.counters["no_channel"] += 1
            raise ValueError("no free channel towards the box")
        call.state = "setup"
        self.calls[call.fid] = call
        self.by_q931[(call.span, call.q931_id)] = call
        self.counters["placed"] += 1
        self.publish("farend.call.setup", call.snapshot())
        return call.snapshot()

    def on_q931(self, sid, ev):
        call = self.by_q931.get((sid, ev.get("call")))
        if call is None:
            return
        kind = ev["ev"]
        if kind == "connect":
            call.state = "connected"
            call.t_connect = time.time()
            self.counters["connected"] += 1
            self.publish("farend.call.connected", call.snapshot())
            call.timer = self.clock.call_later(self.digit_delay_s, self._dial, call)
            if call.hangup_after_s:
                self.clock.call_later(call.hangup_after_s, self.hangup, call.fid)
        elif kind == "disconnect":
            call.cause = ev.get("cause")
        elif kind == "released":
            self._ended(call, ev.get("cause"))

    def _dial(self, call):
        if call.state != "connected":
            return
        ep = "s%d.%d" % (call.span, call.chan)
        if call.digits:
            call.state = "dialling"
            self.engine.submit(self.engine.tone, ep, None, None, call.digits)
        else:
            call.state = "talking"
            self.engine.submit(self.engine.play_tone, ep, CALLER_VOICE_HZ, 0, -15.0)

    def hangup(self, fid):
        call = self.calls.get(fid)
        if call is None or call.state in ("ended", "clearing"):
            return
        call.state = "clearing"
        self.spans[call.span].sig.disconnect(call.q931_id, 16)

    def _ended(self, call, cause):
        if call.chan is not None:
            self.engine.submit(self.engine.stop_ep, "s%d.%d" % (call.span, call.chan))
        call.state = "ended"
        call.t_end = time.time()
        call.cause = call.cause or cause
        if call.timer:
            call.timer.cancel()
        self.counters["ended" if call.t_connect else "failed"] += 1
        self.calls.pop(call.fid, None)
        self.by_q931.pop((call.span, call.q931_id), None)
        self.publish("farend.call.ended", call.snapshot())

    # -- traffic --------------------------------------------------------------------------------
    def set_rate(self, per_min):
        """Poisson arrivals at per_min calls a minute (0 stops the generator)."""
        per_min = float(per_min)
        if not 0 <= per_min <= 6000:
            raise ValueError("rate %r calls/min is outside 0..6000" % per_min)
        self.rate_per_min = per_min
        if self._arrival:
            self._arrival.cancel()
            self._arrival = None
        if per_min > 0:
            self._schedule()
        return {"rate_per_min": per_min}

    def _schedule(self):
        self._arrival = self.clock.call_later(self.rng.expovariate(self.rate_per_min / 60.0), self._arrive)

    def _arrive(self):
        try:
            self.place_call(digits=self.rng.choice("12"))
        except ValueError as e:
            log.info("farend: generated call not placed: %s", e)
        self._schedule()

    def status(self):
        return {"spans": [{"span": sid, "dchan": "up" if sp.link else "down"} for sid, sp in self.spans.items()],
                "calls": len(self.calls), "rate_per_min": self.rate_per_min, "counters": dict(self.counters)}
