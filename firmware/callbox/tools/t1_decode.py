"""callbox-t1: run the box's T1 deframer over a captured raw bitstream.

    callbox-t1 capture.bin                 # raw T1 bits (193 per frame), MSB first, ESF, any alignment
    callbox-t1 --framing sf capture.bin    # superframe (D4) instead of ESF
    callbox-t1 --rbs capture.bin           # also show each channel's robbed-bit ABCD at the end
    callbox-t1 --payload out.bin capture.bin   # write the aligned frames (24 octets each)

Prints the final defects and every counter ("show controllers t1" style), and the frame
number of each state change. Exit 0, or 2 with a message on a bad file.
"""
import argparse
import sys

from callbox.line import T1Rx
from callbox.tools.e1_decode import read_capture

FRAMES = 8 * 20                      # deframed per call: 160 frames (20 ms), 160 x 193 bits
BLOCK = FRAMES * 193 // 8            # 3860 octets


def main(argv=None):
    p = argparse.ArgumentParser(prog="callbox-t1", description=__doc__.split("\n\n")[0])
    p.add_argument("file")
    p.add_argument("--framing", choices=("esf", "sf", "d4"), default="esf", help="ESF (default) or SF/D4")
    p.add_argument("--rbs", action="store_true", help="channels carry robbed-bit signalling: show ABCD")
    p.add_argument("--payload", help="write the deframed frames to this file")
    a = p.parse_args(argv)
    data = read_capture("callbox-t1", a.file, 193, "8 frames")
    if data is None:
        return 2
    rx = T1Rx(framing=a.framing, rbs=a.rbs)
    out = open(a.payload, "wb") if a.payload else None
    last = None
    usable = len(data) // 193 * 193
    for k in range(0, usable, BLOCK):
        frames = rx.deframe(data[k:min(k + BLOCK, usable)])
        if out:
            out.write(frames)
        st = rx.status()
        state = tuple(sorted(n for n, v in st.items() if v))
        if state != last:
            print("frame %7d (%.3f s): %s" % (k * 8 // 193, k * 8 / 193 / 8000.0, ", ".join(state) or "no state"))
            last = state
    if out:
        out.close()
    st = rx.status()
    alarms = [n.upper() for n in ("los", "ais", "oof", "yellow") if st.get(n)]
    print("T1 (%s) is %s" % (rx.framing.upper(), "up" if st["aligned"] else "down"))
    print("  " + ("Receiver has " + ", ".join(alarms) if alarms else "No alarms detected."))
    for name, value in rx.counters().items():
        print("  %-22s %10d" % (name, value))
    if a.rbs:
        sig = ["%d:%s" % (ch, "-" if rx.abcd(ch) is None else format(rx.abcd(ch), "04b")) for ch in range(1, 25)]
        print("  ABCD  " + " ".join(sig[:12]) + " ")
        print("        " + " ".join(sig[12:]) + " ")
    if usable != len(data):
        print("  (last %d bytes, less than 8 frames, not read)" % (len(data) - usable))
    return 0


if __name__ == "__main__":
    sys.exit(main())
