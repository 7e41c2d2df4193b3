"""E1 framer -> deframer on raw bits: alignment at every bit offset (G.706 4.1.2), the
imitation guard, loss after 3 bad FAS (4.1.1), bit slips, LOS / AIS / RAI (G.775),
counters, CRC-4 (G.704 2.3.3, G.706 4.2, 4.3.2, Annex B) and argument checks.

Timing convention checked here: a frame that starts in raw frame time k comes out in
output frame time k + 1, so with k junk bits (0 <= k < 256) prepended, output frame
j is sent frame j - 1.
"""
import random

import pytest

from callbox.errors import LineError
from callbox.line import E1_FRAME_BYTES, E1Rx, E1Tx

N = 160                      # frames per 20 ms block
BLOCK = N * E1_FRAME_BYTES
ONES = b"\xff" * 32


def payload(rng, n=N):
    return rng.randbytes(32 * n)


def stream(tx, blocks):
    return b"".join(bytes(tx.frame(b)) for b in blocks)


def shift_bits(data, k, junk=0):
    """Prepend k junk bits (the far end starts out of frame); the length stays the same."""
    total = len(data) * 8
    v = ((junk & ((1 << k) - 1)) << total) | int.from_bytes(data, "big")
    return ((v >> k) & ((1 << total) - 1)).to_bytes(len(data), "big")


def delete_bit(data, at):
    """Drop stream bit `at` (one 1 appended at the end to keep the length)."""
    total = len(data) * 8
    v = int.from_bytes(data, "big")
    head, tail = v >> (total - at), v & ((1 << (total - at - 1)) - 1)
    return ((((head << (total - at - 1)) | tail) << 1) | 1).to_bytes(len(data), "big")


def insert_bit(data, at, bit=1):
    """Insert one bit before stream bit `at` (the last bit falls off)."""
    total = len(data) * 8
    v = int.from_bytes(data, "big")
    head, tail = v >> (total - at), v & ((1 << (total - at)) - 1)
    v = (((head << 1) | bit) << (total - at)) | tail
    return (v >> 1).to_bytes(len(data), "big")


def run(rx, raw, n=N):
    return b"".join(bytes(rx.deframe(raw[k:k + 32 * n])) for k in range(0, len(raw), 32 * n))


def frames(b):
    return [bytes(b[i:i + 32]) for i in range(0, len(b), 32)]


def framed(rng, nblocks, tx=None):
    tx = tx or E1Tx()
    return stream(tx, [payload(rng) for _ in range(nblocks)])


# ---------------------------------------------------------------- alignment

def test_round_trip_at_every_one_of_256_bit_offsets():
    """Random junk before the stream, random payload: aligned within the first block;
    from frame 64 on every output frame is the sent frame one frame time earlier
    (a false alignment on random data may come first; it is lost after 3 bad FAS)."""
    rng = random.Random(256)
    for k in range(8 * 32):
        sent = framed(rng, 2)
        rx = E1Rx()
        out = frames(run(rx, shift_bits(sent, k, rng.getrandbits(256))))
        sent_f = frames(sent)
        first = next(j for j, f in enumerate(out) if f != ONES)
        assert first <= 32, "offset %d: first aligned frame at %d" % (k, first)
        assert all(f == ONES for f in out[:first])
        assert all(out[j] == sent_f[j - 1] for j in range(64, 2 * N)), "offset %d" % k
        st = rx.status()
        assert st["aligned"] and not st["lof"] and not st["los"] and not st["ais"], "offset %d" % k
        assert rx.counters()["rx:slips"] == 0


@pytest.mark.parametrize("offset", [0, 1, 77, 255])
def test_result_does_not_depend_on_how_the_stream_is_cut_into_calls(offset):
    rng = random.Random(offset)
    raw = shift_bits(framed(rng, 3), offset, rng.getrandbits(256))
    whole = run(E1Rx(), raw, 3 * N)
    rx, out, pos = E1Rx(), b"", 0
    while pos < len(raw):
        n = rng.choice([0, 1, 2, 3, 7, 13, 160, 333])
        out += bytes(rx.deframe(raw[pos:pos + 32 * n]))
        pos += 32 * n
    assert out[:len(whole)] == whole


