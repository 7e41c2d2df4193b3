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
    w = build(tmp_path, clock)
    yield w
    w.st.close()


def build(tmp_path, clock, configure=None):
    st = Store(str(tmp_path))
    seed_simulation(st, spans=1, seats=2)
    if configure:
        configure(st)
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
    return type("W", (), dict(st=st, media=media, cc=cc, net=net, net_events=net_events, clock=clock,
                              published=published))


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
    assert ("chan.play", {"ep": call.ep, "prompt": "welcome", "lang": "zh"}) in w.media.sent
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


def _routes(st, *routes):
    st.execute("DELETE FROM routes")
    for r in routes:
        st.put_route(*r)


def test_vip_callers_by_number_go_ahead_of_earlier_callers(tmp_path, clock):
    w = build(tmp_path, clock, lambda st: _routes(st, ("*", "queue:support", "139*", 10), ("*", "queue:support")))
    for login in ("1001", "1002"):
        w.cc.acd.not_ready(login, "break")
    w.net.q931.setup("10086", "13800138000")
    w.clock.advance(1)
    w.net.q931.setup("10086", "13900139000")          # VIP by calling-number prefix
    w.clock.advance(1)
    normal, vip = sorted(w.cc.calls.values(), key=lambda c: c.start)
    assert (normal.priority, vip.priority) == (0, 10)
    w.cc.acd.ready("1001")
    assert w.cc.acd.agents["1001"].call is vip
    w.st.close()


def test_ring_all_race_only_one_seat_gets_the_caller(tmp_path, clock):
    w = build(tmp_path, clock, lambda st: (st.put_queue({"name": "support", "strategy": "ring-all", "acw_s": 3}),
                                           _routes(st, ("*", "queue:support"))))
    w.net.q931.setup("10086", "13800138000")
    w.clock.advance(0.1)
    call = list(w.cc.calls.values())[-1]
    rings = [c["seat"] for c in w.media.ops("seat.control") if c["msg"].get("ring") is True]
    assert sorted(rings) == [1, 2]
    w.cc.on_media_event("seat.hook", {"seat": 2, "hook": "off"})
    w.cc.on_media_event("seat.hook", {"seat": 1, "hook": "off"})      # a moment too late
    assert w.media.ops("media.connect") == [{"a": call.ep, "b": "seat2"}]
    assert {"seat": 1, "msg": {"ring": False, "hangup": True}} in w.media.ops("seat.control")
    w.clock.advance(0.01)
    assert w.cc.acd.agents["1001"].state == "ready" and w.cc.acd.agents["1002"].state == "on-call"
    assert call.agent_login == "1002" and call.seat == 2
    w.st.close()


def test_queue_timeout_is_not_counted_abandoned(tmp_path, clock):
    w = build(tmp_path, clock, lambda st: (st.put_queue({"name": "support", "max_wait_s": 30,
                                                         "timeout_dest": "voicemail:support"}),
                                           _routes(st, ("*", "queue:support"))))
    for login in ("1001", "1002"):
        w.cc.acd.not_ready(login, "break")
    w.net.q931.setup("10086", "13800138000")
    w.clock.advance(0.1)
    call = list(w.cc.calls.values())[-1]
    w.clock.advance(31)
    # the queue's timeout destination: voicemail greeting and beep, then the message
    assert ("chan.play", {"ep": call.ep, "prompt": ["voicemail", "beep"], "lang": "zh"}) in w.media.sent
    w.cc.on_media_event("chan.play.done", {"ep": call.ep, "prompt": ["voicemail", "beep"]})
    rec = {"call_id": "vm-" + call.call_id, "caller": call.ep, "agent": call.ep, "kind": "voicemail",
           "box": "support"}
    assert rec in w.media.ops("media.record")
    w.clock.advance(20)
    w.cc.on_media_event("chan.dtmf", {"ep": call.ep, "digit": "#"})
    assert {"call_id": "vm-" + call.call_id, "stop": True} in w.media.ops("media.record")
    assert ("chan.play", {"ep": call.ep, "prompt": "voicemail_saved", "lang": "zh"}) in w.media.sent
    w.cc.on_media_event("chan.play.done", {"ep": call.ep, "prompt": "voicemail_saved"})
    w.clock.advance(1)
    cdr = w.st.cdrs(call_id=call.call_id)[0]
    assert cdr["disposition"] == "queue-timeout"
    assert ("voicemail.new", {"box": "support", "call_id": call.call_id, "ani": "13800138000"}) in w.published
    q = w.cc.acd.queues_snapshot()[0]
    assert (q["abandoned"], q["timeouts"]) == (0, 1)
    w.st.close()


