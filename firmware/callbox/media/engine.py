"""The media engine: one 20 ms tick moves every span's and seat's audio.

Design note
-----------
Each tick (160 frames of E1 = 20 ms):

1. every span: read one block of raw line bits, deframe (C), split the 160
   frames into 32 timeslot blocks (C), pull the D-channel (TS16) octets;
2. HDLC receive over all spans' D-channels at once (C) -> frames as events;
3. seats: poll control packets, read 20 ms of audio each;
4. decode every trunk channel to linear in one call (C) and run the DTMF bank
   over all channels in one call (C); digits on enabled channels become events;
5. tone generator bank (C) for all endpoints, one call;
6. the switch: for each routed endpoint copy its source's 160 octets (a block
   copy, no per-sample Python);
7. HDLC transmit (C), interleave, frame (C) and write every span;
8. recording taps: one batched event per tick with every recorded call's two
   directions.

The engine never blocks on disk, network or other daemons: lines and seats are
non-blocking, events leave through a callback that must only queue. Commands
from other threads are queued with ``submit`` and applied at the start of the
next tick, so all engine state belongs to the tick thread. A tick that starts
late by more than one period counts an overrun (``media:overruns``).

Endpoints are named ``s<span>.<ts>`` (trunk channel: span, timeslot) and
``seat<N>``.

E1 spans with channel-associated signalling (MFC/R2, CAS) carry the TS16 CAS
multiframe instead of a D-channel: the ABCD bits of all 30 channels are read
(one C call per span) and reported as ``chan.abcd`` events when they change,
and written with ``cas_set``; MFC/R2 register signals are heard by one
R2MFReceiverBank call over every channel per tick (only while some channel
listens) and reported as ``chan.r2mf`` edges; the MF tones are sent with
``play_tone``.
"""
import array
import collections
import logging
import queue
import re
import threading
import time

from callbox import dsp, line as linelib
from callbox.errors import CallboxError
from callbox.media.perf import PerfMonitor
from callbox.media.prompts import PromptPlayer, PromptSet

TICK_S = 0.020
N = 160                      # samples (frames) per tick
TS = 32
DCHAN_TS = 16
ALAW_IDLE = bytes([dsp.ALAW_SILENCE]) * N
EP_RE = re.compile(r"^(?:s(\d+)\.(\d+)|seat(\d+))$")
log = logging.getLogger("callbox.media")


_ULAW_TO_ALAW = bytes(dsp.linear_to_alaw(dsp.ulaw_to_linear(bytes(range(256)))))
_ALAW_TO_ULAW = bytes(dsp.linear_to_ulaw(dsp.alaw_to_linear(bytes(range(256)))))
T1_DCHAN = 24                # PRI 23B+D: the D-channel is channel 24
CAS_SIGNALLING = ("r2-cn", "r2-itu", "cas")
DCH_IDLE = b"\xff" * N


def cas_channel(ts):
    """E1 timeslot 1-15, 17-31 -> CAS channel 1..30 (G.704: channel k+15 is timeslot k+16)."""
    return ts if ts < DCHAN_TS else ts - 1


def cas_timeslot(chan):
    return chan if chan <= 15 else chan + 1


