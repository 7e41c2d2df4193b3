"""Signalling monitor lines: Q.921 frame kinds, Q.931 messages and their key IEs, garbage."""
from callbox.signalling.trace import describe


def test_q921_frames():
    assert describe(bytes([0x00, 0x01, 0x7F])) == "SABME cr0 P/F"
    assert describe(bytes([0x02, 0x01, 0x73])) == "UA cr1 P/F"
    assert describe(bytes([0x02, 0x01, 0x01, 0x0B])) == "RR cr1 nr5 P/F"


def test_q931_setup_with_numbers_and_channel():
    setup = bytes([0x08, 0x02, 0x00, 0x01, 0x05, 0xA1,
                   0x18, 0x03, 0xA9, 0x83, 0x83,
                   0x6C, 0x0D, 0x21, 0x80] + list(b"13800138000") +
                  [0x70, 0x06, 0x80] + list(b"10086"))
    frame = bytes([0x02, 0x01, 0x06, 0x0A]) + setup
    text = describe(frame)
    assert text.startswith("I ns3 nr5 | Q.931 SETUP cref 0x0001")
    assert "chan 3 excl" in text and "calling 13800138000" in text and "called 10086" in text
    rel = bytes([0x02, 0x01, 0x08, 0x0A, 0x08, 0x02, 0x80, 0x01, 0x5A, 0x08, 0x02, 0x80, 0x90])
    assert describe(rel) == "I ns4 nr5 | Q.931 RELEASE COMPLETE cref 0x0001 (theirs) cause 16"


def test_garbage_never_raises():
    for junk in (b"", b"\x00", b"\x02\x01", b"\x02\x01\x06", b"\x02\x01\x06\x0a\x09\x09",
                 b"\x02\x01\x06\x0a\x08\x02\x00", bytes(range(256))):
        assert isinstance(describe(junk), str)
