"""SIP messages (RFC 3261 section 7) and the SDP subset seats use (RFC 4566/3264).

Parsing is strict where a mistake would mislead us (start line, Content-Length,
CSeq, the headers every request must carry) and tolerant elsewhere (unknown
headers are kept as they are, header names are case-insensitive, compact forms
are expanded). Every problem raises :class:`SipParseError` with the status code
the request deserves (400 unless said otherwise) and a reason a phone can show.
"""
import re

from callbox.errors import CallboxError

MAX_MESSAGE = 65535
COMPACT = {"i": "Call-ID", "m": "Contact", "e": "Content-Encoding", "l": "Content-Length",
           "c": "Content-Type", "f": "From", "s": "Subject", "k": "Supported", "t": "To", "v": "Via"}
CANON = {n.lower(): n for n in ("Via", "From", "To", "Call-ID", "CSeq", "Contact", "Max-Forwards",
                                "Content-Length", "Content-Type", "Expires", "WWW-Authenticate",
                                "Authorization", "User-Agent", "Allow", "Supported", "Refer-To",
                                "Referred-By", "Warning", "Retry-After", "Event", "Accept", "Server")}
CANON["call-id"] = "Call-ID"
CANON["cseq"] = "CSeq"
CANON["www-authenticate"] = "WWW-Authenticate"
REQUIRED = ("Via", "From", "To", "Call-ID", "CSeq")
TOKEN_RE = re.compile(r"^[A-Za-z0-9.!%*_+`'~-]+$")
REASONS = {100: "Trying", 180: "Ringing", 200: "OK", 202: "Accepted", 400: "Bad Request",
           401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
           408: "Request Timeout", 413: "Request Entity Too Large", 415: "Unsupported Media Type",
           420: "Bad Extension", 423: "Interval Too Brief", 480: "Temporarily Unavailable",
           481: "Call/Transaction Does Not Exist", 482: "Loop Detected", 483: "Too Many Hops",
           486: "Busy Here", 487: "Request Terminated", 488: "Not Acceptable Here",
           491: "Request Pending", 500: "Server Internal Error", 501: "Not Implemented",
           503: "Service Unavailable", 505: "Version Not Supported", 603: "Decline"}


class SipParseError(CallboxError):
    """A SIP message we cannot use; ``code`` is the response a request deserves."""

    def __init__(self, text, code=400):
        super().__init__(text)
        self.code = code


def canon(name):
    n = name.strip()
    low = n.lower()
    if low in COMPACT:
        return COMPACT[low]
    return CANON.get(low) or "-".join(p[:1].upper() + p[1:].lower() for p in n.split("-"))


class Message:
    """A request (``method``, ``uri``) or a response (``status``, ``reason``)."""

    def __init__(self, method=None, uri=None, status=None, reason=None, headers=None, body=b""):
        self.method, self.uri, self.status, self.reason = method, uri, status, reason
        self.headers = list(headers or [])
        self.body = body or b""

    @property
    def is_request(self):
        return self.method is not None

    def get(self, name, default=None):
        n = canon(name)
        for k, v in self.headers:
            if k == n:
                return v
        return default

    def get_all(self, name):
        """Every value of a header, lists split at top-level commas (Via, Contact, ...)."""
        n = canon(name)
        out = []
        for k, v in self.headers:
            if k == n:
                out.extend(split_list(v) if n not in ("WWW-Authenticate", "Authorization") else [v])
        return out

    def set(self, name, value):
        n = canon(name)
        self.headers = [(k, v) for k, v in self.headers if k != n]
        self.headers.append((n, str(value)))

    def add(self, name, value, first=False):
        item = (canon(name), str(value))
        if first:
            self.headers.insert(0, item)
        else:
            self.headers.append(item)

    def remove(self, name):
        n = canon(name)
        self.headers = [(k, v) for k, v in self.headers if k != n]

    @property
    def call_id(self):
        return self.get("Call-ID")

    @property
    def cseq(self):
        """(number, method) from CSeq."""
        return parse_cseq(self.get("CSeq", ""))

    @property
    def branch(self):
        vias = self.get_all("Via")
        return parse_via(vias[0])["params"].get("branch", "") if vias else ""

    def to_bytes(self):
        if self.is_request:
            lines = ["%s %s SIP/2.0" % (self.method, self.uri)]
        else:
            lines = ["SIP/2.0 %d %s" % (self.status, self.reason or REASONS.get(self.status, "Unknown"))]
        for k, v in self.headers:
            if k != "Content-Length":
                lines.append("%s: %s" % (k, v))
        lines.append("Content-Length: %d" % len(self.body))
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body

    def __repr__(self):
        if self.is_request:
            return "<SIP %s %s cseq=%s>" % (self.method, self.uri, self.get("CSeq"))
        return "<SIP %d %s cseq=%s>" % (self.status, self.reason, self.get("CSeq"))


