"""The SIP seat stack against a scripted phone on loopback: parsing, digest, registrar,
calls both ways, RTP and its jitter buffer, and bad input (malformed messages, wrong
passwords, floods, foreign RTP, unsupported codecs).

The phone here is a few lines of test code speaking SIP over a UDP socket; the
interop test with a real softphone is tests/interop/test_baresip.py.
"""
import array
import shutil
import socket
import struct
import time

import pytest

from callbox import dsp
from callbox.sip import message as sipmsg
from callbox.sip.digest import DigestAuth, authorization, ha1_for
from callbox.sip.message import Message, SipParseError
from callbox.sip.rtp import RtpStream
from callbox.sip.seat import SipSeatPort
from callbox.sip.stack import SipStack, new_branch, new_token

pytestmark = pytest.mark.args
PASSWORD = "seat-pass-1003"


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def reg_text(user, port, cseq=1, call_id="reg1", auth=None, expires=600, contact=None):
    lines = ["REGISTER sip:127.0.0.1 SIP/2.0",
             "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport" % (port, new_branch()),
             "Max-Forwards: 70", "From: <sip:%s@127.0.0.1>;tag=ft1" % user, "To: <sip:%s@127.0.0.1>" % user,
             "Call-ID: %s" % call_id, "CSeq: %d REGISTER" % cseq,
             "Contact: %s" % (contact or "<sip:%s@127.0.0.1:%d>" % (user, port)), "Expires: %d" % expires,
             "User-Agent: testphone"]
    if auth:
        lines.append("Authorization: " + auth)
    return ("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode()


class Phone:
    """A scripted SIP phone on a loopback UDP socket."""

    def __init__(self, stack, ports, user="1003", password=PASSWORD):
        self.stack, self.ports = stack, ports
        self.user, self.password = user, password
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind(("127.0.0.1", 0))
        self.rtp.setblocking(False)
        self.rtp_port = self.rtp.getsockname()[1]
        self.events = []
        self.cseq = 1

    def close(self):
        self.sock.close()
        self.rtp.close()

    def send(self, data):
        self.sock.sendto(data if isinstance(data, bytes) else data.to_bytes(), ("127.0.0.1", self.stack.port))

    def pump(self):
        time.sleep(0.003)       # the stack runs at most once per 2 ms (once per engine tick)
        for p in self.ports:
            self.events.extend(p.poll())

    def recv(self, timeout=2.0, what=None):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump()
            try:
                data, _ = self.sock.recvfrom(65536)
            except BlockingIOError:
                time.sleep(0.002)
                continue
            m = sipmsg.parse(data)
            if what is None or what(m):
                return m
        return None

    def register(self, password=None, expires=600):
        self.send(reg_text(self.user, self.port, self.cseq, expires=expires))
        self.cseq += 1
        ch = self.recv()
        assert ch is not None and ch.status == 401, ch
        auth = authorization("REGISTER", "sip:127.0.0.1", self.user, password or self.password,
                             ch.get("WWW-Authenticate"))
        self.send(reg_text(self.user, self.port, self.cseq, auth=auth, expires=expires))
        self.cseq += 1
        return self.recv()

    def answer(self, invite, pts="8 101", direction="sendrecv"):
        sdp = ("v=0\r\no=p 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               "m=audio %d RTP/AVP %s\r\na=rtpmap:101 telephone-event/8000\r\na=%s\r\n" % (
                   self.rtp_port, pts, direction)).encode()
        ok = sipmsg.response_to(invite, 200, to_tag="ph1", body=sdp,
                                extra=[("Contact", "<sip:%s@127.0.0.1:%d>" % (self.user, self.port)),
                                       ("Content-Type", "application/sdp")])
        self.send(ok)
        return ok


@pytest.fixture
def box():
    clock = Clock()
    stack = SipStack(host="127.0.0.1", port=0, tcp=False, clock=clock, options_every_s=30.0).open()
    port = SipSeatPort("sip://1003", secret=ha1_for("1003", "callbox", PASSWORD), stack=stack).open()
    phone = Phone(stack, [port])
    yield stack, port, phone, clock
    port.close()
    phone.close()
    stack.close()


