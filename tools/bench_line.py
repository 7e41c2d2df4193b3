#!/usr/bin/env python3
"""Receive throughput of the line layer (make bench): E1 spans one CPU core deframes in real
time (160-frame, 20 ms blocks, all 31 timeslots delivered, CRC-4 on), the same for T1 ESF,
and the same bytes through a plain memory copy in the same run (the physical limit). One
Python call per block in every row, so the ratio compares like with like."""
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "firmware"))

from callbox._line import ffi  # noqa: E402
from callbox.line import E1Rx, E1Tx, T1Rx, T1Tx  # noqa: E402


def _rate(fn, blocks, seconds=1.0):
    for b in blocks[:8]:
        fn(b)
    n, t0 = 0, time.process_time()
    while True:
        for b in blocks:
            fn(b)
        n += len(blocks)
        dt = time.process_time() - t0
        if dt >= seconds:
            return n / dt / 50.0          # a span makes 50 blocks a second: spans one core keeps up with


def run(seconds=1.0):
    rng = random.Random(1)
    e1tx = E1Tx(crc4=True)
    e1 = [bytes(e1tx.frame(rng.randbytes(5120))) for _ in range(64)]
    t1tx = T1Tx("esf")
    t1 = [bytes(t1tx.frame(rng.randbytes(24 * 160))) for _ in range(64)]
    e1rx, t1rx = E1Rx(crc4=True), T1Rx("esf")
    out_e1, out_t1 = bytearray(5120), bytearray(24 * 160)
    copy = bytearray(5120)
    dst = ffi.from_buffer("uint8_t[]", copy)

    def memcopy(b):                       # one C memmove of the block, through cffi like the deframer
        ffi.memmove(dst, b, len(b))
    rows = []
    e1_rate = _rate(lambda b: e1rx.deframe(b, out_e1), e1, seconds)
    mem_rate = _rate(memcopy, e1, seconds)
    assert e1rx.status()["aligned"] and not e1rx.status()["lomf"]
    t1_rate = _rate(lambda b: t1rx.deframe(b, out_t1), t1, seconds)
    assert t1rx.status()["aligned"]
    rows.append(("E1 receive, CRC-4 (spans/core)", e1_rate, mem_rate))
    rows.append(("T1 ESF receive (spans/core)", t1_rate, mem_rate * 5120 / len(t1[0])))
    return rows


def format_rows(rows):
    return "\n".join("%-32s %8.0f   %.3fx a memory copy of the same bytes (%.0f/core)" % (name, ours, ours / peer, peer)
                     for name, ours, peer in rows)


if __name__ == "__main__":
    print(format_rows(run()))
