"""The wallboard page and its server-sent events."""
import json


def test_wallboard_renders_the_figures(login_as):
    page = login_as("viewer").get("/wallboard")
    assert page.status == 200 and 'id="wall-waiting">1<' in page.text and "sales" in page.text
    assert "/static/wallboard.js" in page.text


def test_stream_sends_events_a_second_apart_with_the_figures(login_as, bus):
    c = login_as("supervisor")
    r = c.get("/api/stream?max=2")
    assert r.status == 200 and r.header("Content-Type").startswith("text/event-stream")
    events = [json.loads(line[6:]) for line in r.text.split("\n") if line.startswith("data: ")]
    assert len(events) == 2
    e = events[0]
    assert e["waiting"] == 1 and e["agents"]["on-call"] == 1 and e["queues"][0]["name"] == "sales"
    assert r.text.startswith("retry: 1000")


def test_stream_refuses_bad_parameters_and_strangers(login_as, new_client, app):
    assert login_as("admin").get("/api/stream?max=0").status == 400
    assert login_as("agent").get("/api/stream?max=1").status == 403
    assert new_client(app).get("/api/stream?max=1").status == 401
