"""The one Python wrapper over callbox._dsp (G.711, DTMF receiver bank, tone generator bank).

Buffers belong to Python (array('h') / bytearray) and are passed to C without
copies; a bank is freed by close() or its context manager. One call handles a
whole 20 ms block for every channel of a bank (channel-major layout).
"""
import array
import math

from callbox._dsp import ffi, lib
from callbox.errors import DspError

ALAW_SILENCE = 0xD5
ULAW_SILENCE = 0xFF
# G.711: a full-scale sine is +3.14 dBm0 (A-law), +3.17 dBm0 (mu-law); full scale = peak
# 32768 (A-law 13-bit 4096 << 3) and 32636 (mu-law 14-bit 8159 << 2).
_FULL_SCALE = {"alaw": (32768.0, 3.14), "ulaw": (32636.0, 3.17)}


def _check(rc, action):
    if rc < 0:
        raise DspError("%s: %s" % (action, ffi.string(lib.cb_dsp_strerror(rc)).decode()))
    return rc


def _samples(samples):
    if isinstance(samples, array.array):
        if samples.typecode != "h":
            raise TypeError("samples must be array('h'), got array(%r)" % samples.typecode)
        return samples, len(samples)
    mv = memoryview(samples).cast("B")
    if len(mv) % 2:
        raise ValueError("int16 samples need an even number of bytes, got %d" % len(mv))
    return mv, len(mv) // 2


def _decode(fn, data, out):
    n = len(data)
    if out is None:
        out = array.array("h", bytes(2 * n))
    elif not isinstance(out, array.array) or out.typecode != "h" or len(out) < n:
        raise ValueError("out must be array('h') of at least %d samples" % n)
    if n:
        fn(ffi.from_buffer("uint8_t[]", data), ffi.from_buffer("int16_t[]", out), n)
    return out


def _encode(fn, samples, out):
    buf, n = _samples(samples)
    if out is None:
        out = bytearray(n)
    elif len(out) < n:
        raise ValueError("out must hold at least %d octets" % n)
    if n:
        fn(ffi.from_buffer("int16_t[]", buf), ffi.from_buffer("uint8_t[]", out), n)
    return out


def alaw_to_linear(data, out=None):
    """A-law octets -> array('h') (reusing out when given)."""
    return _decode(lib.cb_alaw_to_linear, data, out)


def ulaw_to_linear(data, out=None):
    """mu-law octets -> array('h')."""
    return _decode(lib.cb_ulaw_to_linear, data, out)


def linear_to_alaw(samples, out=None):
    """int16 samples -> A-law bytearray."""
    return _encode(lib.cb_linear_to_alaw, samples, out)


def linear_to_ulaw(samples, out=None):
    """int16 samples -> mu-law bytearray."""
    return _encode(lib.cb_linear_to_ulaw, samples, out)


def level_dbm0(samples, law="alaw"):
    """RMS level of int16 samples in dBm0 (-100.0 for silence).

    Raises:
        ValueError: law is not "alaw" or "ulaw".
    """
    if law not in _FULL_SCALE:
        raise ValueError("law %r is not one of: alaw, ulaw" % (law,))
    buf, n = _samples(samples)
    if not n:
        return -100.0
    p = lib.cb_mean_power(ffi.from_buffer("int16_t[]", buf), n)
    if p <= 0:
        return -100.0
    peak, ref = _FULL_SCALE[law]
    return 10 * math.log10(p / (peak * peak / 2)) + ref


class DtmfReceiverBank:
    """DTMF receivers for nchan channels, run once per block for all of them.

    Args:
        nchan (int): number of channels.

    Raises:
        ValueError: nchan out of range.
    """

    MAX_EVENTS = 4096

    def __init__(self, nchan):
        if not isinstance(nchan, int) or not 1 <= nchan <= 65536:
            raise ValueError("nchan must be an integer 1..65536, got %r" % (nchan,))
        self._nchan = nchan
        self._b = lib.cb_dtmf_rx_bank_new(nchan)
        if self._b == ffi.NULL:
            raise DspError("Creating a DTMF bank of %d channels: out of memory" % nchan)
        self._ev = ffi.new("cb_dtmf_event_t[]", self.MAX_EVENTS)

    @property
    def nchan(self):
        return self._nchan

    def __str__(self):
        return "DtmfReceiverBank(nchan=%d)" % self._nchan

    def process(self, samples, nsamples):
        """Run every channel's nsamples samples (channel-major).

        Returns:
            list[(chan, digit, offset)]: digits accepted in this block.

        Raises:
            ValueError: wrong buffer size. DspError: the bank is closed.
        """
        buf, n = _samples(samples)
        if n != self._nchan * nsamples:
            raise ValueError("expected %d x %d samples, got %d" % (self._nchan, nsamples, n))
        if self._b is None:
            raise DspError("Running DTMF detection: the bank is closed")
        rc = _check(lib.cb_dtmf_rx(self._b, ffi.from_buffer("int16_t[]", buf), nsamples, self._ev,
                                   self.MAX_EVENTS), "Running DTMF detection")
        return [(self._ev[i].chan, self._ev[i].digit.decode(), self._ev[i].offset) for i in range(rc)]

    def reset(self, chan):
        """Forget a channel's state (a new call on it)."""
        if not 0 <= chan < self._nchan:
            raise ValueError("chan %r outside 0..%d" % (chan, self._nchan - 1))
        _check(lib.cb_dtmf_rx_reset(self._b, chan), "Resetting DTMF channel %d" % chan)

    def close(self):
        if self._b is not None:
            lib.cb_dtmf_rx_bank_free(self._b)
            self._b = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# Call-progress tones: (f1, f2, level dBm0, cadence [(on_ms, off_ms), ...] or None for continuous)
