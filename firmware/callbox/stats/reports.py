"""Historical reports per queue and per agent, from the CDRs and the agent event log.

Definitions (printed with every report, so nobody has to guess):

* offered: calls that entered the queue and were not blocked by a queue rule
  (answered + abandoned + timed out + turned into a callback or a voicemail);
  blocked: refused on entry (queue full, nobody signed in);
* abandoned: the caller hung up before any agent answered; short abandons wait
  ``short_abandon_s`` or less; an answered call is never an abandon;
* service level, four variants over the target T: ``sl_offered`` = answered
  within T / offered (the default), ``sl_answered`` = answered within T /
  answered, ``sl_ignore_short`` = answered within T / (offered - short
  abandons), ``sl_positive`` = (answered + abandoned, both within T) / offered;
* ASA: mean wait of answered calls; AHT: mean talk + hold + after-call work of
  answered calls (hold is not yet measured and counts 0);
* first-call resolution: answered calls whose caller did not call again within
  ``repeat_window_s`` (default 24 h) after the call ended;
* occupancy (agents): time ringing, talking or in after-call work / time signed
  in and not paused.
"""
import collections
import time

from callbox.acd.erlang import agents_needed

BLOCKED = ("queue-full", "queue-empty")
OFFERED = ("answered", "abandoned", "queue-timeout", "callback", "voicemail")


def _mean(xs):
    xs = list(xs)
    return sum(xs) / len(xs) if xs else None


def _ratio(a, b):
    return a / b if b else None


def agent_intervals(store, t0, t1):
    """{login: [(state, reason, start, end)]} clipped to [t0, t1)."""
    rows = store.query("SELECT login, t, state, reason FROM agent_events WHERE t < ? ORDER BY login, t, id", (t1,))
    out = collections.defaultdict(list)
    by_login = collections.defaultdict(list)
    for r in rows:
        by_login[r["login"]].append(r)
    for login, evs in by_login.items():
        for i, e in enumerate(evs):
            end = evs[i + 1]["t"] if i + 1 < len(evs) else min(t1, time.time())
            a, b = max(e["t"], t0), min(end, t1)
            if b > a:
                out[login].append((e["state"], e["reason"], a, b))
    return out


def queue_report(store, t0, t1, sl_target_s=15.0, short_abandon_s=5.0, repeat_window_s=86400.0):
    """Per-queue figures for calls that started in [t0, t1); the row named '*' is all queues."""
    cdrs = store.query("SELECT * FROM cdr WHERE start >= ? AND start < ? AND queue IS NOT NULL "
                       "AND disposition NOT LIKE 'callback-%' ORDER BY start", (t0, t1))
    later = store.query("SELECT ani, start FROM cdr WHERE start >= ? AND start < ? AND ani != ''",
                        (t0, t1 + repeat_window_s))
    calls_by_ani = collections.defaultdict(list)
    for r in later:
        calls_by_ani[r["ani"]].append(r["start"])
    acw = collections.defaultdict(float)
    for login, ivs in agent_intervals(store, t0, t1 + 3600).items():
        acw[login] = sum(b - a for st, _, a, b in ivs if st == "acw")
    groups = collections.defaultdict(list)
    for c in cdrs:
        groups[c["queue"]].append(c)
        groups["*"].append(c)
    out = []
    for name in sorted(groups, key=lambda n: (n == "*", n)):
        cs = groups[name]
        disp = collections.Counter(c["disposition"] for c in cs)
        offered = sum(disp[d] for d in OFFERED)
        ans = [c for c in cs if c["disposition"] == "answered"]
        ab = [c for c in cs if c["disposition"] == "abandoned"]
        short = sum(1 for c in ab if (c["wait_s"] or 0) <= short_abandon_s)
        ans_t = sum(1 for c in ans if (c["wait_s"] or 0) <= sl_target_s)
        ab_t = sum(1 for c in ab if (c["wait_s"] or 0) <= sl_target_s)
        # ACW per answered call: each agent's ACW time shared over its answered calls
        agent_calls = collections.Counter(c["agent"] for c in ans)
        all_agent_calls = collections.Counter(c["agent"] for c in groups["*"] if c["disposition"] == "answered")
        acw_sum = sum(acw.get(a, 0.0) * n / all_agent_calls[a] for a, n in agent_calls.items() if all_agent_calls[a])
        talk = [c["talk_s"] or 0.0 for c in ans]
        repeats = sum(1 for c in ans if c["ani"] and any(c["end"] < t <= c["end"] + repeat_window_s
                                                           for t in calls_by_ani[c["ani"]]))
        surveys = [c["survey"] for c in cs if c["survey"]]
        out.append({
            "queue": name, "offered": offered, "answered": len(ans), "abandoned": len(ab),
            "abandoned_short": short, "timeouts": disp["queue-timeout"], "callbacks": disp["callback"],
            "voicemail": disp["voicemail"], "blocked": sum(disp[d] for d in BLOCKED),
            "sl_offered": _ratio(ans_t, offered), "sl_answered": _ratio(ans_t, len(ans)),
            "sl_ignore_short": _ratio(ans_t, offered - short), "sl_positive": _ratio(ans_t + ab_t, offered),
            "abandon_rate": _ratio(len(ab), offered),
            "asa_s": _mean(c["wait_s"] or 0.0 for c in ans),
            "longest_wait_s": max((c["wait_s"] or 0.0 for c in cs if c["disposition"] in OFFERED), default=None),
            "talk_s": _mean(talk), "acw_s": _ratio(acw_sum, len(ans)), "hold_s": 0.0 if ans else None,
            "aht_s": _ratio(sum(talk) + acw_sum, len(ans)),
            "fcr": _ratio(len(ans) - repeats, len(ans)),
            "survey_n": len(surveys), "survey_good": _ratio(sum(1 for s in surveys if s == 1), len(surveys)),
        })
    return out


