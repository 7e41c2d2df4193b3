"""Crash-safe two-channel WAV files.

A recording is written as ``<name>.wav.part``: a normal 16-bit PCM WAV header
whose sizes are rewritten every few seconds and at the end, then the file is
renamed to ``<name>.wav``. After a crash or power cut a ``.part`` file holds
every block that reached the disk, and ``recover`` repairs its header from the
file's real length (dropping a torn last sample frame) and renames it.
"""
import os
import struct

HEADER = 44
RATE = 8000


def header(channels, data_bytes, rate=RATE, bits=16):
    block = channels * bits // 8
    return (b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, bits)
            + b"data" + struct.pack("<I", data_bytes))


class WavWriter:
    """Append-only stereo WAV writer with periodic header updates.

    Args:
        path (str): final path (``.wav``); data goes to ``path + ".part"`` until close().
        channels (int): channel count (2: caller, agent).
    """

    def __init__(self, path, channels=2, header_every=250):
        self.path = path
        self.part = path + ".part"
        self.channels = channels
        self.data_bytes = 0
        self._writes = 0
        self._header_every = header_every
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.f = open(self.part, "wb")
        self.f.write(header(channels, 0))

    def write(self, pcm):
        """Append interleaved 16-bit samples (bytes)."""
        self.f.write(pcm)
        self.data_bytes += len(pcm)
        self._writes += 1
        if self._writes % self._header_every == 0:
            self._rewrite_header()
            self.f.flush()

    def _rewrite_header(self):
        pos = self.f.tell()
        self.f.seek(0)
        self.f.write(header(self.channels, self.data_bytes))
        self.f.seek(pos)

    @property
    def duration_s(self):
        return self.data_bytes / (2.0 * self.channels * RATE)

    def close(self):
        """Finish the file: final header, fsync, rename to .wav. Returns the final path."""
        self._rewrite_header()
        self.f.flush()
        os.fsync(self.f.fileno())
        self.f.close()
        os.replace(self.part, self.path)
        _fsync_dir(os.path.dirname(self.path))
        return self.path


def _fsync_dir(d):
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def recover(part_path, channels=2):
    """Repair a ``.part`` file left by a crash; returns (final path, data bytes)."""
    size = os.path.getsize(part_path)
    frame = 2 * channels
    data = max(0, size - HEADER) // frame * frame
    with open(part_path, "r+b") as f:
        if size < HEADER:
            f.truncate(0)
            f.write(header(channels, 0))
            data = 0
        else:
            f.truncate(HEADER + data)
            f.seek(0)
            f.write(header(channels, data))
        f.flush()
        os.fsync(f.fileno())
    final = part_path[:-len(".part")]
    os.replace(part_path, final)
    return final, data
