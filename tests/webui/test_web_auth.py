"""Web UI: first boot, passwords, login, sessions, throttling and CSRF."""
import pytest

from callbox_web import auth

pytestmark = pytest.mark.args


# -- password hashes -------------------------------------------------------------
def test_web_hashes_are_the_shared_format_the_console_checks(app, store, users):
    import callbox.auth
    rows = {u["username"]: u["pw_hash"] for u in store.query("SELECT username, pw_hash FROM users")}
    name, pw = users["supervisor"]
    assert rows[name].startswith("pbkdf2_sha256$1000$")
    assert callbox.auth.verify_password(pw, rows[name])
    assert not callbox.auth.verify_password(pw + "x", rows[name])
    assert len(set(rows.values())) == len(rows)                # salted


def test_default_cost_is_slow_enough():
    assert auth.PW_ITERATIONS >= 200000


def test_cheaper_hash_is_upgraded_at_login(make, store, new_client, users):
    weak = make(pw_iterations=500)
    weak.web.users.create(*users["viewer"], "admin")
    assert auth.hash_iterations(store.query("SELECT pw_hash FROM users")[0]["pw_hash"]) == 500
    new_client(make(pw_iterations=1000)).login(*users["viewer"])
    assert auth.hash_iterations(store.query("SELECT pw_hash FROM users")[0]["pw_hash"]) == 1000


# -- first boot ------------------------------------------------------------------
def test_fresh_box_has_no_users_and_every_route_leads_to_setup(make, store, new_client):
    app = make()
    assert store.query("SELECT * FROM users") == []
    c = new_client(app)
    for path in ("/", "/login", "/cdr", "/recordings", "/api/live", "/cdr.csv"):
        r = c.get(path)
        assert (r.status, r.location) == (303, "/setup"), path
    r = c.post("/login", {"username": "admin", "password": "admin"}, csrf=False)
    assert (r.status, r.location) == (303, "/setup")
    assert c.get("/static/style.css").status == 200     # the setup page needs its CSS
    r = c.get("/setup")
    assert r.status == 200 and "no default password" in r.text


def test_setup_creates_the_admin_once(make, store, new_client):
    app = make()
    c = new_client(app)
    token = c.csrf_token("/setup")
    form = {"username": "root", "password": "0123456789", "confirm": "0123456789"}
    assert c.post("/setup", form, csrf=False).status == 403          # no CSRF token
    r = c.post("/setup", dict(form, password="short", confirm="short"), csrf=token)
    assert r.status == 400 and "at least 10 characters" in r.text
    r = c.post("/setup", dict(form, confirm="0123456780"), csrf=token)
    assert r.status == 400 and "confirmation does not match" in r.text
    r = c.post("/setup", dict(form, username="bad name"), csrf=token)
    assert r.status == 400 and "username" in r.text
    assert store.query("SELECT * FROM users") == []
    r = c.post("/setup", form, csrf=token)
    assert (r.status, r.location) == (303, "/login?created=1")
    rows = store.query("SELECT * FROM users")
    assert [(u["username"], u["role"]) for u in rows] == [("root", "admin")]
    assert rows[0]["pw_hash"].startswith("pbkdf2_sha256$") and "0123456789" not in rows[0]["pw_hash"]
    # Setup is closed now: no second admin through it.
    assert c.get("/setup").location == "/"
    r = c.post("/setup", dict(form, username="evil"), csrf=token)
    assert (r.status, r.location) == (303, "/")
    assert len(store.query("SELECT * FROM users")) == 1
    assert store.query("SELECT action FROM audit WHERE action='setup.admin'")
    c.login("root", "0123456789")
    assert c.get("/").status == 200


# -- login ------------------------------------------------------------------------
def test_no_login_redirects_to_login_with_next(client):
    r = client.get("/cdr?page=2")
    assert r.status == 303 and r.location == "/login?next=%2Fcdr%3Fpage%3D2"
    r = client.get("/api/live")
    assert r.status == 401 and r.json()["error"].startswith("401")


def test_wrong_password_and_unknown_user(client, store):
    token = client.csrf_token("/login")
    for user, pw in (("root", "wrong password"), ("nobody", "whatever-pass")):
        r = client.post("/login", {"username": user, "password": pw}, csrf=token)
        assert r.status == 200 and "Wrong username or password." in r.text
    assert client.get("/").status == 303
    fails = store.query("SELECT user, detail FROM audit WHERE action='login.failed'")
    assert len(fails) == 2 and fails[0]["user"] is None