def hourly(store, t0, t1):
    """Per local hour of day: offered, answered, abandoned, mean talk (the traffic curve)."""
    rows = store.query("SELECT start, disposition, talk_s FROM cdr WHERE start >= ? AND start < ? "
                       "AND disposition NOT LIKE 'callback-%'", (t0, t1))
    hours = {h: {"hour": h, "calls": 0, "answered": 0, "abandoned": 0, "talk": []} for h in range(24)}
    for r in rows:
        h = hours[time.localtime(r["start"]).tm_hour]
        h["calls"] += 1
        if r["disposition"] == "answered":
            h["answered"] += 1
            h["talk"].append(r["talk_s"] or 0.0)
        elif r["disposition"] == "abandoned":
            h["abandoned"] += 1
    days = max(1.0, (t1 - t0) / 86400.0)
    out = []
    for h in range(24):
        x = hours[h]
        out.append({"hour": h, "calls": x["calls"], "answered": x["answered"], "abandoned": x["abandoned"],
                    "calls_per_day": x["calls"] / days, "talk_s": _mean(x["talk"])})
    return out


def agent_report(store, t0, t1):
    """Per agent: answered, talk, ACW, ready, paused by reason, signed-in time, occupancy."""
    ivs = agent_intervals(store, t0, t1)
    ans = collections.defaultdict(list)
    for r in store.query("SELECT agent, talk_s FROM cdr WHERE start >= ? AND start < ? AND agent IS NOT NULL "
                         "AND (disposition = 'answered' OR disposition = 'callback-answered')", (t0, t1)):
        ans[r["agent"]].append(r["talk_s"] or 0.0)
    out = []
    for login in sorted(set(ivs) | set(ans)):
        t = collections.Counter()
        paused = collections.Counter()
        for st, reason, a, b in ivs.get(login, []):
            t[st] += b - a
            if st == "not-ready":
                paused[reason or "-"] += b - a
        signed_in = sum(v for k, v in t.items() if k != "logged-out")
        working = t["ringing"] + t["on-call"] + t["acw"]
        available = signed_in - t["not-ready"]
        out.append({"agent": login, "answered": len(ans[login]), "talk_s": sum(ans[login]),
                    "acw_s": t["acw"], "ready_s": t["ready"], "paused_s": t["not-ready"],
                    "paused_by_reason": dict(paused), "signed_in_s": signed_in,
                    "occupancy": _ratio(working, available),
                    "aht_s": _ratio(sum(ans[login]) + t["acw"], len(ans[login]))})
    return out


def staffing_from_history(store, t0, t1, sl_target_s=15.0, target_sl=0.8):
    """Agents Erlang C asks for in the busiest hour of the period (from the box's own calls)."""
    hrs = hourly(store, t0, t1)
    busiest = max(hrs, key=lambda h: h["calls_per_day"])
    if not busiest["calls"] or not busiest["talk_s"]:
        return None
    cph = busiest["calls_per_day"]
    return {"hour": busiest["hour"], "calls_per_hour": cph, "aht_s": busiest["talk_s"],
            "agents": agents_needed(cph, busiest["talk_s"], T=sl_target_s, target_sl=target_sl),
            "target": "%.0f%% answered within %gs" % (100 * target_sl, sl_target_s)}
