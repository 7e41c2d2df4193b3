"""Web UI: dashboard and live feed, call records and CSV, error pages and headers."""
import csv
import datetime
import io

import pytest

from callbox.errors import BusError, BusRemoteError, BusTimeoutError

pytestmark = pytest.mark.args

SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def assert_security_headers(r):
    for name, value in SECURITY.items():
        assert r.header(name) == value, (name, r)
    csp = r.header("Content-Security-Policy")
    assert csp and "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "http" not in csp and "unsafe" not in csp


# -- dashboard ----------------------------------------------------------------------------
def test_dashboard_shows_spans_calls_agents_queues(admin):
    r = admin.get("/")
    assert r.status == 200
    t = r.text
    for text in ("span0", "span1", "LOS LOF", "0201234567", "Alice A.", "on-call", "sales",
                 '<script src="/static/live.js" defer></script>'):
        assert text in t, text
    assert "<script>alert(1)</script>" not in t                   # bus data is escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in t
    assert "0:05" in t                                            # call c-100 started 5 s ago (fake clock)
    assert "not reachable" not in t


def test_api_live(admin, bus):
    r = admin.get("/api/live")
    assert r.status == 200 and r.header("Content-Type").startswith("application/json")
    data = r.json()
    assert data["spans"] == bus.replies["span.status"]
    assert data["calls"] == bus.replies["call.list"]
    assert data["agents"] == bus.replies["acd.agents"]
    assert data["queues"] == bus.replies["acd.queues"]
    assert data["errors"] == {} and data["now"] == 1000.0
    assert r.header("Cache-Control") == "no-store"


def test_bus_down_page_still_renders(admin, bus):
    for op in ("call.list", "acd.agents", "acd.queues"):
        bus.replies[op] = BusError("%s: the callctl daemon is not reachable (connection refused)" % op)
    r = admin.get("/")
    assert r.status == 200
    assert "call control not reachable: call.list: the callctl daemon is not reachable" in r.text
    assert "span0" in r.text                                      # the media panel still works
    data = admin.get("/api/live").json()
    assert set(data["errors"]) == {"calls", "agents", "queues"}
    assert data["errors"]["agents"].startswith("call control not reachable: ")
    assert data["calls"] == [] and data["spans"]


def test_every_daemon_down(admin, bus):
    for op in list(bus.replies):
        bus.replies[op] = BusRemoteError(op, "EDOWN", "daemon stopping")
    r = admin.get("/")
    assert r.status == 200 and "media engine not reachable" in r.text and "call control not reachable" in r.text


def test_timeout_is_not_repeated_for_the_same_daemon(admin, bus):
    bus.replies["call.list"] = BusTimeoutError("call.list: no answer within 1.0 s")
    bus.requests.clear()
    data = admin.get("/api/live").json()
    assert bus.requests == ["span.status", "call.list"]
    assert data["errors"]["queues"] == "call control not reachable: call.list: no answer within 1.0 s"


def test_malformed_reply_is_a_panel_error(admin, bus):
    bus.replies["acd.queues"] = {"not": "a list"}
    data = admin.get("/api/live").json()
    assert "malformed reply" in data["errors"]["queues"]


def test_live_js_is_served_and_plain(admin):
    r = admin.get("/static/live.js")
    assert r.status == 200 and "javascript" in r.header("Content-Type")
    assert "/api/live" in r.text and "innerHTML" not in r.text
    assert "Cache-Control" not in [k for k, _ in r.header_list]


# -- call records --------------------------------------------------------------------------
@pytest.fixture
def cdrs(store):
    for i in range(60):
        store.add_cdr({"call_id": "c-%03d" % i, "start": 10000.0 + i, "answer": 10001.0 + i, "end": 10060.0 + i,
                       "span": 0, "chan": 1 + i % 30, "ani": "02000%03d" % i, "dnis": "800", "digits": "1",
                       "queue": "sales", "agent": "alice", "seat": 1, "wait_s": 1.0, "talk_s": 59.0,
                       "disposition": "answered", "cause": 16})
    store.add_cdr({"call_id": "c-evil", "start": 20000.0, "end": 20001.0, "ani": "=HYPERLINK(\"http://x\")",
                   "dnis": "+4420123", "disposition": "abandoned"})
    store.add_call_event("c-059", "setup", {"ani": "02000059", "dnis": "800"}, t=10059.0)
    store.add_call_event("c-059", "connect", {"agent": "alice"}, t=10060.0)
    store.add_recording("c-059", "c-059.wav", 10059.0)


