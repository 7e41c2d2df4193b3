#!/usr/bin/env python3
"""CallBox benchmarks (make bench). Prints one table.

Each figure is a ratio against a named reference measured in the same run:
* media engine tick: CPU time of one 20 ms tick against the 20 ms real-time budget, for 2 and
  8 E1 spans with DTMF detection on every channel and every channel recorded (the tick runs
  against in-process simulated pairs, ticked back to back, not on the timer);
* G.711 decode: our C bank against Python's audioop (when the running Python has it).
* DTMF receive: our bank against libspandsp's dtmf_rx on the same 240-channel signal
  (tools/bench_dsp.py; the peer column is empty without libspandsp-dev).
* ACD: routing decisions per second of the real Acd with 1000 agents in 100 queues, and the p99
  latency of one ACD call against one 20 ms media tick (the box must never stall on routing).
* line layer (tools/bench_line.py): E1 (CRC-4) and T1 ESF spans one core deframes in real time,
  against a plain memory copy of the same bytes.
* SIP seats (tools/bench_sip.py): the media tick with 40 SIP phones in recorded calls (80 RTP
  streams, phones in another process) against the same engine with 40 simulated seats.
* web UI (tools/bench_web.py): p50/p95 latency of pages and APIs under 20 concurrent users,
  against Python's http.server serving a file of the dashboard's size.
* the whole box (tools/loadtest.py, skipped with --no-load): 2 E1 / 40 agents at design load and
  overload and 8 E1 with every call recorded: CPU per daemon and channel, tick overruns, routing
  latency, service level and ASA against Erlang C, CDRs versus calls, recordings versus answers.
"""
import array
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "firmware"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

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


def time_acd(nagents=1000, nqueues=100, ncalls=20000, seed=3):
    """Routing decisions of the real Acd with 1000 agents in 100 queues, each agent with 5 skills,
    at a load that keeps most agents busy; every Acd entry point is timed."""
    import random
    from callbox.acd.acd import Acd
    from callbox.acd.sim import SimClock
    rng = random.Random(seed)
    clock = SimClock()
    lat = []

    class Act:
        def offer(self, call, agent):
            clock.call_later(rng.uniform(1, 4), answer, agent, call)

        def cancel_offer(self, call, agent):
            pass

        def agent_changed(self, agent):
            pass

    acd = Acd(clock, Act(), seed=seed)
    for q in range(nqueues):
        acd.add_queue("q%03d" % q, skills={"s%03d" % q: 1}, acw_s=10, strategy=("longest-idle", "most-skills",
                      "fewest-calls", "round-robin")[q % 4])
    for a in range(nagents):
        acd.add_agent("a%04d" % a, "a", {"s%03d" % q: rng.randint(1, 5) for q in rng.sample(range(nqueues), 5)})
        acd.login("a%04d" % a, a + 1)
        acd.ready("a%04d" % a)

    def timed(fn, *args):
        t = time.perf_counter()
        r = fn(*args)
        lat.append(time.perf_counter() - t)
        return r

    def answer(agent, call):
        if timed(acd.answered, agent, call):
            clock.call_later(rng.expovariate(1 / 170.0), hangup, agent)

    def hangup(agent):
        timed(acd.call_ended, agent)

    class C:
        def __init__(self, i):
            self.call_id = "c%d" % i

    rate = nagents * 0.95 / 185.0          # ~95 % occupancy
    t = 0.0
    for i in range(ncalls):
        t += rng.expovariate(rate)
        clock.call_later(t - clock.now, lambda i=i: timed(acd.enqueue, C(i), "q%03d" % rng.randrange(nqueues)))
    start = time.perf_counter()
    d0 = acd.decisions
    while clock.step():
        pass
    wall = time.perf_counter() - start
    lat.sort()
    return acd.decisions - d0, sum(lat), lat[int(0.99 * len(lat))], wall


def main():
    rows = []
    n, busy, p99, wall = time_acd()
    rows.append(("ACD, 1000 agents in 100 queues", "%.0f/s" % (n / busy),
                 "p99 %.4f of one 20 ms tick" % (p99 / 0.020),
                 "%d decisions, p99 %.0f us per ACD call" % (n, p99 * 1e6)))
    for nspans in (2, 8):
        per_tick, nch, ndig = time_box_tick(nspans)
        rows.append(("media tick, %d E1 (%d ch, DTMF+rec on all)" % (nspans, nch),
                     "%.2f ms" % (per_tick * 1e3), "%.3f of the 20 ms budget" % (per_tick / 0.020),
                     "%.1f us/channel, %d digits seen" % (per_tick * 1e6 / nch, ndig)))
    g = g711_ratio()
    if g:
        rows.append(("A-law decode, 240 ch x 20 ms", "%.1f us" % (g[0] / 200 * 1e6),
                     "%.2fx audioop's time" % (g[0] / g[1]), "peer: Python audioop.alaw2lin"))
    import bench_dsp
    for name, ours, peer, note in bench_dsp.run():
        rows.append((name, "%.1f ms" % (ours * 1e3), "%.2fx spandsp's time" % (ours / peer) if peer else "-", note))
    w = [max(len(r[i]) for r in rows) for i in range(4)]
    print("%-*s  %*s  %-*s  %s" % (w[0], "benchmark", w[1], "time", w[2], "ratio", "notes"))
    for r in rows:
        print("%-*s  %*s  %-*s  %s" % (w[0], r[0], w[1], r[1], w[2], r[2], r[3]))
    sys.stdout.flush()
    # the line layer: E1 / T1 spans per core against a memory copy of the same bytes (tools/bench_line.py)
    import bench_line
    print("\n== line layer, receive")
    print(bench_line.format_rows(bench_line.run()))
    sys.stdout.flush()
    # IP seats: 40 SIP phones in recorded calls against the simulated-seat peer (tools/bench_sip.py)
    import bench_sip
    print("\n== SIP seats, 40 recorded calls, 10 s each run")
    sys.stdout.flush()
    print(bench_sip.format_rows(bench_sip.run("sip", 40, 10.0), bench_sip.run("sim", 40, 10.0)))
    sys.stdout.flush()
    # the web UI under 20 concurrent users against http.server serving a file (tools/bench_web.py)
    import bench_web
    print("\n== web UI, 20 users, 10 s")
    print(bench_web.format_rows(bench_web.run(20, 10.0)))
    sys.stdout.flush()
    if "--no-load" in sys.argv:
        return
    # the whole box in simulation (tools/loadtest.py): design load, overload, 8 E1 fully recorded
    import loadtest
    for title, kw in (("2 E1, 40 agents, design load (~80 % occupancy)", dict(spans=2, seats=40, rate=57, talk_s=30)),
                      ("2 E1, 40 agents, overload (~115 %)", dict(spans=2, seats=40, rate=82, talk_s=30)),
                      ("8 E1, 120 agents, every call recorded, DTMF on", dict(spans=8, seats=120, rate=170,
                                                                               talk_s=30))):
        print("\n== %s, 120 s of traffic" % title)
        sys.stdout.flush()
        print(loadtest.table(loadtest.run(duration=120, progress=lambda m: None, **kw)))


if __name__ == "__main__":
    main()
