"""The one Python wrapper over callbox._dsp: G.711, levels, DTMF receivers, tone generators.

Buffers belong to Python (``array('h')`` for linear samples, ``bytearray`` for G.711
octets) and reach C through ``ffi.from_buffer`` without copies; callers on the 20 ms
tick allocate them once and pass them as ``out`` every time. Banks hold the C state of
many channels and are freed by ``close()`` or a ``with`` block. One call handles one
block of every channel of a bank; sample arrays are channel-major (channel 0's block,
then channel 1's, ...). The method and the standards' figures are in the C headers
under dsp/include/callbox/.

Levels are in dBm0: a full-scale sine is +3.14 dBm0 in A-law and +3.17 dBm0 in mu-law
(G.711), so a 0 dBm0 sine has a peak of 22827 (A-law; 22657 mu-law) in 16-bit linear.
The receivers and generators use the A-law figure.
"""
import array
import math
import numbers

from callbox._dsp import ffi, lib
from callbox.errors import DspError

ALAW_SILENCE = 0xD5
ULAW_SILENCE = 0xFF
DTMF_DIGITS = "0123456789*#ABCD"
SAMPLE_RATE = lib.CB_DSP_RATE
MAX_CHANNELS = 65536
PEAK_0DBM0 = 32768 * 10 ** (-3.14 / 20)     # A-law 0 dBm0 sine peak, 16-bit linear
RATE = 8000                                   # samples per second
FULL_SCALE = 32767
MIN_LEVEL_DBM0 = -60.0
MAX_DTMF_QUEUE = 64
MAX_DIGIT_MS = 10000
MAX_CADENCE_PAIRS = 16
MAX_SEGMENT_MS = 60000

_LAWS = {"alaw": lib.CB_G711_ALAW, "ulaw": lib.CB_G711_ULAW}

# Call-progress tones: (f1 Hz, f2 Hz or 0, level dBm0 per tone, cadence ((on_ms, off_ms), ...)
# or None for continuous). Every tone repeats its cadence.
TONE_PLANS = {
    "cn": {   # China (YD/T 1044-era national plan): 450 Hz
        "dial": (450, 0, -10.0, None),
        "ringback": (450, 0, -10.0, ((1000, 4000),)),
        "busy": (450, 0, -10.0, ((350, 350),)),
        "congestion": (450, 0, -10.0, ((700, 700),)),
    },
    "eu": {   # ITU-T E.180 recommended values (also ETSI's harmonised European tones): 425 Hz
        "dial": (425, 0, -10.0, None),
        "ringback": (425, 0, -10.0, ((1000, 4000),)),
        "busy": (425, 0, -10.0, ((500, 500),)),
        "congestion": (425, 0, -10.0, ((250, 250),)),
    },
    "us": {   # North American precise tone plan; congestion is "reorder"
        "dial": (350, 440, -13.0, None),
        "ringback": (440, 480, -19.0, ((2000, 4000),)),
        "busy": (480, 620, -24.0, ((500, 500),)),
        "congestion": (480, 620, -24.0, ((250, 250),)),
    },
}
_TONE_NAMES = ("dial", "ringback", "busy", "congestion")


def _check(rc, action):
    if rc < 0:
        raise DspError("%s: %s" % (action, ffi.string(lib.cb_dsp_strerror(rc)).decode()))
    return rc


def _int(value, name, lo, hi):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError("%s must be an integer, got %s" % (name, type(value).__name__))
    if not lo <= value <= hi:
        raise ValueError("%s %d is outside %d..%d" % (name, value, lo, hi))
    return int(value)