class SpanPort:
    """The engine's side of one span: line backend, framer, deframer, buffers.

    E1 and T1 spans share one layout: 32 slots per frame, so the switch, the DTMF bank and
    the recording taps index every span alike. A T1 frame's channels 1..24 sit in slots
    1..24 (A-law inside the box, mu-law on the line: converted in C on the way in and out;
    the D-channel, channel 24, is copied untouched).
    """

    def __init__(self, sid, cfg, line):
        self.sid = sid
        self.cfg = cfg
        self.line = line
        self.kind = cfg.get("kind", "E1")
        if self.kind == "T1":
            framing = cfg.get("framing") if cfg.get("framing") in ("esf", "sf", "d4") else "esf"
            self.rx = linelib.T1Rx(framing=framing, rbs=cfg.get("signalling") == "cas")
            self.tx = linelib.T1Tx(framing=framing)
            self.dchan_ts = T1_DCHAN
            raw_bytes = N * linelib.T1_FRAME_BITS // 8
            self.t1_rx = bytearray(N * linelib.T1_CHANNELS)
            self.t1_tx = bytearray(N * linelib.T1_CHANNELS)
            self.crc4 = False
        else:
            self.crc4 = cfg.get("framing") == "crc4"
            self.rx = linelib.E1Rx(crc4=self.crc4)
            self.tx = linelib.E1Tx(crc4=self.crc4)
            self.dchan_ts = DCHAN_TS
            raw_bytes = N * TS
        # E1 with CAS: TS16 carries the ABCD multiframe, there is no D-channel
        self.cas = linelib.Cas() if self.kind == "E1" and cfg.get("signalling") in CAS_SIGNALLING else None
        self.cas_now = bytearray(b"\xff" * 30)
        self.cas_seen = bytes(self.cas_now)
        self.raw = bytearray(raw_bytes)
        self.frames = bytearray(N * TS)
        self.chans = bytearray(b"\xff" * (N * TS))          # timeslot-major rx
        self.txchans = bytearray(ALAW_IDLE * TS)            # timeslot-major tx
        self.txframes = bytearray(N * TS)
        self.txraw = bytearray(raw_bytes)
        self.alarms = {"los": False, "ais": False, "lof": True, "rai": False, "lomf": False}
        if self.cas is not None:
            self.alarms.update(cas_lomf=False, cas_rai=False)
        self.failures = linelib.FailureIntegrator()   # RED / BLUE / YELLOW after 2.5 s, cleared after 10 s
        self.up = False
        self.underruns = 0
        self.far_no_crc4 = False     # G.706 Annex B interworking in force
        self.loopback = "off"        # off | local | line | payload
        self.bert = None             # (tx Prbs, rx Prbs, payload buffer) while a BERT runs
        self.perf = PerfMonitor(time.time())
        self.prev = {}               # counters at the last performance second
        self.second_defect = False   # LOS/LOF/AIS seen during the current second
        self.rai_forced = False      # RAI sent on request (fault injection), whatever we receive
        self.rai_sent = False        # what the framer sends now (E1 A bit, T1 yellow)

    def bearer(self, ts):
        """Whether a slot number is a B-channel of this span."""
        if self.kind == "T1":
            return 1 <= ts <= linelib.T1_CHANNELS and ts != self.dchan_ts
        return 1 <= ts < TS and ts != DCHAN_TS

    def deframe(self):
        """raw line bits -> self.frames in the 32-slot layout."""
        if self.kind == "T1":
            self.rx.deframe(self.raw, self.t1_rx)
            linelib.t1_to_slots(self.t1_rx, N, self.frames, self.dchan_ts, _ULAW_TO_ALAW)
        else:
            self.rx.deframe(self.raw, self.frames)

    def frame(self):
        """self.txframes (32-slot layout) -> raw line bits in self.txraw."""
        if self.kind == "T1":
            linelib.slots_to_t1(self.txframes, N, self.t1_tx, self.dchan_ts, _ALAW_TO_ULAW)
            self.tx.frame(self.t1_tx, self.txraw)
        else:
            self.tx.frame(self.txframes, self.txraw)

    def defects(self):
        """The receiver's state in E1 words: los, ais, lof, rai, lomf, far_no_crc4."""
        st = self.rx.status()
        if self.kind == "T1":
            return {"los": st["los"], "ais": st["ais"], "lof": st["oof"], "rai": st["yellow"], "lomf": False,
                    "far_no_crc4": False}
        if self.cas is not None:
            cs = self.cas.status()
            # before frame alignment the CAS multiframe cannot be judged: LOF says it all
            st["cas_lomf"] = not st["lof"] and not st["los"] and not cs["aligned"]
            st["cas_rai"] = cs["aligned"] and cs["remote_mf_alarm"]
        return st

    def error_counts(self):
        """Counters for the performance registers: (CRC errors, framing-bit errors, slips)."""
        c = self.rx.counters()
        if self.kind == "T1":
            return c.get("rx:crc6_errors", 0), c.get("rx:fbit_errors", 0), 0
        return c["rx:crc4_errors"], c["rx:fas_errors"], c["rx:slips"]

    def close(self):
        self.rx.close()
        self.tx.close()
        if self.cas is not None:
            self.cas.close()
        self.line.close()
        if self.bert:
            self.bert[0].close()
            self.bert[1].close()


