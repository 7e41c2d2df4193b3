"""SRTP (RFC 3711) as the box uses it for seats on SIP over TLS."""
import base64
import struct

import pytest

from callbox.sip.srtp import SrtpContext, SrtpError, derive, new_crypto, parse_crypto

pytestmark = pytest.mark.args


def test_key_derivation_matches_rfc3711_appendix_b3():
    mk = bytes.fromhex("E1F97A0D3E018BE0D64FA32C06DE4139")
    ms = bytes.fromhex("0EC675AD498AFEEBB6960B3AABE6")
    assert derive(mk, ms, 0, 16).hex().upper() == "C61E7A93744F39EE10734AFE3FF7A087"
    assert derive(mk, ms, 2, 14).hex().upper() == "30CBBC08863D8C85D49DB34A9AE1"
    assert derive(mk, ms, 1, 20).hex().upper() == "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"


def _rtp(seq, payload, ssrc=0xDEADBEEF, ts=0):
    return struct.pack("!BBHII", 0x80, 8, seq & 0xFFFF, ts, ssrc) + payload


def _pair(suite="AES_CM_128_HMAC_SHA1_80"):
    attr, key, salt = new_crypto(1, suite)
    return SrtpContext(key, salt, suite), SrtpContext(*parse_crypto(attr)[2:], suite)


@pytest.mark.parametrize("suite, tag", [("AES_CM_128_HMAC_SHA1_80", 10), ("AES_CM_128_HMAC_SHA1_32", 4)])
def test_round_trip_encrypts_the_payload_only_and_survives_the_sequence_wrap(suite, tag):
    tx, rx = _pair(suite)
    payload = bytes(range(160))
    for seq in list(range(65530, 65536)) + list(range(0, 6)):          # the rollover counter steps to 1
        p = _rtp(seq, payload)
        s = tx.protect(p)
        assert len(s) == len(p) + tag and s[:12] == p[:12] and s[12:172] != payload
        assert rx.unprotect(s) == p
    assert tx.roc == 1 and rx.roc == 1


def test_tampered_replayed_and_foreign_key_packets_are_rejected():
    tx, rx = _pair()
    s1, s2 = tx.protect(_rtp(10, b"\x01" * 160)), tx.protect(_rtp(11, b"\x02" * 160))
    bad = bytearray(s1)
    bad[20] ^= 1
    with pytest.raises(SrtpError, match="tag"):
        rx.unprotect(bytes(bad))
    assert rx.unprotect(s2)[12:] == b"\x02" * 160
    assert rx.unprotect(s1)[12:] == b"\x01" * 160                      # late but new: accepted
    with pytest.raises(SrtpError, match="replayed"):
        rx.unprotect(s1)
    other_tx, _ = _pair()
    with pytest.raises(SrtpError):
        rx.unprotect(other_tx.protect(_rtp(12, b"\x03" * 160)))
    with pytest.raises(SrtpError, match="short"):
        rx.unprotect(b"\x80" * 12)


def test_crypto_attribute_parsing_names_what_is_wrong():
    attr, key, salt = new_crypto(3)
    assert parse_crypto(attr) == (3, "AES_CM_128_HMAC_SHA1_80", key, salt)
    assert parse_crypto(attr + "|2^20")[2] == key                       # a lifetime is fine
    for bad, words in ((attr.replace("AES_CM_128_HMAC_SHA1_80", "F8_128_HMAC_SHA1_80"), "not supported"),
                       (attr.replace("inline:", "uri:"), "not inline"),
                       ("1 AES_CM_128_HMAC_SHA1_80 inline:%s" % base64.b64encode(b"x" * 20).decode(), "20 bytes"),
                       ("1 AES_CM_128_HMAC_SHA1_80 inline:!!!", "base64"), (attr + "|2^20|1:4", "MKI"),
                       ("AES_CM_128_HMAC_SHA1_80", "is not")):
        with pytest.raises(ValueError, match=words):
            parse_crypto(bad)