def test_bad_queue_and_route_settings_name_the_field(tmp_path):
    from callbox.errors import ConfigError
    st = Store(str(tmp_path))
    with pytest.raises(ConfigError, match="strategy 'fastest'"):
        st.put_queue({"name": "q", "strategy": "fastest"})
    with pytest.raises(ConfigError, match="routes.ani"):
        st.put_route("*", "queue:q", ani="13x")
    with pytest.raises(ConfigError, match="routes.priority"):
        st.put_route("*", "queue:q", priority=-1)
    st.put_queue({"name": "q", "strategy": "ring-all", "skills": {"zh": 2}, "ring_s": 15})
    row = st.queues()[0]
    assert st.queue_settings(row)["skills"] == {"zh": 2} and row["strategy"] == "ring-all"
    st.close()


def _queue_world(tmp_path, clock, **settings):
    def configure(st):
        st.put_queue(dict({"name": "support", "acw_s": 3}, **settings))
        _routes(st, ("*", "queue:support"))
    w = build(tmp_path, clock, configure)
    for login in ("1001", "1002"):
        w.cc.acd.not_ready(login, "break")
    return w


def test_waiting_callers_hear_their_place_and_wait_then_again(tmp_path, clock):
    w = _queue_world(tmp_path, clock, announce_every_s=30, default_aht_s=240)
    for ani in ("13800000001", "13800000002"):
        w.net.q931.setup("10086", ani)
        w.clock.advance(0.1)
    first, second = sorted(w.cc.calls.values(), key=lambda c: c.start)
    plays = [a["prompt"] for a in w.media.ops("chan.play") if a["ep"] == second.ep]
    # second in line; both agents are paused, so no wait is promised, only the place
    assert ["position_before", "num_2", "position_after"] in plays
    w.cc.acd.ready("1001")                # 1001 takes the first; the second is now first in line
    w.cc.on_media_event("seat.hook", {"seat": 1, "hook": "off"})
    w.clock.advance(30)                   # one agent serving, 240 s a call: about 4 minutes
    plays = [a["prompt"] for a in w.media.ops("chan.play") if a["ep"] == second.ep]
    assert plays[-1] == ["position_before", "num_1", "position_after", "ewt_before", "num_4", "ewt_after"]
    w.cc.on_media_event("chan.play.done", {"ep": second.ep, "prompt": plays[-1]})
    assert w.media.ops("chan.play")[-1] == {"ep": second.ep, "prompt": "queue", "lang": "zh", "loop": True}
    w.st.close()


def _ask_callback(w, ani="13800000001"):
    """A caller joins the queue, presses the callback key and hears the confirmation."""
    w.net.q931.setup("10086", ani)
    w.clock.advance(0.1)
    caller = [c for c in w.cc.calls.values() if c.direction == "in"][-1]
    w.cc.on_media_event("chan.dtmf", {"ep": caller.ep, "digit": "1"})
    assert ("chan.play", {"ep": caller.ep, "prompt": "callback_confirm", "lang": "zh"}) in w.media.sent
    w.cc.on_media_event("chan.play.done", {"ep": caller.ep, "prompt": "callback_confirm"})
    w.clock.advance(1)
    return caller


def _agent_takes_callback(w):
    """1001 gets ready, takes the callback; returns the SETUP the network saw."""
    w.net_events.clear()
    w.cc.acd.ready("1001")
    ring = w.media.ops("seat.control")[-1]
    assert ring["seat"] == 1 and ring["msg"]["ring"] is True and ring["msg"]["ani"] == "13800000001"
    w.cc.on_media_event("seat.hook", {"seat": 1, "hook": "off"})
    w.clock.advance(0.1)
    return [e for e in w.net_events if e["ev"] == "setup"][0]


