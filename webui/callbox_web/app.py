"""The CallBox web UI as a WSGI application: make_app(bus, store, data_dir).

Design notes:

- Each call builds a fresh application (no Bottle default app, no module state),
  so tests and the daemon can build as many as they like.
- Security that must hold for every response lives at the WSGI edge
  (WebApp.wsgi adds the security headers, even to error pages and crashes) or in
  hooks and plugins that every route passes through: the body cap and Host check
  (before_request), first-boot redirect, login, roles and CSRF (plugins.py).
- Every route declares its roles; make_app prepares each route once at build time,
  so a route with a missing or bad declaration stops the app from being built.
- Errors get a page that says what happened (views/error.tpl), or a JSON body on
  /api/. A crash logs its traceback to the "callbox.web" logger and shows none of it.
"""
import json
import logging
import time

import bottle
from bottle import HTTPError, request, response, static_file

from callbox_web import routes
from callbox_web.auth import ANYONE, PW_ITERATIONS
from callbox_web.context import STATIC_DIR, Web
from callbox_web.plugins import AuthPlugin, CsrfPlugin, route_roles

log = logging.getLogger("callbox.web")

MAX_BODY = 64 * 1024        # bytes; the UI posts small forms only
UPLOAD_PATHS = {"/config/prompts": 8 * 1024 * 1024, "/system/restore": 4 * 1024 * 1024 + 4096,
                "/system/update": 1024 ** 3}     # the few routes that take files, and their cap

SECURITY_HEADERS = (
    ("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
                                "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
                                "form-action 'self'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)

ERROR_TITLES = {
    400: "Bad request",
    401: "Login needed",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    411: "Length required",
    413: "Request too large",
    416: "Range not satisfiable",
    429: "Too many attempts",
    500: "Internal error",
}
CRASH_MESSAGE = ("The web UI hit an unexpected error while handling this request. The details were logged "
                 "(logger callbox.web); nothing was changed by the failed request. Try again, and if it "
                 "keeps happening, check the log.")


class WebApp(bottle.Bottle):
    """A Bottle application that adds the security headers to every response it sends."""

    def __init__(self, web, **kwargs):
        super().__init__(**kwargs)
        self.web = web

    def wsgi(self, environ, start_response):
        private = not environ.get("PATH_INFO", "").startswith("/static/")

        def start_with_headers(status, headers, exc_info=None):
            have = {name.lower() for name, _ in headers}
            extra = [(k, v) for k, v in SECURITY_HEADERS if k.lower() not in have]
            if private and "cache-control" not in have:
                extra.append(("Cache-Control", "no-store"))
            return start_response(status, list(headers) + extra, exc_info)

        return super().wsgi(environ, start_with_headers)


def make_app(bus, store, data_dir, secure_cookies=False, *, pw_iterations=PW_ITERATIONS, clock=time.time,
             max_body=MAX_BODY, allowed_hosts=None):
    """Build the web UI.

    Args:
        bus: the bus router (callbox.bus.router.BusRouter or anything with request(op, args, timeout)).
        store (callbox.config.store.Store): the config store.
        data_dir (str): the data directory; recordings are served from <data_dir>/recordings.
        secure_cookies (bool): the box is served over HTTPS; mark the session cookie Secure.
        pw_iterations (int): PBKDF2 cost for new password hashes (tests lower it).
        clock (callable): time source for sessions, login throttling and audit rows.
        max_body (int): largest request body accepted, in bytes (413 beyond).
        allowed_hosts (iterable of str|None): Host header values (without port) the UI answers to;
            None answers to any. Setting it closes DNS-rebinding attacks on the first-boot page.

    Returns:
        WebApp: a fresh bottle.Bottle subclass instance (a WSGI callable).

    Raises:
        bottle.PluginError: a route declares no roles or bad ones.
    """
    if not isinstance(max_body, int) or max_body < 1:
        raise ValueError("make_app: max_body %r is not a positive number of bytes" % (max_body,))
    web = Web(bus, store, data_dir, secure_cookies=secure_cookies, pw_iterations=pw_iterations, clock=clock)
    app = WebApp(web)
    hosts = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}

    @app.hook("before_request")
    def check_request():
        if hosts is not None:
            host = (request.environ.get("HTTP_HOST") or "").lower()
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name not in hosts:
                raise HTTPError(400, "Host %r is not a name this box answers to." % host[:100])
        if "chunked" in request.environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            raise HTTPError(411, "Chunked request bodies are not accepted; send a Content-Length.")
        length = request.environ.get("CONTENT_LENGTH") or "0"
        if not length.isdigit():
            raise HTTPError(400, "Content-Length %r is not a number." % length[:20])
        cap = UPLOAD_PATHS.get(request.path, max_body)
        if int(length) > cap:
            raise HTTPError(413, "The request body is %s bytes; this box accepts at most %d here." % (length, cap))

    app.install(AuthPlugin(web))
    app.install(CsrfPlugin(web))

    @app.get("/static/<filename:path>", roles=ANYONE, setup_ok=True)
    def static(filename):
        return static_file(filename, root=STATIC_DIR)

    routes.install_all(app, web)

    for code in ERROR_TITLES:
        app.error(code)(_error_page(web, code))

    for route in app.routes:
        route_roles(route)
        route.prepare()                  # apply the plugins now: a bad declaration fails here
    web.nav = [(r.rule, r.config.get("nav"), route_roles(r)) for r in app.routes if r.config.get("nav")]
    return app


def _error_page(web, code):
    def handle(err):
        if code == 500:
            log.error("%s %s failed: %s\n%s", request.method, request.path, err.exception, err.traceback or "")
            message = CRASH_MESSAGE
        else:
            message = err.body if isinstance(err.body, str) and err.body else ERROR_TITLES[code]
        if request.path.startswith("/api/"):
            response.content_type = "application/json"
            return json.dumps({"error": err.status_line, "message": message})
        try:
            user = web.current_user()
        except Exception:                  # the store itself may be what failed
            user = None
            request.environ["callbox.user"] = None
            request.environ["callbox.session"] = None
        return web.render("error", title=ERROR_TITLES[code], status=err.status_line, message=message,
                          code=code, user=user)
    return handle
