"""Q.931 message codec (DSS1 / ETSI EN 300 403 basic call, PRI).

Design notes
------------
A message is: protocol discriminator 0x08 | call reference length (0..2 on
PRI) | call reference value, whose first octet's bit 8 is the flag (0 in
messages from the side that allocated the CRV, 1 towards it) | message type |
information elements (Q.931 4.1-4.5).

``decode`` checks the framing strictly and names the first problem with its
octet offset (``MessageError``, a SignallingError). If the header could be
read, the error carries it (``err.header``) so call control can still answer
(STATUS / RELEASE COMPLETE cause 100). An unknown message type is not a
framing error: it decodes to ``mtype`` "UNKNOWN_0xNN" and call control answers
it (cause 98).

IEs: single-octet ones have bit 8 set (Q.931 4.5.1); the rest are id, length,
contents. The codeset shift IE (0x9n) is honoured: IEs after a locking shift,
or the one after a non-locking shift, belong to another codeset and are kept
raw, as are codeset 0 IEs this module does not know. Known IEs decode to the
dataclasses below; each keeps enough to re-encode what it read. An empty
variable-length IE counts as absent (Q.931 4.5.1). IEs are encoded in the order
given; call control builds them in ascending identifier order.
"""
from dataclasses import dataclass, field
from typing import ClassVar, List, Optional

from callbox.errors import SignallingError

PROTOCOL_DISCRIMINATOR = 0x08     # Q.931 4.2: Q.931 user-network call control

# Q.931 4.4 Table 4-2 (the basic call subset a PRI sees).
MESSAGE_TYPES = {
    "ALERTING": 0x01,
    "CALL_PROCEEDING": 0x02,
    "PROGRESS": 0x03,
    "SETUP": 0x05,
    "CONNECT": 0x07,
    "SETUP_ACKNOWLEDGE": 0x0D,
    "CONNECT_ACKNOWLEDGE": 0x0F,
    "DISCONNECT": 0x45,
    "RESTART": 0x46,
    "RELEASE": 0x4D,
    "RESTART_ACKNOWLEDGE": 0x4E,
    "RELEASE_COMPLETE": 0x5A,
    "FACILITY": 0x62,
    "NOTIFY": 0x6E,
    "STATUS_ENQUIRY": 0x75,
    "INFORMATION": 0x7B,
    "STATUS": 0x7D,
}
_TYPE_NAMES = {code: name for name, code in MESSAGE_TYPES.items()}

# Q.850 cause values (the ones a PRI box meets), for logs and consoles.
CAUSE_NAMES = {
    1: "unallocated number",
    2: "no route to specified transit network",
    3: "no route to destination",
    6: "channel unacceptable",
    16: "normal call clearing",
    17: "user busy",
    18: "no user responding",
    19: "no answer from user",
    21: "call rejected",
    22: "number changed",
    27: "destination out of order",
    28: "invalid number format",
    29: "facility rejected",
    30: "response to STATUS ENQUIRY",
    31: "normal, unspecified",
    34: "no circuit/channel available",
    38: "network out of order",
    41: "temporary failure",
    42: "switching equipment congestion",
    44: "requested circuit/channel not available",
    47: "resource unavailable, unspecified",
    58: "bearer capability not presently available",
    65: "bearer capability not implemented",
    81: "invalid call reference value",
    88: "incompatible destination",
    96: "mandatory information element is missing",
    97: "message type non-existent or not implemented",
    98: "message not compatible with call state or message type non-existent",
    99: "information element non-existent or not implemented",
    100: "invalid information element contents",
    101: "message not compatible with call state",
    102: "recovery on timer expiry",
    111: "protocol error, unspecified",
    127: "interworking, unspecified",
}

# Q.850 2.2.5 location codes.
LOCATIONS = {0: "user", 1: "private network serving the local user", 2: "public network serving the local user",
             3: "transit network", 4: "public network serving the remote user",
             5: "private network serving the remote user", 7: "international network",
             10: "network beyond interworking point"}


