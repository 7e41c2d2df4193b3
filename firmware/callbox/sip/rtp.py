"""RTP/RTCP for one IP seat (RFC 3550), G.711 at 20 ms, RFC 4733 telephone events.

Per packet the work is one ``recvfrom``, one ``struct`` header parse and, for mu-law
phones, one ``bytes.translate`` (a 256-entry table built from our bit-exact G.711
codec, applied in C): never a Python loop over samples. The engine side is always
160 A-law octets per 20 ms tick.

- Symmetric RTP: we send to where the phone's packets come from, but only from the
  address the call was set up with (SDP or signalling address). Packets from any other
  address are dropped and counted (``foreign``), so nobody can inject audio into a call.
- Jitter buffer: packets are put back in sequence order; playout starts after 40 ms
  are buffered, a missing packet is played as silence (``lost``), a packet older than
  the playout point is dropped (``late``) and more than 200 ms buffered is trimmed
  back to 40 ms (``trimmed``).
- SRTP (callbox.sip.srtp) when the call negotiated it: packets that fail authentication
  are dropped and counted (``srtp_rejected``).
- RFC 4733: a telephone event is turned into in-band DTMF (Q.23 frequencies, -7 dBm0
  per tone) in the stream the engine reads, for as long as the event lasts (at least
  60 ms), so the IVR, the trunk and the recording hear the digit like any other.
"""
import array
import os
import socket
import struct
import time

from callbox import dsp
from callbox.sip.srtp import SrtpError

IDLE_ALAW = b"\xd5" * 160
DTMF_EVENTS = "0123456789*#ABCD"
PRIME_OCTETS = 320
TRIM_OCTETS = 1600
RTCP_EVERY_S = 5.0
MIN_TONE_S = 0.06        # an in-band digit made from a telephone event lasts at least this
GAP_S = 0.06             # ... and is this far from the previous one (Q.24 wants 40 ms)
_ULAW_TO_ALAW = bytes(dsp.linear_to_alaw(dsp.ulaw_to_linear(bytes(range(256)))))
_ALAW_TO_ULAW = bytes(dsp.linear_to_ulaw(dsp.alaw_to_linear(bytes(range(256)))))
_DTMF_BLOCK = {}


def _dtmf_blocks(digit):
    """One second of a DTMF digit as 50 blocks of 160 A-law octets (whole cycles of every
    Q.23 frequency in 1 s, so cycling through them never breaks the phase)."""
    blocks = _DTMF_BLOCK.get(digit)
    if blocks is None:
        gen = dsp.ToneGeneratorBank(1)
        gen.send_dtmf(0, digit, on_ms=1000, off_ms=0, level_dbm0=-7.0)
        pcm = array.array("h", bytes(16000))
        gen.generate(pcm, 8000)
        gen.close()
        alaw = bytes(dsp.linear_to_alaw(pcm))
        blocks = _DTMF_BLOCK[digit] = [alaw[i:i + 160] for i in range(0, 8000, 160)]
    return blocks


