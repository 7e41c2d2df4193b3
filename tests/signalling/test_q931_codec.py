"""Q.931 codec: messages built by hand from the standard's octets, round trips, every class of
malformed input, and a fuzz run that may only ever raise SignallingError."""
import random

import pytest

from callbox.errors import SignallingError
from callbox.signalling import q931
from callbox.signalling.q931 import (BearerCapability, CalledPartyNumber, CallingPartyNumber, CallState, Cause,
                                     ChannelId, Display, Message, MessageError, ProgressIndicator, RawIE,
                                     RestartIndicator, SendingComplete, decode, encode)

pytestmark = pytest.mark.args


def h(text):
    return bytes.fromhex(text)


# SETUP from the network, CRV 1: bearer speech/A-law, channel 3 exclusive, calling 13800138000
# (unknown/unknown, presentation allowed, user provided verified), called 1000 (unknown/ISDN), sending complete.
SETUP_BYTES = h("08 02 00 01 05"
                "04 03 80 90 A3"
                "18 03 A9 83 83"
                "6C 0D 00 81 31 33 38 30 30 31 33 38 30 30 30"
                "70 05 81 31 30 30 30"
                "A1")


def test_decode_setup_from_the_standard():
    m = decode(SETUP_BYTES)
    assert (m.mtype, m.cref, m.cref_flag, m.cref_len) == ("SETUP", 1, False, 2)
    assert m.ies == [
        BearerCapability(capability="speech", layer1="alaw"),
        ChannelId(channel=3, exclusive=True),
        CallingPartyNumber(digits="13800138000", ton=0, npi=0, presentation=0, screening=1),
        CalledPartyNumber(digits="1000", ton=0, npi=1),
        SendingComplete(),
    ]
    assert encode(m) == SETUP_BYTES


@pytest.mark.parametrize("octets,mtype,cref,flag,ies", [
    ("08 02 80 01 02 18 03 A9 83 83", "CALL_PROCEEDING", 1, True, [ChannelId(channel=3)]),
    ("08 02 80 01 01", "ALERTING", 1, True, []),
    ("08 02 80 01 07", "CONNECT", 1, True, []),
    ("08 02 00 01 0F", "CONNECT_ACKNOWLEDGE", 1, False, []),
    ("08 02 80 01 45 08 02 80 90", "DISCONNECT", 1, True, [Cause(value=16, location=0)]),
    ("08 02 00 01 4D 08 02 82 91", "RELEASE", 1, False, [Cause(value=17, location=2)]),
    ("08 02 80 01 5A", "RELEASE_COMPLETE", 1, True, []),
    ("08 02 7F FF 75", "STATUS_ENQUIRY", 0x7FFF, False, []),
    ("08 02 00 2A 7D 08 02 80 9E 14 01 0A", "STATUS", 42, False, [Cause(value=30), CallState(value=10)]),
    ("08 02 00 00 46 18 03 A9 83 85 79 01 80", "RESTART", 0, False,
     [ChannelId(channel=5), RestartIndicator(restart_class=0)]),
    ("08 02 80 00 4E 79 01 87", "RESTART_ACKNOWLEDGE", 0, True, [RestartIndicator(restart_class=7)]),
    ("08 02 80 01 03 1E 02 82 88", "PROGRESS", 1, True, [ProgressIndicator(description=8, location=2)]),
    ("08 02 00 01 0D", "SETUP_ACKNOWLEDGE", 1, False, []),
    ("08 02 00 01 7B 70 02 81 35", "INFORMATION", 1, False, [CalledPartyNumber(digits="5")]),
    ("08 02 00 01 6E 27 01 80", "NOTIFY", 1, False, [RawIE(0x27, b"\x80")]),
    ("08 02 00 01 62 1C 02 91 A1", "FACILITY", 1, False, [RawIE(0x1C, b"\x91\xa1")]),
])
def test_decode_encode_every_message_type(octets, mtype, cref, flag, ies):
    data = h(octets)
    m = decode(data)
    assert (m.mtype, m.cref, m.cref_flag, m.ies) == (mtype, cref, flag, ies)
    assert encode(m) == data
    assert q931.MESSAGE_TYPES[mtype] == data[4]


