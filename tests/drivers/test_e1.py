"""E1 framing on raw bits: alignment at any offset, loss rules, defects, counters."""
import random

import pytest

from callbox.line import E1Rx, E1Tx

N = 160


def payload(rng, n=N):
    return bytes(rng.randrange(256) for _ in range(32 * n))


def stream(tx, blocks):
    return b"".join(bytes(tx.frame(b)) for b in blocks)


def shift_bits(data, k):
    """Prepend k junk bits (the far end starts out of frame)."""
    v = int.from_bytes(data, "big")
    total = len(data) * 8
    v = (0b1010110 & ((1 << k) - 1)) << total | v
    v >>= k
    return (v & ((1 << total) - 1)).to_bytes(len(data), "big")


def run(rx, raw):
    out = b""
    for k in range(0, len(raw), 32 * N):
        out += bytes(rx.deframe(raw[k:k + 32 * N]))
    return out


def frames(b):
    return [b[i:i + 32] for i in range(0, len(b), 32)]


@pytest.mark.parametrize("offset", [0, 1, 7, 8, 37, 129, 255])
def test_alignment_found_at_any_bit_offset_and_payload_recovered(offset):
    rng = random.Random(offset)
    blocks = [payload(rng) for _ in range(4)]
    tx, rx = E1Tx(), E1Rx()
    out = run(rx, shift_bits(stream(tx, blocks), offset))
    assert rx.status()["aligned"] and not rx.status()["lof"]
    sent = [f[1:] for f in frames(b"".join(blocks))]
    got = [f[1:] for f in frames(out) if f != b"\xff" * 32]
    assert len(got) > 300
    start = sent.index(got[0])
    assert got == sent[start:start + len(got)]


def test_fas_imitation_without_nfas_bit2_is_not_aligned():
    raw = bytearray()
    for i in range(N * 4):
        f = bytearray(32)
        f[0] = 0x1B if i % 2 == 0 else 0x00          # FAS but NFAS bit 2 = 0
        raw += f
    rx = E1Rx()
    run(rx, bytes(raw))
    assert not rx.status()["aligned"]


def corrupt_fas(raw, frame_numbers):
    raw = bytearray(raw)
    for n in frame_numbers:
        raw[n * 32] ^= 0x7F
    return bytes(raw)


def test_two_bad_fas_keep_alignment_three_lose_it():
    rng = random.Random(1)
    tx = E1Tx()
    raw = stream(tx, [payload(rng) for _ in range(6)])
    rx = E1Rx()
    run(rx, corrupt_fas(raw, [400, 402]))
    assert rx.counters()["rx:fas_errors"] == 2 and rx.counters()["rx:realignments"] == 0
    rx2 = E1Rx()
    run(rx2, corrupt_fas(raw, [400, 402, 404]))
    assert rx2.counters()["rx:fas_errors"] == 3 and rx2.counters()["rx:realignments"] == 1
    assert rx2.status()["aligned"]


def test_realigns_after_a_bit_slip():
    rng = random.Random(2)
    tx = E1Tx()
    raw = stream(tx, [payload(rng) for _ in range(8)])
    slipped = raw[:32 * N * 3] + shift_bits(raw[32 * N * 3:], 1)
    rx = E1Rx()
    run(rx, slipped)
    assert rx.status()["aligned"] and rx.counters()["rx:realignments"] == 1


def test_los_on_zeros_and_recovery():
    rx = E1Rx()
    run(rx, bytes(32 * N * 2))
    st = rx.status()
    assert st["los"] and not st["lof"] and not st["aligned"]
    rng = random.Random(3)
    run(rx, stream(E1Tx(), [payload(rng) for _ in range(3)]))
    assert not rx.status()["los"] and rx.status()["aligned"]
    assert rx.counters()["rx:los_events"] == 1


def test_unframed_all_ones_is_ais_but_framed_all_ones_is_not():
    rx = E1Rx()
    run(rx, b"\xff" * (32 * N * 2))
    assert rx.status()["ais"] and not rx.status()["aligned"]
    rx2 = E1Rx()
    run(rx2, stream(E1Tx(), [b"\xff" * (32 * N)] * 3))
    assert not rx2.status()["ais"] and rx2.status()["aligned"]


def test_remote_alarm_bit_is_seen():
    rng = random.Random(4)
    tx, rx = E1Tx(), E1Rx()
    run(rx, stream(tx, [payload(rng) for _ in range(2)]))
    assert not rx.status()["rai"]
    tx.remote_alarm = True
    run(rx, stream(tx, [payload(rng) for _ in range(2)]))
    assert rx.status()["rai"]


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="whole number"):
        E1Rx().deframe(b"\x00" * 33)
    with pytest.raises(ValueError, match="out must be"):
        E1Tx().frame(b"\x00" * 64, out=bytearray(32))