def _real(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError("%s must be a number, got %s" % (name, type(value).__name__))
    value = float(value)
    if not math.isfinite(value):
        raise ValueError("%s must be finite, got %r" % (name, value))
    return value


def _octets(data, name):
    """A contiguous buffer of octets and its length."""
    if isinstance(data, array.array) and data.itemsize != 1:
        raise TypeError("%s must hold octets, got array(%r)" % (name, data.typecode))
    try:
        mv = memoryview(data)
    except TypeError:
        raise TypeError("%s must be bytes-like (bytes, bytearray, memoryview), got %s"
                        % (name, type(data).__name__)) from None
    if not mv.contiguous:
        raise ValueError("%s must be a contiguous buffer" % name)
    return mv.cast("B"), mv.nbytes


def _linear(samples, name):
    """A buffer of native int16 samples and the number of samples."""
    if isinstance(samples, array.array):
        if samples.typecode != "h":
            raise TypeError("%s must be array('h') or bytes-like int16, got array(%r)" % (name, samples.typecode))
        return samples, len(samples)
    buf, n = _octets(samples, name)
    if n % 2:
        raise ValueError("%s: int16 samples need an even number of bytes, got %d" % (name, n))
    return buf, n // 2


def _writable_octets(out, n, name):
    if isinstance(out, array.array) and out.itemsize != 1:
        raise TypeError("%s must be a bytearray, got array(%r)" % (name, out.typecode))
    try:
        mv = memoryview(out)
    except TypeError:
        raise TypeError("%s must be a bytearray, got %s" % (name, type(out).__name__)) from None
    if mv.readonly or not mv.contiguous:
        raise TypeError("%s must be a writable contiguous buffer such as a bytearray" % name)
    if mv.nbytes != n:
        raise ValueError("%s must hold %d octets, got %d" % (name, n, mv.nbytes))
    return mv.cast("B")


def _sample_array(out, n, name):
    if not isinstance(out, array.array) or out.typecode != "h":
        raise TypeError("%s must be array('h'), got %s" % (name, type(out).__name__))
    if len(out) != n:
        raise ValueError("%s must hold %d samples, got %d" % (name, n, len(out)))
    return out


def _decode(fn, data, out, what):
    buf, n = _octets(data, "data")
    out = array.array("h", bytes(2 * n)) if out is None else _sample_array(out, n, "out")
    if n:
        _check(fn(ffi.from_buffer("uint8_t[]", buf), ffi.from_buffer("int16_t[]", out), n),
               "Decoding %d %s octets" % (n, what))
    return out


def _encode(fn, samples, out, what):
    buf, n = _linear(samples, "samples")
    if out is None:
        out = bytearray(n)
        dst = out
    else:
        dst = _writable_octets(out, n, "out")
    if n:
        _check(fn(ffi.from_buffer("int16_t[]", buf), ffi.from_buffer("uint8_t[]", dst), n),
               "Encoding %d samples to %s" % (n, what))
    return out


def alaw_to_linear(data, out=None):
    """Decode A-law octets to 16-bit linear samples (G.711, bit-exact).

    Args:
        data (bytes-like): A-law octets.
        out (array.array or None): array('h') of len(data) to fill and return; None
            allocates a new one.

    Returns:
        array.array: array('h') of len(data) samples (out when given).

    Raises:
        TypeError: data is not bytes-like, or out is not array('h').
        ValueError: out has the wrong length.
    """
    return _decode(lib.cb_g711_alaw_decode, data, out, "A-law")


def ulaw_to_linear(data, out=None):
    """Decode mu-law octets to 16-bit linear samples (G.711, bit-exact).

    Args:
        data (bytes-like): mu-law octets.
        out (array.array or None): array('h') of len(data) to fill and return; None
            allocates a new one.

    Returns:
        array.array: array('h') of len(data) samples (out when given).

    Raises:
        TypeError: data is not bytes-like, or out is not array('h').
        ValueError: out has the wrong length.
    """
    return _decode(lib.cb_g711_ulaw_decode, data, out, "mu-law")


def linear_to_alaw(samples, out=None):
    """Encode 16-bit linear samples to A-law octets (G.711, bit-exact).

    Args:
        samples (array.array or bytes-like): array('h'), or native-endian int16 bytes.
        out (bytearray or None): writable buffer of one octet per sample to fill and
            return; None allocates a new bytearray.

    Returns:
        bytearray: the A-law octets (out when given).

    Raises:
        TypeError: samples is neither array('h') nor bytes-like, or out is not writable.
        ValueError: an odd number of bytes of samples, or out has the wrong length.
    """
    return _encode(lib.cb_g711_alaw_encode, samples, out, "A-law")


def linear_to_ulaw(samples, out=None):
    """Encode 16-bit linear samples to mu-law octets (G.711, bit-exact).

    Args:
        samples (array.array or bytes-like): array('h'), or native-endian int16 bytes.
        out (bytearray or None): writable buffer of one octet per sample to fill and
            return; None allocates a new bytearray.

    Returns:
        bytearray: the mu-law octets (out when given).

    Raises:
        TypeError: samples is neither array('h') nor bytes-like, or out is not writable.
        ValueError: an odd number of bytes of samples, or out has the wrong length.
    """
    return _encode(lib.cb_g711_ulaw_encode, samples, out, "mu-law")


def mix_alaw(blocks, counts, n):
    """Mix A-law blocks into len(counts) outputs in one C call (supervisor conferences).

    Args:
        blocks (bytes-like): the source blocks back to back: output 0's counts[0] blocks
            of n octets, then output 1's, and so on.
        counts (list[int]): sources per output, 0..16 each.
        n (int): octets per block, 1..8000.

    Returns:
        bytearray: len(counts) * n octets, output after output.

    Raises:
        TypeError, ValueError: bad arguments (named).
    """
    n = _int(n, "n", 1, 8000)
    counts = list(counts)
    for i, c in enumerate(counts):
        _int(c, "counts[%d]" % i, 0, lib.CB_MIX_MAX_SOURCES)
    buf, size = _octets(blocks, "blocks")
    if size != sum(counts) * n:
        raise ValueError("blocks must hold sum(counts) * n = %d octets, got %d" % (sum(counts) * n, size))
    out = bytearray(len(counts) * n)
    if counts:
        _check(lib.cb_mix_alaw(ffi.from_buffer("uint8_t[]", buf) if size else ffi.new("uint8_t[]", 1),
                               ffi.new("int[]", counts), len(counts), n, ffi.from_buffer("uint8_t[]", out)),
               "Mixing %d outputs" % len(counts))
    return out


def level_dbm0(samples, law="alaw"):
    """RMS level of 16-bit linear samples in dBm0.

    Args:
        samples (array.array or bytes-like): array('h'), or native-endian int16 bytes.
        law (str): "alaw" (full-scale sine = +3.14 dBm0) or "ulaw" (+3.17 dBm0).

    Returns:
        float: the level in dBm0; -100.0 for silence or no samples.

    Raises:
        TypeError: samples is neither array('h') nor bytes-like.
        ValueError: law is not "alaw" or "ulaw"; an odd number of bytes of samples.
    """
    if law not in _LAWS:
        raise ValueError("law %r is not one of: %s" % (law, ", ".join(_LAWS)))
    buf, n = _linear(samples, "samples")
    if not n:
        return -100.0
    res = ffi.new("double *")
    _check(lib.cb_g711_level(ffi.from_buffer("int16_t[]", buf), n, _LAWS[law], res), "Measuring a level")
    return res[0]


def _peak(dbm0):
    return int(round(PEAK_0DBM0 * 10 ** (dbm0 / 20)))


class _Bank:
    """What both banks share: channel count, checks, lifecycle."""

    _what = "bank"

    def __init__(self, nchan):
        self._nchan = _int(nchan, "nchan", 1, MAX_CHANNELS)
        self._b = None

    @property
    def nchan(self):
        """int: number of channels in the bank (fixed when it is made)."""
        return self._nchan

    @property
    def closed(self):
        """bool: True once close() has freed the bank."""
        return self._b is None

    def __str__(self):
        return "%s(nchan=%d%s)" % (type(self).__name__, self._nchan, ", closed" if self._b is None else "")

    def _chan(self, chan):
        return _int(chan, "chan", 0, self._nchan - 1)

    def _live(self, action):
        if self._b is None:
            raise DspError("%s: the %s is closed" % (action, self._what))
        return self._b

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class DtmfReceiverBank(_Bank):
    """DTMF receivers (ITU-T Q.24 figures, see dsp/include/callbox/dtmf.h) for nchan channels.

    Each digit is reported once, when it is accepted (about 30 to 45 ms after it starts).

    Args:
        nchan (int): number of channels, 1..65536.

    Raises:
        TypeError: nchan is not an integer.
        ValueError: nchan is out of range.
        DspError: the C bank could not be made (out of memory).
    """

    _what = "DTMF receiver bank"

    def __init__(self, nchan):
        super().__init__(nchan)
        p = ffi.new("cb_dtmf_bank_t **")
        _check(lib.cb_dtmf_bank_new(p, self._nchan), "Creating a DTMF receiver bank of %d channels" % self._nchan)
        self._b = p[0]
        self._ev = ffi.new("cb_dtmf_event_t[]", 1)
        self._ev_len = 1

    def process(self, samples, nsamples):
        """Run every channel's receiver over its next nsamples samples.

        Blocks may be any length (the receiver keeps its state across calls); the
        media tick passes 160.

        Args:
            samples (array.array or bytes-like): array('h') (or native int16 bytes) of
                nchan * nsamples samples, channel-major.
            nsamples (int): samples per channel, 0..1000000.

        Returns:
            list[tuple[int, str, int]]: (chan, digit, offset) for each digit accepted in
            this block, sorted by channel then offset; offset is the sample (0 ..
            nsamples - 1) of the channel's block where the digit was accepted.

        Raises:
            TypeError: wrong argument types.
            ValueError: samples does not hold nchan * nsamples samples.
            DspError: the bank is closed.
        """
        nsamples = _int(nsamples, "nsamples", 0, 1000000)
        buf, n = _linear(samples, "samples")
        if n != self._nchan * nsamples:
            raise ValueError("samples must hold nchan * nsamples = %d x %d = %d samples, got %d"
                             % (self._nchan, nsamples, self._nchan * nsamples, n))
        b = self._live("Running the DTMF receivers")
        need = _check(lib.cb_dtmf_max_events(b, nsamples), "Running the DTMF receivers")
        if need > self._ev_len:
            self._ev = ffi.new("cb_dtmf_event_t[]", need)
            self._ev_len = need
        if not nsamples:
            return []
        rc = _check(lib.cb_dtmf_process(b, ffi.from_buffer("int16_t[]", buf), nsamples, self._ev, self._ev_len),
                    "Running the DTMF receivers")
        ev = self._ev
        return [(ev[i].chan, ev[i].digit.decode(), ev[i].offset) for i in range(rc)]

    def reset(self, chan):
        """Forget what a channel has heard (a new call on it).

        Args:
            chan (int): channel, 0..nchan-1.

        Raises:
            TypeError: chan is not an integer.
            ValueError: chan is out of range.
            DspError: the bank is closed.
        """
        chan = self._chan(chan)
        _check(lib.cb_dtmf_reset(self._live("Resetting DTMF receiver %d" % chan), chan),
               "Resetting DTMF receiver %d" % chan)

    def close(self):
        """Free the C bank. Calling it again does nothing; any other call raises DspError.

        Returns:
            None
        """
        if self._b is not None:
            lib.cb_dtmf_bank_free(self._b)
            self._b = None


def r2mf_pair(signal, backward=False):
    """The two frequencies (Hz) of MFC/R2 signal 1..15, forward or backward set (Q.441).

    Raises:
        ValueError: signal outside 1..15.
    """
    signal = _int(signal, "signal", 1, 15)
    f1, f2 = ffi.new("double *"), ffi.new("double *")
    _check(lib.cb_r2mf_pair(signal, 1 if backward else 0, f1, f2), "MFC/R2 signal %d" % signal)
    return f1[0], f2[0]


class R2MFReceiverBank(_Bank):
    """MFC/R2 register-signal receivers (see dsp/include/callbox/r2mf.h) for nchan channels.

    Each channel listens for the forward set (the default: what a backward register hears)
    or the backward set. Both edges are reported: (chan, n, offset) when signal n starts,
    (chan, 0, offset) when it stops.

    Args:
        nchan (int): number of channels, 1..65536.
    """

    _what = "MFC/R2 receiver bank"

    def __init__(self, nchan):
        super().__init__(nchan)
        p = ffi.new("cb_r2mf_bank_t **")
        _check(lib.cb_r2mf_bank_new(p, self._nchan), "Creating an MFC/R2 receiver bank of %d channels" % self._nchan)
        self._b = p[0]
        self._ev = ffi.new("cb_r2mf_event_t[]", 1)
        self._ev_len = 1

    def set_backward(self, chan, backward):
        """Listen for the backward set (True) or the forward set (False) on a channel; resets it."""
        chan = self._chan(chan)
        _check(lib.cb_r2mf_set_backward(self._live("Setting an MFC/R2 receiver"), chan, 1 if backward else 0),
               "Setting MFC/R2 receiver %d" % chan)

    def reset(self, chan):
        chan = self._chan(chan)
        _check(lib.cb_r2mf_reset(self._live("Resetting an MFC/R2 receiver"), chan), "Resetting MFC/R2 receiver %d" % chan)

    def process(self, samples, nsamples):
        """Run every channel over its next nsamples samples (channel-major int16).

        Returns:
            list[tuple[int, int, int]]: (chan, signal 1..15 or 0 for stopped, offset).
        """
        nsamples = _int(nsamples, "nsamples", 0, 1000000)
        buf, n = _linear(samples, "samples")
        if n != self._nchan * nsamples:
            raise ValueError("samples must hold nchan * nsamples = %d x %d = %d samples, got %d"
                             % (self._nchan, nsamples, self._nchan * nsamples, n))
        b = self._live("Running the MFC/R2 receivers")
        need = _check(lib.cb_r2mf_max_events(b, nsamples), "Running the MFC/R2 receivers")
        if need > self._ev_len:
            self._ev = ffi.new("cb_r2mf_event_t[]", need)
            self._ev_len = need
        if not nsamples:
            return []
        rc = _check(lib.cb_r2mf_process(b, ffi.from_buffer("int16_t[]", buf), nsamples, self._ev, self._ev_len),
                    "Running the MFC/R2 receivers")
        ev = self._ev
        return [(ev[i].chan, ev[i].signal, ev[i].offset) for i in range(rc)]

    def close(self):
        if self._b is not None:
            lib.cb_r2mf_bank_free(self._b)
            self._b = None


class CallProgressBank(_Bank):
    """Call-progress tone presence per channel and 20 ms block (dsp/include/callbox/cpt.h), with a
    cadence classifier per channel that names the tone of a plan (see TONE_PLANS).

    Args:
        nchan (int): number of channels.
    """

    _what = "call-progress tone bank"

    def __init__(self, nchan):
        super().__init__(nchan)
        p = ffi.new("cb_cpt_bank_t **")
        _check(lib.cb_cpt_bank_new(p, self._nchan), "Creating a call-progress tone bank")
        self._b = p[0]
        self._present = ffi.new("uint8_t[]", self._nchan)
        self.classifiers = [None] * self._nchan

    def watch(self, chan, plan, tone_kind="busy"):
        """Watch a channel for a plan's tones: "cn"/"eu" (one frequency for all of them) or "us"
        (dial 350+440, ringback 440+480, busy/reorder 480+620: name the one to listen for)."""
        chan = self._chan(chan)
        if plan not in TONE_PLANS:
            raise ValueError("plan %r is not one of %s" % (plan, ", ".join(TONE_PLANS)))
        if tone_kind not in _TONE_NAMES:
            raise ValueError("tone %r is not one of %s" % (tone_kind, ", ".join(_TONE_NAMES)))
        f1, f2 = TONE_PLANS[plan][tone_kind][:2]
        _check(lib.cb_cpt_watch(self._live("Watching for call-progress tones"), chan, float(f1), float(f2)),
               "Watching channel %d" % chan)
        candidates = {k: v for k, v in TONE_PLANS[plan].items() if v[:2] == (f1, f2)}
        self.classifiers[chan] = CadenceClassifier(candidates)

    def process(self, samples, nsamples):
        """One block per channel; returns [(chan, tone name)] for channels whose tone was just
        recognised (each name is reported once, again only after it changes)."""
        nsamples = _int(nsamples, "nsamples", 1, 1000000)
        buf, n = _linear(samples, "samples")
        if n != self._nchan * nsamples:
            raise ValueError("samples must hold nchan * nsamples = %d samples, got %d" % (self._nchan * nsamples, n))
        _check(lib.cb_cpt_process(self._live("Detecting call-progress tones"), ffi.from_buffer("int16_t[]", buf),
                                  nsamples, self._present), "Detecting call-progress tones")
        out = []
        ms = nsamples * 1000.0 / RATE
        for ch, cls in enumerate(self.classifiers):
            if cls is not None:
                name = cls.feed(bool(self._present[ch]), ms)
                if name:
                    out.append((ch, name))
        return out

    def close(self):
        if self._b is not None:
            lib.cb_cpt_bank_free(self._b)
            self._b = None


class CadenceClassifier:
    """Names a tone from its on/off timing: continuous for 3 s -> the plan's continuous tone
    (dial); otherwise the last full on and off periods matched, within 20 % (and 40 ms), against
    the candidates' cadences, over two cycles in a row.

    Args:
        candidates (dict): name -> (f1, f2, level, cadence) of tones sharing one frequency set.
    """

    STEADY_MS = 3000.0

    def __init__(self, candidates):
        self.candidates = candidates
        self.state = None
        self.run_ms = 0.0
        self.periods = []          # completed (on_ms, off_ms) cycles
        self._on = None
        self.reported = None

    def _match(self, on, off):
        for name, (_, _, _, cadence) in self.candidates.items():
            if not cadence:
                continue
            c_on, c_off = cadence[0]
            if abs(on - c_on) <= max(40, 0.2 * c_on) and abs(off - c_off) <= max(40, 0.2 * c_off):
                return name
        return None

    def feed(self, present, ms):
        """One block's decision; returns a newly recognised name or None."""
        if present != self.state:
            if self.state is True:
                self._on = self.run_ms
            elif self.state is False and self._on is not None:
                self.periods.append((self._on, self.run_ms))
                self.periods = self.periods[-2:]
            self.state, self.run_ms = present, 0.0
        self.run_ms += ms
        name = None
        if present and self.run_ms >= self.STEADY_MS:
            name = next((n for n, v in self.candidates.items() if not v[3]), None)
        elif len(self.periods) == 2:
            a, b = (self._match(*p) for p in self.periods)
            name = a if a is not None and a == b else None
        if not present and self.run_ms > 6000:
            self.periods, self._on = [], None          # silence: forget the cadence
        if name and name != self.reported:
            self.reported = name
            return name
        return None


class ToneGeneratorBank(_Bank):
    """Tone generators (DTMF digits, call-progress tones) for nchan channels.

    A channel does one thing at a time: queueing digits stops a tone, and playing a tone
    drops queued digits. Levels are per tone in dBm0 (A-law reference).

    Args:
        nchan (int): number of channels, 1..65536.

    Raises:
        TypeError: nchan is not an integer.
        ValueError: nchan is out of range.
        DspError: the C bank could not be made (out of memory).
    """

    _what = "tone generator bank"

    def __init__(self, nchan):
        super().__init__(nchan)
        p = ffi.new("cb_tone_bank_t **")
        _check(lib.cb_tone_bank_new(p, self._nchan), "Creating a tone generator bank of %d channels" % self._nchan)
        self._b = p[0]

    @staticmethod
    def _check_pair(action, level_a, level_b, what):
        peaks = _peak(level_a) + _peak(level_b)
        if peaks > FULL_SCALE:
            raise ValueError("%s: %s add up to a peak of %d, beyond full scale (%d); lower the level"
                             % (action, what, peaks, FULL_SCALE))

    @staticmethod
    def _check_level(action, name, dbm0):
        if dbm0 < MIN_LEVEL_DBM0 or _peak(dbm0) > FULL_SCALE:
            raise ValueError("%s: %s %.2f dBm0 is outside %.0f .. +3.14 dBm0"
                             % (action, name, dbm0, MIN_LEVEL_DBM0))

    def send_dtmf(self, chan, digits, on_ms=80, off_ms=80, level_dbm0=-10.0, twist_db=0.0):
        """Queue DTMF digits on a channel (after any digits already queued).

        Args:
            chan (int): channel, 0..nchan-1.
            digits (str): 1 or more of 0-9 * # A-D.
            on_ms (int): tone time per digit, 1..10000 ms.
            off_ms (int): silence after each digit, 0..10000 ms.
            level_dbm0 (float): level of the high-group tone, dBm0.
            twist_db (float): high group minus low group, dB; the low-group tone is sent
                at level_dbm0 - twist_db. Negative = "normal" twist (low group stronger).

        Raises:
            TypeError: wrong argument types.
            ValueError: chan out of range, a character that is not a DTMF digit, times out
                of range, a tone below -60 dBm0, or the two tones beyond full scale.
            DspError: more than 64 digits would be waiting on the channel, or the bank is closed.
        """
        chan = self._chan(chan)
        if not isinstance(digits, str):
            raise TypeError("digits must be a str, got %s" % type(digits).__name__)
        bad = sorted(set(d for d in digits if d not in DTMF_DIGITS))
        if not digits or bad:
            raise ValueError("digits %r: need 1 or more of 0-9, *, #, A-D%s"
                             % (digits, " (not %s)" % ", ".join(map(repr, bad)) if bad else ""))
        on_ms = _int(on_ms, "on_ms", 1, MAX_DIGIT_MS)
        off_ms = _int(off_ms, "off_ms", 0, MAX_DIGIT_MS)
        level = _real(level_dbm0, "level_dbm0")
        twist = _real(twist_db, "twist_db")
        action = "Queueing DTMF %r on channel %d" % (digits, chan)
        self._check_level(action, "high-group tone", level)
        self._check_level(action, "low-group tone", level - twist)
        self._check_pair(action, level, level - twist, "the tones at %.2f and %.2f dBm0" % (level, level - twist))
        rc = lib.cb_tone_send_dtmf(self._live(action), chan, digits.encode("ascii"), on_ms, off_ms, level, twist)
        if rc == lib.CB_EFULL:
            raise DspError("%s: the channel's queue is full (at most %d digits wait)" % (action, MAX_DTMF_QUEUE))
        _check(rc, action)

    def play_tone(self, chan, f1, f2, level_dbm0, cadence=None, repeat=True):
        """Play one or two frequencies on a channel, replacing whatever it was doing.

        Args:
            chan (int): channel, 0..nchan-1.
            f1 (float): frequency, 1..3999 Hz.
            f2 (float): second frequency, 1..3999 Hz, or 0 for a single tone.
            level_dbm0 (float): level of each tone, dBm0.
            cadence (list or None): (on_ms, off_ms) pairs, 1..16 of them, each 0..60000 ms,
                at least one on time > 0; None = continuous.
            repeat (bool): loop the cadence; False plays it once, then the channel idles.

        Raises:
            TypeError: wrong argument types.
            ValueError: chan, a frequency, the level or the cadence out of range, or two
                tones beyond full scale.
            DspError: the bank is closed.
        """
        chan = self._chan(chan)
        f1 = _real(f1, "f1")
        f2 = _real(f2, "f2")
        level = _real(level_dbm0, "level_dbm0")
        action = "Playing %g%s Hz at %.2f dBm0 on channel %d" % (f1, "+%g" % f2 if f2 else "", level, chan)
        if not 1 <= f1 < SAMPLE_RATE / 2:
            raise ValueError("%s: f1 must be 1..%d Hz" % (action, SAMPLE_RATE // 2 - 1))
        if f2 and not 1 <= f2 < SAMPLE_RATE / 2:
            raise ValueError("%s: f2 must be 0 (none) or 1..%d Hz" % (action, SAMPLE_RATE // 2 - 1))
        self._check_level(action, "level_dbm0", level)
        if f2:
            self._check_pair(action, level, level, "two tones at %.2f dBm0" % level)
        flat = []
        if cadence is not None:
            try:
                pairs = [tuple(p) for p in cadence]
            except TypeError:
                raise TypeError("%s: cadence must be a list of (on_ms, off_ms) pairs or None" % action) from None
            if not 1 <= len(pairs) <= MAX_CADENCE_PAIRS or any(len(p) != 2 for p in pairs):
                raise ValueError("%s: cadence must be 1..%d (on_ms, off_ms) pairs, got %r"
                                 % (action, MAX_CADENCE_PAIRS, cadence))
            flat = [_int(v, "cadence time", 0, MAX_SEGMENT_MS) for p in pairs for v in p]
            if not any(flat[0::2]):
                raise ValueError("%s: cadence %r never sounds (every on time is 0)" % (action, cadence))
        arr = ffi.new("int[]", flat or [0])
        _check(lib.cb_tone_play(self._live(action), chan, f1, f2, level, arr, len(flat) // 2, 1 if repeat else 0),
               action)

    def play_plan_tone(self, chan, plan, tone):
        """Play a call-progress tone of a national plan (see TONE_PLANS), repeating its cadence.

        Args:
            chan (int): channel, 0..nchan-1.
            plan (str): "cn", "eu" or "us".
            tone (str): "dial", "ringback", "busy" or "congestion".

        Raises:
            TypeError: chan is not an integer.
            ValueError: chan out of range, or an unknown plan or tone.
            DspError: the bank is closed.
        """
        if plan not in TONE_PLANS or tone not in TONE_PLANS[plan]:
            raise ValueError("tone %r of plan %r: plans are %s, tones %s"
                             % (tone, plan, ", ".join(TONE_PLANS), ", ".join(_TONE_NAMES)))
        f1, f2, level, cadence = TONE_PLANS[plan][tone]
        self.play_tone(chan, f1, f2, level, cadence, True)

    def stop(self, chan):
        """Silence a channel at once and drop its queued digits.

        Args:
            chan (int): channel, 0..nchan-1.

        Raises:
            TypeError: chan is not an integer.
            ValueError: chan is out of range.
            DspError: the bank is closed.
        """
        chan = self._chan(chan)
        _check(lib.cb_tone_stop(self._live("Stopping channel %d" % chan), chan), "Stopping channel %d" % chan)

    def active(self, chan):
        """Whether a channel is still sending digits (their off times included) or a tone.

        Args:
            chan (int): channel, 0..nchan-1.

        Returns:
            bool: True while busy, False when idle.

        Raises:
            TypeError: chan is not an integer.
            ValueError: chan is out of range.
            DspError: the bank is closed.
        """
        chan = self._chan(chan)
        return bool(_check(lib.cb_tone_active(self._live("Reading channel %d" % chan), chan),
                           "Reading channel %d" % chan))

    def generate(self, out, nsamples):
        """Write every channel's next nsamples samples (idle channels get zeros).

        Args:
            out (array.array): array('h') of nchan * nsamples samples, channel-major.
            nsamples (int): samples per channel, 0..1000000.

        Raises:
            TypeError: out is not array('h'), or nsamples is not an integer.
            ValueError: out does not hold nchan * nsamples samples.
            DspError: the bank is closed.
        """
        nsamples = _int(nsamples, "nsamples", 0, 1000000)
        _sample_array(out, self._nchan * nsamples, "out")
        b = self._live("Generating tones")
        if nsamples:
            _check(lib.cb_tone_generate(b, ffi.from_buffer("int16_t[]", out), nsamples), "Generating tones")

    def close(self):
        """Free the C bank. Calling it again does nothing; any other call raises DspError.

        Returns:
            None
        """
        if self._b is not None:
            lib.cb_tone_bank_free(self._b)
            self._b = None
