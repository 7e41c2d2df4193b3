"""HTTP digest authentication for SIP (RFC 3261 22, RFC 2617 with qop=auth, RFC 7616 MD5).

The box keeps no plain passwords: a seat's secret is stored as HA1 = MD5(user:realm:password)
(``md5:<hex>``), which is what digest needs and no more. Nonces are stateless:
``<time>.<hmac>`` signed with a per-boot key, valid for NONCE_TTL seconds; an older but
genuine nonce gets a fresh challenge with ``stale=true`` so phones retry without
asking the user.
"""
import hashlib
import hmac
import os
import re
import time

NONCE_TTL = 300.0
_PARAM_RE = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]+)')


def md5_hex(s):
    return hashlib.md5(s.encode("utf-8")).hexdigest()


def ha1_for(user, realm, password):
    """The stored secret for a seat: ``md5:`` + MD5(user:realm:password)."""
    return "md5:" + md5_hex("%s:%s:%s" % (user, realm, password))


def parse_challenge_params(value):
    """``Digest a=b, c="d"`` → ("Digest", {"a": "b", "c": "d"})."""
    scheme, _, rest = value.strip().partition(" ")
    params = {}
    for k, v in _PARAM_RE.findall(rest):
        if v.startswith('"'):
            v = v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        params[k.lower()] = v
    return scheme, params


class DigestAuth:
    """Challenges and checks Authorization headers for one realm."""

    def __init__(self, realm="callbox", key=None, clock=time.time):
        self.realm = realm
        self.key = key or os.urandom(16)
        self.clock = clock

    def nonce(self):
        ts = "%x" % int(self.clock())
        return ts + "." + hmac.new(self.key, ts.encode(), hashlib.sha256).hexdigest()[:24]

    def challenge(self, stale=False):
        """The value of a WWW-Authenticate header."""
        return 'Digest realm="%s", nonce="%s", algorithm=MD5, qop="auth"%s' % (
            self.realm, self.nonce(), ", stale=true" if stale else "")

    def _nonce_state(self, nonce):
        ts, _, sig = nonce.partition(".")
        try:
            t = int(ts, 16)
        except ValueError:
            return "bad"
        good = hmac.new(self.key, ts.encode(), hashlib.sha256).hexdigest()[:24]
        if not hmac.compare_digest(good, sig):
            return "bad"
        return "stale" if self.clock() - t > NONCE_TTL or t > self.clock() + 5 else "ok"

    def check(self, method, header, lookup):
        """Check an Authorization header.

        Args:
            method (str): the request's method.
            header (str or None): the Authorization header value.
            lookup (callable): username → stored secret (``md5:<hex>``) or None.

        Returns:
            tuple: (result, username) with result "ok", "missing", "stale", "bad-nonce",
            "unknown-user", "wrong" or "malformed".
        """
        if not header:
            return "missing", None
        scheme, p = parse_challenge_params(header)
        if scheme.lower() != "digest":
            return "malformed", None
        user = p.get("username")
        need = ("username", "realm", "nonce", "uri", "response")
        if any(k not in p for k in need) or p.get("algorithm", "MD5").upper() != "MD5":
            return "malformed", user
        if p["realm"] != self.realm:
            return "wrong", user
        state = self._nonce_state(p["nonce"])
        if state == "bad":
            return "bad-nonce", user
        secret = lookup(user)
        if not secret or not secret.startswith("md5:"):
            return "unknown-user", user
        ha1 = secret[4:]
        ha2 = md5_hex("%s:%s" % (method, p["uri"]))
        qop = p.get("qop")
        if qop:
            if qop != "auth" or "nc" not in p or "cnonce" not in p:
                return "malformed", user
            expect = md5_hex("%s:%s:%s:%s:%s:%s" % (ha1, p["nonce"], p["nc"], p["cnonce"], qop, ha2))
        else:
            expect = md5_hex("%s:%s:%s" % (ha1, p["nonce"], ha2))
        if not hmac.compare_digest(expect, p["response"].lower()):
            return "wrong", user
        return ("stale" if state == "stale" else "ok"), user


def authorization(method, uri, user, password, challenge, cnonce="0a4f113b", nc=1):
    """The Authorization header a client sends for a challenge (tests and the probe tool)."""
    _, p = parse_challenge_params(challenge)
    ha1 = md5_hex("%s:%s:%s" % (user, p["realm"], password))
    ha2 = md5_hex("%s:%s" % (method, uri))
    ncs = "%08x" % nc
    if "auth" in p.get("qop", "").split(","):
        resp = md5_hex("%s:%s:%s:%s:auth:%s" % (ha1, p["nonce"], ncs, cnonce, ha2))
        return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5, '
                'qop=auth, nc=%s, cnonce="%s"' % (user, p["realm"], p["nonce"], uri, resp, ncs, cnonce))
    resp = md5_hex("%s:%s:%s" % (ha1, p["nonce"], ha2))
    return 'Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s"' % (
        user, p["realm"], p["nonce"], uri, resp)