def cause_name(value):
    """Returns:
        str: the Q.850 name of a cause value ("cause 77" if not in the table).
    """
    return CAUSE_NAMES.get(value, "cause %s" % value)


class MessageError(SignallingError):
    """A Q.931 message could not be decoded.

    Attributes:
        offset (int): octet offset of the problem in the message.
        header (Message or None): the message header (type, call reference, no IEs) when it was readable.
    """

    def __init__(self, text, offset, header=None):
        super().__init__("Decoding Q.931 message: %s at octet %d" % (text, offset))
        self.offset = offset
        self.header = header


class _IEError(Exception):
    """Raised inside an IE decoder; turned into MessageError with the IE named."""

    def __init__(self, text, offset):
        super().__init__(text)
        self.text = text
        self.offset = offset


def _digits_from(data, off):
    for i, b in enumerate(data):
        if b & 0x80 or b < 0x20:
            raise _IEError("digit octet 0x%02X is not a printable IA5 character" % b, off + i)
    return data.decode("ascii")


def _digits_to(digits, what):
    if not isinstance(digits, str) or any(c not in "0123456789*#" for c in digits):
        raise SignallingError("Encoding %s: %r must be digits 0-9 * #" % (what, digits))
    return digits.encode("ascii")


def _need(data, n, off, what):
    if len(data) < n:
        raise _IEError("%s missing (contents are %d octets)" % (what, len(data)), off + len(data))


def _check_range(value, lo, hi, what):
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise SignallingError("Encoding %s: %r is not an integer in %d..%d" % (what, value, lo, hi))


class IE:
    """Base of the information element classes (codeset 0)."""
    ID: ClassVar[int] = -1
    NAME: ClassVar[str] = ""

    def encode_contents(self):
        raise NotImplementedError

    @classmethod
    def decode_contents(cls, data, off):
        raise NotImplementedError


@dataclass
class RawIE(IE):
    """An IE kept as octets: unknown id, another codeset, or a single-octet IE without its own class.

    Fields:
        id (int): identifier octet (the whole octet for single-octet IEs).
        data (bytes): contents (empty for single-octet IEs).
        codeset (int): codeset the IE belongs to.
        single (bool): single-octet format.
    """
    id: int
    data: bytes = b""
    codeset: int = 0
    single: bool = False

    def encode_contents(self):
        return bytes(self.data)


@dataclass
class SendingComplete(IE):
    """Sending complete (single octet 0xA1): the called number is complete (en-bloc)."""
    ID: ClassVar[int] = 0xA1
    NAME: ClassVar[str] = "sending complete"


