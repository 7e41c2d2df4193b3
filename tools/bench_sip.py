#!/usr/bin/env python3
"""Benchmark: the media engine with 40 SIP seats in recorded calls (80 RTP streams).

    python tools/bench_sip.py [--seats 40] [--seconds 10]

The box side is the real media engine on its 20 ms timer with two E1 spans (their far end
is a second engine in this process) and N seats, every seat connected to a trunk channel
and recorded (the engine's recording taps). The phones run in a separate process (this
script with ``--farm``): for SIP they register with digest, answer the INVITE and send and
receive RTP every 20 ms; for the peer, the same engine with N simulated seats (the box's
own sim:// seat ports) fed the same audio. The figure is the engine's own tick time (the
counter ``media:tick_us_total``), as a share of the 20 ms budget and as a ratio against
the simulated-seat peer measured in the same run. RTP loss and late counters are shown.
"""
import argparse
import json
import os
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "firmware"))

from callbox import hw  # noqa: E402
from callbox.media.engine import Engine  # noqa: E402
from callbox.sip import message as sipmsg  # noqa: E402
from callbox.sip.digest import authorization, ha1_for  # noqa: E402
from callbox.sip.stack import SipStack, new_branch  # noqa: E402

PASSWORD = "bench-password"
TONE = bytes((0xD5 ^ (i % 16)) for i in range(160))


# -- the phone farm (a separate process) -------------------------------------------------------
def farm_sip(port, n, seconds):
    sigs = []                      # one signalling socket per phone, as real phones have
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        sigs.append(s)
    rtps = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        rtps.append(s)
    box = ("127.0.0.1", port)

    def reg(user, cseq, auth=None):
        sig = sigs[int(user[1:])]
        me = sig.getsockname()[1]
        lines = ["REGISTER sip:127.0.0.1 SIP/2.0", "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport" % (me, new_branch()),
                 "From: <sip:%s@127.0.0.1>;tag=b%s" % (user, user), "To: <sip:%s@127.0.0.1>" % user,
                 "Call-ID: reg-%s" % user, "CSeq: %d REGISTER" % cseq,
                 "Contact: <sip:%s@127.0.0.1:%d>" % (user, me), "Expires: 600"]
        if auth:
            lines.append("Authorization: " + auth)
        sig.sendto(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode(), box)

    for i in range(n):
        reg("u%d" % i, 1)
    calls = {}
    seq = {}
    deadline = time.monotonic() + seconds
    nxt = time.monotonic()
    rx = 0
    while time.monotonic() < deadline:
        r, _, _ = select.select(sigs + rtps, [], [], max(0.0, nxt - time.monotonic()))
        for s in r:
            if s in sigs:
                sig, me = s, s.getsockname()[1]
                m = sipmsg.parse(sig.recvfrom(65536)[0])
                if not m.is_request and m.status == 401:
                    user = sipmsg.parse_uri(sipmsg.parse_addr(m.get("To"))[1])["user"]
                    reg(user, 2, authorization("REGISTER", "sip:127.0.0.1", user, PASSWORD, m.get("WWW-Authenticate")))
                elif m.is_request and m.method == "INVITE":
                    i = int(sipmsg.parse_uri(m.uri)["user"][1:])
                    offer = sipmsg.parse_sdp(m.body)
                    calls[i] = (offer["ip"], offer["port"])
                    seq[i] = 0
                    sdp = sipmsg.build_sdp("127.0.0.1", rtps[i].getsockname()[1], i, 1, [8], None)
                    sig.sendto(sipmsg.response_to(m, 200, to_tag="t%d" % i, body=sdp,
                                                  extra=[("Contact", "<sip:u%d@127.0.0.1:%d>" % (i, me)),
                                                         ("Content-Type", "application/sdp")]).to_bytes(), box)
                elif m.is_request and m.method != "ACK":
                    sig.sendto(sipmsg.response_to(m, 200).to_bytes(), box)
            else:
                while True:
                    try:
                        s.recvfrom(2048)
                        rx += 1
                    except BlockingIOError:
                        break
        if time.monotonic() >= nxt:
            nxt += 0.02
            for i, dst in calls.items():
                seq[i] += 1
                rtps[i].sendto(struct.pack("!BBHII", 0x80, 8, seq[i] & 0xFFFF, seq[i] * 160, 1000 + i) + TONE, dst)
    print(json.dumps({"rx": rx}), flush=True)


def farm_sim(sim_dir, n, seconds):
    socks = []
    for i in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.connect(os.path.join(sim_dir, "seat%d.sock" % (i + 1)))
        s.setblocking(False)
        socks.append(s)
    deadline = time.monotonic() + seconds
    nxt = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(max(0.0, nxt - time.monotonic()))
        nxt += 0.02
        for s in socks:
            try:
                s.send(b"A" + TONE)
                while True:
                    s.recv(4096)
            except BlockingIOError:
                pass
    print(json.dumps({"rx": 0}), flush=True)