def test_message_table_matches_the_standard():
    assert q931.MESSAGE_TYPES == {
        "ALERTING": 0x01, "CALL_PROCEEDING": 0x02, "PROGRESS": 0x03, "SETUP": 0x05, "CONNECT": 0x07,
        "SETUP_ACKNOWLEDGE": 0x0D, "CONNECT_ACKNOWLEDGE": 0x0F, "DISCONNECT": 0x45, "RESTART": 0x46,
        "RELEASE": 0x4D, "RESTART_ACKNOWLEDGE": 0x4E, "RELEASE_COMPLETE": 0x5A, "FACILITY": 0x62,
        "NOTIFY": 0x6E, "STATUS_ENQUIRY": 0x75, "INFORMATION": 0x7B, "STATUS": 0x7D}


@pytest.mark.parametrize("ie,octets", [
    (BearerCapability(capability="speech", layer1="alaw"), "04 03 80 90 A3"),
    (BearerCapability(capability="speech", layer1="ulaw"), "04 03 80 90 A2"),
    (BearerCapability(capability="3.1khz", layer1="alaw"), "04 03 90 90 A3"),
    (BearerCapability(capability="unrestricted", layer1=None), "04 02 88 90"),
    (BearerCapability(capability="unrestricted", layer1=None, rate=0x18, multiplier=6), "04 03 88 98 86"),
    (BearerCapability(capability="unrestricted", layer1="v110", layer1_params=b"\x0f\x80"), "04 05 88 90 21 0F 80"),
    (BearerCapability(capability="speech", layer1="alaw", tail=b"\xc6\xe6"), "04 05 80 90 A3 C6 E6"),
    (ChannelId(channel=1), "18 03 A9 83 81"),
    (ChannelId(channel=31, exclusive=False), "18 03 A1 83 9F"),
    (ChannelId(any_channel=True, exclusive=False), "18 01 A3"),
    (ChannelId(), "18 01 A8"),
    (ChannelId(channel=17, interface=1), "18 04 E9 81 83 91"),
    (ChannelId(channel=2, pri=False), "18 01 8A"),
    (CalledPartyNumber(digits="10086", ton=2, npi=1), "70 06 A1 31 30 30 38 36"),
    (CalledPartyNumber(digits="*21#", ton=0, npi=0), "70 05 80 2A 32 31 23"),
    (CallingPartyNumber(digits="555", ton=4, npi=1, presentation=1, screening=3), "6C 05 41 A3 35 35 35"),
    (CallingPartyNumber(digits="555", presentation=None, screening=None), "6C 04 81 35 35 35"),
    (CallingPartyNumber(digits="", presentation=2, screening=3), "6C 02 01 C3"),
    (Cause(value=102, location=2), "08 02 82 E6"),
    (Cause(value=101, location=0, diagnostics=b"\x07"), "08 03 80 E5 07"),
    (Cause(value=1, location=1, recommendation=0), "08 03 01 80 81"),
    (ProgressIndicator(description=1, location=0), "1E 02 80 81"),
    (CallState(value=19), "14 01 13"),
    (Display(text="Sales"), "28 05 53 61 6C 65 73"),
    (Display(text="Hi", charset=0xB1), "28 03 B1 48 69"),
    (RestartIndicator(restart_class=6), "79 01 86"),
    (RawIE(0x7E, b"\x04abc"), "7E 04 04 61 62 63"),
])
def test_ie_round_trip(ie, octets):
    data = h("08 02 00 07 7B") + h(octets)
    assert encode(Message("INFORMATION", 7, False, [ie])) == data
    assert decode(data).ies == [ie]


def test_cause_names():
    assert Cause(value=16).name == "normal call clearing"
    assert q931.cause_name(34) == "no circuit/channel available"
    assert q931.cause_name(102) == "recovery on timer expiry"
    assert q931.cause_name(77) == "cause 77"


