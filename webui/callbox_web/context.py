"""What every route of the web UI shares: the Web context and small request helpers.

One Web object per application holds the bus, the store and the security state
(users, sessions, login limiter, audit log) and renders templates with the common
layout variables. Route modules receive it in their install(app, web).
"""
import os
import re
import threading
import time
import urllib.parse

from bottle import HTTPError, HTTPResponse, SimpleTemplate, request, response

from callbox_web import i18n
from callbox_web.audit import AuditLog
from callbox_web.auth import PW_ITERATIONS, LoginLimiter, Sessions, Users

HERE = os.path.dirname(os.path.abspath(__file__))
VIEWS_DIR = os.path.join(HERE, "views")
STATIC_DIR = os.path.join(HERE, "static")

MAX_PAGE = 100000
_PAGE_RE = re.compile(r"^[0-9]{1,6}$")
_NEXT_RE = re.compile(r"^/(?![/\\])[\x21-\x7e]*$")    # a local path; no "//host", "/\host", spaces or controls


class Views:
    """SimpleTemplate files from one directory, compiled once each.

    Args:
        directory (str): where the .tpl files are.
    """

    def __init__(self, directory):
        self.lookup = [directory]
        self._cache = {}
        self._lock = threading.Lock()

    def __str__(self):
        return "Views(%s)" % self.lookup[0]

    def render(self, name, **kwargs):
        with self._lock:
            tpl = self._cache.get(name)
            if tpl is None:
                tpl = self._cache[name] = SimpleTemplate(name=name, lookup=self.lookup)
        return tpl.render(kwargs)


class Web:
    """The state one web application works with.

    Args:
        bus: the bus router (request(op, args, timeout) -> data).
        store (callbox.config.store.Store): the config store.
        data_dir (str): the data directory; recordings live in <data_dir>/recordings.
        secure_cookies (bool): mark the session cookie Secure (the box serves HTTPS).
        pw_iterations (int): PBKDF2 cost for password hashes.
        clock (callable): time source for sessions, throttling and audit rows.
    """

    def __init__(self, bus, store, data_dir, secure_cookies=False, pw_iterations=PW_ITERATIONS,
                 clock=time.time):
        self.bus = bus
        self.store = store
        self.data_dir = data_dir
        self.clock = clock
        self.secure_cookies = bool(secure_cookies)
        self.db_lock = threading.Lock()
        self.users = Users(store, self.db_lock, pw_iterations)
        self.sessions = Sessions(clock)
        self.limiter = LoginLimiter(clock)
        self.audit = AuditLog(store, self.db_lock, clock)
        self.views = Views(VIEWS_DIR)
        self.rec_root = os.path.realpath(os.path.join(data_dir, "recordings"))
        # __Host- cookies are only accepted over HTTPS, with Path=/ and no Domain.
        self.cookie_name = "__Host-callbox_session" if self.secure_cookies else "callbox_session"
        self.nav = []          # [(path, label, roles)], filled by make_app from the routes

    def __str__(self):
        return "Web(data_dir=%s, store=%s, bus=%s, secure_cookies=%s)" % (
            self.data_dir, self.store.path, self.bus, self.secure_cookies)

    # -- the current request ---------------------------------------------------
    @staticmethod
    def client_ip():
        """The socket peer's address (proxy headers are not trusted)."""
        return request.environ.get("REMOTE_ADDR") or "-"

    def current_session(self):
        """This request's session, or None."""
        env = request.environ
        if "callbox.session" not in env:
            env["callbox.token"] = request.get_cookie(self.cookie_name)
            env["callbox.session"] = self.sessions.get(env["callbox.token"])
        return env["callbox.session"]

    def current_user(self):
        """This request's logged-in user ({"username", "role"}), or None."""
        env = request.environ
        if "callbox.user" not in env:
            sess = self.current_session()
            user = self.users.get(sess.username) if sess and sess.username else None
            if sess and sess.username and user is None:       # user deleted meanwhile
                self.sessions.drop(env.get("callbox.token"))
                env["callbox.session"] = None
            env["callbox.user"] = user
        return env["callbox.user"]

    def ensure_session(self):
        """This request's session, starting an anonymous one (for a form's CSRF token) if needed."""
        sess = self.current_session()
        if sess is None:
            token, sess = self.sessions.new(None)
            self._set_cookie(token)
            request.environ["callbox.token"] = token
            request.environ["callbox.session"] = sess
        return sess

    def start_session(self, username):
        """Log a user in: replace this request's session with a fresh one (no fixation)."""
        self.sessions.drop(request.environ.get("callbox.token"))
        token, sess = self.sessions.new(username)
        self._set_cookie(token)
        request.environ["callbox.token"] = token
        request.environ["callbox.session"] = sess
        request.environ.pop("callbox.user", None)
        return sess

    def end_session(self):
        """Log out: forget the session and tell the browser to drop the cookie."""
        self.sessions.drop(request.environ.get("callbox.token"))
        request.environ["callbox.session"] = None
        request.environ["callbox.user"] = None
        response.delete_cookie(self.cookie_name, path="/", httponly=True, samesite="strict",
                               secure=self.secure_cookies)

    def _set_cookie(self, token):
        response.set_cookie(self.cookie_name, token, path="/", httponly=True, samesite="strict",
                            secure=self.secure_cookies)

    # -- rendering ---------------------------------------------------------------
    def nav_for(self, user):
        if not user:
            return []
        return [(path, label) for path, label, roles in self.nav if user["role"] in roles]

    def render(self, name, **kwargs):
        """Render views/<name>.tpl inside the base layout.

        The layout gets user, csrf, nav, path and the fmt_* helpers; kwargs override them.
        """
        user = self.current_user()
        sess = self.current_session()
        lang = (user or {}).get("lang") if user else i18n.pick(request.get_header("Accept-Language"))
        lang = lang if lang in i18n.LANGS else "en"
        ctx = {
            "user": user,
            "lang": lang,
            "t": i18n.translator(lang),
            "lang_names": i18n.LANG_NAMES,
            "csrf": sess.csrf if sess else "",
            "nav": self.nav_for(user),
            "path": request.path,
            "scripts": [],
            "fmt_time": fmt_time,
            "fmt_dur": fmt_dur,
            "fmt_bytes": fmt_bytes,
            "quote": _quote_path,
        }
        ctx.update(kwargs)
        return self.views.render(name, **ctx)


