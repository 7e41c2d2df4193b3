"""MFC/R2 spans over two media engines back to back, ticked by hand.

The ABCD bits travel in the TS16 CAS multiframe of real E1 line bits, the register signals as
MF tones in the A-law timeslots, heard by the engines' R2 MF receiver banks: everything a real
R2 trunk carries. Time is a manual clock moved 20 ms per tick.
"""
import pytest

from callbox import hw
from callbox.calls.r2_span import R2Span, engine_sender
from callbox.errors import SignallingError
from callbox.media.engine import Engine
from callbox.signalling.timers import ManualClock


class R2Pair:
    def __init__(self, tmp_path, signalling="r2-cn", dnis_digits=4):
        d = str(tmp_path)
        self.clock = ManualClock()
        self.events = {"far": [], "box": []}
        self.calls = {"far": [], "box": []}
        self.queued = {"far": [], "box": []}
        cfg = {"kind": "E1", "framing": "no-crc4", "signalling": signalling}
        self.eng = {
            "far": Engine([(0, dict(cfg), hw.open_line("sim://r2/1?offset=41", sim_dir=d).open())], [], {},
                          lambda t, x: self.queued["far"].append((t, x)), "far"),
            "box": Engine([(0, dict(cfg), hw.open_line("sim://r2/0", sim_dir=d).open())], [], {},
                          lambda t, x: self.queued["box"].append((t, x)), "box")}
        self.span = {side: R2Span(0, signalling, engine_sender(self.eng[side]),
                                  lambda ev, side=side: self.calls[side].append(ev), self.clock,
                                  dnis_digits=dnis_digits)
                     for side in ("far", "box")}

    def run(self, ticks):
        for _ in range(ticks):
            for side in ("far", "box"):
                self.eng[side].tick()
                evs, self.queued[side] = self.queued[side], []
                for topic, data in evs:
                    self.events[side].append((topic, data))
                    if topic == "span.state":
                        (self.span[side].line_up if data["up"] else self.span[side].line_down)()
                    elif topic in ("chan.abcd", "chan.r2mf"):
                        self.span[side].on_media(topic, data)
            self.clock.advance(0.02)

    def until(self, side, ev, limit=400, **match):
        for _ in range(limit):
            for e in self.calls[side]:
                if e["ev"] == ev and all(e.get(k) == v for k, v in match.items()):
                    return e
            self.run(1)
        raise AssertionError("no %s event %s %s in %d ticks: %s" % (side, ev, match, limit, self.calls[side]))

    def close(self):
        for e in self.eng.values():
            e.close()


@pytest.fixture(params=["r2-cn", "r2-itu"])
def r2(tmp_path, request):
    p = R2Pair(tmp_path, request.param)
    p.run(40)                     # frame and CAS multiframe alignment
    yield p
    p.close()


def test_a_call_carries_dnis_ani_and_category_and_clears_from_either_side(r2):
    assert r2.span["box"].link and r2.span["far"].link
    cid = r2.span["far"].sig.setup("1234", "13800138000")
    setup = r2.until("box", "setup")
    assert (setup["called"], setup["calling"], setup["category"]) == ("1234", "13800138000", 1)
    assert r2.span["far"].sig.calls[cid]["chan"] == setup["chan"] == 1
    r2.span["box"].sig.proceeding(setup["call"])
    r2.span["box"].sig.connect(setup["call"])
    r2.until("far", "alerting", call=cid)
    r2.until("far", "connect", call=cid)
    # the box clears (clear-back), the far end clears forward, both channels go idle
    r2.span["box"].sig.disconnect(setup["call"], 16)
    assert r2.until("far", "disconnect", call=cid)["cause"] == 16
    r2.until("far", "released", call=cid)
    r2.until("box", "released", call=setup["call"])
    assert all(ch.state == "idle" for ch in r2.span["box"].chans.values())
    # a second call, cleared by the caller this time
    cid2 = r2.span["far"].sig.setup("5678", "")
    setup2 = r2.until("box", "setup", called="5678")
    r2.span["box"].sig.connect(setup2["call"])
    r2.until("far", "connect", call=cid2)
    r2.span["far"].sig.disconnect(cid2)
    assert r2.until("box", "disconnect", call=setup2["call"])["cause"] == 16
    r2.until("box", "released", call=setup2["call"])
    r2.until("far", "released", call=cid2)
    trace = [t for t, x in r2.events["box"] if t == "chan.abcd"]
    assert trace, "the ABCD changes came from the line"


