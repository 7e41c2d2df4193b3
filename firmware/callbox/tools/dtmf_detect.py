"""callbox-dtmf: run the box's DTMF receiver over a recorded file.

    callbox-dtmf call.wav                 # WAV: 8 kHz mono, 16-bit PCM, A-law or mu-law
    callbox-dtmf --format alaw dump.raw   # headerless: alaw | ulaw | s16 (little-endian)
    callbox-dtmf --channel 1 rec.wav      # a channel of a multi-channel WAV (0 = left)

Prints one line per digit: time in seconds and the digit; exit status 0, or 2 with a
message for a file it cannot read. The same C bank the media engine uses, fed in
20 ms blocks.
"""
import argparse
import array
import struct
import sys

from callbox import dsp

BLOCK = 160


def read_wav(path, channel):
    """Return (samples array('h'), rate) from a PCM16 / A-law / mu-law WAV."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("%s: not a RIFF/WAVE file" % path)
    pos, fmt, body = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        chunk = data[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt = struct.unpack_from("<HHIIHH", chunk, 0)
        elif cid == b"data":
            body = chunk
        pos += 8 + size + (size & 1)
    if fmt is None or body is None:
        raise ValueError("%s: WAV without fmt or data chunk" % path)
    tag, nch, rate, _, _, bits = fmt
    if rate != 8000:
        raise ValueError("%s: sample rate %d Hz; the receiver needs 8000 Hz" % (path, rate))
    if not 0 <= channel < nch:
        raise ValueError("%s: channel %d does not exist (the file has %d)" % (path, channel, nch))
    if tag == 1 and bits == 16:
        s = array.array("h")
        s.frombytes(body[:len(body) // 2 * 2])
        if sys.byteorder == "big":
            s.byteswap()
        return s[channel::nch]
    if tag in (6, 7) and bits == 8:
        octets = bytes(body[channel::nch])
        return dsp.alaw_to_linear(octets) if tag == 6 else dsp.ulaw_to_linear(octets)
    raise ValueError("%s: WAV format %d with %d-bit samples; need PCM16, A-law (6) or mu-law (7)" % (path, tag, bits))


def read_raw(path, fmt):
    with open(path, "rb") as f:
        data = f.read()
    if fmt == "alaw":
        return dsp.alaw_to_linear(data)
    if fmt == "ulaw":
        return dsp.ulaw_to_linear(data)
    s = array.array("h")
    s.frombytes(data[:len(data) // 2 * 2])
    if sys.byteorder == "big":
        s.byteswap()
    return s


def detect(samples):
    """[(time_s, digit)] for linear 8 kHz samples."""
    bank = dsp.DtmfReceiverBank(1)
    out = []
    buf = array.array("h", bytes(2 * BLOCK))
    padded = array.array("h", samples) + array.array("h", bytes(2 * (BLOCK * 8 + (-len(samples)) % BLOCK)))
    for k in range(0, len(padded), BLOCK):
        buf[:] = padded[k:k + BLOCK]
        for _, digit, off in bank.process(buf, BLOCK):
            out.append(((k + off) / 8000.0, digit))
    bank.close()
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="callbox-dtmf", description=__doc__.split("\n\n")[0])
    p.add_argument("file")
    p.add_argument("--format", choices=["wav", "alaw", "ulaw", "s16"], default="wav")
    p.add_argument("--channel", type=int, default=0, help="WAV channel (0 = first)")
    a = p.parse_args(argv)
    try:
        samples = read_wav(a.file, a.channel) if a.format == "wav" else read_raw(a.file, a.format)
    except (OSError, ValueError, struct.error) as e:
        print("callbox-dtmf: %s" % (e.strerror if isinstance(e, OSError) and e.strerror else e), file=sys.stderr)
        return 2
    for t, d in detect(samples):
        print("%8.3f %s" % (t, d))
    return 0


if __name__ == "__main__":
    sys.exit(main())