TONE_PLANS = {
    "cn": {  # China: 450 Hz (YD/T 1044 figures)
        "dial": (450, 0, -10, None),
        "ringback": (450, 0, -10, [(1000, 4000)]),
        "busy": (450, 0, -10, [(350, 350)]),
        "congestion": (450, 0, -10, [(700, 700)]),
    },
    "eu": {  # ITU-T E.180 / ETSI: 425 Hz
        "dial": (425, 0, -10, None),
        "ringback": (425, 0, -10, [(1000, 4000)]),
        "busy": (425, 0, -10, [(500, 500)]),
        "congestion": (425, 0, -10, [(250, 250)]),
    },
    "us": {  # North American precise tone plan
        "dial": (350, 440, -13, None),
        "ringback": (440, 480, -19, [(2000, 4000)]),
        "busy": (480, 620, -24, [(500, 500)]),
        "congestion": (480, 620, -24, [(250, 250)]),
    },
}


class ToneGeneratorBank:
    """Tone generators (DTMF digits, call-progress tones) for nchan channels.

    Args:
        nchan (int): number of channels.
    """

    def __init__(self, nchan):
        if not isinstance(nchan, int) or not 1 <= nchan <= 65536:
            raise ValueError("nchan must be an integer 1..65536, got %r" % (nchan,))
        self._nchan = nchan
        self._b = lib.cb_tone_bank_new(nchan)
        if self._b == ffi.NULL:
            raise DspError("Creating a tone bank of %d channels: out of memory" % nchan)

    @property
    def nchan(self):
        return self._nchan

    def __str__(self):
        return "ToneGeneratorBank(nchan=%d)" % self._nchan

    def _chan(self, chan):
        if not isinstance(chan, int) or not 0 <= chan < self._nchan:
            raise ValueError("chan %r outside 0..%d" % (chan, self._nchan - 1))
        return chan

    def send_dtmf(self, chan, digits, on_ms=80, off_ms=80, level_dbm0=-10.0, twist_db=0.0):
        """Queue DTMF digits; level_dbm0 is the low-group tone, twist_db = high - low."""
        if not digits or any(c not in "0123456789*#ABCD" for c in digits):
            raise ValueError("digits %r: only 0-9 * # A-D" % (digits,))
        _check(lib.cb_tone_dtmf(self._b, self._chan(chan), digits.encode(), int(on_ms), int(off_ms),
                                float(level_dbm0), float(twist_db)), "Queueing %d DTMF digits on channel %d" % (len(digits), chan))

    def play_tone(self, chan, f1, f2, level_dbm0, cadence=None, repeat=True):
        """Play f1 (+f2) at level_dbm0 per tone; cadence [(on_ms, off_ms), ...] or None."""
        flat = [int(x) for pair in (cadence or []) for x in pair]
        arr = ffi.new("int[]", flat or [0])
        _check(lib.cb_tone_play(self._b, self._chan(chan), float(f1), float(f2), float(level_dbm0), arr,
                                len(flat) // 2, 1 if repeat else 0),
               "Playing %g+%g Hz at %g dBm0" % (f1, f2, level_dbm0))

    def play_plan_tone(self, chan, plan, tone):
        """Play a call-progress tone of a plan ("cn", "eu", "us")."""
        try:
            f1, f2, level, cadence = TONE_PLANS[plan][tone]
        except KeyError:
            raise ValueError("tone %s/%s: plans are %s, tones dial, ringback, busy, congestion"
                             % (plan, tone, ", ".join(TONE_PLANS))) from None
        self.play_tone(chan, f1, f2, level, cadence, True)

    def stop(self, chan):
        _check(lib.cb_tone_stop(self._b, self._chan(chan)), "Stopping tone")

    def active(self, chan):
        return bool(_check(lib.cb_tone_active(self._b, self._chan(chan)), "Reading tone state"))

    def generate(self, out, nsamples):
        """Fill out (array('h') of nchan*nsamples, channel-major) with every channel's next samples."""
        buf, n = _samples(out)
        if n != self._nchan * nsamples:
            raise ValueError("expected %d x %d samples, got %d" % (self._nchan, nsamples, n))
        _check(lib.cb_tone_generate(self._b, ffi.from_buffer("int16_t[]", buf), nsamples), "Generating tones")

    def close(self):
        if self._b is not None:
            lib.cb_tone_bank_free(self._b)
            self._b = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
