"""Back-to-back signalling stacks on a ManualClock, for the Q.921 and Q.931 tests.

A ``Pair`` is the box (side "user", named span0) and the simulated exchange (side "network",
named sim0), their D-channel a wire with a fixed delay per frame. A test can drop frames on the
wire (``pair.drop = fn(direction, frame) -> bool``), stop a side's layer 3 from hearing anything
(``stack.deaf = True``) and read every frame that crossed (``pair.frames``). Logs are kept with the
simulated time in front, so they are the same on every run.
"""
import pytest

from callbox.signalling.q921 import Lapd
from callbox.signalling.q931_call import Q931Link
from callbox.signalling.timers import ManualClock

WIRE_DELAY = 0.005


class Stack:
    """One side: Lapd, optionally Q931Link above it, and what reached the top."""

    def __init__(self, pair, side, name, with_q931):
        self.pair = pair
        self.side = side
        self.name = name
        self.delivered = []        # L3 messages Lapd passed up
        self.states = []           # on_state reports
        self.events = []           # Q.931 events
        self.deaf = False          # drop everything Lapd passes up
        self.q931 = None
        clock = pair.clock
        if with_q931:
            self.q931 = Q931Link(name, side, self._l3_send, clock, self.events.append,
                                 log=pair.q931_log_line)
        self.lapd = Lapd(name, side, self._tx_frame, self._deliver, self._on_state, clock,
                         log=pair.q921_log_line)

    def _l3_send(self, data):
        self.lapd.send(data)

    def _tx_frame(self, frame):
        self.pair.transmit(self, frame)

    def _deliver(self, data):
        if self.deaf:
            return
        self.delivered.append(data)
        if self.q931 is not None:
            self.q931.receive(data)

    def _on_state(self, state):
        self.states.append(state)
        if self.q931 is not None:
            (self.q931.link_up if state == "established" else self.q931.link_down)()

    def ev(self, kind):
        """Returns: the Q.931 events of one kind."""
        return [e for e in self.events if e["ev"] == kind]


class Pair:
    def __init__(self, with_q931=True, delay=WIRE_DELAY):
        self.clock = ManualClock()
        self.delay = delay
        self.drop = None
        self.cut = False           # the wire is broken both ways
        self.frames = []           # (time, "u>n" | "n>u", bytes) of every frame sent
        self.q921_log = []
        self.q931_log = []
        self.user = Stack(self, "user", "span0", with_q931)
        self.net = Stack(self, "network", "sim0", with_q931)

    def q921_log_line(self, text):
        self.q921_log.append("[%8.3f] %s" % (self.clock.time(), text))

    def q931_log_line(self, text):
        self.q931_log.append("[%8.3f] %s" % (self.clock.time(), text))

    def transmit(self, src, frame):
        direction = "u>n" if src is self.user else "n>u"
        self.frames.append((self.clock.time(), direction, frame))
        if self.cut or (self.drop is not None and self.drop(direction, frame)):
            return
        dst = self.net if src is self.user else self.user
        self.clock.call_later(self.delay, dst.lapd.receive_frame, frame)

    def start(self, settle=0.1):
        self.user.lapd.start()
        self.net.lapd.start()
        self.run(settle)
        assert self.user.lapd.state == self.net.lapd.state == "MULTIPLE_FRAME_ESTABLISHED"

    def run(self, seconds):
        self.clock.advance(seconds)

    def sent(self, direction, since=0.0):
        return [f for t, d, f in self.frames if d == direction and t >= since]


@pytest.fixture
def pair():
    """Two Lapd + Q931Link stacks back to back (not started)."""
    return Pair()


@pytest.fixture
def lapd_pair():
    """Two bare Lapd back to back (not started)."""
    return Pair(with_q931=False)
