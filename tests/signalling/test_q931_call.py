"""Q.931 call control: the box (user side) and the simulated exchange (network side) back to back
over two LAPD links, plus one Q931Link alone fed with hand-made messages for the error cases."""
import random
from pathlib import Path

import pytest

from callbox.errors import SignallingError
from callbox.signalling import q931_call
from callbox.signalling.q931 import (BearerCapability, CalledPartyNumber, CallState, Cause, ChannelId, Message,
                                     RestartIndicator, SendingComplete, decode, encode)
from callbox.signalling.q931_call import COUNTERS, Q931Link, ROWS, STATES
from callbox.signalling.timers import ManualClock, TimerTable

pytestmark = pytest.mark.sim

EXPECTED = Path(__file__).resolve().parent.parent / "expected"


def h(text):
    return bytes.fromhex(text)


def simple(ev):
    return [(e["ev"], e.get("cause")) if e["ev"] in ("released", "disconnect") else e["ev"] for e in ev]


def messages(pair, direction, since=0.0):
    """Q.931 message types that crossed the wire in one direction."""
    out = []
    for f in pair.sent(direction, since):
        if not f[2] & 1 and len(f) > 4:
            m = decode(f[4:])
            cause = m.get(Cause)
            out.append(m.mtype + ("/%d" % cause.value if cause else ""))
    return out


# -- back to back ---------------------------------------------------------------------------------

def test_incoming_call_full_cycle(pair):
    """The exchange calls the box; the box answers and later hangs up."""
    pair.start()
    u, n = pair.user.q931, pair.net.q931
    nid = n.setup("1000", "13800138000")
    assert n.calls[nid]["chan"] == 1 and n.calls[nid]["state"] == "CALL_PRESENT"
    pair.run(0.1)
    setup = pair.user.events[0]
    assert setup == {"ev": "setup", "call": setup["call"], "chan": 1, "called": "1000", "calling": "13800138000"}
    uid = setup["call"]
    assert u.calls[uid] == {"state": "CALL_PRESENT", "chan": 1, "cref": 1, "dir": "in", "called": "1000",
                            "calling": "13800138000"}
    u.proceeding(uid)
    pair.run(0.1)
    u.alerting(uid)
    pair.run(0.1)
    u.connect(uid)
    pair.run(0.1)
    assert u.calls[uid]["state"] == n.calls[nid]["state"] == "ACTIVE"
    assert pair.net.events == [{"ev": "proceeding", "call": nid, "chan": 1}, {"ev": "alerting", "call": nid, "chan": 1},
                               {"ev": "connect", "call": nid, "chan": 1}]
    assert simple(pair.user.events) == ["setup", "connect_ack"]
    u.disconnect(uid, 16)
    pair.run(0.1)
    assert simple(pair.user.events)[2:] == [("released", 16)]
    assert simple(pair.net.events)[3:] == [("disconnect", 16), ("released", 16)]
    assert u.calls == {} and n.calls == {}
    assert messages(pair, "n>u") == ["SETUP", "CONNECT_ACKNOWLEDGE", "RELEASE/16"]
    assert messages(pair, "u>n") == ["CALL_PROCEEDING", "ALERTING", "CONNECT", "DISCONNECT/16", "RELEASE_COMPLETE"]
    for q in (u, n):
        assert q.counters["fsm:bad_transitions"] == 0 and q.counters["rx:unexpected"] == 0


def test_answer_from_inside_the_setup_event(pair):
    """Call control answers synchronously in the event callback, as callbox.calls.control does."""
    pair.start()
    u = pair.user.q931
    u.events = lambda ev: (pair.user.events.append(ev),
                           ev["ev"] == "setup" and (u.proceeding(ev["call"]), u.connect(ev["call"])))
    nid = pair.net.q931.setup("10086", "")
    pair.run(0.2)
    assert pair.net.q931.calls[nid]["state"] == "ACTIVE"
    assert messages(pair, "u>n") == ["CALL_PROCEEDING", "CONNECT"]
    assert pair.user.events[0]["calling"] == ""


