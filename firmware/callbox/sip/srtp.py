"""SRTP (RFC 3711) with SDES keys (RFC 4568) for seats on SIP over TLS.

Crypto suites AES_CM_128_HMAC_SHA1_80 and _32: AES-128 in counter mode for the payload,
HMAC-SHA1 over the header, the encrypted payload and the rollover counter for the tag.
Session keys come from the master key and salt with the AES-CM PRF (key derivation rate
0). Per packet: one AES-CTR call and one HMAC from the ``cryptography`` package (OpenSSL
in C), never a Python loop over the payload.

The receiver estimates the rollover counter from the sequence number (RFC 3711
Appendix A), checks the tag before anything else (a forged or damaged packet is dropped
and counted) and keeps a 64-packet replay window. Our own RTCP is not sent on SRTP calls
(SRTCP is not implemented); the phone's SRTCP is accepted and ignored like RTCP.
"""
import base64
import hmac
import hashlib
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SUITES = {"AES_CM_128_HMAC_SHA1_80": 10, "AES_CM_128_HMAC_SHA1_32": 4}
REPLAY_WINDOW = 64


class SrtpError(Exception):
    """A packet that fails authentication, replays, or is too short."""


def _aes_ctr(key, iv, data):
    enc = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def derive(master_key, master_salt, label, n):
    """RFC 3711 4.3.3 key derivation (kdr 0): ``n`` bytes for ``label`` (0 cipher key,
    1 auth key, 2 salt; 3-5 the same for SRTCP)."""
    x = bytearray(master_salt + b"\x00\x00")
    x[7] ^= label
    return _aes_ctr(master_key, bytes(x), b"\x00" * n)


def parse_crypto(attr):
    """``1 AES_CM_128_HMAC_SHA1_80 inline:<base64>[|lifetime][|MKI]`` → (tag, suite, key, salt).

    Raises:
        ValueError: an unknown suite, or key material that is not 30 bytes of base64.
    """
    parts = attr.split()
    if len(parts) < 3 or not parts[0].isdigit():
        raise ValueError("a=crypto %r is not '<tag> <suite> inline:<key>'" % attr[:60])
    suite = parts[1]
    if suite not in SUITES:
        raise ValueError("crypto suite %s not supported" % suite)
    if not parts[2].startswith("inline:"):
        raise ValueError("a=crypto key method %r is not inline" % parts[2][:20])
    key_params = parts[2][len("inline:"):].split("|")
    if len(key_params) > 1 and ":" in key_params[-1]:
        raise ValueError("a=crypto with an MKI is not supported")
    try:
        material = base64.b64decode(key_params[0], validate=True)
    except ValueError:
        raise ValueError("a=crypto key is not base64") from None
    if len(material) != 30:
        raise ValueError("a=crypto key material is %d bytes, not 30" % len(material))
    return int(parts[0]), suite, material[:16], material[16:]


def new_crypto(tag=1, suite="AES_CM_128_HMAC_SHA1_80"):
    """A fresh key for our direction: (a=crypto value, key, salt)."""
    key, salt = os.urandom(16), os.urandom(14)
    return "%d %s inline:%s" % (tag, suite, base64.b64encode(key + salt).decode()), key, salt


class SrtpContext:
    """One direction of one SRTP stream (all SSRCs share the master key here)."""

    def __init__(self, master_key, master_salt, suite="AES_CM_128_HMAC_SHA1_80"):
        self.tag_len = SUITES[suite]
        self.k_e = derive(master_key, master_salt, 0, 16)
        self.k_a = derive(master_key, master_salt, 1, 20)
        self.k_s = derive(master_key, master_salt, 2, 14)
        self.roc = 0
        self.s_l = None
        self.replay = 0          # bit k: index (highest - k) seen
        self.highest = -1

    def _iv(self, ssrc, index):
        iv = bytearray(self.k_s + b"\x00\x00")
        mix = struct.pack("!IQ", ssrc, index << 16)     # SSRC * 2^64 XOR index * 2^16, on 16 bytes
        for i in range(12):
            iv[4 + i] ^= mix[i]
        return bytes(iv)

    def _tag(self, authenticated, roc):
        return hmac.new(self.k_a, authenticated + struct.pack("!I", roc), hashlib.sha1).digest()[:self.tag_len]

    @staticmethod
    def _header_len(pkt):
        n = 12 + 4 * (pkt[0] & 0x0F)
        if pkt[0] & 0x10:
            if len(pkt) < n + 4:
                raise SrtpError("header extension cut short")
            n += 4 + 4 * struct.unpack_from("!H", pkt, n + 2)[0]
        if len(pkt) < n:
            raise SrtpError("packet shorter than its header")
        return n

    def protect(self, pkt):
        """An RTP packet → SRTP (sender side; ROC follows our own sequence numbers)."""
        seq, ssrc = struct.unpack_from("!H", pkt, 2)[0], struct.unpack_from("!I", pkt, 8)[0]
        if self.s_l is not None and seq < self.s_l and self.s_l - seq > 0x8000:
            self.roc = (self.roc + 1) & 0xFFFFFFFF
        self.s_l = seq
        index = (self.roc << 16) | seq
        h = self._header_len(pkt)
        body = pkt[:h] + _aes_ctr(self.k_e, self._iv(ssrc, index), pkt[h:])
        return body + self._tag(body, self.roc)

    def unprotect(self, pkt):
        """An SRTP packet → RTP, or SrtpError (bad tag, replay, runt)."""
        if len(pkt) < 12 + self.tag_len:
            raise SrtpError("packet too short for SRTP")
        body, tag = pkt[:-self.tag_len], pkt[-self.tag_len:]
        seq, ssrc = struct.unpack_from("!H", body, 2)[0], struct.unpack_from("!I", body, 8)[0]
        # RFC 3711 Appendix A: guess the rollover counter of this packet
        if self.s_l is None:
            v = self.roc
        elif self.s_l < 0x8000:
            v = (self.roc - 1) & 0xFFFFFFFF if seq - self.s_l > 0x8000 and self.roc > 0 else self.roc
        else:
            v = (self.roc + 1) & 0xFFFFFFFF if self.s_l - 0x8000 > seq else self.roc
        if not hmac.compare_digest(self._tag(body, v), tag):
            raise SrtpError("authentication tag does not match")
        index = (v << 16) | seq
        if self.highest >= 0:
            if index <= self.highest:
                back = self.highest - index
                if back >= REPLAY_WINDOW or self.replay >> back & 1:
                    raise SrtpError("replayed or too old (index %d, highest %d)" % (index, self.highest))
                self.replay |= 1 << back
            else:
                self.replay = ((self.replay << (index - self.highest)) | 1) & ((1 << REPLAY_WINDOW) - 1)
                self.highest = index
        else:
            self.highest, self.replay = index, 1
        if index == self.highest:
            self.roc, self.s_l = v, seq
        h = self._header_len(body)
        return body[:h] + _aes_ctr(self.k_e, self._iv(ssrc, index), body[h:])