def test_codeset_shift_keeps_other_codesets_raw():
    # locking shift to codeset 6, then a codeset 6 IE with the id of a cause; non-locking shift to 5 for one IE.
    data = h("08 02 00 01 7B 96 08 01 41 08 02 80 90")
    m = decode(data)
    assert m.ies == [RawIE(0x96, b"", 0, True), RawIE(0x08, b"\x41", 6), RawIE(0x08, b"\x80\x90", 6)]
    data = h("08 02 00 01 7B 9D 08 01 41 08 02 80 90")
    m = decode(data)
    assert m.ies == [RawIE(0x9D, b"", 0, True), RawIE(0x08, b"\x41", 5), Cause(value=16)]
    assert encode(m) == data


def test_single_octet_ies_and_empty_ie():
    m = decode(h("08 02 00 01 05 A1 B3 A0 28 00"))
    # sending complete, congestion level 3, more data; an empty display counts as absent
    assert m.ies == [SendingComplete(), RawIE(0xB3, b"", 0, True), RawIE(0xA0, b"", 0, True)]


def test_call_reference_lengths():
    assert decode(h("08 00 7D")) == Message("STATUS", 0, False, [], 0)
    m = decode(h("08 01 85 05"))
    assert (m.cref, m.cref_flag, m.cref_len) == (5, True, 1)
    assert encode(m) == h("08 01 85 05")
    assert encode(Message("RELEASE", 0x1234, True)) == h("08 02 92 34 4D")


def test_unknown_message_type_decodes():
    m = decode(h("08 02 00 01 2A 08 02 80 90"))
    assert m.mtype == "UNKNOWN_0x2A" and m.ies == [Cause(value=16)]
    assert encode(m) == h("08 02 00 01 2A 08 02 80 90")


@pytest.mark.parametrize("octets,words,offset", [
    ("", "empty", 0),
    ("09 02 00 01 05", "protocol discriminator 0x09", 0),
    ("08", "no call reference length", 1),
    ("08 03 00 00 01 05", "call reference length 3", 1),
    ("08 0F 00 01 05", "call reference length 15", 1),
    ("08 12 00 01 05", "spare bits", 1),
    ("08 02 00", "call reference of 2 octets, 1 present", 3),
    ("08 02 00 01", "no message type", 4),
    ("08 02 00 01 85", "bit 8 set", 4),
    ("08 02 00 01 00", "escape", 4),
    ("08 02 00 01 05 04", "bearer capability: no length octet", 5),
    ("08 02 00 01 05 04 05 80 90", "bearer capability: length 5 runs past the end", 6),
    ("08 02 00 01 05 04 03 80 90 A3 70 09 81 31", "called party number: length 9 runs past", 11),
    ("08 02 00 01 05 04 01 80", "bearer capability: octet 4", 8),
    ("08 02 00 01 05 04 02 9F 90", "information transfer capability 0x1F", 7),
    ("08 02 00 01 05 04 03 80 90 BF", "layer 1 protocol 0x1F", 9),
    ("08 02 00 01 05 04 03 80 90 03", "not a layer 2/3 identification", 9),
    ("08 02 00 01 05 18 03 A9 84 81", "channel type 4", 8),
    ("08 02 00 01 05 18 03 A9 93 81", "slot map", 8),
    ("08 02 00 01 05 18 04 A9 83 01 82", "more than one channel", 9),
    ("08 02 00 01 05 18 01 A9", "octets 3.2/3.3", 8),
    ("08 02 00 01 05 18 01 AA", "reserved", 7),
    ("08 02 00 01 05 18 03 29 83 81", "extension bit", 7),
    ("08 02 00 01 05 18 04 A9 83 81 00", "unexpected octets", 10),
    ("08 02 00 01 05 70 03 81 31 B2", "not a printable IA5", 9),
    ("08 02 00 01 05 6C 01 01", "octet 3a", 8),
    ("08 02 00 01 45 08 01 80", "cause: octet 4", 8),
    ("08 02 00 01 45 08 02 80 10", "octet 4 extension bit", 8),
    ("08 02 00 01 7D 14 02 0A 0A", "call state: contents of 2 octets", 7),
    ("08 02 00 00 46 79 01 00", "restart indicator", 7),
    ("08 02 00 01 03 1E 01 80", "progress indicator: octet 4", 8),
])
def test_malformed_messages_name_the_problem_and_offset(octets, words, offset):
    with pytest.raises(SignallingError) as e:
        decode(h(octets))
    assert isinstance(e.value, MessageError)
    assert words in str(e.value)
    assert e.value.offset == offset
    assert "at octet %d" % offset in str(e.value)