# -- messages ------------------------------------------------------------------------------
def test_parse_compact_forms_folding_and_body():
    raw = (b"INVITE sip:*12@box SIP/2.0\r\nv: SIP/2.0/UDP 10.0.0.2:5062;branch=z9hG4bKabc\r\n"
           b"f: \"Ann\" <sip:1003@box>;tag=9\r\nt: <sip:*12@box>\r\ni: abc@10.0.0.2\r\nCSeq: 7 INVITE\r\n"
           b"Subject: a long\r\n  folded line\r\nc: application/sdp\r\nl: 4\r\n\r\nv=0\r\nEXTRA")
    m = sipmsg.parse(raw)
    assert m.method == "INVITE" and m.call_id == "abc@10.0.0.2" and m.cseq == (7, "INVITE")
    assert m.branch == "z9hG4bKabc" and m.get("subject") == "a long folded line"
    assert m.body == b"v=0\r" and sipmsg.parse_addr(m.get("From")) == ("Ann", "sip:1003@box", {"tag": "9"})
    assert sipmsg.parse(m.to_bytes()).get("Content-Length") == "4"


@pytest.mark.parametrize("raw, code, words", [
    (b"INVITE sip:x SIP/3.0\r\n\r\n", 505, "version"),
    (b"HELLO\r\n\r\n", 400, "request line"),
    (b"INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\n"
     b"Call-ID: 1\r\nCSeq: 1 BYE\r\n\r\n", 400, "does not match"),
    (b"INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\n"
     b"CSeq: 1 INVITE\r\n\r\n", 400, "Call-ID"),
    (b"INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\n"
     b"Call-ID: 1\r\nCSeq: 1 INVITE\r\nContent-Length: 99\r\n\r\nv=0", 400, "shorter"),
    (b"INVITE http://x SIP/2.0\r\n\r\n", 416, "sip: URI"),
    (b"INVITE sip:x SIP/2.0\r\nbad header\r\n\r\n", 400, "header line"),
    (b"X" * 70000, 413, "larger"),
])
def test_parse_rejects_with_the_right_code(raw, code, words):
    with pytest.raises(SipParseError) as e:
        sipmsg.parse(raw)
    assert e.value.code == code and words in str(e.value)


def test_sdp_first_audio_stream_codecs_and_hold():
    sdp = sipmsg.parse_sdp(b"v=0\r\nc=IN IP4 10.1.1.1\r\nm=video 5000 RTP/AVP 96\r\na=sendonly\r\n"
                           b"m=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
                           b"a=inactive\r\nm=audio 6000 RTP/AVP 9\r\n")
    assert (sdp["ip"], sdp["port"], sdp["pts"]) == ("10.1.1.1", 4000, [0, 8, 101])
    assert sdp["codecs"] == {0: "PCMU", 8: "PCMA", 101: "TELEPHONE-EVENT"} and sdp["events_pt"] == 101
    assert sdp["direction"] == "inactive"
    with pytest.raises(SipParseError) as e:
        sipmsg.parse_sdp(b"v=0\r\nm=video 5000 RTP/AVP 96\r\n")
    assert e.value.code == 488
    built = sipmsg.parse_sdp(sipmsg.build_sdp("10.0.0.1", 20000, 1, 1, [8, 0], 101, "sendonly"))
    assert built["pts"] == [8, 0, 101] and built["direction"] == "sendonly"


# -- digest --------------------------------------------------------------------------------
def test_digest_accepts_right_password_rejects_wrong_and_flags_stale():
    now = [5000.0]
    auth = DigestAuth("callbox", key=b"k" * 16, clock=lambda: now[0])
    secret = {"1003": ha1_for("1003", "callbox", "right")}
    ch = auth.challenge()
    ok = authorization("REGISTER", "sip:box", "1003", "right", ch)
    assert auth.check("REGISTER", ok, secret.get) == ("ok", "1003")
    assert auth.check("REGISTER", authorization("REGISTER", "sip:box", "1003", "wrong", ch), secret.get)[0] == "wrong"
    assert auth.check("INVITE", ok, secret.get)[0] == "wrong"        # method is part of the hash
    assert auth.check("REGISTER", authorization("REGISTER", "sip:box", "9999", "x", ch), secret.get)[0] == \
        "unknown-user"
    forged = ok.replace(ch.split('nonce="')[1].split('"')[0], "%x.%s" % (int(now[0]), "0" * 24))
    assert auth.check("REGISTER", forged, secret.get)[0] == "bad-nonce"
    now[0] += 301
    assert auth.check("REGISTER", ok, secret.get)[0] == "stale"
    assert auth.check("REGISTER", None, secret.get)[0] == "missing"
    assert auth.check("REGISTER", "Basic abc", secret.get)[0] == "malformed"


# -- registrar -----------------------------------------------------------------------------
def test_register_challenge_then_ok_and_plug_event(box):
    stack, port, phone, clock = box
    ok = phone.register()
    assert ok.status == 200 and "expires=600" in ok.get("Contact")
    assert {"plug": True} in phone.events and port.binding.dest.addr == ("127.0.0.1", phone.port)
    # unregister
    phone.events.clear()
    assert phone.register(expires=0).status == 200
    assert {"plug": False} in phone.events and port.binding is None


