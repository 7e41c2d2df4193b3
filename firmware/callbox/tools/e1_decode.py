"""callbox-e1: run the box's E1 deframer over a captured raw bitstream.

    callbox-e1 capture.bin            # raw E1 bits, MSB first, any frame alignment
    callbox-e1 --crc4 capture.bin     # also CRC-4 multiframe, CRC and E-bit counts
    callbox-e1 --payload out.bin capture.bin   # write the aligned frames (32 octets each)

Prints the final defects and every counter ("show controllers e1" style), and the
frame number of each state change. Exit 0, or 2 with a message on a bad file.
"""
import argparse
import sys

from callbox.line import E1Rx

BLOCK = 160 * 32


def read_capture(prog, path, least, what):
    """The bytes of a capture file, or None after saying on stderr why it cannot be used."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        print("%s: %s: %s" % (prog, path, e.strerror), file=sys.stderr)
        return None
    if len(data) < least:
        print("%s: %s: %d bytes is less than %s (%d bytes)" % (prog, path, len(data), what, least), file=sys.stderr)
        return None
    return data


def main(argv=None):
    p = argparse.ArgumentParser(prog="callbox-e1", description=__doc__.split("\n\n")[0])
    p.add_argument("file")
    p.add_argument("--crc4", action="store_true", help="check the CRC-4 multiframe")
    p.add_argument("--payload", help="write the deframed frames to this file")
    a = p.parse_args(argv)
    data = read_capture("callbox-e1", a.file, BLOCK, "one 20 ms block")
    if data is None:
        return 2
    rx = E1Rx(crc4=a.crc4)
    out = open(a.payload, "wb") if a.payload else None
    last = None
    usable = len(data) // BLOCK * BLOCK
    for k in range(0, usable, BLOCK):
        frames = rx.deframe(data[k:k + BLOCK])
        if out:
            out.write(frames)
        st = rx.status()
        state = tuple(sorted(n for n, v in st.items() if v))
        if state != last:
            print("block %5d (%.2f s): %s" % (k // BLOCK, k / 256000.0, ", ".join(state) or "no state"))
            last = state
    if out:
        out.close()
    st = rx.status()
    alarms = [n.upper() for n in ("los", "ais", "lof", "rai", "lomf") if st.get(n)]
    print("E1 is %s" % ("up" if st["aligned"] else "down"))
    print("  " + ("Receiver has " + ", ".join(alarms) if alarms else "No alarms detected."))
    if st.get("far_no_crc4"):
        print("  Far end sends no CRC-4 multiframe (G.706 Annex B)")
    for name, value in rx.counters().items():
        print("  %-22s %10d  %s" % (name, value, E1Rx.COUNTER_DESCRIPTIONS.get(name, "")))
    if usable != len(data):
        print("  (last %d bytes, less than a block, not read)" % (len(data) - usable))
    return 0


if __name__ == "__main__":
    sys.exit(main())