# -- the box side ------------------------------------------------------------------------------
def run(kind, nseats, seconds):
    d = tempfile.mkdtemp(prefix="cbsipbench")
    far = Engine([(i, {}, hw.open_line("sim://p%d/1" % i, sim_dir=d).open()) for i in range(2)], [], {}, name="far")
    stack = None
    if kind == "sip":
        stack = SipStack(host="127.0.0.1", port=0, tcp=False).open()
        from callbox.sip.seat import SipSeatPort
        seats = [(i + 1, SipSeatPort("sip://u%d" % i, secret=ha1_for("u%d" % i, "callbox", PASSWORD),
                                     stack=stack).open()) for i in range(nseats)]
    else:
        seats = [(i + 1, hw.open_seat("sim://seat/%d" % (i + 1), sim_dir=d).open()) for i in range(nseats)]
    box = Engine([(i, {}, hw.open_line("sim://p%d/0" % i, sim_dir=d).open()) for i in range(2)], seats, {},
                 name="box")
    far.start()
    box.start()
    me = os.path.abspath(__file__)
    arg = str(stack.port) if stack else d
    farm = subprocess.Popen([sys.executable, me, "--farm", kind, "--arg", arg, "--seats", str(nseats),
                             "--seconds", str(seconds + 8)], stdout=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and sum(box.seat_plugged.values()) < nseats:
        time.sleep(0.05)
    plugged = sum(box.seat_plugged.values())
    for i, (n, _) in enumerate(seats):
        ep = "s%d.%d" % (i // 30, 1 + (i % 30) + (1 if i % 30 >= 15 else 0))
        if kind == "sip":
            box.submit(box.seat_control, n, {"ring": True, "call_id": i, "ani": "100"})
        box.submit(box.connect, ep, "seat%d" % n)
        box.submit(box.record_start, "bench%d" % n, ep, "seat%d" % n)
    time.sleep(2.0)
    c0, t0 = box.counters["media:tick_us_total"], box.tick_no
    o0 = box.counters["media:overruns"]
    time.sleep(seconds)
    c1, t1 = box.counters["media:tick_us_total"], box.tick_no
    over = box.counters["media:overruns"] - o0
    rtp = {}
    if kind == "sip":
        for _, p in seats:
            for k, v in p.rtp.counters.items():
                rtp[k] = rtp.get(k, 0) + v
    out = farm.communicate(timeout=30)[0]
    box.close()
    far.close()
    if stack:
        stack.close()
    return {"kind": kind, "seats": nseats, "plugged": plugged, "tick_us": (c1 - c0) / max(1, t1 - t0),
            "overruns": over, "rtp": rtp, "farm": json.loads(out.decode().strip().splitlines()[-1])}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seats", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--farm", choices=("sip", "sim"), help=argparse.SUPPRESS)
    ap.add_argument("--arg", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.farm == "sip":
        return farm_sip(int(a.arg), a.seats, a.seconds)
    if a.farm == "sim":
        return farm_sim(a.arg, a.seats, a.seconds)
    if not 1 <= a.seats <= 60:
        ap.error("--seats must be 1..60 (two E1 spans of trunk channels)")
    print("SIP seats: %d recorded calls, %.0f s each run ..." % (a.seats, a.seconds), flush=True)
    sim = run("sim", a.seats, a.seconds)
    sip = run("sip", a.seats, a.seconds)
    print(format_rows(sip, sim))
    return 0


def format_rows(sip, sim):
    r = sip["rtp"]
    lines = ["%-44s %10s  %s" % ("benchmark", "tick", "ratio"),
             "%-44s %8.0f us  %.2fx the sim-seat peer's tick; %.1f %% of the 20 ms budget" % (
                 "media tick, %d SIP seats recorded (%d RTP streams)" % (sip["seats"], 2 * sip["seats"]),
                 sip["tick_us"], sip["tick_us"] / max(1.0, sim["tick_us"]), sip["tick_us"] / 200.0),
             "%-44s %8.0f us  (peer) %.1f %% of the budget" % (
                 "media tick, %d sim:// seats recorded" % sim["seats"], sim["tick_us"], sim["tick_us"] / 200.0),
             "registered %d/%d, RTP in %d out %d, lost %d, late %d, foreign %d, tick overruns %d (sip) %d (sim)" % (
                 sip["plugged"], sip["seats"], r.get("rx", 0), r.get("tx", 0), r.get("lost", 0), r.get("late", 0),
                 r.get("foreign", 0), sip["overruns"], sim["overruns"])]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
