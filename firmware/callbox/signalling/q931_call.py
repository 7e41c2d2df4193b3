"""Q.931 basic call control (ETSI DSS1 on PRI), user side and network side.

Design notes
------------
One ``Q931Link`` per D-channel owns the calls of that interface. A call is
identified to the layer above by a small integer (``call_id``), never by its
call reference: a CRV is only unique together with who allocated it (the flag
bit, Q.931 4.3). Calls we originate get CRVs from 1 up (flag 0 on what we
send); the peer's calls are keyed by (CRV, peer). Logs show the CRV as it
appears in the messages this side sends, so the peer's calls show with the
flag bit set (0x8001).

State machine. ``ROWS`` is the one transition table for both sides. Q.931
names states from the user's point of view of the call, so the same name is a
different role on each side: a call this box places is CALL_INITIATED (U1) on
the user side but CALL_PRESENT (N6) on the network side. Each row says which
side(s) it applies to; ``USER_TABLE``/``NETWORK_TABLE`` are built from it.
``STATES`` gives each state its Q.931 number and the timer that runs while a
call is in it (on each side): entering the state starts it, leaving stops it
(T303 in U1/N6, T310 in U3/N9, T313 in U8, T305 in U11/N12, T308 in U19/N19).
T309 is separate: it runs on an ACTIVE call while the data link is down.
A message that has no row in the call's state is answered with STATUS cause
101 (98 for an unknown message type); a primitive that has none is logged and
refused. Every event is logged as
``Q931(span0 cref=0x0001){CALL_INITIATED}: rx CONNECT -> ACTIVE (...)``
followed by the actions it caused, then the events given to the layer above.

Procedures (EN 300 403 / Q.931 clause 5): en-bloc sending only (SETUP always
carries Sending complete); the answering side puts Channel identification
(exclusive) in its first answer. When the far end sends DISCONNECT the link
reports it and answers RELEASE itself (the layer above has nothing to do
before the B-channel is released). T303 and T308 resend once, then clear.
RESTART received on the global call reference clears the indicated calls and
is acknowledged. Calls to the layer above are made after the state change
(see fsm.Deferred), so the layer above may call straight back in.
"""
import itertools
import logging

from callbox.errors import SignallingError
from callbox.signalling.fsm import Deferred, FsmTable, Row
from callbox.signalling.q931 import (BearerCapability, CalledPartyNumber, CallingPartyNumber, CallState, Cause,
                                     ChannelId, Message, MessageError, ProgressIndicator, RestartIndicator,
                                     SendingComplete, cause_name, decode, encode)
from callbox.signalling.timers import Timer, TimerDef, TimerTable

# Q.931 Table 9-1 / 9-2 (EN 300 403 defaults). Ranges are what the configuration may set.
TIMER_DEFS = (
    TimerDef("T301", 180.0, "s", "ALERTING received: wait for CONNECT (the called party is being alerted)", 180.0,
             600.0),
    TimerDef("T303", 4.0, "s", "SETUP sent: wait for an answer (SETUP resent once)", 1.0, 60.0),
    TimerDef("T305", 30.0, "s", "DISCONNECT sent: wait for RELEASE or DISCONNECT", 1.0, 120.0),
    TimerDef("T308", 4.0, "s", "RELEASE sent: wait for RELEASE COMPLETE (RELEASE resent once)", 1.0, 60.0),
    TimerDef("T309", 90.0, "s", "data link down: keep active calls this long", 1.0, 600.0),
    TimerDef("T310", 30.0, "s", "CALL PROCEEDING received: wait for ALERTING/CONNECT/DISCONNECT", 10.0, 120.0),
    TimerDef("T313", 4.0, "s", "CONNECT sent (user side): wait for CONNECT ACKNOWLEDGE", 1.0, 60.0),
    TimerDef("T302", 15.0, "s", "SETUP ACKNOWLEDGE sent (overlap receiving): wait for more digits", 5.0, 60.0),
    TimerDef("T316", 120.0, "s", "RESTART sent: wait for RESTART ACKNOWLEDGE (RESTART resent once)", 10.0, 600.0),
)

DEFAULT_E1_CHANNELS = tuple(c for c in range(1, 32) if c != 16)   # TS16 carries the D-channel

# state: (Q.931 number, timer on the user side, timer on the network side)
STATES = {
    "NULL": (0, None, None),
    "CALL_INITIATED": (1, "T303", None),
    "OUTGOING_CALL_PROCEEDING": (3, "T310", None),
    "CALL_DELIVERED": (4, "T301", None),
    "CALL_PRESENT": (6, None, "T303"),
    "CALL_RECEIVED": (7, None, "T301"),
    "CONNECT_REQUEST": (8, "T313", None),
    "INCOMING_CALL_PROCEEDING": (9, None, "T310"),
    "ACTIVE": (10, None, None),
    "DISCONNECT_REQUEST": (11, "T305", None),
    "DISCONNECT_INDICATION": (12, None, "T305"),
    "RELEASE_REQUEST": (19, "T308", "T308"),
    "OVERLAP_RECEIVING": (25, "T302", "T302"),    # U25; on the network side it is N2 (see _state_number)
}

COUNTERS = {
    "rx:messages": "Messages received",
    "rx:malformed": "Messages that could not be decoded",
    "rx:unknown_cref": "Messages for a call reference with no call",
    "rx:unexpected": "Messages not permitted in the call's state (STATUS sent)",
    "tx:messages": "Messages sent",
    "calls:in": "Calls offered by the far end",
    "calls:out": "Calls placed",
    "calls:refused": "Incoming calls refused before the layer above saw them",
    "calls:released": "Calls that reached the Null state",
    "timer:expiries": "Q.931 timer expiries",
    "req:not_permitted": "Primitives refused in the call's state",
    "fsm:bad_transitions": "Handler asked for a transition not in the table (a bug)",
    "app:errors": "Exceptions raised by the events callback (logged)",
    "restart:unacknowledged": "RESTARTs the far end never acknowledged (T316 twice)",
}