def test_callback_keeps_the_place_and_the_agent_calls_back(tmp_path, clock):
    w = _queue_world(tmp_path, clock, callback_key="1")
    caller = _ask_callback(w)
    assert w.st.cdrs(call_id=caller.call_id)[0]["disposition"] == "callback"
    assert w.cc.acd.queues_snapshot()[0]["callbacks_waiting"] == 1
    # the caller asks again from another call: still one callback
    _ask_callback(w)
    assert w.cc.acd.queues_snapshot()[0]["callbacks_waiting"] == 1
    # an agent takes it: the box dials the caller, the network answers, agent and caller talk
    setup = _agent_takes_callback(w)
    assert setup["called"] == "13800000001"
    out = [c for c in w.cc.calls.values() if c.direction == "out"][0]
    assert {"a": out.ep, "b": "seat1"} in w.media.ops("media.connect")
    w.net.q931.proceeding(setup["call"])
    w.net.q931.connect(setup["call"])
    w.clock.advance(0.1)
    assert out.state == "connected"
    assert {"call_id": out.call_id, "caller": out.ep, "agent": "seat1"} in w.media.ops("media.record")
    assert w.cc.acd.queues_snapshot()[0]["callbacks_waiting"] == 0
    w.clock.advance(60)
    w.cc.on_media_event("seat.hook", {"seat": 1, "hook": "on"})
    w.clock.advance(1)
    cdr = w.st.cdrs(call_id=out.call_id)[0]
    assert cdr["disposition"] == "callback-answered" and cdr["agent"] == "1001"
    assert w.cc.acd.agents["1001"].state == "acw"
    w.st.close()


def test_unanswered_callback_goes_back_to_its_place(tmp_path, clock):
    w = _queue_world(tmp_path, clock, callback_key="1")
    _ask_callback(w)
    setup = _agent_takes_callback(w)
    w.net.q931.disconnect(setup["call"], 17)          # user busy
    w.clock.advance(1)
    out = w.st.query("SELECT * FROM cdr WHERE disposition='callback-failed'")
    assert len(out) == 1
    assert w.cc.acd.agents["1001"].state == "acw"
    assert w.cc.acd.queues_snapshot()[0]["callbacks_waiting"] == 1
    w.st.close()


def test_survey_after_the_agent_hangs_up(tmp_path, clock):
    w = _queue_world(tmp_path, clock, survey="default")
    w.cc.acd.ready("1001")
    w.net.q931.setup("10086", "13800000001")
    w.clock.advance(0.1)
    call = list(w.cc.calls.values())[-1]
    w.cc.on_media_event("seat.hook", {"seat": 1, "hook": "off"})
    w.clock.advance(30)
    w.cc.on_media_event("seat.hook", {"seat": 1, "hook": "on"})
    assert call.state == "survey"
    assert ("chan.play", {"ep": call.ep, "prompt": "survey", "lang": "zh"}) in w.media.sent
    w.cc.on_media_event("chan.dtmf", {"ep": call.ep, "digit": "2"})
    assert call.vars["survey"] == 2
    w.cc.on_media_event("chan.play.done", {"ep": call.ep, "prompt": "survey_thanks"})
    w.clock.advance(1)
    ev = w.st.query("SELECT detail FROM call_events WHERE call_id=? AND event='ivr.set'", (call.call_id,))
    assert '"value": 2' in ev[0]["detail"]
    assert w.st.cdrs(call_id=call.call_id)[0]["disposition"] == "answered"
    w.st.close()


def test_supervisor_barges_in_from_another_seat(world):
    w = world
    qid, call = place(w)
    w.cc.on_media_event("chan.dtmf", {"ep": call.ep, "digit": "1"})
    w.cc.on_media_event("chan.play.done", {"ep": call.ep, "prompt": "welcome"})
    with pytest.raises(ValueError, match="only a call connected to an agent"):
        w.cc.monitor(call.call_id, 2, "listen")
    w.cc.on_media_event("seat.hook", {"seat": 1, "hook": "off"})
    with pytest.raises(ValueError, match="a seat of their own"):
        w.cc.monitor(call.call_id, 1, "listen")
    w.cc.monitor(call.call_id, 2, "barge")
    assert w.media.ops("media.monitor")[-1] == {"sup": "seat2", "caller": call.ep, "agent": "seat1", "mode": "barge"}
    assert w.cc.list_calls()[0]["monitor"] == {"seat": 2, "mode": "barge"}
    ring = w.media.ops("seat.control")[-1]
    assert ring["seat"] == 2 and ring["msg"]["ring"] is True and ring["msg"]["queue"] == "monitor", \
        "the supervisor's phone must be rung (a SIP phone has no audio outside a call)"
    w.cc.monitor(call.call_id, 2, "whisper")                  # changing the mode does not ring again
    assert w.media.ops("seat.control")[-1] is ring
    w.cc.monitor(call.call_id, 2, "off")
    assert w.cc.list_calls()[0]["monitor"] is None
    assert w.media.ops("seat.control")[-1] == {"seat": 2, "msg": {"hangup": True}}
    # the supervisor hanging up ends the monitoring
    w.cc.monitor(call.call_id, 2, "listen")
    w.cc.on_media_event("seat.hook", {"seat": 2, "hook": "off"})
    w.cc.on_media_event("seat.hook", {"seat": 2, "hook": "on"})
    assert w.cc.list_calls()[0]["monitor"] is None and w.media.ops("media.monitor")[-1]["mode"] == "off"
    assert call.state == "connected"


