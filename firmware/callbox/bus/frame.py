"""Bus framing and the versioned envelope.

A frame is a 4-byte big-endian length followed by one msgpack map:

    {"v": 1, "k": "req"|"resp"|"evt"|"err", "id": 17, "op": "span.status", "args": {...}}

* ``req``  carries ``id``, ``op`` and ``args`` (a map).
* ``resp`` carries the request's ``id``, ``op`` and ``data``.
* ``err``  carries ``id`` (or None when none could be read), ``op``, ``code`` and ``msg``.
* ``evt``  carries ``op`` (the topic, dotted) and ``data``; no ``id``.

The decoder takes untrusted bytes: sizes are capped, map keys must be strings,
and anything that does not fit the envelope raises BusProtocolError naming the
problem. After such an error the stream is out of step and the connection is
dropped (a msgpack Unpacker that failed cannot be reused either).
"""
import struct

import msgpack

from callbox.errors import BusProtocolError

VERSION = 1
KINDS = ("req", "resp", "evt", "err")
MAX_FRAME = 1 << 20          # 1 MiB: a 20 ms block of 8 spans of audio is ~41 kB
_LEN = struct.Struct(">I")


def encode(msg):
    """Encode one envelope map into a length-prefixed frame.

    Args:
        msg (dict): the envelope; "v" is filled in when missing.

    Returns:
        bytes: the frame.

    Raises:
        BusProtocolError: if the encoded message exceeds MAX_FRAME.
    """
    msg.setdefault("v", VERSION)
    body = msgpack.packb(msg, use_bin_type=True)
    if len(body) > MAX_FRAME:
        raise BusProtocolError("Encoding %s %s: frame of %d bytes exceeds the %d byte limit"
                               % (msg.get("k"), msg.get("op"), len(body), MAX_FRAME))
    return _LEN.pack(len(body)) + body


def request(mid, op, args=None):
    return encode({"k": "req", "id": mid, "op": op, "args": args or {}})


def response(mid, op, data=None):
    return encode({"k": "resp", "id": mid, "op": op, "data": data})


def error(mid, op, code, text):
    return encode({"k": "err", "id": mid, "op": op, "code": code, "msg": text})


def event(topic, data=None):
    return encode({"k": "evt", "op": topic, "data": data})


def check_envelope(msg):
    """Validate a decoded map against the envelope rules.

    Returns:
        dict: the same map.

    Raises:
        BusProtocolError: naming the first field that is wrong.
    """
    if not isinstance(msg, dict):
        raise BusProtocolError("Decoding frame: top level is %s, not a map" % type(msg).__name__)
    if msg.get("v") != VERSION:
        raise BusProtocolError("Decoding frame: version %r not supported (this side speaks %d)"
                               % (msg.get("v"), VERSION))
    kind = msg.get("k")
    if kind not in KINDS:
        raise BusProtocolError("Decoding frame: kind %r is not one of %s" % (kind, ", ".join(KINDS)))
    op = msg.get("op")
    if not isinstance(op, str) or not op or len(op) > 128:
        raise BusProtocolError("Decoding frame: op must be a non-empty string of at most 128 characters")
    if kind != "evt":
        mid = msg.get("id")
        if kind != "err" or mid is not None:
            if not isinstance(mid, int) or isinstance(mid, bool) or mid < 0:
                raise BusProtocolError("Decoding %s %s: id must be a non-negative integer" % (kind, op))
    if kind == "req" and not isinstance(msg.get("args", {}), dict):
        raise BusProtocolError("Decoding req %s: args must be a map" % op)
    return msg


class FrameDecoder:
    """Incremental decoder: feed() bytes, get complete envelopes back."""

    def __init__(self, max_frame=MAX_FRAME):
        self._buf = bytearray()
        self._max = max_frame

    def feed(self, data):
        """Add received bytes and return the complete messages they finish.

        Args:
            data (bytes): bytes read from the connection.

        Returns:
            list[dict]: validated envelopes, in order.

        Raises:
            BusProtocolError: on an oversize length, bad msgpack or a bad envelope.
        """
        self._buf += data
        out = []
        while len(self._buf) >= 4:
            (n,) = _LEN.unpack_from(self._buf, 0)
            if n > self._max or n == 0:
                raise BusProtocolError("Decoding frame: length %d outside 1..%d" % (n, self._max))
            if len(self._buf) < 4 + n:
                break
            body = bytes(self._buf[4:4 + n])
            del self._buf[:4 + n]
            try:
                msg = msgpack.unpackb(body, raw=False, strict_map_key=True)
            except Exception as e:  # msgpack raises several unrelated types
                raise BusProtocolError("Decoding frame: not valid msgpack (%s: %s)"
                                       % (type(e).__name__, e)) from None
            if isinstance(msg, dict):
                mid = msg.get("id")
                self.failed_id = mid if isinstance(mid, int) and not isinstance(mid, bool) else None
                self.failed_op = msg.get("op") if isinstance(msg.get("op"), str) else "?"
            out.append(check_envelope(msg))
            self.failed_id, self.failed_op = None, "?"
        return out

    failed_id = None     # id of the frame that failed to validate, when it could be read
    failed_op = "?"