def test_register_too_brief_wrong_password_and_brute_force_block(box):
    stack, port, phone, clock = box
    assert phone.register(expires=10).status == 423
    r = phone.register(password="not-it")
    assert r.status == 403 and not port.plugged
    for _ in range(3):
        assert phone.register(password="not-it").status == 403
    assert phone.register(password="not-it").status == 403      # the fifth failure blocks the address
    phone.send(reg_text("1003", phone.port))
    assert phone.recv(timeout=0.3) is None, "a blocked address still got an answer"
    assert stack.counters["blocks"] == 1
    clock.t += 61
    assert phone.register().status == 200


def test_register_expiry_and_keepalive_make_the_seat_unreachable(box):
    stack, port, phone, clock = box
    assert phone.register().status == 200
    phone.events.clear()
    clock.t += 31                                  # keep-alive OPTIONS due
    opt = phone.recv(what=lambda m: m.is_request)
    assert opt.method == "OPTIONS"
    phone.send(sipmsg.response_to(opt, 200, to_tag="x"))
    phone.pump()
    assert port.plugged
    for _ in range(2):                            # two unanswered keep-alives
        clock.t += 31
        assert phone.recv(what=lambda m: m.is_request).method == "OPTIONS"
        clock.t += 9
        phone.pump()
    assert {"plug": False} in phone.events
    phone.events.clear()
    assert phone.register().status == 200 and {"plug": True} in phone.events
    clock.t += 601
    phone.pump()
    assert port.binding is None and {"plug": False} in phone.events


# -- calls ---------------------------------------------------------------------------------
def _ring_and_answer(port, phone, pts="8 101"):
    assert phone.register().status == 200
    port.send_control({"ring": True, "call_id": 42, "ani": "13800138000", "queue": "sales"})
    inv = phone.recv(what=lambda m: m.is_request and m.method == "INVITE")
    assert inv is not None and '"13800138000 (sales)"' in inv.get("From")
    assert inv.get("X-CallBox-Call") == "42"
    offer = sipmsg.parse_sdp(inv.body)
    assert offer["pts"][:2] == [8, 0] and offer["events_pt"] == 101
    phone.send(sipmsg.response_to(inv, 180, to_tag="ph1"))
    phone.answer(inv, pts)
    ack = phone.recv(what=lambda m: m.is_request and m.method == "ACK")
    assert ack is not None and "tag=ph1" in ack.get("To")
    return inv, offer


def test_queue_call_rings_answers_carries_audio_and_phone_hangs_up(box):
    stack, port, phone, clock = box
    inv, offer = _ring_and_answer(port, phone)
    assert {"hook": "off"} in phone.events
    # box -> phone audio
    blk = bytes(range(160))
    port.write_audio(blk)
    pkt, _ = phone.rtp.recvfrom(2048)
    assert pkt[1] & 0x7F == 8 and pkt[12:] == blk and pkt[1] & 0x80       # PCMA, marker on the first
    # phone -> box audio through the jitter buffer (primed at 40 ms)
    for i in range(3):
        phone.rtp.sendto(struct.pack("!BBHII", 0x80, 8, 100 + i, 160 * i, 77) + bytes([i + 1]) * 160,
                         ("127.0.0.1", offer["port"]))
    time.sleep(0.02)
    phone.pump()
    got = [port.read_audio() for _ in range(3)]
    assert got == [bytes([1]) * 160, bytes([2]) * 160, bytes([3]) * 160]
    # the phone hangs up
    phone.events.clear()
    bye = Message(method="BYE", uri="sip:callbox@127.0.0.1")
    for h, v in (("Via", "SIP/2.0/UDP 127.0.0.1:%d;branch=%s" % (phone.port, new_branch())),
                 ("From", sipmsg.response_to(inv, 200, to_tag="ph1").get("To")), ("To", inv.get("From")),
                 ("Call-ID", inv.call_id), ("CSeq", "1 BYE")):
        bye.add(h, v)
    phone.send(bye)
    r = phone.recv(what=lambda m: not m.is_request)
    assert r.status == 200 and {"hook": "on"} in phone.events and port.call is None