def test_clean_start_counts_exactly():
    """Offset 0: FAS in frame 0, NFAS in 1, FAS in 2 -> frame 2 is the first aligned one."""
    rng = random.Random(3)
    sent = framed(rng, 2)
    rx = E1Rx()
    out = frames(run(rx, sent))
    assert out[:3] == [ONES] * 3 and out[3:] == frames(sent)[2:-1]
    assert rx.counters() == {"rx:frames": 2 * N - 2, "rx:fas_errors": 0, "rx:nfas_errors": 0,
                             "rx:realignments": 0, "rx:slips": 0, "rx:los_events": 0, "rx:ais_events": 0,
                             "rx:crc4_errors": 0, "rx:ebit_errors": 0, "rx:crc4_blocks": 0,
                             "rx:mf_realignments": 0}
    rx.reset_counters()
    assert set(rx.counters().values()) == {0}
    assert set(rx.counters()) == set(E1Rx.COUNTER_DESCRIPTIONS)


def test_fas_imitation_without_nfas_bit2_never_aligns():
    """FAS in every even frame, but bit 2 of every odd frame's TS0 = 0 (G.706 4.1.2)."""
    rng = random.Random(4)
    raw = bytearray(framed(rng, 4))
    for f in range(1, len(raw) // 32, 2):
        raw[32 * f] &= ~0x40 & 0xFF
    for k in (0, 3, 130):
        rx = E1Rx()
        out = run(rx, shift_bits(bytes(raw), k))
        assert out == ONES * (len(raw) // 32)
        assert rx.counters()["rx:frames"] == 0 and not rx.status()["aligned"] and rx.status()["lof"]
    # and with bit 2 back, the same stream aligns
    raw2 = bytes(raw[:32 * N]) + framed(rng, 1, E1Tx())
    rx = E1Rx()
    run(rx, raw2)
    assert rx.status()["aligned"]


def test_fas_imitation_on_constant_payload():
    """All-ones payload, FAS present, NFAS 0x9F (bit 2 = 0): no other phase imitates
    the FAS, so the search must never accept."""
    f_even, f_odd = b"\x9b" + b"\xff" * 31, b"\x9f" + b"\xff" * 31
    rx = E1Rx()
    run(rx, (f_even + f_odd) * N * 2)
    assert not rx.status()["aligned"] and rx.counters()["rx:frames"] == 0
    assert not rx.status()["ais"]                 # 5 zeros per 512 bits


def corrupt_fas(raw, frame_numbers):
    raw = bytearray(raw)
    for n in frame_numbers:
        assert n % 2 == 0
        raw[n * 32] ^= 0x12                       # bits 4 and 7 of the FAS word
    return bytes(raw)


@pytest.mark.parametrize("offset", [0, 100])
def test_two_bad_fas_keep_alignment_three_lose_it_exactly_at_the_third(offset):
    rng = random.Random(5)
    clean = framed(rng, 3)
    # two in a row, then one good FAS between pairs: never three consecutive
    pairs = corrupt_fas(clean, [200, 202, 206, 208, 300, 302])
    rx = E1Rx()
    out = frames(run(rx, shift_bits(pairs, offset), 1))
    assert rx.counters()["rx:fas_errors"] == 6 and rx.counters()["rx:realignments"] == 0
    assert out[10:] == frames(pairs)[9:-1]        # bad FAS frames are passed on, nothing lost
    # three consecutive: alignment lost when the third bad frame has been read
    raw = shift_bits(corrupt_fas(clean, [200, 202, 204]), offset)
    rx = E1Rx()
    aligned_after = []
    for j in range(0, len(raw), 32):
        rx.deframe(raw[j:j + 32])
        aligned_after.append(rx.status()["aligned"])
    last_call_of_204 = 204 + (1 if offset else 0)
    assert all(aligned_after[10:last_call_of_204])
    assert not aligned_after[last_call_of_204]
    assert aligned_after[-1]
    c = rx.counters()
    assert c["rx:fas_errors"] == 3 and c["rx:realignments"] == 1 and c["rx:slips"] == 0


def test_nfas_bit2_errors_are_counted_without_loss():
    rng = random.Random(6)
    raw = bytearray(framed(rng, 2))
    for f in (101, 103, 105, 107):
        raw[32 * f] &= 0xBF
    rx = E1Rx()
    run(rx, bytes(raw))
    assert rx.counters()["rx:nfas_errors"] == 4 and rx.counters()["rx:realignments"] == 0
    assert rx.status()["aligned"]


@pytest.mark.parametrize("offset, change, slips", [
    (10, "insert", 0),        # phase 10 -> 11: same output frame time
    (255, "insert", 1),       # phase 255 -> 256: the far end's frames come one frame time later
    (0, "delete", 1),         # phase 0 -> -1: one frame time earlier
    (77, "delete", 0),
])
def test_realigns_after_a_bit_slip(offset, change, slips):
    rng = random.Random(7)
    sent = framed(rng, 6)
    raw = shift_bits(sent, offset)
    at = 32 * N * 8 * 2 + 12345                   # mid-stream, in block 2
    raw = insert_bit(raw, at) if change == "insert" else delete_bit(raw, at)
    rx = E1Rx()
    out = frames(run(rx, raw))
    c = rx.counters()
    assert rx.status()["aligned"] and c["rx:realignments"] == 1 and c["rx:fas_errors"] >= 3
    assert c["rx:slips"] == slips
    # after re-alignment: the new phase gives the new constant delay
    new_phase = offset + (1 if change == "insert" else -1)
    delay = 1 + (1 if new_phase >= 256 else 0) - (1 if new_phase < 0 else 0)
    sent_f = frames(sent)
    assert all(out[j] == sent_f[j - delay] for j in range(4 * N, 6 * N - 2))


def test_alignment_kept_across_calls_of_any_size():
    rng = random.Random(8)
    raw = shift_bits(framed(rng, 14), 201)
    rx = E1Rx()
    out = bytes(rx.deframe(raw))                  # one call of 2240 frames
    assert len(out) == len(raw)
    assert rx.counters()["rx:frames"] >= 14 * N - 10
    assert rx.deframe(b"") == bytearray()


# ---------------------------------------------------------------- defects

def test_los_on_all_zeros_then_recovery():
    rx = E1Rx()
    out = run(rx, bytes(BLOCK * 2))
    st = rx.status()
    assert st == {"los": True, "ais": False, "lof": False, "rai": False, "aligned": False, "lomf": False,
                  "far_no_crc4": False}
    assert out == ONES * (2 * N)
    rng = random.Random(9)
    run(rx, framed(rng, 2))
    assert not rx.status()["los"] and rx.status()["aligned"]
    assert rx.counters()["rx:los_events"] == 1


def test_los_on_a_short_all_zero_call_and_on_2048_zero_bits():
    rx = E1Rx()
    rx.deframe(bytes(32))                          # one frame, no ones: a whole call
    assert rx.status()["los"]
    rx.deframe(b"\x01" + bytes(31))               # pulses back
    assert not rx.status()["los"]
    rx2 = E1Rx()
    rx2.deframe(b"\x01" + bytes(255))             # 2040 zeros after the one: not yet
    assert not rx2.status()["los"] and rx2.counters()["rx:los_events"] == 0
    rx2.deframe(b"\x01" + b"\xff" * 31)           # the run reaches 2047 bits: still not
    assert rx2.counters()["rx:los_events"] == 0
    rx2.deframe(b"\x01" + bytes(255))
    rx2.deframe(b"\x00" + b"\xff" * 31)           # 2048: raised, then cleared by the ones after it
    assert rx2.counters()["rx:los_events"] == 1 and not rx2.status()["los"]
    rx2.deframe(b"\x80" + bytes(287))             # 7 + 2296 zeros in a call that has a one
    assert rx2.status()["los"] and rx2.counters()["rx:los_events"] == 2


def test_los_drops_an_aligned_span():
    rng = random.Random(10)
    rx = E1Rx()
    run(rx, framed(rng, 1))
    assert rx.status()["aligned"]
    rx.deframe(bytes(32 * 16))
    assert rx.status()["los"] and not rx.status()["aligned"] and not rx.status()["lof"]


def test_unframed_all_ones_is_ais_framed_all_ones_is_not():
    rx = E1Rx()
    run(rx, b"\xff" * (BLOCK * 2))
    st = rx.status()
    assert st["ais"] and not st["aligned"] and st["lof"] and not st["los"]
    assert rx.counters()["rx:ais_events"] == 1
    rx2 = E1Rx()
    run(rx2, stream(E1Tx(), [b"\xff" * BLOCK] * 3))
    assert not rx2.status()["ais"] and rx2.status()["aligned"]
    assert rx2.counters()["rx:ais_events"] == 0
    # AIS clears once the framed signal is back (FAS found, G.775)
    run(rx, stream(E1Tx(), [b"\xff" * BLOCK] * 2))
    assert not rx.status()["ais"] and rx.status()["aligned"]


def test_ais_needs_two_periods_of_fewer_than_3_zeros():
    rx = E1Rx()
    period_2_zeros = b"\xff" * 30 + b"\x7f\xfe" + b"\xff" * 32      # 512 bits, 2 zeros
    period_3_zeros = b"\xff" * 30 + b"\x7f\xfe" + b"\xef" + b"\xff" * 31
    rx.deframe(period_2_zeros + period_3_zeros + period_2_zeros + period_3_zeros)
    assert not rx.status()["ais"]
    rx.deframe(period_2_zeros + period_2_zeros)
    assert rx.status()["ais"]


def test_ais_after_an_aligned_span_turns_to_all_ones():
    rng = random.Random(11)
    rx = E1Rx()
    run(rx, framed(rng, 1))
    run(rx, b"\xff" * BLOCK)
    st = rx.status()
    assert st["ais"] and not st["aligned"] and rx.counters()["rx:ais_events"] == 1


def test_remote_alarm_seen_and_cleared():
    rng = random.Random(12)
    tx, rx = E1Tx(), E1Rx()
    run(rx, shift_bits(stream(tx, [payload(rng) for _ in range(2)]), 33))
    assert not rx.status()["rai"]
    tx.remote_alarm = True
    assert tx.remote_alarm is True
    run(rx, stream(tx, [payload(rng)]))           # the same stream goes on (same phase: k = 0 here)
    assert rx.status()["aligned"] and rx.status()["rai"]
    tx.remote_alarm = False
    run(rx, stream(tx, [payload(rng)]))
    assert not rx.status()["rai"]


def test_sa_bits_go_both_ways_and_a_single_errored_nfas_does_not_change_them():
    rng = random.Random(13)
    tx, rx = E1Tx(), E1Rx()
    assert rx.sa_bits() is None
    run(rx, stream(tx, [payload(rng) for _ in range(2)]))     # one phase throughout: no realignment
    assert rx.sa_bits() == "11111"                  # unused Sa bits are 1 (G.704 2.3.2)
    tx.set_sa("10110")
    out = bytes(E1Tx().frame(bytes(32 * 2)))
    probe = E1Tx()
    probe.set_sa("10110")
    assert [bytes(probe.frame(bytes(32 * 2)))[32 * i] for i in range(2)] == [0x9B, 0xD6]
    assert [out[32 * i] for i in range(2)] == [0x9B, 0xDF]
    run(rx, stream(tx, [payload(rng)]))
    assert rx.sa_bits() == "10110"
    # two NFAS with other Sa bits (line errors) are not taken; three in a row are
    raw = bytearray(stream(tx, [payload(rng)]))
    sa_frames = [k for k in range(N) if raw[32 * k] & 0xC0 == 0xC0]
    for k in sa_frames[-2:]:                         # the block's last two NFAS say 00001
        raw[32 * k] = (raw[32 * k] & 0xE0) | 0b00001
    run(rx, bytes(raw))
    assert rx.status()["aligned"] and rx.sa_bits() == "10110"
    tx.set_sa(1)
    run(rx, stream(tx, [payload(rng)]))
    assert rx.sa_bits() == "00001"
    for bad in ("1111", "11112", 32, -1, True):
        with pytest.raises(ValueError, match="five bits Sa4..Sa8"):
            tx.set_sa(bad)
    run(rx, b"\x00" * BLOCK)                        # LOS: alignment and the Sa bits are gone
    assert rx.sa_bits() is None


def test_framer_writes_the_g704_ts0_words():
    tx = E1Tx()
    out = tx.frame(bytes(range(32)) * 4)
    assert [out[32 * i] for i in range(4)] == [0x9B, 0xDF, 0x9B, 0xDF]
    assert all(out[32 * i + 1:32 * i + 32] == bytes(range(1, 32)) for i in range(4))
    tx.remote_alarm = True
    out = tx.frame(bytes(64))
    assert (out[0], out[32]) == (0x9B, 0xFF)      # frame count continues: FAS, then NFAS with A = 1
    buf = bytearray(bytes(range(32)) * 2)
    assert tx.frame(buf, buf) is buf and buf[0] == 0x9B


# ---------------------------------------------------------------- arguments and lifecycle

def test_bad_arguments_are_refused_before_anything_happens():
    rx, tx = E1Rx(), E1Tx()
    with pytest.raises(ValueError, match="whole number"):
        rx.deframe(b"\x00" * 33)
    with pytest.raises(TypeError, match="bytes-like"):
        rx.deframe("abc" * 32)
    with pytest.raises(ValueError, match="out must be 64 bytes"):
        tx.frame(b"\x00" * 64, out=bytearray(32))
    with pytest.raises(TypeError, match="writable"):
        tx.frame(b"\x00" * 32, out=bytes(32))
    raw = bytearray(64)
    with pytest.raises(ValueError, match="must not be raw itself"):
        rx.deframe(raw, raw)
    assert rx.counters()["rx:los_events"] == 0    # nothing was consumed


def test_closed_objects_raise_line_error():
    with E1Rx() as rx, E1Tx() as tx:
        pass
    with pytest.raises(LineError, match="E1 deframing: the E1 deframer is closed"):
        rx.deframe(bytes(32))
    with pytest.raises(LineError, match="closed"):
        rx.status()
    with pytest.raises(LineError, match="closed"):
        tx.frame(bytes(32))
    with pytest.raises(LineError, match="closed"):
        tx.remote_alarm = True
    rx.close()                                    # twice is fine
    assert "closed" in str(rx) and "closed" in str(tx)


# ---------------------------------------------------------------- CRC-4

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
    # reported before alignment: sent while the far end was still searching
    assert back.counters()["rx:ebit_errors"] == 0
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


def test_defects_become_failures_after_2_5_s_and_clear_after_10_s():
    from callbox.line import FailureIntegrator
    f = FailureIntegrator()
    changes = []
    for _ in range(124):                              # 2.48 s of LOS: still only a defect
        changes += f.feed({"los": True}, 0.02)
    assert changes == [] and not f.failures["red"]
    changes += f.feed({"los": True}, 0.02)            # 2.5 s
    assert changes == [("red", True)]
    for _ in range(499):                              # 9.98 s without: still red
        changes += f.feed({}, 0.02)
    assert f.failures["red"]
    changes += f.feed({}, 0.02)
    assert changes[-1] == ("red", False)
    for _ in range(130):                              # AIS with loss of frame: blue, not red
        f.feed({"ais": True, "lof": True}, 0.02)
    assert f.failures["blue"] and not f.failures["red"]
    for _ in range(130):
        f.feed({"rai": True}, 0.02)
    assert f.failures["yellow"]
    import pytest
    with pytest.raises(ValueError):
        FailureIntegrator(raise_s=0)
