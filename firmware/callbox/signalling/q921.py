"""Q.921 LAPD data link for a PRI D-channel (SAPI 0, fixed TEI 0, modulo 128).

Design notes
------------
Frames. ``send_frame`` gets address + control + information; layer 1 (the
HDLC bank of the media engine) adds flags, bit stuffing and the FCS, and only
hands up frames whose FCS was good. The address is ``SAPI<<2 | C/R<<1 | 0``,
``TEI<<1 | 1``; the network side sends commands with C/R=1 and the user side
with C/R=0, responses the inverse (Q.921 3.3.2, Table 1). Only SAPI 0 / TEI 0
is served: PRI is point-to-point with no TEI assignment procedure.

States use the Q.921 names (clause 5 / SDL annex B): TEI_ASSIGNED (4),
AWAITING_ESTABLISHMENT (5), AWAITING_RELEASE (6), MULTIPLE_FRAME_ESTABLISHED
(7), TIMER_RECOVERY (8). ``TABLE`` below is the whole FSM: what each state
does with each frame, primitive and timer. An event not in it is logged and
ignored (Q.921 ignores unexpected frames; it never answers with FRMR, 5.8.4).

Buffers. I frames from layer 3 wait in ``_txq`` (bounded by ``MAX_QUEUE``).
``_window`` holds the information fields from V(A) on: the first
``(V(S)-V(A)) mod 128`` of them have been sent and wait for acknowledgement,
the rest wait for (re)transmission. At most k are in the window. Going back
(REJ, or the answer to an enquiry) is just ``V(S) = N(R)``. An acknowledged
N(R) drops frames from the front. On a re-establishment or release both are
discarded (layer 3 recovers: Q.931 STATUS, T309, T308...); frames queued while
the link was down are sent once it comes up.

Timers (``TIMER_DEFS``, Q.921 5.9). T200 runs while I frames or an enquiry are
unacknowledged; its expiry polls with RR P=1 (TIMER_RECOVERY), N200 polls
without an answer re-establish the link (SABME). T203 runs when nothing is
outstanding; its expiry polls the peer too. Establishment sends SABME up to
1 + N200 times, T200 apart, then reports "failed" and tries again after the
local pause X200, forever: a box must recover when the far end comes back.

Callbacks (``deliver``, ``on_state``) are queued and run when the current
entry point (receive_frame, send, start, stop, a timer) has finished its state
change, so layer 3 can call ``send()`` from inside them. An acknowledgement
owed to the peer goes out as the N(R) of the next I frame if layer 3 answered
at once, otherwise as an RR response at the end of the entry point.
"""
import logging
from collections import deque, namedtuple

from callbox.errors import SignallingError
from callbox.signalling.fsm import Deferred, FsmTable, Row
from callbox.signalling.timers import Timer, TimerDef, TimerTable

MOD = 128                 # Q.921 3.5.2.3: extended (modulo 128) operation
SAPI_CALL_CONTROL = 0     # Q.921 Table 2: call control procedures (Q.931)
TEI_PRI = 0               # fixed TEI on a point-to-point PRI
MAX_QUEUE = 512           # I frames waiting for the window; more are dropped and counted

# Q.921 5.9: system parameters (N201 and k are counts, kept in the same table so one config edits them all).
TIMER_DEFS = (
    TimerDef("T200", 1.0, "s", "retransmission / acknowledgement wait", 0.1, 10.0),
    TimerDef("T203", 10.0, "s", "idle link supervision (poll when nothing was exchanged)", 1.0, 300.0),
    TimerDef("N200", 3, "n", "retransmissions of SABME/DISC/enquiry before giving up", 1, 16),
    TimerDef("N201", 260, "n", "maximum information field of an I frame (octets)", 1, 260),
    TimerDef("k", 7, "n", "maximum outstanding I frames (window); 7 for SAPI 0 on PRI", 1, 127),
    TimerDef("X200", 10.0, "s", "local: pause after a failed establishment before trying again", 1.0, 600.0),
)

