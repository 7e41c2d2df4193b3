"""The config store: one SQLite database (WAL) in the data directory.

Everything durable lives here: configuration, CDRs, per-call events and the
recording index. Several daemons open it; SQLite's WAL mode lets readers run
while one writer commits, and a busy timeout absorbs short write collisions.

Schema migrations are numbered SQL files in ``migrations/`` (``NNN_name.sql``);
PRAGMA user_version holds the number of the last one applied. Each migration
runs in one transaction, so a power cut leaves either the old or the new schema.
"""
import json
import os
import re
import sqlite3
import time

from callbox.errors import ConfigError

MIGRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")
_MIG = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


def migrations():
    """The migration files in order: [(version, path)]."""
    out = []
    for name in sorted(os.listdir(MIGRATIONS)):
        m = _MIG.match(name)
        if m:
            out.append((int(m.group(1)), os.path.join(MIGRATIONS, name)))
    for i, (v, _) in enumerate(out):
        if v != i + 1:
            raise ConfigError("Loading migrations: expected %03d, found %03d" % (i + 1, v))
    return out


SCHEMA_VERSION = len(migrations())


def check_translations(rules):
    """Validate called-number translation rules; returns them compiled as (regex, template).

    Raises:
        ConfigError: a rule that is not {"match", "replace"}, a bad regex, or a template that
            refers to a group the regex does not have.
    """
    if not isinstance(rules, list) or len(rules) > 100:
        raise ConfigError("routing.translations: a list of at most 100 rules {match, replace}")
    out = []
    for i, r in enumerate(rules):
        if not isinstance(r, dict) or set(r) != {"match", "replace"} or \
                not all(isinstance(r[k], str) for k in r):
            raise ConfigError("routing.translations[%d]: must be {\"match\": regex, \"replace\": text}" % i)
        try:
            rx = re.compile(r["match"])
            rx.sub(r["replace"], "")      # compiles the template: a group the regex lacks is an error
        except re.error as e:
            raise ConfigError("routing.translations[%d]: %s" % (i, e)) from None
        out.append((rx, r["replace"]))
    return out


