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


def crc4_stream(rng, nblocks, tx=None):
    tx = tx or E1Tx(crc4=True)
    return stream(tx, [payload(rng) for _ in range(nblocks)]), tx


def test_crc4_multiframe_alignment_and_clean_checks():
    rng = random.Random(21)
    raw, _ = crc4_stream(rng, 10)
    rx = E1Rx(crc4=True)
    run(rx, shift_bits(raw, 77))
    st, c = rx.status(), rx.counters()
    assert st["aligned"] and not st["lomf"] and not st["far_no_crc4"]
    assert c["rx:mf_realignments"] == 1 and c["rx:crc4_blocks"] > 180 and c["rx:crc4_errors"] == 0
    assert c["rx:ebit_errors"] == 0


def test_crc4_error_counted_once_per_errored_submultiframe_and_reported_as_e_bit():
    rng = random.Random(22)
    raw, _ = crc4_stream(rng, 10)
    raw = bytearray(raw)
    for frame in (1000, 1100, 1103):                 # 1100 and 1103 share a sub-multiframe
        raw[frame * 32 + 7] ^= 0x10
    rx = E1Rx(crc4=True)
    run(rx, bytes(raw))
    assert rx.counters()["rx:crc4_errors"] == 2
    n = rx.take_crc_errors()
    assert n == 2 and rx.take_crc_errors() == 0
    # our framer sends them back as E bits; a receiver on the far side counts them
    back_tx = E1Tx(crc4=True)
    back_tx.report_crc_errors(n)
    back = E1Rx(crc4=True)
    run(back, stream(back_tx, [payload(rng) for _ in range(10)]))
    assert back.counters()["rx:ebit_errors"] == 0     # reported before alignment: sent while the far end was still searching
    back_tx.report_crc_errors(2)
    run(back, stream(back_tx, [payload(rng) for _ in range(2)]))
    assert back.counters()["rx:ebit_errors"] == 2


def test_non_crc4_far_end_is_detected_after_400ms_and_basic_alignment_kept():
    rng = random.Random(23)
    rx = E1Rx(crc4=True)
    run(rx, stream(E1Tx(), [payload(rng) for _ in range(25)]))       # 500 ms, no CRC-4
    st = rx.status()
    assert st["aligned"] and st["lomf"] and st["far_no_crc4"]


def test_massive_crc_errors_force_a_new_frame_search():
    rng = random.Random(24)
    raw, _ = crc4_stream(rng, 80)                                   # 1.6 s: > 1000 sub-multiframes
    raw = bytearray(raw)
    for f in range(100, len(raw) // 32, 4):                        # every sub-multiframe damaged
        raw[f * 32 + 9] ^= 0x01
    rx = E1Rx(crc4=True)
    run(rx, bytes(raw))
    assert rx.counters()["rx:crc4_errors"] >= 915
    assert rx.counters()["rx:realignments"] >= 1


def test_annex_b_e_bits_all_zero_towards_a_non_crc_far_end():
    rng = random.Random(25)
    tx = E1Tx(crc4=True)
    tx.set_far_no_crc4(True)
    rx = E1Rx(crc4=True)
    run(rx, stream(tx, [payload(rng) for _ in range(4)]))
    c = rx.counters()
    assert rx.status()["aligned"] and not rx.status()["lomf"]    # the multiframe is still sent
    assert c["rx:crc4_errors"] == 0 and c["rx:ebit_errors"] > 60   # 2 per multiframe once aligned (~38 MF)
