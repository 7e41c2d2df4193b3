"""The one Python wrapper over callbox._line: E1 framer/deframer, HDLC bank, TDM helpers.

Buffers belong to Python (bytearray / bytes) and go to C without copies; C objects
are freed by close() or a context manager. One call handles a 20 ms block (160
frames) of a span, or every D-channel of the box at once for HDLC.
"""
from callbox._line import ffi, lib
from callbox.errors import LineError

E1_FRAME_BYTES = 32


def _check(rc, action):
    if rc < 0:
        raise LineError("%s: %s" % (action, ffi.string(lib.cb_line_strerror(rc)).decode()))
    return rc


def _out(out, n, what):
    if out is None:
        return bytearray(n)
    if len(out) != n:
        raise ValueError("%s: out must be %d bytes, got %d" % (what, n, len(out)))
    return out


def _frames(data, what):
    n = len(data)
    if n % E1_FRAME_BYTES:
        raise ValueError("%s: %d bytes is not a whole number of 32-octet frames" % (what, n))
    return n // E1_FRAME_BYTES


class E1Tx:
    """E1 framer (G.704): writes TS0 (FAS / NFAS with the A bit; with crc4, the CRC-4
    multiframe: MFAS, C bits, E bits).

    Args:
        crc4 (bool): send the CRC-4 multiframe.
    """

    def __init__(self, crc4=False):
        self._t = lib.cb_e1_tx_new()
        if self._t == ffi.NULL:
            raise LineError("Creating an E1 framer: out of memory")
        self._rai = False
        self.crc4 = bool(crc4)
        lib.cb_e1_tx_set_crc4(self._t, 1 if crc4 else 0)

    def __str__(self):
        return "E1Tx(crc4=%s, remote_alarm=%s)" % (self.crc4, self._rai)

    def set_far_no_crc4(self, on):
        """G.706 Annex B: the far end sends no CRC-4; keep the multiframe, send E bits as 0."""
        lib.cb_e1_tx_set_ebits_zero(self._t, 1 if on else 0)

    def report_crc_errors(self, n):
        """Send n E bits as 0: the far end learns of our received CRC-4 errors."""
        lib.cb_e1_tx_report_crc_errors(self._t, int(n))

    @property
    def remote_alarm(self):
        """bool: the A bit (RAI) sent in NFAS frames."""
        return self._rai

    @remote_alarm.setter
    def remote_alarm(self, on):
        self._rai = bool(on)
        lib.cb_e1_tx_set_rai(self._t, 1 if on else 0)

    def frame(self, ts, out=None):
        """Frame n*32 octets of timeslots into the raw bitstream (returned)."""
        n = _frames(ts, "E1 framing")
        out = _out(out, len(ts), "E1 framing")
        _check(lib.cb_e1_tx_frame(self._t, ffi.from_buffer("uint8_t[]", ts), ffi.from_buffer("uint8_t[]", out), n),
               "E1 framing")
        return out

    def close(self):
        if self._t is not None:
            lib.cb_e1_tx_free(self._t)
            self._t = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class E1Rx:
    """E1 deframer (G.706 4.1): alignment on raw bits, defects and counters."""

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

    def __init__(self, crc4=False):
        self._r = lib.cb_e1_rx_new()
        if self._r == ffi.NULL:
            raise LineError("Creating an E1 deframer: out of memory")
        self.crc4 = bool(crc4)
        lib.cb_e1_rx_set_crc4(self._r, 1 if crc4 else 0)
        self._st = ffi.new("cb_e1_status_t *")
        self._ctr = ffi.new("cb_e1_counters_t *")

    def __str__(self):
        return "E1Rx(%s)" % ", ".join("%s=%s" % kv for kv in self.status().items())

    def deframe(self, raw, out=None):
        """Consume n*32 bytes of raw bits; return exactly n frames (all ones while not aligned)."""
        n = _frames(raw, "E1 deframing")
        out = _out(out, len(raw), "E1 deframing")
        _check(lib.cb_e1_rx_deframe(self._r, ffi.from_buffer("uint8_t[]", raw), ffi.from_buffer("uint8_t[]", out), n),
               "E1 deframing")
        return out

    def status(self):
        """{"los", "ais", "lof", "rai", "aligned"}: bools."""
        lib.cb_e1_rx_status(self._r, self._st)
        s = self._st
        return {"los": bool(s.los), "ais": bool(s.ais), "lof": bool(s.lof), "rai": bool(s.rai),
                "aligned": bool(s.aligned), "lomf": bool(s.lomf), "far_no_crc4": bool(s.far_no_crc4)}

    def take_crc_errors(self):
        """CRC-4 errors since the last call (to report back with E bits)."""
        return lib.cb_e1_rx_take_crc_errors(self._r)

    def counters(self):
        """Counters by machine name (see COUNTER_DESCRIPTIONS)."""
        lib.cb_e1_rx_counters(self._r, self._ctr)
        c = self._ctr
        return {"rx:frames": c.frames, "rx:fas_errors": c.fas_errors, "rx:nfas_errors": c.nfas_errors,
                "rx:realignments": c.realignments, "rx:slips": c.slips, "rx:los_events": c.los_events,
                "rx:ais_events": c.ais_events, "rx:crc4_errors": c.crc4_errors,
                "rx:ebit_errors": c.ebit_errors, "rx:crc4_blocks": c.crc4_blocks,
                "rx:mf_realignments": c.mf_realignments}

    def reset_counters(self):
        lib.cb_e1_rx_reset_counters(self._r)

    def close(self):
        if self._r is not None:
            lib.cb_e1_rx_free(self._r)
            self._r = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class HdlcBank:
    """HDLC framing for nchan D-channels (one call per block for all of them).

    Args:
        nchan (int): channels.
        max_frame (int): largest frame without FCS (Q.921: 260 + 4 header octets).
    """

    def __init__(self, nchan, max_frame=264):
        if not isinstance(nchan, int) or not 1 <= nchan <= 1024:
            raise ValueError("nchan must be an integer 1..1024, got %r" % (nchan,))
        if not isinstance(max_frame, int) or not 1 <= max_frame <= 4096:
            raise ValueError("max_frame must be an integer 1..4096, got %r" % (max_frame,))
        self._b = lib.cb_hdlc_bank_new(nchan, max_frame)
        if self._b == ffi.NULL:
            raise LineError("Creating an HDLC bank of %d channels: out of memory" % nchan)
        self.nchan = nchan
        self.max_frame = max_frame
        self._maxfr = 64 * nchan
        self._buf = bytearray(self._maxfr * max_frame)
        self._fr = ffi.new("cb_hdlc_frame_t[]", self._maxfr)
        self._ctr = ffi.new("cb_hdlc_counters_t *")

    def __str__(self):
        return "HdlcBank(nchan=%d, max_frame=%d)" % (self.nchan, self.max_frame)

    def rx(self, octets, n):
        """Receive n octets of every channel (channel-major); returns [(chan, frame bytes)]."""
        if len(octets) != self.nchan * n:
            raise ValueError("HDLC rx: expected %d x %d octets, got %d" % (self.nchan, n, len(octets)))
        k = _check(lib.cb_hdlc_rx(self._b, ffi.from_buffer("uint8_t[]", octets), n,
                                  ffi.from_buffer("uint8_t[]", self._buf), len(self._buf), self._fr, self._maxfr),
                   "HDLC receive")
        return [(self._fr[i].chan, bytes(self._buf[self._fr[i].offset:self._fr[i].offset + self._fr[i].len]))
                for i in range(k)]

    def send(self, chan, frame):
        """Queue a frame (the FCS is added). Raises LineError when the queue (32 frames) is full."""
        if not 0 <= chan < self.nchan:
            raise ValueError("HDLC send: chan %r outside 0..%d" % (chan, self.nchan - 1))
        if not 1 <= len(frame) <= self.max_frame:
            raise ValueError("HDLC send: frame of %d octets outside 1..%d" % (len(frame), self.max_frame))
        _check(lib.cb_hdlc_send(self._b, chan, bytes(frame), len(frame)), "HDLC send on channel %d" % chan)

    def tx(self, n, out=None):
        """n octets of every channel (channel-major): queued frames, else flags."""
        out = _out(out, self.nchan * n, "HDLC tx")
        _check(lib.cb_hdlc_tx(self._b, ffi.from_buffer("uint8_t[]", out), n), "HDLC transmit")
        return out

    def counters(self, chan):
        _check(lib.cb_hdlc_counters(self._b, chan, self._ctr), "Reading HDLC counters")
        c = self._ctr
        return {"rx:frames": c.rx_frames, "rx:fcs_errors": c.rx_fcs_errors, "rx:aborts": c.rx_aborts,
                "rx:too_long": c.rx_too_long, "rx:too_short": c.rx_too_short, "tx:frames": c.tx_frames}

    def close(self):
        if self._b is not None:
            lib.cb_hdlc_bank_free(self._b)
            self._b = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def payload_insert(frames, payload, n):
    """Write n x 30 payload octets into the bearer timeslots of n frames (in place)."""
    if len(frames) != 32 * n or len(payload) != 30 * n:
        raise ValueError("payload_insert: need %d frame and %d payload octets" % (32 * n, 30 * n))
    lib.cb_e1_payload_insert(ffi.from_buffer("uint8_t[]", frames), ffi.from_buffer("uint8_t[]", payload), n)


