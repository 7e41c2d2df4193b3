"""HDLC bank (Q.921 2.2-2.10 framing): round trips of every length over many channels,
the FCS and the bit order against an independent Python encoder/decoder, invalid
frames (FCS, abort, too long, too short), odd splits, the transmit queue, arguments.

Wire convention checked here: timeslot octets are read MSB first; each HDLC octet
(data and FCS) goes LSB first inside that bit stream.
"""
import random

import pytest

from callbox.errors import LineError
from callbox.line import HDLC_TX_QUEUE, HdlcBank

FLAG = "01111110"


# ---------------------------------------------------------------- independent reference

def crc16_x25(data):
    """CRC-16/X.25: reflected 0x1021, preset 0xFFFF, complemented."""
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


def octet_bits(data):
    """HDLC octets -> bits in line order (LSB first)."""
    return "".join(format(b, "08b")[::-1] for b in data)


def stuff(bits):
    out, ones = [], 0
    for b in bits:
        out.append(b)
        ones = ones + 1 if b == "1" else 0
        if ones == 5:
            out.append("0")
            ones = 0
    return "".join(out)


def encode(frames, fcs=True):
    """Reference transmitter: one flag between frames, FCS low octet first."""
    s = FLAG
    for f in frames:
        body = f + crc16_x25(f).to_bytes(2, "little") if fcs else f
        s += stuff(octet_bits(body)) + FLAG
    return s


def to_octets(bits):
    """Line bits -> timeslot octets, MSB first, padded with flags' ones to whole octets."""
    bits += FLAG * 2
    bits = bits[:len(bits) // 8 * 8]
    return bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))


def wire_bits(octets):
    return "".join(format(o, "08b") for o in octets)


