"""The box's SIP endpoint for seats: transports, transactions, registrar, protection.

One :class:`SipStack` per media daemon, shared by every SIP seat port. It never
blocks: :meth:`pump` reads whatever the UDP socket and the TCP/TLS connections hold,
runs retransmission and keep-alive timers and hands requests to the seat they belong
to. The media engine calls it once per 20 ms tick (through the seat ports' ``poll``).

- Transports: UDP, TCP and TLS (the box's certificate); responses go back where the
  request came from (RFC 3581 rport, the same connection on TCP/TLS), and requests to
  a phone go to the address its REGISTER came from, so phones behind NAT work.
- Transactions (RFC 3261 17): client retransmissions on UDP (Timer A/E doubling from
  T1 = 500 ms, non-INVITE capped at T2 = 4 s, 32 s timeout), the ACK of non-2xx
  answers, server-side absorption of retransmitted requests (the last response is sent
  again).
- Registrar: digest authentication against each seat's stored HA1, Contact bindings
  with expiry (60..3600 s), OPTIONS keep-alives every 30 s; a seat that misses two is
  unreachable (its port reports ``{"plug": False}`` and the ACD skips its agent) until
  it answers or registers again.
- Protection: a token bucket per source address and port (default 20 requests/s, burst
  40) and five failed authentications in a minute block the address for a minute (requests
  dropped, logged once). Malformed messages get 400 (or are dropped if no response
  can be built), unknown methods 405, and none of it disturbs calls in progress.
"""
import collections
import logging
import os
import socket
import ssl
import time

from callbox.sip import message as sipmsg
from callbox.sip.digest import DigestAuth
from callbox.sip.message import Message, SipParseError

log = logging.getLogger("callbox.sip")
T1, T2, TXN_TIMEOUT = 0.5, 4.0, 32.0
ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, INFO"
USER_AGENT = "CallBox"
MAX_CONNS = 256
AUTH_FAILURES_BLOCK = 5     # failed authentications from one address in a minute that block it
MAX_STREAM_BUFFER = 2 * sipmsg.MAX_MESSAGE


def new_token(n=8):
    return os.urandom(n).hex()


def new_branch():
    return "z9hG4bK" + new_token(8)


class Dest:
    """Where to send: ``kind`` udp/tcp/tls, ``addr`` (ip, port) and the connection for streams."""

    __slots__ = ("kind", "addr", "conn")

    def __init__(self, kind, addr, conn=None):
        self.kind, self.addr, self.conn = kind, tuple(addr), conn

    def __repr__(self):
        return "%s:%s:%d" % (self.kind, self.addr[0], self.addr[1])


class Conn:
    """One TCP or TLS connection with its read and write buffers."""

    def __init__(self, sock, kind, addr, now):
        self.sock, self.kind, self.addr = sock, kind, addr
        self.rbuf, self.wbuf = bytearray(), bytearray()
        self.handshaking = kind == "tls"
        self.closed = False
        self.last = now


class ClientTxn:
    __slots__ = ("branch", "method", "data", "dest", "cb", "start", "next_t", "interval", "final",
                 "provisional", "timeout", "request")

    def __init__(self, request, dest, cb, now, timeout):
        self.request = request
        self.branch, self.method = request.branch, request.method
        self.data, self.dest, self.cb = request.to_bytes(), dest, cb
        self.start, self.interval = now, T1
        self.next_t = now + T1
        self.final = None
        self.provisional = False
        self.timeout = timeout


class Binding:
    """A registered contact of a seat."""

    __slots__ = ("contact", "dest", "expires_at", "missed", "reachable", "user_agent")

    def __init__(self, contact, dest, expires_at, user_agent):
        self.contact, self.dest, self.expires_at = contact, dest, expires_at
        self.missed, self.reachable, self.user_agent = 0, True, user_agent