def test_calls_left_by_a_killed_call_control_are_restarted_and_closed(tmp_path, clock):
    w = build(tmp_path, clock)
    qid, call = place(w)
    w.cc.on_media_event("chan.dtmf", {"ep": call.ep, "digit": "1"})
    w.cc.on_media_event("chan.play.done", {"ep": call.ep, "prompt": "welcome"})
    w.cc.on_media_event("seat.hook", {"seat": 1, "hook": "off"})
    assert [o["call_id"] for o in w.st.get_setting("callctl.inflight")] == [call.call_id]
    # call control dies here (no clean-up); a new one starts on the same store and media
    media2, published = FakeMedia(), []
    cc2 = CallControl(w.st, media2, lambda t, d: published.append((t, d)), clock, PriSpan)
    net_events = []
    net2 = PriSpan(0, "network", lambda fr: clock.call_later(0.001, cc2.on_media_event, "span.dchan.rx",
                                                             {"span": 0, "frame": fr}), net_events.append, clock)
    media2.to_network = lambda fr: clock.call_later(0.001, net2.rx_frame, fr)
    cc2.on_media_event("span.state", {"span": 0, "up": True})
    net2.line_up()
    clock.advance(2)
    cdr = w.st.cdrs(call_id=call.call_id)[0]
    assert cdr["disposition"] == "interrupted" and cdr["agent"] == "1001" and cdr["cause"] == 41
    assert {"call_id": call.call_id, "stop": True} in media2.ops("media.record")
    assert {"ep": "seat1"} in media2.ops("media.disconnect")
    sent = [d["text"] for t, d in published if t == "sig.trace" and d["dir"] == "tx"]
    assert any("Q.931 RESTART cref 0x0000" in x and "restart class 7" in x for x in sent), sent
    assert w.st.get_setting("callctl.inflight") == []
    w.st.close()


def test_hold_and_blind_transfer_to_another_queue(tmp_path, clock):
    def configure(st):
        st.put_queue({"name": "support", "acw_s": 3, "skills": {"support": 1}})
        st.put_queue({"name": "billing", "acw_s": 3, "skills": {"billing": 1}})
        st.put_agent({"login": "1002", "name": "Agent 2", "skills": {"billing": 1}})
        _routes(st, ("*", "queue:support", "*", 7))
    w = build(tmp_path, clock, configure)
    w.net.q931.setup("10086", "13800000001")
    w.clock.advance(0.1)
    call = list(w.cc.calls.values())[-1]
    w.cc.on_media_event("seat.hook", {"seat": 1, "hook": "off"})
    w.cc.on_media_event("seat.key", {"seat": 1, "key": "hold"})
    assert call.state == "held" and {"ep": call.ep} in w.media.ops("media.disconnect")
    w.clock.advance(5)
    w.cc.on_media_event("seat.key", {"seat": 1, "key": "unhold"})
    assert call.state == "connected" and call.hold_s == pytest.approx(5, abs=0.01)
    w.cc.on_media_event("seat.key", {"seat": 1, "key": "transfer", "target": "queue:nowhere"})
    assert "no queue 'nowhere'" in w.media.ops("seat.control")[-1]["msg"]["error"]
    w.cc.on_media_event("seat.key", {"seat": 1, "key": "transfer", "target": "queue:billing"})
    assert w.cc.acd.agents["1001"].state == "acw"
    ring = [c for c in w.media.ops("seat.control") if c["msg"].get("ring") is True][-1]
    assert ring["seat"] == 2 and call.queue == "billing" and call.priority == 7
    w.cc.on_media_event("seat.hook", {"seat": 2, "hook": "off"})
    assert call.agent_login == "1002" and call.state == "connected"
    w.st.close()


