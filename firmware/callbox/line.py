"""The one Python wrapper over callbox._line: E1 framer/deframer, HDLC bank, TDM helpers,
O.151 PRBS and line codes.

Buffers belong to Python (``bytearray``, ``bytes`` or anything bytes-like) and go to C
without copies through ``ffi.from_buffer``; the buffers an object needs for itself are
allocated once and reused. C objects are freed by ``close()`` or a ``with`` block, never by
the garbage collector; a closed object raises LineError. One call handles one block
(normally 160 frames = 20 ms) of a span, or every D-channel of the box at once.

Bit order: raw line bits are packed MSB first (bit 1 of TS0 is the MSB of a frame's
first octet when aligned). A frame is 32 octets, TS0..TS31.

Errors: arguments are checked first (TypeError for a wrong type, ValueError for a
wrong size or value), before anything changes; LineError names the action and the
cause ("HDLC send on channel 2: queue or output buffer full").
"""
import array

from callbox._line import ffi, lib
from callbox.errors import LineError

__all__ = ["E1_FRAME_BYTES", "HDLC_TX_QUEUE", "E1Tx", "E1Rx", "HdlcBank", "tdm_deinterleave", "tdm_interleave",
           "payload_insert", "payload_extract", "Prbs", "LineCoder"]

E1_FRAME_BYTES = 32
"""Octets in one E1 frame (G.704 2.3.1: 32 timeslots)."""

HDLC_TX_QUEUE = lib.CB_HDLC_TX_QUEUE
"""Frames an HdlcBank channel can hold for sending (32)."""


# ---------------------------------------------------------------- argument checks

def _check(rc, action):
    """rc from C, or LineError("<action>: <cause>") for a negative CB_LINE_* code."""
    if rc < 0:
        raise LineError("%s: %s" % (action, ffi.string(lib.cb_line_strerror(rc)).decode()))
    return rc


def _nbytes(obj, what):
    """Length in octets of a C-contiguous bytes-like object."""
    try:
        m = memoryview(obj)
    except TypeError:
        raise TypeError("%s: expected a bytes-like object, got %s" % (what, type(obj).__name__)) from None
    if not m.c_contiguous:
        raise TypeError("%s: the buffer must be contiguous" % what)
    return m.nbytes


def _out(out, nbytes, what):
    """The caller's output buffer (checked: writable, exactly nbytes), or a new bytearray."""
    if out is None:
        return bytearray(nbytes)
    n = _nbytes(out, what + " (out)")
    if memoryview(out).readonly:
        raise TypeError("%s: out must be writable (a bytearray), got %s" % (what, type(out).__name__))
    if n != nbytes:
        raise ValueError("%s: out must be %d bytes, got %d" % (what, nbytes, n))
    return out


def _count(n, what, name="n"):
    """A non-negative int count."""
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError("%s: %s must be an int, got %s" % (what, name, type(n).__name__))
    if n < 0:
        raise ValueError("%s: %s must be >= 0, got %d" % (what, name, n))
    return n


def _frames(data, what):
    """Whole 32-octet frames in data."""
    n = _nbytes(data, what)
    if n % E1_FRAME_BYTES:
        raise ValueError("%s: %d bytes is not a whole number of %d-octet frames" % (what, n, E1_FRAME_BYTES))
    return n // E1_FRAME_BYTES


def _u8(buf):
    return ffi.from_buffer("uint8_t[]", buf)