def test_outgoing_call_from_the_box(pair):
    pair.start()
    u, n = pair.user.q931, pair.net.q931
    uid = u.setup("95555", "88880000")
    assert u.calls[uid]["chan"] == 31 and u.calls[uid]["dir"] == "out"       # the user side hunts downwards
    pair.run(0.1)
    (setup,) = pair.net.events
    nid = setup["call"]
    assert setup["chan"] == 31 and setup["called"] == "95555" and n.calls[nid]["state"] == "CALL_INITIATED"
    n.proceeding(nid)
    pair.run(0.1)
    assert u.calls[uid]["state"] == "OUTGOING_CALL_PROCEEDING"
    n.alerting(nid)
    pair.run(0.1)
    assert u.calls[uid]["state"] == "CALL_DELIVERED"
    n.connect(nid)
    pair.run(0.1)
    assert u.calls[uid]["state"] == n.calls[nid]["state"] == "ACTIVE"
    assert simple(pair.user.events) == ["proceeding", "alerting", "connect"]
    assert simple(pair.net.events) == ["setup", "connect_ack"]
    n.disconnect(nid, 17)                        # the far end clears
    pair.run(0.1)
    assert simple(pair.user.events)[3:] == [("disconnect", 17), ("released", 17)]
    assert simple(pair.net.events)[2:] == [("released", 17)]
    sent = decode([f for f in pair.sent("u>n") if not f[2] & 1][0][4:])
    assert sent.ies[0] == BearerCapability(capability="speech", layer1="alaw")
    assert sent.ies[1] == ChannelId(channel=31, exclusive=True)
    assert isinstance(sent.ies[-1], SendingComplete) and sent.cref_flag is False


def test_many_calls_both_ways(pair):
    pair.start()
    u, n = pair.user.q931, pair.net.q931
    for i in range(10):
        n.setup("1%03d" % i, "555")
        u.setup("2%03d" % i)
    pair.run(0.2)
    incoming = [e["call"] for e in pair.user.ev("setup")]
    outgoing = [e["call"] for e in pair.net.ev("setup")]
    for c in incoming:
        u.connect(c)
    for c in outgoing:
        n.connect(c)
    pair.run(0.2)
    assert len(u.calls) == 20 and all(c["state"] == "ACTIVE" for c in u.calls.values())
    assert sorted(c["chan"] for c in u.calls.values()) == list(range(1, 11)) + list(range(22, 32))
    for c in list(u.calls):
        u.disconnect(c)
    pair.run(0.2)
    assert u.calls == {} and n.calls == {}
    assert len(pair.user.ev("released")) == len(pair.net.ev("released")) == 20


def test_t303_no_answer_user_side(pair):
    pair.start()
    u = pair.user.q931
    uid = u.setup("1000")
    pair.run(4.05)
    assert messages(pair, "u>n") == ["SETUP", "SETUP"]             # resent once, the network ignores the repeat
    pair.run(4)
    assert u.calls == {} and simple(pair.user.events) == [("released", 102)]
    assert messages(pair, "u>n")[-1] == "RELEASE_COMPLETE/102"
    assert simple(pair.net.events) == ["setup", ("released", 102)]


def test_t303_no_answer_network_side(pair):
    pair.start()
    nid = pair.net.q931.setup("1000")
    pair.run(8.1)
    assert simple(pair.net.events) == [("released", 18)]              # Q.931 5.2.1: no user responding
    assert pair.net.q931.calls == {} and pair.user.q931.calls == {}
    assert pair.user.ev("released")[0]["call"] == pair.user.ev("setup")[0]["call"]


def test_t310_no_alerting(pair):
    pair.start()
    u = pair.user.q931
    uid = u.setup("1000")
    pair.run(0.1)
    pair.net.q931.proceeding(pair.net.events[0]["call"])
    pair.run(29.5)
    assert u.calls[uid]["state"] == "OUTGOING_CALL_PROCEEDING"
    pair.run(1)
    assert simple(pair.user.events) == ["proceeding", ("released", 102)]
    assert messages(pair, "u>n")[-2:] == ["DISCONNECT/102", "RELEASE_COMPLETE"]


def test_t301_alerting_without_answer_both_sides(pair):
    pair.start()
    u = pair.user.q931
    uid = u.setup("1000")
    pair.run(0.1)
    nid = pair.net.events[0]["call"]
    pair.net.q931.alerting(nid)
    pair.run(179)
    assert u.calls[uid]["state"] == "CALL_DELIVERED"
    pair.run(1.5)
    assert simple(pair.user.events)[-1] == ("released", 102)
    assert "DISCONNECT/102" in messages(pair, "u>n")
    # the network side times the same wait on its calls towards the user
    pair.user.events.clear()
    nid2 = pair.net.q931.setup("2000")
    pair.run(0.1)
    pair.user.q931.alerting(pair.user.ev("setup")[0]["call"])
    pair.run(181)
    assert "DISCONNECT/102" in messages(pair, "n>u")
    assert nid2 not in pair.net.q931.calls


