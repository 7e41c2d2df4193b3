"""A T1 PRI box (23B+D, ESF, mu-law) in simulation: one call from the simulated exchange
crosses the T1 span, the IVR (a DTMF digit in mu-law) and the queue to a simulated agent."""
import pytest

from boxutil import start_sim_box, stop_box, wait_until
from callbox.bus import socket_path
from callbox.bus.client import BusClient

pytestmark = pytest.mark.sim


def test_a_call_over_a_t1_pri_span(tmp_path):
    def configure(st):
        span = st.spans()[0]
        span.update(kind="T1", framing="esf", line_code="b8zs")
        st.put_span(span)
    proc, dirs = start_sim_box(tmp_path, configure=configure)
    run, logs = dirs["run"], dirs["log"]
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
