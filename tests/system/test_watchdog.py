"""The supervisor drives the board (simulated here: <run>/sim/board.json): the watchdog is fed
only while the media tick advances and every daemon runs, the status LED says so, and each
span's alarm LED follows the span."""
import json
import os
import signal
import time

import pytest

from boxutil import start_sim_box, stop_box, wait_until
from callbox.bus import socket_path
from callbox.bus.client import BusClient

pytestmark = pytest.mark.sim


def test_watchdog_is_fed_only_while_the_media_tick_runs_and_leds_follow_the_spans(tmp_path):
    proc, dirs = start_sim_box(tmp_path, extra=["--health-every", "0.25"])
    run, logs = dirs["run"], dirs["log"]
    media_pid = None
    try:
        sup = BusClient(socket_path(run, "supervisor"), connect_timeout=30)
        media = BusClient(socket_path(run, "media"), connect_timeout=30)
        board = os.path.join(run, "sim", "board.json")

        def state():
            with open(board) as f:
                return json.load(f)
        wait_until(lambda: (sup.request("sup.health") or {}).get("healthy"), 30, "a healthy box")
        wait_until(lambda: state()["leds"].get("span0_alarm") is False, 30, "the span LED to go off (span up)")
        f0 = state()["watchdog"]["feeds"]
        wait_until(lambda: state()["watchdog"]["feeds"] >= f0 + 3, 10, "the watchdog to be fed")
        assert state()["leds"]["power"] and state()["leds"]["status"]
        # a line fault lights the span's alarm LED, and it goes out when the fault clears
        media.request("span.impair", {"span": 0, "los": True, "side": "rx"})
        wait_until(lambda: state()["leds"]["span0_alarm"], 10, "the span alarm LED")
        media.request("span.impair", {"span": 0, "los": False, "side": "rx"})
        wait_until(lambda: not state()["leds"]["span0_alarm"], 15, "the span alarm LED to go out")
        # the media tick stops (the process hangs): no more feeding, the status LED goes out
        media_pid = {d["name"]: d for d in sup.request("sup.status")}["media"]["pid"]
        os.kill(media_pid, signal.SIGSTOP)
        wait_until(lambda: not state()["leds"]["status"], 15, "the status LED to go out")
        assert "media" in sup.request("sup.health")["why"]
        stalled = state()["watchdog"]["feeds"]
        time.sleep(1.5)
        assert state()["watchdog"]["feeds"] == stalled, "a hung media engine must starve the watchdog"
        os.kill(media_pid, signal.SIGCONT)
        media_pid = None
        wait_until(lambda: state()["watchdog"]["feeds"] > stalled and state()["leds"]["status"], 15,
                   "feeding to resume")
    finally:
        if media_pid:
            os.kill(media_pid, signal.SIGCONT)
        stop_box(proc, logs)
    assert json.load(open(board))["watchdog"]["disarmed"], "a clean stop disarms the watchdog"