def test_box_hangs_up_with_bye_and_cancels_an_unanswered_ring(box):
    stack, port, phone, clock = box
    _ring_and_answer(port, phone)
    port.send_control({"hangup": True})
    bye = phone.recv(what=lambda m: m.is_request and m.method == "BYE")
    assert bye is not None and "tag=ph1" in bye.get("To")
    phone.send(sipmsg.response_to(bye, 200))
    port.send_control({"ring": True, "call_id": 43, "ani": "1", "queue": "q"})
    inv = phone.recv(what=lambda m: m.is_request and m.method == "INVITE")
    phone.send(sipmsg.response_to(inv, 180, to_tag="ph2"))
    phone.pump()
    port.send_control({"ring": False})
    cancel = phone.recv(what=lambda m: m.is_request and m.method == "CANCEL")
    assert cancel is not None and cancel.branch == inv.branch and cancel.cseq == (inv.cseq[0], "CANCEL")
    phone.send(sipmsg.response_to(cancel, 200))
    phone.send(sipmsg.response_to(inv, 487, to_tag="ph2"))
    ack = phone.recv(what=lambda m: m.is_request and m.method == "ACK")
    assert ack.branch == inv.branch and port.call is None


def test_invite_is_retransmitted_until_answered(box):
    stack, port, phone, clock = box
    assert phone.register().status == 200
    port.send_control({"ring": True, "call_id": 1, "ani": "1"})
    first = phone.recv(what=lambda m: m.is_request and m.method == "INVITE")
    clock.t += 0.6
    again = phone.recv(what=lambda m: m.is_request and m.method == "INVITE")
    assert again is not None and again.branch == first.branch
    clock.t += 33
    phone.pump()
    assert port.call is None and not any("hook" in e for e in phone.events)


def test_phone_answering_with_an_unsupported_codec_is_hung_up(box):
    stack, port, phone, clock = box
    assert phone.register().status == 200
    port.send_control({"ring": True, "call_id": 1, "ani": "1"})
    inv = phone.recv(what=lambda m: m.is_request and m.method == "INVITE")
    phone.answer(inv, pts="9")
    assert phone.recv(what=lambda m: m.is_request and m.method == "BYE") is not None
    assert not any(e.get("hook") == "off" for e in phone.events) and port.call is None


