"""The agent's page: state changes go to call control as the logged-in agent; screen pop."""
from callbox.errors import BusError


def test_screen_pop_shows_caller_vip_ivr_and_history(login_as, bus, store):
    bus.replies["acd.agents"] = [{"login": "alice", "name": "Alice", "seat": 1, "state": "on-call",
                                  "since": 997.0, "calls": 4, "call_id": "c-100", "reason": ""}]
    bus.replies["call.list"] = [{"call_id": "c-100", "ani": "0201234567", "queue": "sales", "digits": "1",
                                 "priority": 10, "vars": {"ticket": "12345"}, "state": "connected"}]
    store.add_cdr({"call_id": "old-1", "start": 500.0, "end": 600.0, "ani": "0201234567", "queue": "sales",
                   "disposition": "abandoned"})
    c = login_as("agent")
    page = c.get("/agent").text
    assert "0201234567" in page and "yes (priority 10)" in page and "ticket=12345" in page and "abandoned" in page
    api = c.get("/api/agent").json()
    assert api["call"]["call_id"] == "c-100" and api["history"][0]["call_id"] == "old-1"


def test_actions_are_sent_for_the_logged_in_agent_only(login_as, bus):
    bus.replies["acd.agent.set_state"] = {}
    c = login_as("agent")
    tok = c.csrf_token("/agent")
    assert c.post("/agent", {"action": "login", "seat": "7", "login": "mallory"}, csrf=tok).status == 303
    assert ("acd.agent.set_state", {"login": "alice", "state": "login", "seat": 7}) in bus.args
    assert c.post("/agent", {"action": "not-ready", "reason": "lunch"}, csrf=tok).status == 303
    assert ("acd.agent.set_state", {"login": "alice", "state": "not-ready", "reason": "lunch"}) in bus.args
    r = c.post("/agent", {"action": "login", "seat": "seven"}, csrf=tok)
    assert r.status == 400 and "seat: &#039;seven&#039;" in r.text
    r = c.post("/agent", {"action": "fly"}, csrf=tok)
    assert r.status == 400
    bus.replies["acd.agent.set_state"] = BusError("agent alice is on-call")
    r = c.post("/agent", {"action": "ready"}, csrf=tok)
    assert r.status == 409 and "ready refused: agent alice is on-call" in r.text


def test_viewers_have_no_agent_page(login_as):
    assert login_as("viewer").get("/agent").status == 403


def test_call_actions_hold_transfer_and_consult_go_to_call_control_as_the_agent(login_as, bus):
    bus.replies["acd.agents"] = [{"login": "alice", "name": "Alice", "seat": 1, "state": "on-call",
                                  "since": 997.0, "calls": 4, "call_id": "c-100", "reason": ""}]
    bus.replies["call.list"] = [{"call_id": "c-100", "ani": "0201234567", "queue": "sales", "state": "connected"}]
    bus.replies["call.agent_action"] = {}
    c = login_as("agent")
    page = c.get("/agent").text
    assert 'action="/agent/call"' in page and "Consult first" in page
    tok = c.csrf_token("/agent")
    for form in ({"action": "hold"}, {"action": "consult", "target": "1002"}, {"action": "complete"},
                 {"action": "transfer", "target": "queue:sales", "login": "mallory"}):
        assert c.post("/agent/call", form, csrf=tok).status == 303
        assert bus.args[-1] == ("call.agent_action", {"login": "alice", "action": form["action"],
                                                      "target": form.get("target", "")})
    r = c.post("/agent/call", {"action": "transfer"}, csrf=tok)
    assert r.status == 400 and "target:" in r.text
    r = c.post("/agent/call", {"action": "explode"}, csrf=tok)
    assert r.status == 400
    bus.replies["call.agent_action"] = BusError("consult: agent 1002 is on-call; try later or transfer blind")
    r = c.post("/agent/call", {"action": "consult", "target": "1002"}, csrf=tok)
    assert r.status == 409 and "try later or transfer blind" in r.text
    assert c.post("/agent/call", {"action": "hold"}, csrf=False).status == 403


def test_wrap_up_note_for_the_agents_own_calls_only(login_as, bus, store, clock):
    bus.replies["acd.agents"] = [{"login": "alice", "name": "Alice", "seat": 1, "state": "acw",
                                  "since": 997.0, "calls": 4, "call_id": None, "reason": ""}]
    bus.replies["acd.queues"] = [{"name": "sales", "callbacks_waiting": 2}]
    store.add_cdr({"call_id": "mine-1", "start": clock() - 100, "end": clock() - 10, "ani": "0201234567",
                   "agent": "alice", "disposition": "answered"})
    store.add_cdr({"call_id": "bobs-1", "start": clock() - 100, "end": clock() - 5, "ani": "0201234567",
                   "agent": "bob", "disposition": "answered"})
    c = login_as("agent")
    page = c.get("/agent").text
    assert "Wrap-up of call mine-1" in page and "Callbacks waiting in the queues: <strong>2" in page
    tok = c.csrf_token("/agent")
    r = c.post("/agent/note", {"call_id": "mine-1", "disposition": "sale", "note": "ordered 2 <b>units</b>"}, csrf=tok)
    assert r.status == 303
    assert store.notes(["mine-1"])["mine-1"]["note"] == "ordered 2 <b>units</b>"
    page = c.get("/agent").text
    assert "ordered 2 &lt;b&gt;units&lt;/b&gt;" in page and "<b>units</b>" not in page
    for form, status, words in (({"call_id": "bobs-1", "disposition": "sale"}, 404, "not your current call"),
                                ({"call_id": "mine-1", "disposition": "bribe"}, 400, "disposition"),
                                ({"call_id": "mine-1", "disposition": "sale", "note": "x" * 501}, 400, "at most 500")):
        r = c.post("/agent/note", form, csrf=tok)
        assert r.status == status and words in r.text
    assert c.post("/agent/note", {"call_id": "mine-1", "disposition": "other"}, csrf=False).status == 403
    sup = login_as("supervisor")
    assert "sale by alice: ordered 2" in sup.get("/calls/mine-1").text.replace("&lt;b&gt;", "").replace(
        "&lt;/b&gt;", "")
