"""BusRouter: one blocking entry point to every daemon, for the web UI, console and tools.

``router.request("span.status")`` goes to the media daemon's socket, ``call.list``
to call control's, and so on (callbox.bus.OWNERS). Connections are made lazily
and made again after a daemon restarts.
"""
import threading

from callbox.bus import owner, socket_path
from callbox.bus.client import BusClient
from callbox.errors import BusError


class BusRouter:
    """Route requests to the daemon that serves them.

    Args:
        run_dir (str): directory holding the daemons' sockets.
        timeout (float): default request timeout in seconds.
    """

    def __init__(self, run_dir, timeout=3.0):
        self.run_dir = run_dir
        self.timeout = timeout
        self._clients = {}
        self._lock = threading.Lock()

    def __str__(self):
        return "BusRouter(run_dir=%s)" % self.run_dir

    def client(self, daemon):
        with self._lock:
            c = self._clients.get(daemon)
            if c is None or c._dead:
                c = BusClient(socket_path(self.run_dir, daemon), timeout=self.timeout)
                self._clients[daemon] = c
            return c

    def request(self, op, args=None, timeout=None):
        """Send op to its daemon and return the reply data.

        Raises:
            ValueError: no daemon serves the op.
            BusError (and subclasses): the daemon is unreachable, timed out or refused.
        """
        daemon = owner(op)
        try:
            c = self.client(daemon)
        except BusError as e:
            raise BusError("%s: the %s daemon is not reachable (%s)" % (op, daemon, e)) from None
        return c.request(op, args, timeout)

    def close(self):
        with self._lock:
            for c in self._clients.values():
                c.close()
            self._clients.clear()