def _invite_from_phone(phone, target, auth=None, pts="8", crypto=None):
    sdp = ("v=0\r\no=p 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           "m=audio %d RTP/%s %s\r\n" % (phone.rtp_port, "SAVP" if crypto else "AVP", pts)).encode()
    if crypto:
        sdp += ("a=crypto:%s\r\n" % crypto).encode()
    inv = Message(method="INVITE", uri="sip:%s@127.0.0.1" % target)
    for h, v in (("Via", "SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport" % (phone.port, new_branch())),
                 ("Max-Forwards", "70"), ("From", "<sip:%s@127.0.0.1>;tag=%s" % (phone.user, new_token(3))),
                 ("To", "<sip:%s@127.0.0.1>" % target), ("Call-ID", new_token()), ("CSeq", "%d INVITE" % phone.cseq),
                 ("Contact", "<sip:%s@127.0.0.1:%d>" % (phone.user, phone.port)),
                 ("Content-Type", "application/sdp")):
        inv.add(h, v)
    phone.cseq += 1
    if auth:
        inv.add("Authorization", auth)
    inv.body = sdp
    phone.send(inv)
    return inv


def _authed_invite(phone, target, pts="8"):
    _invite_from_phone(phone, target, pts=pts)
    ch = phone.recv(what=lambda m: not m.is_request and m.status == 401)
    assert ch is not None
    auth = authorization("INVITE", "sip:%s@127.0.0.1" % target, phone.user, phone.password,
                         ch.get("WWW-Authenticate"))
    inv = _invite_from_phone(phone, target, auth=auth, pts=pts)
    phone.pump()
    phone.pump()
    return inv


def test_feature_code_login_confirms_with_200_tone_and_bye(box):
    stack, port, phone, clock = box
    assert phone.register().status == 200
    inv = _authed_invite(phone, "*111001")
    assert phone.recv(what=lambda m: not m.is_request and m.status == 100) is not None
    assert {"key": "login", "agent": "1001", "ready": True} in phone.events
    port.send_control({"agent": "1001", "agent_state": "ready"})
    ok = phone.recv(what=lambda m: not m.is_request and m.status == 200)
    assert ok is not None and ok.call_id == inv.call_id and sipmsg.parse_sdp(ok.body)["pts"][0] == 8
    ack = Message(method="ACK", uri="sip:callbox@127.0.0.1")
    for h, v in (("Via", "SIP/2.0/UDP 127.0.0.1:%d;branch=%s" % (phone.port, new_branch())), ("From", inv.get("From")),
                 ("To", ok.get("To")), ("Call-ID", inv.call_id), ("CSeq", "%d ACK" % inv.cseq[0])):
        ack.add(h, v)
    phone.send(ack)
    for _ in range(40):                      # the engine's ticks play the confirmation tone
        port.write_audio(b"\xd5" * 160)
    bye = phone.recv(what=lambda m: m.is_request and m.method == "BYE")
    assert bye is not None
    tones = []
    while True:
        try:
            tones.append(phone.rtp.recvfrom(2048)[0][12:])
        except BlockingIOError:
            break
    pcm = dsp.alaw_to_linear(b"".join(tones[:10]))
    assert len(tones) >= 25 and max(abs(x) for x in pcm) > 3000, "no confirmation tone"


def test_feature_code_refused_gets_403_with_the_reason_and_unknown_code_404(box):
    stack, port, phone, clock = box
    assert phone.register().status == 200
    _authed_invite(phone, "*12")
    assert {"key": "ready"} in phone.events
    port.send_control({"error": "seat 3: nobody is signed in"})
    r = phone.recv(what=lambda m: not m.is_request and m.status >= 200)
    assert r.status == 403 and "nobody is signed in" in r.get("Warning")
    _authed_invite(phone, "*99")
    r = phone.recv(what=lambda m: not m.is_request and m.status >= 200)
    assert r.status == 404 and "*11<agent>" in r.get("Warning")
    _authed_invite(phone, "*14", pts="9 3")
    r = phone.recv(what=lambda m: not m.is_request and m.status >= 200)
    assert r.status == 488


def test_dialling_a_number_is_answered_at_once_and_hung_up_by_the_box(box):
    stack, port, phone, clock = box
    assert phone.register().status == 200
    inv = _authed_invite(phone, "10086")
    ok = phone.recv(what=lambda m: not m.is_request and m.status >= 200)
    assert ok.status == 200 and {"dial": "10086"} in phone.events
    answer = sipmsg.parse_sdp(ok.body)
    port.write_audio(b"\x55" * 160)
    assert phone.rtp.recvfrom(2048)[0][12:] == b"\x55" * 160
    phone.rtp.sendto(_rtp(1, 0, b"\x33" * 160), ("127.0.0.1", answer["port"]))
    phone.rtp.sendto(_rtp(2, 160, b"\x34" * 160), ("127.0.0.1", answer["port"]))
    time.sleep(0.02)
    phone.pump()
    assert port.read_audio() == b"\x33" * 160
    phone.events.clear()
    port.send_control({"hangup": True})
    bye = phone.recv(what=lambda m: m.is_request and m.method == "BYE")
    assert bye is not None and bye.call_id == inv.call_id and {"hook": "on"} in phone.events


def test_hold_by_reinvite_and_transfer_by_refer(box):
    stack, port, phone, clock = box
    inv, offer = _ring_and_answer(port, phone)
    ok_to = inv.get("To") + ";tag=ph1"

    def in_dialog(method, cseq, body=b"", extra=()):
        m = Message(method=method, uri="sip:callbox@127.0.0.1")
        for h, v in (("Via", "SIP/2.0/UDP 127.0.0.1:%d;branch=%s" % (phone.port, new_branch())),
                     ("From", ok_to), ("To", inv.get("From")), ("Call-ID", inv.call_id), ("CSeq", "%d %s" % (cseq, method)),
                     ("Contact", "<sip:1003@127.0.0.1:%d>" % phone.port)) + tuple(extra):
            m.add(h, v)
        m.body = body
        phone.send(m)
        return phone.recv(what=lambda r: not r.is_request and r.cseq[1] == method and r.status >= 200)

    hold_sdp = ("v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio %d RTP/AVP 8\r\na=sendonly\r\n" % phone.rtp_port).encode()
    r = in_dialog("INVITE", 2, hold_sdp, [("Content-Type", "application/sdp")])
    assert r.status == 200 and sipmsg.parse_sdp(r.body)["direction"] == "recvonly"
    assert {"key": "hold"} in phone.events
    r = in_dialog("INVITE", 3, hold_sdp.replace(b"sendonly", b"sendrecv"), [("Content-Type", "application/sdp")])
    assert r.status == 200 and {"key": "unhold"} in phone.events
    r = in_dialog("REFER", 4, extra=[("Refer-To", "<sip:nowhere@127.0.0.1>")])
    assert r.status == 403
    r = in_dialog("REFER", 6, extra=[("Refer-To", "<sip:02161234567@127.0.0.1>")])
    assert r.status == 202 and {"key": "transfer", "target": "number:02161234567"} in phone.events
    r = in_dialog("REFER", 5, extra=[("Refer-To", "<sip:queue.sales@127.0.0.1>")])
    assert r.status == 202 and {"key": "transfer", "target": "queue:sales"} in phone.events
    notify = phone.recv(what=lambda m: m.is_request and m.method == "NOTIFY")
    assert notify is not None and notify.body.startswith(b"SIP/2.0 200")


# -- bad input -----------------------------------------------------------------------------
def test_malformed_requests_get_400_with_a_warning_and_garbage_is_dropped(box):
    stack, port, phone, clock = box
    phone.send(b"INVITE sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK1\r\n"
               b"From: <sip:a@b>;tag=1\r\nTo: <sip:b@c>\r\nCall-ID: 1\r\nCSeq: 1 BYE\r\n\r\n" % phone.port)
    r = phone.recv()
    assert r.status == 400 and "does not match" in r.get("Warning")
    phone.send(b"\x00\xff garbage \x80" * 10)
    assert phone.recv(timeout=0.2) is None
    assert stack.counters["bad"] == 2
    phone.send(Message(method="MESSAGE", uri="sip:x@127.0.0.1", headers=[
        ("Via", "SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK2" % phone.port), ("From", "<sip:a@b>;tag=1"),
        ("To", "<sip:b@c>"), ("Call-ID", "2"), ("CSeq", "1 MESSAGE")]))
    r = phone.recv()
    assert r.status == 405 and "INVITE" in r.get("Allow")
    # a request for an unknown dialog
    phone.send(Message(method="BYE", uri="sip:x@127.0.0.1", headers=[
        ("Via", "SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK3" % phone.port), ("From", "<sip:a@b>;tag=1"),
        ("To", "<sip:b@c>;tag=2"), ("Call-ID", "3"), ("CSeq", "1 BYE")]))
    assert phone.recv().status == 481


def test_flood_from_one_address_is_blocked_without_disturbing_a_call(box):
    stack, port, phone, clock = box
    inv, offer = _ring_and_answer(port, phone)
    flooder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    flooder.bind(("127.0.0.2", 0))
    for i in range(200):
        flooder.sendto(reg_text("1003", flooder.getsockname()[1], i + 1, call_id="f"), ("127.0.0.1", stack.port))
    for _ in range(5):
        phone.pump()
        time.sleep(0.01)
    assert "127.0.0.2" in stack.blocked and "127.0.0.1" not in stack.blocked
    answered = 0
    flooder.setblocking(False)
    while True:
        try:
            flooder.recvfrom(65536)
            answered += 1
        except BlockingIOError:
            break
    assert answered <= 41
    assert port.call is not None and port.call.state == "connected"
    flooder.close()


# -- RTP -----------------------------------------------------------------------------------
def _rtp(seq, ts, payload, pt=8, ssrc=5, marker=False):
    return struct.pack("!BBHII", 0x80, pt | (0x80 if marker else 0), seq & 0xFFFF, ts, ssrc) + payload


def _stream():
    clock = Clock()
    s = RtpStream("127.0.0.1", 0, clock=clock)
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    s.start("127.0.0.1", peer.getsockname()[1], 8, 101)
    return s, peer, clock


def _deliver(s, peer, pkts):
    for p in pkts:
        peer.sendto(p, ("127.0.0.1", s.port))
    time.sleep(0.02)
    s.pump()


def test_jitter_buffer_reorders_conceals_loss_drops_late_and_trims():
    s, peer, clock = _stream()
    _deliver(s, peer, [_rtp(65535, 0, b"\x01" * 160), _rtp(1, 320, b"\x03" * 160), _rtp(0, 160, b"\x02" * 160)])
    assert [s.read() for _ in range(3)] == [b"\x01" * 160, b"\x02" * 160, b"\x03" * 160]   # across the wrap
    _deliver(s, peer, [_rtp(3, 640, b"\x05" * 160), _rtp(4, 800, b"\x06" * 160)])          # seq 2 lost
    assert [s.read() for _ in range(3)] == [b"\xd5" * 160, b"\x05" * 160, b"\x06" * 160]
    assert s.counters["lost"] == 1
    _deliver(s, peer, [_rtp(2, 480, b"\x04" * 160)])                                         # too late
    assert s.counters["late"] == 1
    _deliver(s, peer, [_rtp(5 + i, 0, bytes([i]) * 160) for i in range(20)])                 # a 400 ms burst
    out = s.read()
    assert s.counters["trimmed"] > 0 and out is not None
    s.close()
    peer.close()


def test_rtp_from_a_foreign_address_is_ignored_and_mu_law_is_converted():
    s, peer, clock = _stream()
    intruder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    intruder.bind(("127.0.0.3", 0))
    intruder.sendto(_rtp(1, 0, b"\x11" * 160), ("127.0.0.1", s.port))
    time.sleep(0.02)
    s.pump()
    assert s.counters["foreign"] == 1 and not s.buf
    sine = array.array("h", [int(8000 * __import__("math").sin(i / 3.0)) for i in range(160)])
    mu = bytes(dsp.linear_to_ulaw(sine))
    _deliver(s, peer, [_rtp(1, 0, mu, pt=0), _rtp(2, 160, mu, pt=0)])
    assert s.read() == bytes(dsp.linear_to_alaw(dsp.ulaw_to_linear(mu)))
    s.pt = 0
    s.write(bytes(dsp.linear_to_alaw(sine)))
    pkt = peer.recvfrom(2048)[0]
    assert pkt[1] & 0x7F == 0 and pkt[12:] == bytes(dsp.linear_to_ulaw(dsp.alaw_to_linear(dsp.linear_to_alaw(sine))))
    _deliver(s, peer, [b"\x00" * 5, b"\x80\x08"])                                             # runts
    assert s.counters["bad"] == 2
    intruder.close()
    s.close()
    peer.close()


def test_rfc4733_event_becomes_in_band_dtmf_our_receiver_hears():
    s, peer, clock = _stream()
    _deliver(s, peer, [_rtp(1, 0, b"\xd5" * 160), _rtp(2, 160, b"\xd5" * 160)])
    ev = lambda end, dur: _rtp(3, 320, struct.pack("!BBH", 11, (0x80 if end else 0) | 10, dur), pt=101)  # '#'
    _deliver(s, peer, [ev(False, 160)])
    rx = dsp.DtmfReceiverBank(1)
    digits = []
    for i in range(12):
        if i == 4:
            _deliver(s, peer, [ev(True, 800)] * 3)                                               # end sent 3 times
        blk = s.read() or b"\xd5" * 160
        digits += [d for _, d, _ in rx.process(dsp.alaw_to_linear(blk), 160)]
        clock.t += 0.02
    assert digits == ["#"] and s.counters["dtmf"] == 1
    rx.close()
    s.close()
    peer.close()


# -- TCP and TLS ---------------------------------------------------------------------------
def _stream_phone(sock, stack, ports):
    """REGISTER over a stream socket; returns a reader of whole messages."""
    buf = bytearray()

    def recv(timeout=2.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            time.sleep(0.003)
            for p in ports:
                p.poll()
            i = buf.find(b"\r\n\r\n")
            if i >= 0:
                head = bytes(buf[:i + 4])
                n = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0].strip())
                if len(buf) >= i + 4 + n:
                    data = bytes(buf[:i + 4 + n])
                    del buf[:i + 4 + n]
                    return sipmsg.parse(data, stream=True)
            try:
                chunk = sock.recv(65536)
            except (BlockingIOError, __import__("ssl").SSLWantReadError):
                continue
            buf.extend(chunk)
        return None
    return recv, buf


