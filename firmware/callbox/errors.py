"""The exception tree of CallBox.

One root (CallboxError), one branch per part of the box, split by phase where a
caller needs to tell them apart (init / operation / timeout). Messages name the
action, then the cause, then (for bad input) the place.
"""


class CallboxError(Exception):
    """Root of every error CallBox raises on purpose."""


class ConfigError(CallboxError):
    """Configuration is invalid or the config store cannot be used."""


class BusError(CallboxError):
    """The msgpack bus failed (connection, framing, remote error)."""


class BusProtocolError(BusError):
    """A frame on the bus is malformed; the connection that sent it is dropped."""


class BusTimeoutError(BusError):
    """A bus request got no answer in time."""


class BusRemoteError(BusError):
    """The daemon answered a request with an error reply."""

    def __init__(self, op, code, message):
        super().__init__("%s: %s (%s)" % (op, message, code))
        self.op = op
        self.code = code
        self.remote_message = message


class LineError(CallboxError):
    """A line backend or the line library failed."""


class LineInitError(LineError):
    """Opening or configuring a span failed."""


class DspError(CallboxError):
    """A DSP bank was used wrongly or the DSP library failed."""


class SignallingError(CallboxError):
    """A signalling message could not be decoded or is not allowed."""


class RecorderError(CallboxError):
    """A recording could not be written, recovered or found."""
