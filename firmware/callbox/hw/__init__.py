"""Hardware abstraction: spans (Line) and agents' seats (Seat), chosen by URL.

Nothing outside this package knows which backend it has. A backend is picked by
the URL scheme through a lazily imported registry (python-can style):

    open_line("sim://pairA/0")          simulated back-to-back span, box end
    open_line("raw:///dev/e1raw0")      raw bitstream device (see docs/hardware.md)
    open_seat("sim://seat/3")           simulated agent's phone
    open_seat("sip://1003", secret=...) SIP phone registering as user 1003

Each backend's __str__ shows its whole configuration, for logs and the console.
"""
import importlib
from urllib.parse import parse_qsl, urlsplit

from callbox.errors import LineInitError

LINE_BACKENDS = {
    "sim": "callbox.hw.sim:SimLine",
    "raw": "callbox.hw.raw:RawLine",
}
SEAT_BACKENDS = {
    "sim": "callbox.hw.sim:SimSeatPort",
    "sip": "callbox.sip.seat:SipSeatPort",
}


def parse_url(url):
    """Split a backend URL into (scheme, netloc, path, options dict).

    Raises:
        LineInitError: the URL has no scheme or a repeated option.
    """
    parts = urlsplit(url)
    if not parts.scheme:
        raise LineInitError("Opening %r: not a backend URL (expected scheme://...)" % url)
    opts = {}
    for k, v in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False):
        if k in opts:
            raise LineInitError("Opening %s: option %r given twice" % (url, k))
        opts[k] = v
    return parts.scheme, parts.netloc, parts.path, opts


def _load(registry, url, what):
    scheme = parse_url(url)[0]
    target = registry.get(scheme)
    if target is None:
        raise LineInitError("Opening %s %s: scheme %r not known (known: %s)"
                            % (what, url, scheme, ", ".join(sorted(registry))))
    mod, cls = target.split(":")
    return getattr(importlib.import_module(mod), cls)


def open_line(url, **kw):
    """Open a span's line backend by URL (see LINE_BACKENDS)."""
    return _load(LINE_BACKENDS, url, "span")(url, **kw)


def open_seat(url, **kw):
    """Open a seat backend by URL (see SEAT_BACKENDS)."""
    return _load(SEAT_BACKENDS, url, "seat")(url, **kw)
