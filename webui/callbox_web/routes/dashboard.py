"""The live dashboard (/) and its JSON feed (/api/live).

Both come from one snapshot of four bus requests. A daemon that is down, slow or
answers with an error costs only its own panels: the page still renders and the
panel shows "<daemon> not reachable: <error>". After a timeout the snapshot does
not ask the same daemon again, so a hung daemon delays a page by one timeout, not
one per panel.

The table cells are built here for the first render and by static/live.js for the
updates; the two keep the same columns.
"""
import logging

from callbox.bus import owner
from callbox.errors import BusError, BusTimeoutError

from callbox_web.auth import ROLES
from callbox_web.context import fmt_dur

log = logging.getLogger("callbox.web")

LIVE_TIMEOUT_S = 1.0
PANELS = (("spans", "span.status"), ("calls", "call.list"), ("agents", "acd.agents"), ("queues", "acd.queues"))
DAEMON_NAMES = {"media": "media engine", "callctl": "call control"}
ALARMS = ("los", "ais", "lof", "rai")


def snapshot(bus, clock):
    """Ask the daemons for the dashboard's data.

    Returns:
        dict: {"now": t, "spans": [...], "calls": [...], "agents": [...], "queues": [...],
               "errors": {panel: message}}; a panel in errors has [].
    """
    out = {"now": clock(), "errors": {}}
    hung = {}
    for panel, op in PANELS:
        daemon = owner(op)
        out[panel] = []
        err = hung.get(daemon)
        if err is None:
            try:
                data = bus.request(op, None, LIVE_TIMEOUT_S)
            except BusTimeoutError as e:
                err = hung[daemon] = e
            except BusError as e:
                err = e
            else:
                if isinstance(data, list) and all(isinstance(row, dict) for row in data):
                    out[panel] = data
                    continue
                err = "%s: malformed reply (expected a list of maps, got %s)" % (op, type(data).__name__)
        out["errors"][panel] = "%s not reachable: %s" % (DAEMON_NAMES.get(daemon, daemon), err)
        log.debug("dashboard: %s", out["errors"][panel])
    _merge_dchan(bus, out, hung)
    return out


def _merge_dchan(bus, out, hung):
    """The D-channel state lives in call control (sig.status); show it beside each span."""
    if not out["spans"] or "callctl" in hung:
        return
    try:
        sig = bus.request("sig.status", None, LIVE_TIMEOUT_S)
    except BusError:
        sig = []
    state = {s.get("span"): s.get("dchan") for s in sig if isinstance(s, dict)} if isinstance(sig, list) else {}
    for span in out["spans"]:
        span.setdefault("dchan", state.get(span.get("span"), "unknown"))


def _text(v):
    return "" if v is None else str(v)


def span_cells(s, now):
    """One span's table cells: [(text, css class)]; the other *_cells likewise."""
    alarms = s.get("alarms") or {}
    active = [a.upper() for a in ALARMS if alarms.get(a)]
    return [
        (_text(s.get("name")) or "span%s" % _text(s.get("span")), ""),
        (" ".join(_text(s.get(k)) for k in ("kind", "framing", "line_code")).strip(), ""),
        ("up", "ok") if s.get("up") else ("down", "bad"),
        (" ".join(active), "bad") if active else ("none", "ok"),
        (_text(s.get("dchan")), "ok" if s.get("dchan") == "up" else "bad"),
    ]


def call_cells(c, now):
    start = c.get("start")
    return [
        ("%s/%s" % (_text(c.get("span")), _text(c.get("chan"))), ""),
        (_text(c.get("ani")), ""),
        (_text(c.get("dnis")), ""),
        (_text(c.get("state")), ""),
        (_text(c.get("queue")), ""),
        (_text(c.get("agent")), ""),
        (_text(c.get("seat")), ""),
        (fmt_dur(now - start) if isinstance(start, (int, float)) else "", "num"),
    ]


def agent_cells(a, now):
    since = a.get("since")
    return [
        (_text(a.get("login")), ""),
        (_text(a.get("name")), ""),
        (_text(a.get("seat")), ""),
        (_text(a.get("state")), "state-" + _text(a.get("state"))),
        (fmt_dur(now - since) if isinstance(since, (int, float)) else "", "num"),
        (_text(a.get("calls")), "num"),
    ]


def queue_cells(q, now):
    return [
        (_text(q.get("name")), ""),
        (_text(q.get("waiting")), "num"),
        (fmt_dur(q.get("longest_wait_s")), "num"),
        (_text(q.get("agents_ready")), "num"),
        (_text(q.get("answered")), "num"),
        (_text(q.get("abandoned")), "num"),
    ]


# What the page shows per panel: (key, heading, column titles, text for no rows).
PANEL_VIEW = (
    ("spans", "Spans", ("Span", "Type", "Status", "Alarms", "D-channel"), "No spans configured."),
    ("calls", "Live calls", ("Span/chan", "ANI", "DNIS", "State", "Queue", "Agent", "Seat", "Duration"),
     "No calls in progress."),
    ("agents", "Agents", ("Login", "Name", "Seat", "State", "For", "Calls"), "No agents."),
    ("queues", "Queues", ("Queue", "Waiting", "Longest wait", "Agents ready", "Answered", "Abandoned"),
     "No queues."),
)

CELLS = {"spans": span_cells, "calls": call_cells, "agents": agent_cells, "queues": queue_cells}


def install(app, web):
    """Add / and /api/live to app."""

    @app.get("/", roles=ROLES, nav="Dashboard")
    def dashboard():
        live = snapshot(web.bus, web.clock)
        rows = {panel: [CELLS[panel](item, live["now"]) for item in live[panel]] for panel, _ in PANELS}
        return web.render("dashboard", title="Dashboard", live=live, rows=rows, panels=PANEL_VIEW,
                          scripts=["/static/live.js"])

    @app.get("/api/live", roles=ROLES)
    def api_live():
        return snapshot(web.bus, web.clock)