def _register_stream(sock, recv, kind, local_port):
    text = reg_text("1003", local_port).replace(b"SIP/2.0/UDP", b"SIP/2.0/" + kind.encode())
    sock.sendall(text)
    ch = recv()
    assert ch is not None and ch.status == 401
    auth = authorization("REGISTER", "sip:127.0.0.1", "1003", PASSWORD, ch.get("WWW-Authenticate"))
    sock.sendall(reg_text("1003", local_port, 2, auth=auth).replace(b"SIP/2.0/UDP", b"SIP/2.0/" + kind.encode()))
    return recv()


def test_register_and_ring_over_tcp_on_the_same_connection():
    stack = SipStack(host="127.0.0.1", port=0, tcp=True).open()
    port = SipSeatPort("sip://1003", secret=ha1_for("1003", "callbox", PASSWORD), stack=stack).open()
    sock = socket.create_connection(("127.0.0.1", stack.port))
    sock.setblocking(False)
    recv, _ = _stream_phone(sock, stack, [port])
    ok = _register_stream(sock, recv, "TCP", sock.getsockname()[1])
    assert ok.status == 200 and port.plugged and port.binding.dest.kind == "tcp"
    port.send_control({"ring": True, "call_id": 7, "ani": "1"})
    inv = recv()
    assert inv.method == "INVITE" and "SIP/2.0/TCP" in inv.get("Via")
    sock.sendall(b"\r\n\r\n")                                   # RFC 5626 keep-alive ping
    time.sleep(0.01)
    port.poll()
    time.sleep(0.01)
    assert sock.recv(100) == b"\r\n"                           # pong
    # a message in two pieces is framed by its Content-Length
    opts = ("OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKo1\r\n"
            "From: <sip:1003@b>;tag=1\r\nTo: <sip:box@b>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\n"
            "Content-Length: 4\r\n\r\nabcd").encode()
    sock.sendall(opts[:50])
    time.sleep(0.01)
    port.poll()
    sock.sendall(opts[50:])
    r = recv()
    assert r.status == 200 and r.cseq == (1, "OPTIONS")
    # a stream that cannot be framed is closed and its seat unregistered
    sock.sendall(b"OPTIONS sip:x SIP/2.0\r\nContent-Length: lots\r\n\r\n")
    end = time.monotonic() + 2
    while port.plugged and time.monotonic() < end:
        time.sleep(0.003)
        port.poll()
    assert not port.plugged and stack.counters["bad"] == 1
    port.close()
    stack.close()
    sock.close()


