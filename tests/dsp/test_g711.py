"""G.711: bit-exact against an independent implementation (Python's audioop), levels in dBm0."""
import array
import math
import warnings

import pytest

from callbox import dsp

pytestmark = pytest.mark.args

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import audioop
    except ImportError:            # removed in Python 3.13
        audioop = None

needs_audioop = pytest.mark.skipif(audioop is None, reason="the G.711 reference is Python's audioop (Python <= 3.12)")

EVERY_INPUT = array.array("h", range(-32768, 32768))
EVERY_CODE = bytes(range(256))


# -- bit-exact against the reference --------------------------------------------------------------

@needs_audioop
def test_alaw_encode_of_every_16bit_input_matches_the_reference():
    assert bytes(dsp.linear_to_alaw(EVERY_INPUT)) == audioop.lin2alaw(EVERY_INPUT.tobytes(), 2)


@needs_audioop
def test_ulaw_encode_of_every_16bit_input_matches_the_reference():
    assert bytes(dsp.linear_to_ulaw(EVERY_INPUT)) == audioop.lin2ulaw(EVERY_INPUT.tobytes(), 2)


@needs_audioop
def test_decode_of_every_code_matches_the_reference():
    assert dsp.alaw_to_linear(EVERY_CODE).tobytes() == audioop.alaw2lin(EVERY_CODE, 2)
    assert dsp.ulaw_to_linear(EVERY_CODE).tobytes() == audioop.ulaw2lin(EVERY_CODE, 2)


# -- properties that hold without a reference -----------------------------------------------------

def test_every_code_survives_decode_then_encode():
    assert bytes(dsp.linear_to_alaw(dsp.alaw_to_linear(EVERY_CODE))) == EVERY_CODE
    # mu-law has two zeros: 0x7F ("-0") decodes to 0, which encodes as 0xFF
    back = dsp.linear_to_ulaw(dsp.ulaw_to_linear(EVERY_CODE))
    assert [c for c in range(256) if back[c] != c] == [0x7F] and back[0x7F] == 0xFF


def test_encoding_is_monotonic_and_decoding_lands_inside_its_own_step():
    for encode, decode in ((dsp.linear_to_alaw, dsp.alaw_to_linear), (dsp.linear_to_ulaw, dsp.ulaw_to_linear)):
        decoded = decode(encode(EVERY_INPUT))
        assert all(a <= b for a, b in zip(decoded, decoded[1:])), "decode(encode(x)) must not decrease"
        assert bytes(encode(decoded)) == bytes(encode(EVERY_INPUT)), "a step's value must encode to the step"


def test_known_codes():
    assert dsp.ALAW_SILENCE == 0xD5 and dsp.ULAW_SILENCE == 0xFF
    assert list(dsp.alaw_to_linear(bytes([0xD5, 0x55, 0xAA, 0x2A]))) == [8, -8, 32256, -32256]
    assert list(dsp.ulaw_to_linear(bytes([0xFF, 0x7F, 0x80, 0x00]))) == [0, 0, 32124, -32124]
    assert bytes(dsp.linear_to_alaw(array.array("h", [0, -1, 32767, -32768]))) == bytes([0xD5, 0x55, 0xAA, 0x2A])
    assert bytes(dsp.linear_to_ulaw(array.array("h", [0, 32767, -32768]))) == bytes([0xFF, 0x80, 0x00])


def test_buffers_of_every_accepted_kind_and_out_is_reused():
    codes = bytes([0xD5, 0x80, 0x2A]) * 3
    ref = dsp.alaw_to_linear(codes)
    assert isinstance(ref, array.array) and ref.typecode == "h" and len(ref) == 9
    for data in (bytearray(codes), memoryview(codes), array.array("B", codes)):
        assert dsp.alaw_to_linear(data) == ref
    out = array.array("h", [1] * 9)
    assert dsp.alaw_to_linear(codes, out) is out and out == ref
    # int16 samples may come as array('h') or native-endian bytes
    enc = dsp.linear_to_alaw(ref)
    assert isinstance(enc, bytearray) and bytes(enc) == codes
    assert dsp.linear_to_alaw(ref.tobytes()) == enc
    octets = bytearray(9)
    assert dsp.linear_to_alaw(ref, octets) is octets and octets == enc
    assert dsp.ulaw_to_linear(b"") == array.array("h") and dsp.linear_to_ulaw(b"") == bytearray()


