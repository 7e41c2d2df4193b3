"""An MFC/R2 box (China No. 1 and ITU) in simulation: calls from the simulated exchange seize
a timeslot in the TS16 CAS bits, send the number and the caller's number and category in
compelled MF tones, cross the IVR (a DTMF digit) and the queue to a simulated agent; the
recording and the call record name the caller."""
import pytest

from boxutil import start_sim_box, stop_box, wait_until
from callbox.auth import hash_password
from callbox.bus import socket_path
from callbox.bus.client import BusClient
from callbox.bus.router import BusRouter
from callbox.console.shell import Shell
from callbox.config.store import Store

pytestmark = pytest.mark.sim


@pytest.mark.parametrize("variant", ["r2-cn", "r2-itu"])
def test_a_call_over_an_r2_span(tmp_path, variant):
    def configure(st):
        span = st.spans()[0]
        span.update(signalling=variant, framing="no-crc4")
        st.put_span(span)
        st.set_setting("r2", {"dnis_digits": 5})
    proc, dirs = start_sim_box(tmp_path, configure=configure)
    data, run, logs = dirs["data"], dirs["run"], dirs["log"]
    try:
        callctl = BusClient(socket_path(run, "callctl"), connect_timeout=30)
        farend = BusClient(socket_path(run, "farend"), connect_timeout=30)
        media = BusClient(socket_path(run, "media"), connect_timeout=30)
        wait_until(lambda: all(s["dchan"] == "up" for s in farend.request("farend.status")["spans"]), 30,
                   "the R2 span (frame and CAS multiframe alignment)")
        wait_until(lambda: all(s["dchan"] == "up" for s in callctl.request("sig.status")), 30, "the box's R2 span")
        cas = media.request("span.cas", {"span": 0})
        assert cas["aligned"] and cas["rx"]["1"] == (0b1011 if variant == "r2-cn" else 0b1001)
        wait_until(lambda: any(a["state"] == "ready" for a in callctl.request("acd.agents")), 30, "the agent")
        callctl.subscribe(["call."])
        farend.request("farend.call", {"dnis": "10086", "ani": "13912345678", "digits": "1"})
        events = {}

        def seen(topic, d):
            events.setdefault(topic, d)
            return topic == "call.ended"
        callctl.wait_event(seen, timeout=60)
        assert (events["call.new"]["dnis"], events["call.new"]["ani"]) == ("10086", "13912345678")
        assert events["call.digit"]["digit"] == "1"
        assert events["call.answered"]["agent"] == "1001"
        assert events["call.ended"]["disposition"] == "answered"
        wait_until(lambda: all(s["calls"] == 0 for s in callctl.request("sig.status")), 15, "the channel to clear")
        wait_until(lambda: farend.request("farend.status")["counters"]["ended"] == 1, 15,
                   "the far end to see its call end")
        assert farend.request("farend.status")["counters"]["connected"] == 1
        # the call's ladder: the seizure, the register signals, the answer and the clearing
        cid = events["call.ended"]["call_id"]

        def ladder():
            with Store(data) as st:
                got = [e for e in st.call_events(cid) if e["event"] == "signalling"]
            return got[0]["detail"]["ladder"] if got else None
        wait_until(lambda: ladder() is not None, 15, "the call's signalling ladder")
        texts = [t for _, _, t in ladder()]
        assert texts[0].startswith("ts%d seized" % events["call.new"]["chan"])
        assert any("MF I/II-" not in t and "MF 1" in t for t in texts)       # a forward digit heard
        assert any("incoming" in t and "13912345678" in t for t in texts)
        assert any("answered" in t for t in texts) and any("idle" in t for t in texts[-3:])
        # the field tech's view: the span's signalling and the CAS bits of every timeslot
        with Store(data) as st:
            st.execute("INSERT INTO users(username, pw_hash, role) VALUES('tech', ?, 'admin')",
                       (hash_password("0123456789abc", iterations=1000),))
            out = []
            sh = Shell(BusRouter(run), st, out.append)
            sh.start()
            for line in ("tech", "0123456789abc", "show span 0"):
                sh.line(line)
        text = "".join(out)
        idle = "B" if variant == "r2-cn" else "9"
        assert "Signalling MFC/R2 %s, in service, 0 call(s)" % variant[3:].upper() in text
        assert "CAS multiframe aligned. Received ABCD (hex) per timeslot:" in text
        assert "  Sa4-Sa8 received 11111." in text
        assert "    1-15 %s   17-31 %s\r\n" % (idle * 15, idle * 15) in text
    finally:
        stop_box(proc, logs)