def test_t313_no_connect_acknowledge(pair):
    pair.start()
    pair.net.q931.setup("1000")
    pair.run(0.1)
    uid = pair.user.events[0]["call"]
    pair.net.deaf = True
    pair.user.q931.connect(uid)
    pair.run(4.05)
    assert pair.user.q931.calls[uid]["state"] == "DISCONNECT_REQUEST"
    assert messages(pair, "u>n")[-1] == "DISCONNECT/102"


def test_t305_t308_clearing_against_a_deaf_peer(pair):
    pair.start()
    u = pair.user.q931
    uid = u.setup("1000")
    pair.run(0.1)
    pair.net.q931.connect(pair.net.events[0]["call"])
    pair.run(0.1)
    pair.net.deaf = True
    t0 = pair.clock.time()
    u.disconnect(uid)
    pair.run(29.9)
    assert u.calls[uid]["state"] == "DISCONNECT_REQUEST"
    pair.run(0.2)                                    # T305: RELEASE
    assert u.calls[uid]["state"] == "RELEASE_REQUEST"
    pair.run(4)                                      # first T308: RELEASE again
    assert messages(pair, "u>n", t0) == ["DISCONNECT/16", "RELEASE/16", "RELEASE/16"]
    assert uid in u.calls
    pair.run(4)                                      # second T308: give up, free the channel
    assert u.calls == {} and simple(pair.user.events)[-1] == ("released", 16)
    assert u.counters["timer:expiries"] == 3


def test_clear_collision(pair):
    pair.start()
    uid = pair.user.q931.setup("1000")
    pair.run(0.1)
    nid = pair.net.events[0]["call"]
    pair.net.q931.connect(nid)
    pair.run(0.1)
    pair.user.q931.disconnect(uid, 16)
    pair.net.q931.disconnect(nid, 16)               # DISCONNECTs cross on the wire
    pair.run(0.2)
    assert pair.user.q931.calls == {} and pair.net.q931.calls == {}
    assert pair.user.q931.counters["rx:unexpected"] == pair.net.q931.counters["rx:unexpected"] == 0
    assert simple(pair.user.events)[-1] == ("released", 16)


def test_box_rejects_an_incoming_call(pair):
    pair.start()
    nid = pair.net.q931.setup("1000")
    pair.run(0.1)
    pair.user.q931.disconnect(pair.user.events[0]["call"], 21)
    pair.run(0.1)
    assert messages(pair, "u>n") == ["RELEASE_COMPLETE/21"]
    assert simple(pair.net.events) == [("released", 21)]


def test_link_failure_t309(pair):
    pair.start()
    u = pair.user.q931
    active = u.setup("1000")
    ringing = u.setup("2000")
    pair.run(0.1)
    pair.net.q931.connect(pair.net.events[0]["call"])
    pair.net.q931.proceeding(pair.net.events[1]["call"])
    pair.run(0.1)
    assert u.calls[ringing]["state"] == "OUTGOING_CALL_PROCEEDING"
    pair.cut = True
    pair.run(20)                                     # T203 poll, N200 polls, SABME x4: the link fails
    assert pair.user.states[-1] == "failed" and not u.link_ok
    assert list(u.calls) == [active]                 # the call not yet active was cleared at once
    assert ("released", 41) in simple(pair.user.events)
    pair.cut = False
    pair.run(15)                                     # the link comes back before T309 (90 s)
    assert pair.user.states[-1] == "established" and u.link_ok
    assert u.calls[active]["state"] == "ACTIVE"
    assert "STATUS/31" in messages(pair, "u>n")
    pair.cut = True
    pair.run(20)
    assert u.calls[active]["state"] == "ACTIVE"
    pair.run(90)
    assert u.calls == {} and simple(pair.user.events)[-1] == ("released", 27)


