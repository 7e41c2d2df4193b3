"""Web UI: who may call which route, for every route the app has.

The table is generated from app.routes and each route's own roles declaration,
so a new route is checked as soon as it exists; a route with a URL parameter
needs a sample URL in SAMPLES, or test_every_route_has_a_sample fails.
"""
import pytest
from bottle import PluginError

from callbox_web.auth import ANYONE, ROLES
from callbox_web.plugins import route_roles

pytestmark = pytest.mark.args

SAMPLES = {
    "/static/<filename:path>": "/static/style.css",
    "/calls/<call_id:re:[A-Za-z0-9._:@+-]{1,128}>": "/calls/c-1",
    "/recordings/<rec_id:int>": "/recordings/1",
    "/recordings/<rec_id:int>.wav": "/recordings/1.wav",
    "/api/stream": "/api/stream?max=1",
}
WHO = ("anonymous",) + ROLES


@pytest.fixture
def data(store, data_dir, wav):
    store.add_cdr({"call_id": "c-1", "start": 900.0, "answer": 901.0, "end": 950.0, "span": 0, "chan": 1,
                   "ani": "0201234567", "dnis": "800", "disposition": "answered"})
    store.add_call_event("c-1", "setup", {"ani": "0201234567"}, t=900.0)
    wav(data_dir / "recordings" / "c-1.wav")
    rec = store.add_recording("c-1", "c-1.wav", 900.0)
    store.finish_recording(rec, 0.1, 1644)
    assert rec == 1


def url_of(route):
    return SAMPLES.get(route.rule, route.rule)


def routes_of(app):
    return [(r.method, r.rule, route_roles(r)) for r in app.routes]


def test_every_route_has_a_sample(app):
    missing = [r.rule for r in app.routes if "<" in r.rule and r.rule not in SAMPLES]
    assert not missing, "add a sample URL for: %s" % missing


def test_every_route_declares_roles(app):
    for method, rule, roles in routes_of(app):
        assert roles == ANYONE or set(roles) <= set(ROLES), (method, rule)


def test_role_table(app, data, login_as, new_client):
    """Each route x (anonymous + each role): allowed, 403, or sent to log in."""
    table = []
    for route in app.routes:
        roles = route_roles(route)
        for who in WHO:
            c = new_client(app) if who == "anonymous" else login_as(who)
            url = url_of(route)
            if route.method == "GET":
                r = c.get(url)
            else:
                r = c.post(url, {}, csrf=c.csrf_token())
            table.append((route.method, route.rule, who, r.status, r.location))
            sent_to_login = r.status == 303 and (r.location or "").startswith("/login?next=")
            if roles == ANYONE:
                assert r.status in (200, 303) and not sent_to_login, table[-1]
            elif who == "anonymous":
                want = 401 if route.rule.startswith("/api/") else 303
                assert r.status == want and (want == 401 or sent_to_login), table[-1]
            elif who in roles:
                # an empty form may be refused as bad input (400), unknown (404) or by the daemon (409), never by role
                ok = (200, 303) if route.method == "GET" else (200, 303, 400, 404, 409)
                assert r.status in ok and not sent_to_login, table[-1]
                if route.method == "GET" and route.rule != "/setup":
                    assert r.status == 200, table[-1]
            else:
                assert r.status == 403, table[-1]
                assert "Your role (%s) may not open" % who in r.text, table[-1]
    assert len(table) == len(app.routes) * len(WHO)


def test_policy_for_sensitive_pages(app):
    roles = {(r.method, r.rule): route_roles(r) for r in app.routes}
    assert set(roles[("GET", "/recordings/<rec_id:int>.wav")]) == {"admin", "supervisor"}
    assert "agent" not in roles[("GET", "/cdr")]
    assert "agent" not in roles[("GET", "/cdr.csv")]
    assert set(roles[("GET", "/")]) == set(ROLES)


def test_nav_shows_only_allowed_pages(login_as):
    viewer = login_as("viewer").get("/").text
    assert 'href="/cdr"' in viewer and 'href="/recordings"' not in viewer
    agent = login_as("agent").get("/").text
    assert 'href="/cdr"' not in agent
    sup = login_as("supervisor").get("/").text
    assert 'href="/recordings"' in sup


def test_route_without_roles_is_never_served(app, admin):
    @app.get("/forgotten")
    def forgotten():
        return "secret"

    r = admin.get("/forgotten")
    assert r.status == 500 and "secret" not in r.text
    route = [x for x in app.routes if x.rule == "/forgotten"][0]
    with pytest.raises(PluginError, match="declares no roles"):
        route_roles(route)


def test_bad_roles_declaration_stops_the_build(app):
    @app.get("/typo", roles=("admn",))
    def typo():
        return "x"

    route = [x for x in app.routes if x.rule == "/typo"][0]
    with pytest.raises(PluginError, match="roles=.*must be ANYONE"):
        route.prepare()
