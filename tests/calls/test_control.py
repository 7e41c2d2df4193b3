"""Call control end to end without audio: a network-side PRI stack places calls into it.

The box's CallControl and a network-side PriSpan are wired back to back on a
manual clock; a fake media daemon records the commands and the test plays the
media's part (DTMF digits, prompt ends, seat hooks) as events.
"""
import pytest

from callbox.calls.control import CallControl
from callbox.calls.pri_span import PriSpan
from callbox.config.defaults import seed_simulation
from callbox.config.store import Store


class FakeMedia:
    def __init__(self):
        self.sent = []
        self.to_network = None

    def send(self, op, args=None):
        self.sent.append((op, args))
        if op == "span.dchan.tx" and self.to_network:
            self.to_network(args["frame"])
        return True

    def ops(self, op):
        return [a for o, a in self.sent if o == op]


@pytest.fixture
def world(tmp_path, clock):
    st = Store(str(tmp_path))
    seed_simulation(st, spans=1, seats=2)
    media = FakeMedia()
    published = []
    cc = CallControl(st, media, lambda t, d: published.append((t, d)), clock, PriSpan)
    net_events = []
    net = PriSpan(0, "network", lambda fr: clock.call_later(0.001, cc.on_media_event, "span.dchan.rx",
                                                            {"span": 0, "frame": fr}),
                  net_events.append, clock)
    media.to_network = lambda fr: clock.call_later(0.001, net.rx_frame, fr)
    cc.on_media_event("span.state", {"span": 0, "up": True})
    net.line_up()
    clock.advance(1)
    assert net.link and cc.spans[0].link
    for seat, agent in ((1, "1001"), (2, "1002")):
        cc.on_media_event("seat.key", {"seat": seat, "key": "login", "agent": agent, "ready": True})
        clock.advance(1)
    w = type("W", (), dict(st=st, media=media, cc=cc, net=net, net_events=net_events, clock=clock,
                           published=published))
    yield w
    st.close()


def place(w, digits="1"):
    qid = w.net.q931.setup("10086", "13800138000")
    w.clock.advance(0.1)
    call = list(w.cc.calls.values())[-1]
    return qid, call


def test_call_through_ivr_queue_agent_and_clearing(world):
    w = world
    qid, call = place(w)
    evs = [e["ev"] for e in w.net_events]
    assert evs[:2] == ["proceeding", "connect"], "the box answers so the IVR can speak"
    assert ("chan.play", {"ep": call.ep, "prompt": "welcome"}) in w.media.sent
    assert {"ep": call.ep, "on": True} in w.media.ops("chan.dtmf")
    w.cc.on_media_event("chan.dtmf", {"ep": call.ep, "digit": "1"})       # type-ahead during welcome
    w.cc.on_media_event("chan.play.done", {"ep": call.ep, "prompt": "welcome"})
    assert call.state == "ringing" and call.queue == "support"
    ring = w.media.ops("seat.control")[-1]
    assert ring["msg"]["ring"] is True and ring["seat"] == 1        # 1001 has been idle longest
    w.clock.advance(0.5)
    w.cc.on_media_event("seat.hook", {"seat": 1, "hook": "off"})
    assert {"a": call.ep, "b": "seat1"} in w.media.ops("media.connect")
    assert {"call_id": call.call_id, "caller": call.ep, "agent": "seat1"} in w.media.ops("media.record")
    w.clock.advance(30)
    w.cc.on_media_event("seat.hook", {"seat": 1, "hook": "on"})         # agent hangs up
    w.clock.advance(1)
    assert [e["ev"] for e in w.net_events][-2:] == ["disconnect", "released"]
    cdr = w.st.cdrs(call_id=call.call_id)[0]
    assert (cdr["disposition"], cdr["digits"], cdr["agent"], cdr["seat"]) == ("answered", "1", "1001", 1)
    assert cdr["talk_s"] == pytest.approx(30, abs=0.01)
    assert {"call_id": call.call_id, "stop": True} in w.media.ops("media.record")
    assert w.cc.acd.agents["1001"].state == "acw"
    w.clock.advance(3.1)
    assert w.cc.acd.agents["1001"].state == "ready"
    assert w.cc.calls == {}


def test_caller_hangs_up_while_queued_counts_abandoned_not_answered(world):
    w = world
    for login in ("1001", "1002"):
        w.cc.acd.not_ready(login, "break")
    qid, call = place(w)
    w.cc.on_media_event("chan.dtmf", {"ep": call.ep, "digit": "2"})
    w.cc.on_media_event("chan.play.done", {"ep": call.ep, "prompt": "welcome"})
    assert call.state == "queued"
    w.clock.advance(7)
    w.net.q931.disconnect(qid, 16)
    w.clock.advance(1)
    cdr = w.st.cdrs(call_id=call.call_id)[0]
    assert cdr["disposition"] == "abandoned" and cdr["answer"] is None
    assert cdr["wait_s"] == pytest.approx(7, abs=0.1)
    q = w.cc.acd.queues_snapshot()[0]
    assert (q["abandoned"], q["answered"], q["waiting"]) == (1, 0, 0)


def test_caller_hangs_up_during_talk_frees_seat_and_agent(world):
    w = world
    qid, call = place(w)
    w.cc.on_media_event("chan.dtmf", {"ep": call.ep, "digit": "1"})
    w.cc.on_media_event("chan.play.done", {"ep": call.ep, "prompt": "welcome"})
    w.cc.on_media_event("seat.hook", {"seat": 1, "hook": "off"})
    w.clock.advance(10)
    w.net.q931.disconnect(qid, 16)
    w.clock.advance(1)
    assert {"seat": 1, "msg": {"hangup": True}} in w.media.ops("seat.control")
    assert w.cc.acd.agents["1001"].state == "acw"
    assert w.st.cdrs(call_id=call.call_id)[0]["disposition"] == "answered"


def test_two_calls_go_to_two_agents_never_both_to_one(world):
    w = world
    q1, c1 = place(w)
    q2, c2 = place(w)
    for c in (c1, c2):
        w.cc.on_media_event("chan.dtmf", {"ep": c.ep, "digit": "1"})
        w.cc.on_media_event("chan.play.done", {"ep": c.ep, "prompt": "welcome"})
    rings = [a for a in w.media.ops("seat.control") if a["msg"].get("ring")]
    assert sorted((r["seat"], r["msg"]["call_id"]) for r in rings) == sorted([(1, c1.call_id), (2, c2.call_id)])


def test_unknown_seat_key_and_bad_login_are_answered_on_the_phone(world):
    w = world
    w.cc.on_media_event("seat.key", {"seat": 2, "key": "login", "agent": "9999"})
    w.cc.on_media_event("seat.key", {"seat": 2, "key": "dance"})
    errors = [a["msg"]["error"] for a in w.media.ops("seat.control") if "error" in a["msg"]]
    assert any("no such agent" in e for e in errors) and any("'dance'" in e for e in errors)


def test_agent_sign_ins_survive_a_restart_of_call_control(world, clock):
    w = world
    w.cc.acd.not_ready("1002", "lunch")
    cc2 = CallControl(w.st, FakeMedia(), lambda t, d: None, clock, PriSpan)
    a1, a2 = (cc2.acd.agents[x] for x in ("1001", "1002"))
    assert (a1.state, a1.seat) == ("ready", 1)
    assert (a2.state, a2.reason, a2.seat) == ("not-ready", "lunch", 2)
