"""A SIP phone as an agent's seat: the ``sip://<user>`` seat backend.

It implements the seat port interface of docs/hardware.md on top of the shared
:class:`callbox.sip.stack.SipStack`, so call control and the media engine treat a SIP
phone exactly like a simulated one:

===========================================  ===========================================
engine / call control                         SIP
===========================================  ===========================================
``{"plug": True/False}``                      registered and answering keep-alives / not
``send_control({"ring": True, ...})``         INVITE to the registered contact
``{"hook": "off"}``                           200 OK to that INVITE (ACK sent)
``send_control({"ring": False})`` (unanswered) CANCEL
``send_control({"hangup": True})``            BYE (or CANCEL while ringing)
``{"hook": "on"}``                            BYE from the phone
``{"key": "hold"/"unhold"}``                  re-INVITE with sendonly/inactive / sendrecv
``{"key": "transfer", "target": ...}``        REFER (Refer-To user ``queue.<name>``, ``ivr.<flow>``,
                                             ``agent.<login>`` or a number: an agent or outside)
``{"key": "login"/"ready"/...}``              INVITE to a feature code (below)
``{"dial": "<number>"}``                      INVITE to a number: answered at once, an internal
                                             call routed like a trunk call's DNIS (IVR, queue)
read_audio / write_audio                      RTP (PCMA or PCMU, 20 ms), RFC 4733 → in-band
===========================================  ===========================================

Feature codes (dialled from the phone): ``*11<agent>`` sign in and ready, ``*12`` ready,
``*13`` not ready, ``*14`` sign out, ``*15`` end after-call work. Call control's answer
decides the SIP answer: accepted → 200 OK, a short confirmation tone, BYE; refused →
403 with the reason in a Warning header (phones show it). Anything else dialled gets
404 with the list of codes.
"""
import logging
import re

from callbox import dsp
from callbox.errors import LineInitError
from callbox.hw import parse_url
from callbox.sip import message as sipmsg
from callbox.sip import stack as sipstack
from callbox.sip.message import Message, SipParseError
from callbox.sip.rtp import RtpStream
from callbox.sip.srtp import SrtpContext, new_crypto, parse_crypto
from callbox.sip.stack import ALLOW, T1, T2, TXN_TIMEOUT, USER_AGENT, new_branch, new_token

log = logging.getLogger("callbox.sip")
USER_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
FEATURES = {"*12": {"key": "ready"}, "*13": {"key": "not-ready", "reason": "break"}, "*14": {"key": "logout"},
            "*15": {"key": "end-acw"}}
FEATURE_HELP = "*11<agent> sign in, *12 ready, *13 not ready, *14 sign out, *15 end after-call work"
DIAL_RE = re.compile(r"^\+?[0-9][0-9*#]{0,31}$")
FEATURE_REPLY_S = 2.0
CONFIRM_S = 0.6
KEEPALIVE_MISSES = 2
OPTIONS_TIMEOUT_S = 8.0
_CONFIRM = {}


def _confirm_blocks():
    """0.6 s of confirmation tone (two 1000 Hz beeps) as 160-octet A-law blocks."""
    if "blocks" not in _CONFIRM:
        import array
        gen = dsp.ToneGeneratorBank(1)
        gen.play_tone(0, 1000.0, 0.0, -13.0, cadence=[(200, 100), (200, 100)], repeat=False)
        pcm = array.array("h", bytes(2 * 4800))
        gen.generate(pcm, 4800)
        gen.close()
        alaw = bytes(dsp.linear_to_alaw(pcm))
        _CONFIRM["blocks"] = [alaw[i:i + 160] for i in range(0, 4800, 160)]
    return _CONFIRM["blocks"]


class Call:
    """One SIP dialog of the seat (the box is UAC for queue calls, UAS for feature codes)."""

    def __init__(self, call_id, local_tag, role):
        self.call_id, self.local_tag, self.role = call_id, local_tag, role
        self.remote_tag = ""
        self.remote_target = None
        self.local_uri = self.remote_uri = None
        self.cseq = 1
        self.state = "calling"
        self.invite = None
        self.invite_txn = None
        self.dest = None
        self.held = False
        self.ok = None
        self.ok_next = 0.0
        self.ok_interval = T1
        self.ok_until = 0.0
        self.sdp_version = 0
        self.local_crypto = None     # (a=crypto value, key, salt, suite) when the call is SRTP
        self.remote_crypto = None
        self.ring_info = {}


