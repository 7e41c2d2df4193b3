"""Supervisor actions over the bus: listen/whisper/barge and forcing an agent's state."""
from callbox.errors import BusError


def test_supervise_page_lists_calls_and_agents_escaped(login_as):
    page = login_as("supervisor").get("/supervise")
    assert page.status == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>alert(1)" not in page.text
    assert "Alice A." in page.text


def test_barge_goes_to_call_control_and_is_audited(login_as, bus, store):
    c = login_as("supervisor")
    bus.replies["call.monitor"] = {"call_id": "c-100", "seat": 7, "mode": "barge"}
    r = c.post("/supervise/call", {"call_id": "c-100", "seat": "7", "mode": "barge"}, csrf=c.csrf_token("/supervise"))
    assert r.status == 303 and r.location.startswith("/supervise?done=")
    assert ("call.monitor", {"call_id": "c-100", "seat": 7, "mode": "barge"}) in bus.args
    assert store.query("SELECT action, detail FROM audit WHERE action='call.monitor'") == \
        [{"action": "call.monitor", "detail": "call=c-100 seat=7 mode=barge"}]


def test_refusals_say_why(login_as, bus):
    c = login_as("supervisor")
    tok = c.csrf_token("/supervise")
    bus.replies["call.monitor"] = BusError("call c-100 is queued; only a call connected to an agent can be supervised")
    r = c.post("/supervise/call", {"call_id": "c-100", "seat": "7", "mode": "listen"}, csrf=tok)
    assert r.status == 409 and "only a call connected to an agent can be supervised" in r.text
    r = c.post("/supervise/call", {"call_id": "c-100", "seat": "x", "mode": "listen"}, csrf=tok)
    assert r.status == 400 and "seat: &#039;x&#039; is not a seat number" in r.text
    r = c.post("/supervise/call", {"call_id": "c-100", "seat": "7", "mode": "shout"}, csrf=tok)
    assert r.status == 400 and "mode: &#039;shout&#039; is not one of" in r.text
    assert not any(op == "call.monitor" and a["mode"] == "shout" for op, a in bus.args)


def test_force_agent_state(login_as, bus, store):
    c = login_as("admin")
    bus.replies["acd.agent.set_state"] = {"login": "alice", "state": "not-ready"}
    r = c.post("/supervise/agent", {"login": "alice", "state": "not-ready", "reason": "coaching"},
               csrf=c.csrf_token("/supervise"))
    assert r.status == 303
    assert ("acd.agent.set_state", {"login": "alice", "state": "not-ready", "reason": "coaching"}) in bus.args
    assert store.query("SELECT detail FROM audit WHERE action='agent.force_state'")[0]["detail"] == \
        "agent=alice state=not-ready reason=coaching"


def test_agents_and_viewers_may_not_supervise(login_as):
    for role in ("agent", "viewer"):
        c = login_as(role)
        assert c.get("/supervise").status == 403
        assert c.post("/supervise/call", {"call_id": "c-100", "seat": "7", "mode": "listen"},
                      csrf=c.csrf_token()).status == 403


def test_without_csrf_nothing_happens(login_as, bus):
    c = login_as("supervisor")
    r = c.post("/supervise/call", {"call_id": "c-100", "seat": "7", "mode": "listen"}, csrf=False)
    assert r.status == 403 and "call.monitor" not in bus.requests