def split_list(value):
    """Split a header value at commas that are not inside quotes or <>."""
    out, cur, quote, angle = [], [], False, False
    for ch in value:
        if ch == '"' and not angle:
            quote = not quote
        elif ch == "<" and not quote:
            angle = True
        elif ch == ">" and not quote:
            angle = False
        if ch == "," and not quote and not angle:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return out


def head_length(data):
    """Index just past the blank line ending the headers, or -1 if it has not arrived."""
    i = data.find(b"\r\n\r\n")
    return -1 if i < 0 else i + 4


def parse(data, stream=False):
    """Parse one SIP message.

    Args:
        data (bytes): the datagram (UDP) or the bytes of one framed message (TCP).
        stream (bool): True for TCP/TLS, where Content-Length is mandatory.

    Raises:
        SipParseError: anything malformed, with the response code to send.
    """
    if len(data) > MAX_MESSAGE:
        raise SipParseError("message of %d bytes is larger than %d" % (len(data), MAX_MESSAGE), 413)
    end = head_length(data)
    if end < 0:
        # RFC 3261 7.5: a datagram may end its headers with a bare CRLF pair too
        if data.endswith(b"\r\n") and not stream:
            end = len(data)
        else:
            raise SipParseError("no blank line after the headers")
    try:
        head = data[:end].decode("utf-8")
    except UnicodeDecodeError:
        raise SipParseError("headers are not UTF-8") from None
    lines = head.split("\r\n")
    start, hdr_lines = lines[0], lines[1:]
    msg = _start_line(start)
    cur = None
    for ln in hdr_lines:
        if not ln:
            continue
        if ln[0] in " \t":
            if cur is None:
                raise SipParseError("continuation line before any header")
            cur[1] += " " + ln.strip()
            continue
        name, sep, value = ln.partition(":")
        if not sep or not name.strip() or not TOKEN_RE.match(name.strip()):
            raise SipParseError("bad header line %r" % ln[:60])
        cur = [canon(name), value.strip()]
        msg.headers.append(cur)
    msg.headers = [(k, v) for k, v in msg.headers]
    body = data[end:]
    cl = msg.get("Content-Length")
    if cl is None:
        if stream:
            raise SipParseError("Content-Length missing on a stream transport")
    else:
        if not cl.isdigit():
            raise SipParseError("Content-Length %r is not a number" % cl)
        n = int(cl)
        if n > len(body):
            raise SipParseError("body shorter (%d) than Content-Length (%d)" % (len(body), n))
        body = body[:n]
    msg.body = body
    for h in REQUIRED:
        if msg.get(h) is None:
            raise SipParseError("missing %s header" % h)
    num, method = msg.cseq
    if msg.is_request and method != msg.method:
        raise SipParseError("CSeq method %s does not match the request %s" % (method, msg.method))
    if msg.is_request:
        mf = msg.get("Max-Forwards")
        if mf is not None and (not mf.isdigit() or int(mf) > 255):
            raise SipParseError("Max-Forwards %r is not 0-255" % mf)
    return msg


