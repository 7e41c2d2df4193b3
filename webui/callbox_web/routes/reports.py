"""Reports (/reports, /reports.csv): queues, agents, hourly traffic and staffing for a date range.

The figures and their definitions come from callbox.stats.reports; the page prints
the service-level variant it shows, so nobody has to guess what "SL" means.
"""
import csv
import io
import threading
import time

from bottle import HTTPError, request, response

from callbox.stats import reports

REPORT_ROLES = ("admin", "supervisor", "viewer")
QUEUE_COLUMNS = ("queue", "offered", "answered", "abandoned", "abandoned_short", "timeouts", "callbacks",
                 "voicemail", "blocked", "sl_offered", "sl_answered", "sl_ignore_short", "sl_positive",
                 "abandon_rate", "asa_s", "longest_wait_s", "talk_s", "acw_s", "aht_s", "fcr", "survey_n",
                 "survey_good")
MAX_DAYS = 366


def _day(text, name):
    try:
        return time.mktime(time.strptime(text, "%Y-%m-%d"))
    except (TypeError, ValueError):
        raise HTTPError(400, "%s: %r is not a date YYYY-MM-DD" % (name, text)) from None


def _num(name, default, lo, hi):
    raw = request.query.getunicode(name) or ""
    if not raw:
        return default
    try:
        v = float(raw)
    except ValueError:
        v = None
    if v is None or not lo <= v <= hi:
        raise HTTPError(400, "%s: %r must be a number from %g to %g" % (name, raw, lo, hi))
    return v


def params(clock):
    """The report's period and thresholds from the query string (400 naming the bad field)."""
    today = time.strftime("%Y-%m-%d", time.localtime(clock()))
    frm = request.query.getunicode("from") or today
    to = request.query.getunicode("to") or frm
    t0, t1 = _day(frm, "from"), _day(to, "to") + 86400
    if t1 <= t0:
        raise HTTPError(400, "to: %s is before from: %s" % (to, frm))
    if t1 - t0 > MAX_DAYS * 86400:
        raise HTTPError(400, "the period is longer than %d days; choose a shorter one" % MAX_DAYS)
    return {"from": frm, "to": to, "t0": t0, "t1": t1, "T": _num("T", 15.0, 1, 3600),
            "short": _num("short", 5.0, 0, 600), "target": _num("target", 80.0, 1, 99.9)}


CACHE_S = 10.0      # a report is computed at most once per CACHE_S for the same parameters


def install(app, web):
    cache = {}
    cache_lock = threading.Lock()

    def compute(p):
        """The four reports of a date range; shared by every user asking within CACHE_S (the
        figures are history: ten seconds old is fine, twenty users recomputing them is not)."""
        key = (p["t0"], p["t1"], p["T"], p["short"], p["target"])
        now = web.clock()
        with cache_lock:
            hit = cache.get(key)
            if hit is not None and now - hit[0] < CACHE_S:
                return hit[1]
        with web.db_lock:
            out = {"queues": reports.queue_report(web.store, p["t0"], p["t1"], p["T"], p["short"]),
                   "agents": reports.agent_report(web.store, p["t0"], p["t1"]),
                   "hours": reports.hourly(web.store, p["t0"], p["t1"]),
                   "staff": reports.staffing_from_history(web.store, p["t0"], p["t1"], p["T"], p["target"] / 100.0)}
        with cache_lock:
            for k in [k for k, v in cache.items() if now - v[0] >= CACHE_S]:
                del cache[k]
            cache[key] = (now, out)
        return out

    @app.get("/reports", roles=REPORT_ROLES, nav="Reports")
    def reports_page():
        p = params(web.clock)
        r = compute(p)
        return web.render("reports", title="Reports", p=p, queues=r["queues"], agents=r["agents"], hours=r["hours"],
                          staff=r["staff"], definitions=reports.__doc__.split("\n\n", 1)[1])

    @app.get("/reports.csv", roles=REPORT_ROLES)
    def reports_csv():
        p = params(web.clock)
        with web.db_lock:
            rows = reports.queue_report(web.store, p["t0"], p["t1"], p["T"], p["short"])
        web.audit.write(web.current_user()["username"], "report.export", "from=%s to=%s" % (p["from"], p["to"]))
        buf = io.StringIO()
        out = csv.writer(buf)
        out.writerow(QUEUE_COLUMNS)
        for r in rows:
            out.writerow(["" if r[c] is None else (round(r[c], 4) if isinstance(r[c], float) else r[c])
                          for c in QUEUE_COLUMNS])
        response.content_type = "text/csv; charset=utf-8"
        response.set_header("Content-Disposition", 'attachment; filename="callbox-queues-%s-%s.csv"'
                            % (p["from"], p["to"]))
        return buf.getvalue()
