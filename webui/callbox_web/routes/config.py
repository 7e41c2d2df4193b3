"""Configuration pages (admin): queues, agents and skills, routes, users.

Every change is validated by the same rules the daemons use (the store and the
ACD), so an error names the field and the problem; nothing is stored when a
field is wrong. After a change the page asks call control to apply it at once
(``acd.reload``) and says what it did, or what still needs a restart.
Every change is written to the audit log.
"""
import json
import re
import urllib.parse

from bottle import request, response

from callbox.acd.acd import STRATEGIES
from callbox.config.store import (E1_FRAMING, LINE_CODES, R2_DEFAULTS, SIGNALLING, SPAN_CHOICES, T1_FRAMING,
                                  check_translations)
from callbox.errors import BusError, ConfigError

from callbox_web.auth import ROLES, check_new_password, check_username
from callbox_web.context import see_other

ADMIN = ("admin",)
SKILLS_RE = re.compile(r"^\s*([A-Za-z0-9_-]{1,32})\s*:\s*(\d{1,2})\s*$")


def _f(name):
    return (request.forms.getunicode(name, default="") or "").strip()


def parse_skills(text, field="skills"):
    """'zh:3, en:5' -> {"zh": 3, "en": 5}; ConfigError naming the bad part."""
    out = {}
    for part in [p for p in text.split(",") if p.strip()]:
        m = SKILLS_RE.match(part)
        if not m or not 1 <= int(m.group(2)) <= 10:
            raise ConfigError("%s: %r must be name:level with a level 1..10, e.g. zh:3, en:5" % (field, part.strip()))
        out[m.group(1)] = int(m.group(2))
    return out


def _number(name, lo, hi, integer=False, default=None):
    raw = _f(name)
    if raw == "" and default is not None:
        return default
    try:
        v = int(raw) if integer else float(raw)
    except ValueError:
        raise ConfigError("%s: %r is not a %s" % (name, raw, "whole number" if integer else "number")) from None
    if not lo <= v <= hi:
        raise ConfigError("%s: %s must be from %g to %g" % (name, raw, lo, hi))
    return v


def skills_text(skills):
    return ", ".join("%s:%d" % kv for kv in sorted((skills or {}).items()))


