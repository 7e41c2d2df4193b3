"""Discrete-event simulation of the box's ACD: the real ``Acd`` on a simulated clock.

Model (the one ``erlang.py`` solves exactly when ivr = acw = 0): Poisson
arrivals; a call that finds all trunks busy is blocked and not offered;
otherwise it holds a trunk through a fixed IVR time, then enters the queue.
Patience is exponential, counted from queue entry; handle (talk) time is
exponential; after-call work is fixed and holds the agent, not the trunk.
Agents answer an offer at once. Only calls arriving inside the measurement
window [warmup, warmup + horizon] count; the run goes on until each of them
has been answered, abandoned or blocked.

Every routing decision is made by ``callbox.acd.acd.Acd``: the simulation only
plays the callers and the agents around it.
"""
import heapq
import itertools
import math
import random

from callbox.acd.acd import Acd
from callbox.acd.erlang import METRICS, check_model, check_number


class SimClock:
    """An event-list clock with the asyncio-like interface the Acd uses."""

    def __init__(self):
        self.now = 0.0
        self._heap = []
        self._seq = itertools.count()

    def time(self):
        return self.now

    def call_later(self, delay, fn, *args):
        h = _Timer(fn, args)
        heapq.heappush(self._heap, (self.now + max(delay, 0.0), next(self._seq), h))
        return h

    def step(self):
        """Run the next event; False when there is none."""
        while self._heap:
            t, _, h = heapq.heappop(self._heap)
            if h.cancelled:
                continue
            self.now = t
            h.fn(*h.args)
            return True
        return False


class _Timer:
    __slots__ = ("fn", "args", "cancelled")

    def __init__(self, fn, args):
        self.fn, self.args, self.cancelled = fn, args, False

    def cancel(self):
        self.cancelled = True


class _Call:
    __slots__ = ("call_id", "ani", "queue", "queued_at", "agent", "arrive", "counted", "wait", "outcome",
                 "patience_timer")

    def __init__(self, n, now, counted):
        self.call_id = "sim-%d" % n
        self.ani = ""
        self.queue = self.queued_at = self.agent = None
        self.arrive = now
        self.counted = counted
        self.wait = None
        self.outcome = None
        self.patience_timer = None