def test_audio_flows_once_answered_and_the_mf_receivers_stop(r2):
    cid = r2.span["far"].sig.setup("4321", "10086")
    setup = r2.until("box", "setup")
    r2.span["box"].sig.connect(setup["call"])
    r2.until("far", "connect", call=cid)
    r2.run(5)
    assert not r2.eng["box"].r2mf_on and not r2.eng["far"].r2mf_on
    ep = "s0.%d" % setup["chan"]
    r2.eng["box"].dtmf_enable(ep)
    r2.eng["far"].tone(ep, digits="7#")
    r2.run(40)
    assert [x["digit"] for t, x in r2.events["box"] if t == "chan.dtmf"] == ["7", "#"]


def test_two_calls_at_once_take_different_timeslots(r2):
    a = r2.span["far"].sig.setup("1111", "21")
    b = r2.span["far"].sig.setup("2222", "22")
    sa = r2.until("box", "setup", called="1111")
    sb = r2.until("box", "setup", called="2222")
    assert {sa["chan"], sb["chan"]} == {r2.span["far"].sig.calls[a]["chan"], r2.span["far"].sig.calls[b]["chan"]}
    assert sa["chan"] != sb["chan"] and (sa["calling"], sb["calling"]) == ("21", "22")


def test_line_failure_releases_the_calls_and_refuses_new_ones(r2):
    cid = r2.span["far"].sig.setup("1234", "1")
    setup = r2.until("box", "setup")
    r2.span["box"].sig.connect(setup["call"])
    r2.until("far", "connect", call=cid)
    r2.eng["far"].spans[0].line.impair(los=True)
    assert r2.until("box", "released", call=setup["call"])["cause"] == 38
    assert not r2.span["box"].link
    with pytest.raises(SignallingError, match="down"):
        r2.span["box"].sig.setup("1", "")
    r2.eng["far"].spans[0].line.impair(los=False)
    r2.run(60)
    assert r2.span["box"].link


def test_bad_numbers_and_busy_channels_are_refused_clearly(r2):
    with pytest.raises(SignallingError, match="digits 0-9"):
        r2.span["far"].sig.setup("12#", "")
    with pytest.raises(SignallingError, match="no called number"):
        r2.span["far"].sig.setup("", "")
    r2.span["far"].sig.setup("1234", "", chan=5)
    with pytest.raises(SignallingError, match="not an idle timeslot"):
        r2.span["far"].sig.setup("1234", "", chan=5)
    with pytest.raises(SignallingError, match="not an idle timeslot"):
        r2.span["far"].sig.setup("1234", "", chan=16)


def test_cas_status_and_multiframe_alarm(tmp_path):
    p = R2Pair(tmp_path)
    try:
        p.run(40)
        st = p.eng["box"].cas_status(0)
        assert st["aligned"] and not st["remote_mf_alarm"]
        assert st["rx"]["1"] == 0b1011 and st["rx"]["31"] == 0b1011     # China idle from the far end
        assert "16" not in st["rx"] and len(st["rx"]) == 30
        with pytest.raises(ValueError, match="not a channel of an E1 span with CAS"):
            p.eng["box"].cas_set("s0.16", 9)
    finally:
        p.close()


def test_a_far_end_without_cas_raises_the_multiframe_alarm_and_the_span_stays_down(tmp_path):
    # the far end runs PRI (HDLC flags in TS16): no CAS multiframe ever aligns
    d = str(tmp_path)
    seen = []
    far = Engine([(0, {"kind": "E1", "signalling": "pri"}, hw.open_line("sim://m/1?offset=9", sim_dir=d).open())],
                 [], {}, lambda t, x: None, "far")
    box = Engine([(0, {"kind": "E1", "signalling": "r2-itu"}, hw.open_line("sim://m/0", sim_dir=d).open())],
                 [], {}, lambda t, x: seen.append((t, x)), "box")
    try:
        for _ in range(60):
            far.tick()
            box.tick()
        st = box.status()[0]
        assert st["alarms"]["cas_lomf"] and not st["alarms"]["lof"] and not st["up"]
        assert ("span.alarm", {"span": 0, "alarm": "cas_lomf", "state": "ON"}) in seen
        assert not box.cas_status(0)["aligned"]
    finally:
        far.close()
        box.close()