class SipSeatPort:
    """Args:
        url (str): ``sip://<user>`` (the SIP user name the phone registers as).
        secret (str): the seat's stored digest secret (``md5:<HA1>``), set in the web UI.
        stack (SipStack or None): defaults to the media daemon's shared stack.
        sim_dir: ignored (seat backends share one signature).
    """

    def __init__(self, url, sim_dir=None, secret="", stack=None):
        scheme, host, path, opts = parse_url(url)
        if scheme != "sip" or not USER_RE.match(host or "") or path not in ("", "/") or \
                set(opts) - {"srtp"} or opts.get("srtp", "auto") not in ("auto", "off"):
            raise LineInitError("Opening seat %s: expected sip://<user> (1-32 of A-Z a-z 0-9 _ . -), option "
                                "srtp=auto|off" % url)
        self.srtp_mode = opts.get("srtp", "auto")
        self.srtp_refused = False
        self.url, self.user = url, host
        self.secret = secret or ""
        self._stack = stack
        self.stack = None
        self.binding = None
        self.plugged = False
        self.call = None
        self.feature = None
        self.rtp = None
        self._events = []
        self.confirm = None
        self.next_options = 0.0
        self.options_pending = False

    def __str__(self):
        b = self.binding
        return "SipSeatPort(url=%s, registered=%s, contact=%s, via=%s, call=%s)" % (
            self.url, b is not None, b.contact if b else "-", b.dest if b else "-",
            self.call.state if self.call else "-")

    @property
    def connected(self):
        return self.plugged

    def open(self):
        if not self.secret:
            log.warning("seat %s has no SIP password: it cannot register until one is set", self.url)
        self.stack = self._stack or sipstack.shared()
        self.stack.attach(self)
        want = self.stack.rtp_port()
        try:
            self.rtp = RtpStream(self.stack.rtp_host, want, clock=self.stack.clock)
        except OSError as e:
            log.warning("seat %s: RTP port %d not free (%s); using any port", self.user, want, e.strerror)
            self.rtp = RtpStream(self.stack.rtp_host, 0, clock=self.stack.clock)
        return self

    def close(self):
        if self.call is not None:
            self._hang_up("the seat port closed")
        if self.rtp is not None:
            self.rtp.close()
        if self.stack is not None:
            self.stack.detach(self)
            if self._stack is None:
                sipstack.release()
            self.stack = None

    # -- engine side -----------------------------------------------------------------------
    def poll(self):
        self.stack.pump()
        now = self.stack.clock()
        for digit in self.rtp.pump():
            log.debug("seat %s: telephone-event %s", self.user, digit)
        if self.feature is not None and now >= self.feature["deadline"]:
            self._feature_done(False, "call control did not answer")
        c = self.call
        if c is not None and c.ok is not None and now >= c.ok_next:
            if now >= c.ok_until:
                log.warning("seat %s: no ACK for our 200 OK; hanging up", self.user)
                c.ok = None
                self._hang_up("no ACK")
            elif c.dest.kind == "udp":
                self.stack.send(c.ok, c.dest)
                c.ok_interval = min(c.ok_interval * 2, T2)
                c.ok_next = now + c.ok_interval
        ev, self._events = self._events, []
        return ev

    def read_audio(self):
        if self.call is None or self.call.state != "connected" or self.confirm is not None:
            return None
        return self.rtp.read()

    def write_audio(self, data):
        if self.call is None or self.call.state != "connected":
            return
        if self.confirm is not None:
            blocks = _confirm_blocks()
            if self.confirm < len(blocks):
                self.rtp.write(blocks[self.confirm])
                self.confirm += 1
                return
            self.confirm = None
            self._hang_up("feature code done")
            return
        if not self.call.held:
            self.rtp.write(data)

    def send_control(self, msg):
        if not isinstance(msg, dict):
            return
        if msg.get("ring") is True:
            self._ring(msg)
        elif msg.get("hangup"):
            if self.call is not None and self.call.state != "feature":
                self._hang_up("call control hung up")
        elif msg.get("ring") is False:
            c = self.call
            if c is not None and c.role == "uac" and c.state in ("calling", "ringing"):
                self._cancel()
        if self.feature is not None:
            if "error" in msg:
                self._feature_done(False, str(msg["error"]))
            elif "agent_state" in msg:
                self._feature_done(True, "")

    # -- registration ----------------------------------------------------------------------
    def register(self, binding):
        fresh = self.binding is None or self.binding.contact != binding.contact or \
            self.binding.dest.addr != binding.dest.addr
        self.binding = binding
        self.next_options = self.stack.clock() + self.stack.options_every_s
        if fresh:
            log.info("seat %s registered from %s (%s) as %s", self.user, binding.dest, binding.user_agent or "?",
                     binding.contact)
        self._set_plugged(True)

    def unregister(self, why):
        if self.binding is not None:
            log.info("seat %s unregistered: %s", self.user, why)
        self.binding = None
        self._set_plugged(False)

    def _set_plugged(self, on):
        if on != self.plugged:
            self.plugged = on
            self._events.append({"plug": on})

    def connection_lost(self, conn):
        if self.binding is not None and self.binding.dest.conn is conn:
            self.unregister("its %s connection closed" % conn.kind)

    def housekeeping(self, now):
        b = self.binding
        if b is None:
            return
        if now >= b.expires_at:
            self.unregister("registration expired")
            return
        if now >= self.next_options and not self.options_pending and self.call is None:
            self.next_options = now + self.stack.options_every_s
            self._options()

    def _options(self):
        b = self.binding
        req = self._new_request("OPTIONS", b.contact, b.dest, new_token(), new_token(4), "<sip:%s@%s>" % (
            self.user, self.stack.local_ip(b.dest)), 1)
        self.options_pending = True
        self.stack.request(req, b.dest, self._options_answer, timeout=OPTIONS_TIMEOUT_S)

    def _options_answer(self, resp):
        if resp is not None and resp.status < 200:
            return
        self.options_pending = False
        b = self.binding
        if b is None:
            return
        if resp is None:
            b.missed += 1
            log.warning("seat %s: no answer to keep-alive %d of %d", self.user, b.missed, KEEPALIVE_MISSES)
            if b.missed >= KEEPALIVE_MISSES and self.plugged:
                log.warning("seat %s is unreachable; its agent is skipped until it answers", self.user)
                self._set_plugged(False)
        else:
            b.missed = 0
            self._set_plugged(True)

    # -- building requests -----------------------------------------------------------------
    def _new_request(self, method, uri, dest, call_id, from_tag, to, cseq, from_user="callbox", display=""):
        req = Message(method=method, uri=uri)
        req.add("Via", self.stack.via(dest, new_branch()))
        req.add("Max-Forwards", "70")
        disp = '"%s" ' % display.replace('"', "") if display else ""
        req.add("From", "%s<sip:%s@%s>;tag=%s" % (disp, from_user, self.stack.local_ip(dest), from_tag))
        req.add("To", to)
        req.add("Call-ID", call_id)
        req.add("CSeq", "%d %s" % (cseq, method))
        req.add("User-Agent", USER_AGENT)
        return req

    def _in_dialog(self, method):
        c = self.call
        c.cseq += 1
        req = Message(method=method, uri=c.remote_target)
        req.add("Via", self.stack.via(c.dest, new_branch()))
        req.add("Max-Forwards", "70")
        req.add("From", c.local_uri)
        req.add("To", c.remote_uri)
        req.add("Call-ID", c.call_id)
        req.add("CSeq", "%d %s" % (c.cseq, method))
        req.add("User-Agent", USER_AGENT)
        return req

    def _sdp(self, pts, direction="sendrecv"):
        c = self.call
        c.sdp_version += 1
        ip = self.stack.local_ip(c.dest)
        return sipmsg.build_sdp(ip, self.rtp.port, abs(hash(c.call_id)) % 10 ** 9, c.sdp_version, pts,
                                101, direction, crypto=c.local_crypto[0] if c.local_crypto else None)

    def _srtp_pair(self, remote_attr):
        """SRTP contexts (send, receive) from our key and the phone's a=crypto; ValueError."""
        tag, suite, key, salt = parse_crypto(remote_attr)
        mine = self.call.local_crypto
        return SrtpContext(mine[1], mine[2], mine[3]), SrtpContext(key, salt, suite)

    # -- queue calls (the box calls the phone) ---------------------------------------------
    def _ring(self, info):
        b = self.binding
        if b is None or not self.plugged:
            log.warning("seat %s offered a call but is not reachable; not rung", self.user)
            return
        if self.call is not None or self.feature is not None:
            log.warning("seat %s offered a call while busy with another; not rung", self.user)
            return
        c = self.call = Call(new_token(12) + "@callbox", new_token(4), "uac")
        c.dest = b.dest
        ani = str(info.get("ani") or "anonymous")
        queue = str(info.get("queue") or "")
        ani_user = ani if USER_RE.match(ani) else "anonymous"
        req = self._new_request("INVITE", b.contact, b.dest, c.call_id, c.local_tag,
                                "<sip:%s@%s>" % (self.user, self.stack.local_ip(b.dest)), c.cseq,
                                from_user=ani_user, display=("%s (%s)" % (ani, queue)) if queue else ani)
        req.add("Contact", self.stack.contact(b.dest))
        req.add("Allow", ALLOW)
        if info.get("call_id"):
            req.add("X-CallBox-Call", str(info["call_id"]))
        if queue:
            req.add("X-CallBox-Queue", queue)
        req.add("Content-Type", "application/sdp")
        if b.dest.kind == "tls" and self.srtp_mode == "auto" and not self.srtp_refused:
            attr, key, salt = new_crypto(1)
            c.local_crypto = (attr, key, salt, "AES_CM_128_HMAC_SHA1_80")
        req.body = self._sdp([8, 0])
        c.invite = req
        c.ring_info = dict(info)
        c.local_uri, c.remote_uri = req.get("From"), req.get("To")
        self.stack.dialogs[c.call_id] = self
        c.invite_txn = self.stack.request(req, b.dest, self._invite_answer)
        log.info("seat %s: ringing for call %s", self.user, info.get("call_id"))

    def _invite_answer(self, resp):
        c = self.call
        if c is None or c.invite_txn is None or (resp is not None and resp.call_id != c.call_id):
            if resp is not None and 200 <= resp.status < 300:
                self._ack_and_bye_stray(resp)
            return
        if resp is None:
            log.warning("seat %s: no answer to INVITE; call dropped", self.user)
            self._end_call(hook=False)
            return
        if resp.status < 200:
            if resp.status in (180, 183):
                c.state = "ringing" if c.state == "calling" else c.state
            return
        if resp.status >= 300:
            log.info("seat %s: the phone answered %d %s", self.user, resp.status, resp.reason)
            retry = resp.status == 488 and c.local_crypto is not None
            self._end_call(hook=False)
            if retry:
                log.info("seat %s: the phone refused SRTP; ringing again with plain RTP", self.user)
                self.srtp_refused = True
                self._ring(c.ring_info)
            return
        # 2xx (the first or a retransmission)
        c.remote_tag = sipmsg.tag_of(resp.get("To"))
        c.remote_uri = resp.get("To")
        contact = resp.get_all("Contact")
        if contact:
            c.remote_target = sipmsg.parse_addr(contact[0])[1]
        c.remote_target = c.remote_target or c.invite.uri
        self._send_ack()
        if c.state == "connected":
            return
        cancelled = c.state == "cancelling"
        c.state = "answered"
        if cancelled:
            self._hang_up("answered after we cancelled")
            return
        try:
            sdp = sipmsg.parse_sdp(resp.body)
        except SipParseError as e:
            log.warning("seat %s answered without usable SDP (%s); hanging up", self.user, e)
            self._hang_up("bad SDP")
            return
        pt = next((p for p in sdp["pts"] if p in (8, 0)), None)
        if pt is None:
            log.warning("seat %s answered with no G.711 codec (%s); hanging up", self.user, sdp["codecs"])
            self._hang_up("no common codec")
            return
        srtp = None
        if c.local_crypto is not None:
            mine = [a for a in sdp["crypto"] if a.split()[0] == "1"]
            try:
                if not mine:
                    raise ValueError("no a=crypto answering ours")
                srtp = self._srtp_pair(mine[0])
            except ValueError as e:
                log.warning("seat %s answered our SRTP offer without usable keys (%s); hanging up", self.user, e)
                self._hang_up("no SRTP keys")
                return
        self.rtp.start(sdp["ip"], sdp["port"], pt, sdp["events_pt"], allowed_ips=(c.dest.addr[0],), srtp=srtp)
        c.state = "connected"
        log.info("seat %s answered (%s, RTP to %s:%d)", self.user, "PCMA" if pt == 8 else "PCMU", sdp["ip"],
                 sdp["port"])
        self._events.append({"hook": "off"})

    def _send_ack(self):
        c = self.call
        ack = Message(method="ACK", uri=c.remote_target)
        ack.add("Via", self.stack.via(c.dest, new_branch()))
        ack.add("Max-Forwards", "70")
        ack.add("From", c.local_uri)
        ack.add("To", c.remote_uri)
        ack.add("Call-ID", c.call_id)
        ack.add("CSeq", "%d ACK" % c.invite.cseq[0])
        self.stack.send(ack, c.dest)

    def _ack_and_bye_stray(self, resp):
        log.info("seat %s: late 200 OK for an old call; acknowledged and hung up", self.user)
        uri = sipmsg.parse_addr((resp.get_all("Contact") or ["<%s>" % self.binding.contact])[0])[1] \
            if self.binding else None
        if uri is None:
            return
        dest = self.binding.dest
        for method, n in (("ACK", resp.cseq[0]), ("BYE", resp.cseq[0] + 1)):
            req = Message(method=method, uri=uri)
            req.add("Via", self.stack.via(dest, new_branch()))
            req.add("Max-Forwards", "70")
            req.add("From", resp.get("From"))
            req.add("To", resp.get("To"))
            req.add("Call-ID", resp.call_id)
            req.add("CSeq", "%d %s" % (n, method))
            if method == "ACK":
                self.stack.send(req, dest)
            else:
                self.stack.request(req, dest, lambda r: None)

    def _cancel(self):
        c = self.call
        inv = c.invite
        req = Message(method="CANCEL", uri=inv.uri)
        req.add("Via", inv.get("Via"))
        req.add("Max-Forwards", "70")
        req.add("From", inv.get("From"))
        req.add("To", inv.get("To"))
        req.add("Call-ID", inv.call_id)
        req.add("CSeq", "%d CANCEL" % inv.cseq[0])
        c.state = "cancelling"
        self.stack.request(req, c.dest, lambda r: None)

    def _hang_up(self, why):
        c = self.call
        if c is None:
            return
        if c.role == "uac" and c.state in ("calling", "ringing"):
            self._cancel()
            return
        if c.state in ("connected", "answered") and c.remote_tag:
            bye = self._in_dialog("BYE")
            self.stack.request(bye, c.dest, lambda r: None)
            log.info("seat %s: BYE sent (%s)", self.user, why)
        self._end_call(hook=c.state == "connected" and why != "feature code done")

    def _end_call(self, hook):
        c = self.call
        if c is None:
            return
        self.rtp.stop()
        self.stack.dialogs.pop(c.call_id, None)
        self.call = None
        self.confirm = None
        if hook:
            self._events.append({"hook": "on"})

    # -- requests from the phone -----------------------------------------------------------
    def on_invite(self, req, dest):
        """A new INVITE from the phone (already authenticated): a feature code."""
        user = sipmsg.parse_uri(req.uri)["user"]
        if user.startswith("*11") and len(user) > 3:
            ev = {"key": "login", "agent": user[3:], "ready": True}
        elif user in FEATURES:
            ev = dict(FEATURES[user])
        elif DIAL_RE.match(user):
            ev = {"dial": user}
        else:
            self.stack.respond(req, dest, 404, "Not a number or feature code", to_tag=new_token(4),
                               extra=[("Warning", '399 callbox "dial a number or %s"' % FEATURE_HELP)])
            return
        if self.call is not None or self.feature is not None:
            self.stack.respond(req, dest, 486, to_tag=new_token(4))
            return
        try:
            offer = sipmsg.parse_sdp(req.body) if req.body else None
        except SipParseError as e:
            self.stack.respond(req, dest, e.code, str(e)[:60], to_tag=new_token(4))
            return
        if offer is not None and not any(p in (8, 0) for p in offer["pts"]):
            self.stack.respond(req, dest, 488, "Only G.711 (PCMA, PCMU) is supported", to_tag=new_token(4),
                               extra=[("Warning", '305 callbox "offer PCMA or PCMU"')])
            return
        remote_crypto = None
        if offer is not None and (offer["crypto"] or offer["proto"].endswith("SAVP")):
            why = None
            if dest.kind != "tls":
                why = "SRTP keys (SDES) only over SIP over TLS"
            elif self.srtp_mode == "off":
                why = "SRTP is off for this seat"
            else:
                for attr in offer["crypto"]:
                    try:
                        parse_crypto(attr)
                        remote_crypto = attr
                        break
                    except ValueError as e:
                        why = str(e)
                why = None if remote_crypto else (why or "no a=crypto in an RTP/SAVP offer")
            if why and offer["proto"].endswith("SAVP"):
                self.stack.respond(req, dest, 488, "SRTP not acceptable", to_tag=new_token(4),
                                   extra=[("Warning", '305 callbox "%s"' % why)])
                return
        c = self.call = Call(req.call_id, new_token(4), "uas")
        if remote_crypto is not None:
            tag, suite, _, _ = parse_crypto(remote_crypto)
            attr, key, salt = new_crypto(tag, suite)
            c.local_crypto = (attr, key, salt, suite)
            c.remote_crypto = remote_crypto
        c.dest, c.invite, c.state = dest, req, "feature"
        self.stack.dialogs[c.call_id] = self
        if "dial" in ev:
            # an internal call: answered at once, then routed by call control like a trunk call
            self.feature = {"req": req, "dest": dest, "offer": offer, "key": "dial"}
            log.info("seat %s dialled %s", self.user, user)
            self._feature_done(True, "")
            self._events.append(ev)
            return
        self.feature = {"req": req, "dest": dest, "offer": offer, "key": ev["key"],
                        "deadline": self.stack.clock() + FEATURE_REPLY_S}
        self.stack.respond(req, dest, 100)
        log.info("seat %s dialled feature %s (%s)", self.user, user, ev["key"])
        self._events.append(ev)

    def _feature_done(self, ok, why):
        f, self.feature = self.feature, None
        c = self.call
        if c is None or c.state != "feature":
            return
        req, dest = f["req"], f["dest"]
        if not ok:
            log.info("seat %s: feature %s refused: %s", self.user, f["key"], why)
            self.stack.respond(req, dest, 403, "Refused", to_tag=c.local_tag,
                               extra=[("Warning", '399 callbox "%s"' % why.replace('"', "'")[:120])])
            self._end_call(hook=False)
            return
        offer = f["offer"]
        pt = next((p for p in offer["pts"] if p in (8, 0)), 8) if offer else 8
        contact = req.get_all("Contact")
        c.remote_target = sipmsg.parse_addr(contact[0])[1] if contact else req.uri
        c.remote_uri = req.get("From")
        c.remote_tag = sipmsg.tag_of(req.get("From"))
        resp = self.stack.respond(req, dest, 200, to_tag=c.local_tag, body=self._sdp([pt]),
                                  extra=[("Contact", self.stack.contact(dest)), ("Allow", ALLOW)])
        c.local_uri = resp.get("To")
        c.ok = resp
        now = self.stack.clock()
        c.ok_next, c.ok_interval, c.ok_until = now + T1, T1, now + TXN_TIMEOUT
        c.state = "connected"
        if offer is not None:
            srtp = self._srtp_pair(c.remote_crypto) if c.local_crypto else None
            self.rtp.start(offer["ip"], offer["port"], pt, offer["events_pt"], allowed_ips=(dest.addr[0],),
                           srtp=srtp)
        if f["key"] != "dial":
            self.confirm = 0

    def on_cancel(self, req, dest):
        c = self.call
        if c is not None and c.state == "feature":
            f, self.feature = self.feature, None
            self.stack.respond(f["req"], f["dest"], 487, to_tag=c.local_tag)
            self._end_call(hook=False)

    def on_dialog_request(self, req, dest):
        c = self.call
        if c is None or req.call_id != c.call_id:
            if req.method != "ACK":
                self.stack.respond(req, dest, 481)
            return
        m = req.method
        if m == "ACK":
            c.ok = None
            return
        if m == "BYE":
            self.stack.respond(req, dest, 200)
            was_call = c.state == "connected" and self.confirm is None
            log.info("seat %s hung up", self.user)
            self._end_call(hook=was_call)
            return
        if m == "INVITE":
            self._reinvite(req, dest)
        elif m == "REFER":
            self._refer(req, dest)
        elif m == "INFO":
            self._info(req, dest)
        elif m in ("OPTIONS", "NOTIFY"):
            self.stack.respond(req, dest, 200)
        else:
            self.stack.respond(req, dest, 405, extra=[("Allow", ALLOW)])

    def _reinvite(self, req, dest):
        c = self.call
        try:
            sdp = sipmsg.parse_sdp(req.body) if req.body else None
        except SipParseError as e:
            self.stack.respond(req, dest, e.code, str(e)[:60])
            return
        if sdp is not None and not any(p in (8, 0) for p in sdp["pts"]):
            self.stack.respond(req, dest, 488, "Only G.711 (PCMA, PCMU) is supported")
            return
        direction = sdp["direction"] if sdp else "sendrecv"
        answer_dir = {"sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}.get(direction,
                                                                                                  "sendrecv")
        pt = self.rtp.pt if self.rtp.active else 8
        resp = self.stack.respond(req, dest, 200, to_tag=c.local_tag if c.role == "uas" else None,
                                  body=self._sdp([pt], answer_dir), extra=[("Contact", self.stack.contact(dest))])
        c.ok = resp
        now = self.stack.clock()
        c.ok_next, c.ok_interval, c.ok_until = now + T1, T1, now + TXN_TIMEOUT
        if sdp is not None and (sdp["ip"], sdp["port"]) != self.rtp.remote and sdp["ip"] != "0.0.0.0":
            self.rtp.start(sdp["ip"], sdp["port"], pt, sdp["events_pt"], allowed_ips=(dest.addr[0],),
                           srtp=self.rtp.srtp)
        hold = direction in ("sendonly", "inactive")
        if hold != c.held and c.role == "uac":
            c.held = hold
            self._events.append({"key": "hold" if hold else "unhold"})

    def _refer(self, req, dest):
        c = self.call
        refer_to = req.get("Refer-To")
        try:
            target = sipmsg.parse_uri(sipmsg.parse_addr(refer_to or "")[1])["user"]
        except SipParseError:
            target = ""
        kind, _, name = target.partition(".")
        if DIAL_RE.match(target):
            kind, name = "number", target          # an agent's login or an outside number
        if c.role != "uac" or kind not in ("queue", "ivr", "agent", "number") or not name:
            self.stack.respond(req, dest, 403, "Transfer to an agent or a number, queue.<name>, agent.<login> "
                                               "or ivr.<flow>")
            return
        self.stack.respond(req, dest, 202)
        notify = self._in_dialog("NOTIFY")
        notify.add("Event", "refer")
        notify.add("Subscription-State", "terminated;reason=noresource")
        notify.add("Content-Type", "message/sipfrag;version=2.0")
        notify.body = b"SIP/2.0 200 OK\r\n"
        self.stack.request(notify, c.dest, lambda r: None)
        self._events.append({"key": "transfer", "target": "%s:%s" % (kind, name)})

    def _info(self, req, dest):
        ctype = (req.get("Content-Type") or "").lower()
        if "dtmf" in ctype:
            m = re.search(rb"Signal\s*=\s*([0-9*#A-Da-d])", req.body) or re.match(rb"^\s*([0-9*#A-Da-d])\s*$",
                                                                                 req.body)
            if m:
                self.rtp.inject_digit(m.group(1).decode().upper())
                self.stack.respond(req, dest, 200)
                return
        self.stack.respond(req, dest, 415, extra=[("Accept", "application/dtmf-relay, application/dtmf")])
