"""Raw line bits in any chunk size: the receive and transmit API over the C line layer, and
the ``python -m callbox.line`` commands built on it.

    rx = LineReceiver("e1", "crc4")      # or "nocrc4", "auto"; "t1" with "sf" / "esf"
    rx.feed(data, nbits)                 # any number of bits, MSB first
    rx.read_frames()                     # [(start bit, octets)]: 32 per E1 frame, 25 per T1
    rx.state(), rx.counters()

The C deframers work in whole frame times (E1: 256 bits; T1: 8 frames = 1544 bits, one
octet boundary); bits short of that wait here for the next ``feed``, so ``state()`` is the
state after the last whole unit. A T1 frame is given as 25 octets: the F bit (0 or 1), then
channels 1-24. E1 frames are TS0-TS31; the CAS multiframe (TS16) is read on every E1 stream
(``cas_mf_sync``, ``RMAI``). Optional ternary input: ``LineReceiver(..., linecode="hdb3")``
and ``feed_symbols`` (BPV and EXZ counted by the decoder).

Commands (JSON lines on stdout, errors on stderr with exit status 2):

    python -m callbox.line deframe --type e1|t1 --framing crc4|nocrc4|auto|sf|esf
        [--sample-bits N] [--frames] [--linecode hdb3|b8zs|ami] FILE
    python -m callbox.line frame --type e1|t1 --framing ... [--rai] [--sa BITS]
        [--linecode CODE] PAYLOAD OUT
    python -m callbox.line linecode --decode|--encode hdb3|b8zs|ami FILE [--out OUT]
"""
import argparse
import array
import json
import sys

from callbox.errors import LineError
from callbox.line import (E1_FRAME_BYTES, T1_CHANNELS, T1_FRAME_BITS, Cas, E1Rx, E1Tx, LineCoder, T1Rx,
                          T1Tx)

E1_FRAMINGS = {"crc4": "strict", "nocrc4": "off", "auto": "auto"}
T1_FRAMINGS = ("sf", "esf", "d4")
STATE_KEYS = ("frame_sync", "crc4_mf_sync", "cas_mf_sync", "superframe_sync", "LOS", "AIS", "RAI", "RMAI",
              "crc4_interworking_noncrc")
COUNTER_KEYS = ("fas_errors", "crc4_errors", "ebit_errors", "fbit_errors", "crc6_errors", "bpv", "exz", "slips")


def _check_kind(kind, framing):
    kind = str(kind).lower()
    if kind == "e1":
        if framing not in E1_FRAMINGS:
            raise ValueError("E1 framing %r is not one of: %s" % (framing, ", ".join(E1_FRAMINGS)))
    elif kind == "t1":
        if framing not in T1_FRAMINGS:
            raise ValueError("T1 framing %r is not one of: sf (d4), esf" % (framing,))
    else:
        raise ValueError("line type %r is not e1 or t1" % (kind,))
    return kind