def test_login_sets_a_strict_httponly_cookie_and_rotates_it(client, users):
    client.csrf_token("/login")
    anonymous = dict(client.cookies)
    r = client.login(*users["viewer"])
    assert r.location == "/"
    cookie = r.header("Set-Cookie")
    assert cookie.startswith("callbox_session=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie.replace("strict", "Strict")
    assert "Secure" not in cookie
    assert client.cookies["callbox_session"] != anonymous["callbox_session"]      # no session fixation
    assert client.get("/").status == 200


def test_login_follows_next_but_only_locally(app, new_client, users):
    for nxt, want in (("/cdr?page=1", "/cdr?page=1"), ("//evil.example/", "/"), ("https://evil.example/", "/"),
                      ("/\\evil.example", "/"), ("/\t/evil.example", "/")):
        c = new_client(app)
        r = c.post("/login", {"username": users["admin"][0], "password": users["admin"][1], "next": nxt},
                   csrf=c.csrf_token("/login"))
        assert (r.status, r.location) == (303, want), nxt


def test_secure_cookies(make, new_client, users):
    app = make(secure_cookies=True)
    app.web.users.create(*users["admin"], "admin")
    c = new_client(app)
    r = c.login(*users["admin"])
    cookie = r.header("Set-Cookie")
    assert cookie.startswith("__Host-callbox_session=") and "Secure" in cookie and "Path=/" in cookie


def test_session_expires_after_8h_idle(admin, clock):
    assert admin.get("/").status == 200
    clock.advance(8 * 3600 - 10)
    assert admin.get("/").status == 200                # use keeps it alive
    clock.advance(8 * 3600 + 1)
    r = admin.get("/")
    assert r.status == 303 and r.location.startswith("/login")


def test_logout_needs_csrf_and_ends_the_session(admin, store):
    assert admin.post("/logout", csrf=False).status == 403
    r = admin.post("/logout")
    assert (r.status, r.location) == (303, "/login")
    assert "callbox_session" not in admin.cookies
    assert store.query("SELECT user FROM audit WHERE action='logout'") == [{"user": "root"}]


def test_logged_out_token_is_dead(admin):
    token = admin.cookies["callbox_session"]
    admin.post("/logout")
    admin.cookies["callbox_session"] = token
    assert admin.get("/").status == 303


def test_deleted_user_loses_access(login_as, store):
    sue = login_as("supervisor")
    assert sue.get("/").status == 200
    store.execute("DELETE FROM users WHERE username='sue'")
    assert sue.get("/").status == 303


# -- rate limiting ------------------------------------------------------------------
def test_login_rate_limit(app, new_client, users, clock):
    c = new_client(app, "198.51.100.7")
    token = c.csrf_token("/login")
    name, pw = users["admin"]
    for _ in range(5):
        r = c.post("/login", {"username": name, "password": "not the password"}, csrf=token)
        assert r.status == 200
    r = c.post("/login", {"username": name, "password": pw}, csrf=token)          # right password, still refused
    assert r.status == 429
    assert int(r.header("Retry-After")) == 301
    assert "Too many failed logins" in r.text and "301 more seconds" in r.text
    # Another address, or another username from this one, is not blocked by it.
    new_client(app, "198.51.100.8").login(name, pw)
    c.login(*users["viewer"])
    clock.advance(299)
    assert c.post("/login", {"username": name, "password": pw}).status == 429
    clock.advance(2)
    c.login(name, pw)


def test_rate_limit_per_address_over_all_usernames(app, new_client, users):
    c = new_client(app, "198.51.100.9")
    token = c.csrf_token("/login")
    for i in range(auth.FAIL_LIMIT_IP):
        c.post("/login", {"username": "guess%d" % i, "password": "x" * 10}, csrf=token)
    assert c.post("/login", {"username": users["admin"][0], "password": users["admin"][1]}, csrf=token).status == 429


def test_limiter_forgets_after_the_window():
    clock = [0.0]
    lim = auth.LoginLimiter(clock=lambda: clock[0], window_s=300, per_user_ip=5, per_ip=100)
    for i in range(5):
        clock[0] = i * 10.0
        assert lim.retry_after("u", "ip") == 0
        lim.fail("u", "ip")
    assert lim.retry_after("u", "ip") == pytest.approx(260.0)        # first failure at 0 leaves at 300
    clock[0] = 300.0
    assert lim.retry_after("u", "ip") == 0


# -- CSRF -------------------------------------------------------------------------------
def test_csrf_missing_invalid_and_valid(admin, login_as):
    r = admin.post("/logout", csrf=False)
    assert r.status == 403 and "no CSRF token" in r.text
    r = admin.post("/logout", csrf="forged-token")
    assert r.status == 403 and "does not match" in r.text
    other = login_as("supervisor")
    r = admin.post("/logout", csrf=other.csrf_token())                   # another session's token
    assert r.status == 403
    r = admin.request("POST", "/logout", headers={"X-CSRF-Token": admin.csrf_token()}, data={})
    assert r.status == 303


def test_csrf_without_any_session(client, users):
    r = client.post("/login", {"username": users["admin"][0], "password": users["admin"][1]}, csrf="x")
    assert r.status == 403 and "session" in r.text
    assert "callbox_session" not in client.cookies or client.get("/").status == 303
