"""The wallboard (/wallboard) and its server-sent event stream (/api/stream).

The stream sends one ``data:`` line of JSON a second (the wallboard's figures:
queues with waiting calls, longest wait and service level today, agents by state,
span alarms), so a wall screen follows the call centre within a second without
polling. A stream ends after ``max`` events (default 600, ten minutes); the
browser's EventSource reconnects by itself, which also re-checks the session.
"""
import json
import time

from bottle import HTTPError, request, response

from callbox_web.routes.dashboard import snapshot

WALL_ROLES = ("admin", "supervisor", "viewer")
STATES = ("ready", "ringing", "on-call", "acw", "not-ready")


def wall_data(bus, clock):
    live = snapshot(bus, clock)
    agents = {s: 0 for s in STATES}
    for a in live["agents"]:
        if a.get("state") in agents:
            agents[a["state"]] += 1
    queues = [{"name": q.get("name"), "waiting": q.get("waiting", 0), "longest_wait_s": q.get("longest_wait_s", 0),
               "sl_pct": q.get("sl_pct"), "answered": q.get("answered", 0), "abandoned": q.get("abandoned", 0),
               "agents_ready": q.get("agents_ready", 0)} for q in live["queues"]]
    alarms = []
    for s in live["spans"]:
        on = [k.upper() for k, v in (s.get("alarms") or {}).items() if v]
        if on or not s.get("up"):
            alarms.append({"span": s.get("span"), "alarms": on or ["DOWN"]})
    return {"now": live["now"], "queues": queues, "agents": agents, "alarms": alarms,
            "waiting": sum(q["waiting"] or 0 for q in queues), "errors": live["errors"]}


def install(app, web):
    @app.get("/wallboard", roles=WALL_ROLES, nav="Wallboard")
    def wallboard():
        return web.render("wallboard", title="Wallboard", wall=wall_data(web.bus, web.clock), states=STATES,
                          scripts=["/static/wallboard.js"])

    @app.get("/api/stream", roles=WALL_ROLES)
    def stream():
        raw = request.query.get("max") or "600"
        if not raw.isdigit() or not 1 <= int(raw) <= 3600:
            raise HTTPError(400, "max: %r must be a whole number of events from 1 to 3600" % raw)
        count = int(raw)
        response.content_type = "text/event-stream; charset=utf-8"
        response.set_header("Cache-Control", "no-store")
        response.set_header("X-Accel-Buffering", "no")

        def events():
            yield "retry: 1000\n\n"
            for i in range(count):
                yield "data: %s\n\n" % json.dumps(wall_data(web.bus, web.clock), separators=(",", ":"))
                if i + 1 < count:
                    time.sleep(1.0)
        return events()
