"""Simulated spans and seats: the box runs on an ordinary PC through these.

SimLine is one end of a back-to-back span pair (osmo-e1d's vpair idea): two
ends exchange 20 ms blocks of raw line bits over a Unix SEQPACKET socket
``<sim_dir>/<pair>.sock``. End 1 is the far end (the exchange) and listens; end
0 is the box and connects, and connects again whenever the "cable" was pulled
(while unplugged the box reads LOS). The sending end can impair its signal:

    sim://pairA/1?offset=37&ber=1e-6     start 37 bits out of frame, bit errors
    line.impair(los=True | ais=True | ber=1e-4 | slip=1)

SimSeatPort is a simulated agent's phone port on the box (listening at
``<sim_dir>/seat<N>.sock``); SimPhone in callbox.sim.phone is the phone that
plugs into it. Packets: b"A" + 160 A-law octets (20 ms of audio) or b"C" +
a msgpack map (hook, keys, ring).
"""
import collections
import errno
import os
import random
import socket

import msgpack

from callbox.errors import LineError, LineInitError
from callbox.hw import parse_url
from callbox.hw.line import E1_BLOCK_BYTES, T1_BLOCK_BYTES, Line

JITTER_DEPTH = 2        # blocks held before reading starts (absorbs scheduling jitter)
MAX_DEPTH = 6           # beyond this the oldest block is dropped (a slip)


