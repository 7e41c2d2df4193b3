"""The Erlang calculator against textbook results, and the ACD simulation against the calculator."""
import io
import json
import math

import pytest

from callbox.acd import erlang as erl
from callbox.acd.__main__ import main
from callbox.acd.erlang import METRICS
from callbox.acd.sim import simulate


def test_erlang_b_and_c_textbook_values():
    assert erl.erlang_b(10, 10) == pytest.approx(0.21458, abs=1e-5)
    assert erl.erlang_b(1, 1) == pytest.approx(0.5)
    assert erl.erlang_c(3, 2) == pytest.approx(4 / 9, abs=1e-12)   # 2 erlangs on 3 agents
    assert erl.erlang_c(11, 10) == pytest.approx(0.6821, abs=1e-4)
    assert erl.erlang_c(2, 2) == 1.0


def test_erlang_c_closed_forms_with_ample_trunks():
    n, cph, aht, t = 12, 200, 180, 20.0
    a = cph * aht / 3600
    r = erl.erlang(n, 400, cph, aht, T=t)
    c = erl.erlang_c(n, a)
    assert r["model"] == "erlang-c" and r["exact"]
    assert r["p_wait"] == pytest.approx(c, rel=1e-9)
    assert r["asa_s"] == pytest.approx(c * aht / (n - a), rel=1e-9)
    assert r["sl_offered"] == pytest.approx(1 - c * math.exp(-(n - a) * t / aht), rel=1e-6)
    assert r["occupancy"] == pytest.approx(a / n, rel=1e-9)
    assert r["p_abandon"] == 0 and r["p_block"] < 1e-12


def test_erlang_a_with_patience_equal_to_handle_time_is_poisson():
    # theta = mu: the number of calls present is Poisson(A) (M/M/infinity)
    n, cph, aht = 8, 200, 180
    a = cph * aht / 3600
    pois = [math.exp(-a + k * math.log(a) - math.lgamma(k + 1)) for k in range(200)]
    r = erl.erlang(n, 199, cph, aht, patience=aht)
    assert r["p_wait"] == pytest.approx(sum(pois[n:]), rel=1e-9)
    assert r["p_abandon"] == pytest.approx(sum((k - n) * p for k, p in enumerate(pois) if k > n) / a, rel=1e-9)


def test_finite_trunks_give_erlang_b_when_agents_cover_them():
    r = erl.erlang(30, 20, 600, 120)          # 20 erlangs on 20 trunks, agents to spare
    assert r["p_block"] == pytest.approx(erl.erlang_b(20, 20), rel=1e-9)
    assert r["p_wait"] == 0 and r["sl_offered"] == pytest.approx(1.0)


def test_finite_queue_blocking_matches_a_direct_birth_death_solution():
    n, k, lam, mu = 3, 6, 4 / 60, 1 / 60
    p = [1.0]
    for i in range(1, k + 1):
        p.append(p[-1] * lam / (min(i, n) * mu))
    s = sum(p)
    r = erl.erlang(n, k, lam * 3600, 60)
    assert r["p_block"] == pytest.approx(p[k] / s, rel=1e-12)
    assert r["p_wait"] == pytest.approx(sum(p[n:k]) / s / (1 - p[k] / s), rel=1e-12)


def test_staffing_and_sizing():
    n = erl.agents_needed(360, 240, T=20, target_sl=0.8)
    # 24 erlangs: the smallest N with SL >= 80 %
    assert erl.erlang(n, 500, 360, 240, T=20)["sl_offered"] >= 0.8 > erl.erlang(n - 1, 500, 360, 240, T=20)["sl_offered"]
    # the customer's worked example: 666.6 seats
    assert erl.sizing_formula(20_000_000, 0.003, 0.2, 150, 0.75) == pytest.approx(666.67, abs=0.01)


@pytest.mark.parametrize("kw, msg", [
    ({"agents": 0}, "agents = 0"),
    ({"agents": 2.5}, "whole number"),
    ({"aht": -1}, "aht = -1"),
    ({"patience": 0}, "patience = 0"),
])
def test_bad_figures_are_named(kw, msg):
    args = dict(agents=5, trunks=10, calls_per_hour=60, aht=120)
    args.update(kw)
    with pytest.raises(ValueError, match=msg):
        erl.erlang(**args)
    with pytest.raises(ValueError, match=msg):
        simulate(**args, replications=1, horizon=100)


CASES = [
    # agents, trunks, calls/h, aht, patience: box-sized cases (a 2 E1 box has 60 trunks)
    dict(agents=10, trunks=30, calls_per_hour=180, aht=180, patience=120),
    dict(agents=20, trunks=30, calls_per_hour=400, aht=170, patience=90),
    dict(agents=5, trunks=8, calls_per_hour=90, aht=180, patience=None),
]


@pytest.mark.parametrize("case", CASES)
def test_simulation_of_the_real_acd_matches_the_exact_model(case):
    sim = simulate(**case, warmup=3600, horizon=72000, replications=6, seed=11)
    ref = erl.erlang(**case)
    for m in METRICS:
        se = sim["stderr"][m]
        tol = 4.5 * se + (0.01 if not m.endswith("_s") else 0.5)
        assert abs(sim["mean"][m] - ref[m]) <= tol, (m, sim["mean"][m], ref[m], se)


def test_simulation_keeps_conservation_with_ivr_and_acw():
    # no abandonment: every offered call is handled; agents are busy aht + acw per call
    case = dict(agents=12, trunks=25, calls_per_hour=150, aht=200, ivr=20, acw=30)
    sim = simulate(**case, warmup=3600, horizon=72000, replications=4, seed=5)
    m = sim["mean"]
    expected = 150 / 3600 * (1 - m["p_block"]) * (200 + 30) / 12
    assert m["occupancy"] == pytest.approx(expected, rel=0.05)
    assert m["p_abandon"] == 0
    ref = erl.erlang(**case)
    assert not ref["exact"]
    assert abs(m["p_block"] - ref["p_block"]) < 0.03


def test_cli_simulate_and_erlang_print_json():
    out, err = io.StringIO(), io.StringIO()
    assert main(["simulate", "--agents", "4", "--trunks", "8", "--calls-per-hour", "60", "--aht", "180",
                 "--patience", "60", "--horizon", "7200", "--warmup", "600", "--replications", "3", "--seed", "2",
                 "--json"], out, err) == 0
    res = json.loads(out.getvalue())
    assert len(res["runs"]) == 3 and set(METRICS) <= set(res["mean"]) and set(METRICS) <= set(res["stderr"])
    out = io.StringIO()
    assert main(["erlang", "--agents", "4", "--trunks", "8", "--calls-per-hour", "60", "--aht", "180",
                 "--patience", "60", "--json"], out, err) == 0
    res = json.loads(out.getvalue())
    assert res["model"] == "erlang-a" and set(METRICS) <= set(res) and set(METRICS) <= set(res["erlang_c"])
    err = io.StringIO()
    assert main(["erlang", "--agents", "0", "--trunks", "8", "--calls-per-hour", "60", "--aht", "180"],
                io.StringIO(), err) == 2
    assert "agents = 0" in err.getvalue()