def test_setup_refused_for_bad_channel_or_bearer(pair):
    pair.start()
    u, n = pair.user.q931, pair.net.q931
    n.setup("1000", chan=5)
    pair.run(0.1)
    # a second call from the exchange on the same channel: the box says 44
    m = Message("SETUP", 77, False, [BearerCapability(), ChannelId(channel=5), CalledPartyNumber(digits="1")])
    u.receive(encode(m))
    # preferred busy channel: the box picks another and names it (exclusive) in its first answer
    m = Message("SETUP", 78, False, [BearerCapability(), ChannelId(channel=5, exclusive=False)])
    u.receive(encode(m))
    # no channel identification from the network: mandatory, cause 96
    u.receive(encode(Message("SETUP", 79, False, [BearerCapability()])))
    # a data call: the box takes voice only
    u.receive(encode(Message("SETUP", 80, False, [BearerCapability(capability="unrestricted", layer1=None),
                                                  ChannelId(channel=9)])))
    pair.run(0.1)
    setups = pair.user.ev("setup")
    assert [e["chan"] for e in setups] == [5, 31]
    u.proceeding(setups[1]["call"])
    pair.run(0.1)
    answers = [decode(f[4:]) for f in pair.sent("u>n") if not f[2] & 1]
    refusals = [(a.cref, a.get(Cause).value) for a in answers if a.mtype == "RELEASE_COMPLETE"]
    assert refusals == [(77, 44), (79, 96), (80, 65)]
    proceeding = [a for a in answers if a.mtype == "CALL_PROCEEDING"][0]
    assert proceeding.cref == 78 and proceeding.get(ChannelId) == ChannelId(channel=31, exclusive=True)
    assert u.counters["calls:refused"] == 3


def test_far_end_moves_the_channel(pair):
    pair.start()
    u = pair.user.q931
    uid = u.setup("1000", chan=20)
    pair.run(0.1)
    # answer as a network that moved the call to channel 3
    m = Message("CALL_PROCEEDING", u.calls[uid]["cref"], True, [ChannelId(channel=3)])
    u.receive(encode(m))
    assert u.calls[uid]["chan"] == 3 and pair.user.events[-1] == {"ev": "proceeding", "call": uid, "chan": 3}
    uid2 = u.setup("1001", chan=4)
    u.receive(encode(Message("ALERTING", u.calls[uid2]["cref"], True, [ChannelId(channel=3)])))   # busy
    assert u.calls[uid2]["state"] == "DISCONNECT_REQUEST"


def test_primitive_errors(pair):
    u = pair.user.q931
    with pytest.raises(SignallingError, match="data link is down"):
        u.setup("1000")
    pair.start()
    with pytest.raises(SignallingError, match="called number"):
        u.setup("")
    with pytest.raises(SignallingError, match="calling number"):
        u.setup("1000", "12a")
    with pytest.raises(SignallingError, match="channel 16"):
        u.setup("1000", chan=16)
    with pytest.raises(SignallingError, match="no call 99"):
        u.connect(99)
    uid = u.setup("1000", chan=7)
    with pytest.raises(SignallingError, match="channel 7 is busy"):
        u.setup("1000", chan=7)
    with pytest.raises(SignallingError, match="cause 0"):
        u.disconnect(uid, 0)
    assert u.connect(uid) is False                 # answering our own outgoing call: not permitted
    assert u.counters["req:not_permitted"] == 1
    assert any("req CONNECT: not permitted" in line for line in pair.q931_log)


def test_no_free_channel():
    clock = ManualClock()
    q = Q931Link("s", "user", lambda d: None, clock, lambda e: None, channels=[1, 2], log=lambda s: None)
    q.link_up()
    q.setup("1")
    q.setup("2")
    with pytest.raises(SignallingError, match="no free B-channel"):
        q.setup("3")
    with pytest.raises(ValueError, match="channels"):
        Q931Link("s", "user", None, clock, None, channels=[0])
    with pytest.raises(ValueError, match="side"):
        Q931Link("s", "te", None, clock, None)
    with pytest.raises(ValueError, match="law"):
        Q931Link("s", "user", None, clock, None, law="gsm")


# -- one link fed by hand -------------------------------------------------------------------------

