#!/usr/bin/env python3
"""DSP against the named peer, libspandsp (Debian libspandsp-dev), on the same data.

The DTMF receivers run over 240 channels x 100 blocks of 20 ms of the same signal (digits with
noise between them): ours as one bank call per 20 ms block for all channels (as the media engine
runs it), spandsp as one dtmf_rx call per channel over all 2 s (its API is per channel; one
long call keeps the Python call overhead out of its figure). The figure is our time /
spandsp's time.
spandsp is loaded at run time through cffi's ABI mode with the few declarations written here;
without it the peer column says so.

    python tools/bench_dsp.py
"""
import array
import ctypes.util
import math
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "firmware"))

from callbox import dsp  # noqa: E402

NCH, N, BLOCKS = 240, 160, 100


def signal():
    """BLOCKS x 160 samples: digits of 60 ms with 60 ms gaps of low noise."""
    rng = random.Random(1)
    low, high = (697, 770, 852, 941), (1209, 1336, 1477)
    out = array.array("h")
    i = 0
    while len(out) < BLOCKS * N:
        f1, f2 = rng.choice(low), rng.choice(high)
        for k in range(480):
            out.append(int(6000 * (math.sin(2 * math.pi * f1 * (i + k) / 8000) + math.sin(2 * math.pi * f2 * (i + k) / 8000))))
        for k in range(480):
            out.append(int(rng.gauss(0, 200)))
        i += 960
    return out[:BLOCKS * N]


def ours(sig):
    bank = dsp.DtmfReceiverBank(NCH)
    blocks = [array.array("h", sig[b * N:(b + 1) * N].tobytes() * NCH) for b in range(BLOCKS)]
    t = time.perf_counter()
    digits = 0
    for blk in blocks:
        digits += len(bank.process(blk, N))
    return time.perf_counter() - t, digits


def spandsp(sig):
    path = ctypes.util.find_library("spandsp")
    if not path:
        return None
    from cffi import FFI
    ffi = FFI()
    ffi.cdef("""
        typedef struct dtmf_rx_state_s dtmf_rx_state_t;
        typedef void (*digits_rx_callback_t)(void *user_data, const char *digits, int len);
        dtmf_rx_state_t *dtmf_rx_init(dtmf_rx_state_t *s, digits_rx_callback_t callback, void *user_data);
        int dtmf_rx(dtmf_rx_state_t *s, const int16_t amp[], int samples);
        int dtmf_rx_free(dtmf_rx_state_t *s);
    """)
    lib = ffi.dlopen(path)
    count = [0]

    @ffi.callback("void(void *, const char *, int)")
    def got(user, digits, n):
        count[0] += n
    states = [lib.dtmf_rx_init(ffi.NULL, got, ffi.NULL) for _ in range(NCH)]
    whole = ffi.new("int16_t[]", list(sig))
    t = time.perf_counter()
    for s in states:                   # the whole signal per channel in one call: no call overhead to speak of
        lib.dtmf_rx(s, whole, len(sig))
    spent = time.perf_counter() - t
    for s in states:
        lib.dtmf_rx_free(s)
    return spent, count[0]


def run():
    """Rows (name, our seconds, peer seconds or None, note)."""
    sig = signal()
    t_ours, d_ours = ours(sig)
    peer = spandsp(sig)
    note = "%d digits found by ours" % d_ours
    if peer is None:
        return [("DTMF receive, 240 ch x %d blocks" % BLOCKS, t_ours, None,
                 note + "; peer libspandsp not installed (apt-get install libspandsp-dev)")]
    return [("DTMF receive, 240 ch x %d blocks" % BLOCKS, t_ours, peer[0],
             note + ", %d by spandsp (peer: libspandsp dtmf_rx, one call per channel over the 2 s)" % peer[1])]


def main():
    for name, ours_s, peer_s, note in run():
        ratio = "%.2fx spandsp's time" % (ours_s / peer_s) if peer_s else "-"
        print("%-36s %8.1f ms  %-22s %s" % (name, ours_s * 1e3, ratio, note))


if __name__ == "__main__":
    main()