def _start_line(start):
    parts = start.split(" ", 2)
    if start.startswith("SIP/"):
        if len(parts) < 2 or parts[0] != "SIP/2.0" or not parts[1].isdigit() or len(parts[1]) != 3:
            raise SipParseError("bad status line %r" % start[:60])
        return Message(status=int(parts[1]), reason=parts[2] if len(parts) > 2 else "")
    if len(parts) != 3 or not TOKEN_RE.match(parts[0]) or not parts[0].isupper():
        raise SipParseError("bad request line %r" % start[:60])
    if parts[2] != "SIP/2.0":
        raise SipParseError("SIP version %r not supported" % parts[2], 505)
    if not re.match(r"^sips?:[^\s]+$", parts[1]) and not re.match(r"^tel:[^\s]+$", parts[1]):
        raise SipParseError("Request-URI %r is not a sip: URI" % parts[1][:60], 416)
    return Message(method=parts[0], uri=parts[1])


def parse_cseq(value):
    m = re.match(r"^\s*(\d{1,10})\s+([A-Za-z]+)\s*$", value or "")
    if not m or int(m.group(1)) >= 2 ** 31:
        raise SipParseError("bad CSeq %r" % (value or "")[:40])
    return int(m.group(1)), m.group(2).upper()


def parse_params(s):
    out = {}
    for p in s.split(";"):
        p = p.strip()
        if not p:
            continue
        k, _, v = p.partition("=")
        out[k.strip().lower()] = v.strip().strip('"')
    return out


def parse_via(value):
    """``SIP/2.0/UDP host:port;branch=...`` → {"transport", "host", "port", "params"}."""
    m = re.match(r"^\s*SIP\s*/\s*2\.0\s*/\s*([A-Za-z]+)\s+([^;\s]+)\s*(;.*)?$", value)
    if not m:
        raise SipParseError("bad Via %r" % value[:60])
    host, port = split_hostport(m.group(2))
    return {"transport": m.group(1).upper(), "host": host, "port": port, "params": parse_params(m.group(3) or "")}


