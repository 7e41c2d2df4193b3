"""Q.921 LAPD: two data links back to back on a ManualClock.

Establishment (and SABME collision), 300 I frames each way through sequence number wrap, loss
recovered by REJ and by T200 polling, a silent peer (N200, then retries for ever), T203 keep-alive,
release, re-establishment on protocol errors, and malformed/random frames that must never raise.
"""
import random
from pathlib import Path

import pytest

from callbox.errors import SignallingError
from callbox.signalling.q921 import COUNTERS, Lapd, parse_frame
from callbox.signalling.timers import ManualClock, TimerTable
from callbox.signalling import q921

pytestmark = pytest.mark.sim

EXPECTED = Path(__file__).resolve().parent.parent / "expected"
MFE = "MULTIPLE_FRAME_ESTABLISHED"


def i_frames(frames):
    """(N(S), info) of the I frames in a list of frames."""
    return [(f[2] >> 1, f[4:]) for f in frames if not f[2] & 1]


def kinds(frames):
    out = []
    for f in frames:
        fr, _ = parse_frame(f, 0)
        fr2, _ = parse_frame(f, 1)
        out.append((fr or fr2).kind)
    return out


def test_frame_octets_as_the_standard_gives_them():
    clock = ManualClock()
    sent = {"user": [], "network": []}
    u = Lapd("u", "user", sent["user"].append, lambda d: None, lambda s: None, clock)
    n = Lapd("n", "network", sent["network"].append, lambda d: None, lambda s: None, clock)
    u.start()
    n.start()
    assert sent["user"] == [bytes.fromhex("00017F")]        # TE SABME, P=1
    assert sent["network"] == [bytes.fromhex("02017F")]     # NT SABME, P=1
    n.receive_frame(sent["user"][0])
    u.receive_frame(sent["network"][0])
    assert sent["network"][1] == bytes.fromhex("000173")    # NT's UA to the TE's SABME
    assert sent["user"][1] == bytes.fromhex("020173")       # TE's UA to the NT's SABME
    n.receive_frame(sent["user"][1])
    u.receive_frame(sent["network"][1])
    assert u.state == n.state == MFE
    u.send(b"\x08\x02\x00\x01\x05")
    assert sent["user"][2] == bytes.fromhex("0001 0000") + b"\x08\x02\x00\x01\x05"   # I, C/R=0, N(S)=0 N(R)=0
    n.receive_frame(sent["user"][2])
    assert sent["network"][2] == bytes.fromhex("00010102")  # RR response from NT (C/R=0), N(R)=1


def test_sabme_collision_establishes(lapd_pair):
    p = lapd_pair
    p.start()
    for side, other in (("u>n", "n>u"), ("n>u", "u>n")):
        assert kinds(p.sent(side)) == ["SABME", "UA"]
    assert p.user.states == p.net.states == ["established"]
    assert p.user.lapd.counters["link:established"] == 1


def test_one_side_late_peer_recovers_after_pause(lapd_pair):
    p = lapd_pair
    p.user.lapd.start()                  # the network side is not started: it refuses with DM
    p.run(0.1)
    assert kinds(p.sent("n>u")) == ["DM"]
    assert p.user.lapd.state == "TEI_ASSIGNED" and p.user.states == ["released"]
    p.net.lapd.start()                   # the exchange comes up; the user side is pausing (X200)
    p.run(0.1)
    assert p.user.lapd.state == p.net.lapd.state == MFE
    assert p.user.states == ["released", "established"] and p.net.states == ["established"]


def test_i_frames_both_ways_through_sequence_wrap(lapd_pair):
    p = lapd_pair
    p.start()
    n = 300
    for i in range(n):
        p.user.lapd.send(b"U%03d" % i)
        p.net.lapd.send(b"N%03d" % i)
        if i % 40 == 0:
            p.run(0.02)
    p.run(2)
    assert p.net.delivered == [b"U%03d" % i for i in range(n)]
    assert p.user.delivered == [b"N%03d" % i for i in range(n)]
    for s in (p.user, p.net):
        c = s.lapd.counters
        assert c["tx:i_frames"] == n and c["tx:retransmissions"] == 0 and c["t200:expiries"] == 0
        assert (s.lapd.vs, s.lapd.va, s.lapd.vr) == (n % 128, n % 128, n % 128)
    # never more than k=7 unacknowledged: with a 5 ms wire, a burst shows N(S) 0..6 before the first ack
    first = [ns for ns, _ in i_frames(p.sent("u>n"))][:8]
    assert first[:7] == list(range(7))


