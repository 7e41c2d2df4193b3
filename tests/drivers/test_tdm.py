"""TDM (de)interleaving: exact index mapping, inverse, the D-channel of a deframed
block, bearer payload insert/extract, argument checks."""
import random

import pytest

from callbox.line import E1Rx, E1Tx, payload_extract, payload_insert, tdm_deinterleave, tdm_interleave


@pytest.mark.parametrize("n", [0, 1, 7, 160, 333])
def test_mapping_and_inverse(n):
    frames = random.Random(n).randbytes(32 * n)
    chans = tdm_deinterleave(frames, n)
    assert len(chans) == 32 * n
    assert all(chans[ts * n + f] == frames[f * 32 + ts] for f in range(n) for ts in range(32))
    assert bytes(tdm_interleave(chans, n)) == frames
    assert bytes(tdm_deinterleave(tdm_interleave(frames, n), n)) == frames


def test_reused_output_buffers():
    n = 160
    frames = random.Random(1).randbytes(32 * n)
    chans, back = bytearray(32 * n), bytearray(32 * n)
    assert tdm_deinterleave(frames, n, chans) is chans
    assert tdm_interleave(chans, n, back) is back and bytes(back) == frames


def test_d_channel_of_a_deframed_block():
    """Framer -> deframer -> deinterleave: TS16's 160 octets come out contiguous."""
    n = 160
    ts16 = bytes((i * 7) & 0xFF for i in range(3 * n))
    chans = bytearray(32 * 3 * n)
    chans[16 * 3 * n:17 * 3 * n] = ts16
    raw = E1Tx().frame(tdm_interleave(chans, 3 * n))
    rx = E1Rx()
    out = rx.deframe(raw)
    got = tdm_deinterleave(out, 3 * n)[16 * 3 * n:17 * 3 * n]
    assert got[3:] == ts16[2:-1]                   # aligned from frame 2, one frame time late


def test_payload_insert_extract():
    n = 5
    frames = bytearray(32 * n)
    payload = bytes(range(30 * n))
    payload_insert(frames, payload, n)
    assert frames[0] == 0 and frames[16] == 0 and frames[1:16] == payload[:15] and frames[17:32] == payload[15:30]
    assert bytes(payload_extract(frames, n)) == payload


def test_bad_arguments():
    with pytest.raises(ValueError, match="expected 2 x 32 = 64 octets, got 63"):
        tdm_deinterleave(bytes(63), 2)
    with pytest.raises(ValueError, match=">= 0"):
        tdm_interleave(b"", -1)
    with pytest.raises(TypeError, match="n must be an int"):
        tdm_interleave(bytes(32), 1.0)
    with pytest.raises(TypeError, match="writable"):
        tdm_interleave(bytes(32), 1, bytes(32))
    buf = bytearray(32)
    with pytest.raises(ValueError, match="must not be frames itself"):
        tdm_deinterleave(buf, 1, buf)
    with pytest.raises(TypeError, match="bytes-like"):
        tdm_deinterleave([0] * 32, 1)
    with pytest.raises(ValueError, match="payload"):
        payload_insert(bytearray(32), bytes(29), 1)
    with pytest.raises(TypeError, match="writable"):
        payload_insert(bytes(32), bytes(30), 1)