U1, U3, U4, U6, U7, U8, U9, U10 = ("CALL_INITIATED", "OUTGOING_CALL_PROCEEDING", "CALL_DELIVERED", "CALL_PRESENT",
                                    "CALL_RECEIVED", "CONNECT_REQUEST", "INCOMING_CALL_PROCEEDING", "ACTIVE")
U11, U12, U19 = "DISCONNECT_REQUEST", "DISCONNECT_INDICATION", "RELEASE_REQUEST"
U25 = "OVERLAP_RECEIVING"
_CALL_STATES = tuple(s for s in STATES if s != "NULL")
_BEFORE_RELEASE = tuple(s for s in _CALL_STATES if s != U19)


def _rows(sides, states, event, handler, nxt=()):
    return sides, Row(tuple(states), event, handler, tuple(nxt))


# The call control table. Side "U" = user, "N" = network, "UN" = both. On the network side the
# same name means the mirror role (see the design notes): N1/N3/N4 = call from the user,
# N6/N9/N7/N8 = call towards the user, N11 = DISCONNECT received, N12 = DISCONNECT sent.
ROWS = [
    # -- we place a call ------------------------------------------------------------------------
    _rows("U", ["NULL"], "SETUP_REQ", "_req_setup", [U1]),
    _rows("N", ["NULL"], "SETUP_REQ", "_req_setup", [U6]),
    _rows("U", [U1], "T303", "_t303", ["NULL"]),
    _rows("N", [U6], "T303", "_t303", ["NULL"]),
    _rows("U", [U1], "CALL_PROCEEDING", "_rx_proceeding", [U3, U11]),
    _rows("N", [U6], "CALL_PROCEEDING", "_rx_proceeding", [U9, U12]),
    _rows("U", [U1, U3], "ALERTING", "_rx_alerting", [U4, U11]),
    _rows("N", [U6, U9], "ALERTING", "_rx_alerting", [U7, U12]),
    _rows("U", [U1, U3, U4], "CONNECT", "_rx_connect", [U10, U11]),
    _rows("N", [U6, U9, U7], "CONNECT", "_rx_connect", [U10, U12]),
    _rows("U", [U1, U3, U4], "PROGRESS", "_rx_progress"),
    _rows("N", [U6, U9, U7], "PROGRESS", "_rx_progress"),
    _rows("U", [U3], "T310", "_t310", [U11]),
    _rows("U", [U4], "T301", "_t301", [U11]),
    _rows("N", [U7], "T301", "_t301", [U12]),
    _rows("N", [U9], "T310", "_t310", [U12]),
    # -- the far end places a call, we answer -------------------------------------------------------
    _rows("U", ["NULL"], "SETUP", "_rx_setup", [U6, U25, "NULL"]),
    _rows("N", ["NULL"], "SETUP", "_rx_setup", [U1, U25, "NULL"]),
    _rows("UN", [U25], "INFORMATION", "_rx_information"),
    _rows("UN", [U25], "T302", "_t302", [U11, U12]),
    _rows("U", [U6, U25], "PROCEEDING_REQ", "_req_proceeding", [U9]),
    _rows("N", [U1, U25], "PROCEEDING_REQ", "_req_proceeding", [U3]),
    _rows("U", [U6, U9, U25], "ALERTING_REQ", "_req_alerting", [U7]),
    _rows("N", [U1, U3, U25], "ALERTING_REQ", "_req_alerting", [U4]),
    _rows("U", [U6, U9, U7, U25], "CONNECT_REQ", "_req_connect", [U8]),
    _rows("N", [U1, U3, U4, U25], "CONNECT_REQ", "_req_connect", [U10]),
    _rows("U", [U8], "CONNECT_ACKNOWLEDGE", "_rx_connect_ack", [U10]),
    _rows("N", [U10], "CONNECT_ACKNOWLEDGE", "_rx_connect_ack"),
    _rows("U", [U8], "T313", "_t313", [U11]),
    # -- clearing ----------------------------------------------------------------------------------
    _rows("U", [U6], "DISCONNECT_REQ", "_req_reject", ["NULL"]),
    _rows("N", [U1], "DISCONNECT_REQ", "_req_reject", ["NULL"]),
    _rows("U", [U1, U3, U4, U7, U8, U9, U10, U25], "DISCONNECT_REQ", "_req_disconnect", [U11]),
    _rows("N", [U3, U4, U6, U7, U9, U10, U25], "DISCONNECT_REQ", "_req_disconnect", [U12]),
    _rows("U", [U12], "DISCONNECT_REQ", "_req_release", [U19]),
    _rows("N", [U11], "DISCONNECT_REQ", "_req_release", [U19]),
    _rows("U", [U1, U3, U4, U6, U7, U8, U9, U10, U25], "DISCONNECT", "_rx_disconnect", [U12]),
    _rows("N", [U1, U3, U4, U6, U7, U9, U10, U25], "DISCONNECT", "_rx_disconnect", [U11]),
    _rows("U", [U11], "DISCONNECT", "_rx_disconnect_collision", [U19]),
    _rows("N", [U12], "DISCONNECT", "_rx_disconnect_collision", [U19]),
    _rows("U", [U11], "T305", "_t305", [U19]),
    _rows("N", [U12], "T305", "_t305", [U19]),
    _rows("UN", _BEFORE_RELEASE, "RELEASE", "_rx_release", ["NULL"]),
    _rows("UN", [U19], "RELEASE", "_rx_release_collision", ["NULL"]),
    _rows("UN", _CALL_STATES, "RELEASE_COMPLETE", "_rx_release_complete", ["NULL"]),
    _rows("UN", [U19], "T308", "_t308", ["NULL"]),
    # -- status, maintenance, data link --------------------------------------------------------------
    _rows("UN", _CALL_STATES, "STATUS_ENQUIRY", "_rx_status_enquiry"),
    _rows("UN", _CALL_STATES, "STATUS", "_rx_status", ["NULL"]),
    _rows("UN", [st for st in _CALL_STATES if st != U25], ("INFORMATION", "NOTIFY", "FACILITY"), "_rx_ignored"),
    _rows("UN", [U25], ("NOTIFY", "FACILITY"), "_rx_ignored"),
    _rows("UN", _CALL_STATES, "RESTART", "_restart", ["NULL"]),
    _rows("UN", _CALL_STATES, "LINK_DOWN", "_link_down", ["NULL"]),
    _rows("UN", [U10], "LINK_UP", "_link_up"),
    _rows("UN", [U10], "T309", "_t309", ["NULL"]),
]