TEI_ASSIGNED = "TEI_ASSIGNED"
AWAITING_ESTABLISHMENT = "AWAITING_ESTABLISHMENT"
AWAITING_RELEASE = "AWAITING_RELEASE"
MULTIPLE_FRAME_ESTABLISHED = "MULTIPLE_FRAME_ESTABLISHED"
TIMER_RECOVERY = "TIMER_RECOVERY"
STATES = (TEI_ASSIGNED, AWAITING_ESTABLISHMENT, AWAITING_RELEASE, MULTIPLE_FRAME_ESTABLISHED, TIMER_RECOVERY)

COUNTERS = {
    "rx:frames": "Frames received",
    "rx:invalid": "Frames discarded as invalid (length, address, C/R)",
    "rx:not_for_us": "Frames for another SAPI or TEI",
    "rx:frame_rejects": "Frame reject conditions (undefined control, length, N(R)) and FRMR received",
    "rx:ignored": "Frames not permitted in the state they arrived in",
    "rx:i_frames": "I frames received in sequence and passed up",
    "rx:out_of_sequence": "I frames received out of sequence (discarded)",
    "tx:frames": "Frames sent",
    "tx:i_frames": "I frames sent, retransmissions included",
    "tx:retransmissions": "I frames sent again",
    "tx:rej": "REJ frames sent",
    "tx:discarded": "I frames discarded by a re-establishment or release",
    "tx:dropped": "I frames refused because the queue was full",
    "t200:expiries": "T200 expiries",
    "t203:expiries": "T203 expiries",
    "link:established": "Data link establishments (either side)",
    "link:failures": "Establishments given up after N200 retransmissions",
    "fsm:bad_transitions": "Handler asked for a transition not in the table (a bug)",
    "app:errors": "Exceptions raised by the deliver/on_state callbacks (logged)",
}

# Control field (Q.921 Table 5, modulo 128). U frames: P/F is 0x10 of the single octet.
_U_KINDS = {0x6F: "SABME", 0x63: "UA", 0x0F: "DM", 0x43: "DISC", 0x87: "FRMR", 0x03: "UI", 0xAF: "XID"}
_U_CODES = {kind: code for code, kind in _U_KINDS.items()}
_S_KINDS = {0x01: "RR", 0x05: "RNR", 0x09: "REJ"}
_S_CODES = {kind: code for code, kind in _S_KINDS.items()}
_U_COMMAND_ONLY = ("SABME", "DISC", "UI")
_U_RESPONSE_ONLY = ("UA", "DM", "FRMR")
_U_NO_INFO = ("SABME", "UA", "DM", "DISC")
_PF_U = 0x10

Frame = namedtuple("Frame", "kind cmd pf ns nr info why")
Frame.__doc__ = """A received frame, parsed.

Fields:
    kind (str): "I", "RR", "RNR", "REJ", "SABME", "UA", "DM", "DISC", "FRMR", "UI", "XID",
        or "BAD" for a frame reject condition (Q.921 5.8.4).
    cmd (bool): it is a command (from the C/R bit and our side).
    pf (bool): the P (command) or F (response) bit.
    ns, nr (int or None): N(S), N(R).
    info (bytes): information field.
    why (str or None): for "BAD", what is wrong.
"""