@dataclass
class BearerCapability(IE):
    """Bearer capability (0x04), Q.931 4.5.5.

    Fields:
        capability (str): "speech", "3.1khz", "unrestricted", "restricted", "7khz", "video".
        layer1 (str or None): user information layer 1: "alaw", "ulaw", "v110", ...; None if absent.
        coding (int): coding standard (0 = ITU-T).
        mode (int): transfer mode (0 = circuit).
        rate (int): information transfer rate code (0x10 = 64 kbit/s, 0x18 = multirate).
        multiplier (int or None): rate multiplier (octet 4.1, only with rate 0x18).
        layer1_params (bytes): octets 5a.. as received (rate adaption etc.).
        tail (bytes): octet groups 6 and 7 (layer 2/3 protocols) as received.
    """
    ID: ClassVar[int] = 0x04
    NAME: ClassVar[str] = "bearer capability"
    CAPABILITIES: ClassVar[dict] = {0x00: "speech", 0x08: "unrestricted", 0x09: "restricted",
                                    0x10: "3.1khz", 0x11: "7khz", 0x18: "video"}
    LAYER1: ClassVar[dict] = {0x01: "v110", 0x02: "ulaw", 0x03: "alaw", 0x04: "g721", 0x05: "h221",
                              0x06: "h223", 0x07: "nonstd", 0x08: "v120", 0x09: "x31"}

    capability: str = "speech"
    layer1: Optional[str] = "alaw"
    coding: int = 0
    mode: int = 0
    rate: int = 0x10
    multiplier: Optional[int] = None
    layer1_params: bytes = b""
    tail: bytes = b""

    def encode_contents(self):
        caps = {v: k for k, v in self.CAPABILITIES.items()}
        l1s = {v: k for k, v in self.LAYER1.items()}
        if self.capability not in caps:
            raise SignallingError("Encoding bearer capability: capability %r is not one of: %s"
                                  % (self.capability, ", ".join(caps)))
        _check_range(self.coding, 0, 3, "bearer capability coding standard")
        _check_range(self.mode, 0, 3, "bearer capability transfer mode")
        _check_range(self.rate, 0, 31, "bearer capability transfer rate")
        out = bytearray((0x80 | self.coding << 5 | caps[self.capability], 0x80 | self.mode << 5 | self.rate))
        if self.rate == 0x18:
            _check_range(self.multiplier, 1, 127, "bearer capability rate multiplier")
            out.append(0x80 | self.multiplier)
        if self.layer1 is not None:
            if self.layer1 not in l1s:
                raise SignallingError("Encoding bearer capability: layer 1 %r is not one of: %s"
                                      % (self.layer1, ", ".join(l1s)))
            out.append((0x20 | l1s[self.layer1]) | (0 if self.layer1_params else 0x80))
            out += self.layer1_params
        elif self.layer1_params:
            raise SignallingError("Encoding bearer capability: layer1_params without layer1")
        return bytes(out + self.tail)

    @classmethod
    def decode_contents(cls, data, off):
        _need(data, 2, off, "octet 4 (transfer mode and rate)")
        o3 = data[0]
        if not o3 & 0x80:
            raise _IEError("octet 3 extension bit is 0 (octet 3a is not defined)", off)
        cap = cls.CAPABILITIES.get(o3 & 0x1F)
        if cap is None:
            raise _IEError("unknown information transfer capability 0x%02X" % (o3 & 0x1F), off)
        o4 = data[1]
        ie = cls(capability=cap, layer1=None, coding=(o3 >> 5) & 3, mode=(o4 >> 5) & 3, rate=o4 & 0x1F)
        i = 2
        if not o4 & 0x80:                      # octets 4a/4b (packet mode): skip to the end of the group
            while i < len(data) and not data[i - 1] & 0x80:
                i += 1
        if ie.rate == 0x18:
            _need(data, i + 1, off, "octet 4.1 (rate multiplier)")
            ie.multiplier = data[i] & 0x7F
            i += 1
        if i < len(data) and (data[i] >> 5) & 3 == 1:   # octet 5: layer 1 identification 01
            o5 = data[i]
            l1 = cls.LAYER1.get(o5 & 0x1F)
            if l1 is None:
                raise _IEError("unknown user information layer 1 protocol 0x%02X" % (o5 & 0x1F), off + i)
            ie.layer1 = l1
            j = i + 1
            if not o5 & 0x80:
                while j < len(data) and not data[j] & 0x80:
                    j += 1
                if j >= len(data):
                    raise _IEError("octets 5a.. not terminated (extension bit)", off + j)
                j += 1
            ie.layer1_params = bytes(data[i + 1:j])
            i = j
        if i < len(data) and (data[i] >> 5) & 3 not in (2, 3):
            raise _IEError("octet 0x%02X is not a layer 2/3 identification" % data[i], off + i)
        ie.tail = bytes(data[i:])
        return ie