def test_window_holds_k_frames(lapd_pair):
    p = lapd_pair
    p.start()
    t0 = p.clock.time()
    for i in range(10):
        p.user.lapd.send(b"w%d" % i)
    assert [ns for ns, _ in i_frames(p.sent("u>n", t0))] == list(range(7))     # k = 7, then wait for N(R)
    p.run(0.1)
    assert p.net.delivered == [b"w%d" % i for i in range(10)]


def test_peer_busy_rnr(lapd_pair):
    p = lapd_pair
    p.start()
    u = p.user.lapd
    u.receive_frame(bytes.fromhex("00 01 05 00"))         # RNR response from the network, N(R)=0
    t0 = p.clock.time()
    u.send(b"held")
    assert i_frames(p.sent("u>n", t0)) == []
    p.run(1.1)                                            # T200: poll; the network answers RR F=1 (not busy)
    assert p.net.delivered == [b"held"]
    assert kinds(p.sent("u>n", t0)) == ["RR", "I"]


def test_acknowledgement_piggy_backs_on_the_answer(lapd_pair):
    p = lapd_pair
    p.start()
    p.net.lapd.deliver = lambda data: p.net.lapd.send(b"re:" + data)     # layer 3 answers at once
    since = p.clock.time()
    for i in range(5):
        p.user.lapd.send(b"q%d" % i)
        p.run(0.1)
    answers = p.sent("n>u", since)
    assert kinds(answers) == ["I"] * 5          # acknowledged by N(R) of the answers, no RR
    assert [f[3] >> 1 for f in answers] == [1, 2, 3, 4, 5]


def test_lost_i_frame_recovered_by_rej(lapd_pair):
    p = lapd_pair
    p.start()
    lost = []

    def drop(direction, frame):
        if direction == "u>n" and not frame[2] & 1 and frame[2] >> 1 == 2 and not lost:
            lost.append(frame)
            return True
        return False
    p.drop = drop
    for i in range(6):
        p.user.lapd.send(b"m%d" % i)
    p.run(0.5)
    assert p.net.delivered == [b"m%d" % i for i in range(6)]
    assert p.net.lapd.counters["tx:rej"] == 1
    assert p.net.lapd.counters["rx:out_of_sequence"] == 3
    assert p.user.lapd.counters["tx:retransmissions"] == 4       # N(S) 2..5 go again
    assert p.user.lapd.counters["t200:expiries"] == 0


def test_lost_last_frame_recovered_by_t200_poll(lapd_pair):
    p = lapd_pair
    p.start()
    dropped = []

    def drop(direction, frame):
        if direction == "u>n" and not frame[2] & 1 and frame[2] >> 1 == 4 and not dropped:
            dropped.append(frame)
            return True
        return False
    p.drop = drop
    for i in range(5):
        p.user.lapd.send(b"m%d" % i)
    p.run(0.5)
    assert p.net.delivered == [b"m%d" % i for i in range(4)]
    assert p.user.lapd.state == MFE
    p.run(1.0)                                   # T200 expires: RR P=1, answer RR F=1 N(R)=4, resend N(S)=4
    assert p.net.delivered == [b"m%d" % i for i in range(5)]
    assert p.user.lapd.counters["t200:expiries"] == 1
    assert p.user.lapd.counters["tx:retransmissions"] == 1
    assert p.user.lapd.state == MFE and p.user.lapd.va == 5


def test_lost_acknowledgement_does_not_duplicate(lapd_pair):
    p = lapd_pair
    p.start()
    p.drop = lambda d, f: d == "n>u" and len(f) == 4 and f[2] == 0x01 and not f[3] & 1   # RR F=0 from the network
    for i in range(3):
        p.user.lapd.send(b"m%d" % i)
    p.run(2)
    assert p.net.delivered == [b"m0", b"m1", b"m2"]
    assert p.user.lapd.counters["t200:expiries"] == 1
    assert p.user.lapd.counters["tx:retransmissions"] == 0       # the poll's answer acknowledged everything
    assert p.user.lapd.va == 3 and p.user.lapd.state == MFE


def test_silent_peer_fails_then_retries_forever(lapd_pair):
    p = lapd_pair
    p.cut = True
    p.user.lapd.start()
    p.run(3.5)
    assert kinds(p.sent("u>n")) == ["SABME"] * 4                   # 1 + N200, T200 apart
    assert p.user.states == []
    p.run(1)
    assert p.user.states == ["failed"] and p.user.lapd.state == "TEI_ASSIGNED"
    assert p.user.lapd.counters["link:failures"] == 1
    p.run(10)                                                      # X200 pause, then again
    assert kinds(p.sent("u>n")) == ["SABME"] * 5 and p.user.lapd.state == "AWAITING_ESTABLISHMENT"
    p.run(60)
    assert p.user.states == ["failed"]                             # reported once, not at every round
    assert p.user.lapd.counters["link:failures"] > 3
    p.cut = False
    p.net.lapd.start()
    p.run(15)
    assert p.user.lapd.state == p.net.lapd.state == MFE
    assert p.user.states == ["failed", "established"]