def parse_frame(data, peer_cmd_cr, n201=260):
    """Parse one frame (address + control + info, no FCS).

    Args:
        data (bytes): the frame.
        peer_cmd_cr (int): the C/R value the peer puts on commands.
        n201 (int): maximum I frame information length.

    Returns:
        (Frame, None) for a frame to process (kind "BAD" for a frame reject condition), or
        (None, (counter, reason)) for a frame to discard (invalid, or not for SAPI 0 / TEI 0).
    """
    if len(data) < 3:
        return None, ("rx:invalid", "shorter than 3 octets")
    a1, a2, c1 = data[0], data[1], data[2]
    if a1 & 0x01:
        return None, ("rx:invalid", "address octet 1 has EA=1 (one-octet address)")
    if not a2 & 0x01:
        return None, ("rx:invalid", "address octet 2 has EA=0 (address longer than 2 octets)")
    sapi, cr, tei = a1 >> 2, (a1 >> 1) & 1, a2 >> 1
    if sapi != SAPI_CALL_CONTROL or tei != TEI_PRI:
        return None, ("rx:not_for_us", "SAPI %d TEI %d is not served" % (sapi, tei))
    cmd = cr == peer_cmd_cr
    if not c1 & 0x01:                                     # I format
        if len(data) < 4:
            return Frame("BAD", cmd, False, None, None, b"", "I frame with a one-octet control field"), None
        c2 = data[3]
        info = bytes(data[4:])
        if len(info) > n201:
            return Frame("BAD", cmd, False, None, None, b"", "I frame of %d octets exceeds N201=%d"
                         % (len(info), n201)), None
        if not cmd:
            return None, ("rx:invalid", "I frame with the C/R bit of a response")
        return Frame("I", cmd, bool(c2 & 1), c1 >> 1, c2 >> 1, info, None), None
    if c1 & 0x03 == 0x01:                                 # S format
        kind = _S_KINDS.get(c1)
        if kind is None:
            return Frame("BAD", cmd, False, None, None, b"", "undefined S control field 0x%02X" % c1), None
        if len(data) != 4:
            return Frame("BAD", cmd, False, None, None, b"", "%s frame of %d octets (must be 4)"
                         % (kind, len(data))), None
        c2 = data[3]
        return Frame(kind, cmd, bool(c2 & 1), None, c2 >> 1, b"", None), None
    kind = _U_KINDS.get(c1 & ~_PF_U)                      # U format
    if kind is None:
        return Frame("BAD", cmd, False, None, None, b"", "undefined U control field 0x%02X" % c1), None
    if kind in _U_NO_INFO and len(data) != 3:
        return Frame("BAD", cmd, False, None, None, b"", "%s frame with %d information octets"
                     % (kind, len(data) - 3)), None
    if (kind in _U_COMMAND_ONLY and not cmd) or (kind in _U_RESPONSE_ONLY and cmd):
        return None, ("rx:invalid", "%s with the C/R bit of a %s" % (kind, "response" if not cmd else "command"))
    return Frame(kind, cmd, bool(c1 & _PF_U), None, None, bytes(data[3:]), None), None


def describe(fr):
    """Returns:
        str: a frame as the log shows it, e.g. "I N(S)=3 N(R)=5 P=0 (12 octets)".
    """
    bit = "P" if fr.cmd else "F"
    if fr.kind == "I":
        return "I N(S)=%d N(R)=%d P=%d (%d octets)" % (fr.ns, fr.nr, fr.pf, len(fr.info))
    if fr.kind in _S_CODES:
        return "%s N(R)=%d %s=%d" % (fr.kind, fr.nr, bit, fr.pf)
    if fr.kind == "BAD":
        return "bad frame (%s)" % fr.why
    return "%s %s=%d" % (fr.kind, bit, fr.pf)


_I_AND_S = ("I", "RR", "RNR", "REJ")
_EST = (MULTIPLE_FRAME_ESTABLISHED, TIMER_RECOVERY)