@dataclass
class ChannelId(IE):
    """Channel identification (0x18), Q.931 4.5.13.

    Fields:
        channel (int or None): B-channel number (PRI: E1 timeslot 1..15, 17..31); None for no/any channel.
        exclusive (bool): exclusive (True) or preferred.
        any_channel (bool): "any channel" (only with channel None).
        pri (bool): primary rate interface type (False: basic rate, channel 1/2).
        dchan (bool): D-channel indicator.
        interface (int or None): explicit interface identifier.
    """
    ID: ClassVar[int] = 0x18
    NAME: ClassVar[str] = "channel identification"

    channel: Optional[int] = None
    exclusive: bool = True
    any_channel: bool = False
    pri: bool = True
    dchan: bool = False
    interface: Optional[int] = None

    def encode_contents(self):
        if self.channel is not None and self.any_channel:
            raise SignallingError("Encoding channel identification: a channel number and 'any channel' together")
        o3 = 0x80 | (0x20 if self.pri else 0) | (0x08 if self.exclusive else 0) | (0x04 if self.dchan else 0)
        if self.interface is not None:
            _check_range(self.interface, 0, 127, "channel identification interface")
            o3 |= 0x40
        if self.pri:
            sel = 1 if self.channel is not None else (3 if self.any_channel else 0)
        else:
            if self.channel is not None:
                _check_range(self.channel, 1, 2, "channel identification basic-rate channel")
            sel = self.channel if self.channel is not None else (3 if self.any_channel else 0)
        out = bytearray((o3 | sel,))
        if self.interface is not None:
            out.append(0x80 | self.interface)
        if self.pri and self.channel is not None:
            _check_range(self.channel, 1, 127, "channel identification channel number")
            out += bytes((0x83, 0x80 | self.channel))      # ITU coding, number, B-channel units
        return bytes(out)

    @classmethod
    def decode_contents(cls, data, off):
        o3 = data[0]
        if not o3 & 0x80:
            raise _IEError("octet 3 extension bit is 0", off)
        ie = cls(exclusive=bool(o3 & 0x08), pri=bool(o3 & 0x20), dchan=bool(o3 & 0x04))
        sel = o3 & 0x03
        i = 1
        if o3 & 0x40:
            _need(data, 2, off, "octet 3.1 (interface identifier)")
            if not data[1] & 0x80:
                raise _IEError("multi-octet interface identifier not supported", off + 1)
            ie.interface = data[1] & 0x7F
            i = 2
        if not ie.pri:
            ie.channel = sel if sel in (1, 2) else None
            ie.any_channel = sel == 3
        elif sel == 1:
            _need(data, i + 2, off, "octets 3.2/3.3 (channel type, number)")
            o32 = data[i]
            if not o32 & 0x80 or (o32 >> 5) & 3 != 0:
                raise _IEError("octet 3.2 0x%02X: only ITU-T coding is supported" % o32, off + i)
            if o32 & 0x10:
                raise _IEError("slot map channel indication not supported", off + i)
            if o32 & 0x0F != 0x03:
                raise _IEError("channel type %d not supported (B-channel units only)" % (o32 & 0x0F), off + i)
            if not data[i + 1] & 0x80:
                raise _IEError("more than one channel number not supported", off + i + 1)
            ie.channel = data[i + 1] & 0x7F
            i += 2
        elif sel == 3:
            ie.any_channel = True
        elif sel == 2:
            raise _IEError("information channel selection 2 is reserved on a primary rate interface", off)
        if i != len(data):
            raise _IEError("%d unexpected octets after the channel" % (len(data) - i), off + i)
        return ie


@dataclass
class CalledPartyNumber(IE):
    """Called party number (0x70), Q.931 4.5.8.

    Fields:
        digits (str): IA5 digits.
        ton (int): type of number (0 unknown, 1 international, 2 national, 4 subscriber).
        npi (int): numbering plan (0 unknown, 1 ISDN/E.164, 9 private).
    """
    ID: ClassVar[int] = 0x70
    NAME: ClassVar[str] = "called party number"

    digits: str = ""
    ton: int = 0
    npi: int = 1

    def encode_contents(self):
        _check_range(self.ton, 0, 7, "called party number type of number")
        _check_range(self.npi, 0, 15, "called party number numbering plan")
        return bytes((0x80 | self.ton << 4 | self.npi,)) + _digits_to(self.digits, "called party number")

    @classmethod
    def decode_contents(cls, data, off):
        o3 = data[0]
        if not o3 & 0x80:
            raise _IEError("octet 3 extension bit is 0", off)
        return cls(digits=_digits_from(data[1:], off + 1), ton=(o3 >> 4) & 7, npi=o3 & 0x0F)


