"""Exact queueing figures: Erlang B, Erlang C and Erlang A with a trunk limit, plus staffing.

The model behind ``python -m callbox.acd erlang`` (and the reference the
simulation is tested against) is the birth-death chain M/M/N/K+M:

* Poisson arrivals at rate lam; a call that finds all K trunks busy is blocked;
* N agents, exponential handle time with mean ``aht`` (mu = 1/aht);
* exponential patience with mean ``patience`` counted from queue entry
  (theta = 1/patience; no patience = Erlang C, nobody abandons);
* FIFO service.

With n calls in the system the rates are lam (n < K) up and
min(n, N) mu + max(n - N, 0) theta down. An accepted arrival sees state n with
probability pi_n / (1 - pi_K) (PASTA). A call that finds n >= N waits behind
n - N others; while i calls are ahead the line moves at N mu + i theta, and the
call itself abandons at theta. That gives, per starting place, the chance of
being answered or abandoning and the mean wait of each by a first-step
recursion, and the chance of either within t seconds by uniformisation of the
same small absorbing chain. Everything is exact for that model.

Two inputs fall outside it: a fixed IVR time before the queue (``ivr``) and a
fixed after-call work (``acw``). With ``acw`` the agent's service is taken as
exponential with mean aht + acw; with ``ivr`` the trunk limit is solved on the
two-dimensional chain (calls in IVR, calls at the agents) with an exponential
IVR time of the same mean. Results then carry ``"exact": false``.
"""
import math

METRICS = ("p_block", "p_wait", "p_abandon", "p_abandon_excl_short", "sl_offered", "sl_answered",
           "sl_ignore_short", "sl_positive", "asa_s", "mean_wait_abandoned_s", "occupancy")