# The LAPD state machine: (states, event, handler, next states). Events are frame kinds, the DL
# primitives from layer 3 (DL_ESTABLISH_REQ = start, DL_RELEASE_REQ = stop, DL_DATA_REQ = send)
# and timer expiries.
TABLE = FsmTable("Q921", STATES, [
    # -- 4: link down (stopped, or pausing after a failure) --
    Row((TEI_ASSIGNED,), ("DL_ESTABLISH_REQ", "X200"), "_h_establish", (AWAITING_ESTABLISHMENT,)),
    Row((TEI_ASSIGNED,), "DL_RELEASE_REQ", "_h_disable", ()),
    Row((TEI_ASSIGNED, AWAITING_ESTABLISHMENT), "DL_DATA_REQ", "_h_queue", ()),
    Row((TEI_ASSIGNED,), "SABME", "_h_sabme_idle", (MULTIPLE_FRAME_ESTABLISHED,)),
    Row((TEI_ASSIGNED, AWAITING_ESTABLISHMENT), "DISC", "_h_answer_dm", ()),
    Row((TEI_ASSIGNED,), _I_AND_S, "_h_poll_idle", ()),
    # -- 5: SABME sent --
    Row((AWAITING_ESTABLISHMENT,), "SABME", "_h_answer_ua", ()),     # collision: answer, wait for our UA
    Row((AWAITING_ESTABLISHMENT,), "UA", "_h_ua_establishing", (MULTIPLE_FRAME_ESTABLISHED,)),
    Row((AWAITING_ESTABLISHMENT,), "DM", "_h_dm_establishing", (TEI_ASSIGNED,)),
    Row((AWAITING_ESTABLISHMENT,), "T200", "_h_t200_establishing", (TEI_ASSIGNED,)),
    Row((AWAITING_ESTABLISHMENT,), "DL_RELEASE_REQ", "_h_abandon", (TEI_ASSIGNED,)),
    # -- 6: DISC sent --
    Row((AWAITING_RELEASE,), "SABME", "_h_answer_dm", ()),
    Row((AWAITING_RELEASE,), "DISC", "_h_answer_ua", ()),
    Row((AWAITING_RELEASE,), ("UA", "DM"), "_h_released", (TEI_ASSIGNED,)),
    Row((AWAITING_RELEASE,), "T200", "_h_t200_releasing", (TEI_ASSIGNED,)),
    Row((AWAITING_RELEASE,), "DL_DATA_REQ", "_h_discard", ()),
    Row((AWAITING_RELEASE,), "DL_ESTABLISH_REQ", "_h_establish", (AWAITING_ESTABLISHMENT,)),
    # -- 7 and 8: established, and established but waiting for an answer to a poll --
    Row(_EST, "DL_DATA_REQ", "_h_queue", ()),
    Row(_EST, "DL_RELEASE_REQ", "_h_release", (AWAITING_RELEASE,)),
    Row(_EST, "SABME", "_h_sabme_established", (MULTIPLE_FRAME_ESTABLISHED,)),
    Row(_EST, "DISC", "_h_disc_established", (TEI_ASSIGNED,)),
    Row(_EST, "UA", "_h_unsolicited", ()),
    Row(_EST, "DM", "_h_dm_established", (AWAITING_ESTABLISHMENT,)),
    Row(_EST, ("FRMR", "BAD"), "_h_frame_reject", (AWAITING_ESTABLISHMENT,)),
    Row(_EST, "I", "_h_i", (AWAITING_ESTABLISHMENT,)),
    Row((MULTIPLE_FRAME_ESTABLISHED,), ("RR", "RNR", "REJ"), "_h_s_established", (AWAITING_ESTABLISHMENT,)),
    Row((TIMER_RECOVERY,), ("RR", "RNR", "REJ"), "_h_s_recovery",
        (MULTIPLE_FRAME_ESTABLISHED, AWAITING_ESTABLISHMENT)),
    Row((MULTIPLE_FRAME_ESTABLISHED,), "T200", "_h_t200_established", (TIMER_RECOVERY,)),
    Row((MULTIPLE_FRAME_ESTABLISHED,), "T203", "_h_t203", (TIMER_RECOVERY,)),
    Row((TIMER_RECOVERY,), "T200", "_h_t200_recovery", (AWAITING_ESTABLISHMENT,)),
])