@dataclass
class CallingPartyNumber(IE):
    """Calling party number (0x6C), Q.931 4.5.10.

    Fields:
        digits (str): IA5 digits.
        ton (int), npi (int): as for CalledPartyNumber.
        presentation (int or None): 0 allowed, 1 restricted, 2 not available; None = octet 3a absent.
        screening (int or None): 0 user-provided not screened, 1 passed, 2 failed, 3 network provided.
    """
    ID: ClassVar[int] = 0x6C
    NAME: ClassVar[str] = "calling party number"

    digits: str = ""
    ton: int = 0
    npi: int = 1
    presentation: Optional[int] = 0
    screening: Optional[int] = 0

    def encode_contents(self):
        _check_range(self.ton, 0, 7, "calling party number type of number")
        _check_range(self.npi, 0, 15, "calling party number numbering plan")
        if (self.presentation is None) != (self.screening is None):
            raise SignallingError("Encoding calling party number: presentation and screening go together")
        digits = _digits_to(self.digits, "calling party number")
        if self.presentation is None:
            return bytes((0x80 | self.ton << 4 | self.npi,)) + digits
        _check_range(self.presentation, 0, 3, "calling party number presentation")
        _check_range(self.screening, 0, 3, "calling party number screening")
        return bytes((self.ton << 4 | self.npi, 0x80 | self.presentation << 5 | self.screening)) + digits

    @classmethod
    def decode_contents(cls, data, off):
        o3 = data[0]
        ie = cls(ton=(o3 >> 4) & 7, npi=o3 & 0x0F, presentation=None, screening=None)
        i = 1
        if not o3 & 0x80:
            _need(data, 2, off, "octet 3a (presentation, screening)")
            if not data[1] & 0x80:
                raise _IEError("octet 3a extension bit is 0", off + 1)
            ie.presentation = (data[1] >> 5) & 3
            ie.screening = data[1] & 3
            i = 2
        ie.digits = _digits_from(data[i:], off + i)
        return ie


@dataclass
class Cause(IE):
    """Cause (0x08), Q.931 4.5.12 / Q.850.

    Fields:
        value (int): cause value (16 normal clearing, 17 busy, ...; ``CAUSE_NAMES``).
        location (int): 0 user, 1 private local, 2 public local, ... (``LOCATIONS``).
        coding (int): coding standard (0 ITU-T).
        recommendation (int or None): octet 3a, if present.
        diagnostics (bytes): diagnostic octets.
    """
    ID: ClassVar[int] = 0x08
    NAME: ClassVar[str] = "cause"

    value: int = 16
    location: int = 0
    coding: int = 0
    recommendation: Optional[int] = None
    diagnostics: bytes = b""

    @property
    def name(self):
        """str: the Q.850 name of the value."""
        return cause_name(self.value)

    def encode_contents(self):
        _check_range(self.value, 0, 127, "cause value")
        _check_range(self.location, 0, 15, "cause location")
        _check_range(self.coding, 0, 3, "cause coding standard")
        if self.recommendation is None:
            out = bytearray((0x80 | self.coding << 5 | self.location,))
        else:
            _check_range(self.recommendation, 0, 127, "cause recommendation")
            out = bytearray((self.coding << 5 | self.location, 0x80 | self.recommendation))
        out.append(0x80 | self.value)
        return bytes(out + self.diagnostics)

    @classmethod
    def decode_contents(cls, data, off):
        _need(data, 2, off, "octet 4 (cause value)")
        o3 = data[0]
        ie = cls(coding=(o3 >> 5) & 3, location=o3 & 0x0F)
        i = 1
        if not o3 & 0x80:
            ie.recommendation = data[1] & 0x7F
            i = 2
            _need(data, 3, off, "octet 4 (cause value)")
        if not data[i] & 0x80:
            raise _IEError("octet 4 extension bit is 0", off + i)
        ie.value = data[i] & 0x7F
        ie.diagnostics = bytes(data[i + 1:])
        return ie