class Lone:
    """A Q931Link whose messages are decoded into ``out``."""

    def __init__(self, side="user"):
        self.clock = ManualClock()
        self.out = []
        self.events = []
        self.log = []
        self.q = Q931Link("span0", side, lambda d: self.out.append(decode(d)), self.clock, self.events.append,
                          log=self.log.append)
        self.q.link_up()

    def rx(self, octets):
        self.q.receive(h(octets) if isinstance(octets, str) else octets)
        return self.out[-1] if self.out else None

    def incoming_active(self):
        """A call from the network, answered and acknowledged: returns its call id (CRV 0x0005)."""
        self.rx("08 02 00 05 05 04 03 80 90 A3 18 03 A9 83 81 70 02 81 31")
        cid = self.events[-1]["call"]
        self.q.connect(cid)
        self.rx("08 02 00 05 0F")
        assert self.q.calls[cid]["state"] == "ACTIVE"
        return cid


def test_unknown_call_reference():
    t = Lone()
    reply = t.rx("08 02 80 33 07")                       # CONNECT for a call we never placed
    assert (reply.mtype, reply.cref, reply.cref_flag, reply.get(Cause).value) == ("RELEASE_COMPLETE", 0x33, False, 81)
    t.rx("08 02 80 34 4D 08 02 80 90")                   # RELEASE: also RELEASE COMPLETE 81
    assert (t.out[-1].mtype, t.out[-1].get(Cause).value) == ("RELEASE_COMPLETE", 81)
    n = len(t.out)
    t.rx("08 02 80 35 5A")                               # RELEASE COMPLETE: nothing
    t.rx("08 02 00 36 7D 08 02 80 9E 14 01 00")          # STATUS saying Null: nothing
    t.rx("08 02 80 37 05 04 03 80 90 A3")                # SETUP with the flag set: ignored
    assert len(t.out) == n and t.events == []
    t.rx("08 02 00 38 7D 08 02 80 9E 14 01 0A")          # STATUS saying Active: RELEASE COMPLETE 81
    assert (t.out[-1].mtype, t.out[-1].cref_flag, t.out[-1].get(Cause).value) == ("RELEASE_COMPLETE", True, 81)
    assert t.q.counters["rx:unknown_cref"] == 6
    assert "Q931(span0 cref=0x0033){NULL}: rx CONNECT: unknown call reference" in t.log


def test_status_enquiry():
    t = Lone()
    cid = t.incoming_active()
    reply = t.rx("08 02 00 05 75")
    assert reply.mtype == "STATUS" and reply.cref_flag is True
    assert reply.get(Cause).value == 30 and reply.get(CallState).value == 10
    assert t.q.calls[cid]["state"] == "ACTIVE"
    reply = t.rx("08 02 00 44 75")                        # unknown call: STATUS, Null state
    assert reply.mtype == "STATUS" and reply.get(CallState).value == 0 and reply.get(Cause).value == 30


def test_unexpected_and_unknown_messages():
    t = Lone()
    cid = t.incoming_active()
    reply = t.rx("08 02 00 05 01")                        # ALERTING towards an active call
    assert (reply.mtype, reply.get(Cause).value, reply.get(CallState).value) == ("STATUS", 101, 10)
    reply = t.rx("08 02 00 05 2A")                        # a message type Q.931 does not have
    assert (reply.mtype, reply.get(Cause).value) == ("STATUS", 98)
    n = len(t.out)
    t.rx("08 02 00 05 6E 27 01 80")                       # NOTIFY: accepted and ignored
    t.rx("08 02 00 05 05 04 03 80 90 A3")                 # a repeated SETUP: ignored
    assert len(t.out) == n
    assert t.q.calls[cid]["state"] == "ACTIVE" and t.q.counters["rx:unexpected"] == 2


def test_malformed_messages():
    t = Lone()
    cid = t.incoming_active()
    n = len(t.out)
    t.rx("")
    t.rx("09 02 00 05 05")
    assert len(t.out) == n                                # nothing to answer without a header
    reply = t.rx("08 02 00 05 7B 70 05 81")               # bad IE on a known call: STATUS 100
    assert (reply.mtype, reply.get(Cause).value) == ("STATUS", 100)
    reply = t.rx("08 02 00 09 05 04 01 80")               # bad SETUP: RELEASE COMPLETE 100
    assert (reply.mtype, reply.cref, reply.get(Cause).value) == ("RELEASE_COMPLETE", 9, 100)
    t.rx("08 02 00 05 45 08 01 80")                       # DISCONNECT with a broken cause: clearing goes on
    assert t.out[-1].mtype == "RELEASE"
    assert simple(t.events)[-1] == ("disconnect", 31)
    assert t.q.counters["rx:malformed"] == 5


