"""MFC/R2 back to back: two channels, one forward and one backward, wired through a simulated
clock (line bits and MF edges each take a few ms), China and ITU variants."""
import pytest

from callbox.signalling.r2 import R2Channel


class Wire:
    """Actions of one side; what it sends reaches the other side after `delay` seconds."""

    def __init__(self, clock, delay=0.005):
        self.clock, self.delay = clock, delay
        self.peer = None
        self.events = []
        self.abcd = []
        self.sent = []

    def set_abcd(self, nibble):
        self.abcd.append(nibble)
        if self.peer:
            self.clock.call_later(self.delay, self.peer.rx_abcd, nibble)

    def mf_start(self, signal):
        self.sent.append(signal)
        self.clock.call_later(self.delay + 0.03, self.peer.rx_mf, signal)     # detection takes ~30 ms

    def mf_stop(self):
        self.clock.call_later(self.delay + 0.03, self.peer.rx_mf, 0)

    def event(self, name, detail):
        self.events.append((name, detail))

    def names(self):
        return [n for n, _ in self.events]


def pair(clock, variant="cn", **kw):
    wa, wb = Wire(clock), Wire(clock)
    a = R2Channel(variant, clock, wa, name="fwd", **kw)
    b = R2Channel(variant, clock, wb, name="bwd", **kw)
    wa.peer, wb.peer = b, a
    return a, b, wa, wb


def test_china_call_with_ani_answer_and_clear_forward(clock):
    a, b, wa, wb = pair(clock, max_dnis=5)
    assert wa.abcd[-1] == 0b1011 and wb.abcd[-1] == 0b1011        # CN idle: AB 10, CD 11
    a.place("10086", ani="13800138000", category=1)
    clock.advance(10)
    incoming = dict(wb.events)["incoming"]
    assert incoming == {"dnis": "10086", "ani": "13800138000", "category": 1, "category_kd": 1}
    # China: first DNIS digit, A-6, category, ANI digits, I-15, the rest of the DNIS, A-3, KD, B-1
    assert wa.sent == [1, 1] + [1, 3, 8, 10, 10, 1, 3, 8, 10, 10, 10, 15] + [10, 10, 8, 6] + [1]
    assert wb.sent == [6, 1] + [1] * 11 + [1] + [1, 1, 1, 3] + [1]      # ..., A-1 after I-15, ..., A-3, B-1
    assert dict(wa.events)["accepted"]["result"] == "accepted"
    b.answer()
    clock.advance(1)
    assert "answered" in wa.names() and a.state == "answered"
    a.hangup()                                                      # clear-forward
    clock.advance(1)
    assert a.state == "idle" and b.state == "idle"
    assert wb.abcd[-1] == 0b1011 and wa.abcd[-1] == 0b1011


def test_itu_call_without_ani_clear_back(clock):
    a, b, wa, wb = pair(clock, variant="itu", max_dnis=4, ani=False)
    assert wa.abcd[-1] == 0b1001                                    # ITU idle: C=0 D=1
    a.place("1234")
    clock.advance(5)
    assert dict(wb.events)["incoming"]["dnis"] == "1234" and dict(wb.events)["incoming"]["ani"] == ""
    b.answer()
    clock.advance(1)
    b.hangup()                                                      # clear-back
    clock.advance(1)
    assert "clear_back" in wa.names()
    assert a.state == "idle" and b.state == "idle"


def test_seize_without_acknowledgement_times_out(clock):
    w = Wire(clock)
    a = R2Channel("cn", clock, w, name="lonely")
    w.peer = type("Nobody", (), {"rx_abcd": lambda self, n: None})()
    a.place("10086")
    clock.advance(8.1)
    assert ("timeout", {"timer": "R2_SEIZE", "state": "seized"}) in w.events
    clock.advance(11)
    assert a.state == "idle"


def test_blocked_channel_and_bad_input(clock):
    a, b, wa, wb = pair(clock)
    b.block()
    assert wb.abcd[-1] == 0b1111
    with pytest.raises(ValueError, match="not idle"):
        a.place("12") or a.place("12")
    b.rx_abcd(99)
    assert wb.events[-1][0] == "protocol_error"
    b.unblock()
    with pytest.raises(ValueError, match="digit 'x'"):
        R2Channel("cn", clock, Wire(clock)).place("12x")
    with pytest.raises(ValueError, match="variant 'mars'"):
        R2Channel("mars", clock, Wire(clock))


def test_unexpected_mf_signal_clears_instead_of_crashing(clock):
    a, b, wa, wb = pair(clock)
    b.rx_mf(5)                                                      # no call: a stray MF signal
    assert wb.events[-1][0] == "protocol_error" and b.state == "idle"
