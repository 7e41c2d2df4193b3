"""T1 framing (G.704 2.1, T1.403, T1.231): SF and ESF round trips from any bit offset, CRC-6
against an independent calculation, framing-bit errors, OOF and reframe, yellow alarms, robbed-bit
signalling, LOS and AIS (framed all ones is not AIS), bad arguments."""
import random

import pytest

from callbox.line import T1Rx, T1Tx

BLOCK = 160            # frames per 20 ms
SF_F = [1, 0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 0]
FPS = [0, 0, 1, 0, 1, 1]


def payload(rng, n=BLOCK):
    return bytes(rng.randrange(256) for _ in range(24 * n))


def shifted(blocks, offset):
    """Concatenate raw blocks and delay the stream by offset bits (zeros first); same length."""
    data = b"".join(bytes(b) for b in blocks)
    v = int.from_bytes(data, "big") >> offset
    return v.to_bytes(len(data), "big")


def feed(rx, stream):
    out = bytearray()
    for i in range(0, len(stream), 3860):
        out += rx.deframe(stream[i:i + 3860])
    return out


def bits_of(raw):
    v = int.from_bytes(raw, "big")
    n = len(raw) * 8
    return [(v >> (n - 1 - i)) & 1 for i in range(n)]


@pytest.mark.parametrize("framing", ["sf", "esf"])
@pytest.mark.parametrize("offset", [0, 1, 37, 96, 192])
def test_round_trip_from_any_bit_offset(framing, offset):
    rng = random.Random(offset)
    tx, rx = T1Tx(framing), T1Rx(framing)
    pays = [payload(rng) for _ in range(8)]
    out = feed(rx, shifted([tx.frame(p) for p in pays], offset))
    st, c = rx.status(), rx.counters()
    assert st["aligned"] and not st["oof"] and not st["los"] and not st["ais"] and not st["yellow"]
    assert c["rx:fbit_errors"] == 0 and c["rx:crc6_errors"] == 0 and c["rx:reframes"] == 1
    sent = b"".join(pays)
    tail = bytes(out[-24 * 400:])                 # the last 400 frames arrive with a fixed delay
    assert tail in sent, "the payload comes through unchanged"


def crc6(bitlist):
    """Independent CRC-6 (x^6 + x + 1): remainder of M(x) * x^6 divided by G(x), C1 first."""
    reg = bitlist + [0] * 6
    for i in range(len(bitlist)):
        if reg[i]:
            for j, g in enumerate((1, 0, 0, 0, 0, 1, 1)):
                reg[i + j] ^= g
    return reg[-6:]