def test_register_over_tls_with_the_box_certificate(tmp_path):
    import ssl
    import subprocess
    if shutil.which("openssl") is None:
        pytest.skip("needs openssl (Debian package openssl) to make a test certificate")
    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=callbox"], check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    stack = SipStack(host="127.0.0.1", port=0, tcp=False, tls_port=0, tls_context=ctx).open()
    port = SipSeatPort("sip://1003", secret=ha1_for("1003", "callbox", PASSWORD), stack=stack).open()
    cctx = ssl.create_default_context(cafile=cert)
    cctx.check_hostname = False
    raw = socket.create_connection(("127.0.0.1", stack.tls_port))
    raw.setblocking(False)
    sock = cctx.wrap_socket(raw, do_handshake_on_connect=False)
    end = time.monotonic() + 5
    while True:
        port.poll()
        try:
            sock.do_handshake()
            break
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            assert time.monotonic() < end, "TLS handshake did not finish"
            time.sleep(0.003)
    recv, _ = _stream_phone(sock, stack, [port])
    ok = _register_stream(sock, recv, "TLS", sock.getsockname()[1])
    assert ok.status == 200 and port.plugged and port.binding.dest.kind == "tls"
    port.send_control({"ring": True, "call_id": 8, "ani": "1"})
    inv = recv()
    assert inv.method == "INVITE" and inv.uri.startswith("sip:1003@") and "SIP/2.0/TLS" in inv.get("Via")
    # closing the connection unregisters the seat (its binding lived on it)
    sock.close()
    end = time.monotonic() + 2
    while port.plugged and time.monotonic() < end:
        time.sleep(0.003)
        port.poll()
    assert not port.plugged
    port.close()
    stack.close()


