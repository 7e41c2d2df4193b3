"""MFC/R2 signalling on one E1 channel: line signalling (ABCD) and compelled register signalling.

Design notes
------------
* I/O-agnostic, like the Q.931 code: the owner feeds received ABCD nibbles (``rx_abcd``) and
  received MF signal edges (``rx_mf(n)``, 0 = the signal stopped) and a clock; the channel
  answers through ``actions``: ``set_abcd(nibble)``, ``mf_start(signal)``, ``mf_stop()`` and
  ``event(name, detail)``. The MF tones themselves come from the DSP library
  (``callbox.dsp.R2MFReceiverBank`` and the tone bank), the ABCD bits from the E1 TS16 CAS
  multiframe.
* Table-driven: ``LINE`` gives the AB bits of every line state per role; ``RULES`` is the
  transition table ``(state, event) -> handler``; anything not in it is a protocol error that
  clears the call with a reason, never an exception.
* Line signalling uses A and B only; C and D are constant per variant: ITU C=0 D=1, China
  (OpenR2 ``CN``) C=1 D=1. Clear-back, seize acknowledgement and blocking share the backward
  bits 11; the state gives the meaning. Received AB bits may need to persist ``persistence``
  seconds before they count (0: at once).
* Register signalling is compelled: the forward register sends a signal, the backward one
  answers while it hears it, the forward stops, the backward stops, and only then does the
  forward act on what the backward said. Forward signals: group I (digits 1-9, 10 = 0,
  I-15 end of ANI in China), group II (category). Backward: group A (A-1 next digit, A-2 /
  A-7 / A-8 repeat n-1 / n-2 / n-3, A-3 address complete -> group B, A-4 congestion, A-6 (CN)
  or A-5 (ITU) send category, after which ANI digits follow on A-1), group B (B-1 accept with
  charge, B-7 accept without, B-2 busy, B-4 congestion, B-5 unallocated, B-8 out of order).
* The China backward register asks for ANI first ("ani_first", as OpenR2 does): after the
  first DNIS digit it answers A-6, takes the category (KA), then the ANI digits up to I-15,
  then the rest of the DNIS up to ``max_dnis`` digits, then A-3, the category KD and B-1.
"""
import logging

from callbox.signalling.timers import TimerDef, TimerTable

log = logging.getLogger("callbox.r2")

VARIANTS = {
    # name: (C, D, send-category signal, meaning)
    "itu": (0, 1, 5, "ITU-T Q.421/Q.441"),
    "cn": (1, 1, 6, "China No. 1 (as OpenR2's CN)"),
}
# AB bits of each line state, as sent by each role
LINE = {
    "forward": {"idle": (1, 0), "seize": (0, 0), "clear_forward": (1, 0)},
    "backward": {"idle": (1, 0), "seize_ack": (1, 1), "answer": (0, 1), "clear_back": (1, 1), "blocked": (1, 1)},
}
B_RESULTS = {1: "accepted", 7: "accepted, no charge", 2: "busy", 4: "congestion", 5: "unallocated number",
             8: "out of order"}
TIMERS = (
    TimerDef("R2_SEIZE", 8.0, "s", "seizure sent: wait for the seize acknowledgement", 1.0, 60.0),
    TimerDef("R2_CYCLE", 5.0, "s", "one compelled cycle (a signal to answer or to stop)", 0.5, 60.0),
    TimerDef("R2_ANSWER", 60.0, "s", "group B accepted: wait for the answer", 5.0, 600.0),
    TimerDef("R2_CLEAR", 10.0, "s", "clear sent: wait for the other side's idle", 1.0, 120.0),
    TimerDef("R2_ANSWER_DELAY", 0.15, "s", "backward: the answer bits wait this long after the group B "
             "signal stopped, so the forward register hears the stop first (OpenR2: 150 ms)", 0.0, 2.0),
)


def digit_signal(d):
    """'1'..'9' -> 1..9, '0' -> 10."""
    if d not in "0123456789":
        raise ValueError("MFC/R2 digit %r is not 0-9" % d)
    return 10 if d == "0" else int(d)


