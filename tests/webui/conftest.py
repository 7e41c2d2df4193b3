"""Fixtures for the web UI tests: a real Store in a temp dir, a fake bus, a fake clock,
and a tiny WSGI client with a cookie jar (no sockets; every call goes through
wsgiref.validate.validator, as bottle's own tests do)."""
import http.cookies
import io
import json
import re
import urllib.parse
import wave
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest

from callbox.config.store import Store
from callbox.errors import BusError

from callbox_web.app import make_app

TEST_ITERATIONS = 1000          # PBKDF2 cost in tests; the box uses auth.PW_ITERATIONS
ADMIN = ("root", "correct horse battery")
USERS = {                       # role -> (username, password)
    "admin": ADMIN,
    "supervisor": ("sue", "supervisor-pass-1"),
    "agent": ("alice", "agent-pass-0001"),
    "viewer": ("vic", "viewer-pass-001"),
}

SPANS = [
    {"span": 0, "name": "span0", "kind": "E1", "framing": "crc4", "line_code": "hdb3", "backend": "sim://pairA/0",
     "alarms": {"los": False, "ais": False, "lof": False, "rai": False}, "up": True, "dchan": "up",
     "counters": {"rx:fas_errors": 0}},
    {"span": 1, "name": "span1", "kind": "E1", "framing": "crc4", "line_code": "hdb3", "backend": "sim://pairA/1",
     "alarms": {"los": True, "ais": False, "lof": True, "rai": False}, "up": False, "dchan": "down",
     "counters": {"rx:fas_errors": 12}},
]
CALLS = [
    {"call_id": "c-100", "span": 0, "chan": 3, "ani": "0201234567", "dnis": "800", "state": "ACTIVE",
     "digits": "1", "queue": "sales", "agent": "alice", "seat": 1, "start": 995.0, "answer": 997.0},
    {"call_id": "c-101", "span": 0, "chan": 4, "ani": "<script>alert(1)</script>", "dnis": "800",
     "state": "QUEUED", "digits": "", "queue": "sales", "agent": None, "seat": None, "start": 998.0, "answer": None},
]
AGENTS = [
    {"login": "alice", "name": "Alice A.", "seat": 1, "state": "on-call", "since": 997.0, "calls": 4},
    {"login": "bob", "name": "Bob B.", "seat": None, "state": "logged-out", "since": 900.0, "calls": 0},
]
QUEUES = [
    {"name": "sales", "waiting": 1, "longest_wait_s": 2.0, "agents_ready": 0, "answered": 7, "abandoned": 1},
]


class FakeBus:
    """Answers bus requests from a table; a value that is an exception is raised."""

    def __init__(self):
        self.replies = {"span.status": SPANS, "call.list": CALLS, "acd.agents": AGENTS, "acd.queues": QUEUES}
        self.requests = []
        self.args = []

    def request(self, op, args=None, timeout=None):
        self.requests.append(op)
        self.args.append((op, args))
        reply = self.replies.get(op, BusError("%s: unknown op" % op))
        if isinstance(reply, BaseException):
            raise reply
        return reply


class FakeClock:
    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        return self.t

    def advance(self, s):
        self.t += s


class Response:
    def __init__(self, status, headers, body):
        self.status_line = status
        self.status = int(status.split()[0])
        self.header_list = headers
        self.body = body

    def header(self, name):
        for k, v in self.header_list:
            if k.lower() == name.lower():
                return v
        return None

    def headers_named(self, name):
        return [v for k, v in self.header_list if k.lower() == name.lower()]

    @property
    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)

    @property
    def location(self):
        return self.header("Location")

    def __repr__(self):
        return "<Response %s %s>" % (self.status_line, self.body[:200])