def install(app, web):

    def apply_live():
        """Ask call control to apply the stored configuration; returns a sentence for the page."""
        try:
            r = web.bus.request("acd.reload", None, 3.0)
        except BusError as e:
            return "Saved. Call control is not reachable (%s); it applies the change when it starts." % e
        parts = ["Saved and applied."]
        if r.get("problems"):
            parts.append("Not applied: " + "; ".join(r["problems"]))
        if r.get("restart_needed_for"):
            parts.append("Needs a restart of call control: " + ", ".join(r["restart_needed_for"]))
        return " ".join(parts)

    def done(page, what, detail):
        user = web.current_user()["username"]
        web.audit.write(user, "config.change", "%s: %s" % (what, detail))
        note = apply_live()
        see_other("%s?done=%s" % (page, re.sub(r"[^A-Za-z0-9 .,:;()_'-]", "", note)[:400].replace(" ", "+")))

    def render(name, status=200, **kw):
        response.status = status
        kw.setdefault("error", None)
        kw.setdefault("notice", request.query.getunicode("done") or None)
        return web.render(name, **kw)

    # -- queues -------------------------------------------------------------------------
    def queues_page(status=200, error=None, form=None):
        with web.db_lock:
            rows = web.store.queues()
        for r in rows:
            r["all"] = web.store.queue_settings(r)
        return render("config_queues", status, title="Queues", queues=rows, strategies=STRATEGIES, error=error,
                      form=form or {}, skills_text=skills_text)

    @app.get("/config/queues", roles=ADMIN, nav="Queues")
    def queues_get():
        return queues_page()

    @app.post("/config/queues", roles=ADMIN)
    def queues_post():
        form = {k: _f(k) for k in ("name", "strategy", "skills", "acw_s", "sl_target_s", "max_wait_s", "timeout_dest",
                                   "ring_s", "callback_key", "survey", "announce_every_s", "overflow_s",
                                   "overflow_to")}
        try:
            q = {"name": form["name"], "strategy": form["strategy"] or "longest-idle",
                 "skills": parse_skills(form["skills"]),
                 "acw_s": _number("acw_s", 0, 3600, default=5.0),
                 "sl_target_s": _number("sl_target_s", 1, 3600, default=15.0),
                 "max_wait_s": _number("max_wait_s", 0, 86400, default=300.0),
                 "ring_s": _number("ring_s", 1, 600, default=20.0),
                 "announce_every_s": _number("announce_every_s", 0, 3600, default=30.0),
                 "overflow_s": _number("overflow_s", 0, 86400, default=0.0),
                 "timeout_dest": form["timeout_dest"] or "hangup", "callback_key": form["callback_key"],
                 "survey": form["survey"]}
            if form["overflow_to"]:
                q["overflow_to"] = [x.strip() for x in form["overflow_to"].split(",") if x.strip()]
            with web.db_lock:
                known = {r["name"] for r in web.store.queues()} | {q["name"]}
                for other in q.get("overflow_to", []):
                    if other not in known:
                        raise ConfigError("overflow_to: %r is not a queue" % other)
                web.store.put_queue(q)
        except ConfigError as e:
            return queues_page(400, str(e), form)
        done("/config/queues", "queue %s" % q["name"], json.dumps(q, sort_keys=True))

    @app.post("/config/queues/delete", roles=ADMIN)
    def queues_delete():
        name = _f("name")
        with web.db_lock:
            routed = [r for r in web.store.routes() if r["target"] == "queue:" + name]
            n = 0 if routed else web.store.changed("DELETE FROM queues WHERE name=?", (name,))
        if routed:
            return queues_page(409, "queue %s: routes still send calls to it (route %d); change them first"
                               % (name, routed[0]["id"]))
        if not n:
            return queues_page(404, "queue %r: no such queue" % name)
        done("/config/queues", "queue %s" % name, "deleted")

    # -- agents -------------------------------------------------------------------------
    def agents_page(status=200, error=None, form=None):
        with web.db_lock:
            rows = web.store.agents()
        return render("config_agents", status, title="Agents", agents=rows, error=error, form=form or {},
                      skills_text=skills_text)

    @app.get("/config/agents", roles=ADMIN, nav="Agents")
    def agents_get():
        return agents_page()

    @app.post("/config/agents", roles=ADMIN)
    def agents_post():
        form = {k: _f(k) for k in ("login", "name", "skills")}
        try:
            if not form["name"] or len(form["name"]) > 64:
                raise ConfigError("name: must be 1-64 characters")
            agent = {"login": form["login"], "name": form["name"], "skills": parse_skills(form["skills"])}
            with web.db_lock:
                old = [a for a in web.store.agents() if a["login"] == agent["login"]]
                if old:
                    agent["id"] = old[0]["id"]
                web.store.put_agent(agent)
        except ConfigError as e:
            return agents_page(400, str(e), form)
        done("/config/agents", "agent %s" % agent["login"], json.dumps(agent, sort_keys=True))

    @app.post("/config/agents/delete", roles=ADMIN)
    def agents_delete():
        login = _f("login")
        with web.db_lock:
            n = web.store.changed("DELETE FROM agents WHERE login=?", (login,))
        if not n:
            return agents_page(404, "agent %r: no such agent" % login)
        done("/config/agents", "agent %s" % login, "deleted (signed-in agents stay until they sign out)")

    # -- routes -------------------------------------------------------------------------
    def routes_page(status=200, error=None, form=None, rules_text=None):
        with web.db_lock:
            rows = web.store.routes()
            rules = web.store.get_setting("routing.translations", []) or []
        if rules_text is None:
            rules_text = "\n".join("%s -> %s" % (r.get("match", ""), r.get("replace", "")) for r in rules
                                   if isinstance(r, dict))
        return render("config_routes", status, title="Routes", routes=rows, error=error, form=form or {},
                      rules_text=rules_text)

    @app.post("/config/routes/translations", roles=ADMIN)
    def translations_post():
        """Called-number translation: one rule per line, ``regex -> replacement``."""
        text = request.forms.getunicode("rules", default="") or ""
        if len(text) > 8000:
            return routes_page(413, "rules: at most 8000 characters", rules_text=text[:8000])
        rules = []
        for n, line in enumerate(text.replace("\r\n", "\n").split("\n"), 1):
            if not line.strip():
                continue
            match, sep, replace = line.partition(" -> ")
            if not sep or not match.strip():
                return routes_page(400, "rules line %d: %r is not 'regex -> replacement'" % (n, line[:60]),
                                   rules_text=text)
            rules.append({"match": match.strip(), "replace": replace.strip()})
        try:
            check_translations(rules)
        except ConfigError as e:
            return routes_page(400, "%s (line numbers count the rules)" % e, rules_text=text)
        with web.db_lock:
            web.store.set_setting("routing.translations", rules)
        done("/config/routes", "called-number translation", json.dumps(rules))

    @app.get("/config/routes", roles=ADMIN, nav="Routes")
    def routes_get():
        return routes_page()

    @app.post("/config/routes", roles=ADMIN)
    def routes_post():
        form = {k: _f(k) for k in ("dnis", "ani", "target", "priority")}
        try:
            prio = _number("priority", 0, 100, integer=True, default=0)
            kind, _, name = form["target"].partition(":")
            with web.db_lock:
                if kind == "queue" and name not in {q["name"] for q in web.store.queues()}:
                    raise ConfigError("target: queue %r does not exist" % name)
                web.store.put_route(form["dnis"] or "*", form["target"], ani=form["ani"] or "*", priority=prio)
        except ConfigError as e:
            return routes_page(400, str(e), form)
        done("/config/routes", "route", json.dumps(form, sort_keys=True))

    @app.post("/config/routes/delete", roles=ADMIN)
    def routes_delete():
        rid = _f("id")
        if not rid.isdigit():
            return routes_page(400, "id: %r is not a route number" % rid)
        with web.db_lock:
            n = web.store.changed("DELETE FROM routes WHERE id=?", (int(rid),))
        if not n:
            return routes_page(404, "route %s: no such route" % rid)
        done("/config/routes", "route %s" % rid, "deleted")

    # -- users --------------------------------------------------------------------------
    def users_page(status=200, error=None, form=None):
        with web.db_lock:
            rows = web.store.query("SELECT username, role FROM users ORDER BY username")
        return render("config_users", status, title="Users", users=rows, roles=ROLES, error=error, form=form or {})

    @app.get("/config/users", roles=ADMIN, nav="Users")
    def users_get():
        return users_page()

    @app.post("/config/users", roles=ADMIN)
    def users_post():
        username, role, pw = _f("username"), _f("role"), request.forms.getunicode("password", default="") or ""
        form = {"username": username, "role": role}
        err = check_username(username) or (None if role in ROLES else "role: %r is not one of %s"
                                           % (role, ", ".join(ROLES)))
        if err is None:
            err = check_new_password(username, pw, request.forms.getunicode("confirm", default="") or "")
        if err is None and web.users.get(username):
            err = "username: %s already exists" % username
        if err:
            return users_page(400, err, form)
        web.users.create(username, pw, role)
        web.audit.write(web.current_user()["username"], "config.change", "user %s created, role %s" % (username, role))
        see_other("/config/users?done=User+%s+created." % username)

    @app.post("/config/users/delete", roles=ADMIN)
    def users_delete():
        username = _f("username")
        me = web.current_user()["username"]
        if username == me:
            return users_page(409, "username: you cannot delete your own account while logged in with it")
        with web.db_lock:
            admins = [r["username"] for r in web.store.query("SELECT username FROM users WHERE role='admin'")]
            last = admins == [username]
            n = 0 if last else web.store.changed("DELETE FROM users WHERE username=?", (username,))
        if last:
            return users_page(409, "username: %s is the last admin; make another admin first" % username)
        if not n:
            return users_page(404, "username: %r: no such user" % username)
        web.sessions.drop_user(username)
        web.audit.write(me, "config.change", "user %s deleted" % username)
        see_other("/config/users?done=User+%s+deleted." % username)

    # -- trunks (spans) and seats: these need the media engine and call control restarted
    RESTART_NOTE = ("Saved. Span and seat changes take effect when the media engine and call control restart "
                    "(System, Restart the box; calls in progress are dropped).")

    def spans_page(status=200, error=None, form=None):
        with web.db_lock:
            spans, seats = web.store.spans(), web.store.seats()
            r2 = dict(R2_DEFAULTS, **(web.store.get_setting("r2", {}) or {}))
        return render("config_spans", status, title="Trunks and seats", spans=spans, seats=seats, error=error, r2=r2,
                      form=form or {}, kinds=SPAN_CHOICES["kind"], sides=SPAN_CHOICES["side"],
                      framings=E1_FRAMING + T1_FRAMING, codes=sorted(set(LINE_CODES["E1"] + LINE_CODES["T1"])),
                      signallings=SIGNALLING)

    @app.get("/config/spans", roles=ADMIN, nav="Trunks")
    def spans_get():
        return spans_page()

    @app.post("/config/spans", roles=ADMIN)
    def spans_post():
        form = {k: _f(k) for k in ("id", "name", "kind", "framing", "line_code", "signalling", "side", "backend",
                                   "enabled")}
        try:
            span = {"id": _number("id", 0, 63, integer=True), "name": form["name"] or "span" + form["id"],
                    "kind": form["kind"], "framing": form["framing"], "line_code": form["line_code"],
                    "signalling": form["signalling"], "side": form["side"], "backend": form["backend"],
                    "enabled": 1 if form["enabled"] else 0}
            if len(span["name"]) > 32:
                raise ConfigError("name: at most 32 characters")
            with web.db_lock:
                web.store.put_span(span)
        except ConfigError as e:
            return spans_page(400, str(e), form)
        web.audit.write(web.current_user()["username"], "config.change", "span %s: %s" % (span["id"],
                                                                                      json.dumps(span, sort_keys=True)))
        see_other("/config/spans?done=" + urllib.parse.quote_plus(RESTART_NOTE))

    @app.post("/config/r2", roles=ADMIN)
    def r2_post():
        try:
            opts = {"dnis_digits": _number("dnis_digits", 1, 20, integer=True), "ani": bool(_f("ani"))}
        except ConfigError as e:
            return spans_page(400, "MFC/R2 " + str(e))
        with web.db_lock:
            web.store.set_setting("r2", opts)
        web.audit.write(web.current_user()["username"], "config.change", "r2: %s" % json.dumps(opts, sort_keys=True))
        see_other("/config/spans?done=" + urllib.parse.quote_plus(RESTART_NOTE))

    @app.post("/config/seats", roles=ADMIN)
    def seats_post():
        form = {k: _f(k) for k in ("id", "name", "backend")}
        password = request.forms.getunicode("sip_password", default="") or ""
        try:
            seat = {"id": _number("id", 1, 9999, integer=True), "name": form["name"] or "seat " + form["id"],
                    "backend": form["backend"]}
            if not re.match(r"^[a-z]+://\S+$", seat["backend"]):
                raise ConfigError("backend: %r is not a seat backend URL such as sip://1007 or sim://seat/3"
                                  % seat["backend"])
            if password and not seat["backend"].startswith("sip://"):
                raise ConfigError("SIP password: only SIP seats (sip://<user>) have one")
            with web.db_lock:
                web.store.execute("SAVEPOINT seat")
                try:
                    web.store.put_seat(seat)
                    if password:
                        web.store.set_seat_password(seat["id"], password)
                except ConfigError:
                    web.store.execute("ROLLBACK TO seat")
                    raise
                finally:
                    web.store.execute("RELEASE seat")
        except ConfigError as e:
            return spans_page(400, str(e), form)
        web.audit.write(web.current_user()["username"], "config.change", "seat %s: %s%s" % (
            seat["id"], seat["backend"], " (SIP password changed)" if password else ""))
        see_other("/config/spans?done=" + RESTART_NOTE.replace(" ", "+"))