@dataclass
class ProgressIndicator(IE):
    """Progress indicator (0x1E), Q.931 4.5.23.

    Fields:
        description (int): 1 not end-to-end ISDN, 2 destination non-ISDN, 3 origination non-ISDN,
            8 in-band information available.
        location (int): as for Cause.
        coding (int): coding standard.
    """
    ID: ClassVar[int] = 0x1E
    NAME: ClassVar[str] = "progress indicator"

    description: int = 8
    location: int = 0
    coding: int = 0

    def encode_contents(self):
        _check_range(self.description, 0, 127, "progress description")
        _check_range(self.location, 0, 15, "progress location")
        _check_range(self.coding, 0, 3, "progress coding standard")
        return bytes((0x80 | self.coding << 5 | self.location, 0x80 | self.description))

    @classmethod
    def decode_contents(cls, data, off):
        _need(data, 2, off, "octet 4 (progress description)")
        if not data[0] & 0x80 or not data[1] & 0x80:
            raise _IEError("extension bit is 0", off + (0 if not data[0] & 0x80 else 1))
        if len(data) != 2:
            raise _IEError("%d unexpected octets" % (len(data) - 2), off + 2)
        return cls(description=data[1] & 0x7F, location=data[0] & 0x0F, coding=(data[0] >> 5) & 3)


@dataclass
class CallState(IE):
    """Call state (0x14), Q.931 4.5.7: the Q.931 state number (U/N 0..25).

    Fields:
        value (int): state number.
        coding (int): coding standard.
    """
    ID: ClassVar[int] = 0x14
    NAME: ClassVar[str] = "call state"

    value: int = 0
    coding: int = 0

    def encode_contents(self):
        _check_range(self.value, 0, 63, "call state value")
        _check_range(self.coding, 0, 3, "call state coding standard")
        return bytes((self.coding << 6 | self.value,))

    @classmethod
    def decode_contents(cls, data, off):
        if len(data) != 1:
            raise _IEError("contents of %d octets (must be 1)" % len(data), off)
        return cls(value=data[0] & 0x3F, coding=data[0] >> 6)


@dataclass
class Display(IE):
    """Display (0x28), Q.931 4.5.16.

    Fields:
        text (str): the display text (IA5; decoded as Latin-1 so no octet is refused).
        charset (int or None): a leading character-set octet (bit 8 set), as some networks send.
    """
    ID: ClassVar[int] = 0x28
    NAME: ClassVar[str] = "display"

    text: str = ""
    charset: Optional[int] = None

    def encode_contents(self):
        try:
            text = self.text.encode("latin-1")
        except (UnicodeEncodeError, AttributeError):
            raise SignallingError("Encoding display: %r is not Latin-1 text" % (self.text,)) from None
        if self.charset is None:
            return text
        _check_range(self.charset, 0x80, 0xFF, "display character set octet")
        return bytes((self.charset,)) + text

    @classmethod
    def decode_contents(cls, data, off):
        if data[0] & 0x80:
            return cls(text=data[1:].decode("latin-1"), charset=data[0])
        return cls(text=data.decode("latin-1"))


@dataclass
class RestartIndicator(IE):
    """Restart indicator (0x79), Q.931 4.5.25.

    Fields:
        restart_class (int): 0 indicated channels, 6 single interface, 7 all interfaces.
    """
    ID: ClassVar[int] = 0x79
    NAME: ClassVar[str] = "restart indicator"

    restart_class: int = 0

    def encode_contents(self):
        _check_range(self.restart_class, 0, 7, "restart class")
        return bytes((0x80 | self.restart_class,))

    @classmethod
    def decode_contents(cls, data, off):
        if len(data) != 1 or not data[0] & 0x80:
            raise _IEError("must be one octet with the extension bit set", off)
        return cls(restart_class=data[0] & 0x07)