class Lapd(Deferred):
    """One LAPD data link (SAPI 0, TEI 0) on a PRI D-channel.

    Args:
        name (str): instance name for logs ("span0").
        side (str): "user" or "network" (sets the C/R bits).
        send_frame (callable): send_frame(bytes) towards layer 1 (address + control + info, no FCS).
        deliver (callable): deliver(bytes) with each layer 3 message received in sequence.
        on_state (callable): on_state(str) with "established", "released" or "failed".
        clock: call_later()/time() (the asyncio loop, or ManualClock in tests).
        timers (TimerTable or None): Q.921 parameters (``TIMER_DEFS``); a default table if None.
        log (callable or None): log(str) for every event and transition; default logs at DEBUG on
            "callbox.q921".

    Raises:
        ValueError: side is not "user" or "network"; timers lacks a Q.921 parameter.
    """

    def __init__(self, name, side, send_frame, deliver, on_state, clock, timers=None, log=None):
        if side not in ("user", "network"):
            raise ValueError("Lapd %s: side %r is not one of: user, network" % (name, side))
        self.name = name
        self.side = side
        self.send_frame = send_frame
        self.deliver = deliver
        self.on_state = on_state
        self.clock = clock
        self.timers = timers if timers is not None else TimerTable(TIMER_DEFS)
        for d in TIMER_DEFS:
            self.timers.definition(d.name)
        self._log = log if log is not None else logging.getLogger("callbox.q921").debug
        self._cmd_cr = 1 if side == "network" else 0     # C/R on the commands we send
        self._t200 = Timer(clock, self.timers, "T200", lambda: self._timer_event("T200"))
        self._t203 = Timer(clock, self.timers, "T203", lambda: self._timer_event("T203"))
        self._x200 = Timer(clock, self.timers, "X200", lambda: self._timer_event("X200"))
        self._state = TEI_ASSIGNED
        self._enabled = False
        self.vs = self.va = self.vr = 0
        self.rc = 0
        self._window = []
        self._txq = deque()
        self._reject = False
        self._peer_busy = False
        self._ack_pending = False
        self._reported = None
        self._notes = None
        self._init_deferred()
        self._counters = dict.fromkeys(COUNTERS, 0)

    # -- public API ---------------------------------------------------------------------------
    @property
    def state(self):
        """str: the Q.921 state name (TEI_ASSIGNED ... TIMER_RECOVERY)."""
        return self._state

    @property
    def established(self):
        """bool: I frames can flow (MULTIPLE_FRAME_ESTABLISHED or TIMER_RECOVERY)."""
        return self._state in _EST

    @property
    def counters(self):
        """dict: counter name -> value (names and descriptions in ``COUNTERS``)."""
        return dict(self._counters)

    def start(self):
        """Bring the link up and keep it up: SABME (P=1) now, retried for ever after failures."""
        with self._entry():
            self._enabled = True
            self._dispatch("DL_ESTABLISH_REQ", "DL-ESTABLISH-REQ")

    def stop(self):
        """Take the link down (DISC if established) and stop retrying."""
        with self._entry():
            self._enabled = False
            self._x200.stop()
            self._dispatch("DL_RELEASE_REQ", "DL-RELEASE-REQ")

    def send(self, l3):
        """Queue a layer 3 message for an I frame; it goes out when the link is up and the window open.

        Args:
            l3 (bytes): the message (1..N201 octets).

        Raises:
            SignallingError: not bytes, empty, or longer than N201.
        """
        if not isinstance(l3, (bytes, bytearray, memoryview)):
            raise SignallingError("Sending on Q921(%s): expected bytes, got %s" % (self.name, type(l3).__name__))
        l3 = bytes(l3)
        n201 = self.timers.get("N201")
        if not 0 < len(l3) <= n201:
            raise SignallingError("Sending on Q921(%s): message of %d octets, must be 1..N201=%d"
                                  % (self.name, len(l3), n201))
        with self._entry():
            self._dispatch("DL_DATA_REQ", "DL-DATA-REQ (%d octets)" % len(l3), l3)

    def receive_frame(self, frame):
        """Process one frame from layer 1. Never raises: bad frames are logged, counted and dropped.

        Args:
            frame (bytes): address + control + info (FCS already checked and removed).
        """
        with self._entry():
            self._counters["rx:frames"] += 1
            if not isinstance(frame, (bytes, bytearray, memoryview)):
                self._counters["rx:invalid"] += 1
                self._line(self._state, "rx %s object, not a frame: discarded" % type(frame).__name__)
                return
            data = bytes(frame)
            fr, problem = parse_frame(data, 1 - self._cmd_cr, self.timers.get("N201"))
            if fr is None:
                self._counters[problem[0]] += 1
                self._line(self._state, "rx %s: %s, discarded" % (data[:8].hex(" "), problem[1]))
                return
            self._dispatch(fr.kind, "rx " + describe(fr), fr)

    def __str__(self):
        return "Lapd(%s side=%s state=%s V(S)=%d V(A)=%d V(R)=%d queued=%d %s)" % (
            self.name, self.side, self._state, self.vs, self.va, self.vr, len(self._txq), self.timers)

    # -- engine: entry points, dispatch, logging ------------------------------------------------
    def _after_flush(self):
        if self._ack_pending and self._state in _EST:
            self._tx_s("RR", False, False)

    def _safe_call(self, fn, arg, what):
        try:
            fn(arg)
        except Exception:   # the layer above failed: log it, keep the link running
            self._counters["app:errors"] += 1
            logging.getLogger("callbox.q921").exception("Q921(%s): %s callback failed", self.name, what)

    def _timer_event(self, name):
        with self._entry():
            if name in ("T200", "T203"):
                self._counters[name.lower() + ":expiries"] += 1
            self._dispatch(name, "%s expired (RC=%d)" % (name, self.rc) if name == "T200" else "%s expired" % name)

    def _dispatch(self, event, desc, *args):
        if self._notes is not None:
            # Called back from inside a handler (a synchronous layer 1 looped to us): run it after.
            self._post(self._dispatch, event, desc, *args)
            return
        old = self._state
        row = TABLE.lookup(old, event)
        if row is None:
            if event in _U_KINDS.values() or event in _S_KINDS.values() or event in ("I", "BAD"):
                self._counters["rx:ignored"] += 1
            self._line(old, "%s: not permitted, ignored" % desc)
            return
        self._notes = []
        try:
            new = getattr(self, row.handler)(*args)
            if new is not None and new != old and not TABLE.allows(row, old, new):
                self._counters["fsm:bad_transitions"] += 1
                self._notes.append("BUG: %s asked for %s, not in the table; staying" % (row.handler, new))
                new = None
            if new is not None and new != old:
                self._enter_state(old, new)
            if self._state == MULTIPLE_FRAME_ESTABLISHED:
                self._kick()
        finally:
            notes, self._notes = self._notes, None
        self._line(old, desc if self._state == old else "%s -> %s" % (desc, self._state))
        for note in notes:
            self._line(self._state, note)

    def _enter_state(self, old, new):
        self._state = new
        if old == TEI_ASSIGNED:
            self._x200.stop()
        if new == TEI_ASSIGNED:
            self._t200.stop()
            self._t203.stop()
            if self._enabled:
                self._x200.start()
        elif new != MULTIPLE_FRAME_ESTABLISHED:
            self._t203.stop()

    def _line(self, state, text):
        self._log("Q921(%s){%s}: %s" % (self.name, state, text))

    def _note(self, text):
        if self._notes is not None:
            self._notes.append(text)
        else:
            self._line(self._state, text)

    def _report(self, what):
        if what == "established" or what != self._reported:
            self._reported = what
            self._post(self._safe_call, self.on_state, what, "on_state")

    # -- transmission --------------------------------------------------------------------------
    def _tx(self, octets, text):
        self._counters["tx:frames"] += 1
        self._note("tx " + text)
        self.send_frame(bytes(octets))

    def _address(self, cmd):
        """The two address octets (Q.921 3.3): SAPI, C/R (commands from the network carry 1), TEI."""
        cr = self._cmd_cr if cmd else 1 - self._cmd_cr
        return bytes((SAPI_CALL_CONTROL << 2 | cr << 1, TEI_PRI << 1 | 1))

    def _tx_u(self, kind, cmd, pf):
        self._tx(self._address(cmd) + bytes((_U_CODES[kind] | (_PF_U if pf else 0),)),
                 "%s %s=%d" % (kind, "P" if cmd else "F", pf))

    def _tx_s(self, kind, cmd, pf):
        self._ack_pending = False
        self._tx(self._address(cmd) + bytes((_S_CODES[kind], self.vr << 1 | int(pf))),
                 "%s N(R)=%d %s=%d" % (kind, self.vr, "P" if cmd else "F", pf))

    def _tx_i(self, payload):
        self._ack_pending = False
        self._counters["tx:i_frames"] += 1
        self._tx(self._address(True) + bytes((self.vs << 1, self.vr << 1)) + payload,
                 "I N(S)=%d N(R)=%d P=0 (%d octets)" % (self.vs, self.vr, len(payload)))
        self.vs = (self.vs + 1) % MOD

    def _kick(self):
        """Send what the window allows: pending retransmissions first, then new frames."""
        if self._peer_busy:
            return
        k = self.timers.get("k")
        while True:
            sent = (self.vs - self.va) % MOD
            if sent < len(self._window):
                self._counters["tx:retransmissions"] += 1
            elif len(self._window) < k and self._txq:
                self._window.append(self._txq.popleft())
            else:
                return
            self._tx_i(self._window[sent])
            if not self._t200.running:
                self._t203.stop()
                self._t200.start()

    # -- helpers shared by handlers --------------------------------------------------------------
    def _reset_link(self):
        self.vs = self.va = self.vr = 0
        self.rc = 0
        self._reject = False
        self._peer_busy = False
        self._ack_pending = False

    def _discard_queues(self):
        n = len(self._window) + len(self._txq)
        if n:
            self._counters["tx:discarded"] += n
            self._note("%d queued I frames discarded" % n)
        self._window = []
        self._txq.clear()

    def _establish(self):
        """Q.921 "establish data link": SABME P=1, T200, RC=0."""
        self._reset_link()
        self._t203.stop()
        self._tx_u("SABME", True, True)
        self._t200.start()
        return AWAITING_ESTABLISHMENT

    def _now_established(self):
        self._t200.stop()
        self._t203.start()
        self._counters["link:established"] += 1
        self._report("established")
        return MULTIPLE_FRAME_ESTABLISHED

    def _mdl_error(self, code, text):
        self._note("MDL-ERROR(%s): %s" % (code, text))

    def _reestablish(self, code, text):
        self._mdl_error(code, text)
        self._discard_queues()
        return self._establish()

    def _nr_valid(self, nr):
        return (nr - self.va) % MOD <= (self.vs - self.va) % MOD

    def _ack_to(self, nr):
        """V(A) = N(R): drop acknowledged frames. Returns True if anything was acknowledged."""
        n = (nr - self.va) % MOD
        if n:
            del self._window[:n]
            self.va = nr
        return bool(n)

    def _ack_established(self, nr):
        """N(R) processing in MULTIPLE_FRAME_ESTABLISHED: acknowledgements drive T200/T203."""
        moved = self._ack_to(nr)
        if self._peer_busy:
            self._t203.stop()
            if not self._t200.running:
                self._t200.start()
        elif nr == self.vs:
            self._t200.stop()
            self._t203.start()
        elif moved:
            self._t200.start()

    # -- handlers (named in TABLE) ---------------------------------------------------------------
    def _h_establish(self, *_):
        self._t200.stop()
        return self._establish()

    def _h_disable(self):
        return None

    def _h_queue(self, l3):
        if len(self._txq) >= MAX_QUEUE:
            self._counters["tx:dropped"] += 1
            self._note("queue full (%d frames): message dropped" % MAX_QUEUE)
        else:
            self._txq.append(l3)

    def _h_discard(self, l3):
        self._counters["tx:discarded"] += 1
        self._note("link is being released: message discarded")

    def _h_sabme_idle(self, fr):
        if not self._enabled:
            self._tx_u("DM", False, fr.pf)
            return None
        self._tx_u("UA", False, fr.pf)
        self._reset_link()
        return self._now_established()

    def _h_answer_dm(self, fr):
        self._tx_u("DM", False, fr.pf)

    def _h_answer_ua(self, fr):
        self._tx_u("UA", False, fr.pf)

    def _h_poll_idle(self, fr):
        if fr.cmd and fr.pf:                 # an established peer polls a link we do not have
            self._tx_u("DM", False, True)

    def _h_ua_establishing(self, fr):
        if not fr.pf:
            self._mdl_error("D", "UA with F=0")
            return None
        self._reset_link()
        return self._now_established()

    def _h_dm_establishing(self, fr):
        if not fr.pf:
            return None                      # Q.921: DM F=0 is ignored while establishing
        self._note("peer refused the link (DM F=1)")
        self._report("released")
        return TEI_ASSIGNED

    def _h_t200_establishing(self):
        if self.rc < self.timers.get("N200"):
            self.rc += 1
            self._tx_u("SABME", True, True)
            self._t200.start()
            return None
        self._counters["link:failures"] += 1
        self._note("no answer to %d SABME: link failed, retry in %gs"
                   % (self.rc + 1, self.timers.get("X200")))
        self._discard_queues()
        self._report("failed")
        return TEI_ASSIGNED

    def _h_abandon(self):
        self._report("released")
        return TEI_ASSIGNED

    def _h_released(self, fr):
        if not fr.pf:
            self._mdl_error("D", "%s with F=0 while releasing" % fr.kind)
            return None
        self._report("released")
        return TEI_ASSIGNED

    def _h_t200_releasing(self):
        if self.rc < self.timers.get("N200"):
            self.rc += 1
            self._tx_u("DISC", True, True)
            self._t200.start()
            return None
        self._report("released")
        return TEI_ASSIGNED

    def _h_release(self):
        self._discard_queues()
        self.rc = 0
        self._t203.stop()
        self._tx_u("DISC", True, True)
        self._t200.start()
        return AWAITING_RELEASE

    def _h_sabme_established(self, fr):
        self._tx_u("UA", False, fr.pf)
        self._note("link reset by the peer")
        self._discard_queues()
        self._reset_link()
        return self._now_established()

    def _h_disc_established(self, fr):
        self._tx_u("UA", False, fr.pf)
        self._discard_queues()
        self._report("released")
        return TEI_ASSIGNED

    def _h_unsolicited(self, fr):
        self._mdl_error("C" if fr.pf else "D", "unsolicited %s" % fr.kind)

    def _h_dm_established(self, fr):
        if fr.pf and self._state == MULTIPLE_FRAME_ESTABLISHED:
            self._mdl_error("B", "unsolicited DM F=1")
            return None
        return self._reestablish("E" if not fr.pf else "B", "peer reports DM: re-establishing")

    def _h_frame_reject(self, fr):
        self._counters["rx:frame_rejects"] += 1
        return self._reestablish("K", fr.why or "FRMR received")

    def _nr_error(self, fr):
        self._counters["rx:frame_rejects"] += 1
        return self._reestablish("J", "N(R)=%d outside V(A)=%d..V(S)=%d" % (fr.nr, self.va, self.vs))

    def _h_i(self, fr):
        if not self._nr_valid(fr.nr):
            return self._nr_error(fr)
        if fr.ns == self.vr:
            self.vr = (self.vr + 1) % MOD
            self._reject = False
            self._counters["rx:i_frames"] += 1
            if fr.info:
                self._post(self._safe_call, self.deliver, fr.info, "deliver")
            if fr.pf:
                self._tx_s("RR", False, True)
            else:
                self._ack_pending = True
        else:
            self._counters["rx:out_of_sequence"] += 1
            if not self._reject:
                self._reject = True
                self._counters["tx:rej"] += 1
                self._tx_s("REJ", False, fr.pf)
            elif fr.pf:
                self._tx_s("RR", False, True)
        if self._state == MULTIPLE_FRAME_ESTABLISHED:
            self._ack_established(fr.nr)
        else:
            self._ack_to(fr.nr)
        return None

    def _h_s_established(self, fr):
        self._peer_busy = fr.kind == "RNR"
        if fr.cmd and fr.pf:
            self._tx_s("RR", False, True)
        elif not fr.cmd and fr.pf:
            self._mdl_error("A", "unsolicited F=1")
        if not self._nr_valid(fr.nr):
            return self._nr_error(fr)
        if fr.kind == "REJ":
            self._ack_to(fr.nr)
            self._t200.stop()
            self._t203.start()
            self.vs = fr.nr                   # go back: _kick retransmits from N(R)
            return None
        self._ack_established(fr.nr)
        return None

    def _h_s_recovery(self, fr):
        self._peer_busy = fr.kind == "RNR"
        if fr.cmd and fr.pf:
            self._tx_s("RR", False, True)
        if not self._nr_valid(fr.nr):
            return self._nr_error(fr)
        self._ack_to(fr.nr)
        if fr.cmd or not fr.pf:
            return None                       # not the answer to our enquiry: keep waiting
        self._t200.stop()
        self._t203.start()
        self.rc = 0
        self.vs = fr.nr                       # resend whatever the peer has not got
        if self._peer_busy:
            self._t200.start()
        return MULTIPLE_FRAME_ESTABLISHED

    def _enquire(self, rc):
        """Transmit enquiry: RR command P=1, T200; TIMER_RECOVERY waits for the RR/RNR/REJ F=1."""
        self.rc = rc
        self._t203.stop()
        self._tx_s("RR", True, True)
        self._t200.start()
        return TIMER_RECOVERY

    def _h_t200_established(self):
        return self._enquire(1)

    def _h_t203(self):
        return self._enquire(0)

    def _h_t200_recovery(self):
        if self.rc >= self.timers.get("N200"):
            return self._reestablish("I", "no answer to %d polls" % self.rc)
        self._enquire(self.rc + 1)
        return None
