"""Historical reports: each figure computed by hand for a small day of calls."""
import pytest

from callbox.config.store import Store
from callbox.stats.reports import agent_report, hourly, queue_report, staffing_from_history

T0 = 1_800_000_000.0      # a fixed instant; reports take [T0, T0 + 1 day)


@pytest.fixture
def st(tmp_path):
    s = Store(str(tmp_path))
    calls = [
        # id, start offset, queue, disposition, wait, talk, agent, ani
        ("a1", 100, "sales", "answered", 5, 100, "1001", "111"),
        ("a2", 200, "sales", "answered", 20, 200, "1002", "222"),
        ("a3", 300, "sales", "abandoned", 3, None, None, "333"),      # short abandon
        ("a4", 400, "sales", "abandoned", 40, None, None, "444"),
        ("a5", 500, "sales", "queue-timeout", 300, None, None, "555"),
        ("a6", 600, "sales", "queue-full", 0, None, None, "666"),     # blocked: not offered
        ("a7", 700, "support", "answered", 10, 300, "1001", "777"),
        ("a8", 5000, "sales", "abandoned", 10, None, None, "111"),     # 111 called again: a1 not resolved
        ("a9", 800, "sales", "callback", 12, None, None, "999"),
    ]
    for cid, off, q, disp, wait, talk, agent, ani in calls:
        start = T0 + off
        answer = start + wait if disp == "answered" else None
        end = (answer + talk) if answer else start + wait
        s.add_cdr({"call_id": cid, "start": start, "answer": answer, "end": end, "queue": q, "disposition": disp,
                   "wait_s": wait, "talk_s": talk, "agent": agent, "ani": ani, "survey": 1 if cid == "a2" else None})
    for t, login, state, reason in [
        (0, "1001", "not-ready", "signed in"), (50, "1001", "ready", ""), (105, "1001", "on-call", ""),
        (205, "1001", "acw", ""), (235, "1001", "ready", ""), (1000, "1001", "not-ready", "lunch"),
        (2800, "1001", "logged-out", ""),
    ]:
        s.execute("INSERT INTO agent_events(t, login, state, reason) VALUES(?, ?, ?, ?)", (T0 + t, login, state, reason))
    yield s
    s.close()


def test_queue_figures_and_service_level_variants(st):
    rows = {r["queue"]: r for r in queue_report(st, T0, T0 + 86400, sl_target_s=15, short_abandon_s=5)}
    s = rows["sales"]
    # offered: a1 a2 a3 a4 a5 a8 a9 = 7 (a6 was blocked)
    assert (s["offered"], s["answered"], s["abandoned"], s["abandoned_short"], s["timeouts"], s["blocked"],
            s["callbacks"]) == (7, 2, 3, 1, 1, 1, 1)
    assert s["sl_offered"] == pytest.approx(1 / 7)          # only a1 answered within 15 s
    assert s["sl_answered"] == pytest.approx(1 / 2)
    assert s["sl_ignore_short"] == pytest.approx(1 / 6)
    assert s["sl_positive"] == pytest.approx(3 / 7)         # a1 + abandons a3, a8 within 15 s
    assert s["asa_s"] == pytest.approx(12.5) and s["longest_wait_s"] == 300
    assert s["abandon_rate"] == pytest.approx(3 / 7)
    assert s["fcr"] == pytest.approx(1 / 2)                 # 111 called back within a day
    assert s["survey_n"] == 1 and s["survey_good"] == 1.0
    # 1001 did 30 s of ACW for its 2 answered calls (one each in sales and support)
    assert s["acw_s"] == pytest.approx(15 / 2) and s["aht_s"] == pytest.approx((300 + 15) / 2)
    assert rows["*"]["offered"] == 8 and rows["*"]["answered"] == 3


def test_agent_occupancy_and_pauses(st):
    a = {r["agent"]: r for r in agent_report(st, T0, T0 + 86400)}["1001"]
    assert a["answered"] == 2 and a["talk_s"] == 400
    assert a["signed_in_s"] == pytest.approx(2800) and a["paused_s"] == pytest.approx(50 + 1800)
    assert a["paused_by_reason"] == {"signed in": pytest.approx(50), "lunch": pytest.approx(1800)}
    assert a["occupancy"] == pytest.approx((100 + 30) / (2800 - 1850))


def test_hourly_traffic_and_staffing(st):
    hrs = hourly(st, T0, T0 + 86400)
    assert sum(h["calls"] for h in hrs) == 9 and len(hrs) == 24
    staff = staffing_from_history(st, T0, T0 + 86400, sl_target_s=15, target_sl=0.8)
    assert staff["calls_per_hour"] == 8 and staff["agents"] >= 1
