#!/usr/bin/env python3
"""The whole box under load in simulation: busy-hour traffic through real line bits and seats.

    python tools/loadtest.py --spans 2 --seats 40 --rate 100 --talk-s 30 --duration 120
    python tools/loadtest.py ... --kill callctl@60 --json report.json

Starts the real daemons under the supervisor (media, call control, recorder, web, console and
the simulated exchange and phones) in a temporary directory, lets the far end place Poisson
traffic for ``--duration`` seconds, then stops the traffic and lets the calls finish. It
drives the box only through its interfaces (E1 bits, DTMF tones, seats) and reads the
results from the box's own records and counters:

* CPU seconds per daemon (and per channel), resident memory and open files at the start and
  the end (growth shows leaks), media tick overruns (must be 0);
* routing latency (SETUP received to the routing decision, from the call event log), p50/p99;
* service level, ASA and abandon rate measured, against the Erlang C prediction for the same
  load (agents, trunks, rate, handle time; IVR and after-call work taken as in callbox.acd);
* calls placed by the far end versus CDRs written, answered calls versus recordings;
* with ``--kill NAME@T``: the daemon is killed with SIGKILL at T seconds; the supervisor
  restarts it and the report shows what the calls in flight became.

The report is printed as a table and, with ``--json``, written as JSON (the web UI's System
page can show it). ``make bench`` runs a short standard set.
"""
import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "firmware"))

from callbox.acd.erlang import erlang  # noqa: E402
from callbox.bus import socket_path  # noqa: E402
from callbox.bus.client import BusClient  # noqa: E402
from callbox.config.defaults import seed_simulation  # noqa: E402
from callbox.config.store import Store  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
IVR_S = 6.0        # welcome + menu prompts and the caller's digit, roughly, in the default flow
ANSWER_S = 0.5     # the simulated phone's pick-up delay


