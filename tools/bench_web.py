#!/usr/bin/env python3
"""Benchmark: web UI page and API latency under concurrent users on loopback.

    python tools/bench_web.py [--users 20] [--seconds 10]

The real web application (callbox_web.make_app) on its real threading server, over a
real config store with 2000 CDRs, answering bus requests from a stub with the live
data of a busy box (2 spans, 40 calls, 40 agents, 4 queues), so the figure is the web
layer's own cost. ``--users`` client threads, logged in, fetch the dashboard, the live
API, the call records, the wallboard, the reports and the agent API in turn for
``--seconds``. The peer is Python's http.server serving a static page of the
dashboard's size to the same clients in the same run: the ratio says what the box's
pages cost over serving a file.
"""
import argparse
import http.client
import http.server
import os
import re
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(ROOT, "firmware"))
sys.path.insert(0, os.path.join(ROOT, "webui"))

from callbox.config.store import Store  # noqa: E402
from callbox_web.app import make_app  # noqa: E402
from callbox_web.server import make_server  # noqa: E402

PAGES = ("/", "/api/live", "/cdr", "/wallboard", "/reports", "/api/agent")


class StubBus:
    """The live data of a busy box, as the daemons would answer."""

    def __init__(self):
        now = time.time()
        self.data = {
            "span.status": [{"span": s, "name": "span%d" % s, "kind": "E1", "framing": "crc4", "line_code": "hdb3",
                             "alarms": {"los": False, "ais": False, "lof": False, "rai": False}, "up": True,
                             "dchan": "up", "counters": {"rx:fas_errors": 0, "rx:crc4_errors": 1}}
                            for s in range(2)],
            "call.list": [{"call_id": "c-%d" % i, "span": i // 30, "chan": 1 + i % 30, "ani": "1380013%04d" % i,
                           "dnis": "10086", "state": "connected", "digits": "1", "queue": "q%d" % (i % 4),
                           "agent": "%d" % (1001 + i), "seat": i + 1, "start": now - 60, "answer": now - 30,
                           "priority": 0, "vars": {}} for i in range(40)],
            "acd.agents": [{"login": "%d" % (1001 + i), "name": "Agent %d" % i, "seat": i + 1, "state": "on-call",
                            "since": now - 30, "calls": 12, "call_id": "c-%d" % i, "reason": "", "reachable": True}
                           for i in range(40)],
            "acd.queues": [{"name": "q%d" % i, "waiting": 3, "longest_wait_s": 20.0, "agents_ready": 0,
                            "answered": 200, "abandoned": 9, "sl_pct": 85.0, "callbacks_waiting": 0}
                           for i in range(4)],
            "sup.status": [],
        }

    def request(self, op, args=None, timeout=None):
        from callbox.errors import BusError
        if op not in self.data:
            raise BusError("%s: not in the benchmark's stub" % op)
        return self.data[op]


def fill_store(store):
    now = time.time()
    for i in range(2000):
        store.add_cdr({"call_id": "h-%05d" % i, "start": now - 86400 + i * 40, "answer": now - 86400 + i * 40 + 10,
                       "end": now - 86400 + i * 40 + 200, "span": 0, "chan": 1 + i % 30, "ani": "1380013%04d" % i,
                       "dnis": "10086", "queue": "q%d" % (i % 4), "agent": "%d" % (1001 + i % 40),
                       "disposition": "answered", "wait_s": 10.0, "talk_s": 190.0})


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def drive(port, paths, users, seconds, cookies=None):
    """users threads fetching paths in turn; returns latencies in seconds and errors."""
    lat, errors = [], [0]
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def worker(k):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        hdrs = {"Cookie": cookies[k % len(cookies)]} if cookies else {}
        i = k
        mine = []
        while time.monotonic() < end:
            path = paths[i % len(paths)]
            i += 1
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=hdrs)
                r = conn.getresponse()
                r.read()
                ok = r.status == 200
            except OSError:
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine.append(time.perf_counter() - t0)
            if not ok:
                with lock:
                    errors[0] += 1
        with lock:
            lat.extend(mine)
        conn.close()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return lat, errors[0]


def login(port, username, password):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/login")
    r = conn.getresponse()
    body = r.read().decode()
    cookie = r.getheader("Set-Cookie").split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    form = urllib.parse.urlencode({"csrf_token": token, "next": "/", "username": username, "password": password})
    conn.request("POST", "/login", body=form, headers={"Cookie": cookie,
                                                       "Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse()
    r.read()
    if r.status != 303:
        raise SystemExit("bench_web: logging in as %s failed (%d)" % (username, r.status))
    return r.getheader("Set-Cookie").split(";")[0]


def run(users=20, seconds=10.0):
    d = tempfile.mkdtemp(prefix="cbwebbench")
    os.makedirs(os.path.join(d, "recordings"))
    store = Store(d)
    fill_store(store)
    app = make_app(StubBus(), store, d, pw_iterations=1000)
    names = []
    for i, role in enumerate(("admin", "supervisor", "admin", "supervisor")):
        name = "bench%d" % i
        app.web.users.create(name, "bench-password-%d" % i, role)
        names.append((name, "bench-password-%d" % i))
    srv = make_server(app, "127.0.0.1", 0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = srv.server_port
    cookies = [login(port, n, p) for n, p in names]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/", headers={"Cookie": cookies[0]})
    page_size = len(conn.getresponse().read())
    conn.close()
    drive(port, PAGES, 2, 1.0, cookies)                    # warm-up
    lat, errors = drive(port, PAGES, users, seconds, cookies)
    srv.shutdown()
    # the peer: a static file of the dashboard's size from http.server
    static = os.path.join(d, "static")
    os.makedirs(static)
    with open(os.path.join(static, "index.html"), "wb") as f:
        f.write(b"x" * page_size)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True      # headers and body in separate writes: no 40 ms delayed-ACK stall

        def __init__(self, *a, **kw):
            super().__init__(*a, directory=static, **kw)

        def log_message(self, *a):
            pass
    peer = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=peer.serve_forever, daemon=True).start()
    plat, perr = drive(peer.server_port, ("/index.html",), users, seconds)
    peer.shutdown()
    store.close()
    return {"users": users, "seconds": seconds, "requests": len(lat), "errors": errors, "page_kb": page_size / 1024,
            "p50_ms": percentile(lat, 0.5) * 1e3, "p95_ms": percentile(lat, 0.95) * 1e3,
            "rps": len(lat) / seconds, "peer_requests": len(plat), "peer_errors": perr,
            "peer_p50_ms": percentile(plat, 0.5) * 1e3, "peer_p95_ms": percentile(plat, 0.95) * 1e3}


def format_rows(r):
    return "\n".join([
        "web UI, %d users, %s: %d requests (%.0f/s), %d errors" % (r["users"], ", ".join(PAGES), r["requests"],
                                                                  r["rps"], r["errors"]),
        "  p50 %.1f ms, p95 %.1f ms: %.1fx the p95 of http.server serving a %.0f kB file (peer: p50 %.1f ms, "
        "p95 %.1f ms, %d requests)" % (r["p50_ms"], r["p95_ms"], r["p95_ms"] / max(r["peer_p95_ms"], 1e-3),
                                       r["page_kb"], r["peer_p50_ms"], r["peer_p95_ms"], r["peer_requests"])])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=10.0)
    a = ap.parse_args(argv)
    if not 1 <= a.users <= 200:
        ap.error("--users must be 1..200")
    print(format_rows(run(a.users, a.seconds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
