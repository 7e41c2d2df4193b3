"""The Line interface every span backend implements.

A line moves raw line bits in 20 ms blocks: for E1, 160 frames x 256 bits =
5120 bytes, packed MSB first, in no particular frame alignment (the deframer
finds it). Reads and writes never block: the media engine ticks on its own
clock and must not wait for a line.
"""
import abc

E1_BLOCK_BYTES = 160 * 32
T1_BLOCK_BYTES = 160 * 193 // 8


class Line(abc.ABC):
    """Base class of span backends.

    Subclasses implement open/close/read_block/write_block and may implement impair.
    """
    kind = "E1"
    block_bytes = E1_BLOCK_BYTES

    @abc.abstractmethod
    def open(self):
        """Open the device or connection. Raises LineInitError."""

    @abc.abstractmethod
    def close(self):
        """Release the device; safe to call twice."""

    @abc.abstractmethod
    def read_block(self, out):
        """Fill out (bytearray of block_bytes) with the next received block.

        Returns:
            str: "ok" (a block was read), "none" (nothing arrived yet: underrun) or
            "los" (no signal: the cable is out or the far end is silent).
        """

    @abc.abstractmethod
    def write_block(self, data):
        """Send one block of block_bytes; never blocks (a full device drops and counts)."""

    def impair(self, **kw):
        """Inject faults (simulated lines only).

        Raises:
            LineError: the backend cannot inject faults.
        """
        from callbox.errors import LineError
        raise LineError("Injecting faults on %s: only simulated spans (sim://) can" % self)

    def counters(self):
        """Backend counters: {"name": value}."""
        return {}