USER_TABLE = FsmTable("Q931 user", STATES, [row for sides, row in ROWS if "U" in sides])
NETWORK_TABLE = FsmTable("Q931 network", STATES, [row for sides, row in ROWS if "N" in sides])


class _Call:
    """One call's protocol state (internal)."""

    def __init__(self, cid, cref, ours):
        self.id = cid
        self.cref = cref
        self.ours = ours            # we allocated the CRV (we placed the call)
        self.state = "NULL"
        self.chan = None
        self.called = ""
        self.calling = ""
        self.cause = None           # the first clearing cause, reported with "released"
        self.answered = False       # our first answer to the SETUP (with channel id) has gone
        self.reported = False       # the layer above knows this call id
        self.timer = None           # the state's timer (STATES)
        self.expiries = 0           # expiries of the state timer in this state
        self.t309 = None
        self.setup = None           # encoded SETUP, for the T303 resend
        self.release = None         # encoded RELEASE, for the T308 resend


class Q931Link(Deferred):
    """Q.931 call control on one PRI D-channel.

    Args:
        name (str): instance name for logs ("span0").
        side (str): "user" (the box towards an exchange) or "network" (the simulated exchange).
        send (callable): send(bytes) with each message for the data link (Lapd.send).
        clock: call_later()/time() (the asyncio loop, or ManualClock in tests).
        events (callable): events(dict) towards call control; called after the state change, so it may call
            back into the link. Events (all with "ev" and "call"):
            {"ev": "setup", "call", "chan", "called", "calling"} a call from the far end;
            {"ev": "proceeding"|"alerting"|"connect", "call", "chan"} answers to our SETUP;
            {"ev": "progress", "call", "description"}; {"ev": "connect_ack", "call"};
            {"ev": "disconnect", "call", "cause"} the far end started clearing (the link answers it);
            {"ev": "released", "call", "cause"} the call, its CRV and channel are free;
            {"ev": "restart", "call": None, "chans": [...]} the far end restarted channels (acknowledged).
        timers (TimerTable or None): Q.931 timers (``TIMER_DEFS``); defaults if None.
        log (callable or None): log(str) for every event and transition; default: INFO on "callbox.q931".
        channels (iterable of int): B-channels of the interface (default E1: 1..15, 17..31).
        law (str): layer 1 of the bearer capability in calls we place: "alaw" or "ulaw".
        overlap (bool): overlap receiving: a SETUP without Sending Complete gets SETUP
            ACKNOWLEDGE and the number grows with INFORMATION messages until Sending
            Complete, ``number_complete(digits)`` says so, or T302 expires (then the call
            goes on with the digits it has, or is cleared with cause 28 if it has none).
            When off, a SETUP is taken as complete (en bloc), with or without a number.
        number_complete (callable or None): digits -> True when they are a whole number.

    Raises:
        ValueError: bad side, channels or law; timers lacks a Q.931 timer.
    """

    def __init__(self, name, side, send, clock, events, timers=None, log=None, channels=DEFAULT_E1_CHANNELS,
                 law="alaw", overlap=False, number_complete=None, on_line=None):
        if side not in ("user", "network"):
            raise ValueError("Q931Link %s: side %r is not one of: user, network" % (name, side))
        channels = tuple(sorted(set(channels)))
        if not channels or any(isinstance(c, bool) or not isinstance(c, int) or not 1 <= c <= 127
                               for c in channels):
            raise ValueError("Q931Link %s: channels %r must be integers 1..127" % (name, channels))
        if law not in ("alaw", "ulaw"):
            raise ValueError("Q931Link %s: law %r is not one of: alaw, ulaw" % (name, law))
        self.name = name
        self.side = side
        self.send = send
        self.clock = clock
        self.events = events
        self.timers = timers if timers is not None else TimerTable(TIMER_DEFS)
        for d in TIMER_DEFS:
            self.timers.definition(d.name)
        self._log = log if log is not None else logging.getLogger("callbox.q931").info
        self.on_line = on_line            # on_line(call id, text): every line of a call, for its ladder
        self.channels = channels
        self.law = law
        self.overlap = bool(overlap)
        self.number_complete = number_complete or (lambda digits: False)
        self.link_ok = False
        self._table = USER_TABLE if side == "user" else NETWORK_TABLE
        self._user = side == "user"
        self._location = 0 if self._user else 2      # Q.850: user / public network serving the local user
        self._calls = {}
        self._by_cref = {}
        self._busy = {}
        self._ids = itertools.count(1)
        self._next_cref = 1
        self._notes = None
        self._restarts = {}     # restart key ("all" or channel) -> [Timer, RESTART ies, tries]
        self._counters = dict.fromkeys(COUNTERS, 0)
        self._init_deferred()

    # -- public API ---------------------------------------------------------------------------
    @property
    def calls(self):
        """dict: call_id -> {"state", "chan", "cref", "dir" ("in"/"out"), "called", "calling"} for live calls."""
        return {c.id: {"state": c.state, "chan": c.chan, "cref": c.cref, "dir": "out" if c.ours else "in",
                       "called": c.called, "calling": c.calling} for c in self._calls.values()}

    @property
    def counters(self):
        """dict: counter name -> value (names and descriptions in ``COUNTERS``)."""
        return dict(self._counters)

    def receive(self, data):
        """Process one message from the data link. Never raises: problems are logged and answered.

        Args:
            data (bytes): the layer 3 message.
        """
        with self._entry():
            self._counters["rx:messages"] += 1
            try:
                msg = decode(data)
            except MessageError as e:
                self._rx_malformed(e)
                return
            self._rx(msg)

    def setup(self, called, calling="", chan=None):
        """Place a call: SETUP (speech, channel exclusive, numbers, sending complete), T303.

        Args:
            called (str): called number, digits 0-9 * #.
            calling (str): calling number ("" to send none).
            chan (int or None): B-channel; None picks a free one.

        Returns:
            int: the call id used in events and primitives.

        Raises:
            SignallingError: bad numbers, the data link is down, the channel is not ours or busy, no free channel.
        """
        for what, digits, empty_ok in (("called", called, False), ("calling", calling, True)):
            if not isinstance(digits, str) or (not digits and not empty_ok) or \
                    any(c not in "0123456789*#" for c in digits):
                raise SignallingError("Placing a call on %s: %s number %r must be digits 0-9 * #"
                                      % (self.name, what, digits))
        if not self.link_ok:
            raise SignallingError("Placing a call on %s: the data link is down" % self.name)
        if chan is None:
            chan = self._free_channel()
            if chan is None:
                raise SignallingError("Placing a call on %s: no free B-channel" % self.name)
        elif chan not in self.channels:
            raise SignallingError("Placing a call on %s: channel %r is not one of this interface's" % (self.name, chan))
        elif chan in self._busy:
            raise SignallingError("Placing a call on %s: channel %d is busy" % (self.name, chan))
        with self._entry():
            call = _Call(next(self._ids), self._alloc_cref(), True)
            call.called, call.calling, call.reported = called, calling, True
            self._add_call(call, chan)
            self._dispatch(call, "SETUP_REQ", "req SETUP")
            return call.id

    def proceeding(self, call_id):
        """Answer a call's SETUP with CALL PROCEEDING.

        Returns:
            bool: False if not permitted in the call's state (logged).

        Raises:
            SignallingError: no such call.
        """
        return self._primitive(call_id, "PROCEEDING_REQ", "req CALL_PROCEEDING")

    def alerting(self, call_id):
        """Send ALERTING on an incoming call. Returns/raises as ``proceeding``."""
        return self._primitive(call_id, "ALERTING_REQ", "req ALERTING")

    def connect(self, call_id):
        """Answer an incoming call (CONNECT; on the user side T313 waits for CONNECT ACKNOWLEDGE).
        Returns/raises as ``proceeding``."""
        return self._primitive(call_id, "CONNECT_REQ", "req CONNECT")

    def disconnect(self, call_id, cause=16):
        """Clear a call: DISCONNECT (T305), or RELEASE COMPLETE if nothing was answered yet, or RELEASE if
        the far end already sent DISCONNECT. The end comes as a "released" event.

        Args:
            call_id (int): the call.
            cause (int): Q.850 cause value (16 normal clearing, 17 busy, 21 rejected, ...).

        Returns:
            bool: False if the call is already being released (logged).

        Raises:
            SignallingError: no such call, or cause not in 1..127.
        """
        if isinstance(cause, bool) or not isinstance(cause, int) or not 1 <= cause <= 127:
            raise SignallingError("Clearing a call on %s: cause %r is not an integer 1..127" % (self.name, cause))
        return self._primitive(call_id, "DISCONNECT_REQ", "req DISCONNECT cause=%d (%s)" % (cause, cause_name(cause)),
                               cause)

    def link_up(self):
        """The data link is established: stop T309 and resynchronise active calls (STATUS, cause 31)."""
        with self._entry():
            self.link_ok = True
            for call in list(self._calls.values()):
                if call.t309 is not None and call.t309.running:
                    self._dispatch(call, "LINK_UP", "link up")

    def link_down(self):
        """The data link is lost: calls not yet active are cleared, active ones wait T309."""
        with self._entry():
            self.link_ok = False
            for call in list(self._calls.values()):
                self._dispatch(call, "LINK_DOWN", "link down")

    def __str__(self):
        return "Q931Link(%s side=%s link=%s calls=%d channels=%d %s)" % (
            self.name, self.side, "up" if self.link_ok else "down", len(self._calls), len(self.channels), self.timers)

    # -- engine ---------------------------------------------------------------------------------
    def _primitive(self, call_id, event, desc, *args):
        call = self._calls.get(call_id)
        if call is None:
            raise SignallingError("%s on %s: no call %r" % (desc, self.name, call_id))
        with self._entry():
            if self._dispatch(call, event, desc, *args):
                return True
            self._counters["req:not_permitted"] += 1
            self._line(call, call.state, "%s: not permitted in this state, ignored" % desc)
            return False

    def _dispatch(self, call, event, desc, *args):
        """Run the table row for ``event``; returns False if the state has none."""
        if self._notes is not None:
            self._post(self._dispatch, call, event, desc, *args)
            return True
        row = self._table.lookup(call.state, event)
        if row is None:
            return False
        old = call.state
        self._notes = []
        extra = ""
        try:
            new = getattr(self, row.handler)(call, *args)
            if new is not None and new != old and not self._table.allows(row, old, new):
                self._counters["fsm:bad_transitions"] += 1
                self._notes.append("BUG: %s asked for %s, not in the table; staying" % (row.handler, new))
                new = None
            if new is not None and new != old:
                extra = self._set_state(call, new)
        finally:
            notes, self._notes = self._notes, None
        self._line(call, old, desc if call.state == old else "%s -> %s%s" % (desc, call.state, extra))
        for note in notes:
            self._line(call, call.state, note)
        return True

    def _set_state(self, call, new):
        """Leave the old state (stop its timer), enter ``new`` (start its timer). Returns the log suffix."""
        if call.timer is not None:
            call.timer.stop()
            call.timer = None
        if call.state == U10 and call.t309 is not None:
            call.t309.stop()
        call.expiries = 0
        call.state = new
        if new == "NULL":
            self._remove_call(call)
            return ""
        name = STATES[new][1 if self._user else 2]
        if name is None:
            return ""
        call.timer = Timer(self.clock, self.timers, name, lambda: self._timer_expired(call, name))
        return " (%s, %gs)" % (name, call.timer.start())

    def _restart_timer(self, call):
        self._note("%s restarted (%gs)" % (call.timer.name, call.timer.start()))

    def _timer_expired(self, call, name):
        with self._entry():
            self._counters["timer:expiries"] += 1
            if self._calls.get(call.id) is not call:
                self._line(call, call.state, "%s expired for a finished call, ignored" % name)
            elif not self._dispatch(call, name, "%s expired" % name):
                self._line(call, call.state, "%s expired: not permitted in this state, ignored" % name)

    def _line(self, call, state, text):
        self._log("Q931(%s cref=0x%04X){%s}: %s" % (self.name, call.cref | (0 if call.ours else 0x8000), state, text))
        if self.on_line is not None:
            try:
                self.on_line(call.id, "{%s} %s" % (state, text))
            except Exception:                 # a ladder must never disturb the protocol
                logging.getLogger("callbox.q931").exception("Q931(%s): ladder callback failed", self.name)

    def _note(self, text):
        self._notes.append(text)

    def _emit(self, call, ev, **kw):
        event = {"ev": ev, "call": call.id}
        event.update(kw)
        self._note("event %s" % " ".join([ev] + ["%s=%s" % kv for kv in kw.items()]))
        self._post(self._deliver_event, event)

    def _deliver_event(self, event):
        try:
            self.events(event)
        except Exception:   # the layer above failed: log it, keep the link running
            self._counters["app:errors"] += 1
            logging.getLogger("callbox.q931").exception("Q931(%s): events callback failed on %r", self.name, event)

    # -- calls, channels, call references ---------------------------------------------------------
    def _add_call(self, call, chan):
        self._calls[call.id] = call
        self._by_cref[(call.cref, call.ours)] = call
        if chan is not None:
            self._take_channel(call, chan)

    def _take_channel(self, call, chan):
        if call.chan is not None and self._busy.get(call.chan) == call.id:
            del self._busy[call.chan]
        call.chan = chan
        self._busy[chan] = call.id

    def _remove_call(self, call):
        self._calls.pop(call.id, None)
        self._by_cref.pop((call.cref, call.ours), None)
        if call.chan is not None and self._busy.get(call.chan) == call.id:
            del self._busy[call.chan]
        if call.t309 is not None:
            call.t309.stop()
        self._counters["calls:released"] += 1
        if call.reported:
            self._emit(call, "released", cause=call.cause or 16)

    def _free_channel(self):
        """A free B-channel: the network side hunts upwards, the user side downwards (fewer collisions)."""
        for chan in (self.channels if not self._user else reversed(self.channels)):
            if chan not in self._busy:
                return chan
        return None

    def _alloc_cref(self):
        for _ in range(0x7FFF):
            cref = self._next_cref
            self._next_cref = cref % 0x7FFF + 1
            if (cref, True) not in self._by_cref:
                return cref
        raise SignallingError("Placing a call on %s: no free call reference" % self.name)

    # -- transmission ---------------------------------------------------------------------------
    def _tx(self, call, mtype, ies=(), cref=None, flag=None):
        msg = Message(mtype, call.cref if cref is None else cref, (not call.ours) if flag is None else flag, list(ies))
        data = encode(msg)
        self._counters["tx:messages"] += 1
        self._note("tx " + summary(msg))
        self.send(data)
        return data

    def _cause(self, value):
        return Cause(value=value, location=self._location)

    def _tx_status(self, call, cause):
        self._tx(call, "STATUS", [self._cause(cause), CallState(self._state_number(call.state))])

    def _state_number(self, state):
        """The Q.931 call state number (overlap receiving is U25 on the user side, N2 on the network side)."""
        return 2 if state == U25 and not self._user else STATES[state][0]

    def _tx_answer(self, call, mtype):
        ies = []
        if not call.answered:
            ies.append(ChannelId(channel=call.chan, exclusive=True))
            call.answered = True
        self._tx(call, mtype, ies)

    def _clearing_state(self):
        return U11 if self._user else U12     # we sent DISCONNECT: U11 / N12

    def _start_clearing(self, call, cause):
        call.cause = call.cause or cause
        self._tx(call, "DISCONNECT", [self._cause(cause)])
        return self._clearing_state()

    def _send_release(self, call):
        call.release = self._tx(call, "RELEASE", [self._cause(call.cause or 16)])
        return U19

    # -- messages outside any call -----------------------------------------------------------------
    def _rx(self, msg, desc=None):
        desc = desc or "rx " + summary(msg)
        if msg.cref_len == 0:
            self._log("Q931(%s dummy){NULL}: %s: dummy call reference, ignored" % (self.name, desc))
            return
        if msg.cref == 0:
            self._rx_global(msg, desc)
            return
        ours = msg.cref_flag              # flag 1: sent towards the side that allocated the CRV
        call = self._by_cref.get((msg.cref, ours))
        if call is None:
            self._rx_unknown_cref(msg, ours, desc)
            return
        if msg.mtype.startswith("UNKNOWN_"):
            self._answer_unexpected(call, desc + ": unknown message type", 98)
        elif msg.mtype == "SETUP":
            self._line(call, call.state, "%s: call reference in use (repeated SETUP), ignored" % desc)
        elif not self._dispatch(call, msg.mtype, desc, msg):
            self._answer_unexpected(call, desc + ": not permitted in this state", 101)

    def _answer_unexpected(self, call, text, cause):
        self._counters["rx:unexpected"] += 1
        self._line(call, call.state, text)
        self._notes = []
        try:
            self._tx_status(call, cause)
        finally:
            notes, self._notes = self._notes, None
        for note in notes:
            self._line(call, call.state, note)

    def _stateless(self, cref, ours, text, reply=None):
        """Log and optionally answer a message that belongs to no call. reply: (mtype, ies)."""
        ghost = _Call(0, cref, ours)
        self._line(ghost, "NULL", text)
        if reply is not None:
            self._notes = []
            try:
                self._tx(ghost, reply[0], reply[1])
            finally:
                notes, self._notes = self._notes, None
            for note in notes:
                self._line(ghost, "NULL", note)

    def _rx_unknown_cref(self, msg, ours, desc):
        m = msg.mtype
        if m == "SETUP" and not ours:
            call = _Call(next(self._ids), msg.cref, False)
            self._add_call(call, None)
            self._dispatch(call, "SETUP", desc, msg)
            return
        self._counters["rx:unknown_cref"] += 1
        text = desc + ": unknown call reference"
        if m == "SETUP":
            self._stateless(msg.cref, ours, text + " (SETUP with the flag set), ignored")
        elif m == "RELEASE_COMPLETE":
            self._stateless(msg.cref, ours, text + ", ignored")
        elif m == "STATUS":
            state = msg.get(CallState)
            if state is None or state.value == 0:
                self._stateless(msg.cref, ours, text + ", peer in Null too, ignored")
            else:
                self._stateless(msg.cref, ours, text, ("RELEASE_COMPLETE", [self._cause(81)]))
        elif m == "STATUS_ENQUIRY":
            self._stateless(msg.cref, ours, text, ("STATUS", [self._cause(30), CallState(0)]))
        else:
            self._stateless(msg.cref, ours, text, ("RELEASE_COMPLETE", [self._cause(81)]))

    def _rx_global(self, msg, desc):
        ghost = _Call(0, 0, False)
        if msg.mtype == "RESTART_ACKNOWLEDGE":
            ri, ci = msg.get(RestartIndicator), msg.get(ChannelId)
            key = "all" if ri is not None and ri.restart_class in (6, 7) else (ci.channel if ci else None)
            entry = self._restarts.pop(key, None)
            if entry is not None:
                entry[0].stop()
            self._line(ghost, "NULL", "%s%s" % (desc, "" if entry is not None else ": for no RESTART of ours"))
            return
        if msg.mtype != "RESTART":
            self._line(ghost, "NULL", "%s: on the global call reference, ignored" % desc)
            return
        ri, ci = msg.get(RestartIndicator), msg.get(ChannelId)
        if ri is None or (ri.restart_class == 0 and (ci is None or ci.channel is None)):
            self._stateless(0, msg.cref_flag, desc + ": restart indicator or channel missing",
                            ("STATUS", [self._cause(96), CallState(0)]))
            return
        if ri.restart_class not in (0, 6, 7):
            self._stateless(0, msg.cref_flag, desc + ": restart class %d" % ri.restart_class,
                            ("STATUS", [self._cause(100), CallState(0)]))
            return
        chans = [ci.channel] if ri.restart_class == 0 else list(self.channels)
        self._line(ghost, "NULL", "%s: restarting channel(s) %s" % (desc, ",".join(map(str, chans))))
        for chan in chans:
            cid = self._busy.get(chan)
            if cid is not None:
                self._dispatch(self._calls[cid], "RESTART", "restart of channel %d" % chan)
        ies = ([ci] if ci is not None else []) + [ri]
        self._stateless(0, msg.cref_flag, "acknowledging RESTART", ("RESTART_ACKNOWLEDGE", ies))
        self._post(self._deliver_event, {"ev": "restart", "call": None, "chans": chans})

    def restart_interface(self):
        """Send RESTART for the whole interface (global call reference, class 7) and clear our
        own calls: after call control has restarted, the far end may still hold calls the box
        has forgotten. RESTART ACKNOWLEDGE needs no action (it is logged)."""
        with self._entry():
            for call in list(self._calls.values()):
                self._dispatch(call, "RESTART", "restart of the whole interface")
            self._send_restart("all", [RestartIndicator(7)], "all channels")

    def restart_channel(self, chan):
        """Send RESTART for one B-channel (class 0 with its channel identification) and clear
        our call on it, if any.

        Raises:
            SignallingError: the channel is not on this interface, or the data link is down.
        """
        if chan not in self.channels:
            raise SignallingError("Restarting on %s: channel %r is not one of this interface's" % (self.name, chan))
        if not self.link_ok:
            raise SignallingError("Restarting on %s: the data link is down" % self.name)
        with self._entry():
            cid = self._busy.get(chan)
            if cid is not None:
                self._dispatch(self._calls[cid], "RESTART", "restart of channel %d" % chan)
            self._send_restart(chan, [ChannelId(channel=chan, exclusive=True), RestartIndicator(0)], "channel %d" % chan)

    def _send_restart(self, key, ies, what, tries=1):
        """Send RESTART and run T316 for it: resent once on expiry, then reported."""
        old = self._restarts.pop(key, None)
        if old is not None:
            old[0].stop()
        self._stateless(0, False, "sending RESTART (%s)%s" % (what, "" if tries == 1 else ", try %d" % tries),
                        ("RESTART", ies))
        timer = Timer(self.clock, self.timers, "T316", lambda: self._t316(key, what))
        self._restarts[key] = [timer, ies, tries]
        timer.start()

    def _t316(self, key, what):
        with self._entry():
            entry = self._restarts.pop(key, None)
            if entry is None:
                return
            self._counters["timer:expiries"] += 1
            if entry[2] < 2:
                self._send_restart(key, entry[1], what, entry[2] + 1)
                return
            self._counters["restart:unacknowledged"] += 1
            self._line(_Call(0, 0, False), "NULL", "T316 expired twice: RESTART (%s) never acknowledged" % what)
            self._post(self._deliver_event, {"ev": "restart_failed", "call": None, "what": what})

    def _rx_malformed(self, e):
        self._counters["rx:malformed"] += 1
        h = e.header
        if h is None or h.cref_len == 0 or h.cref == 0:
            self._log("Q931(%s){-}: rx malformed message: %s" % (self.name, e))
            return
        ours = h.cref_flag
        call = self._by_cref.get((h.cref, ours))
        desc = "rx malformed %s (%s)" % (h.mtype, e)
        if call is None:
            if h.mtype == "SETUP" and not ours:
                self._counters["calls:refused"] += 1
                self._stateless(h.cref, ours, desc, ("RELEASE_COMPLETE", [self._cause(100)]))
            else:
                self._rx_unknown_cref(h, ours, desc)
        elif h.mtype in ("DISCONNECT", "RELEASE", "RELEASE_COMPLETE"):
            self._rx(h, desc + ", clearing anyway")            # clearing goes on without the bad IEs
        else:
            self._answer_unexpected(call, desc, 100)

    # -- handlers: we place a call -------------------------------------------------------------------
    def _req_setup(self, call):
        ies = [BearerCapability(capability="speech", layer1=self.law), ChannelId(channel=call.chan, exclusive=True)]
        if call.calling:
            ies.append(CallingPartyNumber(digits=call.calling, ton=0, npi=1, presentation=0,
                                          screening=0 if self._user else 3))
        ies += [CalledPartyNumber(digits=call.called, ton=0, npi=1), SendingComplete()]
        call.setup = self._tx(call, "SETUP", ies)
        self._counters["calls:out"] += 1
        return U1 if self._user else U6

    def _t303(self, call):
        if call.expiries == 0:
            call.expiries = 1
            self._note("tx SETUP (again)")
            self._counters["tx:messages"] += 1
            self.send(call.setup)
            self._restart_timer(call)
            return None
        call.cause = call.cause or (102 if self._user else 18)   # Q.931 5.1.1 / 5.2.1
        self._tx(call, "RELEASE_COMPLETE", [self._cause(102)])
        return "NULL"

    def _answer_channel(self, call, msg):
        """The first answer may name the channel: take it if it is ours and free. False if unacceptable."""
        ci = msg.get(ChannelId)
        if ci is None or ci.channel is None or ci.channel == call.chan:
            return True
        if ci.channel in self.channels and ci.channel not in self._busy:
            self._note("far end chose channel %d instead of %d" % (ci.channel, call.chan))
            self._take_channel(call, ci.channel)
            return True
        self._note("far end chose channel %d, which is not available" % ci.channel)
        return False

    def _rx_proceeding(self, call, msg):
        if not self._answer_channel(call, msg):
            return self._start_clearing(call, 6)
        self._emit(call, "proceeding", chan=call.chan)
        return U3 if self._user else U9

    def _rx_alerting(self, call, msg):
        if not self._answer_channel(call, msg):
            return self._start_clearing(call, 6)
        self._emit(call, "alerting", chan=call.chan)
        return U4 if self._user else U7

    def _rx_connect(self, call, msg):
        if not self._answer_channel(call, msg):
            return self._start_clearing(call, 6)
        self._tx(call, "CONNECT_ACKNOWLEDGE")
        self._emit(call, "connect", chan=call.chan)
        return U10

    def _rx_progress(self, call, msg):
        pi = msg.get(ProgressIndicator)
        self._emit(call, "progress", description=pi.description if pi else None)

    def _t310(self, call):
        return self._start_clearing(call, 102)

    def _t301(self, call):                     # nobody answered while alerting: clear, cause 102
        return self._start_clearing(call, 102)

    # -- handlers: the far end places a call ---------------------------------------------------------
    def _refuse(self, call, cause, why):
        self._counters["calls:refused"] += 1
        self._note("refused: %s" % why)
        call.cause = cause
        self._tx(call, "RELEASE_COMPLETE", [self._cause(cause)])
        return "NULL"

    def _rx_setup(self, call, msg):
        bc = msg.get(BearerCapability)
        if bc is None:
            return self._refuse(call, 96, "no bearer capability")
        if bc.capability not in ("speech", "3.1khz"):
            return self._refuse(call, 65, "bearer %s is not a voice call" % bc.capability)
        ci = msg.get(ChannelId)
        if ci is None and self._user:
            return self._refuse(call, 96, "no channel identification")      # mandatory network -> user
        if ci is not None and ci.channel is not None:
            if ci.channel in self.channels and ci.channel not in self._busy:
                chan = ci.channel
            elif ci.exclusive:
                return self._refuse(call, 44, "channel %d %s" % (
                    ci.channel, "is busy" if ci.channel in self.channels else "is not on this interface"))
            else:
                chan = self._free_channel()
        else:
            chan = self._free_channel()
        if chan is None:
            return self._refuse(call, 34, "no free B-channel")
        cn, cg = msg.get(CalledPartyNumber), msg.get(CallingPartyNumber)
        call.called = cn.digits if cn else ""
        call.calling = cg.digits if cg else ""
        self._take_channel(call, chan)
        if self.overlap and not self._called_done(call, msg):
            # overlap receiving: SETUP ACKNOWLEDGE, then INFORMATION messages with more digits (T302)
            self._tx_answer(call, "SETUP_ACKNOWLEDGE")
            return U25
        call.reported = True
        self._counters["calls:in"] += 1
        self._emit(call, "setup", chan=chan, called=call.called, calling=call.calling)
        return U6 if self._user else U1

    def _called_done(self, call, msg):
        """Whether the number is complete after this SETUP/INFORMATION."""
        if msg.get(SendingComplete) is not None:
            return True
        if call.called.endswith("#"):
            call.called = call.called[:-1]
            return True
        return bool(call.called) and self.number_complete(call.called)

    def _rx_information(self, call, msg):
        cn = msg.get(CalledPartyNumber)
        if cn is not None and cn.digits:
            call.called += cn.digits
        if call.reported:
            self._note("digits after the number was complete, ignored")
            return None
        if self._called_done(call, msg):
            return self._overlap_complete(call)
        self._restart_timer(call)
        return None

    def _overlap_complete(self, call):
        if call.timer is not None:
            call.timer.stop()
        call.reported = True
        self._counters["calls:in"] += 1
        self._emit(call, "setup", chan=call.chan, called=call.called, calling=call.calling)
        return None

    def _t302(self, call):
        if call.reported:
            return None
        if not call.called:
            return self._start_clearing(call, 28)          # invalid number format (incomplete)
        return self._overlap_complete(call)

    def _req_proceeding(self, call):
        self._tx_answer(call, "CALL_PROCEEDING")
        return U9 if self._user else U3

    def _req_alerting(self, call):
        self._tx_answer(call, "ALERTING")
        return U7 if self._user else U4

    def _req_connect(self, call):
        self._tx_answer(call, "CONNECT")
        return U8 if self._user else U10

    def _rx_connect_ack(self, call, msg):
        self._emit(call, "connect_ack")
        return U10

    def _t313(self, call):
        return self._start_clearing(call, 102)

    # -- handlers: clearing --------------------------------------------------------------------------
    def _req_reject(self, call, cause):
        call.cause = cause
        self._tx(call, "RELEASE_COMPLETE", [self._cause(cause)])
        return "NULL"

    def _req_disconnect(self, call, cause):
        return self._start_clearing(call, cause)

    def _req_release(self, call, cause=None):
        return self._send_release(call)

    def _auto_release(self, call):
        if self._calls.get(call.id) is call and call.state == (U12 if self._user else U11):
            with self._entry():
                self._dispatch(call, "DISCONNECT_REQ", "release (answering the far end's DISCONNECT)")

    def _rx_disconnect(self, call, msg):
        cause = msg.get(Cause)
        value = cause.value if cause else 31
        call.cause = call.cause or value
        self._emit(call, "disconnect", cause=value)
        self._post(self._auto_release, call)
        return U12 if self._user else U11

    def _rx_disconnect_collision(self, call, msg):
        return self._send_release(call)

    def _t305(self, call):
        return self._send_release(call)

    def _take_cause(self, call, msg):
        cause = msg.get(Cause)
        if call.cause is None and cause is not None:
            call.cause = cause.value

    def _rx_release(self, call, msg):
        self._take_cause(call, msg)
        self._tx(call, "RELEASE_COMPLETE")
        return "NULL"

    def _rx_release_collision(self, call, msg):
        self._take_cause(call, msg)
        return "NULL"

    def _rx_release_complete(self, call, msg):
        self._take_cause(call, msg)
        return "NULL"

    def _t308(self, call):
        if call.expiries == 0:
            call.expiries = 1
            self._note("tx RELEASE (again)")
            self._counters["tx:messages"] += 1
            self.send(call.release)
            self._restart_timer(call)
            return None
        self._note("no RELEASE COMPLETE: call reference and channel %s released" % call.chan)
        return "NULL"

    # -- handlers: status, maintenance, data link -----------------------------------------------------
    def _rx_status_enquiry(self, call, msg):
        self._tx_status(call, 30)

    def _rx_status(self, call, msg):
        state, cause = msg.get(CallState), msg.get(Cause)
        if state is None:
            self._note("STATUS without call state, ignored")
            return None
        if state.value == 0:                        # Q.931 5.8.11: the far end has no such call
            call.cause = call.cause or (cause.value if cause else 41)
            self._note("far end is in the Null state: call released")
            return "NULL"
        self._note("far end is in state %d%s" % (state.value, "" if state.value == STATES[call.state][0]
                                                  else ", we are in %d" % STATES[call.state][0]))
        return None

    def _rx_ignored(self, call, msg):
        self._note("%s is not used by this implementation, ignored" % msg.mtype)

    def _restart(self, call):
        call.cause = call.cause or 41
        return "NULL"

    def _link_down(self, call):
        if call.state != U10:                       # Q.931 5.8.9: only active calls survive a link failure
            call.cause = call.cause or 41
            return "NULL"
        if call.t309 is None:
            call.t309 = Timer(self.clock, self.timers, "T309", lambda: self._timer_expired(call, "T309"))
        if not call.t309.running:
            self._note("T309 started (%gs)" % call.t309.start())
        return None

    def _link_up(self, call):
        call.t309.stop()
        self._note("T309 stopped")
        self._tx_status(call, 31)

    def _t309(self, call):
        call.cause = call.cause or 27
        return "NULL"


def summary(msg):
    """Returns:
        str: a message as the log shows it: type, then channel, numbers, cause, state when present.
    """
    parts = [msg.mtype]
    ci = msg.get(ChannelId)
    if ci is not None:
        parts.append("chan=%s%s" % (ci.channel if ci.channel is not None else ("any" if ci.any_channel else "none"),
                                    "" if ci.exclusive else "(pref)"))
    cn, cg = msg.get(CalledPartyNumber), msg.get(CallingPartyNumber)
    if cn is not None:
        parts.append("called=%s" % cn.digits)
    if cg is not None:
        parts.append("calling=%s" % cg.digits)
    cause = msg.get(Cause)
    if cause is not None:
        parts.append("cause=%d (%s)" % (cause.value, cause.name))
    state = msg.get(CallState)
    if state is not None:
        parts.append("state=%d" % state.value)
    return " ".join(parts)
