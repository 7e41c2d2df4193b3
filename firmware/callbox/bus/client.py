"""Bus clients.

* BusClient: blocking, thread-safe, for the web UI, the console, tools and tests.
  A reader thread delivers replies to waiting callers and events to a queue (or
  to a callback run on the reader thread).
* AsyncBusClient: for the asyncio daemons. It reconnects by itself (a restarted
  daemon is found again) and re-subscribes; ``send()`` is fire-and-forget.
"""
import asyncio
import itertools
import logging
import queue
import socket
import threading
import time

from callbox.errors import BusError, BusProtocolError, BusRemoteError, BusTimeoutError
from callbox.bus import frame

log = logging.getLogger("callbox.bus")


class BusClient:
    """Blocking client of one daemon's bus socket.

    Args:
        path (str): the daemon's Unix socket.
        timeout (float): default request timeout in seconds.
        connect_timeout (float): how long to keep retrying the first connect.

    Raises:
        BusError: if the socket cannot be reached within connect_timeout.
    """

    def __init__(self, path, timeout=5.0, connect_timeout=0.0):
        self.path = path
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._pending = {}
        self._lock = threading.Lock()
        self._wlock = threading.Lock()
        self.events = queue.Queue()
        self._callback = None
        self._closed = False
        deadline = time.monotonic() + connect_timeout
        while True:
            try:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self._sock.connect(path)
                break
            except OSError as e:
                self._sock.close()
                if time.monotonic() >= deadline:
                    raise BusError("Connecting to bus socket %s: %s" % (path, e.strerror or e)) from None
                time.sleep(0.05)
        self._reader = threading.Thread(target=self._read_loop, name="bus-reader", daemon=True)
        self._reader.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __str__(self):
        return "BusClient(path=%s)" % self.path

    def close(self):
        self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()

    def _read_loop(self):
        dec = frame.FrameDecoder()
        err = "connection closed by %s" % self.path
        try:
            while True:
                data = self._sock.recv(65536)
                if not data:
                    break
                for msg in dec.feed(data):
                    self._deliver(msg)
        except (OSError, BusProtocolError) as e:
            err = str(e)
        with self._lock:
            pending, self._pending = self._pending, {}
            self._dead = err
        for slot in pending.values():
            slot.append(("dead", err))
            slot[0].set()

    _dead = None

    def _deliver(self, msg):
        if msg["k"] == "evt":
            if self._callback is not None:
                try:
                    self._callback(msg["op"], msg.get("data"))
                except Exception:
                    log.exception("bus event callback for %s failed", msg["op"])
            else:
                self.events.put((msg["op"], msg.get("data")))
            return
        with self._lock:
            slot = self._pending.pop(msg.get("id"), None)
        if slot is None:
            if msg["k"] == "err":
                log.warning("bus %s: error without a request: %s", self.path, msg.get("msg"))
            return
        slot.append(msg)
        slot[0].set()

    def request(self, op, args=None, timeout=None):
        """Send a request and wait for its reply.

        Args:
            op (str): dotted operation name.
            args (dict): arguments.
            timeout (float): seconds; default is the client's.

        Returns:
            the reply's data.

        Raises:
            BusRemoteError: the daemon answered with an error.
            BusTimeoutError: no reply in time.
            BusError: the connection is gone.
        """
        mid = next(self._ids)
        slot = [threading.Event()]
        with self._lock:
            if self._dead:
                raise BusError("%s: bus connection to %s is closed (%s)" % (op, self.path, self._dead))
            self._pending[mid] = slot
        data = frame.request(mid, op, args)
        with self._wlock:
            try:
                self._sock.sendall(data)
            except OSError as e:
                with self._lock:
                    self._pending.pop(mid, None)
                raise BusError("%s: sending to %s: %s" % (op, self.path, e.strerror or e)) from None
        if not slot[0].wait(self.timeout if timeout is None else timeout):
            with self._lock:
                self._pending.pop(mid, None)
            raise BusTimeoutError("%s: no reply from %s within %.1f s" % (op, self.path, self.timeout if timeout is None else timeout))
        reply = slot[1]
        if isinstance(reply, tuple):          # ("dead", reason): the reader saw the connection end
            raise BusError("%s: bus connection to %s lost (%s)" % (op, self.path, reply[1]))
        if reply["k"] == "err":
            raise BusRemoteError(op, reply.get("code"), reply.get("msg"))
        return reply.get("data")

    def subscribe(self, topics, callback=None):
        """Subscribe to topic prefixes; events go to callback(topic, data) or to self.events."""
        if callback is not None:
            self._callback = callback
        return self.request("bus.subscribe", {"topics": list(topics)})

    def wait_event(self, pred, timeout):
        """Wait for an event (topic, data) for which pred(topic, data) is true.

        Raises:
            BusTimeoutError: none arrived within timeout seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BusTimeoutError("no matching event on %s within %.1f s" % (self.path, timeout))
            try:
                topic, data = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if pred(topic, data):
                return topic, data


class AsyncBusClient:
    """Reconnecting asyncio client of one daemon's bus socket.

    Args:
        path (str): the daemon's socket.
        name (str): who we are, for logs.
        on_event (callable): on_event(topic, data), called in the loop.
        topics (list[str]): prefixes to (re)subscribe after each connect.
        on_connect (callable): called (in the loop) after each (re)connection.
    """

    def __init__(self, path, name, on_event=None, topics=(), on_connect=None, timeout=5.0):
        self.path = path
        self.name = name
        self.on_event = on_event
        self.topics = list(topics)
        self.on_connect = on_connect
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._pending = {}
        self._writer = None
        self._task = None
        self.connected = asyncio.Event()
        self._stopping = False

    def start(self):
        self._task = asyncio.ensure_future(self._run())

    async def close(self):
        self._stopping = True
        if self._task:
            self._task.cancel()
        if self._writer:
            self._writer.close()

    async def _run(self):
        backoff = 0.05
        while not self._stopping:
            try:
                reader, writer = await asyncio.open_unix_connection(self.path)
            except OSError:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)
                continue
            backoff = 0.05
            self._writer = writer
            self.connected.set()
            if self.topics:
                self.send("bus.subscribe", {"topics": self.topics})
            if self.on_connect:
                try:
                    self.on_connect()
                except Exception:
                    log.exception("%s: on_connect for %s failed", self.name, self.path)
            dec = frame.FrameDecoder()
            try:
                while True:
                    data = await reader.read(65536)
                    if not data:
                        break
                    for msg in dec.feed(data):
                        self._deliver(msg)
            except (OSError, BusProtocolError) as e:
                log.warning("%s: bus link to %s broken: %s", self.name, self.path, e)
            self.connected.clear()
            self._writer = None
            writer.close()
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(BusError("bus connection to %s lost" % self.path))
            self._pending.clear()
            if not self._stopping:
                log.info("%s: lost bus link to %s, reconnecting", self.name, self.path)

    def _deliver(self, msg):
        if msg["k"] == "evt":
            if self.on_event:
                try:
                    self.on_event(msg["op"], msg.get("data"))
                except Exception:
                    log.exception("%s: event handler for %s failed", self.name, msg["op"])
            return
        fut = self._pending.pop(msg.get("id"), None)
        if fut is None or fut.done():
            if msg["k"] == "err":
                log.warning("%s: %s", self.name, msg.get("msg"))
            return
        if msg["k"] == "err":
            fut.set_exception(BusRemoteError(msg["op"], msg.get("code"), msg.get("msg")))
        else:
            fut.set_result(msg.get("data"))

    def send(self, op, args=None):
        """Fire-and-forget request; an error reply is logged. Returns False if not connected."""
        if self._writer is None:
            return False
        self._writer.write(frame.request(next(self._ids), op, args))
        return True

    async def request(self, op, args=None, timeout=None):
        """Send a request and await its reply (same errors as BusClient.request)."""
        if self._writer is None:
            try:
                await asyncio.wait_for(self.connected.wait(), timeout or self.timeout)
            except asyncio.TimeoutError:
                raise BusTimeoutError("%s: %s is not connected" % (op, self.path)) from None
        mid = next(self._ids)
        fut = asyncio.get_running_loop().create_future()
        self._pending[mid] = fut
        self._writer.write(frame.request(mid, op, args))
        try:
            return await asyncio.wait_for(fut, timeout or self.timeout)
        except asyncio.TimeoutError:
            self._pending.pop(mid, None)
            raise BusTimeoutError("%s: no reply from %s" % (op, self.path)) from None