def proc_sample(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/%d/statm" % pid) as f:
            rss = int(f.read().split()[1]) * PAGE
        fds = len(os.listdir("/proc/%d/fd" % pid))
    except (OSError, IndexError, ValueError):
        return None
    return {"cpu_s": (int(fields[11]) + int(fields[12])) / TICKS, "rss_mb": rss / 2 ** 20, "fds": fds}


def wait_for(fn, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            v = fn()
        except Exception:
            v = None
        if v:
            return v
        time.sleep(0.2)
    raise RuntimeError("timed out after %.0f s waiting for %s" % (timeout, what))


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else None


def run(spans=2, seats=40, rate=100.0, talk_s=30.0, duration=120.0, kill=None, progress=print, signalling="pri"):
    base = tempfile.mkdtemp(prefix="callbox-load-")
    data, run_dir, logs = (os.path.join(base, d) for d in ("data", "run", "log"))
    with Store(data) as st:
        seed_simulation(st, spans=spans, seats=seats)
        for sp in st.spans():
            sp.update(signalling=signalling)          # pri, or MFC/R2 (r2-cn / r2-itu) on every span
            st.put_span(sp)
        st.put_queue({"name": "support", "acw_s": 3, "sl_target_s": 15, "max_wait_s": 0, "ring_s": 10,
                      "announce_every_s": 0})
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    sup = subprocess.Popen([sys.executable, "-m", "callbox.daemons.supervisor", "--sim", "--data-dir", data,
                            "--run-dir", run_dir, "--log-dir", logs, "--web-port", "0", "--rate", "0",
                            "--talk-s", str(talk_s), "--talk-dist", "exp"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        supc = BusClient(socket_path(run_dir, "supervisor"), connect_timeout=30)
        wait_for(lambda: all(d["state"] == "running" for d in supc.request("sup.status")), 60, "the daemons")
        media = BusClient(socket_path(run_dir, "media"), connect_timeout=30)
        callctl = BusClient(socket_path(run_dir, "callctl"), connect_timeout=30)
        farend = BusClient(socket_path(run_dir, "farend"), connect_timeout=30)
        wait_for(lambda: all(s["up"] for s in media.request("span.status")), 60, "the spans")
        wait_for(lambda: all(s["dchan"] == "up" for s in farend.request("farend.status")["spans"]), 60,
                 "the D-channels")
        wait_for(lambda: sum(1 for a in callctl.request("acd.agents") if a["state"] == "ready") >= seats, 60,
                 "the agents")

        def samples():
            return {d["name"]: proc_sample(d["pid"]) for d in supc.request("sup.status") if d["pid"]}
        first = samples()
        over0 = media.request("media.counters").get("media:overruns", 0)
        progress("load: %d E1 %s, %d agents, %.0f calls/min, %.0f s talk, for %.0f s" % (
            spans, signalling, seats, rate, talk_s, duration))
        t0 = time.time()
        farend.request("farend.traffic", {"rate_per_min": rate})
        killed = None
        while time.time() - t0 < duration:
            time.sleep(1.0)
            el = time.time() - t0
            if kill and killed is None and el >= kill[1]:
                pid = [d["pid"] for d in supc.request("sup.status") if d["name"] == kill[0]][0]
                os.kill(pid, signal.SIGKILL)
                killed = {"daemon": kill[0], "at_s": round(el, 1), "pid": pid}
                progress("load: killed %s (pid %d) at %.0f s" % (kill[0], pid, el))
            if int(el) % 15 == 0:
                progress("load: %3.0f s, %d calls in progress" % (el, len(farend.request("farend.calls"))))
        farend.request("farend.traffic", {"rate_per_min": 0})
        wait_for(lambda: not farend.request("farend.calls"), talk_s * 10 + 120, "the calls to finish")
        time.sleep(2.0)
        last = samples()
        over = media.request("media.counters").get("media:overruns", 0) - over0
        fst = farend.request("farend.status")["counters"]
        wall = time.time() - t0
    finally:
        sup.send_signal(signal.SIGTERM)
        try:
            sup.wait(30)
        except subprocess.TimeoutExpired:
            sup.kill()
    db = sqlite3.connect(os.path.join(data, "callbox.db"))
    db.row_factory = sqlite3.Row
    cdrs = [dict(r) for r in db.execute("SELECT * FROM cdr WHERE start >= ?", (t0 - 1,))]
    recs = db.execute("SELECT COUNT(*) FROM recordings WHERE start >= ? AND call_id NOT LIKE 'vm-%'",
                      (t0 - 1,)).fetchone()[0]
    ev = {}
    for r in db.execute("SELECT call_id, event, t FROM call_events WHERE t >= ? AND event IN ('setup', 'route')",
                        (t0 - 1,)):
        ev.setdefault(r["call_id"], {})[r["event"]] = r["t"]
    db.close()
    lat = [(e["route"] - e["setup"]) * 1000 for e in ev.values() if "route" in e and "setup" in e]
    answered = [c for c in cdrs if c["disposition"] == "answered"]
    queued = [c for c in cdrs if c["queue"]]
    offered = len([c for c in queued if c["disposition"] in ("answered", "abandoned", "queue-timeout")])
    sl = sum(1 for c in answered if (c["wait_s"] or 0) <= 15) / offered if offered else None
    asa = sum(c["wait_s"] or 0 for c in answered) / len(answered) if answered else None
    aband = sum(1 for c in queued if c["disposition"] == "abandoned") / offered if offered else None
    ref = erlang(seats, 30 * spans, rate * 60, talk_s + ANSWER_S, ivr=IVR_S, acw=3.0, T=15)
    daemons = {}
    channels = 30 * spans
    for name, a in first.items():
        b = last.get(name)
        if a and b:
            cpu = b["cpu_s"] - a["cpu_s"]
            daemons[name] = {"cpu_pct": round(100 * cpu / wall, 1), "cpu_ms_per_channel_s": round(1000 * cpu / wall /
                                                                                               channels, 3),
                             "rss_mb": [round(a["rss_mb"], 1), round(b["rss_mb"], 1)], "fds": [a["fds"], b["fds"]]}
    return {
        "params": {"spans": spans, "signalling": signalling, "seats": seats, "rate_per_min": rate, "talk_s": talk_s,
                   "duration_s": duration},
        "wall_s": round(wall, 1), "daemons": daemons, "tick_overruns": over,
        "routing_latency_ms": {"p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "n": len(lat)},
        "calls_placed": fst.get("placed", 0), "calls_no_channel": fst.get("no_channel", 0), "cdrs": len(cdrs),
        "answered": len(answered), "recordings": recs,
        "measured": {"sl": sl, "asa_s": asa, "abandon": aband, "offered": offered},
        "erlang_c": {"sl": ref["sl_offered"], "asa_s": ref["asa_s"], "p_block": ref["p_block"],
                     "exact": ref["exact"]},
        "killed": killed, "data_dir": base,
    }


def table(r):
    rows = [("daemons: CPU % / per channel", "; ".join("%s %.1f%% (%.3f ms/ch/s)" % (n, d["cpu_pct"],
                                                                                    d["cpu_ms_per_channel_s"])
                                                       for n, d in sorted(r["daemons"].items())))]
    rows.append(("memory MB start->end", "; ".join("%s %.0f->%.0f" % (n, d["rss_mb"][0], d["rss_mb"][1])
                                                   for n, d in sorted(r["daemons"].items()))))
    rows.append(("open files start->end", "; ".join("%s %d->%d" % (n, d["fds"][0], d["fds"][1])
                                                    for n, d in sorted(r["daemons"].items()))))
    rows.append(("media tick overruns", str(r["tick_overruns"])))
    lat = r["routing_latency_ms"]
    rows.append(("routing latency p50 / p99", "%s / %s ms (%d calls)" % (
        "%.1f" % lat["p50"] if lat["p50"] is not None else "-", "%.1f" % lat["p99"] if lat["p99"] is not None else "-",
        lat["n"])))
    m, e = r["measured"], r["erlang_c"]

    def ratio(a, b):
        return "%.2fx" % (a / b) if a is not None and b else "-"
    rows.append(("service level (15 s)", "%s measured, %.3f Erlang C (%s)" % (
        "%.3f" % m["sl"] if m["sl"] is not None else "-", e["sl"], ratio(m["sl"], e["sl"]))))
    rows.append(("ASA", "%s s measured, %.1f s Erlang C" % ("%.1f" % m["asa_s"] if m["asa_s"] is not None else "-",
                                                          e["asa_s"])))
    rows.append(("abandon rate", "%s" % ("%.3f" % m["abandon"] if m["abandon"] is not None else "-")))
    rows.append(("CDRs / calls placed", "%d / %d" % (r["cdrs"], r["calls_placed"])))
    rows.append(("recordings / answered", "%d / %d" % (r["recordings"], r["answered"])))
    if r["killed"]:
        rows.append(("fault", "%s killed at %.0f s" % (r["killed"]["daemon"], r["killed"]["at_s"])))
    w = max(len(a) for a, _ in rows)
    return "\n".join("%-*s  %s" % (w, a, b) for a, b in rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--spans", type=int, default=2)
    ap.add_argument("--signalling", choices=("pri", "r2-cn", "r2-itu"), default="pri", help="every span's signalling")
    ap.add_argument("--seats", type=int, default=40)
    ap.add_argument("--rate", type=float, default=100.0, help="calls per minute")
    ap.add_argument("--talk-s", type=float, default=30.0, help="agents' mean handle time, s (exponential)")
    ap.add_argument("--duration", type=float, default=120.0, help="seconds of traffic")
    ap.add_argument("--kill", default=None, help="NAME@SECONDS: SIGKILL a daemon during the run")
    ap.add_argument("--json", default=None, help="write the report as JSON here")
    a = ap.parse_args(argv)
    kill = None
    if a.kill:
        name, _, at = a.kill.partition("@")
        if name not in ("media", "callctl", "recorder", "web", "console") or not at.replace(".", "").isdigit():
            ap.error("--kill must be NAME@SECONDS with NAME media, callctl, recorder, web or console")
        kill = (name, float(at))
    if not 1 <= a.spans <= 8 or not 1 <= a.seats <= 240:
        ap.error("--spans must be 1..8 and --seats 1..240")
    r = run(a.spans, a.seats, a.rate, a.talk_s, a.duration, kill, progress=lambda m: print(m, file=sys.stderr),
            signalling=a.signalling)
    print(table(r))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(r, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
