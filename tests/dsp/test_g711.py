"""G.711: bit-exact against an independent implementation, levels in dBm0."""
import array
import math
import warnings

import pytest

from callbox import dsp

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import audioop
    except ImportError:           # Python 3.13+
        audioop = None

needs_audioop = pytest.mark.skipif(audioop is None, reason="the reference needs Python's audioop (Python <= 3.12)")
ALL = array.array("h", range(-32768, 32768))
CODES = bytes(range(256))


@needs_audioop
def test_alaw_encode_every_16bit_input_matches_reference():
    assert bytes(dsp.linear_to_alaw(ALL)) == audioop.lin2alaw(ALL.tobytes(), 2)


@needs_audioop
def test_ulaw_encode_every_16bit_input_matches_reference():
    assert bytes(dsp.linear_to_ulaw(ALL)) == audioop.lin2ulaw(ALL.tobytes(), 2)


@needs_audioop
def test_decode_every_code_matches_reference():
    assert dsp.alaw_to_linear(CODES).tobytes() == audioop.alaw2lin(CODES, 2)
    assert dsp.ulaw_to_linear(CODES).tobytes() == audioop.ulaw2lin(CODES, 2)


def test_round_trip_is_idempotent_on_codes():
    assert bytes(dsp.linear_to_alaw(dsp.alaw_to_linear(CODES))) == CODES
    ucodes = bytes(c for c in CODES if c != 0x7F)      # 0x7F and 0xFF both decode to 0
    assert bytes(dsp.linear_to_ulaw(dsp.ulaw_to_linear(ucodes))) == ucodes


def test_known_values():
    assert dsp.alaw_to_linear(bytes([0xD5]))[0] == 8 and dsp.ulaw_to_linear(bytes([0xFF]))[0] == 0
    assert dsp.ALAW_SILENCE == 0xD5 and dsp.ULAW_SILENCE == 0xFF


def sine(freq, peak, n=8000):
    return array.array("h", (int(peak * math.sin(2 * math.pi * freq * i / 8000 + 0.1)) for i in range(n)))


def test_full_scale_sine_levels():
    s = sine(1004, 32767)
    assert dsp.level_dbm0(s, "alaw") == pytest.approx(3.14, abs=0.05)
    assert dsp.level_dbm0(s, "ulaw") == pytest.approx(3.17 + 20 * math.log10(32768 / 32636), abs=0.05)
    assert dsp.level_dbm0(sine(1004, 32767 / 10)) == pytest.approx(3.14 - 20, abs=0.05)
    assert dsp.level_dbm0(array.array("h", bytes(320))) == -100.0


def test_bad_arguments():
    with pytest.raises(ValueError, match="law"):
        dsp.level_dbm0(ALL, "mulaw")
    with pytest.raises(ValueError, match="even number"):
        dsp.linear_to_alaw(b"\x00\x01\x02")
    with pytest.raises(ValueError, match="at least 4"):
        dsp.alaw_to_linear(b"abcd", out=array.array("h", [0]))