def test_far_end_status_null_releases_the_call():
    t = Lone()
    cid = t.incoming_active()
    t.rx("08 02 00 05 7D 08 02 80 E5 14 01 00")
    assert t.q.calls == {} and simple(t.events)[-1] == ("released", 101)


def test_restart_clears_the_channel():
    t = Lone()
    cid = t.incoming_active()
    reply = t.rx("08 02 00 00 46 18 03 A9 83 81 79 01 80")
    assert reply.mtype == "RESTART_ACKNOWLEDGE" and reply.cref == 0 and reply.cref_flag is True
    assert reply.get(ChannelId) == ChannelId(channel=1) and reply.get(RestartIndicator).restart_class == 0
    assert t.q.calls == {} and simple(t.events)[-2:] == [("released", 41), "restart"]
    assert t.events[-1]["chans"] == [1]
    reply = t.rx("08 02 00 00 46 79 01 80")               # class 0 without a channel
    assert (reply.mtype, reply.get(Cause).value) == ("STATUS", 96)


def test_fuzz_receive_never_raises():
    rng = random.Random(3931)
    for side in ("user", "network"):
        t = Lone(side)
        t.q.setup("1000")
        seeds = [h("08 02 00 05 05 04 03 80 90 A3 18 03 A9 83 81 70 02 81 31"), h("08 02 80 01 02 18 03 A9 83 81"),
                 h("08 02 80 01 45 08 02 80 90"), h("08 02 00 00 46 18 03 A9 83 85 79 01 80"), h("08 02 80 01 07")]
        for i in range(1000):
            data = bytearray(rng.choice(seeds))
            for _ in range(rng.randrange(0, 3)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            if i % 4 == 0:
                data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 20)))
            t.q.receive(bytes(data))
            if i % 100 == 0:
                t.clock.advance(5)
        t.clock.advance(200)
        assert t.q.counters["fsm:bad_transitions"] == 0 and t.q.counters["app:errors"] == 0
        for c in t.q.calls.values():
            assert c["state"] in STATES


# -- the table itself ---------------------------------------------------------------------------

def test_table_handlers_exist_and_states_have_timers_from_the_table():
    for sides, row in ROWS:
        assert hasattr(Q931Link, row.handler), row.handler
        assert set(sides) <= {"U", "N"}
    named = {name for _, u, n in STATES.values() for name in (u, n) if name}
    assert named == {"T301", "T302", "T303", "T305", "T308", "T310", "T313"}
    assert set(TimerTable(q931_call.TIMER_DEFS).definition(n).name for n in named) == named
    assert STATES["CALL_INITIATED"][0] == 1 and STATES["RELEASE_REQUEST"][0] == 19
    assert q931_call.USER_TABLE.permitted("ACTIVE") == sorted([
        "DISCONNECT", "DISCONNECT_REQ", "FACILITY", "INFORMATION", "LINK_DOWN", "LINK_UP", "NOTIFY", "RELEASE",
        "RELEASE_COMPLETE", "RESTART", "STATUS", "STATUS_ENQUIRY", "T309"])
    assert all(COUNTERS.values())


def test_golden_basic_call_log(pair):
    """One full call (exchange calls the box, box answers, box hangs up): the transition log of both
    sides compared with the reviewed file."""
    pair.start()
    nid = pair.net.q931.setup("1000", "13800138000")
    pair.run(0.1)
    uid = pair.user.events[0]["call"]
    pair.user.q931.proceeding(uid)
    pair.run(0.1)
    pair.user.q931.alerting(uid)
    pair.run(1.0)
    pair.user.q931.connect(uid)
    pair.run(5.0)
    pair.user.q931.disconnect(uid)
    pair.run(0.1)
    got = "\n".join(pair.q931_log) + "\n"
    assert got == (EXPECTED / "q931_basic_call.log").read_text()



# -- overlap receiving -----------------------------------------------------------------------------

def _overlap(side, **kw):
    t = Lone(side)
    t.q.overlap = True
    for k, v in kw.items():
        setattr(t.q, k, v)
    return t


def _setup_msg(cref, digits, complete=False, side="user"):
    ies = [BearerCapability(), ChannelId(channel=7, exclusive=True)]
    if digits is not None:
        ies.append(CalledPartyNumber(digits=digits))
    if complete:
        ies.append(SendingComplete())
    return encode(Message("SETUP", cref, False, ies))