# -- helpers for routes ---------------------------------------------------------
def see_other(location):
    """Redirect (303) to a local path, keeping cookies set on this response.

    The Location stays relative: it is never built from the client's Host header.
    """
    res = response.copy(cls=HTTPResponse)
    res.status = 303
    res.body = ""
    res.set_header("Location", location)
    raise res


def safe_next(value):
    """The local path to go to after login; anything else becomes "/"."""
    if value and _NEXT_RE.match(value) and "\\" not in value:
        return value
    return "/"


def parse_page():
    """The ?page= number (1 when absent).

    Raises:
        HTTPError: 400 naming the bad value.
    """
    raw = request.query.get("page")
    if raw is None:
        return 1
    if not _PAGE_RE.match(raw) or not 1 <= int(raw) <= MAX_PAGE:
        raise HTTPError(400, "page: %r is not a page number (a whole number from 1 to %d)" % (raw[:40], MAX_PAGE))
    return int(raw)


def _quote_path(v):
    return urllib.parse.quote(str(v), safe="")


def fmt_time(t, ms=False):
    """Unix time as local "YYYY-MM-DD hh:mm:ss" ('' for None)."""
    if t is None or t == "":
        return ""
    try:
        t = float(t)
    except (TypeError, ValueError):
        return str(t)
    s = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))
    return s + (".%03d" % int((t % 1) * 1000) if ms else "")


def iso_time(t):
    """Unix time as ISO 8601 with the UTC offset ('' for None), for exports."""
    if t is None or t == "":
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(float(t)))


def fmt_dur(s):
    """Seconds as m:ss or h:mm:ss ('' for None)."""
    if s is None or s == "":
        return ""
    try:
        s = max(0, int(round(float(s))))
    except (TypeError, ValueError):
        return str(s)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return "%d:%02d:%02d" % (h, m, sec) if h else "%d:%02d" % (m, sec)


def fmt_bytes(n):
    """A byte count as B, KiB, MiB or GiB."""
    if n is None:
        return ""
    n = float(n)
    for unit in ("B", "KiB", "MiB"):
        if n < 1024:
            return ("%d %s" % (n, unit)) if unit == "B" else ("%.1f %s" % (n, unit))
        n /= 1024
    return "%.1f GiB" % n

