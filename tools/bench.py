#!/usr/bin/env python3
"""CallBox benchmarks (make bench). Prints one table.

Each figure is a ratio against a named reference measured in the same run:
* media engine tick: CPU time of one 20 ms tick against the 20 ms real-time budget, for 2 and
  8 E1 spans with DTMF detection on every channel and every channel recorded (the tick runs
  against in-process simulated pairs, ticked back to back, not on the timer);
* G.711 decode: our C bank against Python's audioop (when the running Python has it).
Later issues add the DSP-vs-spandsp and line-vs-peer rows.
"""
import array
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "firmware"))

from callbox import dsp, hw  # noqa: E402
from callbox.media.engine import Engine  # noqa: E402


def time_box_tick(nspans, ticks=300):
    d = tempfile.mkdtemp(prefix="cbbench")
    far = Engine([(i, {}, hw.open_line("sim://b%d/1?offset=%d" % (i, 11 * i + 5), sim_dir=d).open())
                  for i in range(nspans)], [], {}, name="far")
    box = Engine([(i, {}, hw.open_line("sim://b%d/0" % i, sim_dir=d).open()) for i in range(nspans)], [], {},
                 name="box")
    eps = ["s%d.%d" % (s, ts) for s in range(nspans) for ts in range(1, 32) if ts != 16]
    digits = []
    box.emit = lambda t, x: digits.append(x) if t == "chan.dtmf" else None
    for ep in eps:
        far.tone(ep, digits="1234567890" * 6)
        box.dtmf_enable(ep)
    for i in range(0, len(eps) - 1, 2):
        box.record_start("c%d" % i, eps[i], eps[i + 1])
    for _ in range(50):
        far.tick()
        box.tick()
    spent = 0.0
    for _ in range(ticks):
        far.tick()
        t = time.process_time()
        box.tick()
        spent += time.process_time() - t
    far.close()
    box.close()
    return spent / ticks, len(eps), len(digits)


def g711_ratio(n=160 * 240, reps=200):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import audioop
        except ImportError:        # Python 3.13 dropped it: no peer to compare with
            return None
    data = bytes(range(256)) * (n // 256)
    out = array.array("h", bytes(2 * len(data)))
    t = time.perf_counter()
    for _ in range(reps):
        dsp.alaw_to_linear(data, out)
    ours = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(reps):
        audioop.alaw2lin(data, 2)
    peer = time.perf_counter() - t
    return ours, peer


def main():
    rows = []
    for nspans in (2, 8):
        per_tick, nch, ndig = time_box_tick(nspans)
        rows.append(("media tick, %d E1 (%d ch, DTMF+rec on all)" % (nspans, nch),
                     "%.2f ms" % (per_tick * 1e3), "%.3f of the 20 ms budget" % (per_tick / 0.020),
                     "%.1f us/channel, %d digits seen" % (per_tick * 1e6 / nch, ndig)))
    g = g711_ratio()
    if g:
        rows.append(("A-law decode, 240 ch x 20 ms", "%.1f us" % (g[0] / 200 * 1e6),
                     "%.2fx audioop's time" % (g[0] / g[1]), "peer: Python audioop.alaw2lin"))
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    print("%-*s  %*s  %-*s  %s" % (w[0], "benchmark", w[1], "time", w[2], "ratio", "notes"))
    for r in rows:
        print("%-*s  %*s  %-*s  %s" % (w[0], r[0], w[1], r[1], w[2], r[2], r[3]))


if __name__ == "__main__":
    main()
