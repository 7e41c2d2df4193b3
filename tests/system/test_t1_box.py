"""A T1 PRI box (23B+D, ESF, mu-law) in simulation: one call from the simulated exchange
crosses the T1 span, the IVR (a DTMF digit in mu-law) and the queue to a simulated agent."""
import os
import subprocess
import sys

import pytest

from boxutil import free_port, stop_box, wait_until
from callbox.bus import socket_path
from callbox.bus.client import BusClient
from callbox.config.defaults import seed_simulation
from callbox.config.store import Store

pytestmark = pytest.mark.sim


def test_a_call_over_a_t1_pri_span(tmp_path):
    data, run, logs = str(tmp_path / "data"), str(tmp_path / "run"), str(tmp_path / "log")
    with Store(data) as st:
        seed_simulation(st, spans=1, seats=1)
        span = st.spans()[0]
        span.update(kind="T1", framing="esf", line_code="b8zs")
        st.put_span(span)
    proc = subprocess.Popen([sys.executable, "-m", "callbox.daemons.supervisor", "--sim", "--data-dir", data,
                             "--run-dir", run, "--log-dir", logs, "--web-port", str(free_port()), "--rate", "0",
                             "--talk-s", "1.5", "--talk-dist", "fixed"],
                            env=dict(os.environ, PYTHONUNBUFFERED="1"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    try:
        callctl = BusClient(socket_path(run, "callctl"), connect_timeout=30)
        farend = BusClient(socket_path(run, "farend"), connect_timeout=30)
        media = BusClient(socket_path(run, "media"), connect_timeout=30)
        wait_until(lambda: all(s["dchan"] == "up" for s in farend.request("farend.status")["spans"]), 30,
                   "the T1 PRI D-channel (channel 24) to come up")
        st = media.request("span.status")[0]
        assert st["kind"] == "T1" and st["up"] and st["framing"] == "esf"
        wait_until(lambda: any(a["state"] == "ready" for a in callctl.request("acd.agents")), 30, "the agent")
        callctl.subscribe(["call."])
        farend.request("farend.call", {"dnis": "10086", "ani": "2125550100", "digits": "1"})
        events = {}

        def seen(topic, d):
            events.setdefault(topic, d)
            return topic == "call.ended"
        callctl.wait_event(seen, timeout=60)
        assert events["call.new"]["chan"] <= 23 and events["call.digit"]["digit"] == "1"
        assert events["call.answered"]["agent"] == "1001"
        assert events["call.ended"]["disposition"] == "answered"
    finally:
        stop_box(proc, logs)