def test_bad_buffers_are_refused_before_anything_is_written():
    out = array.array("h", [7, 7])
    with pytest.raises(ValueError, match="must hold 3 samples, got 2"):
        dsp.alaw_to_linear(b"abc", out)
    assert list(out) == [7, 7]
    with pytest.raises(TypeError, match="array\\('h'\\)"):
        dsp.alaw_to_linear(b"abc", bytearray(6))
    with pytest.raises(TypeError, match="bytes-like"):
        dsp.ulaw_to_linear(123)
    with pytest.raises(TypeError, match="octets"):
        dsp.alaw_to_linear(array.array("h", [1, 2]))
    with pytest.raises(ValueError, match="even number of bytes, got 3"):
        dsp.linear_to_alaw(b"\x00\x01\x02")
    with pytest.raises(TypeError, match="array\\('h'\\) or bytes-like"):
        dsp.linear_to_ulaw(array.array("i", [1]))
    with pytest.raises(TypeError, match="writable"):
        dsp.linear_to_alaw(array.array("h", [1]), bytes(1))
    with pytest.raises(ValueError, match="must hold 1 octets, got 2"):
        dsp.linear_to_alaw(array.array("h", [1]), bytearray(2))


# -- levels -------------------------------------------------------------------------------------

def sine(freq, peak, n=8000, phase=0.3):
    return array.array("h", (int(round(peak * math.sin(2 * math.pi * freq * i / 8000 + phase))) for i in range(n)))


def test_full_scale_sine_is_plus_3_14_dbm0_alaw_and_plus_3_17_dbm0_ulaw():
    assert dsp.level_dbm0(sine(1004, 32767)) == pytest.approx(3.14, abs=0.1)
    assert dsp.level_dbm0(sine(1004, 32767), "alaw") == pytest.approx(3.14, abs=0.01)
    assert dsp.level_dbm0(sine(1004, 32636), "ulaw") == pytest.approx(3.17, abs=0.01)


def test_0_dbm0_reference_sine_and_lower_levels():
    peak0 = 32768 * 10 ** (-3.14 / 20)          # derived in dsp/include/callbox/dsp.h
    assert round(peak0) == 22827
    for level in (0, -10, -20, -40):
        s = sine(1004, peak0 * 10 ** (level / 20))
        assert dsp.level_dbm0(s) == pytest.approx(level, abs=0.02)
    assert dsp.level_dbm0(sine(1004, 32636 * 10 ** (-3.17 / 20)), "ulaw") == pytest.approx(0.0, abs=0.01)


def test_level_survives_coding_and_silence_reads_minus_100():
    s = sine(1004, 22827 * 10 ** (-20 / 20))
    assert dsp.level_dbm0(dsp.alaw_to_linear(dsp.linear_to_alaw(s))) == pytest.approx(-20, abs=0.1)
    assert dsp.level_dbm0(dsp.ulaw_to_linear(dsp.linear_to_ulaw(s)), "ulaw") == pytest.approx(-20, abs=0.1)
    assert dsp.level_dbm0(array.array("h", bytes(320))) == -100.0
    assert dsp.level_dbm0(array.array("h")) == -100.0
    assert dsp.level_dbm0(dsp.alaw_to_linear(bytes([dsp.ALAW_SILENCE]) * 160)) == pytest.approx(-66.1, abs=0.1)


def test_level_arguments():
    with pytest.raises(ValueError, match="'mulaw' is not one of: alaw, ulaw"):
        dsp.level_dbm0(EVERY_INPUT, "mulaw")
    with pytest.raises(ValueError, match="even number"):
        dsp.level_dbm0(b"\x00\x00\x00")


def test_mix_adds_sources_with_saturation_and_checks_its_arguments():
    import array as _array
    from callbox import dsp as _dsp
    a = bytes(_dsp.linear_to_alaw(_array.array("h", [1000] * 160)))
    b = bytes(_dsp.linear_to_alaw(_array.array("h", [-3000] * 160)))
    loud = bytes(_dsp.linear_to_alaw(_array.array("h", [30000] * 160)))
    out = _dsp.mix_alaw(a + b + a + loud + loud, [2, 1, 0, 2], 160)
    lin = _dsp.alaw_to_linear(bytes(out))
    assert abs(lin[0] - (-2000)) < 70 and lin[160] == _dsp.alaw_to_linear(a)[0]
    assert lin[320] == 8 and lin[480] == max(_dsp.alaw_to_linear(bytes([0xAA])))   # idle; clipped at full scale
    import pytest as _pytest
    with _pytest.raises(ValueError, match="sum\\(counts\\) \\* n"):
        _dsp.mix_alaw(a, [2], 160)
    with _pytest.raises(ValueError, match="counts\\[0\\]"):
        _dsp.mix_alaw(a * 17, [17], 160)
