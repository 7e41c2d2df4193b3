"""The agent's page (/agent): sign in to a seat, ready / not ready with a reason, end
after-call work, sign out, and a screen pop for the call being offered or talked to.

A wrap-up form stores a disposition code and a short note for the call in progress or the
agent's last call (shown in later screen pops of the same caller and on the call page).

The web user name is the agent's login (an admin creates both with the same name).
The screen pop shows the caller's number, the IVR choices and collected values, the
VIP flag, the queue and the caller's previous calls; it is cleared when the call ends.
"""
from bottle import request, response

from callbox.errors import BusError, ConfigError

from callbox_web.context import see_other

AGENT_ROLES = ("agent", "supervisor", "admin")
ACTIONS = ("login", "ready", "not-ready", "end-acw", "logged-out")
CALL_ACTIONS = ("hold", "unhold", "transfer", "consult", "complete", "cancel")
REASONS = ("break", "lunch", "meeting", "training", "after this call")


def agent_view(web, login):
    """{agent, call, history, error} for the page and /api/agent."""
    out = {"agent": None, "call": None, "history": [], "error": None, "wrapup": None, "callbacks": None}
    try:
        agents = web.bus.request("acd.agents", None, 2.0)
        out["agent"] = next((a for a in agents if isinstance(a, dict) and a.get("login") == login), None)
        cid = (out["agent"] or {}).get("call_id")
        if cid:
            calls = web.bus.request("call.list", None, 2.0)
            out["call"] = next((c for c in calls if isinstance(c, dict) and c.get("call_id") == cid), None)
    except BusError as e:
        out["error"] = "call control not reachable: %s" % e
    call = out["call"]
    with web.db_lock:
        if call and call.get("ani"):
            rows = web.store.query("SELECT call_id, start, disposition, queue, agent, talk_s, survey FROM cdr "
                                   "WHERE ani=? ORDER BY start DESC LIMIT 5", (call["ani"],))
            notes = web.store.notes(r["call_id"] for r in rows)
            out["history"] = [dict(r, note=notes.get(r["call_id"])) for r in rows]
        # the call to wrap up: the one in progress, else the agent's last call of the day
        wrap = call.get("call_id") if call else None
        if wrap is None:
            last = web.store.query("SELECT call_id FROM cdr WHERE agent=? AND end>? ORDER BY end DESC LIMIT 1",
                                   (login, web.clock() - 86400))
            wrap = last[0]["call_id"] if last else None
        out["wrapup"] = {"call_id": wrap, "note": web.store.notes([wrap]).get(wrap) if wrap else None,
                         "dispositions": web.store.dispositions()}
    try:
        queues = web.bus.request("acd.queues", None, 2.0)
        out["callbacks"] = sum(int(q.get("callbacks_waiting") or 0) for q in queues if isinstance(q, dict))
    except BusError:
        out["callbacks"] = None
    return out


def may_note(web, login, call_id, view):
    """An agent writes the wrap-up of its current call or of a call it took in the last day."""
    if view["call"] and view["call"].get("call_id") == call_id:
        return True
    with web.db_lock:
        return bool(web.store.query("SELECT 1 FROM cdr WHERE call_id=? AND agent=? AND end>?",
                                    (call_id, login, web.clock() - 86400)))


def install(app, web):
    def page(status=200, error=None):
        login = web.current_user()["username"]
        view = agent_view(web, login)
        response.status = status
        return web.render("agent", title="Agent", login=login, view=view, reasons=REASONS,
                          error=error or view["error"], notice=request.query.getunicode("done") or None,
                          scripts=["/static/agent.js"])

    @app.post("/agent/note", roles=AGENT_ROLES)
    def agent_note_post():
        """The wrap-up of a call: a disposition code and a short note, kept on the box."""
        login = web.current_user()["username"]
        call_id = (request.forms.getunicode("call_id", default="") or "").strip()
        view = agent_view(web, login)
        if not call_id:
            return page(400, "call_id: which call? (none given)")
        if not may_note(web, login, call_id, view):
            return page(404, "call_id: %r is not your current call nor one you took today" % call_id[:40])
        try:
            with web.db_lock:
                web.store.put_note(call_id, login, request.forms.getunicode("disposition", default="") or "",
                                   request.forms.getunicode("note", default="") or "")
        except ConfigError as e:
            return page(400, str(e))
        see_other("/agent?done=wrap-up+saved")

    @app.post("/agent/call", roles=AGENT_ROLES)
    def agent_call_post():
        """Hold, blind transfer, or an attended transfer (consult, then complete or cancel)."""
        login = web.current_user()["username"]
        action = request.forms.getunicode("action", default="") or ""
        if action not in CALL_ACTIONS:
            return page(400, "action: %r is not one of %s" % (action, ", ".join(CALL_ACTIONS)))
        target = (request.forms.getunicode("target", default="") or "").strip()
        if len(target) > 64:
            return page(400, "target: at most 64 characters")
        if action in ("transfer", "consult") and not target:
            return page(400, "target: an agent's login or a telephone number, or queue:<name> (transfer only)")
        try:
            web.bus.request("call.agent_action", {"login": login, "action": action, "target": target}, 3.0)
        except BusError as e:
            return page(409, "%s refused: %s" % (action, e))
        see_other("/agent?done=" + action)

    @app.get("/agent", roles=AGENT_ROLES, nav="Agent")
    def agent_get():
        return page()

    @app.get("/api/agent", roles=AGENT_ROLES)
    def agent_api():
        return agent_view(web, web.current_user()["username"])

    @app.post("/agent", roles=AGENT_ROLES)
    def agent_post():
        login = web.current_user()["username"]
        action = request.forms.getunicode("action", default="") or ""
        if action not in ACTIONS:
            return page(400, "action: %r is not one of %s" % (action, ", ".join(ACTIONS)))
        req = {"login": login, "state": action}
        if action == "login":
            seat = (request.forms.getunicode("seat", default="") or "").strip()
            if not seat.isdigit() or not 1 <= int(seat) <= 9999:
                return page(400, "seat: %r is not a seat number" % seat)
            req["seat"] = int(seat)
        if action == "not-ready":
            reason = (request.forms.getunicode("reason", default="") or "").strip() or "break"
            if len(reason) > 64:
                return page(400, "reason: at most 64 characters")
            req["reason"] = reason
        try:
            web.bus.request("acd.agent.set_state", req, 3.0)
        except BusError as e:
            return page(409, "%s refused: %s" % (action, e))
        see_other("/agent?done=" + action)
