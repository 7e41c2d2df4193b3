"""Raw bitstream device backend: ``raw:///dev/e1raw0``.

The documented hardware interface (docs/hardware.md): a character device that
delivers the received line bits of one span, already decoded from the line code
by the LIU, as bytes MSB first, and accepts the transmit bits the same way. The
device is opened non-blocking; each read/write moves one 20 ms block (5120
bytes for E1). Any device or FIFO with those semantics works, which is also how
this backend is tested.
"""
import errno
import os

from callbox.errors import LineError, LineInitError
from callbox.hw import parse_url
from callbox.hw.line import Line


class RawLine(Line):
    """A span on a raw bitstream character device.

    Args:
        url (str): ``raw://<device path>``, e.g. ``raw:///dev/e1raw0``.
    """

    def __init__(self, url, **_ignored):
        scheme, host, path, opts = parse_url(url)
        if host or not path.startswith("/dev/") and not os.path.isabs(path):
            raise LineInitError("Opening span %s: expected raw:///dev/<device>" % url)
        if opts:
            raise LineInitError("Opening span %s: raw:// takes no options" % url)
        self.url = url
        self.device = path
        self.fd = None
        self._counters = {"rx:short_reads": 0, "tx:dropped": 0}

    def __str__(self):
        return "RawLine(url=%s, device=%s, fd=%s)" % (self.url, self.device, self.fd)

    def open(self):
        try:
            self.fd = os.open(self.device, os.O_RDWR | os.O_NONBLOCK)
        except OSError as e:
            raise LineInitError("Opening span %s: %s" % (self.url, e.strerror)) from None
        return self

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def read_block(self, out):
        try:
            data = os.read(self.fd, len(out))
        except OSError as e:
            if e.errno == errno.EAGAIN:
                return "none"
            raise LineError("Reading span %s: %s" % (self.url, e.strerror)) from None
        if len(data) != len(out):
            self._counters["rx:short_reads"] += 1
            return "none"
        out[:] = data
        return "ok"

    def write_block(self, data):
        try:
            os.write(self.fd, data)
        except OSError as e:
            if e.errno != errno.EAGAIN:
                raise LineError("Writing span %s: %s" % (self.url, e.strerror)) from None
            self._counters["tx:dropped"] += 1

    def counters(self):
        return dict(self._counters)