class RtpStream:
    """One seat's RTP and RTCP sockets and its jitter buffer.

    Args:
        host (str): address to bind.
        port (int): even RTP port (RTCP is port + 1); 0 picks any free pair.
    """

    def __init__(self, host, port=0, clock=time.monotonic):
        self.clock = clock
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.port = self.sock.getsockname()[1]
        self.sock.setblocking(False)
        self.rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.rtcp.bind((host, self.port + 1))
        except OSError:
            self.rtcp.bind((host, 0))
        self.rtcp.setblocking(False)
        self.active = False
        self.counters = {k: 0 for k in ("rx", "tx", "lost", "late", "trimmed", "foreign", "bad", "dtmf",
                                        "other_pt", "rtcp_rx", "rtcp_tx", "srtp_rejected")}
        self.srtp = None
        self.ssrc = struct.unpack("!I", os.urandom(4))[0]
        self.seq = struct.unpack("!H", os.urandom(2))[0]
        self.ts = struct.unpack("!I", os.urandom(4))[0]
        self._reset_rx()

    def __str__(self):
        return "RTP %d -> %s" % (self.port, "%s:%d" % self.remote if self.active else "-")

    def close(self):
        self.active = False
        self.sock.close()
        self.rtcp.close()

    def _reset_rx(self):
        self.buf = {}
        self.fifo = bytearray()
        self.next_seq = None
        self.last_seq = None
        self.rx_ssrc = None
        self.primed = False
        self.event_ts = None
        self.event_digit = None
        self.event_start = self.event_until = 0.0
        self.tone_end = -1.0
        self.done_event_ts = None

    def start(self, remote_ip, remote_port, pt, events_pt=None, allowed_ips=(), srtp=None):
        """Send to and accept from the phone; ``pt`` 8 (A-law) or 0 (mu-law); ``srtp`` a
        (send context, receive context) pair of callbox.sip.srtp.SrtpContext, or None."""
        self.srtp = srtp
        self.remote = (remote_ip, remote_port)
        self.pt, self.events_pt = pt, events_pt
        self.allowed = {remote_ip, *allowed_ips}
        self.active, self.marker = True, True
        self.latched = False
        self.next_rtcp = self.clock() + RTCP_EVERY_S
        self._reset_rx()
        self._drain()

    def stop(self):
        if self.active and not self.srtp:
            self._send_rtcp(bye=True)
        self.active = False
        self._reset_rx()

    def _drain(self):
        for s in (self.sock, self.rtcp):
            while True:
                try:
                    s.recvfrom(2048)
                except (BlockingIOError, OSError):
                    break

    # -- receive ---------------------------------------------------------------------------
    def pump(self):
        """Read every waiting packet. Returns the telephone-event digits that began."""
        digits = []
        if not self.active:
            self._drain()
            return digits
        while True:
            try:
                pkt, src = self.sock.recvfrom(2048)
            except BlockingIOError:
                break
            except OSError:
                self.counters["bad"] += 1
                break
            d = self._packet(pkt, src)
            if d:
                digits.append(d)
        while True:
            try:
                pkt, src = self.rtcp.recvfrom(2048)
            except (BlockingIOError, OSError):
                break
            if src[0] in self.allowed and len(pkt) >= 8 and pkt[0] >> 6 == 2:
                self.counters["rtcp_rx"] += 1
        if self.clock() >= self.next_rtcp and not self.srtp:
            self._send_rtcp()
        return digits

    def _packet(self, pkt, src):
        if src[0] not in self.allowed:
            self.counters["foreign"] += 1
            return None
        if len(pkt) < 12 or pkt[0] >> 6 != 2:
            self.counters["bad"] += 1
            return None
        if self.srtp:
            try:
                pkt = self.srtp[1].unprotect(pkt)
            except SrtpError:
                self.counters["srtp_rejected"] += 1
                return None
        b0, b1, seq, ts, ssrc = struct.unpack_from("!BBHII", pkt)
        off = 12 + 4 * (b0 & 0x0F)
        if b0 & 0x10:
            if len(pkt) < off + 4:
                self.counters["bad"] += 1
                return None
            off += 4 + 4 * struct.unpack_from("!H", pkt, off + 2)[0]
        end = len(pkt)
        if b0 & 0x20:
            end -= pkt[-1]
        if end < off:
            self.counters["bad"] += 1
            return None
        if not self.latched or src != self.remote:
            # symmetric RTP: answer where the phone really sends from (NAT), same address only
            self.remote, self.latched = src, True
        if ssrc != self.rx_ssrc:
            if self.rx_ssrc is not None:
                self.buf.clear()
                self.next_seq = None
            self.rx_ssrc = ssrc
        pt = b1 & 0x7F
        payload = pkt[off:end]
        self.counters["rx"] += 1
        if pt == self.events_pt and self.events_pt is not None:
            return self._event(payload, ts)
        if pt not in (0, 8):
            self.counters["other_pt"] += 1
            return None
        if pt == 0:
            payload = payload.translate(_ULAW_TO_ALAW)
        if self.next_seq is None:
            self.next_seq = seq
        ahead = (seq - self.next_seq) & 0xFFFF
        if ahead >= 0x8000:
            self.counters["late"] += 1
            return None
        self.buf[self.next_seq + ahead] = payload
        return None

    def _event(self, payload, ts):
        if len(payload) < 4:
            self.counters["bad"] += 1
            return None
        ev, flags, duration = struct.unpack_from("!BBH", payload)
        if ev >= len(DTMF_EVENTS):
            return None
        digit = DTMF_EVENTS[ev]
        now = self.clock()
        if ts == self.done_event_ts:
            return None
        new = self.event_ts != ts
        if new:
            self._start_tone(digit, now)
            self.event_ts = ts
        if flags & 0x80:
            # end: the tone lasts at least MIN_TONE_S from its start
            self.done_event_ts = ts
            self.event_until = max(self.event_start + MIN_TONE_S, min(self.event_until, now))
        else:
            self.event_until = max(self.event_until, now + 0.08)
        return digit if new else None

    def _start_tone(self, digit, now):
        """A new digit: its tone starts now, or after a GAP_S pause when another tone is still
        sounding or has just stopped (so a repeated digit is heard, and detected, twice)."""
        if self.event_digit is not None:              # sounding, or ended but not yet read out
            start = max(now, self.event_until + GAP_S)
        elif now - self.tone_end < GAP_S:
            start = self.tone_end + GAP_S
        else:
            start = now
        self.event_digit, self.event_block = digit, -1
        self.event_start, self.event_until = start, start + MIN_TONE_S
        self.counters["dtmf"] += 1

    def inject_digit(self, digit, duration_s=0.1):
        """Play a digit signalled out of band (SIP INFO) into the stream, like an RTP event."""
        now = self.clock()
        self._start_tone(digit, now)
        self.event_ts = None
        self.event_until = self.event_start + duration_s

    def read(self):
        """The next 160 A-law octets for the engine, or None while nothing is playing."""
        if not self.active:
            return None
        if self.event_digit is not None:
            now = self.clock()
            if now < self.event_start:
                self._skip_block()
                return IDLE_ALAW                     # the pause before a digit that follows another
            if now < self.event_until:
                self._skip_block()
                blocks = _dtmf_blocks(self.event_digit)
                self.event_block += 1
                return blocks[self.event_block % len(blocks)]
            self.event_digit = None
            self.tone_end = now
        queued = len(self.fifo) + sum(len(p) for p in self.buf.values())
        if not self.primed:
            if queued < PRIME_OCTETS:
                return None
            self.primed = True
        if queued > TRIM_OCTETS:
            while self.buf and len(self.fifo) + sum(len(p) for p in self.buf.values()) > PRIME_OCTETS:
                self.buf.pop(min(self.buf))
                self.counters["trimmed"] += 1
            self.next_seq = min(self.buf) if self.buf else self.next_seq
        self._fill()
        if len(self.fifo) < 160:
            self.primed = False
            return None
        out = bytes(self.fifo[:160])
        del self.fifo[:160]
        return out

    def _fill(self):
        while len(self.fifo) < 160 and self.buf:
            p = self.buf.pop(self.next_seq, None)
            if p is None:
                first = min(self.buf)
                missing = first - self.next_seq
                self.counters["lost"] += missing
                self.fifo += IDLE_ALAW * min(missing, 10)
                self.next_seq = first
                continue
            self.fifo += p
            self.next_seq += 1

    def _skip_block(self):
        self._fill()
        del self.fifo[:160]

    # -- send ------------------------------------------------------------------------------
    def write(self, alaw):
        if not self.active:
            return
        payload = bytes(alaw) if self.pt == 8 else bytes(alaw).translate(_ALAW_TO_ULAW)
        hdr = struct.pack("!BBHII", 0x80, self.pt | (0x80 if self.marker else 0), self.seq, self.ts, self.ssrc)
        self.marker = False
        self.seq = (self.seq + 1) & 0xFFFF
        self.ts = (self.ts + len(payload)) & 0xFFFFFFFF
        pkt = hdr + payload
        if self.srtp:
            pkt = self.srtp[0].protect(pkt)
        try:
            self.sock.sendto(pkt, self.remote)
            self.counters["tx"] += 1
        except OSError:
            self.counters["bad"] += 1

    def _send_rtcp(self, bye=False):
        self.next_rtcp = self.clock() + RTCP_EVERY_S
        now = time.time() + 2208988800
        ntp_hi, ntp_lo = int(now), int((now % 1) * (1 << 32))
        sr = struct.pack("!BBHIIIIII", 0x80, 200, 6, self.ssrc, ntp_hi, ntp_lo, self.ts,
                         self.counters["tx"], self.counters["tx"] * 160)
        cname = b"callbox"
        sdes_items = struct.pack("!IBB", self.ssrc, 1, len(cname)) + cname + b"\x00"
        sdes_items += b"\x00" * (-len(sdes_items) % 4)
        sdes = struct.pack("!BBH", 0x81, 202, len(sdes_items) // 4) + sdes_items
        pkt = sr + sdes
        if bye:
            pkt += struct.pack("!BBHI", 0x81, 203, 1, self.ssrc)
        try:
            self.rtcp.sendto(pkt, (self.remote[0], self.remote[1] + 1))
            self.counters["rtcp_tx"] += 1
        except OSError:
            pass
