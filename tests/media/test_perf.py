"""Performance registers: ES/SES/BES/UAS/CSS/FLS classification, intervals, 24 h."""
from callbox.media.perf import PerfMonitor

T0 = 1_800_000_000.0 - 1_800_000_000.0 % 900        # a quarter-hour boundary


def run(pm, seconds, start=0, **kw):
    for i in range(seconds):
        pm.second(T0 + start + i, **kw)


def test_clean_seconds_count_nothing():
    pm = PerfMonitor(T0)
    run(pm, 60)
    assert set(pm.snapshot()["current"].values()) == {0}


def test_errored_bursty_and_severe_seconds():
    pm = PerfMonitor(T0)
    pm.second(T0 + 1, crc_errors=1)                  # ES
    pm.second(T0 + 2, crc_errors=5)                  # ES + BES
    pm.second(T0 + 3, crc_errors=400)                # ES + SES
    pm.second(T0 + 4, lof=True)                      # ES + SES + FLS
    pm.second(T0 + 5, slips=1, bpv=7)                # CSS, LCV
    c = pm.snapshot()["current"]
    assert (c["es"], c["bes"], c["ses"], c["fls"], c["css"], c["lcv"], c["pcv"]) == (4, 1, 2, 1, 1, 7, 406)


def test_ten_severe_seconds_become_unavailable_from_the_first_and_back():
    pm = PerfMonitor(T0)
    run(pm, 5)
    run(pm, 12, start=5, los=True)                   # 12 SES: all unavailable
    run(pm, 9, start=17)                             # not yet 10 clean seconds: still unavailable
    c = pm.snapshot()["current"]
    assert c["uas"] == 21 and c["ses"] == 0 and c["es"] == 0
    run(pm, 1, start=26)                             # the 10th clean second: available again
    c = pm.snapshot()["current"]
    assert c["uas"] == 12 and c["es"] == 0 and c["fls"] == 12


def test_nine_severe_seconds_stay_available():
    pm = PerfMonitor(T0)
    run(pm, 9, lof=True)
    run(pm, 20, start=9)
    c = pm.snapshot()["current"]
    assert (c["ses"], c["es"], c["uas"]) == (9, 9, 0)


def test_intervals_roll_on_quarter_hours_into_24h():
    pm = PerfMonitor(T0)
    pm.second(T0 + 10, crc_errors=1)
    pm.second(T0 + 900 + 10, crc_errors=1)
    pm.second(T0 + 1800 + 10)
    snap = pm.snapshot()
    assert snap["intervals"] == 2 and snap["last_24h"]["es"] == 2 and snap["current"]["es"] == 0
    for i in range(100):
        pm.second(T0 + 2700 + i * 900)
    assert pm.snapshot()["intervals"] == 96