def test_established_link_loses_peer(lapd_pair):
    p = lapd_pair
    p.start()
    p.cut = True
    t0 = p.clock.time()
    p.user.lapd.send(b"hello")
    p.run(1.5)
    assert p.user.lapd.state == "TIMER_RECOVERY"
    p.run(3.0)                                   # N200 polls in all, then SABME
    assert p.user.lapd.state == "AWAITING_ESTABLISHMENT"
    assert kinds(p.sent("u>n", t0)) == ["I", "RR", "RR", "RR", "SABME"]
    assert p.user.lapd.counters["tx:discarded"] == 1
    p.run(4)
    assert p.user.states == ["established", "failed"]


def test_t203_keep_alive(lapd_pair):
    p = lapd_pair
    p.start()
    t0 = p.clock.time()
    p.run(9.5)
    assert p.sent("u>n", t0) == [] and p.sent("n>u", t0) == []
    p.run(26)
    for s in (p.user, p.net):
        assert s.lapd.counters["t203:expiries"] == 3
        assert s.lapd.state == MFE
        assert s.states == ["established"]
    assert set(kinds(p.sent("u>n", t0))) == {"RR"}


def test_release_and_refusal_while_stopped(lapd_pair):
    p = lapd_pair
    p.start()
    p.user.lapd.stop()
    p.run(0.1)
    assert kinds(p.sent("u>n"))[-1] == "DISC" and kinds(p.sent("n>u"))[-1] == "UA"
    assert p.user.lapd.state == p.net.lapd.state == "TEI_ASSIGNED"
    assert p.user.states == p.net.states == ["established", "released"]
    p.run(10.5)                                    # the network side tries again after X200, the box says DM
    assert kinds(p.sent("n>u"))[-1] == "SABME" and kinds(p.sent("u>n"))[-1] == "DM"
    assert p.net.states == ["established", "released"]
    p.user.lapd.start()
    p.run(0.1)
    assert p.user.lapd.state == p.net.lapd.state == MFE


def test_frames_queued_while_down_go_out_once_up(lapd_pair):
    p = lapd_pair
    p.user.lapd.send(b"early")
    p.start()
    assert p.net.delivered == [b"early"]


def test_peer_reset_and_protocol_errors_reestablish(lapd_pair):
    p = lapd_pair
    p.start()
    u = p.user.lapd
    u.receive_frame(bytes.fromhex("02017F"))          # network SABME while established: reset
    assert p.user.states == ["established", "established"]
    p.run(0.1)
    u.receive_frame(bytes.fromhex("02 01 01 C8"))      # RR with N(R)=100, nothing outstanding: N(R) error
    assert u.state == "AWAITING_ESTABLISHMENT"
    p.run(0.1)
    assert u.state == MFE
    u.receive_frame(bytes.fromhex("02 01 FF"))         # undefined U control field: frame reject condition
    assert u.state == "AWAITING_ESTABLISHMENT"
    p.run(0.1)
    u.receive_frame(bytes.fromhex("00 01 87 00 00 00"))   # FRMR from the network
    p.run(0.1)
    assert u.state == MFE
    u.receive_frame(bytes.fromhex("00 01 1F"))            # DM F=1 while established: MDL-ERROR(B), no action
    assert u.state == MFE
    u.receive_frame(bytes.fromhex("00 01 0F"))            # DM F=0: the peer lost the link, re-establish
    assert u.state == "AWAITING_ESTABLISHMENT"
    p.run(0.1)
    assert u.state == MFE
    assert u.counters["rx:frame_rejects"] == 3
    p.user.lapd.send(b"still works")
    p.run(0.1)
    assert p.net.delivered[-1] == b"still works"


MALFORMED = [
    (b"", "rx:invalid"),
    (b"\x02", "rx:invalid"),
    (b"\x02\x01", "rx:invalid"),
    (b"\x03\x01\x7f", "rx:invalid"),                   # EA=1 in address octet 1
    (b"\x02\x00\x7f", "rx:invalid"),                   # EA=0 in address octet 2
    (b"\xfe\x01\x7f", "rx:not_for_us"),                # SAPI 63
    (b"\x02\xff\x03", "rx:not_for_us"),                # TEI 127
    (b"\x00\x01\x7f", "rx:invalid"),                   # SABME with a response's C/R
    (b"\x02\x01\x73", "rx:invalid"),                   # UA with a command's C/R
    (b"\x00\x01\x00\x00x", "rx:invalid"),              # I frame as a response
    ("a string", "rx:invalid"),
    (None, "rx:invalid"),
    (12, "rx:invalid"),
]