def payload_extract(frames, n, out=None):
    """The bearer timeslots of n frames as n x 30 octets."""
    if len(frames) != 32 * n:
        raise ValueError("payload_extract: need %d frame octets" % (32 * n))
    out = _out(out, 30 * n, "payload_extract")
    lib.cb_e1_payload_extract(ffi.from_buffer("uint8_t[]", frames), ffi.from_buffer("uint8_t[]", out), n)
    return out


def tdm_deinterleave(frames, n, out=None):
    """n frames x 32 octets -> 32 timeslot blocks x n octets."""
    if len(frames) != 32 * n:
        raise ValueError("tdm: expected %d octets, got %d" % (32 * n, len(frames)))
    out = _out(out, 32 * n, "tdm_deinterleave")
    lib.cb_tdm_deinterleave(ffi.from_buffer("uint8_t[]", frames), ffi.from_buffer("uint8_t[]", out), n)
    return out


def tdm_interleave(chans, n, out=None):
    """32 timeslot blocks x n octets -> n frames x 32 octets."""
    if len(chans) != 32 * n:
        raise ValueError("tdm: expected %d octets, got %d" % (32 * n, len(chans)))
    out = _out(out, 32 * n, "tdm_interleave")
    lib.cb_tdm_interleave(ffi.from_buffer("uint8_t[]", chans), ffi.from_buffer("uint8_t[]", out), n)
    return out