class _Handle:
    """Shared lifecycle: one C object, freed by close() or a with block."""

    _kind = "object"

    def _live(self, action):
        if self._h is None:
            raise LineError("%s: the %s is closed" % (action, self._kind))
        return self._h

    def _free(self, h):
        raise NotImplementedError

    def close(self):
        """Free the C object. Calling it again does nothing."""
        if self._h is not None:
            self._free(self._h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------- E1

def _sa_value(bits):
    if isinstance(bits, str) and len(bits) == 5 and set(bits) <= {"0", "1"}:
        return int(bits, 2)
    if isinstance(bits, int) and not isinstance(bits, bool) and 0 <= bits <= 31:
        return bits
    raise ValueError("Sa bits %r: give five bits Sa4..Sa8 such as '11111', or 0..31" % (bits,))


class E1Tx(_Handle):
    """E1 framer (G.704 2.3): copies timeslots 1..31 and writes TS0.

    Even frames carry the FAS ``C 0011011``, odd ones the NFAS ``Si 1 A Sa4..Sa8``;
    C/Si and Sa are 1, A is remote_alarm. With crc4 the CRC-4 multiframe replaces
    bit 1 (MFAS, C bits, E bits; G.704 2.3.3).

    Args:
        crc4 (bool): send the CRC-4 multiframe.

    Raises:
        LineError: out of memory.
    """

    _kind = "E1 framer"

    def __init__(self, crc4=False):
        self._h = None
        h = lib.cb_e1_tx_new()
        if h == ffi.NULL:
            raise LineError("Creating an E1 framer: out of memory")
        self._h = h
        self._rai = False
        self.crc4 = bool(crc4)
        lib.cb_e1_tx_set_crc4(h, 1 if crc4 else 0)

    def _free(self, h):
        lib.cb_e1_tx_free(h)

    def __str__(self):
        return "E1Tx(crc4=%s, remote_alarm=%s%s)" % (self.crc4, self._rai, ", closed" if self._h is None else "")

    @property
    def remote_alarm(self):
        """bool: the A bit (RAI, G.704 Table 5A) sent in every following NFAS. Setting it
        raises LineError when the framer is closed."""
        return self._rai

    @remote_alarm.setter
    def remote_alarm(self, on):
        lib.cb_e1_tx_set_rai(self._live("Setting the E1 remote alarm"), 1 if on else 0)
        self._rai = bool(on)

    def set_sa(self, bits):
        """The Sa4..Sa8 bits of every following NFAS, as a string of five '0'/'1' (Sa4 first)
        or an int 0..31 (Sa4 the most significant bit). Unused Sa bits are 1: '11111'.

        Raises:
            ValueError: not five bits.
        """
        v = _sa_value(bits)
        _check(lib.cb_e1_tx_set_sa(self._live("Setting the E1 Sa bits"), v), "Setting the E1 Sa bits")

    def set_far_no_crc4(self, on):
        """G.706 Annex B: the far end sends no CRC-4; keep the multiframe, send E bits as 0.

        Args:
            on (bool): the far end has no CRC-4.

        Raises:
            LineError: the framer is closed.
        """
        lib.cb_e1_tx_set_ebits_zero(self._live("Setting E1 Annex B mode"), 1 if on else 0)

    def report_crc_errors(self, n):
        """Send n E bits as 0 so that the far end learns of our received CRC-4 errors.

        Args:
            n (int): errored sub-multiframes (at most 48 stay pending).

        Raises:
            TypeError, ValueError: n is not an int >= 0.
            LineError: the framer is closed.
        """
        _count(n, "Reporting CRC-4 errors")
        lib.cb_e1_tx_report_crc_errors(self._live("Reporting CRC-4 errors"), min(n, 1 << 30))

    def frame(self, ts, out=None):
        """Frame n frames of timeslots into the raw bitstream.

        Args:
            ts (bytes-like): n * 32 octets; TS0 of each frame is ignored.
            out (bytearray): n * 32 octets to write into (may be ts itself); new if None.

        Returns:
            bytearray: out, the raw line bits (MSB first).

        Raises:
            TypeError: ts or out is not a (writable) bytes-like object.
            ValueError: ts is not whole frames, or out has another size.
            LineError: the framer is closed.
        """
        n = _frames(ts, "E1 framing")
        out = _out(out, n * E1_FRAME_BYTES, "E1 framing")
        h = self._live("E1 framing")
        _check(lib.cb_e1_tx_frame(h, _u8(ts), _u8(out), n), "E1 framing")
        return out


class E1Rx(_Handle):
    """E1 deframer: frame alignment on a raw bitstream (G.706 4.1), defects (G.775), counters.

    Alignment is found at any bit offset and may move at any time. Each deframe()
    call returns exactly as many frames as it was given: the aligned frames one frame
    time late (a constant delay), all-ones frames while not aligned. See
    drivers/include/callbox/e1.h for the rules.

    Args:
        crc4 (bool): check the CRC-4 multiframe (G.704 2.3.3, G.706 4.2).

    Raises:
        LineError: out of memory.
    """

    _kind = "E1 deframer"

    COUNTER_DESCRIPTIONS = {
        "rx:frames": "Rx frames in alignment",
        "rx:fas_errors": "Rx FAS errors",
        "rx:nfas_errors": "Rx NFAS bit-2 errors",
        "rx:realignments": "Rx frame realignments",
        "rx:slips": "Rx frame slips",
        "rx:los_events": "Rx loss-of-signal events",
        "rx:ais_events": "Rx AIS events",
        "rx:crc4_errors": "Rx CRC-4 errors",
        "rx:ebit_errors": "Rx E-bit errors (far end CRC-4 errors)",
        "rx:crc4_blocks": "Rx CRC-4 sub-multiframes checked",
        "rx:mf_realignments": "Rx CRC-4 multiframe alignments",
    }
    """Every counter: machine name -> text for consoles and the web UI."""

    _COUNTER_FIELDS = (("rx:frames", "frames"), ("rx:fas_errors", "fas_errors"), ("rx:nfas_errors", "nfas_errors"),
                       ("rx:realignments", "realignments"), ("rx:slips", "slips"),
                       ("rx:los_events", "los_events"), ("rx:ais_events", "ais_events"),
                       ("rx:crc4_errors", "crc4_errors"), ("rx:ebit_errors", "ebit_errors"),
                       ("rx:crc4_blocks", "crc4_blocks"), ("rx:mf_realignments", "mf_realignments"))

    CRC4_MODES = {"off": 0, "strict": 1, "auto": 2}

    def __init__(self, crc4=False, crc4_mode=None):
        if crc4_mode is None:
            crc4_mode = "auto" if crc4 else "off"
        if crc4_mode not in self.CRC4_MODES:
            raise ValueError("E1 deframer: crc4_mode %r is not one of off, strict, auto" % (crc4_mode,))
        self._h = None
        h = lib.cb_e1_rx_new()
        if h == ffi.NULL:
            raise LineError("Creating an E1 deframer: out of memory")
        self._h = h
        self.crc4 = crc4_mode != "off"
        self.crc4_mode = crc4_mode
        lib.cb_e1_rx_set_crc4_mode(h, self.CRC4_MODES[crc4_mode])
        self._st = ffi.new("cb_e1_status_t *")
        self._ctr = ffi.new("cb_e1_counters_t *")

    def _free(self, h):
        lib.cb_e1_rx_free(h)

    def __str__(self):
        if self._h is None:
            return "E1Rx(crc4=%s, closed)" % self.crc4
        return "E1Rx(crc4=%s, %s)" % (self.crc4, ", ".join("%s=%s" % kv for kv in self.status().items()))

    def deframe(self, raw, out=None):
        """Consume n * 32 octets of raw line bits, return exactly n frames.

        Args:
            raw (bytes-like): n * 32 octets of raw bits, MSB first, any alignment.
            out (bytearray): n * 32 octets to write into (not raw itself); new if None.

        Returns:
            bytearray: out: n frames of 32 octets, 0xFF-filled while not aligned.

        Raises:
            TypeError: raw or out is not a (writable) bytes-like object.
            ValueError: raw is not whole frames, out has another size or is raw.
            LineError: the deframer is closed.
        """
        n = _frames(raw, "E1 deframing")
        if out is not None and out is raw:
            raise ValueError("E1 deframing: out must not be raw itself")
        out = _out(out, n * E1_FRAME_BYTES, "E1 deframing")
        h = self._live("E1 deframing")
        _check(lib.cb_e1_rx_deframe(h, _u8(raw), _u8(out), n), "E1 deframing")
        return out

    def deframe_at(self, raw):
        """deframe(), and where each output frame started.

        Returns:
            (bytearray, list[int]): the frames, and per frame the stream bit (from the first
            bit ever given) where it started, -1 for the all-ones frames of no alignment.
        """
        n = _frames(raw, "E1 deframing")
        out = bytearray(n * E1_FRAME_BYTES)
        starts = ffi.new("int64_t[]", max(n, 1))
        _check(lib.cb_e1_rx_deframe_at(self._live("E1 deframing"), _u8(raw), _u8(out), n, starts), "E1 deframing")
        return out, list(starts)[:n]

    def status(self):
        """Defects now.

        Returns:
            dict: bools "los", "ais", "lof" (not aligned and not LOS), "rai", "aligned",
            and with CRC-4 meaning "lomf" (no multiframe alignment) and "far_no_crc4"
            (G.706 Annex B).

        Raises:
            LineError: the deframer is closed.
        """
        lib.cb_e1_rx_status(self._live("Reading E1 status"), self._st)
        s = self._st
        return {"los": bool(s.los), "ais": bool(s.ais), "lof": bool(s.lof), "rai": bool(s.rai),
                "aligned": bool(s.aligned), "lomf": bool(s.lomf), "far_no_crc4": bool(s.far_no_crc4)}

    def counters(self):
        """Counters since creation or reset_counters().

        Returns:
            dict: machine name (see COUNTER_DESCRIPTIONS) -> int.

        Raises:
            LineError: the deframer is closed.
        """
        lib.cb_e1_rx_counters(self._live("Reading E1 counters"), self._ctr)
        c = self._ctr
        return {name: int(getattr(c, field)) for name, field in self._COUNTER_FIELDS}

    def reset_counters(self):
        """Set every counter to 0.

        Raises:
            LineError: the deframer is closed.
        """
        lib.cb_e1_rx_reset_counters(self._live("Resetting E1 counters"))

    def sa_bits(self):
        """Received Sa4..Sa8 as a five-character string ('11111'), once the same bits came in
        three NFAS in a row; None before that or while not aligned."""
        v = lib.cb_e1_rx_sa(self._live("Reading the E1 Sa bits"))
        return None if v < 0 else format(v, "05b")

    def take_crc_errors(self):
        """CRC-4 errors since the last call, to report back with E bits (E1Tx.report_crc_errors).

        Returns:
            int: errored sub-multiframes.

        Raises:
            LineError: the deframer is closed.
        """
        return lib.cb_e1_rx_take_crc_errors(self._live("Reading CRC-4 errors"))


# ---------------------------------------------------------------- HDLC

# ---------------------------------------------------------------- defects -> failures

class FailureIntegrator:
    """Defects to failures as T1.231 and DAHDI do: a defect that persists 2.5 s becomes a failure
    (LOS or LOF: RED; AIS: BLUE; RAI: YELLOW), cleared when the defect has been gone for 10 s.
    Fed once per block with the deframer's defects; per-block logic, no per-bit work.

    Args:
        raise_s (float): persistence before a failure is declared (default 2.5 s).
        clear_s (float): absence before it is cleared (default 10 s).
    """

    FAILURES = (("red", ("los", "lof")), ("blue", ("ais",)), ("yellow", ("rai",)))

    def __init__(self, raise_s=2.5, clear_s=10.0):
        if not 0 < raise_s <= 60 or not 0 < clear_s <= 600:
            raise ValueError("FailureIntegrator: raise_s %r and clear_s %r must be positive seconds" % (raise_s, clear_s))
        self.raise_s, self.clear_s = raise_s, clear_s
        self.failures = {name: False for name, _ in self.FAILURES}
        self._on = {name: 0.0 for name, _ in self.FAILURES}
        self._off = {name: 0.0 for name, _ in self.FAILURES}

    def feed(self, defects, dt_s):
        """One block: defects (dict of bools: los, lof, ais, rai), dt_s its length.

        Returns:
            list[tuple[str, bool]]: failures that changed in this block (name, now on).
        """
        changed = []
        blue = bool(defects.get("ais"))
        for name, sources in self.FAILURES:
            present = any(defects.get(s) for s in sources)
            if name == "red" and blue:
                present = False          # AIS explains the loss of frame: blue, not red
            if present:
                self._on[name] += dt_s
                self._off[name] = 0.0
                if not self.failures[name] and self._on[name] >= self.raise_s - 1e-9:
                    self.failures[name] = True
                    changed.append((name, True))
            else:
                self._off[name] += dt_s
                self._on[name] = 0.0
                if self.failures[name] and self._off[name] >= self.clear_s - 1e-9:
                    self.failures[name] = False
                    changed.append((name, False))
        return changed


# ---------------------------------------------------------------- E1 CAS

class Cas(_Handle):
    """E1 TS16 CAS multiframe (G.704 5.1.3): ABCD bits of the 30 channels, one object per
    direction pair: insert() writes TS16 of outgoing frames, extract() reads incoming ones.

    Raises:
        LineError: out of memory.
    """

    _kind = "CAS multiframe"

    def __init__(self):
        self._h = None
        h = lib.cb_cas_new()
        if h == ffi.NULL:
            raise LineError("Creating a CAS multiframe: out of memory")
        self._h = h
        self._st = ffi.new("cb_cas_status_t *")

    def _free(self, h):
        lib.cb_cas_free(h)

    def set_tx(self, chan, abcd):
        """Send abcd (1..15; 0000 would imitate the multiframe word) on channel 1..30."""
        if not isinstance(chan, int) or not 1 <= chan <= 30:
            raise ValueError("CAS: channel %r is not 1..30" % (chan,))
        if not isinstance(abcd, int) or not 1 <= abcd <= 15:
            raise ValueError("CAS: abcd %r is not 1..15 (0000 is not allowed)" % (abcd,))
        _check(lib.cb_cas_set_tx(self._live("Setting CAS bits"), chan, abcd), "Setting CAS bits")

    def set_remote_alarm(self, on):
        lib.cb_cas_set_tx_alarm(self._live("Setting the CAS multiframe alarm"), 1 if on else 0)

    def insert(self, frames):
        """Write TS16 of whole 32-octet frames (a bytearray) in place; returns it."""
        n = _frames(frames, "CAS insert")
        _check(lib.cb_cas_insert(self._live("CAS insert"), _u8(frames), n), "CAS insert")
        return frames

    def extract(self, frames):
        """Read TS16 of whole received 32-octet frames."""
        n = _frames(frames, "CAS extract")
        _check(lib.cb_cas_extract(self._live("CAS extract"), _u8(frames), n), "CAS extract")

    def rx(self, chan):
        """Received abcd of channel 1..30, or None before two equal multiframes."""
        if not isinstance(chan, int) or not 1 <= chan <= 30:
            raise ValueError("CAS: channel %r is not 1..30" % (chan,))
        v = lib.cb_cas_rx(self._live("Reading CAS bits"), chan)
        return None if v < 0 else v

    def rx_all(self, out):
        """Received abcd of channels 1..30 into a 30-octet bytearray (0xFF where not yet known)."""
        if not isinstance(out, bytearray) or len(out) != 30:
            raise ValueError("CAS: rx_all needs a bytearray of 30 octets")
        _check(lib.cb_cas_rx_all(self._live("Reading CAS bits"), _u8(out)), "Reading CAS bits")
        return out

    def status(self):
        lib.cb_cas_status(self._live("Reading CAS status"), self._st)
        s = self._st
        return {"aligned": bool(s.aligned), "lomf": bool(s.lomf), "remote_mf_alarm": bool(s.remote_mf_alarm),
                "mfas_errors": int(s.mfas_errors), "realignments": int(s.realignments)}


# ---------------------------------------------------------------- T1

T1_FRAME_BITS = 193
T1_CHANNELS = 24
T1_FRAMINGS = {"sf": 0, "d4": 0, "esf": 1}


def _t1_framing(framing, what):
    f = T1_FRAMINGS.get(str(framing).lower()) if isinstance(framing, str) else None
    if f is None:
        raise ValueError("%s: framing %r is not one of sf (d4) or esf" % (what, framing))
    return f


def _t1_frames(nbytes, per, what):
    if nbytes % per:
        raise ValueError("%s: %d bytes is not a whole number of %d-octet units" % (what, nbytes, per))
    return nbytes // per


class T1Tx(_Handle):
    """T1 framer (G.704 2.1, T1.403): 24 channels per 193-bit frame, SF/D4 or ESF.

    ESF sends FPS, the CRC-6 of the previous superframe and an FDL of HDLC idle flags (the
    yellow pattern when remote_alarm is on); SF sends Ft/Fs and, for the yellow alarm, bit 2
    of every channel as 0. With robbed-bit signalling on, bit 8 of every channel carries A/B
    (SF frames 6, 12) or A/B/C/D (ESF frames 6, 12, 18, 24).

    Args:
        framing (str): "sf" (or "d4") or "esf".

    Raises:
        ValueError: unknown framing.
        LineError: out of memory.
    """

    _kind = "T1 framer"

    def __init__(self, framing="esf"):
        self._h = None
        f = _t1_framing(framing, "Creating a T1 framer")
        h = lib.cb_t1_tx_new(f)
        if h == ffi.NULL:
            raise LineError("Creating a T1 framer: out of memory")
        self._h = h
        self.framing = "esf" if f else "sf"
        self._yellow = False

    def _free(self, h):
        lib.cb_t1_tx_free(h)

    def __str__(self):
        return "T1Tx(%s, yellow=%s%s)" % (self.framing, self._yellow, ", closed" if self._h is None else "")

    @property
    def remote_alarm(self):
        """bool: send the yellow alarm."""
        return self._yellow

    @remote_alarm.setter
    def remote_alarm(self, on):
        lib.cb_t1_tx_set_yellow(self._live("Setting the T1 yellow alarm"), 1 if on else 0)
        self._yellow = bool(on)

    def set_rbs(self, on):
        """Robbed-bit signalling on or off."""
        _check(lib.cb_t1_tx_set_rbs(self._live("Setting T1 robbed-bit signalling"), 1 if on else 0),
               "Setting T1 robbed-bit signalling")

    def set_abcd(self, chan, abcd):
        """Signalling bits of channel 1..24 (abcd: 0..15, A = 8 .. D = 1).

        Raises:
            ValueError: channel or bits out of range.
        """
        if not isinstance(chan, int) or not 1 <= chan <= T1_CHANNELS:
            raise ValueError("Setting T1 signalling: channel %r is not 1..24" % (chan,))
        if not isinstance(abcd, int) or not 0 <= abcd <= 15:
            raise ValueError("Setting T1 signalling: abcd %r is not 0..15" % (abcd,))
        _check(lib.cb_t1_tx_set_abcd(self._live("Setting T1 signalling"), chan - 1, abcd), "Setting T1 signalling")

    def frame(self, payload, out=None):
        """Frame n x 24 payload octets (n a multiple of 8) into n x 193 raw bits.

        Returns:
            bytearray: out, n * 193 / 8 octets of raw line bits (MSB first).

        Raises:
            TypeError, ValueError: not whole frames, n not a multiple of 8, or a bad out.
            LineError: the framer is closed.
        """
        n = _t1_frames(_nbytes(payload, "T1 framing"), T1_CHANNELS, "T1 framing")
        if n % 8:
            raise ValueError("T1 framing: %d frames is not a multiple of 8 (8 frames = 193 octets)" % n)
        out = _out(out, n * T1_FRAME_BITS // 8, "T1 framing")
        _check(lib.cb_t1_tx_frame(self._live("T1 framing"), _u8(payload), _u8(out), n), "T1 framing")
        return out


class T1Rx(_Handle):
    """T1 deframer: alignment at any bit offset, OOF (2 errors in 4 framing bits), CRC-6
    (ESF), yellow alarm (both forms), LOS, AIS (unframed all ones), robbed-bit signalling.

    Each deframe() returns as many frames as it was given (0xFF while out of frame).

    Args:
        framing (str): "sf" (or "d4") or "esf".
        rbs (bool): channels carry robbed-bit signalling.
    """

    _kind = "T1 deframer"
    _COUNTER_FIELDS = (("rx:frames", "frames"), ("rx:fbit_errors", "fbit_errors"), ("rx:crc6_errors", "crc6_errors"),
                       ("rx:superframes", "superframes"), ("rx:oof_events", "oof_events"),
                       ("rx:reframes", "reframes"), ("rx:los_events", "los_events"),
                       ("rx:ais_events", "ais_events"))

    def __init__(self, framing="esf", rbs=False):
        self._h = None
        f = _t1_framing(framing, "Creating a T1 deframer")
        h = lib.cb_t1_rx_new(f)
        if h == ffi.NULL:
            raise LineError("Creating a T1 deframer: out of memory")
        self._h = h
        self.framing = "esf" if f else "sf"
        lib.cb_t1_rx_set_rbs(h, 1 if rbs else 0)
        self._st = ffi.new("cb_t1_status_t *")
        self._ctr = ffi.new("cb_t1_counters_t *")

    def _free(self, h):
        lib.cb_t1_rx_free(h)

    def __str__(self):
        if self._h is None:
            return "T1Rx(%s, closed)" % self.framing
        return "T1Rx(%s, %s)" % (self.framing, ", ".join("%s=%s" % kv for kv in self.status().items()))

    def deframe(self, raw, out=None):
        """Consume n x 193 raw bits (n a multiple of 8, i.e. whole 193-octet groups); return n x 24 octets.

        Raises:
            TypeError, ValueError: raw is not whole groups of 8 frames, or a bad out.
            LineError: the deframer is closed.
        """
        groups = _t1_frames(_nbytes(raw, "T1 deframing"), T1_FRAME_BITS, "T1 deframing")
        n = groups * 8
        if out is not None and out is raw:
            raise ValueError("T1 deframing: out must not be raw itself")
        out = _out(out, n * T1_CHANNELS, "T1 deframing")
        _check(lib.cb_t1_rx_deframe(self._live("T1 deframing"), _u8(raw), _u8(out), n), "T1 deframing")
        return out

    def deframe_at(self, raw):
        """deframe(), and for each delivered frame its F bit's stream position and value.

        Returns:
            (bytearray, list[int], bytes): n x 24 octets; per frame the stream bit (from the
            first bit ever given) of its F bit, or -1 for the all-ones fill at the end; the F bits.
        """
        groups = _t1_frames(_nbytes(raw, "T1 deframing"), T1_FRAME_BITS, "T1 deframing")
        n = groups * 8
        out = bytearray(n * T1_CHANNELS)
        starts = ffi.new("int64_t[]", max(n, 1))
        fbits = bytearray(max(n, 1))
        _check(lib.cb_t1_rx_deframe_at(self._live("T1 deframing"), _u8(raw), _u8(out), n, starts, _u8(fbits)),
               "T1 deframing")
        return out, list(starts)[:n], bytes(fbits[:n])

    def status(self):
        """dict of bools: los, ais, oof, yellow, aligned."""
        lib.cb_t1_rx_status(self._live("Reading T1 status"), self._st)
        s = self._st
        return {"los": bool(s.los), "ais": bool(s.ais), "oof": bool(s.oof), "yellow": bool(s.yellow),
                "aligned": bool(s.aligned)}

    def counters(self):
        """dict: machine name -> int (frames, fbit_errors, crc6_errors, superframes, oof/reframe/LOS/AIS events)."""
        lib.cb_t1_rx_counters(self._live("Reading T1 counters"), self._ctr)
        return {name: int(getattr(self._ctr, field)) for name, field in self._COUNTER_FIELDS}

    def abcd(self, chan):
        """Received signalling of channel 1..24 (A = 8 .. D = 1), or None before two equal superframes."""
        if not isinstance(chan, int) or not 1 <= chan <= T1_CHANNELS:
            raise ValueError("Reading T1 signalling: channel %r is not 1..24" % (chan,))
        v = lib.cb_t1_rx_abcd(self._live("Reading T1 signalling"), chan - 1)
        return None if v < 0 else v


class HdlcBank(_Handle):
    """HDLC framing (Q.921 2.2-2.10) for nchan D-channels, one call per block for all of them.

    Flags 0x7E, a 0 inserted after five 1s, FCS-16 (CRC-CCITT reflected, preset
    0xFFFF, complemented, low octet first), seven 1s abort, flags when idle. The
    timeslot octets are read MSB first (wire order); each HDLC octet goes LSB first
    inside that bit stream, as Q.921 in E1 TS16 does on real framers.

    Args:
        nchan (int): channels, 1..1024.
        max_frame (int): largest frame without FCS, 1..4096 (Q.921 N201 = 260 plus
            4 octets of address and control: 264).

    Raises:
        TypeError, ValueError: bad nchan or max_frame.
        LineError: out of memory.
    """

    _kind = "HDLC bank"

    COUNTER_DESCRIPTIONS = {
        "rx:frames": "Rx HDLC frames",
        "rx:fcs_errors": "Rx HDLC FCS errors",
        "rx:aborts": "Rx HDLC aborts",
        "rx:too_long": "Rx HDLC frames too long",
        "rx:too_short": "Rx HDLC frames too short",
        "tx:frames": "Tx HDLC frames",
    }
    """Every counter: machine name -> text for consoles and the web UI."""

    def __init__(self, nchan, max_frame=264):
        self._h = None
        for name, v, hi in (("nchan", nchan, 1024), ("max_frame", max_frame, 4096)):
            if not isinstance(v, int) or isinstance(v, bool):
                raise TypeError("Creating an HDLC bank: %s must be an int, got %s" % (name, type(v).__name__))
            if not 1 <= v <= hi:
                raise ValueError("Creating an HDLC bank: %s must be 1..%d, got %d" % (name, hi, v))
        h = lib.cb_hdlc_bank_new(nchan, max_frame)
        if h == ffi.NULL:
            raise LineError("Creating an HDLC bank of %d channels: out of memory" % nchan)
        self._h = h
        self.nchan = nchan
        self.max_frame = max_frame
        self._rx_n = -1
        self._ctr = ffi.new("cb_hdlc_counters_t *")

    def _free(self, h):
        lib.cb_hdlc_bank_free(h)

    def __str__(self):
        return "HdlcBank(nchan=%d, max_frame=%d%s)" % (self.nchan, self.max_frame,
                                                        ", closed" if self._h is None else "")

    def _chan(self, chan, what):
        if not isinstance(chan, int) or isinstance(chan, bool):
            raise TypeError("%s: chan must be an int, got %s" % (what, type(chan).__name__))
        if not 0 <= chan < self.nchan:
            raise ValueError("%s: chan %d outside 0..%d" % (what, chan, self.nchan - 1))
        return chan

    def _rx_buffers(self, n):
        """Output room for one rx() of n octets per channel (bounds in callbox/hdlc.h), kept for reuse."""
        if n > self._rx_n:
            self._rx_n = n
            self._buf = bytearray(self.nchan * (n + self.max_frame))
            self._maxfr = self.nchan * (n // 4 + 2)
            self._fr = ffi.new("cb_hdlc_frame_t[]", self._maxfr)
        return self._buf, self._fr, self._maxfr

    def rx(self, octets, n):
        """Receive n octets of every channel.

        Args:
            octets (bytes-like): nchan * n octets, channel-major (n of channel 0, then
                n of channel 1, ...), each read MSB first.
            n (int): octets per channel.

        Returns:
            list: (chan, frame bytes without FCS) for each good frame completed in this
            call; channel 0's first, each channel's in order.

        Raises:
            TypeError: octets is not bytes-like, or n not an int.
            ValueError: n < 0, or octets is not nchan * n long.
            LineError: the bank is closed.
        """
        _count(n, "HDLC receive")
        got = _nbytes(octets, "HDLC receive")
        if got != self.nchan * n:
            raise ValueError("HDLC receive: expected %d channels x %d octets = %d, got %d"
                             % (self.nchan, n, self.nchan * n, got))
        h = self._live("HDLC receive")
        buf, fr, maxfr = self._rx_buffers(n)
        k = _check(lib.cb_hdlc_rx(h, _u8(octets), n, _u8(buf), len(buf), fr, maxfr), "HDLC receive")
        return [(fr[i].chan, bytes(buf[fr[i].offset:fr[i].offset + fr[i].len])) for i in range(k)]

    def send(self, chan, frame):
        """Queue a frame on a channel; the FCS is added in C.

        Args:
            chan (int): channel, 0..nchan-1.
            frame (bytes-like): 1..max_frame octets (address, control, information).

        Raises:
            TypeError: chan not an int, frame not bytes-like.
            ValueError: chan out of range, frame empty or longer than max_frame.
            LineError: the channel's queue already holds HDLC_TX_QUEUE (32) frames, or
                the bank is closed.
        """
        what = "HDLC send on channel %s" % (chan,)
        self._chan(chan, what)
        n = _nbytes(frame, what)
        if not 1 <= n <= self.max_frame:
            raise ValueError("%s: frame of %d octets outside 1..%d" % (what, n, self.max_frame))
        rc = lib.cb_hdlc_send(self._live(what), chan, _u8(frame), n)
        if rc == lib.CB_LINE_EFULL:
            raise LineError("%s: transmit queue full (%d frames)" % (what, HDLC_TX_QUEUE))
        _check(rc, what)

    def pending(self, chan):
        """Frames still queued on a channel, the one being sent included.

        Args:
            chan (int): channel, 0..nchan-1.

        Returns:
            int: 0..HDLC_TX_QUEUE.

        Raises:
            TypeError, ValueError: bad chan.
            LineError: the bank is closed.
        """
        self._chan(chan, "Reading the HDLC queue")
        return _check(lib.cb_hdlc_pending(self._live("Reading the HDLC queue"), chan), "Reading the HDLC queue")

    def tx(self, n, out=None):
        """Produce n octets of every channel: queued frames, flags when idle.

        Args:
            n (int): octets per channel.
            out (bytearray): nchan * n octets to write into; new if None.

        Returns:
            bytearray: out, channel-major, each octet sent MSB first.

        Raises:
            TypeError: n not an int, out not a writable bytes-like object.
            ValueError: n < 0, or out has another size.
            LineError: the bank is closed.
        """
        _count(n, "HDLC transmit")
        out = _out(out, self.nchan * n, "HDLC transmit")
        _check(lib.cb_hdlc_tx(self._live("HDLC transmit"), _u8(out), n), "HDLC transmit")
        return out

    def counters(self, chan):
        """Counters of one channel since the bank was created.

        Args:
            chan (int): channel, 0..nchan-1.

        Returns:
            dict: "rx:frames", "rx:fcs_errors", "rx:aborts", "rx:too_long",
            "rx:too_short", "tx:frames" -> int (see COUNTER_DESCRIPTIONS).

        Raises:
            TypeError, ValueError: bad chan.
            LineError: the bank is closed.
        """
        self._chan(chan, "Reading HDLC counters")
        _check(lib.cb_hdlc_counters(self._live("Reading HDLC counters"), chan, self._ctr), "Reading HDLC counters")
        c = self._ctr
        return {"rx:frames": int(c.rx_frames), "rx:fcs_errors": int(c.rx_fcs_errors), "rx:aborts": int(c.rx_aborts),
                "rx:too_long": int(c.rx_too_long), "rx:too_short": int(c.rx_too_short),
                "tx:frames": int(c.tx_frames)}


# ---------------------------------------------------------------- TDM and payload

def _frame_block(data, n, what):
    _count(n, what)
    got = _nbytes(data, what)
    if got != E1_FRAME_BYTES * n:
        raise ValueError("%s: expected %d x %d = %d octets, got %d"
                         % (what, n, E1_FRAME_BYTES, E1_FRAME_BYTES * n, got))


def tdm_deinterleave(frames, n, out=None):
    """Frames to timeslots: n frames x 32 octets -> 32 timeslot blocks x n octets.

    Args:
        frames (bytes-like): 32 * n octets, frame-major.
        n (int): frames.
        out (bytearray): 32 * n octets to write into (not frames itself); new if None.

    Returns:
        bytearray: out, timeslot-major: TS0's n octets, TS1's n octets, ...

    Raises:
        TypeError: a buffer is not (writable) bytes-like, or n not an int.
        ValueError: sizes do not match n, or out is frames.
    """
    _frame_block(frames, n, "TDM deinterleave")
    if out is not None and out is frames:
        raise ValueError("TDM deinterleave: out must not be frames itself")
    out = _out(out, E1_FRAME_BYTES * n, "TDM deinterleave")
    lib.cb_tdm_deinterleave(_u8(frames), _u8(out), n)
    return out


def tdm_interleave(chans, n, out=None):
    """Timeslots to frames: 32 timeslot blocks x n octets -> n frames x 32 octets.

    Args:
        chans (bytes-like): 32 * n octets, timeslot-major.
        n (int): frames.
        out (bytearray): 32 * n octets to write into (not chans itself); new if None.

    Returns:
        bytearray: out, frame-major.

    Raises:
        TypeError: a buffer is not (writable) bytes-like, or n not an int.
        ValueError: sizes do not match n, or out is chans.
    """
    _frame_block(chans, n, "TDM interleave")
    if out is not None and out is chans:
        raise ValueError("TDM interleave: out must not be chans itself")
    out = _out(out, E1_FRAME_BYTES * n, "TDM interleave")
    lib.cb_tdm_interleave(_u8(chans), _u8(out), n)
    return out


def _law_map(table, what):
    if table is None:
        return ffi.NULL
    if len(table) != 256:
        raise ValueError("%s: the code map must have 256 entries, not %d" % (what, len(table)))
    return ffi.from_buffer("uint8_t[]", bytes(table))


def t1_to_slots(t1frames, n, out=None, dchan=24, table=None, fill=0xFF):
    """n T1 frames (24 octets) -> n frames in the engine's 32-slot layout (channel k in slot k).

    Args:
        t1frames (bytes-like): 24 * n octets.
        n (int): frames.
        out (bytearray): 32 * n octets; new if None.
        dchan (int): the D-channel (1..24; 0 for none): copied, never mapped.
        table (bytes or None): 256-entry code map for the other channels (mu-law -> A-law).
        fill (int): octet for slot 0 and slots 25..31.
    """
    if _nbytes(t1frames, "T1 to slots") != T1_CHANNELS * n:
        raise ValueError("T1 to slots: need %d octets for %d frames" % (T1_CHANNELS * n, n))
    if out is not None and out is t1frames:
        raise ValueError("T1 to slots: out must not be the input")
    out = _out(out, E1_FRAME_BYTES * n, "T1 to slots")
    lib.cb_t1_to_slots(_u8(t1frames), _u8(out), n, int(dchan), _law_map(table, "T1 to slots"), int(fill) & 0xFF)
    return out


def slots_to_t1(frames, n, out=None, dchan=24, table=None):
    """n frames in the 32-slot layout -> n T1 frames (slots 1..24 become channels 1..24)."""
    _frame_block(frames, n, "Slots to T1")
    if out is not None and out is frames:
        raise ValueError("Slots to T1: out must not be the input")
    out = _out(out, T1_CHANNELS * n, "Slots to T1")
    lib.cb_slots_to_t1(_u8(frames), _u8(out), n, int(dchan), _law_map(table, "Slots to T1"))
    return out


def payload_insert(frames, payload, n):
    """Write n x 30 payload octets into the bearer timeslots (1-15, 17-31) of n frames, in place.

    Args:
        frames (bytearray): 32 * n octets, changed in place.
        payload (bytes-like): 30 * n octets, in transmission order.
        n (int): frames.

    Raises:
        TypeError, ValueError: bad buffers or n.
    """
    _frame_block(frames, n, "Payload insert")
    if memoryview(frames).readonly:
        raise TypeError("Payload insert: frames must be writable")
    if _nbytes(payload, "Payload insert") != 30 * n:
        raise ValueError("Payload insert: need %d payload octets for %d frames" % (30 * n, n))
    lib.cb_e1_payload_insert(_u8(frames), _u8(payload), n)


def payload_extract(frames, n, out=None):
    """The bearer timeslots (1-15, 17-31) of n frames as n x 30 octets.

    Args:
        frames (bytes-like): 32 * n octets.
        n (int): frames.
        out (bytearray): 30 * n octets to write into; new if None.

    Returns:
        bytearray: out.

    Raises:
        TypeError, ValueError: bad buffers or n.
    """
    _frame_block(frames, n, "Payload extract")
    out = _out(out, 30 * n, "Payload extract")
    lib.cb_e1_payload_extract(_u8(frames), _u8(out), n)
    return out


# ---------------------------------------------------------------- PRBS

class Prbs(_Handle):
    """O.151 test sequence generator and checker (BERT).

    Args:
        order (int): 11 (2^11-1, 64 kbit/s), 15 (2^15-1, 2048/1544 kbit/s), 20 or 23.
        inverted (bool): send / expect the inverted sequence.

    Raises:
        ValueError: an order O.151 does not define here.
        LineError: out of memory.
    """

    _kind = "PRBS generator"
    ORDERS = (11, 15, 20, 23)

    def __init__(self, order=15, inverted=False):
        self._h = None
        if order not in self.ORDERS:
            raise ValueError("PRBS order %r is not one of: %s" % (order, ", ".join(map(str, self.ORDERS))))
        h = lib.cb_prbs_new(order, 1 if inverted else 0)
        if h == ffi.NULL:
            raise LineError("Creating a PRBS 2^%d-1 generator: out of memory" % order)
        self._h = h
        self.order = order
        self.inverted = bool(inverted)
        self._st = ffi.new("cb_prbs_stats_t *")

    def _free(self, h):
        lib.cb_prbs_free(h)

    def __str__(self):
        return "Prbs(2^%d-1, %s)" % (self.order, "inverted" if self.inverted else "non-inverted")

    def generate(self, nbytes, out=None):
        """The next nbytes of the sequence, MSB first.

        Args:
            nbytes (int): octets.
            out (bytearray): nbytes octets to write into; new if None.

        Returns:
            bytearray: out.

        Raises:
            TypeError, ValueError: bad nbytes or out.
            LineError: closed.
        """
        _count(nbytes, "PRBS generate", "nbytes")
        out = _out(out, nbytes, "PRBS generate")
        lib.cb_prbs_generate(self._live("PRBS generate"), _u8(out), nbytes)
        return out

    def insert_error(self):
        """Flip the next generated bit.

        Raises:
            LineError: closed.
        """
        lib.cb_prbs_insert_error(self._live("PRBS error insertion"))

    def check(self, data):
        """Compare received octets with the sequence.

        Args:
            data (bytes-like): received octets, MSB first.

        Returns:
            dict: stats().

        Raises:
            TypeError: data is not bytes-like.
            LineError: closed.
        """
        n = _nbytes(data, "PRBS check")
        h = self._live("PRBS check")
        if n:
            lib.cb_prbs_check(h, _u8(data), n)
        return self.stats()

    def stats(self):
        """Checker results.

        Returns:
            dict: "synced" (bool), "bits", "errors", "sync_losses" (int), "ber" (float,
            None before any bit).

        Raises:
            LineError: closed.
        """
        lib.cb_prbs_stats(self._live("Reading PRBS stats"), self._st)
        s = self._st
        return {"synced": bool(s.synced), "bits": s.bits, "errors": s.errors, "sync_losses": s.sync_losses,
                "ber": (s.errors / s.bits) if s.bits else None}

    def reset_stats(self):
        """Zero the checker's counts (sync is kept).

        Raises:
            LineError: closed.
        """
        lib.cb_prbs_reset_stats(self._live("Resetting PRBS stats"))


# ---------------------------------------------------------------- line codes

class LineCoder(_Handle):
    """AMI, HDB3 or B8ZS line coding on ternary symbols (-1, 0, +1), with BPV/EXZ counting.

    Args:
        code (str): "ami", "hdb3" or "b8zs".

    Raises:
        ValueError: an unknown code.
        LineError: out of memory.
    """

    _kind = "line coder"
    CODES = {"ami": 0, "hdb3": 1, "b8zs": 2}

    def __init__(self, code):
        self._h = None
        if code not in self.CODES:
            raise ValueError("line code %r is not one of: %s" % (code, ", ".join(self.CODES)))
        h = lib.cb_linecode_new(self.CODES[code])
        if h == ffi.NULL:
            raise LineError("Creating a %s coder: out of memory" % code)
        self._h = h
        self.code = code
        self._ctr = ffi.new("cb_linecode_counters_t *")

    def _free(self, h):
        lib.cb_linecode_free(h)

    def __str__(self):
        return "LineCoder(%s)" % self.code

    def encode(self, data, nbits=None):
        """Bits to symbols, as far as they are final (the coder looks ahead).

        Args:
            data (bytes-like): bits, MSB first.
            nbits (int): bits of data to take; all if None.

        Returns:
            array.array('b'): symbols -1 / 0 / +1.

        Raises:
            TypeError, ValueError: bad data or nbits.
            LineError: closed or failed.
        """
        total = _nbytes(data, "Line encoding") * 8
        nbits = total if nbits is None else _count(nbits, "Line encoding", "nbits")
        if nbits > total:
            raise ValueError("Line encoding: nbits %d outside 0..%d" % (nbits, total))
        h = self._live("Line encoding")
        out = array.array("b", bytes(nbits + 8))
        src = _u8(data) if total else ffi.new("uint8_t[1]")
        n = _check(lib.cb_linecode_encode(h, src, nbits, ffi.from_buffer("int8_t[]", out)), "Line encoding")
        return out[:n]

    def decode(self, symbols):
        """Symbols to bits, as far as they are final.

        Args:
            symbols (iterable of int): -1 / 0 / +1.

        Returns:
            bytes: one bit per octet (0 / 1).

        Raises:
            OverflowError: a symbol outside a signed octet.
            LineError: closed or failed.
        """
        sym = array.array("b", symbols)
        h = self._live("Line decoding")
        if not len(sym):
            return bytes()
        out = bytearray(len(sym) + 8)
        n = _check(lib.cb_linecode_decode(h, ffi.from_buffer("int8_t[]", sym), len(sym), _u8(out)), "Line decoding")
        return bytes(out[:n])

    def counters(self):
        """Decoder counters.

        Returns:
            dict: "rx:bpv", "rx:exz", "rx:lcv" (BPV + EXZ), "rx:substitutions" -> int.

        Raises:
            LineError: closed.
        """
        lib.cb_linecode_counters(self._live("Reading line code counters"), self._ctr)
        c = self._ctr
        return {"rx:bpv": c.bpv, "rx:exz": c.exz, "rx:lcv": c.bpv + c.exz, "rx:substitutions": c.subs}


if __name__ == "__main__":          # python -m callbox.line deframe|frame|linecode ...
    import sys
    from callbox.linestream import main
    sys.exit(main())