class Store:
    """Open (creating and migrating as needed) the database in data_dir.

    Args:
        data_dir (str): the data directory (/data on the box).

    Raises:
        ConfigError: the database cannot be opened, is newer than this firmware, or a
            migration fails.
    """

    def __init__(self, data_dir, readonly=False):
        self.data_dir = data_dir
        self.path = os.path.join(data_dir, "callbox.db")
        os.makedirs(data_dir, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None,
                                      check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as e:
            raise ConfigError("Opening config store %s: %s" % (self.path, e)) from None
        self.migrate()

    def __str__(self):
        return "Store(path=%s, schema=%d)" % (self.path, self.version())

    def close(self):
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def version(self):
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self):
        """Apply every migration newer than the database, each in its own transaction."""
        have = self.version()
        if have > SCHEMA_VERSION:
            raise ConfigError("Opening config store %s: schema %d is newer than this firmware's %d"
                              % (self.path, have, SCHEMA_VERSION))
        for v, path in migrations():
            if v <= have:
                continue
            with open(path, encoding="utf-8") as f:
                sql = f.read()
            try:
                self.db.execute("BEGIN IMMEDIATE")
                if self.version() >= v:       # another daemon migrated meanwhile
                    self.db.execute("ROLLBACK")
                    continue
                for stmt in _statements(sql):
                    self.db.execute(stmt)
                self.db.execute("PRAGMA user_version=%d" % v)
                self.db.execute("COMMIT")
            except sqlite3.Error as e:
                self.db.execute("ROLLBACK")
                raise ConfigError("Migrating config store to schema %d (%s): %s"
                                  % (v, os.path.basename(path), e)) from None

    # -- generic helpers ---------------------------------------------------
    def query(self, sql, args=()):
        return [dict(r) for r in self.db.execute(sql, args).fetchall()]

    def execute(self, sql, args=()):
        cur = self.db.execute(sql, args)
        return cur.lastrowid

    def changed(self, sql, args=()):
        """Run an UPDATE or DELETE; returns the number of rows it changed."""
        return self.db.execute(sql, args).rowcount

    # -- settings ------------------------------------------------------------
    def get_setting(self, key, default=None):
        row = self.db.execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_setting(self, key, value):
        self.db.execute("INSERT INTO settings(key, value) VALUES(?, ?) "
                        "ON CONFLICT(key) DO UPDATE SET value=excluded.value", (key, json.dumps(value)))

    # -- configuration -------------------------------------------------------
    def spans(self):
        return self.query("SELECT * FROM spans ORDER BY id")

    def put_span(self, span):
        """Validate and store a span (insert or replace by id).

        Raises:
            ConfigError: naming the field and the problem.
        """
        s = validate_span(span)
        self.db.execute("INSERT OR REPLACE INTO spans(id, name, kind, framing, line_code, signalling, side, "
                        "backend, enabled) VALUES(:id, :name, :kind, :framing, :line_code, :signalling, :side, "
                        ":backend, :enabled)", s)

    def seats(self):
        return self.query("SELECT * FROM seats ORDER BY id")

    def put_seat(self, seat):
        if not isinstance(seat.get("id"), int) or seat["id"] < 1:
            raise ConfigError("seats.id: %r is not a positive integer" % (seat.get("id"),))
        backend = str(seat.get("backend", ""))
        if backend.startswith("sip:"):
            from callbox.sip.seat import USER_RE
            user = backend[len("sip://"):] if backend.startswith("sip://") else ""
            if not USER_RE.match(user):
                raise ConfigError("seats.backend: %r must be sip://<user> with 1-32 of A-Z a-z 0-9 _ . -" % backend)
            clash = self.query("SELECT id FROM seats WHERE backend=? AND id<>?", (backend, seat["id"]))
            if clash:
                raise ConfigError("seats.backend: %s is already seat %d" % (backend, clash[0]["id"]))
        secret = seat.get("secret")
        if secret is None:
            old = self.query("SELECT secret, backend FROM seats WHERE id=?", (seat["id"],))
            # the stored secret hashes the SIP user name: it stays only while the user does
            secret = old[0]["secret"] if old and old[0]["backend"] == backend else ""
        if secret and not re.match(r"^md5:[0-9a-f]{32}$", str(secret)):
            raise ConfigError("seats.secret: must be md5:<32 hex digits> (set a password instead)")
        self.db.execute("INSERT OR REPLACE INTO seats(id, name, backend, secret) VALUES(?, ?, ?, ?)",
                        (seat["id"], seat.get("name", ""), backend, secret or ""))

    def set_seat_password(self, seat_id, password, realm=None):
        """Store a SIP seat's password as its digest secret (md5 of user:realm:password)."""
        from callbox.sip.digest import ha1_for
        rows = self.query("SELECT backend FROM seats WHERE id=?", (seat_id,))
        if not rows:
            raise ConfigError("seat %r: no such seat" % (seat_id,))
        if not rows[0]["backend"].startswith("sip://"):
            raise ConfigError("seat %d is not a SIP seat (backend %s); it has no password" % (seat_id, rows[0]["backend"]))
        if not isinstance(password, str) or len(password) < 8 or len(password) > 64:
            raise ConfigError("password: 8 to 64 characters")
        realm = realm or (self.get_setting("sip", {}) or {}).get("realm", "callbox")
        self.db.execute("UPDATE seats SET secret=? WHERE id=?", (ha1_for(rows[0]["backend"][6:], realm, password), seat_id))

    def agents(self):
        rows = self.query("SELECT * FROM agents ORDER BY id")
        for r in rows:
            r["skills"] = json.loads(r["skills"])
        return rows

    def put_agent(self, agent):
        login = str(agent.get("login", ""))
        if not re.match(r"^[0-9A-Za-z_.-]{1,32}$", login):
            raise ConfigError("agents.login: %r must be 1-32 letters, digits, '_', '.' or '-'" % login)
        self.db.execute("INSERT OR REPLACE INTO agents(id, login, name, skills) VALUES(?, ?, ?, ?)",
                        (agent.get("id"), login, agent.get("name", login), json.dumps(agent.get("skills", {}))))

    def queues(self):
        rows = self.query("SELECT * FROM queues ORDER BY id")
        for r in rows:
            r["settings"] = json.loads(r.get("settings") or "{}")
        return rows

    QUEUE_COLUMNS = ("strategy", "acw_s", "sl_target_s", "max_wait_s")

    def put_queue(self, q):
        """Add or replace a queue. Fields beyond the table's columns (skills, ring_s, overflow_to,
        ...) go to its JSON settings; all are checked by the ACD's own rules.

        Raises:
            ConfigError: naming the field and the problem.
        """
        from callbox.acd.acd import Queue
        name = str(q.get("name", ""))
        if not re.match(r"^[0-9A-Za-z_.-]{1,32}$", name):
            raise ConfigError("queues.name: %r must be 1-32 letters, digits, '_', '.' or '-'" % name)
        settings = {k: v for k, v in q.items() if k not in ("id", "name", "settings")}
        settings.update(q.get("settings") or {})
        settings.setdefault("max_wait_s", 300.0)
        try:
            Queue(name, **settings)
        except (ValueError, TypeError) as e:
            raise ConfigError("queues.%s" % e) from None
        cols = {k: settings.pop(k) for k in self.QUEUE_COLUMNS if k in settings}
        self.db.execute("INSERT OR REPLACE INTO queues(id, name, strategy, acw_s, sl_target_s, max_wait_s, settings) "
                        "VALUES((SELECT id FROM queues WHERE name=?), ?, ?, ?, ?, ?, ?)",
                        (name, name, cols.get("strategy", "longest-idle"), float(cols.get("acw_s", 5)),
                         float(cols.get("sl_target_s", 15)), float(cols.get("max_wait_s", 300)),
                         json.dumps(settings, sort_keys=True)))

    def queue_settings(self, row):
        """A queue row -> keyword arguments for ``Acd.add_queue``."""
        kw = dict(row.get("settings") or {})
        for k in self.QUEUE_COLUMNS:
            kw[k] = row[k]
        return kw

    def ivr_flows(self):
        rows = self.query("SELECT * FROM ivr_flows ORDER BY id")
        for r in rows:
            r["flow"] = json.loads(r["flow"])
        return rows

    def put_ivr_flow(self, name, flow):
        self.db.execute("INSERT OR REPLACE INTO ivr_flows(id, name, flow) VALUES("
                        "(SELECT id FROM ivr_flows WHERE name=?), ?, ?)", (name, name, json.dumps(flow)))

    def routes(self):
        return self.query("SELECT * FROM routes ORDER BY id")

    def put_route(self, dnis, target, ani="*", priority=0):
        """Add a route: calls to ``dnis`` (exact, prefix ending in '*', or '*') from ``ani``
        (the same forms) go to ``target`` with caller ``priority`` (VIP > 0). The first
        matching route in the order they were added wins.

        Raises:
            ConfigError: naming the field and the problem.
        """
        if not re.match(r"^(ivr|queue|voicemail):\S+$|^seat:[0-9]{1,4}$|^agent:[0-9A-Za-z_.-]{1,32}$|"
                        r"^external:\+?[0-9]{2,24}$", target):
            raise ConfigError("routes.target: %r is not ivr:<name>, queue:<name>, seat:<id>, agent:<login>, "
                              "external:<number> or voicemail:<box>" % target)
        for field, v in (("dnis", dnis), ("ani", ani)):
            if not re.match(r"^(\*|[0-9#+]{1,32}\*?)$", str(v)):
                raise ConfigError("routes.%s: %r must be digits, digits ending in '*' (a prefix) or '*'" % (field, v))
        if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 100:
            raise ConfigError("routes.priority: %r must be a whole number 0..100" % (priority,))
        self.db.execute("INSERT INTO routes(dnis, target, ani, priority) VALUES(?, ?, ?, ?)",
                        (str(dnis), target, str(ani), priority))

    def translations(self):
        """Called-number translation rules (setting ``routing.translations``): a list of
        {"match": regex, "replace": template}; the first rule whose regex matches the whole
        received number rewrites it before routing. Checked: ConfigError names the rule."""
        rules = self.get_setting("routing.translations", []) or []
        return check_translations(rules)

    # -- backup and restore ------------------------------------------------------
    BACKUP_FORMAT = "callbox-config-1"

    def backup(self):
        """All configuration (not CDRs, recordings or the audit log) as one JSON-able dict."""
        return {"format": self.BACKUP_FORMAT, "schema": self.version(), "made": time.time(),
                "spans": self.spans(), "seats": self.seats(), "agents": self.agents(),
                "queues": [dict(q, settings=q["settings"]) for q in self.queues()],
                "ivr_flows": [{"name": f["name"], "flow": f["flow"]} for f in self.ivr_flows()],
                "routes": self.routes(),
                "users": self.query("SELECT username, pw_hash, role, lang FROM users ORDER BY username"),
                "settings": {r["key"]: json.loads(r["value"]) for r in
                             self.query("SELECT key, value FROM settings WHERE key NOT LIKE 'callctl.%'")}}

    def restore(self, data):
        """Replace the whole configuration by a backup, all or nothing.

        Every entry goes through the same checks as a single change; the first problem
        is raised and nothing is replaced.

        Raises:
            ConfigError: naming the section, the entry and the problem.
        """
        from callbox.calls.ivr import validate_flow
        if not isinstance(data, dict) or data.get("format") != self.BACKUP_FORMAT:
            raise ConfigError("backup: not a CallBox configuration backup (format %r, expected %r)"
                              % (data.get("format") if isinstance(data, dict) else type(data).__name__,
                                 self.BACKUP_FORMAT))
        for section in ("spans", "seats", "agents", "queues", "ivr_flows", "routes", "users"):
            if not isinstance(data.get(section), list):
                raise ConfigError("backup.%s: missing or not a list" % section)
        if not any(isinstance(u, dict) and u.get("role") == "admin" for u in data["users"]):
            raise ConfigError("backup.users: no admin user; restoring it would lock everyone out")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for table in ("spans", "seats", "agents", "queues", "ivr_flows", "routes", "users"):
                self.db.execute("DELETE FROM %s" % table)
            where = ""
            try:
                for i, x in enumerate(data["spans"]):
                    where = "spans[%d]" % i
                    self.put_span(x)
                for i, x in enumerate(data["seats"]):
                    where = "seats[%d]" % i
                    self.put_seat(x)
                for i, x in enumerate(data["agents"]):
                    where = "agents[%d]" % i
                    self.put_agent(x)
                for i, x in enumerate(data["queues"]):
                    where = "queues[%d]" % i
                    q = {k: v for k, v in x.items() if k not in ("id", "settings")}
                    q.update(x.get("settings") or {})
                    self.put_queue(q)
                for i, x in enumerate(data["ivr_flows"]):
                    where = "ivr_flows[%d]" % i
                    validate_flow(x["name"], x["flow"])
                    self.put_ivr_flow(x["name"], x["flow"])
                for i, x in enumerate(data["routes"]):
                    where = "routes[%d]" % i
                    self.put_route(x["dnis"], x["target"], ani=x.get("ani", "*"), priority=x.get("priority", 0))
                for i, x in enumerate(data["users"]):
                    where = "users[%d]" % i
                    if x.get("role") not in ("admin", "supervisor", "agent", "viewer") or \
                            not str(x.get("pw_hash", "")).startswith("pbkdf2"):
                        raise ConfigError("role or password hash is not valid")
                    if x.get("lang", "en") not in ("en", "zh"):
                        raise ConfigError("lang %r is not en or zh" % (x.get("lang"),))
                    self.db.execute("INSERT INTO users(username, pw_hash, role, lang) VALUES(?, ?, ?, ?)",
                                    (x["username"], x["pw_hash"], x["role"], x.get("lang", "en")))
                for key, value in (data.get("settings") or {}).items():
                    where = "settings.%s" % key
                    self.set_setting(key, value)
            except ConfigError as e:
                raise ConfigError("backup.%s: %s" % (where, e)) from None
            except (KeyError, TypeError, ValueError, AttributeError, sqlite3.Error) as e:
                raise ConfigError("backup.%s: %s: %s" % (where, type(e).__name__, e)) from None
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- records -------------------------------------------------------------
    def add_cdr(self, cdr):
        cols = ("call_id", "start", "answer", "end", "span", "chan", "ani", "dnis", "digits", "queue",
                "agent", "seat", "wait_s", "talk_s", "disposition", "cause", "recording", "survey", "priority")
        vals = [cdr.get(c) for c in cols]
        vals[-1] = vals[-1] or 0
        return self.execute("INSERT OR REPLACE INTO cdr(%s) VALUES(%s)" % (", ".join(cols), ", ".join("?" * len(cols))),
                            vals)

    def cdrs(self, limit=100, offset=0, call_id=None):
        if call_id:
            return self.query("SELECT * FROM cdr WHERE call_id=?", (call_id,))
        return self.query("SELECT * FROM cdr ORDER BY start DESC LIMIT ? OFFSET ?", (limit, offset))

    DISPOSITIONS = ("resolved", "sale", "follow-up", "callback promised", "complaint", "information",
                    "wrong number", "other")

    def dispositions(self):
        """The wrap-up codes agents choose from (setting ``agent.dispositions``, else the defaults)."""
        v = self.get_setting("agent.dispositions", None)
        return list(v) if isinstance(v, list) and v and all(isinstance(x, str) for x in v) else list(self.DISPOSITIONS)

    def put_note(self, call_id, agent, disposition, note, t=None):
        """Store (or replace) an agent's wrap-up of a call.

        Raises:
            ConfigError: an unknown disposition, a note over 500 characters, or control characters.
        """
        if disposition not in self.dispositions():
            raise ConfigError("disposition: %r is not one of %s" % (disposition, ", ".join(self.dispositions())))
        note = (note or "").replace("\r\n", "\n").strip()
        if len(note) > 500:
            raise ConfigError("note: %d characters; at most 500" % len(note))
        if any(ord(c) < 32 and c not in "\n\t" for c in note):
            raise ConfigError("note: control characters are not allowed")
        self.execute("INSERT OR REPLACE INTO call_notes(call_id, t, agent, disposition, note) VALUES(?, ?, ?, ?, ?)",
                     (call_id, t if t is not None else time.time(), agent, disposition, note))

    def notes(self, call_ids):
        """call_id -> note row, for the given calls."""
        ids = list(call_ids)
        if not ids:
            return {}
        rows = self.query("SELECT * FROM call_notes WHERE call_id IN (%s)" % ",".join("?" * len(ids)), ids)
        return {r["call_id"]: r for r in rows}

    def add_call_event(self, call_id, event, detail=None, t=None):
        self.execute("INSERT INTO call_events(call_id, t, event, detail) VALUES(?, ?, ?, ?)",
                     (call_id, t or time.time(), event, json.dumps(detail or {})))

    def call_events(self, call_id):
        rows = self.query("SELECT * FROM call_events WHERE call_id=? ORDER BY id", (call_id,))
        for r in rows:
            r["detail"] = json.loads(r["detail"])
        return rows

    def add_recording(self, call_id, path, start):
        return self.execute("INSERT INTO recordings(call_id, path, start, state) VALUES(?, ?, ?, 'recording')",
                            (call_id, path, start))

    def finish_recording(self, rec_id, duration_s, nbytes, state="complete"):
        self.db.execute("UPDATE recordings SET duration_s=?, bytes=?, state=? WHERE id=?",
                        (duration_s, nbytes, state, rec_id))

    def recordings(self, limit=100, offset=0, call_id=None, ani=None, agent=None, queue=None, since=None, until=None):
        """Recordings newest first; the filters match the call's CDR (ANI prefix, agent, queue)
        and the recording's start time. Each row carries the CDR's ani, agent and queue."""
        if call_id:
            return self.query("SELECT * FROM recordings WHERE call_id=? ORDER BY id", (call_id,))
        where, args = [], []
        for col, v in (("c.ani", ani), ("c.agent", agent), ("c.queue", queue)):
            if v:
                where.append("%s LIKE ?" % col if col == "c.ani" else "%s = ?" % col)
                args.append(v + "%" if col == "c.ani" else v)
        if since is not None:
            where.append("r.start >= ?")
            args.append(since)
        if until is not None:
            where.append("r.start < ?")
            args.append(until)
        sql = ("SELECT r.*, c.ani AS ani, c.agent AS agent, c.queue AS queue FROM recordings r "
               "LEFT JOIN cdr c ON c.call_id = r.call_id %s ORDER BY r.start DESC LIMIT ? OFFSET ?"
               % ("WHERE " + " AND ".join(where) if where else ""))
        return self.query(sql, args + [limit, offset])

    def recording(self, rec_id):
        rows = self.query("SELECT * FROM recordings WHERE id=?", (rec_id,))
        return rows[0] if rows else None