def _answered_by_1001(tmp_path, clock):
    w = _queue_world(tmp_path, clock)
    w.cc.acd.ready("1001")
    w.qid = w.net.q931.setup("10086", "13800000001")
    w.clock.advance(0.1)
    call = list(w.cc.calls.values())[-1]
    w.cc.on_media_event("seat.hook", {"seat": 1, "hook": "off"})
    return w, call


def test_blind_transfer_to_an_agent_then_to_an_external_number(tmp_path, clock):
    w, call = _answered_by_1001(tmp_path, clock)
    assert call.agent_login == "1001"
    # to agent 1002, who is on a break: the call waits for 1002, not for the queue's next agent
    w.cc.on_media_event("seat.key", {"seat": 1, "key": "transfer", "target": "number:1002"})   # dialled
    assert call.state == "queued" and w.cc.acd.agents["1001"].state == "acw"
    w.clock.advance(5)                                    # 1001's after-call work ends: it is ready
    assert not [c for c in w.media.ops("seat.control") if c["msg"].get("ring") is True and c["seat"] == 1
                and c["msg"]["call_id"] == call.call_id][1:]
    w.cc.acd.ready("1002")
    ring = w.media.ops("seat.control")[-1]
    assert ring["seat"] == 2 and ring["msg"]["ring"] is True and ring["msg"]["call_id"] == call.call_id
    w.cc.on_media_event("seat.hook", {"seat": 2, "hook": "off"})
    assert call.agent_login == "1002" and call.state == "connected"
    # bad targets are refused with the reason, the call stays with the agent
    for target, words in (("agent:1002", "is you"), ("agent:9999", "no agent"), ("external:12ab", "not a telephone"),
                          ("fax:1", "must be")):
        w.cc.on_media_event("seat.key", {"seat": 2, "key": "transfer", "target": target})
        assert words in w.media.ops("seat.control")[-1]["msg"]["error"] and call.state == "connected"
    # to an outside number: dialled on the trunk, the caller bridged to it once it answers
    w.net_events.clear()
    w.cc.on_media_event("seat.key", {"seat": 2, "key": "transfer", "target": "external:02161234567"})
    w.clock.advance(0.1)
    setup = [e for e in w.net_events if e["ev"] == "setup"][0]
    assert setup["called"] == "02161234567" and call.state == "bridged"
    out = call.bridge
    assert {"a": call.ep, "b": out.ep} in w.media.ops("media.connect")
    assert w.cc.acd.agents["1002"].state == "acw"
    w.net.q931.proceeding(setup["call"])
    w.net.q931.connect(setup["call"])
    w.clock.advance(0.1)
    assert {"call_id": out.call_id, "caller": call.ep, "agent": out.ep} in w.media.ops("media.record")
    w.clock.advance(30)
    w.net.q931.disconnect(setup["call"], 16)               # the outside party hangs up: the caller is cleared
    w.clock.advance(1)
    assert call.state == "ended" and out.state == "ended"
    assert w.st.cdrs(call_id=out.call_id)[0]["disposition"] == "transfer-answered"
    assert w.st.cdrs(call_id=call.call_id)[0]["disposition"] == "answered"
    names = [e["event"] for e in w.st.call_events(call.call_id)]
    assert names.count("transfer") == 2 and "transfer_answered" in names
    w.st.close()


def test_an_external_transfer_nobody_answers_goes_back_to_the_queue(tmp_path, clock):
    w, call = _answered_by_1001(tmp_path, clock)
    w.net_events.clear()
    w.cc.on_media_event("seat.key", {"seat": 1, "key": "transfer", "target": "external:02161234567"})
    w.clock.advance(0.1)
    setup = [e for e in w.net_events if e["ev"] == "setup"][0]
    w.net.q931.disconnect(setup["call"], 17)               # busy
    w.clock.advance(1)
    assert call.state == "queued" and call.queue == "support"
    assert "transfer_failed" in [e["event"] for e in w.st.call_events(call.call_id)]
    assert [c["disposition"] for c in w.st.cdrs() if c["dnis"] == "02161234567"] == ["transfer-failed"]
    w.st.close()


def _rings(w, seat):
    return [c for c in w.media.ops("seat.control") if c["seat"] == seat and c["msg"].get("ring") is True]