def erlang_b(servers, traffic):
    """Erlang B blocking probability for ``traffic`` erlangs on ``servers`` lines."""
    if servers < 0 or traffic < 0:
        raise ValueError("servers and traffic must not be negative")
    b = 1.0
    for n in range(1, int(servers) + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(servers, traffic):
    """Erlang C probability of waiting (infinite queue, nobody abandons); 1.0 when overloaded."""
    if traffic >= servers:
        return 1.0
    b = erlang_b(servers, traffic)
    return servers * b / (servers - traffic * (1.0 - b))


def check_number(name, value, lo, hi, integer=False):
    """Raise ValueError naming ``name`` unless value is a number (whole if asked) in [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and int(value) != value):
        raise ValueError("%s = %r must be %s" % (name, value, "a whole number" if integer else "a number"))
    if not lo <= value <= hi:
        raise ValueError("%s = %r must be from %g to %g" % (name, value, lo, hi))


def check_model(agents, trunks, calls_per_hour, aht, patience, ivr, acw, T, short_abandon):
    """Check the model's figures (shared by ``erlang`` and the simulation).

    Raises:
        ValueError: naming the figure and its allowed range.
    """
    check_number("agents", agents, 1, 100000, integer=True)
    check_number("trunks", trunks, 1, 100000, integer=True)
    check_number("calls_per_hour", calls_per_hour, 0.001, 1e7)
    check_number("aht", aht, 0.001, 86400)
    if patience is not None:
        check_number("patience", patience, 0.001, 1e7)
    for name, v in (("ivr", ivr), ("acw", acw), ("T", T), ("short_abandon", short_abandon)):
        check_number(name, v, 0, 86400)


def _stationary_1d(lam, mu, theta, agents, trunks):
    # unnormalised, in log space to stay finite for large K
    logp = [0.0]
    for n in range(1, trunks + 1):
        down = min(n, agents) * mu + max(n - agents, 0) * theta
        if down <= 0:
            raise ValueError("no agents and no patience: the queue never empties")
        logp.append(logp[-1] + math.log(lam) - math.log(down))
    top = max(logp)
    p = [math.exp(x - top) for x in logp]
    s = sum(p)
    return [x / s for x in p]


def _stationary_ivr(lam, mu, theta, agents, trunks, ivr):
    """Two-dimensional chain (m in IVR, n at the agents), m + n <= K, by Gauss-Seidel."""
    nu = 1.0 / ivr
    states = [(m, n) for m in range(trunks + 1) for n in range(trunks + 1 - m)]
    idx = {s: i for i, s in enumerate(states)}
    out = []
    for (m, n) in states:
        r = (lam if m + n < trunks else 0.0) + m * nu + min(n, agents) * mu + max(n - agents, 0) * theta
        out.append(r)
    inflow = [[] for _ in states]
    for i, (m, n) in enumerate(states):
        if m + n < trunks:
            inflow[idx[(m + 1, n)]].append((i, lam))
        if m:
            inflow[idx[(m - 1, n + 1)]].append((i, m * nu))
        if n:
            inflow[idx[(m, n - 1)]].append((i, min(n, agents) * mu + max(n - agents, 0) * theta))
    p = [1.0 / len(states)] * len(states)
    for _ in range(20000):
        delta = 0.0
        for i in range(len(states)):
            new = sum(p[j] * r for j, r in inflow[i]) / out[i] if out[i] else p[i]
            delta = max(delta, abs(new - p[i]))
            p[i] = new
        s = sum(p)
        p = [x / s for x in p]
        if delta < 1e-13:
            break
    return states, p


def _stage_outcomes(agents, mu, theta, stages):
    """For a call with i calls ahead (i = 0..stages-1): P(answered), P(abandoned),
    E[wait; answered], E[wait; abandoned]."""
    pa, pb, ea, eb = [], [], [], []
    prev = (1.0, 0.0, 0.0, 0.0)        # "i = -1": at a server
    for i in range(stages):
        move = agents * mu + i * theta
        r = move + theta
        q = move / r
        pa_i = q * prev[0]
        pb_i = theta / r + q * prev[1]
        ea_i = q * (prev[0] / r + prev[2])
        eb_i = (theta / r) / r + q * (prev[1] / r + prev[3])
        prev = (pa_i, pb_i, ea_i, eb_i)
        pa.append(pa_i), pb.append(pb_i), ea.append(ea_i), eb.append(eb_i)
    return pa, pb, ea, eb


def _within(agents, mu, theta, stages, t):
    """P(answered within t), P(abandoned within t) for each number of calls ahead, by
    uniformisation of the absorbing chain."""
    if stages == 0:
        return [], []
    if t <= 0:
        return [0.0] * stages, [0.0] * stages
    rates = [agents * mu + i * theta for i in range(stages)]
    lam_u = max(r + theta for r in rates)
    # g_served[i], g_aband[i] = P(absorbed by step k | start i), iterated backwards in k
    gs = [0.0] * stages
    ga = [0.0] * stages
    x = lam_u * t
    steps = int(x + 12 * math.sqrt(x) + 30)
    acc_s = [0.0] * stages
    acc_a = [0.0] * stages
    logw = -x                              # log Poisson(0; x)
    for k in range(steps + 1):
        w = math.exp(logw)
        for i in range(stages):
            acc_s[i] += w * gs[i]
            acc_a[i] += w * ga[i]
        ns, na = [], []
        for i in range(stages):
            stay = 1.0 - (rates[i] + theta) / lam_u
            down_s = 1.0 if i == 0 else gs[i - 1]
            down_a = 0.0 if i == 0 else ga[i - 1]
            ns.append(stay * gs[i] + rates[i] / lam_u * down_s)
            na.append(stay * ga[i] + rates[i] / lam_u * down_a + theta / lam_u)
        gs, ga = ns, na
        logw += math.log(x) - math.log(k + 1)
    return acc_s, acc_a


def erlang(agents, trunks, calls_per_hour, aht, patience=None, ivr=0.0, acw=0.0, T=15.0, short_abandon=5.0):
    """The figures ``simulate`` measures, from the queueing model (see the module docstring).

    Returns:
        dict: every name in METRICS, plus ``model``, ``exact`` and the offered load.
    """
    check_model(agents, trunks, calls_per_hour, aht, patience, ivr, acw, T, short_abandon)
    agents, trunks = int(agents), int(trunks)
    lam = calls_per_hour / 3600.0
    mu = 1.0 / (aht + acw)
    theta = 1.0 / patience if patience else 0.0
    if ivr > 0:
        states, p = _stationary_ivr(lam, mu, theta, agents, trunks, ivr)
        p_block = sum(pi for (m, n), pi in zip(states, p) if m + n == trunks)
        seen = [0.0] * (trunks + 1)         # what a call leaving the IVR finds at the agents
        for (m, n), pi in zip(states, p):
            seen[n] += pi * m / ivr
        tot = sum(seen)
        seen = [s / tot for s in seen] if tot else seen
        busy = sum(pi * min(n, agents) for (m, n), pi in zip(states, p))
    else:
        pi = _stationary_1d(lam, mu, theta, agents, trunks)
        p_block = pi[trunks]
        seen = [x / (1.0 - p_block) for x in pi[:trunks]] + [0.0] if p_block < 1 else [0.0] * (trunks + 1)
        busy = sum(x * min(n, agents) for n, x in enumerate(pi))
    stages = max(trunks - agents, 0)
    pa, pb, ea, eb = _stage_outcomes(agents, mu, theta, stages)
    sa_T, sb_T = _within(agents, mu, theta, stages, T)
    sa_S, sb_S = _within(agents, mu, theta, stages, short_abandon)
    acc = dict.fromkeys(("wait", "ans", "ab", "wa", "wb", "ansT", "abT", "abS"), 0.0)
    for n, w in enumerate(seen):
        if not w:
            continue
        if n < agents:
            acc["ans"] += w
            acc["ansT"] += w
            continue
        i = n - agents
        if i >= stages:
            continue
        acc["wait"] += w
        acc["ans"] += w * pa[i]
        acc["ab"] += w * pb[i]
        acc["wa"] += w * ea[i]
        acc["wb"] += w * eb[i]
        acc["ansT"] += w * sa_T[i]
        acc["abT"] += w * sb_T[i]
        acc["abS"] += w * sb_S[i]
    exact = not ivr and not acw
    short = acc["abS"]
    res = {
        "model": "erlang-a" if theta else "erlang-c", "exact": exact,
        "offered_erlangs": round(lam * (aht + acw), 6),
        "p_block": p_block,
        "p_wait": acc["wait"],
        "p_abandon": acc["ab"],
        "p_abandon_excl_short": (acc["ab"] - short) / (1.0 - short) if short < 1 else 0.0,
        "sl_offered": acc["ansT"],
        "sl_answered": acc["ansT"] / acc["ans"] if acc["ans"] else 0.0,
        "sl_ignore_short": acc["ansT"] / (1.0 - short) if short < 1 else 0.0,
        "sl_positive": acc["ansT"] + acc["abT"],
        "asa_s": acc["wa"] / acc["ans"] if acc["ans"] else 0.0,
        "mean_wait_abandoned_s": acc["wb"] / acc["ab"] if acc["ab"] else 0.0,
        "occupancy": busy / agents,
    }
    return res


def agents_needed(calls_per_hour, aht, T=15.0, target_sl=0.8, patience=None, trunks=None, max_agents=10000):
    """Smallest number of agents whose sl_offered reaches target_sl (Erlang C, or A with patience)."""
    check_number("target_sl", target_sl, 0.0, 0.9999)
    load = calls_per_hour * aht / 3600.0
    n = max(1, int(load))
    while n <= max_agents:
        k = trunks or max(n + 1, int(n + 10 * math.sqrt(load + 1) + 20))
        if erlang(n, k, calls_per_hour, aht, patience=patience, T=T)["sl_offered"] >= target_sl:
            return n
        n += 1
    raise ValueError("more than %d agents would be needed" % max_agents)


def sizing_formula(customers, peak_daily_rate, busy_hour_share, aht, max_occupancy):
    """The customer's sizing rule: customers x rate x busy-hour share x talk time / (3600 x occupancy)."""
    check_number("max_occupancy", max_occupancy, 0.01, 1.0)
    return customers * peak_daily_rate * busy_hour_share * aht / (3600.0 * max_occupancy)