class Prbs:
    """O.151 test sequence generator and checker (BERT).

    Args:
        order (int): 11 (2^11-1, 64 kbit/s), 15 (2^15-1, 2048/1544 kbit/s), 20 or 23.
        inverted (bool): send / expect the inverted sequence.

    Raises:
        ValueError: an order O.151 does not define here.
    """

    ORDERS = (11, 15, 20, 23)

    def __init__(self, order=15, inverted=False):
        if order not in self.ORDERS:
            raise ValueError("PRBS order %r is not one of: %s" % (order, ", ".join(map(str, self.ORDERS))))
        self._p = lib.cb_prbs_new(order, 1 if inverted else 0)
        if self._p == ffi.NULL:
            raise LineError("Creating a PRBS 2^%d-1 generator: out of memory" % order)
        self.order = order
        self.inverted = bool(inverted)
        self._st = ffi.new("cb_prbs_stats_t *")

    def __str__(self):
        return "Prbs(2^%d-1, %s)" % (self.order, "inverted" if self.inverted else "non-inverted")

    def generate(self, nbytes, out=None):
        """The next nbytes of the sequence (MSB first)."""
        out = _out(out, nbytes, "PRBS generate")
        lib.cb_prbs_generate(self._p, ffi.from_buffer("uint8_t[]", out), nbytes)
        return out

    def insert_error(self):
        """Flip the next generated bit."""
        lib.cb_prbs_insert_error(self._p)

    def check(self, data):
        """Compare received bytes with the sequence; returns stats()."""
        if len(data):
            lib.cb_prbs_check(self._p, ffi.from_buffer("uint8_t[]", data), len(data))
        return self.stats()

    def stats(self):
        """{"synced", "bits", "errors", "sync_losses", "ber"}."""
        lib.cb_prbs_stats(self._p, self._st)
        s = self._st
        return {"synced": bool(s.synced), "bits": s.bits, "errors": s.errors, "sync_losses": s.sync_losses,
                "ber": (s.errors / s.bits) if s.bits else None}

    def reset_stats(self):
        lib.cb_prbs_reset_stats(self._p)

    def close(self):
        if self._p is not None:
            lib.cb_prbs_free(self._p)
            self._p = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class LineCoder:
    """AMI, HDB3 or B8ZS line coding on ternary symbols (-1, 0, +1), with BPV/EXZ counting.

    Args:
        code (str): "ami", "hdb3" or "b8zs".

    Raises:
        ValueError: an unknown code.
    """

    CODES = {"ami": 0, "hdb3": 1, "b8zs": 2}

    def __init__(self, code):
        if code not in self.CODES:
            raise ValueError("line code %r is not one of: %s" % (code, ", ".join(self.CODES)))
        self._lc = lib.cb_linecode_new(self.CODES[code])
        if self._lc == ffi.NULL:
            raise LineError("Creating a %s coder: out of memory" % code)
        self.code = code
        self._ctr = ffi.new("cb_linecode_counters_t *")

    def __str__(self):
        return "LineCoder(%s)" % self.code

    def encode(self, data, nbits=None):
        """Bits (bytes, MSB first; nbits of them, default all) -> symbols (array('b'))."""
        import array
        nbits = len(data) * 8 if nbits is None else nbits
        if not 0 <= nbits <= len(data) * 8:
            raise ValueError("nbits %r outside 0..%d" % (nbits, len(data) * 8))
        out = array.array("b", bytes(nbits + 8))
        n = lib.cb_linecode_encode(self._lc, ffi.from_buffer("uint8_t[]", data) if len(data) else ffi.new("uint8_t[1]"),
                                   nbits, ffi.from_buffer("int8_t[]", out))
        _check(n, "Line encoding")
        return out[:n]

    def decode(self, symbols):
        """Symbols (sequence of -1/0/+1) -> bits, one per byte (0/1), as far as they are final."""
        import array
        sym = array.array("b", symbols)
        out = bytearray(len(sym) + 8)
        if not len(sym):
            return bytes()
        n = _check(lib.cb_linecode_decode(self._lc, ffi.from_buffer("int8_t[]", sym), len(sym),
                                          ffi.from_buffer("uint8_t[]", out)), "Line decoding")
        return bytes(out[:n])

    def counters(self):
        """{"rx:bpv", "rx:exz", "rx:lcv", "rx:substitutions"} (LCV = BPV + EXZ)."""
        lib.cb_linecode_counters(self._lc, self._ctr)
        c = self._ctr
        return {"rx:bpv": c.bpv, "rx:exz": c.exz, "rx:lcv": c.bpv + c.exz, "rx:substitutions": c.subs}

    def close(self):
        if self._lc is not None:
            lib.cb_linecode_free(self._lc)
            self._lc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