class Client:
    """Calls a WSGI app like a browser would: cookies kept, one address per client."""

    def __init__(self, app, remote_addr="192.0.2.10"):
        self.app = validator(app)
        self.cookies = {}
        self.remote_addr = remote_addr

    def request(self, method, path, data=None, headers=None, body=None):
        path, _, query = path.partition("?")
        env = {}
        setup_testing_defaults(env)
        env.update({"REQUEST_METHOD": method, "PATH_INFO": urllib.parse.unquote(path), "QUERY_STRING": query,
                    "REMOTE_ADDR": self.remote_addr})
        if data is not None:
            body = urllib.parse.urlencode(data).encode("utf-8")
            env["CONTENT_TYPE"] = "application/x-www-form-urlencoded"
        body = body or b""
        env["wsgi.input"] = io.BytesIO(body)
        env["CONTENT_LENGTH"] = str(len(body))
        if self.cookies:
            env["HTTP_COOKIE"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        for k, v in (headers or {}).items():
            if k.lower() == "content-type":
                env["CONTENT_TYPE"] = v
                continue
            env["HTTP_" + k.upper().replace("-", "_")] = v
        got = {}

        def start_response(status, hdrs, exc_info=None):
            got["status"], got["headers"] = status, hdrs

        it = self.app(env, start_response)
        try:
            out = b"".join(it)
        finally:
            it.close()
        res = Response(got["status"], got["headers"], out)
        for raw in res.headers_named("Set-Cookie"):
            jar = http.cookies.SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                if morsel["max-age"] and int(morsel["max-age"]) <= 0:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return res

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, data=None, csrf=True, **kw):
        data = dict(data or {})
        if csrf is True:
            data["csrf_token"] = self.csrf_token()
        elif csrf:
            data["csrf_token"] = csrf
        return self.request("POST", path, data=data, **kw)

    def csrf_token(self, page=None):
        """The CSRF token of this client's session, read from a page as a browser would."""
        if page is None:
            page = "/" if self.logged_in else "/login"
        r = self.get(page)
        m = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
        assert m, "no CSRF token on %s: %r" % (page, r)
        return m.group(1)

    @property
    def logged_in(self):
        return getattr(self, "_user", None) is not None

    def login(self, username, password, expect=303):
        r = self.post("/login", {"username": username, "password": password})
        assert r.status == expect, r
        if r.status == 303:
            self._user = username
        return r


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    (d / "recordings").mkdir(parents=True)
    return d


@pytest.fixture
def store(data_dir):
    s = Store(str(data_dir))
    yield s
    s.close()


@pytest.fixture
def bus():
    return FakeBus()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def make(bus, store, data_dir, clock):
    """make(**kw) -> a fresh app over the shared store, bus and clock."""
    def build(**kw):
        kw.setdefault("pw_iterations", TEST_ITERATIONS)
        kw.setdefault("clock", clock)
        return make_app(bus, store, str(data_dir), **kw)
    return build


@pytest.fixture
def app(make):
    """An app past first boot, with one user of each role."""
    a = make()
    for role, (name, pw) in USERS.items():
        a.web.users.create(name, pw, role)
    return a


@pytest.fixture
def client(app):
    return Client(app)


@pytest.fixture
def users():
    return USERS


@pytest.fixture
def new_client():
    """new_client(app, remote_addr=...) -> a Client with an empty cookie jar."""
    return Client


@pytest.fixture
def login_as(app):
    """login_as(role, remote_addr=...) -> a Client logged in as that role's user."""
    def login(role, remote_addr="192.0.2.10", on=None):
        c = Client(on or app, remote_addr)
        c.login(*USERS[role])
        return c
    return login


@pytest.fixture
def admin(login_as):
    return login_as("admin")


@pytest.fixture
def wav():
    return write_wav


def write_wav(path, seconds=0.1, rate=8000):
    """A real mono 16-bit WAV file; returns its bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(int(1000 * ((i // 10) % 2 * 2 - 1)).to_bytes(2, "little", signed=True)
                               for i in range(int(seconds * rate))))
    return path.read_bytes()