def test_attended_transfer_to_an_agent_consult_then_complete(tmp_path, clock):
    w, call = _answered_by_1001(tmp_path, clock)
    w.cc.acd.ready("1002")
    # 1002 is ready: the consultation rings it, the caller hears hold music meanwhile
    w.cc.on_media_event("seat.key", {"seat": 1, "key": "consult", "target": "number:1002"})
    assert call.state == "held" and _rings(w, 2)[-1]["msg"]["call_id"] == call.call_id
    assert w.cc.acd.agents["1002"].reachable is False, "the consulted agent must not get a queue call meanwhile"
    w.cc.on_media_event("seat.key", {"seat": 1, "key": "complete"})
    assert "has not answered yet" in w.media.ops("seat.control")[-1]["msg"]["error"]
    w.cc.on_media_event("seat.key", {"seat": 1, "key": "hold"})
    assert "consultation is running" in w.media.ops("seat.control")[-1]["msg"]["error"]
    w.cc.on_media_event("seat.hook", {"seat": 2, "hook": "off"})
    assert {"a": "seat1", "b": "seat2"} in w.media.ops("media.connect")
    w.clock.advance(10)
    w.cc.on_media_event("seat.key", {"seat": 1, "key": "complete"})
    assert call.state == "connected" and call.agent_login == "1002" and call.seat == 2
    assert {"a": call.ep, "b": "seat2"} in w.media.ops("media.connect")
    assert w.cc.acd.agents["1001"].state == "acw" and w.cc.acd.agents["1002"].state == "on-call"
    assert {"call_id": call.call_id + "-2", "caller": call.ep, "agent": "seat2"} in w.media.ops("media.record")
    assert call.hold_s == pytest.approx(10, abs=0.2)
    # 1002 hangs up: the call ends normally, recorded part 2 closed
    w.cc.on_media_event("seat.hook", {"seat": 2, "hook": "on"})
    w.clock.advance(1)
    assert {"call_id": call.call_id + "-2", "stop": True} in w.media.ops("media.record")
    cdr = w.st.cdrs(call_id=call.call_id)[0]
    assert cdr["disposition"] == "answered" and cdr["agent"] == "1002"
    ev = [e for e in w.st.call_events(call.call_id) if e["event"] == "transfer"]
    assert json_detail(ev[0])["attended"] is True
    w.st.close()


def json_detail(e):
    d = e.get("detail")
    return d if isinstance(d, dict) else __import__("json").loads(d or "{}")


def test_consult_cancel_timeout_and_hanging_up_while_it_rings(tmp_path, clock):
    w, call = _answered_by_1001(tmp_path, clock)
    w.cc.acd.ready("1002")
    w.cc.on_media_event("seat.key", {"seat": 1, "key": "consult", "target": "agent:1002"})
    w.cc.on_media_event("seat.key", {"seat": 1, "key": "cancel"})
    assert call.state == "connected" and {"a": call.ep, "b": "seat1"} in w.media.ops("media.connect")
    assert w.cc.acd.agents["1002"].reachable is True
    # nobody answers within the ring time: back to the caller, told why
    w.cc.on_media_event("seat.key", {"seat": 1, "key": "consult", "target": "agent:1002"})
    w.clock.advance(21)
    assert call.state == "connected"
    assert "did not answer" in w.media.ops("seat.control")[-1]["msg"]["error"]
    # the agent hangs up while the other agent rings: a blind transfer to that agent
    w.cc.on_media_event("seat.key", {"seat": 1, "key": "consult", "target": "agent:1002"})
    w.cc.on_media_event("seat.hook", {"seat": 1, "hook": "on"})
    assert call.state == "ringing" and w.cc.acd.agents["1001"].state == "acw"
    w.cc.on_media_event("seat.hook", {"seat": 2, "hook": "off"})
    assert call.agent_login == "1002" and call.state == "connected"
    w.st.close()


def test_consult_refusals_and_the_caller_leaving_during_a_consultation(tmp_path, clock):
    w, call = _answered_by_1001(tmp_path, clock)
    for target, words in (("agent:1002", "not-ready"), ("agent:1001", "is you"), ("fax:1", "must be")):
        w.cc.on_media_event("seat.key", {"seat": 1, "key": "consult", "target": target})
        assert words in w.media.ops("seat.control")[-1]["msg"]["error"] and call.state == "connected"
    w.cc.acd.ready("1002")
    w.cc.on_media_event("seat.key", {"seat": 1, "key": "consult", "target": "agent:1002"})
    w.net.q931.disconnect(w.qid, 16)                     # the caller hangs up while 1002 rings
    w.clock.advance(1)
    assert {"seat": 2, "msg": {"ring": False, "hangup": True}} in w.media.ops("seat.control")
    assert w.cc.acd.agents["1002"].reachable is True and w.cc.acd.agents["1001"].state == "acw"
    assert not w.cc.consults
    w.st.close()