def decode(bits):
    """Reference receiver: frames between flags, unstuffed, LSB first (FCS left on)."""
    out = []
    for chunk in bits.split(FLAG)[1:-1]:
        if not chunk:
            continue
        body = chunk.replace("111110", "11111")
        out.append(bytes(int(body[i:i + 8][::-1], 2) for i in range(0, len(body) // 8 * 8, 8)))
    return out


def test_reference_crc_check_value():
    assert crc16_x25(b"123456789") == 0x906E


def pump(tx, rx, ticks, n=160):
    got = []
    for _ in range(ticks):
        got += rx.rx(tx.tx(n), n)
    return got


def nasty_frame(rng, length):
    """Random payload with runs that stress flags, stuffing and aborts."""
    pieces = [b"\x7e", b"\xff", b"\x1f", b"\xf8", b"\x3f", b"\x7d"]
    f = bytearray()
    while len(f) < length:
        if rng.random() < 0.5:
            f += rng.choice(pieces) * rng.randrange(1, 6)
        else:
            f += rng.randbytes(rng.randrange(1, 8))
    return bytes(f[:length])


# ---------------------------------------------------------------- round trips

def test_every_length_1_to_260_crosses_on_many_channels():
    rng = random.Random(5)
    nchan = 12
    tx, rx = HdlcBank(nchan), HdlcBank(nchan)
    sent = {c: [nasty_frame(rng, length) for length in rng.sample(range(1, 261), 260)] for c in range(nchan)}
    sent[0] += [b"\x7e" * 260, b"\xff" * 260, b"\x1f" * 260, b"\x00" * 260]
    queue = {c: list(v) for c, v in sent.items()}
    got = {c: [] for c in range(nchan)}
    for _ in range(2000):
        for c in range(nchan):
            while queue[c] and tx.pending(c) < HDLC_TX_QUEUE:
                tx.send(c, queue[c].pop(0))
        for c, f in rx.rx(tx.tx(160), 160):
            got[c].append(f)
        if not any(queue.values()) and not any(tx.pending(c) for c in range(nchan)):
            break
    got_last = rx.rx(tx.tx(160), 160)
    for c, f in got_last:
        got[c].append(f)
    assert got == sent
    for c in range(nchan):
        assert rx.counters(c) == {"rx:frames": len(sent[c]), "rx:fcs_errors": 0, "rx:aborts": 0,
                                  "rx:too_long": 0, "rx:too_short": 0, "tx:frames": 0}
        assert tx.counters(c)["tx:frames"] == len(sent[c])


def test_transmit_bits_match_the_reference_decoder_and_fcs():
    rng = random.Random(6)
    tx = HdlcBank(1)
    frames = [nasty_frame(rng, n) for n in (1, 2, 3, 17, 64, 260)] + [b"\x02\x01\x7f"]
    for f in frames:
        tx.send(0, f)
    bits = wire_bits(tx.tx(800))
    decoded = decode(bits)
    assert [d[:-2] for d in decoded] == frames
    assert all(int.from_bytes(d[-2:], "little") == crc16_x25(d[:-2]) for d in decoded)
    chunks = bits.split(FLAG)[:-1]                 # the last piece is cut off by the call's end
    used = [i for i, c in enumerate(chunks) if c]
    assert all(chunks[used[0]:used[-1] + 1])       # one flag between frames, none doubled


def test_receiver_accepts_the_reference_transmitter():
    rng = random.Random(7)
    frames = [nasty_frame(rng, rng.randrange(1, 261)) for _ in range(40)]
    octets = to_octets(encode(frames))
    rx = HdlcBank(1)
    assert [f for _, f in rx.rx(octets, len(octets))] == frames


def test_idle_channel_sends_flags_and_good_frame_residue():
    tx = HdlcBank(3)
    assert bytes(tx.tx(10)) == b"\x7e" * 30
    # residue: running the FCS register over frame + FCS leaves 0xF0B8 (complemented: 0x0F47)
    f = b"\x00\x01\x7f"
    assert crc16_x25(f + crc16_x25(f).to_bytes(2, "little")) == 0xF0B8 ^ 0xFFFF


# ---------------------------------------------------------------- invalid frames

def test_corrupted_frames_are_counted_as_fcs_errors_and_never_delivered():
    """A 1 turned into 0 inside a frame cannot make a flag or an abort: exactly one FCS error."""
    rng = random.Random(8)
    for trial in range(200):
        f = nasty_frame(rng, rng.randrange(1, 100))
        bits = encode([f])
        start, end = len(FLAG), len(bits) - len(FLAG)
        ones = [i for i in range(start, end) if bits[i] == "1"]
        i = rng.choice(ones)
        bad = bits[:i] + "0" + bits[i + 1:]
        rx = HdlcBank(1)
        octets = to_octets(bad)
        assert rx.rx(octets, len(octets)) == [], trial
        c = rx.counters(0)
        assert c["rx:fcs_errors"] == 1 and c["rx:frames"] == 0, (trial, c)


def test_random_bit_errors_never_deliver_a_wrong_frame():
    rng = random.Random(9)
    frames = [nasty_frame(rng, rng.randrange(1, 80)) for _ in range(300)]
    bits = list(encode(frames))
    for i in rng.sample(range(len(bits)), 400):
        bits[i] = "1" if bits[i] == "0" else "0"
    octets = to_octets("".join(bits))
    rx = HdlcBank(1)
    got = [f for _, f in rx.rx(octets, len(octets))]
    assert set(got) <= set(frames)
    c = rx.counters(0)
    assert 50 < len(got) < 300 and c["rx:fcs_errors"] + c["rx:aborts"] + c["rx:too_short"] > 50


def test_abort_is_counted_and_the_next_frame_survives():
    tx, rx = HdlcBank(1), HdlcBank(1)
    tx.send(0, bytes(range(50)))
    out = bytearray(tx.tx(40))
    out[20:24] = b"\xff\xff\xff\xff"                    # seven or more ones in the middle
    assert rx.rx(bytes(out), 40) == []
    assert rx.counters(0)["rx:aborts"] == 1 and rx.counters(0)["rx:fcs_errors"] == 0
    tx.send(0, b"after")
    assert pump(tx, rx, 1) == [(0, b"after")]
    # mark idle (all ones) after a closing flag is no abort
    rx.rx(b"\xff" * 8, 8)
    assert rx.counters(0)["rx:aborts"] == 1


def test_too_long_and_too_short():
    big, small = HdlcBank(1, max_frame=300), HdlcBank(1, max_frame=100)
    big.send(0, bytes(101))
    big.send(0, bytes(100))
    assert [len(f) for _, f in pump(big, small, 2)] == [100]
    assert small.counters(0)["rx:too_long"] == 1
    octets = to_octets(encode([b"\x42"], fcs=False) + encode([b"\x42\x43"], fcs=False))
    rx = HdlcBank(1)
    assert rx.rx(octets, len(octets)) == []
    assert rx.counters(0)["rx:too_short"] == 2


def test_non_octet_frames_count_as_fcs_errors():
    bits = FLAG + stuff(octet_bits(b"\x01\x02\x03") + "1") + FLAG
    rx = HdlcBank(1)
    octets = to_octets(bits)
    assert rx.rx(octets, len(octets)) == [] and rx.counters(0)["rx:fcs_errors"] == 1


# ---------------------------------------------------------------- calls and channels

def test_frames_split_across_many_odd_sized_calls():
    rng = random.Random(10)
    nchan = 3
    tx, rx = HdlcBank(nchan), HdlcBank(nchan)
    sent = {c: [nasty_frame(rng, rng.randrange(1, 261)) for _ in range(20)] for c in range(nchan)}
    for c in range(nchan):
        for f in sent[c]:
            tx.send(c, f)
    wire = [bytes(tx.tx(8000))]
    chans = [wire[0][c * 8000:(c + 1) * 8000] for c in range(nchan)]
    got = {c: [] for c in range(nchan)}
    pos = 0
    while pos < 8000:
        n = min(rng.choice([1, 2, 3, 5, 7, 11, 13, 160, 333]), 8000 - pos)
        block = b"".join(ch[pos:pos + n] for ch in chans)
        for c, f in rx.rx(block, n):
            got[c].append(f)
        pos += n
    assert got == sent


def test_one_big_call_with_many_small_frames():
    tx, rx = HdlcBank(2), HdlcBank(2)
    sent = []
    wire = bytearray()
    for i in range(200):
        for c in range(2):
            tx.send(c, bytes([i]))
        sent.append(bytes([i]))
        out = tx.tx(5)
        wire += out                                  # chan 0's 5 octets then chan 1's: re-split below
    per_chan = [b"".join(wire[k + c * 5:k + c * 5 + 5] for k in range(0, len(wire), 10)) for c in range(2)]
    n = len(per_chan[0])
    got = rx.rx(per_chan[0] + per_chan[1], n)
    assert [f for c, f in got if c == 0] == sent and [f for c, f in got if c == 1] == sent
    assert [c for c, _ in got] == [0] * 200 + [1] * 200


def test_queue_holds_32_frames_then_raises():
    tx = HdlcBank(2)
    for _ in range(HDLC_TX_QUEUE):
        tx.send(1, b"x")
    assert HDLC_TX_QUEUE == 32 and tx.pending(1) == 32 and tx.pending(0) == 0
    with pytest.raises(LineError, match="HDLC send on channel 1: transmit queue full"):
        tx.send(1, b"x")
    tx.send(0, b"x")                                # the other channel is not affected
    tx.tx(160)
    assert tx.pending(1) == 0
    tx.send(1, b"x")


# ---------------------------------------------------------------- arguments and lifecycle

def test_bad_arguments():
    b = HdlcBank(2, max_frame=10)
    with pytest.raises(ValueError, match="outside 1..10"):
        b.send(0, b"")
    with pytest.raises(ValueError, match="outside 1..10"):
        b.send(0, bytes(11))
    with pytest.raises(ValueError, match="chan 2 outside 0..1"):
        b.send(2, b"x")
    with pytest.raises(TypeError, match="chan must be an int"):
        b.send("0", b"x")
    with pytest.raises(TypeError, match="bytes-like"):
        b.send(0, "text")
    with pytest.raises(ValueError, match="expected 2 channels x 5 octets"):
        b.rx(bytes(9), 5)
    with pytest.raises(ValueError, match=">= 0"):
        b.tx(-1)
    with pytest.raises(ValueError, match="out must be 20 bytes"):
        b.tx(10, bytearray(19))
    with pytest.raises(ValueError, match="chan 5"):
        b.counters(5)
    for bad in (0, 1025):
        with pytest.raises(ValueError, match="nchan must be 1..1024"):
            HdlcBank(bad)
    with pytest.raises(TypeError):
        HdlcBank(2.0)
    with pytest.raises(ValueError, match="max_frame"):
        HdlcBank(1, max_frame=0)
    assert b.pending(0) == 0 and b.counters(0)["tx:frames"] == 0   # nothing happened


def test_closed_bank_raises_line_error():
    with HdlcBank(1) as b:
        b.send(0, b"x")
    with pytest.raises(LineError, match="HDLC transmit: the HDLC bank is closed"):
        b.tx(1)
    with pytest.raises(LineError, match="closed"):
        b.send(0, b"x")
    with pytest.raises(LineError, match="closed"):
        b.rx(b"\x7e", 1)
    assert str(b) == "HdlcBank(nchan=1, max_frame=264, closed)"