def signal_digit(n):
    return "0" if n == 10 else str(n)


class R2Channel:
    """One MFC/R2 channel, forward (outgoing calls) or backward (incoming) as calls come.

    Args:
        variant (str): "cn" or "itu".
        clock: time() / call_later(delay, fn, *args).
        actions: set_abcd(nibble), mf_start(signal), mf_stop(), event(name, detail).
        max_dnis (int): DNIS digits the backward register collects (China has no end-of-DNIS).
        max_ani (int): ANI digits it accepts before it stops asking (keep it above the longest ANI).
        ani (bool): the backward register asks for the category and ANI.
        persistence (float): seconds a received AB value must persist to count.
        name (str): for logs.
    """

    def __init__(self, variant, clock, actions, max_dnis=4, max_ani=15, ani=True, persistence=0.0,
                 timers=None, name="r2"):
        if variant not in VARIANTS:
            raise ValueError("MFC/R2 variant %r is not one of %s" % (variant, ", ".join(VARIANTS)))
        for what, v, lo, hi in (("max_dnis", max_dnis, 1, 20), ("max_ani", max_ani, 1, 20)):
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ValueError("MFC/R2 %s %r must be %d..%d" % (what, v, lo, hi))
        self.variant = variant
        self.cd = VARIANTS[variant][:2]
        self.send_category = VARIANTS[variant][2]
        self.clock = clock
        self.actions = actions
        self.max_dnis, self.max_ani, self.want_ani = max_dnis, max_ani, ani
        self.persistence = persistence
        self.timers = TimerTable(TIMERS, timers)
        self.name = name
        self.state = "idle"
        self.role = None
        self.rx_ab = (1, 0)
        self._pending_ab = None
        self._timer = None
        self._tone = 0            # our MF signal being sent
        self._heard = 0           # the far register's signal being heard
        self._reply = None        # backward: the signal we answer with / forward: what we heard
        self._tone_off = None     # backward: when our group B signal stopped
        self._answer_h = None     # backward: the answer bits, held back for R2_ANSWER_DELAY
        self.call = None
        self._tx("idle")

    # -- outputs ----------------------------------------------------------------------
    def _tx(self, line_state):
        a, b = LINE[self.role or "forward"].get(line_state) or LINE["backward"][line_state]
        self.actions.set_abcd((a << 3) | (b << 2) | (self.cd[0] << 1) | self.cd[1])

    def _event(self, name, **detail):
        log.info("R2(%s){%s}: %s %s", self.name, self.state, name, detail or "")
        self.actions.event(name, detail)

    def _start_timer(self, name, fn):
        self._stop_timer()
        self._timer = self.clock.call_later(self.timers.get(name), self._expired, name, fn)

    def _stop_timer(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self, name, fn):
        self._timer = None
        fn(name)

    def _mf(self, signal):
        if self._tone:
            self.actions.mf_stop()
        self._tone = signal
        if signal:
            self.actions.mf_start(signal)

    # -- inputs ------------------------------------------------------------------------
    def rx_abcd(self, nibble):
        """ABCD bits received for this channel (only A and B are used)."""
        if not isinstance(nibble, int) or not 0 <= nibble <= 15:
            self._event("protocol_error", problem="ABCD %r is not 0..15" % (nibble,))
            return
        ab = ((nibble >> 3) & 1, (nibble >> 2) & 1)
        if ab == self.rx_ab and self._pending_ab is None:
            return
        if self.persistence:
            if self._pending_ab is not None:
                self._pending_ab[1].cancel()
            self._pending_ab = (ab, self.clock.call_later(self.persistence, self._ab_settled, ab))
            return
        self._ab_changed(ab)

    def _ab_settled(self, ab):
        self._pending_ab = None
        if ab != self.rx_ab:
            self._ab_changed(ab)

    def _ab_changed(self, ab):
        self.rx_ab = ab
        handler = RULES.get((self.state, "ab" + "%d%d" % ab))
        if handler is None:
            handler = RULES.get((self.state, "ab*"))
        if handler is None:
            self._protocol_error("line bits %d%d in state %s" % (ab[0], ab[1], self.state))
            return
        handler(self)

    def rx_mf(self, signal):
        """An MF signal edge from the far register: 1..15 started, 0 stopped."""
        if not isinstance(signal, int) or not 0 <= signal <= 15:
            self._protocol_error("MF signal %r is not 0..15" % (signal,))
            return
        if signal == self._heard:
            return
        if signal and self._heard:                 # a change without a stop: take it as stop + start
            self._heard = 0
            self._mf_edge(0)
        self._heard = signal
        self._mf_edge(signal)

    def _mf_edge(self, signal):
        key = (self.state, "mf_on" if signal else "mf_off")
        handler = RULES.get(key)
        if handler is None:
            self._protocol_error("MF signal %s in state %s" % (signal or "stop", self.state))
            return
        handler(self, signal)

    # -- requests from the owner -------------------------------------------------------
    def place(self, dnis, ani="", category=1):
        """Seize the line and send a call: DNIS and ANI digits, calling category (group II)."""
        if self.state != "idle":
            raise ValueError("MFC/R2 %s: channel is %s, not idle" % (self.name, self.state))
        for d in dnis + ani:
            digit_signal(d)
        if not dnis:
            raise ValueError("MFC/R2: the DNIS is empty")
        if not 1 <= category <= 15:
            raise ValueError("MFC/R2: category %r is not 1..15" % (category,))
        self.role = "forward"
        self.call = {"dnis": dnis, "ani": ani, "category": category, "phase": "dnis", "sent_dnis": 0,
                     "sent_ani": 0, "last": None}
        self.state = "seized"
        self._tx("seize")
        self._start_timer("R2_SEIZE", self._timeout)
        self._event("seized", dnis=dnis, ani=ani)

    def answer(self):
        """Backward: the called party answered."""
        if self.state != "accepted":
            raise ValueError("MFC/R2 %s: nothing to answer in state %s" % (self.name, self.state))
        self.state = "answered"
        wait = 0.0
        if self._tone_off is not None:
            wait = self._tone_off + self.timers.get("R2_ANSWER_DELAY") - self.clock.time()
        if wait > 0:
            self._answer_h = self.clock.call_later(wait, self._send_answer)
        else:
            self._send_answer()

    def _send_answer(self):
        self._answer_h = None
        if self.state == "answered":
            self._tx("answer")
            self._event("answered")

    def hangup(self):
        """Clear the call from this side (clear-forward or clear-back)."""
        if self.state in ("idle", "blocked", "clearing"):
            return
        self._mf(0)
        if self._answer_h is not None:
            self._answer_h.cancel()
            self._answer_h = None
        if self.role == "forward":
            self.state = "clearing"
            self._tx("clear_forward")
            self._start_timer("R2_CLEAR", self._timeout)
        else:
            self.state = "clear_back"
            self._tx("clear_back")
            self._start_timer("R2_CLEAR", self._timeout)

    def reset(self, why):
        """Drop the call at once (the line failed, or the span restarts): send idle, report
        ``idle`` with ``why``. An idle or blocked channel stays as it is."""
        if self.state in ("idle", "blocked"):
            return
        if self._pending_ab is not None:
            self._pending_ab[1].cancel()
            self._pending_ab = None
        self._tx("idle")
        self._idle(why)

    def block(self):
        if self.state != "idle":
            raise ValueError("MFC/R2 %s: block only an idle channel (it is %s)" % (self.name, self.state))
        self.role = "backward"
        self.state = "blocked"
        self._tx("blocked")

    def unblock(self):
        if self.state == "blocked":
            self.state = "idle"
            self._tx("idle")
            self.role = None

    # -- forward side ------------------------------------------------------------------
    def _f_seize_ack(self):
        self._stop_timer()
        self.state = "f_register"
        self._f_send(digit_signal(self.call["dnis"][0]), "dnis", 1)

    def _f_send(self, signal, what, count=0):
        c = self.call
        c["last"] = signal
        if what == "dnis":
            c["sent_dnis"] = count
        elif what == "ani":
            c["sent_ani"] = count
        self._mf(signal)
        self._start_timer("R2_CYCLE", self._timeout)

    def _f_heard(self, signal):                       # the backward answers: stop our signal
        self._reply = signal
        self._mf(0)

    def _f_reply_over(self, _signal):                 # the backward stopped: act on what it said
        c, a = self.call, self._reply
        self._stop_timer()
        if self.state == "f_group_b":
            result = B_RESULTS.get(a, "unknown group B signal %d" % a)
            if a in (1, 7):
                self.state = "f_wait_answer"
                self._start_timer("R2_ANSWER", self._timeout)
                self._event("accepted", signal=a, result=result)
            else:
                self._event("refused", signal=a, result=result)
                self.hangup()
            return
        if a == 1:                                     # next digit (DNIS, or ANI after the category)
            if c["phase"] == "ani":
                if c["sent_ani"] < len(c["ani"]):
                    self._f_send(digit_signal(c["ani"][c["sent_ani"]]), "ani", c["sent_ani"] + 1)
                else:
                    c["phase"] = "dnis"
                    self._f_send(15, "end_ani")
            elif c["sent_dnis"] < len(c["dnis"]):
                self._f_send(digit_signal(c["dnis"][c["sent_dnis"]]), "dnis", c["sent_dnis"] + 1)
            else:
                self._start_timer("R2_CYCLE", self._timeout)   # no more digits: the backward decides
        elif a in (2, 7, 8) and c["phase"] == "dnis":
            back = {2: 1, 7: 2, 8: 3}[a]
            i = max(0, c["sent_dnis"] - back - 1)
            self._f_send(digit_signal(c["dnis"][i]), "dnis", i + 1)
        elif a == self.send_category:
            c["phase"] = "ani"
            self._f_send(c["category"], "category")
        elif a == 3:
            self.state = "f_group_b"
            self._f_send(c["category"], "category_kd")
        elif a == 4:
            self._event("refused", signal=4, result="congestion")
            self.hangup()
        else:
            self._protocol_error("group A signal %d" % a)

    def _f_early_answer(self):
        """Answer bits while the group B signal is still heard (a backward that does not wait
        for our stop): an accepting signal counts as heard and over, anything else is an error."""
        if self._reply in (1, 7):
            self._mf(0)
            self._event("accepted", signal=self._reply, result=B_RESULTS[self._reply])
            self._f_answered()
        else:
            self._protocol_error("answer in group B before an accepting signal")

    def _f_answered(self):
        self._stop_timer()
        self.state = "answered"
        self._event("answered")

    # -- backward side -----------------------------------------------------------------
    def _b_seized(self):
        self.role = "backward"
        self.state = "b_register"
        self.call = {"dnis": "", "ani": "", "category": None, "phase": "dnis", "asked_category": False}
        self._tx("seize_ack")
        self._start_timer("R2_CYCLE", self._timeout)
        self._event("seized")

    def _b_heard(self, signal):
        c = self.call
        self._stop_timer()
        if self.state == "b_group_b":
            c["category_kd"] = signal
            reply = 1
            self._reply = ("b", reply)
        elif c["phase"] == "category":
            c["category"] = signal
            c["phase"] = "ani"
            reply = 1
        elif c["phase"] == "ani":
            if signal == 15 or len(c["ani"]) >= self.max_ani:
                c["phase"] = "dnis"
                reply = 1 if len(c["dnis"]) < self.max_dnis else 3
            else:
                c["ani"] += signal_digit(signal)
                reply = 1
        else:                                         # DNIS
            if signal > 10:
                self._protocol_error("group I signal %d in the DNIS" % signal)
                return
            c["dnis"] += signal_digit(signal)
            if self.want_ani and not c["asked_category"]:
                c["asked_category"] = True
                c["phase"] = "category"
                reply = self.send_category
            elif len(c["dnis"]) >= self.max_dnis:
                reply = 3
            else:
                reply = 1
        self._reply = reply
        self._mf(reply)

    def _b_over(self, _signal):                       # the forward stopped: stop our answer
        reply = self._reply
        self._mf(0)
        if self.state == "b_group_b":
            self.state = "accepted"
            self._tone_off = self.clock.time()
            self._event("incoming", dnis=self.call["dnis"], ani=self.call["ani"],
                        category=self.call["category"], category_kd=self.call.get("category_kd"))
            return
        if reply == 3:
            self.state = "b_group_b"
        self._start_timer("R2_CYCLE", self._timeout)

    # -- clearing ----------------------------------------------------------------------
    def _far_clear_forward(self):                     # backward: the forward side cleared
        self._stop_timer()
        self._mf(0)
        was = self.state
        self._tx("idle")                              # release guard: idle only after clear-forward
        self._idle("far clear-forward in %s" % was)

    def _far_clear_back(self):                        # forward: the backward side cleared (or blocked)
        self._event("clear_back")
        self.hangup()

    def _far_idle(self):                              # forward: the backward returned to idle
        self._stop_timer()
        self._tx("idle")
        self._idle("cleared")

    def _idle(self, why):
        self._stop_timer()
        if self._answer_h is not None:
            self._answer_h.cancel()
            self._answer_h = None
        self._tone_off = None
        self._mf(0)
        self.state = "idle"
        self.role = None
        self._heard = 0
        self._event("idle", why=why)

    def _timeout(self, name):
        self._event("timeout", timer=name, state=self.state)
        if self.state in ("clearing", "clear_back"):
            self._tx("idle")
            self._idle("%s expired" % name)
            return
        self.hangup()

    def _protocol_error(self, problem):
        self._event("protocol_error", problem=problem, state=self.state)
        if self.state not in ("idle", "blocked"):
            self.hangup()

    def _ignore(self, *args):
        pass


