"""Bus server: one per daemon, on a Unix socket, asyncio.

Request/response: handlers are registered per op (``server.handle("span.status", fn)``);
fn(args) returns the reply data (or an awaitable of it). A handler raising
ValueError/KeyError/TypeError means the caller's arguments were bad ("bad-args"); a
CallboxError means the operation failed ("failed"); anything else is a bug,
logged with its traceback and answered "internal". The connection stays open in
all three cases: only a malformed frame closes it.

Publish/subscribe: a client sends ``bus.subscribe {"topics": ["span.", "call."]}``
(prefixes) and then receives ``evt`` frames whose op starts with one of them.
Publishing never blocks: a subscriber whose socket buffer is over
SLOW_LIMIT misses events, and the misses are counted per connection.
"""
import asyncio
import inspect
import logging
import os

from callbox.errors import BusProtocolError, CallboxError
from callbox.bus import frame

SLOW_LIMIT = 8 << 20


class _Conn(asyncio.Protocol):
    def __init__(self, server):
        self.server = server
        self.decoder = frame.FrameDecoder()
        self.topics = ()
        self.transport = None
        self.dropped = 0
        self.peer = "?"

    def connection_made(self, transport):
        self.transport = transport
        self.server._conns.add(self)
        cred = transport.get_extra_info("socket")
        self.peer = "fd%d" % cred.fileno() if cred is not None else "?"

    def connection_lost(self, exc):
        self.server._conns.discard(self)

    def data_received(self, data):
        try:
            msgs = self.decoder.feed(data)
        except BusProtocolError as e:
            self.server.log.warning("%s: bus peer %s sent a malformed frame, closing: %s",
                                    self.server.name, self.peer, e)
            self.server.counters["rx:malformed"] += 1
            self.write(frame.error(self.decoder.failed_id, self.decoder.failed_op, "malformed", str(e)))
            self.transport.close()
            return
        for msg in msgs:
            self.server._dispatch(self, msg)

    def write(self, data):
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def send_event(self, topic, encoded):
        if any(topic.startswith(t) for t in self.topics):
            if self.transport.get_write_buffer_size() > SLOW_LIMIT:
                self.dropped += 1
                self.server.counters["tx:events_dropped"] += 1
                return
            self.write(encoded)


class BusServer:
    """A daemon's bus endpoint.

    Args:
        path (str): Unix socket path.
        name (str): daemon name, used in logs and ``bus.ping``.
    """

    def __init__(self, path, name, log=None):
        self.path = path
        self.name = name
        self.log = log or logging.getLogger("callbox.bus")
        self._handlers = {}
        self._docs = {}
        self._conns = set()
        self._server = None
        self.counters = {"rx:requests": 0, "rx:malformed": 0, "tx:events": 0,
                         "tx:events_dropped": 0, "rx:bad_args": 0, "rx:internal_errors": 0}
        self.handle("bus.subscribe", self._subscribe, "Subscribe to event topics: {topics: [prefix, ...]}")
        self.handle("bus.ping", lambda args: {"name": self.name, "pid": os.getpid()}, "Liveness check")
        self.handle("bus.ops", lambda args: dict(sorted(self._docs.items())), "List ops with their help")
        self.handle("bus.counters", lambda args: dict(self.counters), "Bus counters of this daemon")

    def handle(self, op, fn, doc=""):
        """Register fn(args) -> data for op."""
        self._handlers[op] = fn
        self._docs[op] = doc or (inspect.getdoc(fn) or "").split("\n")[0]

    def _subscribe(self, args):
        raise AssertionError("replaced per connection")  # pragma: no cover

    async def start(self):
        """Listen on the socket (a stale socket file from a crash is replaced)."""
        d = os.path.dirname(self.path)
        if d:
            os.makedirs(d, exist_ok=True)
        if os.path.exists(self.path):
            os.unlink(self.path)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_unix_server(lambda: _Conn(self), self.path)
        os.chmod(self.path, 0o660)

    async def close(self):
        if self._server is not None:
            self._server.close()
            for c in list(self._conns):
                c.transport.close()
            await self._server.wait_closed()
            self._server = None
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def publish(self, topic, data=None):
        """Send an event to every subscriber of a matching prefix; never blocks."""
        if not self._conns:
            return
        encoded = frame.event(topic, data)
        self.counters["tx:events"] += 1
        for c in list(self._conns):
            c.send_event(topic, encoded)

    def _dispatch(self, conn, msg):
        kind, op = msg["k"], msg["op"]
        if kind != "req":
            self.log.warning("%s: peer %s sent a %s frame (%s) to a server; ignored", self.name, conn.peer, kind, op)
            return
        self.counters["rx:requests"] += 1
        mid, args = msg["id"], msg.get("args", {})
        if op == "bus.subscribe":
            topics = args.get("topics")
            if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
                conn.write(frame.error(mid, op, "bad-args", "bus.subscribe: topics must be a list of strings"))
                return
            conn.topics = tuple(set(conn.topics) | set(topics))
            conn.write(frame.response(mid, op, {"topics": sorted(conn.topics)}))
            return
        fn = self._handlers.get(op)
        if fn is None:
            conn.write(frame.error(mid, op, "unknown-op", "%s: no such operation on %s" % (op, self.name)))
            return
        try:
            result = fn(args)
        except Exception as e:
            self._reply_exc(conn, mid, op, e)
            return
        if inspect.isawaitable(result):
            asyncio.ensure_future(self._finish(conn, mid, op, result))
        else:
            self._reply(conn, mid, op, result)

    async def _finish(self, conn, mid, op, aw):
        try:
            result = await aw
        except Exception as e:
            self._reply_exc(conn, mid, op, e)
            return
        self._reply(conn, mid, op, result)

    def _reply(self, conn, mid, op, result):
        try:
            conn.write(frame.response(mid, op, result))
        except Exception as e:
            self._reply_exc(conn, mid, op, e)

    def _reply_exc(self, conn, mid, op, e):
        if isinstance(e, (ValueError, KeyError, TypeError)):
            code = "bad-args"
            self.counters["rx:bad_args"] += 1
            text = "%s: %s" % (op, e.args[0] if e.args else e)
        elif isinstance(e, CallboxError):
            code, text = "failed", "%s: %s" % (op, e)
        else:
            code, text = "internal", "%s: internal error (%s)" % (op, type(e).__name__)
            self.counters["rx:internal_errors"] += 1
            self.log.exception("%s: handler for %s failed", self.name, op)
        conn.write(frame.error(mid, op, code, text))
