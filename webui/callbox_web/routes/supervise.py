"""Supervisor actions: listen, whisper or barge into a call from a seat; force an agent's state.

Every action is a POST with the session's CSRF token, goes to call control over the
bus, is written to the audit log, and returns to the page with a notice that says
what happened or exactly why call control refused it.
"""
from bottle import request

from callbox.errors import BusError

from callbox_web.context import see_other

SUPERVISORS = ("admin", "supervisor")
MODES = ("listen", "whisper", "barge", "off")
STATES = ("ready", "not-ready", "end-acw", "logged-out")


def _form(name):
    return (request.forms.getunicode(name, default="") or "").strip()


def install(app, web):
    """Add /supervise (GET: live calls and agents with actions; POST: one action)."""

    def page(notice=None, error=None, status=200):
        calls, agents, problems = [], [], []
        for op, out in (("call.list", calls), ("acd.agents", agents)):
            try:
                got = web.bus.request(op, None, 2.0)
                out.extend(x for x in got if isinstance(x, dict)) if isinstance(got, list) else None
            except BusError as e:
                problems.append("call control not reachable: %s" % e)
        from bottle import response
        response.status = status
        return web.render("supervise", title="Supervise", calls=calls, agents=agents, modes=MODES, states=STATES,
                          notice=notice, error=error or ("; ".join(problems) if problems else None))

    @app.get("/supervise", roles=SUPERVISORS, nav="Supervise")
    def supervise():
        return page(notice=request.query.getunicode("done") or None)

    @app.post("/supervise/call", roles=SUPERVISORS)
    def monitor():
        call_id, mode, seat = _form("call_id"), _form("mode"), _form("seat")
        if mode not in MODES:
            return page(error="mode: %r is not one of %s" % (mode, ", ".join(MODES)), status=400)
        if not seat.isdigit() or not 1 <= int(seat) <= 9999:
            return page(error="seat: %r is not a seat number (1-9999)" % seat, status=400)
        user = web.current_user()["username"]
        try:
            web.bus.request("call.monitor", {"call_id": call_id, "seat": int(seat), "mode": mode}, 3.0)
        except BusError as e:
            return page(error="%s on call %s from seat %s refused: %s" % (mode, call_id, seat, e), status=409)
        web.audit.write(user, "call.monitor", "call=%s seat=%s mode=%s" % (call_id, seat, mode))
        see_other("/supervise?done=" + ("%s: call %s from seat %s" % (mode, call_id, seat)).replace(" ", "+"))

    @app.post("/supervise/agent", roles=SUPERVISORS)
    def force_state():
        login, state, reason = _form("login"), _form("state"), _form("reason") or "supervisor"
        if state not in STATES:
            return page(error="state: %r is not one of %s" % (state, ", ".join(STATES)), status=400)
        user = web.current_user()["username"]
        try:
            web.bus.request("acd.agent.set_state", {"login": login, "state": state, "reason": reason[:64]}, 3.0)
        except BusError as e:
            return page(error="agent %s to %s refused: %s" % (login, state, e), status=409)
        web.audit.write(user, "agent.force_state", "agent=%s state=%s reason=%s" % (login, state, reason[:64]))
        see_other("/supervise?done=" + ("agent %s: %s" % (login, state)).replace(" ", "+"))