def test_malformed_ie_keeps_the_header():
    with pytest.raises(MessageError) as e:
        decode(h("08 02 80 09 45 08 01 80"))
    assert e.value.header == Message("DISCONNECT", 9, True, [], 2)
    with pytest.raises(MessageError) as e:
        decode(h("08 02 00"))
    assert e.value.header is None


def test_decode_rejects_non_bytes():
    for bad in (None, "08 02", 42, [8, 2]):
        with pytest.raises(SignallingError, match="expected bytes"):
            decode(bad)


@pytest.mark.parametrize("msg,words", [
    (Message("HANGUP", 1), "message type 'HANGUP'"),
    (Message("SETUP", 0x8000), "call reference 32768 is outside 0..32767"),
    (Message("SETUP", 200, cref_len=1), "outside 0..127"),
    (Message("SETUP", 1, cref_len=3), "length 3"),
    (Message("SETUP", 1, ies=[CalledPartyNumber(digits="12a")]), "called party number"),
    (Message("SETUP", 1, ies=[CallingPartyNumber(digits="1", presentation=None)]), "go together"),
    (Message("SETUP", 1, ies=[ChannelId(channel=200)]), "channel number"),
    (Message("SETUP", 1, ies=[ChannelId(channel=1, any_channel=True)]), "together"),
    (Message("SETUP", 1, ies=[BearerCapability(capability="fax")]), "capability 'fax'"),
    (Message("SETUP", 1, ies=[BearerCapability(layer1="gsm")]), "layer 1 'gsm'"),
    (Message("SETUP", 1, ies=[Cause(value=300)]), "cause value"),
    (Message("SETUP", 1, ies=[Display(text="x" * 300)]), "at most 255"),
    (Message("SETUP", 1, ies=[Display(text="\u4e2d")]), "Latin-1"),
    (Message("SETUP", 1, ies=["not an IE"]), "not an information element"),
])
def test_encode_errors(msg, words):
    with pytest.raises(SignallingError) as e:
        encode(msg)
    assert words in str(e.value)


def test_fuzz_only_signalling_errors():
    rng = random.Random(931)
    seeds = [SETUP_BYTES, h("08 02 80 01 45 08 02 80 90"), h("08 02 00 00 46 18 03 A9 83 85 79 01 80"),
             h("08 02 00 2A 7D 08 02 80 9E 14 01 0A")]
    decoded = 0
    for i in range(2000):
        if i % 2:
            data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40)))
            if i % 3 == 0 and data:
                data = b"\x08\x02" + data       # get past the header more often
        else:
            data = bytearray(rng.choice(seeds))
            for _ in range(rng.randrange(1, 4)):
                op = rng.randrange(3)
                pos = rng.randrange(len(data) + 1)
                if op == 0 and data:
                    data[min(pos, len(data) - 1)] = rng.randrange(256)
                elif op == 1:
                    data[pos:pos] = bytes((rng.randrange(256),))
                else:
                    del data[pos:pos + rng.randrange(1, 4)]
            data = bytes(data)
        try:
            m = decode(data)
        except SignallingError:
            continue
        decoded += 1
        try:
            again = encode(m)
        except SignallingError:
            continue
        assert decode(again) == m
    assert decoded > 100       # the mutations reach the IE decoders, not just the header checks