def test_attended_transfer_to_an_outside_number(tmp_path, clock):
    w, call = _answered_by_1001(tmp_path, clock)
    w.net_events.clear()
    w.cc.on_media_event("seat.key", {"seat": 1, "key": "consult", "target": "number:02161234567"})
    w.clock.advance(0.1)
    setup = [e for e in w.net_events if e["ev"] == "setup"][0]
    out = w.cc.consults[call.call_id].other
    assert {"a": "seat1", "b": out.ep} in w.media.ops("media.connect") and call.state == "held"
    w.net.q931.connect(setup["call"])
    w.clock.advance(0.1)
    w.cc.on_media_event("seat.key", {"seat": 1, "key": "complete"})
    assert call.state == "bridged" and call.bridge is out
    assert {"a": call.ep, "b": out.ep} in w.media.ops("media.connect")
    assert {"call_id": out.call_id, "caller": call.ep, "agent": out.ep} in w.media.ops("media.record")
    assert w.cc.acd.agents["1001"].state == "acw"
    w.st.close()


def test_in_call_codes_keyed_on_the_agents_phone_consult_and_complete(tmp_path, clock):
    w, call = _answered_by_1001(tmp_path, clock)
    assert {"ep": "seat1", "on": True} in w.media.ops("chan.dtmf")
    w.cc.acd.ready("1002")

    def key(digits, seat=1):
        for d in digits:
            w.cc.on_media_event("chan.dtmf", {"ep": "seat%d" % seat, "digit": d})
    key("123")                                   # plain digits (to the caller) are not codes
    assert call.state == "connected"
    key("*21002#")
    assert call.state == "held" and call.call_id in w.cc.consults
    w.cc.on_media_event("seat.hook", {"seat": 2, "hook": "off"})
    key("*3")
    assert call.agent_login == "1002" and call.state == "connected"
    assert {"ep": "seat2", "on": True} in w.media.ops("chan.dtmf")
    # a refused code says why; half a code forgotten after 5 s
    key("*2#", seat=2)
    assert "is not a telephone number" in w.media.ops("seat.control")[-1]["msg"]["error"]
    key("*2", seat=2)
    w.clock.advance(6)
    key("3", seat=2)
    assert call.state == "connected" and not w.cc.consults
    key("*1queue", seat=2)                        # letters never come from a keypad: nothing happens
    w.st.close()


def test_called_number_translation_and_routes_to_a_seat_an_agent_or_an_outside_number(tmp_path, clock):
    def configure(st):
        st.put_queue({"name": "support", "acw_s": 3})
        _routes(st, ("200", "seat:2"), ("300", "agent:1001"), ("400", "external:02161234567"),
                ("500", "agent:nobody"), ("*", "queue:support"))
        st.set_setting("routing.translations", [{"match": r"^0086(\d+)$", "replace": r"\1"},
                                                {"match": r"^9(\d{3})$", "replace": r"\1"}])
    w = build(tmp_path, clock, configure)
    for login in ("1001", "1002"):
        w.cc.acd.not_ready(login, "break")
    # 0086200 -> 200 -> seat 2 (agent 1002, who is on a break: the call waits for 1002 only)
    w.net.q931.setup("0086200", "13800000001")
    w.clock.advance(0.1)
    call = list(w.cc.calls.values())[-1]
    assert call.dnis == "200" and call.state == "queued"
    assert ["translated", "route"] == [e["event"] for e in w.st.call_events(call.call_id)][1:3]
    w.cc.acd.ready("1001")
    assert not _rings(w, 1)
    w.cc.acd.ready("1002")
    assert _rings(w, 2)[-1]["msg"]["call_id"] == call.call_id
    # 9300 -> 300 -> agent 1001
    w.net.q931.setup("9300", "13800000002")
    w.clock.advance(0.1)
    c2 = list(w.cc.calls.values())[-1]
    assert c2.dnis == "300" and _rings(w, 1)[-1]["msg"]["call_id"] == c2.call_id
    # 400 -> forwarded on the trunk to an outside number
    w.net_events.clear()
    w.net.q931.setup("400", "13800000003")
    w.clock.advance(0.2)
    c3 = [c for c in w.cc.calls.values() if c.dnis == "400"][0]
    assert c3.state == "bridged" and [e["called"] for e in w.net_events if e["ev"] == "setup"] == ["02161234567"]
    # an agent nobody is signed in as: goodbye, with the reason in the event log
    w.net.q931.setup("500", "13800000004")
    w.clock.advance(0.1)
    c4 = [c for c in list(w.cc.calls.values()) if c.dnis == "500"][0]
    assert "route_unavailable" in [e["event"] for e in w.st.call_events(c4.call_id)]
    w.st.close()


