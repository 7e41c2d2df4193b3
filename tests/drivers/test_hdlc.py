"""HDLC: round trips over many channels, FCS against an independent CRC, aborts, odd splits."""
import random

import pytest

from callbox.line import HdlcBank, tdm_deinterleave, tdm_interleave


def crc16_x25(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


def test_reference_crc_check_value():
    assert crc16_x25(b"123456789") == 0x906E


def pump(tx, rx, ticks, n=160):
    got = []
    for _ in range(ticks):
        got += rx.rx(tx.tx(n), n)
    return got


def test_frames_of_every_length_cross_on_many_channels():
    rng = random.Random(5)
    tx, rx = HdlcBank(4), HdlcBank(4)
    sent = {c: [] for c in range(4)}
    specials = [b"\x7e" * 10, b"\xff" * 20, b"\x1f\xf8" * 8, b"\x7d\x7e\x7f"]
    for length in range(1, 261, 7):
        for c in range(4):
            f = bytes(rng.randrange(256) for _ in range(length))
            sent[c].append(f)
    for c in range(4):
        sent[c] += specials
    got = {c: [] for c in range(4)}
    queue = {c: list(v) for c, v in sent.items()}
    for _ in range(400):
        for c in range(4):
            while queue[c]:
                try:
                    tx.send(c, queue[c][0])
                except Exception:
                    break
                queue[c].pop(0)
        for c, f in rx.rx(tx.tx(160), 160):
            got[c].append(f)
    assert got == sent
    assert rx.counters(0)["rx:fcs_errors"] == 0 and tx.counters(0)["tx:frames"] == len(sent[0])


def test_wire_bits_carry_the_standard_fcs():
    """Decode our own transmit bits with an independent unstuffer and check the FCS."""
    tx = HdlcBank(1)
    tx.send(0, b"\x02\x01\x7f")
    bits = []
    for o in tx.tx(16):
        bits += [(o >> k) & 1 for k in range(7, -1, -1)]
    s = "".join(map(str, bits))
    start = s.index("01111110") + 8
    while s[start:start + 8] == "01111110":
        start += 8
    end = s.index("01111110", start)
    body = s[start:end].replace("111110", "11111")
    data = bytes(int(body[i:i + 8][::-1], 2) for i in range(0, len(body), 8))
    assert data[:3] == b"\x02\x01\x7f"
    assert int.from_bytes(data[3:5], "little") == crc16_x25(b"\x02\x01\x7f")


def test_corrupted_frame_is_counted_not_delivered():
    tx, rx = HdlcBank(1), HdlcBank(1)
    tx.send(0, b"hello world")
    out = bytearray(tx.tx(40))
    out[10] ^= 0x10
    assert rx.rx(bytes(out), 40) == []
    assert rx.counters(0)["rx:fcs_errors"] + rx.counters(0)["rx:too_short"] == 1


def test_abort_is_counted_and_next_frame_survives():
    tx, rx = HdlcBank(1), HdlcBank(1)
    tx.send(0, bytes(range(50)))
    out = bytearray(tx.tx(40))
    out[20:24] = b"\xff\xff\xff\xff"                    # abort in the middle
    rx.rx(bytes(out), 40)
    assert rx.counters(0)["rx:aborts"] == 1
    tx.send(0, b"after")
    assert pump(tx, rx, 1) == [(0, b"after")]


def test_frames_split_across_odd_sized_calls():
    tx, rx = HdlcBank(1), HdlcBank(1)
    for i in range(5):
        tx.send(0, bytes([i]) * (30 + i))
    wire = bytes(tx.tx(400))
    got, pos, rng = [], 0, random.Random(9)
    while pos < len(wire):
        k = min(rng.randrange(1, 13), len(wire) - pos)
        got += rx.rx(wire[pos:pos + k], k)
        pos += k
    assert [f for _, f in got] == [bytes([i]) * (30 + i) for i in range(5)]


def test_queue_limit_and_bad_arguments():
    tx = HdlcBank(1)
    for _ in range(32):
        tx.send(0, b"x")
    from callbox.errors import LineError
    with pytest.raises(LineError, match="full"):
        tx.send(0, b"x")
    with pytest.raises(ValueError, match="outside 1..264"):
        tx.send(0, b"")
    with pytest.raises(ValueError):
        HdlcBank(0)


def test_tdm_round_trip():
    frames = bytes(random.Random(3).randrange(256) for _ in range(32 * 160))
    chans = tdm_deinterleave(frames, 160)
    assert chans[5 * 160 + 7] == frames[7 * 32 + 5]
    assert bytes(tdm_interleave(chans, 160)) == frames