def test_cdr_page_newest_first_with_links(admin, cdrs):
    r = admin.get("/cdr")
    assert r.status == 200
    t = r.text
    assert t.index("=HYPERLINK") < t.index("02000059") < t.index("02000058")
    assert 'href="/calls/c-059"' in t and 'href="/recordings/1"' in t
    assert "02000011" in t and "02000010" not in t               # 50 per page
    assert 'href="/cdr?page=2"' in t and "/cdr.csv" in t
    r = admin.get("/cdr?page=2")
    assert "02000010" in r.text and "02000000" in r.text and "02000011" not in r.text
    assert 'href="/cdr?page=3"' not in r.text
    assert 'href="/cdr?page=1"' in r.text


def test_cdr_hides_recording_links_from_viewers(login_as, cdrs):
    t = login_as("viewer").get("/cdr").text
    assert 'href="/calls/c-059"' in t and "/recordings/" not in t


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "", "9999999", "1e3"])
def test_bad_page_is_400_with_the_reason(admin, page):
    for path in ("/cdr", "/recordings"):
        r = admin.get("%s?page=%s" % (path, page))
        assert r.status == 400, (path, page)
        assert "page:" in r.text and "is not a page number" in r.text
        assert_security_headers(r)


def test_cdr_csv(admin, cdrs, store):
    r = admin.get("/cdr.csv")
    assert r.status == 200
    assert r.header("Content-Type") == "text/csv; charset=utf-8"
    assert r.header("Content-Disposition").startswith('attachment; filename="callbox-cdr-')
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 61
    assert rows[0]["call_id"] == "c-evil" and rows[1]["call_id"] == "c-059"
    assert rows[0]["ani"].startswith("'=HYPERLINK")              # no formula injection
    assert rows[0]["dnis"] == "+4420123"                         # numbers stay numbers
    assert rows[1]["talk_s"] == "59.0"
    assert datetime.datetime.strptime(rows[1]["start"], "%Y-%m-%dT%H:%M:%S%z").timestamp() == 10059.0
    assert store.query("SELECT user FROM audit WHERE action='cdr.export'") == [{"user": "root"}]


def test_cdr_csv_batches(admin, store, monkeypatch):
    from callbox_web.routes import records
    monkeypatch.setattr(records, "CSV_BATCH", 7)
    for i in range(15):
        store.add_cdr({"call_id": "b-%d" % i, "start": float(i), "end": float(i) + 1, "disposition": "failed"})
    rows = list(csv.reader(io.StringIO(admin.get("/cdr.csv").text)))
    assert len(rows) == 16 and rows[1][0] == "b-14" and rows[-1][0] == "b-0"


def test_call_event_log(admin, cdrs):
    r = admin.get("/calls/c-059")
    assert r.status == 200
    assert "setup" in r.text and "connect" in r.text and "&quot;agent&quot;: &quot;alice&quot;" in r.text
    assert 'href="/recordings/1"' in r.text
    r = admin.get("/calls/c-nope")
    assert r.status == 404 and "No call" in r.text
    assert admin.get("/calls/a%20b").status == 404


# -- errors and headers ----------------------------------------------------------------------
def test_security_headers_everywhere(app, admin, new_client, bus):
    anon = new_client(app)
    checks = [admin.get("/"), admin.get("/api/live"), admin.get("/cdr"), admin.get("/nope"),
              anon.get("/"), anon.get("/login"), anon.get("/static/style.css"),
              admin.post("/logout", csrf=False), login_as_agent_recordings(app, new_client)]
    bus.replies["span.status"] = RuntimeError("bug in the page")
    checks.append(admin.get("/"))
    for r in checks:
        assert_security_headers(r)


def login_as_agent_recordings(app, new_client):
    c = new_client(app)
    c.login("alice", "agent-pass-0001")
    r = c.get("/recordings")
    assert r.status == 403
    return r


def test_404_page(admin):
    r = admin.get("/no/such/page")
    assert r.status == 404 and "404 Not Found" in r.text and "/no/such/page" in r.text
    assert "Back to the dashboard" in r.text


def test_500_page_explains_and_hides_the_traceback(admin, bus, caplog):
    bus.replies["span.status"] = RuntimeError("secret internals")
    r = admin.get("/")
    assert r.status == 500
    assert "unexpected error" in r.text and "secret internals" not in r.text and "Traceback" not in r.text
    assert "secret internals" in caplog.text
    r = admin.get("/api/live")
    assert r.status == 500 and r.json()["error"].startswith("500")


def test_body_cap(make, new_client, users):
    app = make(max_body=1024)
    app.web.users.create(*users["admin"], "admin")
    c = new_client(app)
    r = c.post("/login", {"username": "root", "password": "x" * 2000})
    assert r.status == 413 and "at most 1024" in r.text
    assert_security_headers(r)
    r = c.request("POST", "/login", headers={"Transfer-Encoding": "chunked"}, data={})
    assert r.status == 411


def test_allowed_hosts(make, new_client):
    app = make(allowed_hosts=["callbox.local", "192.0.2.1"])
    c = new_client(app)
    assert c.get("/setup", headers={"Host": "callbox.local:8080"}).status == 200
    r = c.get("/setup", headers={"Host": "attacker.example"})
    assert r.status == 400 and "not a name this box answers to" in r.text