def split_hostport(hp):
    if hp.startswith("["):
        host, _, rest = hp[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = hp.partition(":")
    if port and not port.isdigit():
        raise SipParseError("bad port in %r" % hp[:60])
    return host, int(port) if port else None


def parse_addr(value):
    """Name-addr or addr-spec (From, To, Contact, Refer-To) → (display, uri, params)."""
    v = value.strip()
    if "<" in v:
        display, _, rest = v.partition("<")
        uri, sep, params = rest.partition(">")
        if not sep:
            raise SipParseError("unclosed <> in %r" % v[:60])
        return display.strip().strip('"'), uri.strip(), parse_params(params)
    uri, _, params = v.partition(";")
    return "", uri.strip(), parse_params(params)


def parse_uri(uri):
    """``sip:user@host:port;params`` → {"scheme", "user", "host", "port", "params"}."""
    m = re.match(r"^(sips?):(?:([^@;?]*)@)?([^;?]+)([^?]*)", uri or "")
    if not m:
        raise SipParseError("bad SIP URI %r" % (uri or "")[:60])
    user = m.group(2) or ""
    user = user.partition(":")[0]
    host, port = split_hostport(m.group(3))
    return {"scheme": m.group(1), "user": user, "host": host, "port": port, "params": parse_params(m.group(4))}


def tag_of(value):
    return parse_addr(value)[2].get("tag", "")


def response_to(req, status, reason=None, to_tag=None, body=b"", extra=()):
    """A response to ``req`` copying Via, From, To, Call-ID and CSeq (RFC 3261 8.2.6)."""
    resp = Message(status=status, reason=reason or REASONS.get(status, "Unknown"))
    for h in ("Via", "From", "To", "Call-ID", "CSeq"):
        for k, v in req.headers:
            if k == h:
                if h == "To" and to_tag and "tag=" not in v.replace(" ", ""):
                    v = "%s;tag=%s" % (v, to_tag)
                resp.headers.append((k, v))
    for k, v in extra:
        resp.add(k, v)
    resp.body = body
    return resp


# -- SDP -----------------------------------------------------------------------------------
STATIC_PT = {0: "PCMU", 8: "PCMA"}


def parse_sdp(body):
    """The first audio stream of an SDP body.

    Returns:
        dict: {"ip", "port", "codecs": {pt: name upper}, "events_pt", "direction", "crypto"}.

    Raises:
        SipParseError: not SDP, or no audio stream (488).
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise SipParseError("SDP is not UTF-8", 400) from None
    session_ip, media, direction, done = None, None, "sendrecv", False
    codecs, crypto = {}, []
    for ln in text.replace("\r\n", "\n").split("\n"):
        if len(ln) < 2 or ln[1] != "=":
            continue
        k, v = ln[0], ln[2:].strip()
        if k == "m":
            # only the first audio stream counts; later streams (video, ...) are ignored
            done = done or media is not None
            parts = v.split()
            if not done and len(parts) >= 4 and parts[0] == "audio" and parts[1].isdigit():
                media = {"port": int(parts[1]), "proto": parts[2],
                         "pts": [int(p) for p in parts[3:] if p.isdigit()], "ip": None}
            elif media is not None:
                done = True
            continue
        if done:
            continue
        if k == "c":
            parts = v.split()
            if len(parts) != 3 or parts[0] != "IN":
                raise SipParseError("bad SDP connection line %r" % ln[:60], 488)
            if media is None:
                session_ip = parts[2]
            else:
                media["ip"] = parts[2]
        elif k == "a":
            name, _, val = v.partition(":")
            if name == "rtpmap" and media is not None:
                pt, _, enc = val.partition(" ")
                if pt.isdigit():
                    codecs[int(pt)] = enc.split("/")[0].upper()
            elif name in ("sendrecv", "sendonly", "recvonly", "inactive"):
                direction = name
            elif name == "crypto" and media is not None:
                crypto.append(val)
    if not media:
        raise SipParseError("SDP has no audio stream", 488)
    names = {pt: codecs.get(pt, STATIC_PT.get(pt, "")) for pt in media["pts"]}
    events = [pt for pt, n in names.items() if n == "TELEPHONE-EVENT"]
    ip = media["ip"] or session_ip
    if ip is None:
        raise SipParseError("SDP has no connection address", 488)
    if ip == "0.0.0.0":
        direction = "inactive"  # RFC 2543 style hold
    return {"ip": ip, "port": media["port"], "proto": media["proto"], "pts": media["pts"],
            "codecs": names, "events_pt": events[0] if events else None, "direction": direction,
            "crypto": crypto}


def build_sdp(ip, port, session_id, version, pts, events_pt=101, direction="sendrecv", crypto=None):
    """An SDP offer/answer for one G.711 audio stream at 20 ms packets; with ``crypto`` (an
    a=crypto value) the stream is RTP/SAVP (SRTP, SDES keys)."""
    fmts = list(pts) + ([events_pt] if events_pt is not None else [])
    lines = ["v=0", "o=callbox %d %d IN IP4 %s" % (session_id, version, ip), "s=CallBox",
             "c=IN IP4 %s" % ip, "t=0 0", "m=audio %d RTP/%s %s" % (port, "SAVP" if crypto else "AVP",
                                                                     " ".join(map(str, fmts)))]
    if crypto:
        lines.append("a=crypto:" + crypto)
    for pt in pts:
        lines.append("a=rtpmap:%d %s/8000" % (pt, STATIC_PT[pt]))
    if events_pt is not None:
        lines.append("a=rtpmap:%d telephone-event/8000" % events_pt)
        lines.append("a=fmtp:%d 0-15" % events_pt)
    lines.append("a=ptime:20")
    lines.append("a=" + direction)
    return ("\r\n".join(lines) + "\r\n").encode()