class _Run:
    """One replication: the callers, the agents and the measurements around a real Acd."""

    def __init__(self, p, seed):
        self.p = p
        self.rng = random.Random(seed)
        self.clock = SimClock()
        self.acd = Acd(self.clock, self, seed=seed)
        self.acd.add_queue("q", acw_s=p["acw"], sl_target_s=p["T"], short_abandon_s=p["short_abandon"],
                           ring_s=600.0, default_aht_s=p["aht"])
        for i in range(p["agents"]):
            login = "a%05d" % i
            self.acd.add_agent(login, login)
            self.acd.login(login, i + 1)
            self.acd.ready(login)
        self.busy_trunks = 0
        self.busy_agents = 0
        self.busy_area = 0.0
        self.last_t = 0.0
        self.start, self.end = p["warmup"], p["warmup"] + p["horizon"]
        self.pending = 0            # counted calls not yet resolved
        self.calls = []
        self.n = itertools.count()

    # -- the Acd's actions -----------------------------------------------------------------
    def offer(self, call, agent):
        self.clock.call_later(0.0, self._answer, agent, call)

    def cancel_offer(self, call, agent):
        pass

    def agent_changed(self, agent):
        pass

    # -- callers and agents ----------------------------------------------------------------
    def _account(self):
        now = self.clock.now
        lo, hi = max(self.last_t, self.start), min(now, self.end)
        if hi > lo:
            self.busy_area += self.busy_agents * (hi - lo)
        self.last_t = now

    def _arrival(self):
        now = self.clock.now
        if now <= self.end:
            self.clock.call_later(self.rng.expovariate(self.p["lam"]), self._arrival)
        counted = self.start <= now <= self.end
        call = _Call(next(self.n), now, counted)
        if counted:
            self.calls.append(call)
        if self.busy_trunks >= self.p["trunks"]:
            call.outcome = "blocked"
            return
        if counted:
            self.pending += 1
        self.busy_trunks += 1
        if self.p["ivr"]:
            self.clock.call_later(self.p["ivr"], self._enqueue, call)
        else:
            self._enqueue(call)

    def _enqueue(self, call):
        if self.p["patience"]:
            call.patience_timer = self.clock.call_later(self.rng.expovariate(1.0 / self.p["patience"]),
                                                        self._abandon, call)
        self.acd.enqueue(call, "q")

    def _abandon(self, call):
        if call.outcome is not None:
            return
        call.wait = self.clock.now - call.queued_at
        call.outcome = "abandoned"
        self.acd.abandon(call)
        self._release(call)

    def _answer(self, agent, call):
        if call.outcome is not None or not self.acd.answered(agent, call):
            return
        if call.patience_timer is not None:
            call.patience_timer.cancel()
        call.wait = self.clock.now - call.queued_at
        call.outcome = "answered"
        self._account()
        self.busy_agents += 1
        self.clock.call_later(self.rng.expovariate(1.0 / self.p["aht"]), self._hangup, agent, call)

    def _hangup(self, agent, call):
        self.acd.call_ended(agent)
        self._release(call)
        if self.p["acw"]:
            self.clock.call_later(self.p["acw"], self._agent_idle)
        else:
            self._agent_idle()

    def _agent_idle(self):
        self._account()
        self.busy_agents -= 1

    def _release(self, call):
        self.busy_trunks -= 1
        if call.counted:
            self.pending -= 1

    def run(self):
        self.clock.call_later(self.rng.expovariate(self.p["lam"]), self._arrival)
        while self.clock.step():
            if self.clock.now > self.end and self.pending == 0:
                break
        self.clock.now = max(self.clock.now, self.end)
        self._account()
        return self.metrics()

    def metrics(self):
        p = self.p
        arrived = len(self.calls)
        offered = [c for c in self.calls if c.outcome != "blocked"]
        ans = [c for c in offered if c.outcome == "answered"]
        ab = [c for c in offered if c.outcome == "abandoned"]
        n_off = len(offered)
        ab_short = sum(1 for c in ab if c.wait <= p["short_abandon"])
        ans_t = sum(1 for c in ans if c.wait <= p["T"])
        ab_t = sum(1 for c in ab if c.wait <= p["T"])

        def ratio(a, b):
            return a / b if b else 0.0
        return {
            "calls": arrived, "offered": n_off, "answered": len(ans), "abandoned": len(ab),
            "p_block": ratio(arrived - n_off, arrived),
            "p_wait": ratio(sum(1 for c in offered if c.wait > 0), n_off),
            "p_abandon": ratio(len(ab), n_off),
            "p_abandon_excl_short": ratio(len(ab) - ab_short, n_off - ab_short),
            "sl_offered": ratio(ans_t, n_off),
            "sl_answered": ratio(ans_t, len(ans)),
            "sl_ignore_short": ratio(ans_t, n_off - ab_short),
            "sl_positive": ratio(ans_t + ab_t, n_off),
            "asa_s": ratio(sum(c.wait for c in ans), len(ans)),
            "mean_wait_abandoned_s": ratio(sum(c.wait for c in ab), len(ab)),
            "occupancy": ratio(self.busy_area, p["agents"] * p["horizon"]),
            "routing_decisions": self.acd.decisions,
        }


def simulate(agents, trunks, calls_per_hour, aht, patience=None, ivr=0.0, acw=0.0, T=15.0, short_abandon=5.0,
             warmup=3600.0, horizon=36000.0, replications=10, seed=1, progress=None):
    """Run ``replications`` independent runs; returns {"params", "runs", "mean", "stderr"}.

    ``progress``, if given, is called as progress(done, total) after each run.
    """
    check_model(agents, trunks, calls_per_hour, aht, patience, ivr, acw, T, short_abandon)
    check_number("warmup", warmup, 0, 1e8)
    check_number("horizon", horizon, 1, 1e8)
    check_number("replications", replications, 1, 100000, integer=True)
    p = {"agents": int(agents), "trunks": int(trunks), "calls_per_hour": calls_per_hour, "lam": calls_per_hour / 3600.0,
         "aht": aht, "patience": patience, "ivr": ivr, "acw": acw, "T": T, "short_abandon": short_abandon,
         "warmup": warmup, "horizon": horizon, "replications": int(replications), "seed": seed}
    runs = []
    for r in range(int(replications)):
        runs.append(_Run(p, "%s/%d" % (seed, r)).run())
        if progress:
            progress(r + 1, int(replications))
    mean, stderr = {}, {}
    for m in METRICS:
        xs = [run[m] for run in runs]
        mu = sum(xs) / len(xs)
        mean[m] = mu
        stderr[m] = math.sqrt(sum((x - mu) ** 2 for x in xs) / (len(xs) - 1) / len(xs)) if len(xs) > 1 else None
    params = {k: v for k, v in p.items() if k != "lam"}
    return {"params": params, "runs": runs, "mean": mean, "stderr": stderr}
