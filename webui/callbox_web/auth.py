"""Who may use the web UI: users, password hashes, sessions and login throttling.

Design notes:

- Passwords are hashed by callbox.auth (PBKDF2-HMAC-SHA256, per-hash salt, constant-
  time compare), the format the serial console checks too. The iteration count is
  stored in the hash, so the cost can be raised later: a login with an older,
  cheaper hash rewrites it. Checking a username that does not exist still costs one hash, so timing does not
  tell which usernames exist.
- Sessions live in this process only (a restart of the web daemon logs everyone
  out). The cookie carries a random token; the table is keyed by the token's
  SHA-256, never the token itself. A session expires after IDLE_S without a request.
  Anonymous sessions exist only to carry the CSRF token of the login and setup
  forms; they expire sooner and their number is capped.
- Failed logins are counted per (username, client address) and per client address
  over a sliding window; past the limit, logins are refused (429) until the oldest
  failure leaves the window. The address is the socket peer (REMOTE_ADDR), never a
  client-supplied header.
"""
import collections
import hashlib
import secrets
import threading
import time

from callbox.auth import (ITERATIONS, MAX_LENGTH, MIN_LENGTH, USERNAME_RE, check_new_password,  # noqa: F401
                          check_username, create_first_admin, hash_password, verify_password)

ROLES = ("admin", "supervisor", "agent", "viewer")
ANYONE = "anyone"                  # route roles value: no login needed

PW_ITERATIONS = ITERATIONS         # PBKDF2-HMAC-SHA256 cost, shared with the console
PW_MIN_LEN = MIN_LENGTH
PW_MAX_LEN = MAX_LENGTH

IDLE_S = 8 * 3600                  # a logged-in session dies after 8 h without a request
ANON_IDLE_S = 3600                 # a login/setup form's session
MAX_ANON_SESSIONS = 1000

FAIL_WINDOW_S = 300
FAIL_LIMIT_USER_IP = 5             # per (username, address) within the window
FAIL_LIMIT_IP = 20                 # per address, over all usernames
MAX_LIMITER_KEYS = 10000


def hash_iterations(stored):
    """The PBKDF2 iteration count recorded in a stored hash (0 when unreadable)."""
    parts = stored.split("$") if isinstance(stored, str) else []
    return int(parts[1]) if len(parts) == 4 and parts[1].isdigit() else 0


class Users:
    """The users table (username, pw_hash, role), as the web UI needs it.

    Args:
        store (callbox.config.store.Store): the config store.
        lock (threading.Lock): serialises this process's writes to the store.
        iterations (int): PBKDF2 cost for new hashes.
    """

    def __init__(self, store, lock, iterations=PW_ITERATIONS):
        self.store = store
        self.lock = lock
        self.iterations = iterations
        # Verified against when the username is unknown, so both cases cost one hash.
        self._dummy = hash_password(secrets.token_hex(8), iterations)

    def __str__(self):
        return "Users(store=%s, iterations=%d)" % (self.store.path, self.iterations)

    def has_admin(self):
        """True once at least one admin exists (first-boot setup is done)."""
        return bool(self.store.query("SELECT 1 FROM users WHERE role='admin' LIMIT 1"))

    def get(self, username):
        """The user as {"username", "role", "lang"}, or None."""
        rows = self.store.query("SELECT username, role, lang FROM users WHERE username=?", (username,))
        return rows[0] if rows else None

    def create_first_admin(self, username, password):
        """Create the first admin, unless an admin appeared meanwhile.

        Returns:
            bool: True when this call created it.
        """
        with self.lock:
            return create_first_admin(self.store.db, username, password, self.iterations)

    def create(self, username, password, role):
        """Add a user.

        Raises:
            ValueError: bad username or role, or a password shorter than PW_MIN_LEN.
            sqlite3.IntegrityError: the username exists.
        """
        err = check_username(username)
        if err:
            raise ValueError(err)
        if role not in ROLES:
            raise ValueError("role: %r is not one of: %s" % (role, ", ".join(ROLES)))
        pw_hash = hash_password(password, self.iterations)
        with self.lock:
            self.store.execute("INSERT INTO users(username, pw_hash, role) VALUES(?, ?, ?)",
                               (username, pw_hash, role))

    def verify(self, username, password):
        """Check a login.

        Returns:
            dict|None: the user ({"username", "role"}) when the password is right.
        """
        rows = self.store.query("SELECT username, pw_hash, role FROM users WHERE username=?", (username,))
        if not rows:
            verify_password(password, self._dummy)
            return None
        row = rows[0]
        if not verify_password(password, row["pw_hash"]):
            return None
        if hash_iterations(row["pw_hash"]) < self.iterations and len(password) >= PW_MIN_LEN:
            with self.lock:
                self.store.execute("UPDATE users SET pw_hash=? WHERE username=?",
                                   (hash_password(password, self.iterations), username))
        return {"username": row["username"], "role": row["role"]}