class Engine:
    """The media engine of one process.

    Args:
        spans (list[(sid, cfg dict, Line)]): opened span backends.
        seats (list[(seat number, SeatPort)]): opened seat backends.
        prompts (dict): name -> A-law bytes.
        emit (callable): emit(topic, data) for events; called on the tick thread, must not block.
        name (str): for logs.
    """

    def __init__(self, spans, seats, prompts=None, emit=None, name="media"):
        self.name = name
        self.spans = [SpanPort(sid, cfg, ln) for sid, cfg, ln in spans]
        self.span_by_id = {sp.sid: sp for sp in self.spans}
        self.seats = dict(seats)
        self.seat_rx = {n: ALAW_IDLE for n in self.seats}
        self.seat_hook = {n: "on" for n in self.seats}
        self.seat_plugged = {n: False for n in self.seats}
        self.prompts = prompts if isinstance(prompts, PromptSet) else PromptSet(prompts)
        self.emit = emit or (lambda topic, data: None)
        ns = len(self.spans)
        self.nchan = ns * TS
        self.hdlc = linelib.HdlcBank(max(ns, 1))
        self.dch_in = bytearray(max(ns, 1) * N)
        # tone generators and DTMF receivers: one per trunk channel, then one per seat
        self.seat_list = sorted(self.seats)
        self.nrx = self.nchan + len(self.seat_list)
        self.dtmf = dsp.DtmfReceiverBank(max(self.nrx, 1))
        self.tone_index = {}
        for sp in self.spans:
            for ts in range(TS):
                self.tone_index["s%d.%d" % (sp.sid, ts)] = len(self.tone_index)
        for n in self.seat_list:
            self.tone_index["seat%d" % n] = len(self.tone_index)
        self.tones = dsp.ToneGeneratorBank(max(len(self.tone_index), 1))
        self.tone_lin = array.array("h", bytes(2 * N * max(len(self.tone_index), 1)))
        self.tone_alaw = bytearray(N * max(len(self.tone_index), 1))
        self.lin = array.array("h", bytes(2 * N * max(self.nrx, 1)))
        self.rx_all = bytearray(N * max(self.nrx, 1))
        # dst endpoint -> ("ep", src) | ("prompt", PromptPlayer) | ("tone", None) | ("mix", (src, ...))
        self.routes = {}
        self.monitors = {}           # supervisor endpoint -> (mode, caller, agent)
        self.dtmf_on = set()         # endpoints whose digits are reported
        # MFC/R2 register signals: one receiver per trunk channel, run while any listens
        self.r2mf = dsp.R2MFReceiverBank(self.nchan) if any(sp.cas for sp in self.spans) else None
        self.r2mf_on = set()
        self.recs = {}               # call_id -> (caller ep, agent ep)
        self.cmds = queue.SimpleQueue()
        self.tick_no = 0
        self.counters = collections.Counter()
        self._status = []
        self._stop = threading.Event()
        self.thread = None
        self.after_tick = []         # callables run on the tick thread after each tick (simulators)
        self._update_status()

    # -- lifecycle --------------------------------------------------------------
    def close(self):
        self.stop()
        for sp in self.spans:
            sp.close()
        for s in self.seats.values():
            s.close()
        self.hdlc.close()
        self.dtmf.close()
        self.tones.close()
        if self.r2mf is not None:
            self.r2mf.close()

    def start(self):
        """Run ticks on a thread driven by the monotonic clock."""
        self.thread = threading.Thread(target=self._run, name=self.name + "-tick", daemon=True)
        self.thread.start()

    def stop(self):
        self._stop.set()
        if self.thread and self.thread is not threading.current_thread():
            self.thread.join(2.0)

    def _run(self):
        nxt = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            if now < nxt:
                time.sleep(nxt - now)
            elif now - nxt > TICK_S:
                missed = int((now - nxt) / TICK_S)
                self.counters["media:overruns"] += 1
                self.counters["media:ticks_missed"] += missed
                nxt += missed * TICK_S
            t0 = time.monotonic()
            try:
                self.tick()
                for fn in self.after_tick:
                    fn(self.tick_no)
            except Exception:
                self.counters["media:tick_errors"] += 1
                log.exception("%s: tick %d failed", self.name, self.tick_no)
            self.counters["media:tick_us_total"] += int((time.monotonic() - t0) * 1e6)
            nxt += TICK_S

    # -- commands (any thread) -----------------------------------------------------
    def submit(self, fn, *args):
        """Queue fn(*args) to run on the tick thread at the next tick."""
        self.cmds.put((fn, args))

    def check_ep(self, ep):
        """Validate an endpoint name; return it.

        Raises:
            ValueError: unknown endpoint, with the accepted forms.
        """
        m = EP_RE.match(ep) if isinstance(ep, str) else None
        if not m:
            raise ValueError("endpoint %r is not s<span>.<timeslot> or seat<N>" % (ep,))
        if m.group(3) is not None:
            if int(m.group(3)) not in self.seats:
                raise ValueError("endpoint %s: no such seat (seats: %s)" % (ep, ", ".join(map(str, self.seat_list)) or "none"))
        else:
            sid, ts = int(m.group(1)), int(m.group(2))
            if sid not in self.span_by_id:
                raise ValueError("endpoint %s: no span %d" % (ep, sid))
            if not self.span_by_id[sid].bearer(ts):
                raise ValueError("endpoint %s: timeslot %d is not a bearer channel (%s)" % (
                    ep, ts, "1-23" if self.span_by_id[sid].kind == "T1" else "1-15, 17-31"))
        return ep

    # these run on the tick thread
    def connect(self, a, b):
        self._unroute(a)
        self._unroute(b)
        self.routes[a] = ("ep", b)
        self.routes[b] = ("ep", a)

    def disconnect(self, ep):
        src = self.routes.get(ep)
        self._unroute(ep)
        if src and src[0] == "ep" and self.routes.get(src[1]) == ("ep", ep):
            self._unroute(src[1])
        for dst, r in list(self.routes.items()):     # conferences that hear this endpoint
            if r[0] == "mix" and ep in r[1]:
                self._unroute(dst)
        self.monitors = {k: v for k, v in self.monitors.items() if ep not in (k,) + v[1:]}

    MONITOR_MODES = ("listen", "whisper", "barge", "off")

    def monitor(self, sup, caller, agent, mode):
        """Supervision of the call caller <-> agent from endpoint ``sup``:
        listen (sup hears both), whisper (the agent also hears sup), barge (everyone hears
        everyone), off (back to the plain two-party connection; sup is released)."""
        if mode not in self.MONITOR_MODES:
            raise ValueError("monitor mode %r is not one of %s" % (mode, ", ".join(self.MONITOR_MODES)))
        if mode == "off":
            self.monitors.pop(sup, None)
            self._unroute(sup)
            self.routes[caller] = ("ep", agent)
            self.routes[agent] = ("ep", caller)
            return
        self._unroute(sup)
        self.monitors[sup] = (mode, caller, agent)
        self.routes[sup] = ("mix", (caller, agent))
        self.routes[agent] = ("mix", (caller, sup)) if mode in ("whisper", "barge") else ("ep", caller)
        self.routes[caller] = ("mix", (agent, sup)) if mode == "barge" else ("ep", agent)

    def _unroute(self, ep):
        r = self.routes.pop(ep, None)
        if r is not None:
            if r[0] == "tone":
                self.tones.stop(self.tone_index[ep])
            self._set_idle(ep)

    def play(self, ep, prompt, loop=False, lang=None):
        """Play a prompt, or a list of prompts back to back, in the call's language."""
        names = list(prompt) if isinstance(prompt, (list, tuple)) else [prompt]
        keys = [self.prompts.resolve(n, lang) for n in names]
        if not names or None in keys:
            self.emit("chan.play.done", {"ep": ep, "prompt": prompt, "error": "no such prompt"})
            return
        self._unroute(ep)
        data = b"".join(self.prompts[k] for k in keys)
        self.routes[ep] = ("prompt", PromptPlayer(prompt, data, loop))

    def tone(self, ep, plan=None, tone=None, digits=None):
        self._unroute(ep)
        idx = self.tone_index[ep]
        if digits:
            self.tones.send_dtmf(idx, digits)
        else:
            self.tones.play_plan_tone(idx, plan, tone)
        self.routes[ep] = ("tone", None)

    def play_tone(self, ep, f1, f2, level):
        self._unroute(ep)
        self.tones.play_tone(self.tone_index[ep], f1, f2, level)
        self.routes[ep] = ("tone", None)

    def stop_ep(self, ep):
        self._unroute(ep)

    def dtmf_enable(self, ep, on=True):
        if on:
            self.dtmf_on.add(ep)
            m = EP_RE.match(ep)
            if m.group(1) is not None:
                self.dtmf.reset(self._chan_index(int(m.group(1)), int(m.group(2))))
            else:
                self.dtmf.reset(self.nchan + self.seat_list.index(int(m.group(3))))
        else:
            self.dtmf_on.discard(ep)

    def cas_set(self, ep, abcd):
        """Send ABCD bits (1..15) on a trunk channel of a CAS span."""
        sp, ts = self._cas_ep(ep)
        sp.cas.set_tx(cas_channel(ts), abcd)

    def r2mf_enable(self, ep, on=True, backward=False):
        """Report MFC/R2 register signals heard on a CAS channel: the forward set (what a
        backward register hears) or, with backward, the backward set."""
        sp, ts = self._cas_ep(ep)
        idx = self._chan_index(sp.sid, ts)
        if on:
            self.r2mf.set_backward(idx, bool(backward))
            self.r2mf_on.add(ep)
        else:
            self.r2mf_on.discard(ep)

    def _cas_ep(self, ep):
        m = EP_RE.match(ep or "")
        sp = self.span_by_id.get(int(m.group(1))) if m and m.group(1) else None
        if sp is None or sp.cas is None or not sp.bearer(int(m.group(2))):
            raise ValueError("endpoint %r is not a channel of an E1 span with CAS signalling" % (ep,))
        return sp, int(m.group(2))

    def record_start(self, call_id, caller, agent):
        self.recs[call_id] = (caller, agent)
        self.emit("media.rec.open", {"call_id": call_id, "t": time.time(), "tick": self.tick_no})

    def record_stop(self, call_id):
        if self.recs.pop(call_id, None) is not None:
            self.emit("media.rec.close", {"call_id": call_id, "t": time.time(), "tick": self.tick_no})

    def dchan_send(self, sid, frame_bytes):
        try:
            self.hdlc.send(self._span_index(sid), frame_bytes)
        except CallboxError as e:
            self.counters["dchan:tx_overflow"] += 1
            log.warning("%s: span %d D-channel: %s", self.name, sid, e)

    def force_rai(self, sid, on):
        """Send RAI (E1 A bit, T1 yellow) on a span whatever its receiver sees (fault injection);
        off: RAI follows our own receive defects again."""
        self.span_by_id[sid].rai_forced = bool(on)

    def set_loopback(self, sid, mode):
        """Span loopback: local (our transmit to our receiver), line (received bits sent
        back as they are), payload (received payload sent back in our framing) or off."""
        if mode not in ("off", "local", "line", "payload"):
            raise ValueError("loopback %r is not one of: off, local, line, payload" % (mode,))
        sp = self.span_by_id[sid]
        sp.loopback = mode
        self.emit("span.loopback", {"span": sid, "mode": mode})

    def bert(self, sid, action, order=15, inverted=False):
        """Framed BERT over a span's 30 bearer timeslots (O.151 PRBS)."""
        sp = self.span_by_id[sid]
        if action == "start" and sp.kind != "E1":
            log.warning("%s: span %d: the framed BERT runs on E1 spans only", self.name, sid)
            return
        if action == "start":
            if sp.bert:
                sp.bert[0].close()
                sp.bert[1].close()
            sp.bert = (linelib.Prbs(order, inverted), linelib.Prbs(order, inverted), bytearray(30 * N))
        elif action == "stop" and sp.bert:
            sp.bert[0].close()
            sp.bert[1].close()
            sp.bert = None
        elif action == "insert" and sp.bert:
            sp.bert[0].insert_error()
        elif action == "reset" and sp.bert:
            sp.bert[1].reset_stats()

    def bert_status(self, sid):
        sp = self.span_by_id[sid]
        if not sp.bert:
            return {"span": sid, "running": False}
        st = sp.bert[1].stats()
        st.update(span=sid, running=True, pattern="2^%d-1%s" % (sp.bert[0].order, " inverted" if sp.bert[0].inverted else ""))
        return st

    def seat_control(self, seat, msg):
        self.seats[seat].send_control(msg)

    # -- helpers ----------------------------------------------------------------------
    def _span_index(self, sid):
        return self.spans.index(self.span_by_id[sid])

    def _chan_index(self, sid, ts):
        return self._span_index(sid) * TS + ts

    def _set_idle(self, ep):
        m = EP_RE.match(ep)
        if m.group(1) is not None:
            sp = self.span_by_id[int(m.group(1))]
            ts = int(m.group(2))
            sp.txchans[ts * N:(ts + 1) * N] = ALAW_IDLE

    def _send_to(self, dst, data, seat_tx):
        m = EP_RE.match(dst)
        if m.group(1) is not None:
            sp = self.span_by_id[int(m.group(1))]
            ts = int(m.group(2))
            sp.txchans[ts * N:(ts + 1) * N] = data
        else:
            seat_tx[int(m.group(3))] = data

    def _rx_of(self, ep):
        m = EP_RE.match(ep)
        if m.group(1) is not None:
            sp = self.span_by_id[int(m.group(1))]
            ts = int(m.group(2))
            return sp.chans[ts * N:(ts + 1) * N]
        return self.seat_rx[int(m.group(3))]

    # -- the tick ----------------------------------------------------------------------
    def tick(self):
        """Run one 20 ms step (tests call this directly; production runs it on the thread)."""
        while True:
            try:
                fn, args = self.cmds.get_nowait()
            except queue.Empty:
                break
            try:
                fn(*args)
            except Exception as e:
                log.warning("%s: command %s%r failed: %s", self.name, getattr(fn, "__name__", fn), args, e)
        self.tick_no += 1
        # 1. spans in
        for i, sp in enumerate(self.spans):
            st = sp.line.read_block(sp.raw)
            if sp.loopback == "local":       # our own transmit bits come back to our receiver
                sp.raw[:] = sp.txraw
                st = "ok"
            if st == "none":
                sp.underruns += 1
                sp.chans[:] = b"\xff" * (N * TS)
            else:
                sp.deframe()
                linelib.tdm_deinterleave(sp.frames, N, sp.chans)
                if sp.crc4:
                    errs = sp.rx.take_crc_errors()
                    if errs:
                        sp.tx.report_crc_errors(errs)
            if sp.bert and st != "none":
                linelib.payload_extract(sp.frames, N, sp.bert[2])
                sp.bert[1].check(sp.bert[2])
            if sp.cas is not None:
                self.dch_in[i * N:(i + 1) * N] = DCH_IDLE
                if st != "none":
                    sp.cas.extract(sp.frames)
                    sp.cas.rx_all(sp.cas_now)
                    if sp.cas_now != sp.cas_seen:
                        self._cas_changed(sp)
            else:
                self.dch_in[i * N:(i + 1) * N] = sp.chans[sp.dchan_ts * N:(sp.dchan_ts + 1) * N]
            self._check_alarms(sp)
        # 2. D-channels
        if self.spans:
            for idx, fr in self.hdlc.rx(self.dch_in, N):
                self.emit("span.dchan.rx", {"span": self.spans[idx].sid, "frame": fr})
        # 3. seats
        for n, port in self.seats.items():
            for ev in port.poll():
                self._seat_event(n, ev)
            a = port.read_audio()
            self.seat_rx[n] = a if a is not None else ALAW_IDLE
        # 4. decode + DTMF on all trunk channels and seats at once
        if self.nrx:
            for i, sp in enumerate(self.spans):
                self.rx_all[i * TS * N:(i + 1) * TS * N] = sp.chans
            for k, n in enumerate(self.seat_list):
                self.rx_all[(self.nchan + k) * N:(self.nchan + k + 1) * N] = self.seat_rx[n]
            dsp.alaw_to_linear(self.rx_all, self.lin)
            if self.dtmf_on:
                for chan, digit, off in self.dtmf.process(self.lin, N):
                    if chan < self.nchan:
                        ep = "s%d.%d" % (self.spans[chan // TS].sid, chan % TS)
                    else:
                        ep = "seat%d" % self.seat_list[chan - self.nchan]
                    if ep in self.dtmf_on:
                        self.emit("chan.dtmf", {"ep": ep, "digit": digit, "tick": self.tick_no, "offset": off})
            if self.r2mf_on:
                for chan, signal, off in self.r2mf.process(memoryview(self.lin)[:self.nchan * N], N):
                    ep = "s%d.%d" % (self.spans[chan // TS].sid, chan % TS)
                    if ep in self.r2mf_on:
                        self.emit("chan.r2mf", {"ep": ep, "signal": signal, "tick": self.tick_no})
        # 5. tones
        if any(r[0] == "tone" for r in self.routes.values()):
            self.tones.generate(self.tone_lin, N)
            dsp.linear_to_alaw(self.tone_lin, self.tone_alaw)
        # 6. the switch
        seat_tx = {}
        mixes = []
        for dst, (kind, src) in list(self.routes.items()):
            if kind == "mix":
                mixes.append((dst, src))
                continue
            if kind == "ep":
                data = self._rx_of(src)
            elif kind == "prompt":
                data = src.next(N)
                if src.done:
                    self.emit("chan.play.done", {"ep": dst, "prompt": src.name})
                    del self.routes[dst]
            else:
                idx = self.tone_index[dst]
                data = self.tone_alaw[idx * N:(idx + 1) * N]
                if not self.tones.active(idx):
                    self.emit("chan.tone.done", {"ep": dst})
                    del self.routes[dst]
            self._send_to(dst, data, seat_tx)
        if mixes:               # every conference output of the tick in one C call
            out = dsp.mix_alaw(b"".join(self._rx_of(s) for _, srcs in mixes for s in srcs),
                               [len(srcs) for _, srcs in mixes], N)
            for k, (dst, _) in enumerate(mixes):
                self._send_to(dst, out[k * N:(k + 1) * N], seat_tx)
        # 7. spans out
        if self.spans:
            dch_out = self.hdlc.tx(N)
            for i, sp in enumerate(self.spans):
                if sp.cas is None:
                    sp.txchans[sp.dchan_ts * N:(sp.dchan_ts + 1) * N] = dch_out[i * N:(i + 1) * N]
                linelib.tdm_interleave(sp.txchans, N, sp.txframes)
                if sp.cas is not None:
                    sp.cas.insert(sp.txframes)
                if sp.bert:
                    linelib.payload_insert(sp.txframes, sp.bert[0].generate(30 * N), N)
                if sp.loopback == "payload":   # the far end's payload goes back in our framing
                    sp.txframes[:] = sp.frames
                sp.frame()
                sp.line.write_block(sp.raw if sp.loopback == "line" else sp.txraw)
        for n, port in self.seats.items():
            port.write_audio(seat_tx.get(n, ALAW_IDLE))
        # 8. recording taps
        if self.recs:
            blocks = [[cid, bytes(self._rx_of(a)), bytes(self._rx_of(b))] for cid, (a, b) in self.recs.items()]
            self.emit("media.rec", {"tick": self.tick_no, "b": blocks})
        if self.tick_no % 50 == 0:
            self._perf_second()
        if self.tick_no % 25 == 0:
            self._update_status()

    def _perf_second(self):
        """One second's errors of every span into its performance registers."""
        now = time.time()
        for sp in self.spans:
            c = dict(zip(("crc", "fas", "slips"), sp.error_counts()))
            d = {k: c[k] - sp.prev.get(k, c[k]) for k in c}
            sp.prev = c
            sp.perf.second(now, crc_errors=d["crc"], fas_errors=d["fas"],
                           slips=d["slips"], los=sp.alarms["los"] or sp.second_defect == "los",
                           lof=sp.alarms["lof"] or sp.second_defect == "lof", ais=sp.alarms["ais"],
                           crc4=(sp.crc4 and not sp.far_no_crc4) or (sp.kind == "T1" and sp.rx.framing == "esf"))
            sp.second_defect = False

    def _cas_changed(self, sp):
        """Report the channels whose received ABCD changed (rare: a handful per call)."""
        for k in range(30):
            v = sp.cas_now[k]
            if v != sp.cas_seen[k] and v != 0xFF:
                self.emit("chan.abcd", {"ep": "s%d.%d" % (sp.sid, cas_timeslot(k + 1)), "abcd": v,
                                        "tick": self.tick_no})
        sp.cas_seen = bytes(sp.cas_now)

    def cas_status(self, sid):
        """Transmitted and received ABCD of every channel of a CAS span, and the multiframe state."""
        sp = self.span_by_id[sid]
        if sp.cas is None:
            raise ValueError("span %d has no CAS signalling (%s)" % (sid, sp.cfg.get("signalling")))
        rx = bytes(sp.cas_seen)
        return dict(sp.cas.status(), span=sid, rx={str(cas_timeslot(k + 1)): (None if rx[k] == 0xFF else rx[k])
                                                   for k in range(30)})

    def _check_alarms(self, sp):
        st = sp.defects()
        changed = False
        for name in sp.alarms:
            v = bool(st.get(name))
            if v and name in ("los", "lof"):
                sp.second_defect = name              # a defect inside the second marks it
            if v != sp.alarms[name]:
                sp.alarms[name] = v
                changed = True
                self.emit("span.alarm", {"span": sp.sid, "alarm": name, "state": "ON" if v else "OFF"})
                if name == "cas_lomf":           # G.732: tell the far end with the y bit
                    sp.cas.set_remote_alarm(v)
        for name, on in sp.failures.feed(st, N / 8000.0):
            self.emit("span.failure", {"span": sp.sid, "failure": name, "state": "ON" if on else "OFF"})
        if sp.crc4 and bool(st.get("far_no_crc4")) != sp.far_no_crc4:
            sp.far_no_crc4 = bool(st.get("far_no_crc4"))
            sp.tx.set_far_no_crc4(sp.far_no_crc4)
            self.emit("span.crc4", {"span": sp.sid, "far_end_crc4": not sp.far_no_crc4})
        # RAI towards the far end while our receiver has LOS, LOF or AIS (G.704/G.775: the A bit;
        # T1 yellow), or while a tech forces it
        rai = sp.rai_forced or sp.alarms["los"] or sp.alarms["lof"] or sp.alarms["ais"]
        if rai != sp.rai_sent:
            sp.rai_sent = rai
            sp.tx.remote_alarm = rai
        # a CAS span signals only with its multiframe aligned
        up = not (sp.alarms["los"] or sp.alarms["ais"] or sp.alarms["lof"] or sp.alarms.get("cas_lomf"))
        if up != sp.up:
            sp.up = up
            self._update_status()        # first: a span.status read after the event must agree
            self.emit("span.state", {"span": sp.sid, "up": up})
        elif changed:
            self._update_status()        # an alarm came or went: status() tells it at once

    def _seat_event(self, n, ev):
        if "plug" in ev:
            self.seat_plugged[n] = bool(ev["plug"])
            if not ev["plug"] and self.seat_hook[n] == "off":
                self.seat_hook[n] = "on"
                self.emit("seat.hook", {"seat": n, "hook": "on"})
            self.emit("seat.plug", {"seat": n, "plugged": bool(ev["plug"])})
        elif ev.get("hook") in ("on", "off"):
            self.seat_hook[n] = ev["hook"]
            self.emit("seat.hook", {"seat": n, "hook": ev["hook"]})
        elif isinstance(ev.get("dial"), str):
            # the phone called a number (an internal call into the box's routing)
            self.seat_hook[n] = "off"
            self.emit("seat.dial", {"seat": n, "number": ev["dial"][:32]})
        elif isinstance(ev.get("key"), str):
            ev = {k: v for k, v in ev.items() if isinstance(v, (str, int, float, bool))}
            ev["seat"] = n
            self.emit("seat.key", ev)
        else:
            self.counters["seat:bad_packets"] += 1
            log.warning("%s: seat %d sent an unknown packet %r; ignored", self.name, n, ev)

    def _update_status(self):
        out = []
        for sp in self.spans:
            c = dict(sp.rx.counters())
            c["rx:underruns"] = sp.underruns
            for k, v in sp.line.counters().items():
                c["line:" + k] = v
            out.append({"span": sp.sid, "name": sp.cfg.get("name", "span%d" % sp.sid),
                        "kind": sp.cfg.get("kind", "E1"), "framing": sp.cfg.get("framing", ""),
                        "line_code": sp.cfg.get("line_code", ""), "backend": str(sp.line),
                        "alarms": dict(sp.alarms), "failures": dict(sp.failures.failures), "up": sp.up, "counters": c, "loopback": sp.loopback,
                        "perf": sp.perf.snapshot(), "sa_rx": sp.rx.sa_bits() if sp.kind == "E1" else None,
                        "bert": sp.bert is not None, "rai_sent": sp.rai_sent})
        self._status = out

    def status(self):
        """Snapshot of every span (refreshed every 0.5 s and on state changes)."""
        return [dict(s) for s in self._status]

    def level(self, ep):
        """Receive and transmit levels of an endpoint over the last 20 ms block, in dBm0
        (None for a silent channel), and what it is routed to."""
        rx = self._rx_of(ep)
        m = EP_RE.match(ep)
        if m.group(1) is not None:
            sp = self.span_by_id[int(m.group(1))]
            ts = int(m.group(2))
            tx = bytes(sp.txchans[ts * N:(ts + 1) * N])
        else:
            tx = None
        r = self.routes.get(ep)
        route = None if r is None else "%s %s" % (r[0], r[1] if r[0] in ("ep", "mix") else
                                                    getattr(r[1], "name", ""))

        def db(block):
            if block is None:
                return None
            v = dsp.level_dbm0(dsp.alaw_to_linear(bytes(block)))
            return None if v is None or v < -60 else round(v, 1)
        return {"ep": ep, "rx_dbm0": db(rx), "tx_dbm0": db(tx), "route": route}

    def seat_status(self):
        return [{"seat": n, "plugged": self.seat_plugged[n], "hook": self.seat_hook[n],
                 "backend": str(self.seats[n])} for n in self.seat_list]