def _listen(path):
    """A non-blocking SEQPACKET listener at path (a stale socket file is replaced)."""
    if os.path.exists(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.bind(path)
    sock.listen(1)
    sock.setblocking(False)
    return sock


def _unlisten(sock, path):
    sock.close()
    try:
        os.unlink(path)
    except OSError:
        pass


def default_sim_dir():
    return os.environ.get("CALLBOX_SIM_DIR") or os.path.join(
        os.environ.get("CALLBOX_RUN_DIR", "/run/callbox"), "sim")


class SimLine(Line):
    """One end of a simulated E1 span pair.

    Args:
        url (str): ``sim://<pair>/<end>[?offset=N&ber=X&seed=S]``, end 0 (box) or 1 (far end).
        sim_dir (str): directory of the pair sockets (default $CALLBOX_SIM_DIR).

    Raises:
        LineInitError: bad URL or options.
    """

    def __init__(self, url, sim_dir=None, kind="E1"):
        scheme, pair, path, opts = parse_url(url)
        self.url = url
        if kind not in ("E1", "T1"):
            raise LineInitError("Opening span %s: kind %r is not E1 or T1" % (url, kind))
        self.kind = kind
        self.block_bytes = T1_BLOCK_BYTES if kind == "T1" else E1_BLOCK_BYTES
        self.block_bits = self.block_bytes * 8
        self._mask = (1 << self.block_bits) - 1
        if not pair or not pair.replace("-", "").replace("_", "").isalnum():
            raise LineInitError("Opening span %s: pair name %r must be letters, digits, '-' or '_'" % (url, pair))
        if path not in ("/0", "/1"):
            raise LineInitError("Opening span %s: end %r is not /0 (box) or /1 (far end)" % (url, path))
        allowed = {"offset", "ber", "seed"}
        bad = set(opts) - allowed
        if bad:
            raise LineInitError("Opening span %s: unknown option(s) %s; accepted: sim://pair/end?offset=N&ber=X&seed=S"
                                % (url, ", ".join(sorted(bad))))
        try:
            self.offset = int(opts.get("offset", 0)) % 256
            self.ber = float(opts.get("ber", 0.0))
            seed = int(opts.get("seed", 1))
        except ValueError as e:
            raise LineInitError("Opening span %s: bad option value (%s)" % (url, e)) from None
        if not 0.0 <= self.ber < 0.5:
            raise LineInitError("Opening span %s: ber %g is outside 0 .. 0.5" % (url, self.ber))
        self.pair = pair
        self.end = int(path[1:])
        self.sim_dir = sim_dir or default_sim_dir()
        self.path = os.path.join(self.sim_dir, pair + ".sock")
        self._rng = random.Random(seed)
        self._prev = 0
        self._rxq = collections.deque()
        self._primed = False
        self._listen = None
        self._sock = None
        self._retry_at = 0
        self.los = False
        self.ais = False
        self._slip = 0
        self._fas_errors = 0        # FAS words still to corrupt (E1), one in every other FAS frame
        self._crc_errors = 0        # blocks still to hit with one payload bit error (CRC-4 / CRC-6)
        self.rx_los = False           # faults on what this end receives (a tech's fault injection)
        self.rx_ais = False
        self.rx_ber = 0.0
        self._counters = collections.Counter()

    def __str__(self):
        return ("SimLine(url=%s, %s, end=%d, socket=%s, offset=%d, ber=%g, los=%s, ais=%s, connected=%s)"
                % (self.url, self.kind, self.end, self.path, self.offset, self.ber, self.los, self.ais,
                   self._sock is not None))

    # -- connection ------------------------------------------------------------
    def open(self):
        os.makedirs(self.sim_dir, exist_ok=True)
        if self.end == 1:
            try:
                self._listen = _listen(self.path)
            except OSError as e:
                raise LineInitError("Opening span %s: binding %s: %s" % (self.url, self.path, e.strerror)) from None
        self._connect()
        return self

    def _connect(self):
        if self._sock is not None:
            return True
        if self.end == 1:
            try:
                s, _ = self._listen.accept()
            except BlockingIOError:
                return False
        else:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                s.connect(self.path)
            except OSError:
                s.close()
                return False
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.block_bytes * 16)
        self._sock = s
        self._rxq.clear()
        self._primed = False
        self._counters["connects"] += 1
        return True

    def _drop(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None
            self._counters["disconnects"] += 1

    def close(self):
        self._drop()
        if self._listen is not None:
            _unlisten(self._listen, self.path)
            self._listen = None

    # -- data --------------------------------------------------------------------
    def read_block(self, out):
        if self._sock is None and not self._connect():
            out[:] = bytes(len(out))
            return "los"
        while True:
            try:
                data = self._sock.recv(self.block_bytes + 1)
            except BlockingIOError:
                break
            except OSError:
                self._drop()
                break
            if not data:
                self._drop()
                break
            if len(data) != self.block_bytes:
                self._counters["bad_blocks"] += 1
                continue
            self._rxq.append(data)
            if len(self._rxq) > MAX_DEPTH:
                self._rxq.popleft()
                self._counters["overruns"] += 1
        if self._sock is None:
            out[:] = bytes(len(out))
            return "los"
        if not self._primed:
            if len(self._rxq) < JITTER_DEPTH:
                return "none"
            self._primed = True
        if not self._rxq:
            self._counters["underruns"] += 1
            self._primed = False
            return "none"
        block = self._rxq.popleft()
        if self.rx_los:
            block = bytes(self.block_bytes)
        elif self.rx_ais:
            block = b"\xff" * self.block_bytes
        elif self.rx_ber:
            val = int.from_bytes(block, "big")
            nerr = self._poisson(self.block_bits * self.rx_ber)
            for _ in range(nerr):
                val ^= 1 << self._rng.randrange(self.block_bits)
            self._counters["rx_bit_errors_injected"] += nerr
            block = val.to_bytes(self.block_bytes, "big")
        out[:] = block
        return "ok"

    def write_block(self, data):
        if len(data) != self.block_bytes:
            raise LineError("Writing to span %s: block of %d bytes, expected %d" % (self.url, len(data), self.block_bytes))
        if self._sock is None and not self._connect():
            return
        if self.los:
            block = bytes(self.block_bytes)       # transmitter off: no pulses, the far end reads zeros
        elif self.ais:
            block = b"\xff" * self.block_bytes
        else:
            block = self._impair_bits(data)
        try:
            self._sock.send(block)
        except BlockingIOError:
            self._counters["tx_dropped"] += 1
        except OSError:
            self._drop()

    def _impair_bits(self, data):
        if self._fas_errors or self._crc_errors:
            data = self._impair_frames(bytearray(data))
        if not (self.offset or self.ber or self._slip):
            return bytes(data)
        val = int.from_bytes(data, "big")
        if self._slip:
            # a slip moves the stream by one bit for good, as a lost or repeated bit does
            self.offset = (self.offset + self._slip) % 256
            self._slip = 0
        combined = (self._prev << self.block_bits) | val
        self._prev = val
        out = (combined >> self.offset) & self._mask
        if self.ber:
            nerr = self._poisson(self.block_bits * self.ber)
            for _ in range(nerr):
                out ^= 1 << self._rng.randrange(self.block_bits)
            self._counters["bit_errors_injected"] += nerr
        return out.to_bytes(self.block_bytes, "big")

    def _impair_frames(self, buf):
        """Counted errors on the framed block as the engine wrote it (frame 0 at bit 0)."""
        if self.kind == "T1":
            step, nframes = 24, len(buf) * 8 // 193            # 24 frames apart: distinct superframes
            for f in range(0, nframes, step):
                if not self._crc_errors:
                    break
                bit = f * 193 + 10                              # a payload bit of channel 2
                buf[bit // 8] ^= 0x80 >> (bit % 8)
                self._crc_errors -= 1
                self._counters["crc_errors_injected"] += 1
            return buf
        nframes = len(buf) // 32
        for f in range(nframes):
            o = buf[32 * f]
            if self._fas_errors and f % 4 == 0 and o & 0x7F == 0x1B:   # every other FAS word
                buf[32 * f] ^= 0x01
                self._fas_errors -= 1
                self._counters["fas_errors_injected"] += 1
            if self._crc_errors and f % 8 == 3:                 # one bit in a sub-multiframe
                buf[32 * f + 1] ^= 0x10
                self._crc_errors -= 1
                self._counters["crc_errors_injected"] += 1
        return buf

    def _poisson(self, lam):
        # Knuth's method is fine for the small means a BER test uses
        if lam > 30:
            return max(0, int(self._rng.gauss(lam, lam ** 0.5) + 0.5))
        import math
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= self._rng.random()
            if p <= limit:
                return k
            k += 1

    def impair(self, los=None, ais=None, ber=None, slip=None, side="tx", fas_errors=None, crc_errors=None):
        """Inject faults on what this end transmits (side "tx": the far end sees them) or
        receives (side "rx": this end sees them, as a fault on the incoming line would).

        Args:
            los (bool): stop sending (the far end sees loss of signal).
            ais (bool): send unframed all ones.
            ber (float): bit error ratio 0 .. 0.5.
            slip (int): move the bitstream by this many bits once (transmit side only).
            fas_errors (int): corrupt this many E1 FAS words, one in every other FAS frame, so
                the far end counts exactly that many without losing alignment (transmit side).
            crc_errors (int): one payload bit error in each of this many E1 sub-multiframes
                (CRC-4 errors) or T1 superframes (CRC-6 errors) (transmit side).

        Raises:
            ValueError: a value is out of range.
        """
        if side not in ("tx", "rx"):
            raise ValueError("side %r is not tx or rx" % (side,))
        for name, v in (("fas_errors", fas_errors), ("crc_errors", crc_errors)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 100000):
                raise ValueError("%s %r is not a count 0..100000" % (name, v))
        if fas_errors and self.kind == "T1":
            raise ValueError("fas_errors: a T1 line has no FAS (use crc_errors or ber)")
        if side == "rx":
            if slip is not None or fas_errors is not None or crc_errors is not None:
                raise ValueError("slips and counted FAS/CRC errors are injected on the transmitting side "
                                 "(side tx, or at the far end)")
            if ber is not None:
                if not 0.0 <= float(ber) < 0.5:
                    raise ValueError("ber %r is outside 0 .. 0.5" % ber)
                self.rx_ber = float(ber)
            if los is not None:
                self.rx_los = bool(los)
            if ais is not None:
                self.rx_ais = bool(ais)
            return
        if ber is not None:
            if not 0.0 <= float(ber) < 0.5:
                raise ValueError("ber %r is outside 0 .. 0.5" % ber)
            self.ber = float(ber)
        if los is not None:
            self.los = bool(los)
        if ais is not None:
            self.ais = bool(ais)
        if slip is not None:
            self._slip = int(slip)
        if fas_errors is not None:
            self._fas_errors = fas_errors
        if crc_errors is not None:
            self._crc_errors = crc_errors

    def counters(self):
        return dict(self._counters)


class SimSeatPort:
    """A simulated seat port on the box: a phone (callbox.sim.phone) plugs into it.

    Args:
        url (str): ``sim://seat/<N>``.
        sim_dir (str): directory of the seat sockets.
    """

    def __init__(self, url, sim_dir=None):
        scheme, host, path, opts = parse_url(url)
        try:
            self.seat = int(path.strip("/"))
        except ValueError:
            raise LineInitError("Opening seat %s: expected sim://seat/<number>" % url) from None
        if host != "seat" or opts:
            raise LineInitError("Opening seat %s: expected sim://seat/<number> with no options" % url)
        self.url = url
        self.sim_dir = sim_dir or default_sim_dir()
        self.path = os.path.join(self.sim_dir, "seat%d.sock" % self.seat)
        self._listen = None
        self._sock = None
        self._audio = collections.deque()
        self._events = []
        self._primed = False

    def __str__(self):
        return "SimSeatPort(url=%s, socket=%s, connected=%s)" % (self.url, self.path, self._sock is not None)

    @property
    def connected(self):
        return self._sock is not None

    def open(self):
        os.makedirs(self.sim_dir, exist_ok=True)
        try:
            self._listen = _listen(self.path)
        except OSError as e:
            raise LineInitError("Opening seat %s: binding %s: %s" % (self.url, self.path, e.strerror)) from None
        return self

    def close(self):
        if self._sock:
            self._sock.close()
            self._sock = None
        if self._listen:
            _unlisten(self._listen, self.path)
            self._listen = None

    def poll(self):
        """Read everything waiting; returns control events (dicts) from the phone."""
        if self._sock is None:
            try:
                s, _ = self._listen.accept()
            except BlockingIOError:
                return []
            s.setblocking(False)
            self._sock = s
            self._audio.clear()
            self._primed = False
            self._events.append({"plug": True})
        while self._sock is not None:
            try:
                pkt = self._sock.recv(4096)
            except BlockingIOError:
                break
            except OSError as e:
                if e.errno not in (errno.ECONNRESET,):
                    raise
                pkt = b""
            if not pkt:
                self._sock.close()
                self._sock = None
                self._events.append({"plug": False})
                break
            kind, body = pkt[:1], pkt[1:]
            if kind == b"A" and len(body) == 160:
                self._audio.append(body)
                if len(self._audio) > MAX_DEPTH:
                    self._audio.popleft()
            elif kind == b"C":
                try:
                    ev = msgpack.unpackb(body, raw=False, strict_map_key=True)
                except Exception:
                    ev = None
                if isinstance(ev, dict):
                    self._events.append(ev)
                else:
                    self._events.append({"bad_packet": len(pkt)})
            else:
                self._events.append({"bad_packet": len(pkt)})
        ev, self._events = self._events, []
        return ev

    def read_audio(self):
        """The next 20 ms of A-law from the phone, or None (nothing arrived)."""
        if not self._primed:
            if len(self._audio) < JITTER_DEPTH:
                return None
            self._primed = True
        if not self._audio:
            self._primed = False
            return None
        return self._audio.popleft()

    def write_audio(self, data):
        self._send(b"A" + bytes(data))

    def send_control(self, msg):
        self._send(b"C" + msgpack.packb(msg, use_bin_type=True))

    def _send(self, pkt):
        if self._sock is None:
            return
        try:
            self._sock.send(pkt)
        except BlockingIOError:
            pass
        except OSError:
            self._sock.close()
            self._sock = None
            self._events.append({"plug": False})