# (state, event) -> handler; events: "abXY" received line bits, "ab*" any, "mf_on"/"mf_off"
RULES = {
    ("idle", "ab00"): R2Channel._b_seized,
    ("idle", "ab10"): R2Channel._ignore,
    ("idle", "ab11"): R2Channel._ignore,              # far end blocked us
    ("idle", "ab01"): R2Channel._ignore,
    ("blocked", "ab*"): R2Channel._ignore,
    ("seized", "ab11"): R2Channel._f_seize_ack,
    ("f_register", "mf_on"): R2Channel._f_heard,
    ("f_register", "mf_off"): R2Channel._f_reply_over,
    ("f_register", "ab11"): R2Channel._far_clear_back,
    ("f_group_b", "mf_on"): R2Channel._f_heard,
    ("f_group_b", "mf_off"): R2Channel._f_reply_over,
    ("f_group_b", "ab11"): R2Channel._ignore,
    ("f_group_b", "ab01"): R2Channel._f_early_answer,
    ("f_wait_answer", "ab01"): R2Channel._f_answered,
    ("f_wait_answer", "ab11"): R2Channel._ignore,
    ("answered", "ab11"): R2Channel._far_clear_back,   # forward side: clear-back
    ("answered", "ab10"): R2Channel._far_clear_forward,  # backward side: clear-forward
    ("clearing", "ab10"): R2Channel._far_idle,
    ("clearing", "ab11"): R2Channel._ignore,
    ("clearing", "ab01"): R2Channel._ignore,
    ("clearing", "mf_on"): R2Channel._ignore,
    ("clearing", "mf_off"): R2Channel._ignore,
    ("b_register", "mf_on"): R2Channel._b_heard,
    ("b_register", "mf_off"): R2Channel._b_over,
    ("b_register", "ab10"): R2Channel._far_clear_forward,
    ("b_group_b", "mf_on"): R2Channel._b_heard,
    ("b_group_b", "mf_off"): R2Channel._b_over,
    ("b_group_b", "ab10"): R2Channel._far_clear_forward,
    ("accepted", "ab10"): R2Channel._far_clear_forward,
    ("clear_back", "ab10"): R2Channel._far_clear_forward,
}