def test_esf_crc6_and_fps_match_an_independent_calculation():
    rng = random.Random(5)
    tx = T1Tx("esf")
    raw = b"".join(bytes(tx.frame(payload(rng))) for _ in range(2))       # 320 frames
    b = bits_of(raw)
    frames = [b[i * 193:(i + 1) * 193] for i in range(320)]
    for sf in range(1, 320 // 24):
        prev = frames[(sf - 1) * 24:sf * 24]
        cur = frames[sf * 24:(sf + 1) * 24]
        message = [bit for fr in prev for bit in ([1] + fr[1:])]          # F bits taken as 1
        assert [cur[k][0] for k in (1, 5, 9, 13, 17, 21)] == crc6(message), "superframe %d" % sf
        assert [cur[k][0] for k in (3, 7, 11, 15, 19, 23)] == FPS


def test_sf_framing_pattern():
    tx = T1Tx("sf")
    b = bits_of(bytes(tx.frame(bytes(24 * 160))))
    assert [b[i * 193] for i in range(24)] == SF_F * 2


def _flip(raw, bit):
    r = bytearray(raw)
    r[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(r)


def test_framing_bit_errors_counted_and_two_in_four_lose_frame():
    rng = random.Random(9)
    tx, rx = T1Tx("esf"), T1Rx("esf")
    for _ in range(4):
        rx.deframe(tx.frame(payload(rng)))
    assert rx.status()["aligned"]
    raw = bytes(tx.frame(payload(rng)))
    # frame 3 of the block is an FPS frame (the block starts on a superframe: 640 frames sent so far)
    raw = _flip(raw, 3 * 193)
    rx.deframe(raw)
    c = rx.counters()
    assert c["rx:fbit_errors"] == 1 and c["rx:oof_events"] == 0 and c["rx:crc6_errors"] == 0
    raw = bytes(tx.frame(payload(rng)))
    raw = _flip(_flip(raw, 3 * 193), 7 * 193)       # two FPS errors in a row
    rx.deframe(raw)
    assert rx.counters()["rx:oof_events"] == 1
    for _ in range(4):
        rx.deframe(tx.frame(payload(rng)))
    assert rx.status()["aligned"] and rx.counters()["rx:reframes"] == 2


def test_a_payload_bit_error_is_one_crc6_error():
    rng = random.Random(2)
    tx, rx = T1Tx("esf"), T1Rx("esf")
    for _ in range(4):
        rx.deframe(tx.frame(payload(rng)))
    raw = _flip(bytes(tx.frame(payload(rng))), 50 * 193 + 77)
    rx.deframe(raw)
    rx.deframe(tx.frame(payload(rng)))
    c = rx.counters()
    assert c["rx:crc6_errors"] == 1 and c["rx:fbit_errors"] == 0


@pytest.mark.parametrize("framing", ["sf", "esf"])
def test_yellow_alarm_both_forms(framing):
    rng = random.Random(3)
    tx, rx = T1Tx(framing), T1Rx(framing)
    for _ in range(3):
        rx.deframe(tx.frame(payload(rng)))
    assert not rx.status()["yellow"]
    tx.remote_alarm = True
    for _ in range(3):
        rx.deframe(tx.frame(payload(rng)))
    assert rx.status()["yellow"]
    tx.remote_alarm = False
    for _ in range(3):
        rx.deframe(tx.frame(payload(rng)))
    assert not rx.status()["yellow"]


def test_robbed_bit_signalling_sf_and_esf():
    for framing, sent, seen in (("esf", 0b1010, 0b1010), ("esf", 0b0111, 0b0111), ("sf", 0b1000, 0b1010),
                                ("sf", 0b0100, 0b0101)):
        tx, rx = T1Tx(framing), T1Rx(framing, rbs=True)
        tx.set_rbs(True)
        tx.set_abcd(5, sent)
        tx.set_abcd(24, 0b1111)
        assert rx.abcd(5) is None
        for _ in range(4):
            rx.deframe(tx.frame(b"\x7f" * 24 * 160))      # idle code (all zeros would be LOS)
        assert rx.abcd(5) == seen, (framing, sent)
        assert rx.abcd(24) == 0b1111


def test_los_then_recovery_and_ais_only_when_unframed():
    rng = random.Random(4)
    tx, rx = T1Tx("esf"), T1Rx("esf")
    for _ in range(3):
        rx.deframe(tx.frame(payload(rng)))
    rx.deframe(bytes(3860))
    st = rx.status()
    assert st["los"] and not st["aligned"] and rx.counters()["rx:los_events"] == 1
    for _ in range(4):
        rx.deframe(tx.frame(payload(rng)))
    assert rx.status()["aligned"] and not rx.status()["los"]
    for _ in range(4):
        rx.deframe(b"\xff" * 3860)                  # unframed all ones
    assert rx.status()["ais"]
    for _ in range(6):
        rx.deframe(tx.frame(b"\xff" * 24 * 160))     # framed all ones: not AIS
    st = rx.status()
    assert st["aligned"] and not st["ais"]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="framing 'e1'"):
        T1Tx("e1")
    tx = T1Tx("esf")
    with pytest.raises(ValueError, match="not a multiple of 8"):
        tx.frame(bytes(24 * 7))
    with pytest.raises(ValueError, match="channel 25"):
        tx.set_abcd(25, 1)
    with pytest.raises(ValueError, match="abcd 16"):
        tx.set_abcd(1, 16)
    with pytest.raises(ValueError, match="193-octet"):
        T1Rx("sf").deframe(bytes(100))