def _statements(sql):
    """Split a migration into statements (our files keep ';' out of literals)."""
    body = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


SPAN_CHOICES = {
    "kind": ("E1", "T1"),
    "side": ("user", "network"),
}
E1_FRAMING = ("crc4", "no-crc4")
T1_FRAMING = ("esf", "d4")
LINE_CODES = {"E1": ("hdb3", "ami"), "T1": ("b8zs", "ami")}
SIGNALLING = ("pri", "r2-cn", "r2-itu", "cas")
# the "r2" setting: DNIS digits incoming MFC/R2 calls collect, and whether they ask for ANI
R2_DEFAULTS = {"dnis_digits": 4, "ani": True}


def validate_span(span):
    """Check a span's configuration; return it normalised.

    Raises:
        ConfigError: "spans[<id>].<field>: <value> is not one of: ..." for the first bad field.
    """
    s = dict(span)
    sid = s.get("id")
    where = "spans[%s]" % sid
    if not isinstance(sid, int) or isinstance(sid, bool) or not 0 <= sid < 64:
        raise ConfigError("%s.id: %r is not an integer 0..63" % (where, sid))
    s.setdefault("name", "span%d" % sid)
    s.setdefault("enabled", 1)
    for field, allowed in SPAN_CHOICES.items():
        if s.get(field) not in allowed:
            raise ConfigError("%s.%s: %r is not one of: %s" % (where, field, s.get(field), ", ".join(allowed)))
    framing = E1_FRAMING if s["kind"] == "E1" else T1_FRAMING
    if s.get("framing") not in framing:
        raise ConfigError("%s.framing: %r is not one of: %s" % (where, s.get("framing"), ", ".join(framing)))
    if s.get("line_code") not in LINE_CODES[s["kind"]]:
        raise ConfigError("%s.line_code: %r is not one of: %s"
                          % (where, s.get("line_code"), ", ".join(LINE_CODES[s["kind"]])))
    if s.get("signalling") not in SIGNALLING:
        raise ConfigError("%s.signalling: %r is not one of: %s" % (where, s.get("signalling"), ", ".join(SIGNALLING)))
    if s["signalling"].startswith("r2-") and s["kind"] != "E1":
        raise ConfigError("%s.signalling: %s runs on E1 spans only (T1 carries PRI or robbed-bit CAS)"
                          % (where, s["signalling"]))
    if not isinstance(s.get("backend"), str) or "://" not in s["backend"]:
        raise ConfigError("%s.backend: %r is not a backend URL such as sim://pairA/0" % (where, s.get("backend")))
    return s