def _info(cref, digits, complete=False):
    ies = [CalledPartyNumber(digits=digits)] + ([SendingComplete()] if complete else [])
    return encode(Message("INFORMATION", cref, False, ies))


@pytest.mark.parametrize("side, state_no", [("user", 25), ("network", 2)])
def test_overlap_receiving_collects_digits_until_sending_complete(side, state_no):
    t = _overlap(side)
    reply = t.rx(_setup_msg(9, "10"))
    assert reply.mtype == "SETUP_ACKNOWLEDGE" and reply.get(ChannelId).channel == 7 and t.events == []
    t.clock.advance(10)
    t.rx(_info(9, "0"))
    t.clock.advance(10)                                    # T302 (15 s) restarted by every digit
    t.rx(_info(9, "8"))
    assert t.events == []
    status = t.rx(encode(Message("STATUS_ENQUIRY", 9, False, [])))
    assert status.get(CallState).value == state_no
    t.rx(_info(9, "6", complete=True))
    assert [(e["ev"], e["called"], e["chan"]) for e in t.events] == [("setup", "10086", 7)]
    cid = t.events[0]["call"]
    t.q.proceeding(cid)
    t.q.connect(cid)
    assert [m.mtype for m in t.out[-2:]] == ["CALL_PROCEEDING", "CONNECT"]
    assert t.out[-2].get(ChannelId) is None, "the channel was already named in SETUP ACKNOWLEDGE"
    n = len(t.out)
    t.rx(_info(9, "9"))                                     # late digits are ignored, no crash
    assert len(t.out) == n and "INFORMATION is not used" in t.log[-1] and len(t.events) == 1


def test_overlap_ends_by_the_number_rule_or_t302_and_clears_with_28_without_digits():
    t = _overlap("user", number_complete=lambda d: d == "10086")
    t.rx(_setup_msg(11, "100"))
    t.rx(_info(11, "86"))
    assert [e["called"] for e in t.events] == ["10086"]     # the rule saw a whole number
    t2 = _overlap("user")
    t2.rx(_setup_msg(12, "95"))
    t2.clock.advance(15.5)                                 # T302: go on with what arrived
    assert [e["called"] for e in t2.events] == ["95"]
    t3 = _overlap("user")
    t3.rx(_setup_msg(13, None))
    t3.clock.advance(15.5)                                 # nothing dialled: cause 28
    assert t3.events == [] and t3.out[-1].mtype == "DISCONNECT" and t3.out[-1].get(Cause).value == 28
    t4 = _overlap("user")
    t4.rx(_setup_msg(14, "12", complete=True))             # Sending Complete in the SETUP: en bloc
    assert t4.out == [] and [e["called"] for e in t4.events] == ["12"]
    t5 = _overlap("user")
    t5.rx(_setup_msg(15, "123#"))                          # '#' ends the number too
    assert [e["called"] for e in t5.events] == ["123"]
    t6 = _overlap("user")                                  # the caller gives up while dialling
    t6.rx(_setup_msg(16, "1"))
    t6.rx(encode(Message("DISCONNECT", 16, False, [Cause(value=16)])))
    assert t6.out[-1].mtype == "RELEASE"


def test_without_overlap_a_setup_without_sending_complete_is_complete():
    t = Lone("user")
    t.rx(_setup_msg(9, "10"))
    assert [e["called"] for e in t.events] == ["10"] and t.out == []


def test_restart_waits_for_its_acknowledge_t316_resends_once_then_reports():
    t = Lone()
    t.q.restart_channel(3)
    assert t.out[-1].mtype == "RESTART" and t.out[-1].get(ChannelId).channel == 3
    t.rx(encode(Message("RESTART_ACKNOWLEDGE", 0, True, [ChannelId(channel=3, exclusive=True), RestartIndicator(0)])))
    t.clock.advance(300)
    assert [m.mtype for m in t.out] == ["RESTART"], "an acknowledged RESTART is not sent again"
    t.q.restart_interface()
    t.clock.advance(121)                                   # T316: sent again once
    assert [m.mtype for m in t.out] == ["RESTART"] * 3
    t.clock.advance(121)                                   # then reported, not sent for ever
    assert [m.mtype for m in t.out] == ["RESTART"] * 3
    assert t.q.counters["restart:unacknowledged"] == 1 and t.events[-1]["ev"] == "restart_failed"
    assert "never acknowledged" in t.log[-1] or any("never acknowledged" in l for l in t.log)
