"""callbox-e1: run the box's E1 deframer over a captured raw bitstream.

    callbox-e1 capture.bin            # raw E1 bits, MSB first, any frame alignment
    callbox-e1 --crc4 capture.bin     # also CRC-4 multiframe, CRC and E-bit counts
    callbox-e1 --payload out.bin capture.bin   # write the aligned frames (32 octets each)
    callbox-e1 --cas capture.bin      # also the TS16 CAS multiframe and every channel's ABCD

Prints the final defects, the received Sa4-Sa8 bits and every counter ("show controllers
e1" style), and the frame number of each state change (with --cas also CAS multiframe
alignment, the remote multiframe alarm and each channel's ABCD changes). Exit 0, or 2 with a message on a bad file.
"""
import argparse
import sys

from callbox.line import Cas, E1Rx

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
    p.add_argument("--cas", action="store_true", help="read the TS16 CAS multiframe (MFC/R2, E&M)")
    a = p.parse_args(argv)
    data = read_capture("callbox-e1", a.file, BLOCK, "one 20 ms block")
    if data is None:
        return 2
    rx = E1Rx(crc4=a.crc4)
    cas = Cas() if a.cas else None
    abcd, seen = bytearray(b"\xff" * 30), bytes(b"\xff" * 30)
    out = open(a.payload, "wb") if a.payload else None
    last = None
    usable = len(data) // BLOCK * BLOCK
    for k in range(0, usable, BLOCK):
        frames = rx.deframe(data[k:k + BLOCK])
        if out:
            out.write(frames)
        st = rx.status()
        if cas is not None:
            cas.extract(frames)
            cs = cas.status()
            st.update(cas_aligned=cs["aligned"], cas_lomf=st["aligned"] and not cs["aligned"],
                      cas_rai=cs["aligned"] and cs["remote_mf_alarm"])
            cas.rx_all(abcd)
            if abcd != seen:
                changed = ["%d=%s" % (ch if ch <= 15 else ch + 1, format(abcd[ch - 1], "04b"))
                           for ch in range(1, 31) if abcd[ch - 1] != seen[ch - 1] and abcd[ch - 1] != 0xFF]
                if changed:
                    print("block %5d (%.2f s): ABCD ts %s" % (k // BLOCK, k / 256000.0, " ".join(changed)))
                seen = bytes(abcd)
        state = tuple(sorted(n for n, v in st.items() if v))
        if state != last:
            print("block %5d (%.2f s): %s" % (k // BLOCK, k / 256000.0, ", ".join(state) or "no state"))
            last = state
    if out:
        out.close()
    final = rx.status()
    alarms = [n.upper() for n in ("los", "ais", "lof", "rai", "lomf") if final.get(n)]
    if cas is not None:
        alarms += [n.upper() for n in ("cas_lomf", "cas_rai") if st.get(n)]
    st = final
    print("E1 is %s" % ("up" if st["aligned"] else "down"))
    print("  " + ("Receiver has " + ", ".join(alarms) if alarms else "No alarms detected."))
    sa = rx.sa_bits()
    print("  Sa4-Sa8 received: %s" % (sa if sa is not None else "- (not aligned)"))
    if cas is not None:
        cs = cas.status()
        print("  CAS multiframe %s, %d MFAS errors, %d realignments" % (
            "aligned" if cs["aligned"] else "NOT aligned", cs["mfas_errors"], cs["realignments"]))
        rows = ["%2d:%s" % (ts, "----" if abcd[ch - 1] == 0xFF else format(abcd[ch - 1], "04b"))
                for ch, ts in ((c, c if c <= 15 else c + 1) for c in range(1, 31))]
        for i in range(0, 30, 10):
            print("  ABCD " + " ".join(rows[i:i + 10]))
    if st.get("far_no_crc4"):
        print("  Far end sends no CRC-4 multiframe (G.706 Annex B)")
    for name, value in rx.counters().items():
        print("  %-22s %10d  %s" % (name, value, E1Rx.COUNTER_DESCRIPTIONS.get(name, "")))
    if usable != len(data):
        print("  (last %d bytes, less than a block, not read)" % (len(data) - usable))
    return 0


if __name__ == "__main__":
    sys.exit(main())
