"""python -m callbox.acd simulate | erlang | staff | size: the ACD's queueing tools.

  simulate  run the box's real ACD on a simulated clock (see callbox/acd/sim.py)
  erlang    the exact Erlang C / Erlang A figures for the same inputs (callbox/acd/erlang.py)
  staff     agents needed for a service-level target (Erlang C and Erlang A)
  size      the customer's sizing formula next to Erlang C
"""
import argparse
import json
import sys

from callbox.acd import erlang as erl
from callbox.acd.sim import simulate


def _model_args(p, need_trunks=True):
    p.add_argument("--agents", type=int, required=True, help="agents signed in and ready")
    p.add_argument("--trunks", type=int, required=need_trunks, help="trunk channels (calls beyond are blocked)")
    p.add_argument("--calls-per-hour", type=float, required=True, help="Poisson arrival rate")
    p.add_argument("--aht", type=float, required=True, help="mean handle (talk) time, seconds, exponential")
    p.add_argument("--patience", type=float, default=None,
                   help="mean patience from queue entry, seconds, exponential (default: nobody abandons)")
    p.add_argument("--ivr", type=float, default=0.0, help="fixed IVR time on the trunk before the queue, s")
    p.add_argument("--acw", type=float, default=0.0, help="fixed after-call work, s")
    p.add_argument("--T", type=float, default=15.0, help="service-level target, s (default 15)")
    p.add_argument("--short-abandon", type=float, default=5.0, help="short-abandon threshold, s (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON")


def _fmt(v):
    return "%.4f" % v if isinstance(v, float) else str(v)


def _table(rows, out):
    w = max(len(r[0]) for r in rows)
    for r in rows:
        out.write("%-*s  %s\n" % (w, r[0], "  ".join("%12s" % _fmt(x) if x is not None else "%12s" % "-"
                                                   for x in r[1:])))


def main(argv=None, out=sys.stdout, err=sys.stderr):
    ap = argparse.ArgumentParser(prog="python -m callbox.acd", description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    ps = sub.add_parser("simulate", help="discrete-event simulation of the real ACD")
    _model_args(ps)
    ps.add_argument("--warmup", type=float, default=3600.0, help="seconds before measuring (default 3600)")
    ps.add_argument("--horizon", type=float, default=36000.0, help="measured window, s (default 36000)")
    ps.add_argument("--replications", type=int, default=10, help="independent runs (default 10)")
    ps.add_argument("--seed", type=int, default=1)
    pe = sub.add_parser("erlang", help="exact Erlang C / Erlang A figures")
    _model_args(pe)
    pt = sub.add_parser("staff", help="agents needed for a service level")
    pt.add_argument("--calls-per-hour", type=float, required=True)
    pt.add_argument("--aht", type=float, required=True)
    pt.add_argument("--T", type=float, default=15.0)
    pt.add_argument("--target-sl", type=float, default=0.8, help="fraction answered within T (default 0.8)")
    pt.add_argument("--patience", type=float, default=None)
    pt.add_argument("--json", action="store_true")
    pz = sub.add_parser("size", help="customer sizing formula next to Erlang C")
    pz.add_argument("--customers", type=float, required=True)
    pz.add_argument("--peak-daily-rate", type=float, required=True, help="calls per customer per peak day")
    pz.add_argument("--busy-hour-share", type=float, required=True, help="share of the day's calls in the busy hour")
    pz.add_argument("--aht", type=float, required=True)
    pz.add_argument("--max-occupancy", type=float, default=0.75)
    pz.add_argument("--T", type=float, default=15.0)
    pz.add_argument("--target-sl", type=float, default=0.9)
    pz.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "simulate":
            def progress(done, total):
                if not a.json or err.isatty():
                    err.write("\rrun %d of %d" % (done, total) + ("\n" if done == total else ""))
                    err.flush()
            res = simulate(a.agents, a.trunks, a.calls_per_hour, a.aht, patience=a.patience, ivr=a.ivr, acw=a.acw,
                           T=a.T, short_abandon=a.short_abandon, warmup=a.warmup, horizon=a.horizon,
                           replications=a.replications, seed=a.seed, progress=progress)
            if a.json:
                json.dump(res, out, indent=1)
                out.write("\n")
            else:
                _table([("metric", "mean", "std. error")] +
                       [(m, res["mean"][m], res["stderr"][m]) for m in erl.METRICS], out)
        elif a.cmd == "erlang":
            res = erl.erlang(a.agents, a.trunks, a.calls_per_hour, a.aht, patience=a.patience, ivr=a.ivr, acw=a.acw,
                             T=a.T, short_abandon=a.short_abandon)
            if a.patience:
                c = erl.erlang(a.agents, a.trunks, a.calls_per_hour, a.aht, ivr=a.ivr, acw=a.acw, T=a.T,
                               short_abandon=a.short_abandon)
                res["erlang_c"] = {m: c[m] for m in erl.METRICS}
            if a.json:
                json.dump(res, out, indent=1)
                out.write("\n")
            else:
                out.write("model %s (%s), offered load %.3f erlangs\n" % (
                    res["model"], "exact" if res["exact"] else "approximate: IVR/ACW taken as exponential",
                    res["offered_erlangs"]))
                cols = [("metric", res["model"]) + (("erlang-c",) if a.patience else ())]
                _table(cols + [(m, res[m]) + ((res["erlang_c"][m],) if a.patience else ()) for m in erl.METRICS], out)
        elif a.cmd == "staff":
            c = erl.agents_needed(a.calls_per_hour, a.aht, T=a.T, target_sl=a.target_sl)
            res = {"erlang_c_agents": c}
            if a.patience:
                res["erlang_a_agents"] = erl.agents_needed(a.calls_per_hour, a.aht, T=a.T, target_sl=a.target_sl,
                                                           patience=a.patience)
            if a.json:
                json.dump(res, out)
                out.write("\n")
            else:
                for k, v in res.items():
                    out.write("%s: %d\n" % (k, v))
        elif a.cmd == "size":
            seats = erl.sizing_formula(a.customers, a.peak_daily_rate, a.busy_hour_share, a.aht, a.max_occupancy)
            cph = a.customers * a.peak_daily_rate * a.busy_hour_share
            c = erl.agents_needed(cph, a.aht, T=a.T, target_sl=a.target_sl)
            res = {"busy_hour_calls": cph, "formula_seats": seats, "erlang_c_agents": c,
                   "erlang_c_occupancy": cph * a.aht / 3600.0 / c}
            if a.json:
                json.dump(res, out)
                out.write("\n")
            else:
                out.write("busy-hour calls %.0f; sizing formula: %.1f seats; Erlang C for %.0f%% in %gs: %d agents"
                          " (occupancy %.1f%%)\n" % (cph, seats, 100 * a.target_sl, a.T, c,
                                                    100 * res["erlang_c_occupancy"]))
    except ValueError as e:
        err.write("error: %s\n" % e)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