class Session:
    """One browser's session: who (None while anonymous) and its CSRF token."""

    __slots__ = ("username", "csrf", "created", "seen")

    def __init__(self, username, now):
        self.username = username
        self.csrf = secrets.token_urlsafe(32)
        self.created = now
        self.seen = now

    def __repr__(self):
        return "Session(user=%s, created=%.0f, seen=%.0f)" % (self.username, self.created, self.seen)


class Sessions:
    """Server-side sessions keyed by the SHA-256 of a random cookie token.

    Args:
        clock (callable): returns the time in seconds (time.time; tests pass a fake).
        idle_s (float): idle expiry of logged-in sessions.
        anon_idle_s (float): idle expiry of anonymous sessions.
        max_anon (int): anonymous sessions kept; the oldest is dropped beyond it.
    """

    def __init__(self, clock=time.time, idle_s=IDLE_S, anon_idle_s=ANON_IDLE_S, max_anon=MAX_ANON_SESSIONS):
        self.clock = clock
        self.idle_s = idle_s
        self.anon_idle_s = anon_idle_s
        self.max_anon = max_anon
        self._users = {}
        self._anon = collections.OrderedDict()
        self._lock = threading.Lock()

    def __str__(self):
        return "Sessions(users=%d, anonymous=%d, idle_s=%d)" % (len(self._users), len(self._anon), self.idle_s)

    def __len__(self):
        return len(self._users) + len(self._anon)

    @staticmethod
    def _key(token):
        return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()

    def new(self, username=None):
        """Start a session.

        Returns:
            (str, Session): the cookie token and the session.
        """
        now = self.clock()
        token = secrets.token_urlsafe(32)
        sess = Session(username, now)
        with self._lock:
            self._prune(now)
            if username is None:
                self._anon[self._key(token)] = sess
                while len(self._anon) > self.max_anon:
                    self._anon.popitem(last=False)
            else:
                self._users[self._key(token)] = sess
        return token, sess

    def get(self, token):
        """The live session for a cookie token (and mark it used), or None."""
        if not token:
            return None
        key = self._key(token)
        now = self.clock()
        with self._lock:
            for table, idle in ((self._users, self.idle_s), (self._anon, self.anon_idle_s)):
                sess = table.get(key)
                if sess is None:
                    continue
                if now - sess.seen > idle:
                    del table[key]
                    return None
                sess.seen = now
                return sess
        return None

    def drop(self, token):
        """End a session (logout, or replaced at login)."""
        if not token:
            return
        key = self._key(token)
        with self._lock:
            self._users.pop(key, None)
            self._anon.pop(key, None)

    def drop_user(self, username):
        """End every session of a user (deleted, or password changed)."""
        with self._lock:
            for key in [k for k, s in self._users.items() if s.username == username]:
                del self._users[key]

    def _prune(self, now):
        for table, idle in ((self._users, self.idle_s), (self._anon, self.anon_idle_s)):
            for key in [k for k, s in table.items() if now - s.seen > idle]:
                del table[key]


class LoginLimiter:
    """Sliding-window count of failed logins.

    Args:
        clock (callable): time source.
        window_s (float): how long a failure counts.
        per_user_ip (int): failures allowed per (username, address) in the window.
        per_ip (int): failures allowed per address in the window.
    """

    def __init__(self, clock=time.time, window_s=FAIL_WINDOW_S, per_user_ip=FAIL_LIMIT_USER_IP,
                 per_ip=FAIL_LIMIT_IP):
        self.clock = clock
        self.window_s = window_s
        self.limits = {"user": per_user_ip, "ip": per_ip}
        self._fails = collections.OrderedDict()     # key -> deque of failure times
        self._lock = threading.Lock()

    def __str__(self):
        return "LoginLimiter(window_s=%d, per_user_ip=%d, per_ip=%d)" % (
            self.window_s, self.limits["user"], self.limits["ip"])

    @staticmethod
    def _keys(username, ip):
        return (("user", username[:64], ip), ("ip", ip))

    def retry_after(self, username, ip):
        """Seconds until a login from ip for username is allowed again (0: allowed now)."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key in self._keys(username, ip):
                q = self._fails.get(key)
                if not q:
                    continue
                while q and now - q[0] >= self.window_s:
                    q.popleft()
                limit = self.limits[key[0]]
                if len(q) >= limit:
                    wait = max(wait, q[-limit] + self.window_s - now)
        return wait

    def fail(self, username, ip):
        """Count one failed login."""
        now = self.clock()
        with self._lock:
            for key in self._keys(username, ip):
                q = self._fails.pop(key, None) or collections.deque()
                q.append(now)
                while len(q) > self.limits[key[0]]:
                    q.popleft()
                self._fails[key] = q                 # most recent at the end
            while len(self._fails) > MAX_LIMITER_KEYS:
                self._fails.popitem(last=False)

    def succeed(self, username, ip):
        """A good login clears that user's failures from that address."""
        with self._lock:
            self._fails.pop(self._keys(username, ip)[0], None)