IE_CLASSES = {c.ID: c for c in (BearerCapability, ChannelId, CalledPartyNumber, CallingPartyNumber, Cause,
                                ProgressIndicator, CallState, Display, RestartIndicator)}
_IE_NAMES = {0x1C: "facility", 0x27: "notification indicator", 0x2C: "keypad facility", 0x34: "signal",
             0x6D: "calling party subaddress", 0x71: "called party subaddress", 0x7C: "low layer compatibility",
             0x7D: "high layer compatibility", 0x7E: "user-user"}
_IE_NAMES.update({c.ID: c.NAME for c in IE_CLASSES.values()})


def ie_name(ie_id):
    """Returns:
        str: the name of a codeset 0 IE identifier ("IE 0xNN" if unknown).
    """
    return _IE_NAMES.get(ie_id, "IE 0x%02X" % ie_id)


@dataclass
class Message:
    """One Q.931 message.

    Fields:
        mtype (str): message type name ("SETUP", "CALL_PROCEEDING", ...; "UNKNOWN_0xNN" if not in the table).
        cref (int): call reference value (0 = global).
        cref_flag (bool): the call reference flag: False from the side that allocated the CRV.
        ies (list): IE objects, in order.
        cref_len (int): call reference length in octets (2 on PRI; 0 = dummy).
    """
    mtype: str
    cref: int = 0
    cref_flag: bool = False
    ies: List[IE] = field(default_factory=list)
    cref_len: int = 2

    def get(self, cls):
        """Returns:
            the first IE of class ``cls``, or None.
        """
        for ie in self.ies:
            if type(ie) is cls:
                return ie
        return None

    def get_all(self, cls):
        """Returns:
            list: every IE of class ``cls``, in order.
        """
        return [ie for ie in self.ies if type(ie) is cls]


def message_type_code(mtype):
    """Args:
        mtype (str): a name from MESSAGE_TYPES or "UNKNOWN_0xNN".

    Returns:
        int: the message type octet.

    Raises:
        SignallingError: not a known name.
    """
    if mtype in MESSAGE_TYPES:
        return MESSAGE_TYPES[mtype]
    if isinstance(mtype, str) and mtype.startswith("UNKNOWN_0x"):
        try:
            code = int(mtype[10:], 16)
        except ValueError:
            code = -1
        if 0 < code < 0x80:
            return code
    raise SignallingError("Encoding Q.931 message: message type %r is not one of: %s"
                          % (mtype, ", ".join(MESSAGE_TYPES)))


def encode(msg):
    """Encode a message.

    Args:
        msg (Message): the message.

    Returns:
        bytes: the octets for an I frame.

    Raises:
        SignallingError: unknown message type, call reference out of range for its length, an IE that
            cannot be encoded or is longer than 255 octets.
    """
    code = message_type_code(msg.mtype)
    if msg.cref_len not in (0, 1, 2):
        raise SignallingError("Encoding %s: call reference length %r is not 0, 1 or 2" % (msg.mtype, msg.cref_len))
    limit = (0, 0x7F, 0x7FFF)[msg.cref_len]
    if isinstance(msg.cref, bool) or not isinstance(msg.cref, int) or not 0 <= msg.cref <= limit:
        raise SignallingError("Encoding %s: call reference %r is outside 0..%d for length %d"
                              % (msg.mtype, msg.cref, limit, msg.cref_len))
    out = bytearray((PROTOCOL_DISCRIMINATOR, msg.cref_len))
    if msg.cref_len:
        cr = bytearray(msg.cref.to_bytes(msg.cref_len, "big"))
        if msg.cref_flag:
            cr[0] |= 0x80
        out += cr
    out.append(code)
    for ie in msg.ies:
        if isinstance(ie, SendingComplete):
            out.append(SendingComplete.ID)
            continue
        if isinstance(ie, RawIE) and ie.single:
            _check_range(ie.id, 0x80, 0xFF, "single-octet IE identifier")
            out.append(ie.id)
            continue
        if isinstance(ie, RawIE):
            _check_range(ie.id, 0, 0x7F, "IE identifier")
            ie_id = ie.id
        elif isinstance(ie, IE) and ie.ID >= 0:
            ie_id = ie.ID
        else:
            raise SignallingError("Encoding %s: %r is not an information element" % (msg.mtype, ie))
        body = ie.encode_contents()
        if len(body) > 255:
            raise SignallingError("Encoding %s: %s is %d octets (at most 255)" % (msg.mtype, ie_name(ie_id), len(body)))
        out += bytes((ie_id, len(body))) + body
    return bytes(out)


