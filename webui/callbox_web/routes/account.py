"""First-boot setup, login and logout, and each user's language."""
import time
import urllib.parse

from bottle import HTTPError, request, response

from callbox_web import i18n
from callbox_web.auth import ANYONE, PW_MIN_LEN, ROLES, check_new_password, check_username
from callbox_web.context import safe_next, see_other


def _form(name):
    """A form field as text ('' when absent or not UTF-8)."""
    return request.forms.getunicode(name, default="") or ""


def install(app, web):
    """Add /setup, /login and /logout to app."""

    @app.get("/setup", roles=ANYONE, setup_ok=True)
    def setup_form():
        if web.users.has_admin():
            see_other("/")
        web.ensure_session()
        return web.render("setup", title="First boot setup", error=None, username="", pw_min=PW_MIN_LEN)

    @app.post("/setup", roles=ANYONE, setup_ok=True)
    def setup_submit():
        if web.users.has_admin():
            see_other("/")
        username = _form("username").strip()
        password = _form("password")
        error = check_username(username) or check_new_password(username, password, _form("confirm"))
        if error is None and not web.users.create_first_admin(username, password):
            see_other("/")                 # another browser finished setup first
        if error:
            response.status = 400
            return web.render("setup", title="First boot setup", error=error, username=username[:32],
                              pw_min=PW_MIN_LEN)
        web.audit.write(username, "setup.admin", "created admin %r ip=%s" % (username, web.client_ip()))
        see_other("/login?created=1")

    @app.get("/login", roles=ANYONE)
    def login_form():
        nxt = safe_next(request.query.get("next"))
        if web.current_user():
            see_other(nxt)
        web.ensure_session()
        notice = "Administrator created; log in." if request.query.get("created") else None
        return web.render("login", title="Log in", error=None, notice=notice, username="", next=nxt)

    @app.post("/login", roles=ANYONE)
    def login_submit():
        ip = web.client_ip()
        username = _form("username").strip()
        password = _form("password")
        nxt = safe_next(_form("next"))
        wait = web.limiter.retry_after(username, ip)
        if wait > 0:
            wait = int(wait) + 1
            raise HTTPError(429, "Too many failed logins for this username from your address (%s). Logins are "
                                 "refused for %d more seconds; try again after %s."
                                 % (ip, wait, _clock_text(web.clock() + wait)),
                            **{"Retry-After": str(wait)})
        user = web.users.verify(username, password)
        if user is None:
            web.limiter.fail(username, ip)
            web.audit.write(None, "login.failed", "user=%r ip=%s" % (username[:64], ip))
            return web.render("login", title="Log in", error="Wrong username or password.", notice=None,
                              username=username[:32], next=nxt)
        web.limiter.succeed(username, ip)
        web.start_session(user["username"])
        web.audit.write(user["username"], "login", "ip=%s" % ip)
        see_other(nxt)

    @app.post("/logout", roles=ROLES)
    def logout():
        user = web.current_user()
        web.end_session()
        web.audit.write(user["username"], "logout", "ip=%s" % web.client_ip())
        see_other("/login")

    _install_lang(app, web)


def _install_lang(app, web):
    @app.post("/account/lang", roles=ROLES)
    def set_lang():
        """The logged-in user's language for every page (en or zh)."""
        lang = request.forms.getunicode("lang", default="") or ""
        if lang not in i18n.LANGS:
            raise HTTPError(400, "lang: %r is not one of %s" % (lang, ", ".join(i18n.LANGS)))
        user = web.current_user()
        with web.db_lock:
            web.store.execute("UPDATE users SET lang=? WHERE username=?", (lang, user["username"]))
        request.environ.pop("callbox.user", None)
        back = safe_next(urllib.parse.urlsplit(request.get_header("Referer") or "").path or "/")
        see_other(back)


def _clock_text(t):
    return time.strftime("%H:%M:%S", time.localtime(t))