@pytest.mark.parametrize("frame,counter", MALFORMED)
def test_malformed_frames_are_counted_and_dropped(lapd_pair, frame, counter):
    p = lapd_pair
    p.start()
    before = p.user.lapd.counters
    p.user.lapd.receive_frame(frame)
    after = p.user.lapd.counters
    assert after[counter] == before[counter] + 1
    assert p.user.lapd.state == MFE and p.user.delivered == []
    assert any("discarded" in line for line in p.q921_log[-2:])


@pytest.mark.parametrize("frame,why", [
    (b"\x02\x01\x01", "RR frame of 3 octets"),
    (b"\x02\x01\x01\x00\x00", "RR frame of 5 octets"),
    (b"\x02\x01\x11\x00", "undefined S control field 0x11"),
    (b"\x02\x01\x7f\x00", "SABME frame with 1 information octets"),
    (b"\x02\x01\x00", "one-octet control field"),
    (b"\x02\x01\x00\x00" + b"x" * 261, "exceeds N201=260"),
])
def test_frame_reject_conditions(frame, why):
    fr, problem = parse_frame(frame, 1)
    assert problem is None and fr.kind == "BAD" and why in fr.why


def test_fuzz_never_raises_and_the_link_recovers(lapd_pair):
    p = lapd_pair
    p.start()
    rng = random.Random(921)
    valid = [bytes.fromhex(x) for x in ("02017F", "020143", "00010F", "000163", "02010100", "02010500",
                                        "02010900", "0201000008020001")]
    for i in range(2000):
        if i % 3 == 0:
            f = bytearray(rng.choice(valid))
            f[rng.randrange(len(f))] = rng.randrange(256)
        elif i % 3 == 1:
            f = bytes((rng.choice((0, 2)), 1)) + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 6)))
        else:
            f = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 12)))
        target = p.user if i % 2 else p.net
        target.lapd.receive_frame(bytes(f))
        if i % 50 == 0:
            p.run(0.3)
    p.run(60)
    assert p.user.lapd.state == p.net.lapd.state == MFE
    for s in (p.user, p.net):
        assert s.lapd.counters["fsm:bad_transitions"] == 0
        assert s.lapd.counters["app:errors"] == 0
    p.user.lapd.send(b"after the storm")
    p.run(0.1)
    assert p.net.delivered[-1] == b"after the storm"


def test_send_checks_its_argument(lapd_pair):
    u = lapd_pair.user.lapd
    for bad in (b"", "text", b"x" * 261):
        with pytest.raises(SignallingError, match="Sending on Q921"):
            u.send(bad)


def test_queue_bound(lapd_pair):
    u = lapd_pair.user.lapd
    for i in range(q921.MAX_QUEUE + 3):
        u.send(b"x")
    assert u.counters["tx:dropped"] == 3


def test_timer_overrides_and_bad_construction():
    clock = ManualClock()
    sent = []
    t = TimerTable(q921.TIMER_DEFS, {"T200": 0.5, "N200": 1})
    u = Lapd("u", "user", sent.append, lambda d: None, lambda s: None, clock, timers=t)
    u.start()
    clock.advance(0.6)
    assert len(sent) == 2
    clock.advance(0.5)
    assert u.state == "TEI_ASSIGNED"
    with pytest.raises(ValueError, match="side"):
        Lapd("u", "master", sent.append, None, None, clock)


def test_counters_declared_once():
    clock = ManualClock()
    u = Lapd("u", "user", lambda f: None, lambda d: None, lambda s: None, clock)
    assert set(u.counters) == set(COUNTERS) and all(COUNTERS.values())
    assert "state=TEI_ASSIGNED" in str(u)


def test_callback_exceptions_do_not_break_the_link(lapd_pair):
    p = lapd_pair
    p.start()

    def boom(data):
        raise RuntimeError("layer 3 bug")
    p.net.lapd.deliver = boom
    p.user.lapd.send(b"one")
    p.run(0.1)
    assert p.net.lapd.counters["app:errors"] == 1 and p.net.lapd.state == MFE
    assert p.user.lapd.va == 1                       # still acknowledged


def test_golden_link_log(lapd_pair):
    """Establishment, one message each way, a T203 poll, release: compared with the reviewed log."""
    p = lapd_pair
    p.user.lapd.start()
    p.run(0.002)
    p.net.lapd.start()
    p.run(0.1)
    p.user.lapd.send(b"\x08\x02\x00\x01\x05")
    p.run(0.1)
    p.net.lapd.send(b"\x08\x02\x80\x01\x02")
    p.run(10.5)
    p.user.lapd.stop()
    p.run(0.1)
    got = "\n".join(p.q921_log) + "\n"
    expected = (EXPECTED / "q921_link.log").read_text()
    assert got == expected