def decode(data):
    """Decode a message.

    Args:
        data (bytes): the information field of an I frame.

    Returns:
        Message: the message (unknown message types as "UNKNOWN_0xNN", unknown IEs as RawIE).

    Raises:
        MessageError (a SignallingError): what is wrong and its octet offset: truncated header, bad protocol
            discriminator, call reference length over 2, reserved message type, an IE running past the end,
            invalid IE contents.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise MessageError("expected bytes, got %s" % type(data).__name__, 0)
    data = bytes(data)
    n = len(data)
    if n < 1:
        raise MessageError("truncated header: empty message, no protocol discriminator", 0)
    if data[0] != PROTOCOL_DISCRIMINATOR:
        raise MessageError("bad protocol discriminator 0x%02X (Q.931 is 0x08)" % data[0], 0)
    if n < 2:
        raise MessageError("truncated header: no call reference length", 1)
    if data[1] & 0xF0:
        raise MessageError("call reference length octet 0x%02X has spare bits set" % data[1], 1)
    crlen = data[1]
    if crlen > 2:
        raise MessageError("call reference length %d (at most 2 on a primary rate interface)" % crlen, 1)
    if n < 2 + crlen:
        raise MessageError("truncated header: call reference of %d octets, %d present" % (crlen, n - 2), n)
    cref, flag = 0, False
    if crlen:
        flag = bool(data[2] & 0x80)
        cref = int.from_bytes(bytes((data[2] & 0x7F,)) + data[3:2 + crlen], "big")
    i = 2 + crlen
    if n <= i:
        raise MessageError("truncated header: no message type", i)
    mt = data[i]
    if mt & 0x80:
        raise MessageError("message type 0x%02X has bit 8 set (reserved)" % mt, i)
    if mt == 0:
        raise MessageError("escape to nationally specific message types is not supported", i)
    header = Message(_TYPE_NAMES.get(mt, "UNKNOWN_0x%02X" % mt), cref, flag, [], crlen)
    msg = Message(header.mtype, cref, flag, [], crlen)
    i += 1
    locked, once = 0, None
    while i < n:
        octet = data[i]
        codeset = locked if once is None else once
        once = None
        if octet & 0x80:                                   # single-octet IE
            if octet & 0xF0 == 0x90:                       # shift: bit 4 = non-locking
                if octet & 0x08:
                    once = octet & 0x07
                else:
                    locked = octet & 0x07
                msg.ies.append(RawIE(octet, b"", codeset, True))
            elif octet == SendingComplete.ID and codeset == 0:
                msg.ies.append(SendingComplete())
            else:
                msg.ies.append(RawIE(octet, b"", codeset, True))
            i += 1
            continue
        name = ie_name(octet) if codeset == 0 else "codeset %d IE 0x%02X" % (codeset, octet)
        if i + 1 >= n:
            raise MessageError("%s: no length octet" % name, i, header)
        length = data[i + 1]
        start = i + 2
        if start + length > n:
            raise MessageError("%s: length %d runs past the end of the message (%d octets left)"
                               % (name, length, n - start), i + 1, header)
        body = data[start:start + length]
        cls = IE_CLASSES.get(octet) if codeset == 0 else None
        if cls is None:
            msg.ies.append(RawIE(octet, body, codeset))
        elif length:                                        # an empty IE counts as absent
            try:
                msg.ies.append(cls.decode_contents(body, start))
            except _IEError as e:
                raise MessageError("%s: %s" % (name, e.text), e.offset, header) from None
        i = start + length
    return msg
