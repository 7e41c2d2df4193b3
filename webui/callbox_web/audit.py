"""The web UI's audit log: who logged in, and who opened which recording.

Rows go to the ``audit`` table of the config store (created by its migrations).
"""
import logging
import time

log = logging.getLogger("callbox.web")

class AuditLog:
    """Append-only audit rows.

    Args:
        store (callbox.config.store.Store): the config store.
        lock (threading.Lock): serialises this process's writes to the store.
        clock (callable): time source.
    """

    def __init__(self, store, lock, clock=time.time):
        self.store = store
        self.lock = lock
        self.clock = clock

    def __str__(self):
        return "AuditLog(store=%s)" % self.store.path

    def write(self, user, action, detail=""):
        """Record one action.

        Args:
            user (str|None): who did it (None before login).
            action (str): dotted action name, e.g. "recording.play".
            detail (str): what exactly, e.g. "id=5 path=2024/05/01/c1.wav ip=10.0.0.7".
        """
        with self.lock:
            self.store.execute("INSERT INTO audit(t, user, action, detail) VALUES(?, ?, ?, ?)",
                               (self.clock(), user, action, detail))
        log.info("audit: user=%s %s %s", user or "-", action, detail)

    def recent(self, limit=100):
        """The newest rows first."""
        return self.store.query("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))