def test_head_request(admin):
    r = admin.request("HEAD", "/")
    assert r.status == 200 and r.body == b""


def test_dchan_state_comes_from_call_control(admin, bus):
    bus.replies["span.status"] = [dict(s) for s in bus.replies["span.status"]]
    for s in bus.replies["span.status"]:
        s.pop("dchan", None)
    first = bus.replies["span.status"][0]["span"]
    bus.replies["sig.status"] = [{"span": first, "dchan": "up", "l2_state": "MULTIPLE_FRAME_ESTABLISHED"}]
    spans = admin.get("/api/live").json()["spans"]
    assert spans[0]["dchan"] == "up"
    assert all(s["dchan"] == "unknown" for s in spans[1:])


def test_each_user_chooses_chinese_or_english(login_as, new_client, app, store):
    c = login_as("agent")
    sup = login_as("supervisor")
    sup.post("/account/lang", {"lang": "zh"})
    wall = sup.get("/wallboard").text
    assert "大屏" in wall and "最长等待" in wall and "今日服务水平" in wall
    sup.post("/account/lang", {"lang": "en"})
    page = c.get("/agent").text
    assert '<html lang="en">' in page and "Log out" in page and 'value="zh"' in page
    r = c.post("/account/lang", {"lang": "zh"}, headers={"Referer": "http://box/agent"})
    assert r.status == 303 and r.location == "/agent"
    page = c.get("/agent").text
    assert '<html lang="zh">' in page and "退出" in page and "签入" in page and "坐席" in page
    assert 'value="en"' in page                         # the way back to English
    # another user is not affected; the choice survives a new login
    assert "Log out" in login_as("supervisor").get("/").text
    again = login_as("agent")
    assert "退出" in again.get("/").text
    assert c.post("/account/lang", {"lang": "fr"}).status == 400
    assert c.post("/account/lang", {"lang": "en"}, csrf=False).status == 403
    # before login the browser's language decides
    anon = new_client(app)
    assert "登录" in anon.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).text
    assert "Log in" in anon.get("/login", headers={"Accept-Language": "en-GB"}).text
    # backups keep the choice
    assert [u["lang"] for u in store.backup()["users"] if u["role"] == "agent"] == ["zh"]


def test_the_chinese_catalogue_has_no_duplicate_or_empty_entries_and_covers_the_dashboard(login_as):
    import ast
    import os
    import callbox_web.i18n as i18n
    tree = ast.parse(open(os.path.join(os.path.dirname(i18n.__file__), "i18n.py"), encoding="utf-8").read())
    zh = [n for n in ast.walk(tree) if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "ZH"][0]
    keys = [k.value for k in zh.value.keys]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    assert all(v.strip() for v in i18n.ZH.values())
    c = login_as("supervisor")
    c.post("/account/lang", {"lang": "zh"})
    page = c.get("/").text
    assert "总览" in page and "实时通话" in page and "中继线路" in page
    assert "进行中的通话" in c.get("/supervise").text


def test_call_page_draws_the_signalling_ladder_stored_or_live(admin, store, bus):
    store.add_call_event("lad-1", "setup", {"ani": "1"})
    store.add_call_event("lad-1", "signalling", {"ladder": [
        [1000.0, "q931", "{NULL} rx SETUP chan=1 called=10086 -> CALL_PRESENT"],
        [1000.1, "q931", "{CALL_RECEIVED} tx CONNECT"],
        [1000.2, "q931", "{ACTIVE} T313 expired, ignored"],
        [1000.3, "tx", "ts1 ABCD 1111"], "junk"]})
    store.add_cdr({"call_id": "lad-1", "start": 1000.0, "end": 1001.0, "disposition": "failed"})
    t = admin.get("/calls/lad-1").text
    assert "\u25c0\u2500\u2500 far</td>\n      <td class=\"mono\">{NULL} rx SETUP chan=1 called=10086" in t
    assert "box \u2500\u2500\u25b6</td>\n      <td class=\"mono\">{CALL_RECEIVED} tx CONNECT" in t
    assert '<tr class="note">' in t and "T313 expired" in t and "ts1 ABCD 1111" in t
    assert "&quot;ladder&quot;" not in t, "the ladder is drawn, not dumped in the event log"
    # a call in progress: the ladder comes from call control
    store.add_call_event("lad-2", "setup", {"ani": "2"})
    bus.replies["call.ladder"] = [[1000.0, "rx", "ts5 ABCD 0011"], [1000.5, "ev", "ts5 seized "]]
    t = admin.get("/calls/lad-2").text
    assert "ts5 ABCD 0011" in t and ("call.ladder", {"call_id": "lad-2"}) in bus.args
    del bus.replies["call.ladder"]
    t = admin.get("/calls/lad-2").text
    assert "Call control is not reachable" in t
