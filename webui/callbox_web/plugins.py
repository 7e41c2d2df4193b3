"""Bottle plugins for the web UI: who may call a route (AuthPlugin) and CSRF (CsrfPlugin).

Every route declares who may call it in its config, for example
``@app.get("/cdr", roles=("admin", "supervisor"))`` or ``roles=ANYONE`` for the
login page. AuthPlugin refuses to wrap a route that declares nothing, so a
forgotten declaration fails when the app is built, never by serving the page to
everyone.

Order of checks for one request (AuthPlugin is installed first, so it runs first):
  1. first boot: until an admin exists, every route not marked ``setup_ok=True``
     redirects to /setup;
  2. login: a route not open to ANYONE needs a logged-in user; pages redirect to
     /login?next=<path>, /api/ routes answer 401;
  3. role: the user's role must be in the route's roles, else 403;
  4. CSRF: a POST (PUT, PATCH, DELETE) must carry the session's token in the form
     field ``csrf_token`` or the ``X-CSRF-Token`` header, else 403.
"""
import functools
import hmac
import urllib.parse

from bottle import HTTPError, PluginError, request

from callbox_web.auth import ANYONE, ROLES
from callbox_web.context import see_other

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class RouteConfigError(PluginError):
    """A route's access declaration is missing or wrong."""


def route_roles(route):
    """The roles a route declares: ANYONE or a tuple of role names.

    Raises:
        RouteConfigError: naming the route and what is wrong.
    """
    roles = route.config.get("roles")
    where = "Route %s %s" % (route.method, route.rule)
    if roles is None:
        raise RouteConfigError("%s: declares no roles; add roles=(...) or roles=ANYONE" % where)
    if roles == ANYONE:
        return ANYONE
    if isinstance(roles, str) or not roles or any(r not in ROLES for r in roles):
        raise RouteConfigError("%s: roles=%r must be ANYONE or a non-empty tuple of: %s"
                               % (where, roles, ", ".join(ROLES)))
    return tuple(roles)


class AuthPlugin:
    """First-boot redirect, login and role checks (steps 1-3 above).

    Args:
        web (callbox_web.context.Web): sessions and users.
    """

    name = "callbox_auth"
    api = 2

    def __init__(self, web):
        self.web = web

    def setup(self, app):
        for other in app.plugins:
            if other is not self and getattr(other, "name", None) == self.name:
                raise PluginError("Installing %s: another plugin named %s is installed" % (self.name, self.name))

    def apply(self, callback, route):
        roles = route_roles(route)
        setup_ok = bool(route.config.get("setup_ok", False))
        web = self.web

        @functools.wraps(callback)
        def check_access(*args, **kwargs):
            if not setup_ok and not web.users.has_admin():
                see_other("/setup")
            if roles != ANYONE:
                user = web.current_user()
                if user is None:
                    if request.path.startswith("/api/"):
                        raise HTTPError(401, "Log in first: this API needs a session.")
                    target = request.path + ("?" + request.query_string if request.query_string else "")
                    see_other("/login?" + urllib.parse.urlencode({"next": target}))
                if user["role"] not in roles:
                    raise HTTPError(403, "Your role (%s) may not open %s; it is for: %s."
                                    % (user["role"], request.path, ", ".join(roles)))
            return callback(*args, **kwargs)

        return check_access


class CsrfPlugin:
    """CSRF check for state-changing requests (step 4 above).

    The token is per session (anonymous sessions have one too, for the login and
    setup forms) and compared in constant time.

    Args:
        web (callbox_web.context.Web): sessions.
    """

    name = "callbox_csrf"
    api = 2

    def __init__(self, web):
        self.web = web

    def setup(self, app):
        for other in app.plugins:
            if other is not self and getattr(other, "name", None) == self.name:
                raise PluginError("Installing %s: another plugin named %s is installed" % (self.name, self.name))

    def apply(self, callback, route):
        web = self.web

        @functools.wraps(callback)
        def check_csrf(*args, **kwargs):
            if request.method not in SAFE_METHODS:
                sess = web.current_session()
                if sess is None:
                    raise HTTPError(403, "This form's session has expired or was never started (no session "
                                         "cookie). Reload the page and submit it again.")
                sent = request.headers.get(CSRF_HEADER) or request.forms.get(CSRF_FIELD)
                if not sent:
                    raise HTTPError(403, "The request carries no CSRF token (form field %s or header %s), so "
                                         "it was refused. Reload the page and submit it again."
                                    % (CSRF_FIELD, CSRF_HEADER))
                if not hmac.compare_digest(sent.encode("utf-8", "replace"), sess.csrf.encode("ascii")):
                    raise HTTPError(403, "The request's CSRF token does not match this session (the form may be "
                                         "from an older session or another site), so it was refused. Reload the "
                                         "page and submit it again.")
            return callback(*args, **kwargs)

        return check_csrf
