"""Span diagnostics (/diagnostics): what the field tech's console shows, in the browser.

Every span's state, alarms, failures, framing, loopback and counters, the current
15-minute performance interval, and the framed BERT. Supervisors look; only admins loop a
span or run a BERT, and a loopback needs a tick in "calls on this span are dropped".
"""
from bottle import request, response

from callbox.errors import BusError

from callbox_web.context import see_other

VIEW = ("admin", "supervisor")
ADMIN = ("admin",)
LOOPBACKS = ("off", "local", "line", "payload")
BERT_ACTIONS = ("start", "stop", "insert", "reset")
PATTERNS = ("11", "15", "20", "23")
PERF = ("es", "ses", "bes", "uas", "css", "fls", "lcv", "pcv")


def install(app, web):
    def page(status=200, error=None):
        spans, berts = [], {}
        try:
            spans = web.bus.request("span.status", None, 3.0) or []
            for s in spans:
                try:
                    berts[s["span"]] = web.bus.request("span.bert", {"span": s["span"], "action": "show"}, 3.0)
                except BusError:
                    berts[s["span"]] = None
        except BusError as e:
            error = error or "media engine not reachable: %s" % e
        response.status = status
        return web.render("diagnostics", title="Diagnostics", spans=spans, berts=berts, perf=PERF,
                          loopbacks=LOOPBACKS, patterns=PATTERNS, error=error,
                          notice=request.query.getunicode("done") or None,
                          admin=web.current_user()["role"] == "admin")

    def span_arg():
        raw = (request.forms.getunicode("span", default="") or "").strip()
        if not raw.isdigit() or int(raw) > 63:
            raise ValueError("span: %r is not a span number" % raw)
        return int(raw)

    @app.get("/diagnostics", roles=VIEW, nav="Diagnostics")
    def diagnostics():
        return page()

    @app.post("/diagnostics/loopback", roles=ADMIN)
    def loopback():
        mode = request.forms.getunicode("mode", default="") or ""
        try:
            sid = span_arg()
        except ValueError as e:
            return page(400, str(e))
        if mode not in LOOPBACKS:
            return page(400, "mode: %r is not one of %s" % (mode, ", ".join(LOOPBACKS)))
        if mode != "off" and request.forms.getunicode("confirm", default="") != "yes":
            return page(400, "confirm: tick the box: a loopback takes span %d out of service and drops its calls"
                        % sid)
        try:
            web.bus.request("span.loopback", {"span": sid, "mode": mode}, 3.0)
        except BusError as e:
            return page(409, "loopback refused: %s" % e)
        web.audit.write(web.current_user()["username"], "span.loopback", "span %d %s" % (sid, mode))
        see_other("/diagnostics?done=Span+%d+loopback+%s." % (sid, mode))

    @app.post("/diagnostics/bert", roles=ADMIN)
    def bert():
        action = request.forms.getunicode("action", default="") or ""
        try:
            sid = span_arg()
        except ValueError as e:
            return page(400, str(e))
        if action not in BERT_ACTIONS:
            return page(400, "action: %r is not one of %s" % (action, ", ".join(BERT_ACTIONS)))
        req = {"span": sid, "action": action}
        if action == "start":
            pattern = request.forms.getunicode("pattern", default="15") or "15"
            if pattern not in PATTERNS:
                return page(400, "pattern: %r is not one of 2^11, 2^15, 2^20, 2^23 (-1)" % pattern)
            req["pattern"] = int(pattern)
            req["inverted"] = request.forms.getunicode("inverted", default="") == "yes"
        try:
            web.bus.request("span.bert", req, 3.0)
        except BusError as e:
            return page(409, "BERT %s refused: %s" % (action, e))
        web.audit.write(web.current_user()["username"], "span.bert", "span %d %s" % (sid, action))
        see_other("/diagnostics?done=Span+%d+BERT+%s." % (sid, action))