class SipStack:
    """Args:
        host (str): address to listen on (0.0.0.0 for every interface).
        port (int): UDP and TCP port (0 picks a free one: tests).
        tcp (bool): listen on TCP too.
        tls_port (int or None): TLS port; needs ``tls_context``.
        tls_context (ssl.SSLContext or None): server context with the box's certificate.
        realm (str): digest realm (part of every stored seat secret).
        advertise (str or None): address to put in Via/Contact/SDP (a NATed box's public
            address); default: the local address facing the phone.
        rtp_host (str or None): address to bind RTP sockets (default ``host``).
        rtp_base (int): first RTP port; seat k gets rtp_base + 2k (RTCP +1). 0: any free port.
        rate (tuple): (requests per second, burst) per source address.
    """

    def __init__(self, host="0.0.0.0", port=5060, tcp=True, tls_port=None, tls_context=None, realm="callbox",
                 advertise=None, rtp_host=None, rtp_base=0, rate=(20.0, 40.0), block_s=60.0, min_expires=60,
                 max_expires=3600, options_every_s=30.0, clock=time.monotonic):
        self.host, self.port, self.want_tcp = host, port, tcp
        self.tls_port, self.tls_context = tls_port, tls_context
        self.auth = DigestAuth(realm)
        self.realm = realm
        self.advertise = advertise
        self.rtp_host = rtp_host or host
        self.rtp_base = rtp_base
        self._rtp_next = rtp_base
        self.rate, self.block_s = rate, block_s
        self.min_expires, self.max_expires = min_expires, max_expires
        self.options_every_s = options_every_s
        self.clock = clock
        self.seats = {}
        self.dialogs = {}
        self.ct = {}
        self.st = {}
        self.conns = []
        self.buckets = {}
        self.failures = collections.defaultdict(list)
        self.blocked = {}
        self.udp = self.tcp = self.tls = None
        self.counters = collections.Counter()
        self._local_ip_cache = {}
        self._last_pump = -1.0
        self._next_housekeeping = 0.0

    def __str__(self):
        return "SipStack(%s udp/%s%s%s, realm=%s, seats=%d)" % (
            self.host, self.port, " tcp/%d" % self.port if self.tcp else "",
            " tls/%d" % self.tls_port if self.tls else "", self.realm, len(self.seats))

    # -- sockets ---------------------------------------------------------------------------
    def open(self):
        if self.udp is not None:
            return self
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.udp.bind((self.host, self.port))
        self.port = self.udp.getsockname()[1]
        self.udp.setblocking(False)
        if self.want_tcp:
            self.tcp = self._listener(self.port)
        if self.tls_port is not None and self.tls_context is not None:
            self.tls = self._listener(self.tls_port)
            self.tls_port = self.tls.getsockname()[1]
        log.info("sip: listening %s", self)
        return self

    def _listener(self, port):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, port))
        s.listen(64)
        s.setblocking(False)
        return s

    def close(self):
        for s in (self.udp, self.tcp, self.tls):
            if s is not None:
                s.close()
        for c in self.conns:
            c.sock.close()
        self.conns = []
        self.udp = self.tcp = self.tls = None

    def attach(self, seat):
        if seat.user in self.seats:
            raise ValueError("SIP user %r is used by two seats" % seat.user)
        self.seats[seat.user] = seat

    def rtp_port(self):
        """The next RTP port to use for a seat (0: let the system pick)."""
        if not self.rtp_base:
            return 0
        p = self._rtp_next
        self._rtp_next += 2
        return p

    def detach(self, seat):
        self.seats.pop(seat.user, None)
        for cid in [c for c, s in self.dialogs.items() if s is seat]:
            del self.dialogs[cid]

    def local_ip(self, dest):
        """The address of ours the phone at ``dest`` reaches."""
        if self.advertise:
            return self.advertise
        if dest.conn is not None:
            try:
                return dest.conn.sock.getsockname()[0]
            except OSError:
                pass
        if self.host not in ("0.0.0.0", ""):
            return self.host
        ip = self._local_ip_cache.get(dest.addr[0])
        if ip is None:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.connect((dest.addr[0], 9))
                ip = s.getsockname()[0]
            except OSError:
                ip = "127.0.0.1"
            finally:
                s.close()
            self._local_ip_cache[dest.addr[0]] = ip
        return ip

    def local_port(self, dest):
        return self.tls_port if dest.kind == "tls" else self.port

    def via(self, dest, branch):
        return "SIP/2.0/%s %s:%d;branch=%s;rport" % (dest.kind.upper(), self.local_ip(dest), self.local_port(dest),
                                                     branch)

    def contact(self, dest, user="callbox"):
        # sip: with transport=tls rather than sips: (what phones support widely, RFC 5630 aside)
        t = "" if dest.kind == "udp" else ";transport=%s" % dest.kind
        return "<sip:%s@%s:%d%s>" % (user, self.local_ip(dest), self.local_port(dest), t)

    # -- sending ---------------------------------------------------------------------------
    def send(self, msg, dest):
        data = msg.to_bytes() if isinstance(msg, Message) else msg
        self.counters["tx"] += 1
        if dest.kind == "udp":
            try:
                self.udp.sendto(data, dest.addr)
            except OSError as e:
                self.counters["tx_errors"] += 1
                log.debug("sip: send to %s failed: %s", dest, e)
            return
        conn = dest.conn
        if conn is None or conn.closed:
            self.counters["tx_errors"] += 1
            log.info("sip: connection to %s is gone; %s not sent", dest, getattr(msg, "method", "") or "response")
            return
        conn.wbuf += data
        self._flush(conn)

    def request(self, msg, dest, cb, timeout=TXN_TIMEOUT):
        """Send a request as a client transaction; ``cb(response or None on timeout)``."""
        txn = ClientTxn(msg, dest, cb, self.clock(), timeout)
        self.ct[(txn.branch, txn.method)] = txn
        self.send(txn.data, dest)
        return txn

    def respond(self, req, dest, status, reason=None, to_tag=None, body=b"", extra=()):
        """Send a response to ``req`` and keep it for retransmitted requests."""
        resp = sipmsg.response_to(req, status, reason, to_tag, body, extra)
        resp.add("Server", USER_AGENT)
        if body:
            resp.set("Content-Type", "application/sdp")
        key = (req.branch, "INVITE" if req.method == "ACK" else req.method)
        self.st[key] = {"data": resp.to_bytes(), "dest": dest, "until": self.clock() + TXN_TIMEOUT,
                        "status": status}
        self.send(self.st[key]["data"], dest)
        return resp

    def ack_for(self, txn, resp):
        """ACK of a non-2xx final answer to our INVITE (same branch, RFC 3261 17.1.1.3)."""
        inv = txn.request
        ack = Message(method="ACK", uri=inv.uri)
        ack.add("Via", inv.get("Via"))
        for h in ("Max-Forwards", "From", "Call-ID"):
            ack.add(h, inv.get(h))
        ack.add("To", resp.get("To"))
        ack.add("CSeq", "%d ACK" % inv.cseq[0])
        self.send(ack, txn.dest)

    # -- receiving -------------------------------------------------------------------------
    def pump(self):
        """Read and handle everything waiting; run timers. Cheap when called again at once."""
        real = time.monotonic()
        if real - self._last_pump < 0.002 or self.udp is None:
            return   # every seat port calls this each tick; once is enough
        self._last_pump = real
        now = self.clock()
        for _ in range(1000):
            try:
                data, addr = self.udp.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                continue  # ICMP errors surface here on Linux; the timers handle the loss
            self.counters["rx"] += 1
            if data.strip(b"\r\n\x00") == b"":
                continue  # keep-alive
            self._message(data, Dest("udp", addr), stream=False)
        for lst, kind in ((self.tcp, "tcp"), (self.tls, "tls")):
            if lst is not None:
                self._accept(lst, kind, now)
        for conn in list(self.conns):
            self._read_conn(conn, now)
        self._timers(now)

    def _accept(self, lst, kind, now):
        while True:
            try:
                s, addr = lst.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if self._blocked(addr[0], now) or len(self.conns) >= MAX_CONNS:
                s.close()
                self.counters["conn_refused"] += 1
                continue
            s.setblocking(False)
            if kind == "tls":
                try:
                    s = self.tls_context.wrap_socket(s, server_side=True, do_handshake_on_connect=False)
                except (ssl.SSLError, OSError):
                    s.close()
                    continue
            self.conns.append(Conn(s, kind, addr, now))

    def _read_conn(self, conn, now):
        if conn.handshaking:
            try:
                conn.sock.do_handshake()
                conn.handshaking = False
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                if now - conn.last > 10:
                    self._drop(conn, "TLS handshake timed out")
                return
            except (ssl.SSLError, OSError) as e:
                self.counters["tls_failures"] += 1
                self._drop(conn, "TLS handshake failed: %s" % e)
                return
        while True:
            try:
                chunk = conn.sock.recv(65536)
            except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError, InterruptedError):
                break
            except (OSError, ssl.SSLError) as e:
                self._drop(conn, str(e))
                return
            if not chunk:
                self._drop(conn, "closed by the phone")
                return
            conn.rbuf += chunk
            conn.last = now
            if len(conn.rbuf) > MAX_STREAM_BUFFER:
                self._drop(conn, "more than %d bytes without a whole message" % MAX_STREAM_BUFFER)
                return
        while conn.rbuf:
            # RFC 5626 keep-alive: CRLF CRLF ping gets a CRLF pong
            if conn.rbuf.startswith(b"\r\n\r\n"):
                del conn.rbuf[:4]
                conn.wbuf += b"\r\n"
                self._flush(conn)
                continue
            if conn.rbuf.startswith(b"\r\n"):
                del conn.rbuf[:2]
                continue
            end = sipmsg.head_length(conn.rbuf)
            if end < 0:
                break
            head = bytes(conn.rbuf[:end])
            length = 0
            for ln in head.split(b"\r\n"):
                name, _, value = ln.partition(b":")
                if name.strip().lower() in (b"content-length", b"l"):
                    v = value.strip()
                    length = int(v) if v.isdigit() else -1
            if length < 0:
                self.counters["bad"] += 1
                self._drop(conn, "bad Content-Length; the stream cannot be framed")
                return
            if len(conn.rbuf) < end + length:
                break
            data = bytes(conn.rbuf[:end + length])
            del conn.rbuf[:end + length]
            self.counters["rx"] += 1
            self._message(data, Dest(conn.kind, conn.addr, conn), stream=True)
        self._flush(conn)

    def _flush(self, conn):
        while conn.wbuf and not conn.closed and not conn.handshaking:
            try:
                n = conn.sock.send(conn.wbuf)
            except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                return
            except (OSError, ssl.SSLError) as e:
                self._drop(conn, str(e))
                return
            del conn.wbuf[:n]

    def _drop(self, conn, why):
        if conn.closed:
            return
        conn.closed = True
        log.info("sip: %s connection from %s:%d dropped: %s", conn.kind, conn.addr[0], conn.addr[1], why)
        try:
            conn.sock.close()
        except OSError:
            pass
        if conn in self.conns:
            self.conns.remove(conn)
        for seat in self.seats.values():
            seat.connection_lost(conn)

    # -- protection ------------------------------------------------------------------------
    def _blocked(self, ip, now):
        until = self.blocked.get(ip)
        if until is None:
            return False
        if now >= until:
            del self.blocked[ip]
            log.warning("sip: %s unblocked", ip)
            return False
        self.counters["blocked_drops"] += 1
        return True

    def _block(self, ip, now, why):
        if ip in self.blocked:
            return
        self.blocked[ip] = now + self.block_s
        self.counters["blocks"] += 1
        log.warning("sip: %s blocked for %.0f s: %s", ip, self.block_s, why)

    def _rate_ok(self, addr, now):
        """Token bucket per source address and port (each phone behind one NAT has its own
        port); a source over its budget gets its whole IP address blocked."""
        rate, burst = self.rate
        tokens, last = self.buckets.get(addr, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate)
        if tokens < 1:
            self.buckets[addr] = (tokens, now)
            self._block(addr[0], now, "more than %.0f requests/s (burst %.0f) from port %d" % (rate, burst, addr[1]))
            return False
        self.buckets[addr] = (tokens - 1, now)
        return True

    def auth_failed(self, ip, user, why):
        now = self.clock()
        lst = [t for t in self.failures[ip] if now - t < 60] + [now]
        self.failures[ip] = lst
        self.counters["auth_failures"] += 1
        log.warning("sip: authentication of %r from %s failed (%s)", user, ip, why)
        if len(lst) >= AUTH_FAILURES_BLOCK:
            self._block(ip, now, "%d failed authentications in a minute" % len(lst))

    def authenticate(self, req, dest):
        """Digest-check a request from a phone. Returns the seat, or None after answering."""
        result, user = self.auth.check(req.method, req.get("Authorization"),
                                       lambda u: getattr(self.seats.get(u), "secret", None))
        if result in ("missing", "stale", "bad-nonce"):
            self.respond(req, dest, 401, to_tag=new_token(4),
                         extra=[("WWW-Authenticate", self.auth.challenge(stale=result == "stale"))])
            return None
        if result == "malformed":
            self.respond(req, dest, 400, "Bad Authorization header")
            return None
        if result != "ok":
            self.auth_failed(dest.addr[0], user, result)
            self.respond(req, dest, 403, "Wrong user name or password", to_tag=new_token(4))
            return None
        return self.seats[user]

    # -- dispatch --------------------------------------------------------------------------
    def _message(self, data, dest, stream):
        now = self.clock()
        if self._blocked(dest.addr[0], now):
            return
        try:
            msg = sipmsg.parse(data, stream=stream)
        except SipParseError as e:
            self.counters["bad"] += 1
            log.warning("sip: malformed message from %s (%s); %s", dest, e,
                        "answered %d" % e.code if self._reply_bad(data, dest, e) else "dropped")
            return
        if msg.is_request:
            if not self._rate_ok(dest.addr, now):
                return
            self._request(msg, dest, now)
        else:
            self._response(msg, dest)

    def _reply_bad(self, data, dest, err):
        """Answer a malformed request when the headers a response needs can be found."""
        try:
            text = data[:sipmsg.MAX_MESSAGE].decode("utf-8", "replace")
        except Exception:
            return False
        first, _, rest = text.partition("\r\n")
        if first.startswith("SIP/") or not first.split(" ")[0].isupper():
            return False
        fake = Message(method=first.split(" ")[0], uri="sip:x")
        for ln in rest.split("\r\n"):
            if not ln:
                break
            name, sep, value = ln.partition(":")
            if sep and name.strip():
                fake.headers.append((sipmsg.canon(name), value.strip()))
        if not all(fake.get(h) for h in ("Via", "From", "To", "Call-ID", "CSeq")):
            return False
        if fake.method == "ACK":
            return False
        resp = sipmsg.response_to(fake, err.code, sipmsg.REASONS.get(err.code))
        resp.add("Warning", '399 callbox "%s"' % str(err).replace('"', "'")[:120])
        self.send(resp, dest)
        return True

    def _request(self, req, dest, now):
        try:
            branch = req.branch
        except SipParseError:
            self.counters["bad"] += 1
            return
        key = (branch, "INVITE" if req.method == "ACK" else req.method)
        cached = self.st.get(key)
        if req.method == "ACK":
            if cached is not None and cached["status"] >= 300:
                return  # ACK of our non-2xx answer: the transaction is over
        elif cached is not None:
            self.counters["retransmissions"] += 1
            self.send(cached["data"], dest)
            return
        if req.method == "CANCEL":
            self._cancel(req, dest)
            return
        to_tag = sipmsg.tag_of(req.get("To"))
        if to_tag:
            seat = self.dialogs.get(req.call_id)
            if seat is None:
                if req.method != "ACK":
                    self.respond(req, dest, 481)
                return
            seat.on_dialog_request(req, dest)
            return
        if req.method == "REGISTER":
            self._register(req, dest, now)
        elif req.method == "OPTIONS":
            self.respond(req, dest, 200, to_tag=new_token(4), extra=[("Allow", ALLOW), ("Accept", "application/sdp")])
        elif req.method == "INVITE":
            seat = self.authenticate(req, dest)
            if seat is not None:
                seat.on_invite(req, dest)
        elif req.method == "ACK":
            return
        elif req.method == "SUBSCRIBE":
            self.respond(req, dest, 489, "Bad Event", to_tag=new_token(4))
        else:
            self.respond(req, dest, 405, to_tag=new_token(4), extra=[("Allow", ALLOW)])

    def _cancel(self, req, dest):
        inv = self.st.get((req.branch, "INVITE"))
        seat = self.dialogs.get(req.call_id)
        if seat is None or inv is None:
            self.respond(req, dest, 481)
            return
        self.respond(req, dest, 200)
        if inv["status"] < 200:
            seat.on_cancel(req, dest)

    def _register(self, req, dest, now):
        seat = self.authenticate(req, dest)
        if seat is None:
            return
        to_user = sipmsg.parse_uri(sipmsg.parse_addr(req.get("To"))[1])["user"]
        if to_user != seat.user:
            self.auth_failed(dest.addr[0], seat.user, "registering %r with %r's credentials" % (to_user, seat.user))
            self.respond(req, dest, 403, "Credentials are for another seat", to_tag=new_token(4))
            return
        contacts = req.get_all("Contact")
        hdr_exp = req.get("Expires")
        if hdr_exp is not None and not hdr_exp.strip().isdigit():
            self.respond(req, dest, 400, "Bad Expires")
            return
        if not contacts:
            b = seat.binding
            extra = [("Contact", "<%s>;expires=%d" % (b.contact, max(0, int(b.expires_at - now))))] if b else []
            self.respond(req, dest, 200, to_tag=new_token(4), extra=extra)
            return
        if contacts == ["*"]:
            if hdr_exp is None or int(hdr_exp) != 0:
                self.respond(req, dest, 400, "Contact * needs Expires: 0")
                return
            seat.unregister("the phone removed its registration")
            self.respond(req, dest, 200, to_tag=new_token(4))
            return
        _, uri, params = sipmsg.parse_addr(contacts[0])
        sipmsg.parse_uri(uri)
        exp = params.get("expires", hdr_exp if hdr_exp is not None else "3600")
        if not str(exp).isdigit():
            self.respond(req, dest, 400, "Bad expires parameter")
            return
        exp = int(exp)
        if exp == 0:
            seat.unregister("the phone removed its registration")
            self.respond(req, dest, 200, to_tag=new_token(4))
            return
        if exp < self.min_expires:
            self.respond(req, dest, 423, to_tag=new_token(4), extra=[("Min-Expires", str(self.min_expires))])
            return
        exp = min(exp, self.max_expires)
        seat.register(Binding(uri, dest, now + exp, req.get("User-Agent", "")))
        self.respond(req, dest, 200, to_tag=new_token(4),
                     extra=[("Contact", "<%s>;expires=%d" % (uri, exp)),
                            ("Date", time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()))])

    def _response(self, resp, dest):
        try:
            branch = resp.branch
        except SipParseError:
            self.counters["bad"] += 1
            return
        txn = self.ct.get((branch, resp.cseq[1]))
        if txn is None:
            self.counters["stray_responses"] += 1
            return
        if resp.status < 200:
            if txn.final is None:
                txn.provisional = True
                txn.cb(resp)
            return
        first = txn.final is None
        txn.final = self.clock()
        if txn.method == "INVITE" and resp.status >= 300:
            self.ack_for(txn, resp)
            if not first:
                return
        if first or (txn.method == "INVITE" and resp.status < 300):
            txn.cb(resp)

    # -- timers ----------------------------------------------------------------------------
    def _timers(self, now):
        for txn in list(self.ct.values()):
            if txn.final is not None:
                if now - txn.final > TXN_TIMEOUT:
                    del self.ct[(txn.branch, txn.method)]
                continue
            if now - txn.start >= txn.timeout:
                del self.ct[(txn.branch, txn.method)]
                txn.cb(None)
                continue
            if txn.dest.kind == "udp" and now >= txn.next_t and not (txn.method == "INVITE" and txn.provisional):
                self.counters["retransmitted"] += 1
                self.send(txn.data, txn.dest)
                txn.interval = txn.interval * 2 if txn.method == "INVITE" else min(txn.interval * 2, T2)
                txn.next_t = now + txn.interval
        if now < self._next_housekeeping:
            return
        self._next_housekeeping = now + 0.5
        for k in [k for k, v in self.st.items() if v["until"] < now]:
            del self.st[k]
        for addr in [a for a, (t, last) in self.buckets.items() if now - last > 60]:
            del self.buckets[addr]
        for ip in [ip for ip, lst in self.failures.items() if not lst or now - lst[-1] > 60]:
            del self.failures[ip]
        for seat in list(self.seats.values()):
            seat.housekeeping(now)
        for conn in list(self.conns):
            if now - conn.last > 3600 and not any(getattr(s.binding, "dest", None) and s.binding.dest.conn is conn
                                                  for s in self.seats.values()):
                self._drop(conn, "idle for an hour")

    def status(self):
        return {"udp": self.port, "tcp": self.port if self.tcp else None, "tls": self.tls_port if self.tls else None,
                "realm": self.realm, "blocked": sorted(self.blocked), "counters": dict(self.counters)}


_shared = {"stack": None, "config": {}}


def configure(**config):
    """Set the shared stack's options (before the first SIP seat opens)."""
    if _shared["stack"] is not None:
        raise RuntimeError("the SIP stack is already running")
    _shared["config"] = dict(config)


def shared():
    """The media daemon's SIP stack, opened on first use."""
    if _shared["stack"] is None:
        _shared["stack"] = SipStack(**_shared["config"]).open()
    return _shared["stack"]


def release():
    """Close the shared stack once no seat uses it."""
    st = _shared["stack"]
    if st is not None and not st.seats:
        st.close()
        _shared["stack"] = None