class _Bits:
    """A FIFO of bits, MSB first, taken out in whole units (Python big integers: one operation
    per chunk, never one per bit)."""

    def __init__(self):
        self.value = 0
        self.nbits = 0

    def put(self, data, nbits):
        if nbits:
            v = int.from_bytes(bytes(data[:(nbits + 7) // 8]), "big") >> ((-nbits) % 8)
            self.value = (self.value << nbits) | v
            self.nbits += nbits

    def take(self, unit):
        """Every whole unit of bits held, as bytes (unit a multiple of 8)."""
        n = self.nbits // unit * unit
        if not n:
            return b""
        rest = self.nbits - n
        out = (self.value >> rest).to_bytes(n // 8, "big")
        self.value &= (1 << rest) - 1
        self.nbits = rest
        return out


def _nbits_of(data, nbits):
    try:
        have = len(memoryview(data).cast("B"))
    except TypeError:
        raise TypeError("line bits must be bytes-like, got %s" % type(data).__name__) from None
    if nbits is None:
        return have * 8
    if isinstance(nbits, bool) or not isinstance(nbits, int) or not 0 <= nbits <= have * 8:
        raise ValueError("nbits %r is not 0..%d (the bits in data)" % (nbits, have * 8))
    return nbits


class _Closable:
    """close() frees the C objects; a with block closes."""

    def close(self):
        for obj in (self._rx_or_tx(), self._cas, self._coder):
            if obj is not None:
                obj.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class LineReceiver(_Closable):
    """Raw bits of one E1 or T1 line in, frames, state and counters out.

    Args:
        kind (str): "e1" or "t1".
        framing (str): E1 "crc4" (the CRC-4 multiframe is required: G.706 4.2 re-search),
            "nocrc4", "auto" (CRC-4 with G.706 Annex B interworking); T1 "sf" (d4) or "esf".
        linecode (str or None): "hdb3", "b8zs" or "ami" for feed_symbols().

    Raises:
        ValueError: an unknown type, framing or line code.
    """

    def __init__(self, kind="e1", framing="crc4", linecode=None):
        self.kind = _check_kind(kind, framing)
        self.framing = framing
        self.bits_in = 0
        self._bits = _Bits()
        self._frames = []
        self._coder = LineCoder(linecode) if linecode else None
        if self.kind == "e1":
            self._rx = E1Rx(crc4_mode=E1_FRAMINGS[framing])
            self._cas = Cas()
            self._unit = 8 * E1_FRAME_BYTES
        else:
            self._rx = T1Rx("sf" if framing == "d4" else framing)
            self._cas = None
            self._unit = 8 * T1_FRAME_BITS
        self._done = 0          # bits handed to the deframer

    def _rx_or_tx(self):
        return self._rx

    def feed(self, data, nbits=None):
        """Take nbits more line bits (MSB first) from data; all of data when nbits is None.

        Returns:
            int: frames delivered by this call (read them with read_frames()).
        """
        nbits = _nbits_of(data, nbits)
        self._bits.put(data, nbits)
        self.bits_in += nbits
        chunk = self._bits.take(self._unit)
        if not chunk:
            return 0
        self._done += len(chunk) * 8
        before = len(self._frames)
        if self.kind == "e1":
            out, starts = self._rx.deframe_at(chunk)
            self._cas.extract(out)
            for j, st in enumerate(starts):
                if st >= 0:
                    self._frames.append((st, bytes(out[j * E1_FRAME_BYTES:(j + 1) * E1_FRAME_BYTES])))
        else:
            out, starts, fbits = self._rx.deframe_at(chunk)
            for j, st in enumerate(starts):
                if st >= 0:
                    self._frames.append((st, bytes([fbits[j]]) + bytes(out[j * T1_CHANNELS:(j + 1) * T1_CHANNELS])))
        return len(self._frames) - before

    def feed_symbols(self, symbols):
        """Ternary line symbols (-1, 0, +1) through the line decoder, then as feed()."""
        if self._coder is None:
            raise ValueError("this receiver has no line code: create it with linecode=hdb3|b8zs|ami")
        bits = self._coder.decode(symbols)
        if not bits:
            return 0
        return self.feed(_pack_bits(bits), len(bits))

    def read_frames(self):
        """The frames delivered since the last call: [(start bit, octets)], oldest first."""
        got, self._frames = self._frames, []
        return got

    def state(self):
        """dict: frame_sync, crc4_mf_sync, cas_mf_sync, superframe_sync, LOS, AIS, RAI, RMAI,
        crc4_interworking_noncrc (booleans)."""
        st = self._rx.status()
        if self.kind == "e1":
            cs = self._cas.status()
            sync = st["aligned"]
            return {"frame_sync": sync, "crc4_mf_sync": bool(self._rx.crc4 and sync and not st["lomf"]),
                    "cas_mf_sync": bool(sync and cs["aligned"]), "superframe_sync": False,
                    "LOS": st["los"], "AIS": st["ais"], "RAI": st["rai"],
                    "RMAI": bool(sync and cs["aligned"] and cs["remote_mf_alarm"]),
                    "crc4_interworking_noncrc": bool(sync and st["far_no_crc4"])}
        return {"frame_sync": st["aligned"], "crc4_mf_sync": False, "cas_mf_sync": False,
                "superframe_sync": st["aligned"], "LOS": st["los"], "AIS": st["ais"], "RAI": st["yellow"],
                "RMAI": False, "crc4_interworking_noncrc": False}

    def counters(self):
        """dict: fas_errors, crc4_errors, ebit_errors, fbit_errors, crc6_errors, bpv, exz, slips,
        and the deframer's other counters (frames, realignments, ...)."""
        c = {k[3:]: v for k, v in self._rx.counters().items()}
        out = dict.fromkeys(COUNTER_KEYS, 0)
        for k in COUNTER_KEYS:
            if k in c:
                out[k] = c[k]
        if self._coder is not None:
            lc = self._coder.counters()
            out["bpv"], out["exz"] = lc["rx:bpv"], lc["rx:exz"]
        for k, v in c.items():
            out.setdefault(k, v)
        if self._cas is not None:
            out["cas_mfas_errors"] = self._cas.status()["mfas_errors"]
        return out

    def abcd(self):
        """Received ABCD per channel ({timeslot (E1) or channel (T1): 0..15}) once known."""
        if self.kind == "e1":
            buf = self._cas.rx_all(bytearray(30))
            return {(ch if ch <= 15 else ch + 1): buf[ch - 1] for ch in range(1, 31) if buf[ch - 1] != 0xFF}
        return {ch: v for ch in range(1, T1_CHANNELS + 1) for v in [self._rx.abcd(ch)] if v is not None}


def _pack_bits(bits):
    """One octet per bit (0/1) -> packed MSB first (bytes.translate and int: C speed)."""
    if not bits:
        return b""
    s = bytes(bits).translate(bytes([0x30, 0x31]) + bytes(254))
    pad = (-len(s)) % 8
    return int(s + b"0" * pad, 2).to_bytes((len(s) + pad) // 8, "big")


class LineTransmitter(_Closable):
    """Payload in, raw line bits out: the framer, with its state and counters.

    Args:
        kind (str): "e1" or "t1".
        framing (str): as LineReceiver's ("crc4" and "auto" both send the CRC-4 multiframe).
        linecode (str or None): symbols() turns the bits into ternary symbols with this code.
    """

    def __init__(self, kind="e1", framing="crc4", linecode=None):
        self.kind = _check_kind(kind, framing)
        self.framing = framing
        self.frames = 0
        self._coder = LineCoder(linecode) if linecode else None
        self._cas = None
        if self.kind == "e1":
            self._tx = E1Tx(crc4=framing != "nocrc4")
        else:
            self._tx = T1Tx("sf" if framing == "d4" else framing)
        self._sa = "11111"

    def _rx_or_tx(self):
        return self._tx

    def set_rai(self, on):
        """E1 A bit / T1 yellow alarm."""
        self._tx.remote_alarm = bool(on)

    def set_sa(self, bits):
        if self.kind != "e1":
            raise ValueError("Sa bits are E1's (T1 has none)")
        self._tx.set_sa(bits)
        self._sa = bits if isinstance(bits, str) else format(bits, "05b")

    def set_abcd(self, chan, abcd):
        """CAS: E1 timeslot 1-15, 17-31 into the TS16 multiframe (then frame() overwrites TS16);
        T1 channel 1-24 in robbed bits."""
        if self.kind == "t1":
            self._tx.set_rbs(True)
            self._tx.set_abcd(chan, abcd)
            return
        if self._cas is None:
            self._cas = Cas()
        if not isinstance(chan, int) or chan in (0, 16) or not 1 <= chan <= 31:
            raise ValueError("E1 CAS timeslot %r is not 1-15 or 17-31" % (chan,))
        self._cas.set_tx(chan if chan < 16 else chan - 1, abcd)

    def frame(self, payload):
        """E1: n x 32 octets (TS0 is written by the framer); T1: n x 24 octets, n a multiple
        of 8. Returns the raw bits (bytes, MSB first)."""
        if self.kind == "e1":
            buf = bytearray(payload)
            if len(buf) % E1_FRAME_BYTES:
                raise ValueError("E1 payload: %d octets is not whole 32-octet frames" % len(buf))
            if self._cas is not None:
                self._cas.insert(buf)
            out = bytes(self._tx.frame(buf))
            self.frames += len(buf) // E1_FRAME_BYTES
        else:
            out = bytes(self._tx.frame(payload))
            self.frames += len(payload) // T1_CHANNELS
        return out

    def symbols(self, raw):
        """Raw bits through the line coder: array('b') of -1 / 0 / +1."""
        if self._coder is None:
            raise ValueError("this transmitter has no line code: create it with linecode=hdb3|b8zs|ami")
        return self._coder.encode(raw)

    def state(self):
        st = {"RAI": self._tx.remote_alarm}
        if self.kind == "e1":
            st.update(crc4=self.framing != "nocrc4", sa=self._sa, cas=self._cas is not None)
        else:
            st.update(framing=self._tx.framing)
        return st

    def counters(self):
        return {"frames": self.frames}


# ---------------------------------------------------------------------- commands

def _read(path, what):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise ValueError("%s %s: %s" % (what, path, e.strerror)) from None


def _emit(obj):
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")


def _status_line(rx):
    st = rx.state()
    return {"type": "status", "bit": rx.bits_in, "state": st,
            "alarms": [k for k in ("LOS", "AIS", "RAI", "RMAI") if st[k]] +
                      (["LOF"] if not st["frame_sync"] and not st["LOS"] else []),
            "counters": rx.counters()}


def cmd_deframe(a):
    data = _read(a.file, "bit file")
    rx = LineReceiver(a.type, a.framing, a.linecode)
    try:
        if a.linecode:
            sym = array.array("b", data)
            step = a.sample_bits or len(sym) or 1
            for k in range(0, len(sym), step):
                rx.feed_symbols(sym[k:k + step])
                _frames_out(rx, a.frames)
                if a.sample_bits:
                    _emit(_status_line(rx))
        else:
            total = len(data) * 8
            step = a.sample_bits or total or 1
            pos = 0
            while pos < total:
                n = min(step, total - pos)
                # the bits pos .. pos+n of the file, as their own MSB-first chunk
                lo, hi = pos // 8, (pos + n + 7) // 8
                chunk = (int.from_bytes(data[lo:hi], "big") >> ((hi * 8) - (pos + n))) & ((1 << n) - 1)
                rx.feed((chunk << ((-n) % 8)).to_bytes((n + 7) // 8, "big"), n)
                pos += n
                _frames_out(rx, a.frames)
                if a.sample_bits:
                    _emit(_status_line(rx))
        if not a.sample_bits:                 # one status line, at the end
            _emit(_status_line(rx))
        end = {"type": "end", "bits": rx.bits_in, "pending_bits": rx.bits_in - rx._done}
        st = rx.state()
        if st["cas_mf_sync"] or (rx.kind == "t1" and st["frame_sync"]):
            end["abcd"] = {str(k): format(v, "04b") for k, v in sorted(rx.abcd().items())}
        _emit(end)
    finally:
        rx.close()
    return 0


def _frames_out(rx, on):
    frames = rx.read_frames()
    if on:
        for st, octets in frames:
            _emit({"type": "frame", "start": st, "octets": octets.hex()})


def cmd_frame(a):
    payload = _read(a.payload, "payload file")
    with LineTransmitter(a.type, a.framing, a.linecode) as tx:
        if a.rai:
            tx.set_rai(True)
        if a.sa:
            tx.set_sa(a.sa)
        if a.type == "t1":
            unit = 8 * T1_CHANNELS
            if len(payload) % unit:
                payload += b"\xff" * (unit - len(payload) % unit)       # whole 8-frame groups, idle fill
        raw = tx.frame(payload)
        out = bytes(array.array("b", tx.symbols(raw)).tobytes()) if a.linecode else raw
        try:
            with open(a.out, "wb") as f:
                f.write(out)
        except OSError as e:
            raise ValueError("output %s: %s" % (a.out, e.strerror)) from None
        _emit({"type": "framed", "frames": tx.frames, "bits": len(raw) * 8, "state": tx.state(),
               "out": a.out, "format": "ternary" if a.linecode else "bits"})
    return 0


def cmd_linecode(a):
    data = _read(a.file, "input file")
    code = a.decode or a.encode
    with LineCoder(code) as lc:
        if a.decode:
            sym = array.array("b", data)
            bad = [i for i, s in enumerate(sym[:1 << 20]) if s not in (-1, 0, 1)]
            if bad:
                raise ValueError("symbol %d at offset %d is not -1, 0 or +1 (one signed octet per symbol)"
                                 % (sym[bad[0]], bad[0]))
            bits = lc.decode(sym)
            out = _pack_bits(bits)
            c = lc.counters()
            result = {"type": "decoded", "code": code, "symbols": len(sym), "bits": len(bits),
                      "bpv": c["rx:bpv"], "exz": c["rx:exz"], "substitutions": c["rx:substitutions"]}
        else:
            out = array.array("b", lc.encode(data)).tobytes()
            result = {"type": "encoded", "code": code, "bits": len(data) * 8, "symbols": len(out)}
    if a.out:
        try:
            with open(a.out, "wb") as f:
                f.write(out)
        except OSError as e:
            raise ValueError("output %s: %s" % (a.out, e.strerror)) from None
        result["out"] = a.out
    _emit(result)
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m callbox.line", description="The box's E1/T1 line layer over files.")
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("deframe", help="raw bits (packed, MSB first) -> JSON status and frame lines")
    d.add_argument("--type", required=True, choices=("e1", "t1"))
    d.add_argument("--framing", required=True, choices=("crc4", "nocrc4", "auto", "sf", "esf", "d4"))
    d.add_argument("--sample-bits", type=int, default=0, metavar="N", help="a status line after every N bits")
    d.add_argument("--frames", action="store_true", help="a line per delivered frame (start bit, hex octets)")
    d.add_argument("--linecode", choices=("hdb3", "b8zs", "ami"),
                   help="FILE is ternary (one signed octet per symbol), decoded with this code first")
    d.add_argument("file")
    f = sub.add_parser("frame", help="payload (E1: 32-octet frames, T1: 24-octet frames) -> framed bits")
    f.add_argument("--type", required=True, choices=("e1", "t1"))
    f.add_argument("--framing", required=True, choices=("crc4", "nocrc4", "auto", "sf", "esf", "d4"))
    f.add_argument("--rai", action="store_true", help="send RAI (E1 A bit) / yellow (T1)")
    f.add_argument("--sa", help="E1 Sa4-Sa8 bits, e.g. 11111")
    f.add_argument("--linecode", choices=("hdb3", "b8zs", "ami"), help="write ternary symbols with this code")
    f.add_argument("payload")
    f.add_argument("out")
    c = sub.add_parser("linecode", help="ternary symbols <-> bits")
    g = c.add_mutually_exclusive_group(required=True)
    g.add_argument("--decode", choices=("hdb3", "b8zs", "ami"))
    g.add_argument("--encode", choices=("hdb3", "b8zs", "ami"))
    c.add_argument("file")
    c.add_argument("--out", help="write the result here (decode: packed bits; encode: one signed octet per symbol)")
    a = p.parse_args(argv)
    if getattr(a, "sample_bits", 0) < 0:
        p.error("--sample-bits must be 0 (off) or more")
    try:
        if a.cmd in ("deframe", "frame"):
            _check_kind(a.type, a.framing)
            if a.cmd == "frame" and a.type == "t1" and a.sa:
                raise ValueError("--sa: Sa bits are E1's (T1 has none)")
        return {"deframe": cmd_deframe, "frame": cmd_frame, "linecode": cmd_linecode}[a.cmd](a)
    except (ValueError, LineError, OverflowError) as e:
        print("python -m callbox.line %s: %s" % (a.cmd, e), file=sys.stderr)
        return 2
    except BrokenPipeError:             # the reader (head, a harness) stopped reading: not an error
        sys.stderr.close()
        return 0