def test_srtp_offer_over_plain_udp_is_refused_because_keys_would_travel_in_clear(box):
    from callbox.sip.srtp import new_crypto
    stack, port, phone, clock = box
    assert phone.register().status == 200
    crypto = new_crypto(1)[0]
    _invite_from_phone(phone, "10086", crypto=crypto)
    ch = phone.recv(what=lambda m: not m.is_request and m.status == 401)
    auth = authorization("INVITE", "sip:10086@127.0.0.1", phone.user, phone.password, ch.get("WWW-Authenticate"))
    inv = _invite_from_phone(phone, "10086", auth=auth, crypto=crypto)
    r = phone.recv(what=lambda m: not m.is_request and m.status >= 200 and m.call_id == inv.call_id)
    assert r.status == 488 and "only over SIP over TLS" in r.get("Warning")
    assert not any("dial" in e for e in phone.events)


def test_a_repeated_digit_from_telephone_events_is_heard_twice():
    s, peer, clock = _stream()
    _deliver(s, peer, [_rtp(1, 0, b"\xd5" * 160), _rtp(2, 160, b"\xd5" * 160)])
    rx = dsp.DtmfReceiverBank(1)
    digits = []
    # '0' pressed twice; the phone sends the second event right after the first (no end packets)
    for k, ts in enumerate((320, 1920)):
        _deliver(s, peer, [_rtp(3 + k, ts, struct.pack("!BBH", 0, 10, 160), pt=101)])
        for _ in range(4):
            digits += [d for _, d, _ in rx.process(dsp.alaw_to_linear(s.read() or b"\xd5" * 160), 160)]
            clock.t += 0.02
    for _ in range(12):
        digits += [d for _, d, _ in rx.process(dsp.alaw_to_linear(s.read() or b"\xd5" * 160), 160)]
        clock.t += 0.02
    assert digits == ["0", "0"] and s.counters["dtmf"] == 2
    rx.close()
    s.close()
    peer.close()