def test_route_targets_and_translation_rules_are_checked(tmp_path):
    from callbox.config.store import Store
    from callbox.errors import ConfigError
    st = Store(str(tmp_path))
    for bad in ("seat:x", "agent:", "external:12ab", "fax:1", "external:1"):
        with pytest.raises(ConfigError, match="routes.target"):
            st.put_route("*", bad)
    for rules, words in (([{"match": "^(", "replace": ""}], "translations\\[0\\]"),
                         ([{"match": "^1$", "replace": r"\2"}], "invalid group reference"),
                         ([{"match": "1"}], "must be"), ("nope", "a list")):
        st.set_setting("routing.translations", rules)
        with pytest.raises(ConfigError, match=words):
            st.translations()
    st.close()


def test_overlap_receiving_routes_once_a_route_names_the_whole_number(tmp_path, clock):
    from callbox.signalling.q931 import (BearerCapability, CalledPartyNumber, ChannelId, Message, encode)

    def configure(st):
        st.set_setting("pri.overlap", True)
        _routes(st, ("10086", "queue:support"), ("*", "ivr:default"))
    w = build(tmp_path, clock, configure)
    q = w.cc.spans[0].q931
    assert q.overlap is True
    # the exchange dials in overlap: SETUP with "100", then INFORMATION "8", "6" (sent by hand:
    # the simulated exchange's own stack sends en bloc, so it does not see the box's answers)
    acks = []
    w.net.q931._rx_unknown_cref = lambda h, ours, desc: acks.append(h.mtype)
    w.net.lapd.send(encode(Message("SETUP", 0x41, False, [BearerCapability(), ChannelId(channel=3, exclusive=True),
                                                           CalledPartyNumber(digits="100")])))
    w.clock.advance(0.1)
    assert not w.cc.calls
    for d in "86":
        w.net.lapd.send(encode(Message("INFORMATION", 0x41, False, [CalledPartyNumber(digits=d)])))
        w.clock.advance(0.1)
    call = list(w.cc.calls.values())[-1]
    assert call.dnis == "10086" and call.queue == "support"
    assert acks[:3] == ["SETUP_ACKNOWLEDGE", "CALL_PROCEEDING", "CONNECT"]
    w.st.close()


def test_each_call_keeps_its_signalling_ladder_and_writes_it_when_it_ends(world):
    w = world
    qid, call = place(w)
    other_qid, other = place(w)
    live = w.cc.ladder(call.call_id)
    texts = [t for _, d, t in live]
    assert all(d == "q931" for _, d, _ in live)
    assert texts[0].startswith("{NULL} rx SETUP") and "called=10086" in texts[0]
    assert any("tx CONNECT" in t for t in texts) and any("-> ACTIVE" in t for t in texts)
    assert w.cc.ladder(other.call_id) != live, "each call has its own ladder"
    assert w.cc.ladder("no-such-call") is None
    w.net.q931.disconnect(qid, 16)
    w.clock.advance(1)
    assert w.st.cdrs(call_id=call.call_id)
    # the lines after the end (RELEASE COMPLETE, back to NULL) still join it; then it is stored
    w.clock.advance(3)
    assert w.cc.ladder(call.call_id) is None
    stored = [e for e in w.st.call_events(call.call_id) if e["event"] == "signalling"]
    assert len(stored) == 1
    lines = [t for _, _, t in stored[0]["detail"]["ladder"]]
    assert lines[:len(texts)] == texts
    assert any("rx DISCONNECT" in t for t in lines) and any("RELEASE" in t for t in lines[-3:])
    assert other.call_id in w.cc.ladders and w.cc.calls[other.call_id] is other
