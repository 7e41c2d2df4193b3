"""Interop with a real SIP softphone: Debian's baresip as an agent's seat.

The whole box runs in simulation (supervisor, media, call control, recorder, the
simulated exchange); baresip registers to the box's SIP stack over UDP on loopback
and is driven through its ``ctrl_tcp`` JSON channel. Its audio source is a sine
(``ausine``) and ``sndfile`` writes what it hears to WAV files, so audio both ways is
checked by frequency. Proves (issue #11): registration with digest, the feature code
sign-in, a trunk call queued and offered to it while an unregistered seat's agent is
skipped, answer, two-way audio, the recording of both parties, the seat hanging up,
and DTMF from the phone (RFC 4733) reaching the IVR on an internal call.
"""
import array
import glob
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
import wave

import pytest

from boxutil import free_port, goertzel_power as power, stop_box, wait_until
from callbox.auth import hash_password
from callbox.bus import socket_path
from callbox.bus.client import BusClient
from callbox.config.defaults import seed_simulation
from callbox.config.store import Store

pytestmark = [pytest.mark.sim, pytest.mark.skipif(shutil.which("baresip") is None,
                                                  reason="needs baresip (Debian package baresip-core)"),
              pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl (Debian package openssl)")]
PHONE_HZ = 600
CALLER_HZ = 1000


def _sip_port():
    """A port baresip can take for SIP: free for UDP and TCP, and the next one for TLS."""
    for _ in range(50):
        port = free_port(socket.SOCK_DGRAM)
        socks = []
        try:
            for kind, p in ((socket.SOCK_STREAM, port), (socket.SOCK_STREAM, port + 1), (socket.SOCK_DGRAM, port + 1)):
                s = socket.socket(socket.AF_INET, kind)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no free port pair for baresip")


class Baresip:
    """A baresip process with its ctrl_tcp control channel (netstring-framed JSON)."""

    def __init__(self, workdir, user, password, box_port, transport="udp", account_params="", cafile=None,
                 tone_hz=PHONE_HZ):
        self.dir = workdir
        os.makedirs(workdir, exist_ok=True)
        with open(os.path.join(workdir, "accounts"), "w") as f:
            f.write("<sip:%s@127.0.0.1:%d;transport=%s>;auth_pass=%s;regint=600;audio_codecs=PCMA%s\n"
                    % (user, box_port, transport, password, account_params))
        self.log = open(os.path.join(workdir, "baresip.log"), "w")
        for attempt in range(3):
            # ports are picked free, but another process may take one first: then start again
            self.ctrl_port = free_port()
            with open(os.path.join(workdir, "config"), "w") as f:
                f.write("\n".join([
                    "poll_method epoll", "sip_listen 127.0.0.1:%d" % _sip_port(),
                    "audio_player aubridge,nowhere", "audio_source ausine,%d" % tone_hz,
                    "audio_alert aubridge,nowhere", "ausrc_srate 48000", "auplay_srate 48000", "ausrc_channels 2",
                    "auplay_channels 1", "module_path /usr/lib/baresip/modules", "module g711.so", "module ausine.so",
                    "module aubridge.so", "module sndfile.so", "module_app account.so", "module_app menu.so",
                    "module_app ctrl_tcp.so", "ctrl_tcp_listen 127.0.0.1:%d" % self.ctrl_port,
                    "snd_path %s" % workdir] + (["module srtp.so", "sip_cafile %s" % cafile] if cafile else []) + [""]))
            self.proc = subprocess.Popen(["baresip", "-f", workdir, "-v", "-s", "-n", "127.0.0.1"], stdout=self.log,
                                         stderr=subprocess.STDOUT, cwd=workdir)
            self.sock = wait_until(lambda: self._connect() or (self.proc.poll() is not None and "exited"), 15,
                                   "baresip's ctrl_tcp")
            if self.sock != "exited":
                break
        else:
            raise AssertionError("baresip did not start three times; see %s/baresip.log" % workdir)
        self.events = queue.Queue()
        self.responses = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.seq = 0

    def _connect(self):
        try:
            return socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
        except OSError:
            return None

    def _read(self):
        buf = b""
        self.sock.settimeout(None)
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b":" in buf:
                n, _, rest = buf.partition(b":")
                if not n.isdigit() or len(rest) < int(n) + 1:
                    break
                body, buf = rest[:int(n)], rest[int(n) + 1:]
                msg = json.loads(body)
                (self.events if msg.get("event") else self.responses).put(msg)

    def cmd(self, command, params=""):
        self.seq += 1
        body = json.dumps({"command": command, "params": params, "token": str(self.seq)}).encode()
        self.sock.sendall(b"%d:%s," % (len(body), body))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r = self.responses.get(timeout=10)
            if r.get("token") == str(self.seq):
                return r
        raise AssertionError("baresip did not answer %s" % command)

    def wait_event(self, kind, timeout=30):
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                ev = self.events.get(timeout=0.2)
            except queue.Empty:
                continue
            seen.append(ev.get("type"))
            if ev.get("type") == kind:
                return ev
        raise AssertionError("baresip: no %s within %.0f s (saw %s)" % (kind, timeout, seen))

    def close(self):
        try:
            self.cmd("quit")
        except Exception:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.sock.close()
        self.log.close()


@pytest.fixture(scope="module")
def sipbox(tmp_path_factory):
    base = tmp_path_factory.mktemp("sipbox")
    data, run, logs = str(base / "data"), str(base / "run"), str(base / "log")
    sip_port = free_port(socket.SOCK_DGRAM)
    with Store(data) as st:
        seed_simulation(st, spans=1, seats=0)
        for sid, user in ((1, "1003"), (2, "1004"), (3, "1005")):
            st.put_seat({"id": sid, "name": "SIP %s" % user, "backend": "sip://%s" % user})
            st.set_seat_password(sid, "pw-%s-secret" % user)
            st.put_agent({"login": user, "name": "Agent %s" % user, "skills": {"support": 1}})
        tls_port = free_port()
        st.set_setting("sip", {"bind": "127.0.0.1", "port": sip_port, "tls_port": tls_port, "rtp_base": 0})
        st.execute("INSERT INTO users(username, pw_hash, role) VALUES(?, ?, 'admin')",
                   ("admin", hash_password("correct horse battery", iterations=1000)))
    # the box's certificate (what the web UI makes on first HTTPS start), for SIP over TLS
    tls_dir = os.path.join(data, "tls")
    os.makedirs(tls_dir)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    os.path.join(tls_dir, "key.pem"), "-out", os.path.join(tls_dir, "cert.pem"), "-days", "2",
                    "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "callbox.daemons.supervisor", "--sim", "--data-dir", data,
                             "--run-dir", run, "--log-dir", logs, "--web-port", str(free_port()), "--rate", "0"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    info = {"data": data, "run": run, "sip_port": sip_port, "tls_port": tls_port, "base": str(base)}
    phone = None
    try:
        callctl = BusClient(socket_path(run, "callctl"), connect_timeout=30)
        wait_until(lambda: callctl.request("acd.agents"), 30, "call control")
        phone = Baresip(str(base / "phone"), "1003", "pw-1003-secret", sip_port)
        info["phone"] = phone
        info["callctl"] = callctl
        yield info
    finally:
        if phone is not None:
            phone.close()
        stop_box(proc, logs)
        if phone is not None:
            with open(os.path.join(phone.dir, "baresip.log"), errors="replace") as f:
                sys.stdout.write("\n----- baresip -----\n%s" % f.read()[-4000:])


def _agent(callctl, login):
    return next(a for a in callctl.request("acd.agents") if a["login"] == login)


def test_baresip_registers_signs_in_and_takes_a_queue_call_with_audio_both_ways(sipbox):
    phone, callctl, run = sipbox["phone"], sipbox["callctl"], sipbox["run"]
    media = BusClient(socket_path(run, "media"), connect_timeout=10)
    seats = wait_until(lambda: {s["seat"]: s for s in media.request("seat.status") if s["plugged"]}, 30,
                       "baresip to register")
    assert list(seats) == [1] and "1003" in seats[1]["backend"]
    # the unregistered seat's agent signs in first (longest idle: it would be picked first)
    callctl.request("acd.agent.set_state", {"login": "1004", "state": "login", "seat": 2})
    callctl.request("acd.agent.set_state", {"login": "1004", "state": "ready"})
    # (call control learns every seat's state from media when it connects to it)
    wait_until(lambda: _agent(callctl, "1004")["reachable"] is False, 10, "agent 1004 to be skipped")
    # the baresip agent signs in with the feature code from the phone
    phone.cmd("dial", "*111003")
    phone.wait_event("CALL_ESTABLISHED", timeout=15)
    phone.wait_event("CALL_CLOSED", timeout=15)              # confirmation tone, then the box hangs up
    assert wait_until(lambda: _agent(callctl, "1003")["state"] == "ready", 10, "agent 1003 ready")

    farend = BusClient(socket_path(run, "farend"), connect_timeout=10)
    recorder = BusClient(socket_path(run, "recorder"), connect_timeout=10)
    callctl.subscribe(["call."])
    recorder.subscribe(["rec."])
    wait_until(lambda: all(s["dchan"] == "up" for s in farend.request("farend.status")["spans"]), 30,
               "the PRI D-channel")
    farend.request("farend.call", {"dnis": "10086", "ani": "13800138000", "digits": "1"})
    inc = phone.wait_event("CALL_INCOMING", timeout=40)
    assert "13800138000" in json.dumps(inc)
    phone.cmd("accept")
    phone.wait_event("CALL_ESTABLISHED", timeout=10)
    _, ans = callctl.wait_event(lambda t, d: t == "call.answered", timeout=10)
    assert ans["agent"] == "1003" and ans["seat"] == 1
    time.sleep(2.5)
    phone.cmd("hangup")                                        # the seat hangs up
    phone.wait_event("CALL_CLOSED", timeout=10)
    _, ended = callctl.wait_event(lambda t, d: t == "call.ended" and d["call_id"] == ans["call_id"], timeout=20)
    assert ended["disposition"] == "answered" and ended["talk_s"] > 2.0
    _, done = recorder.wait_event(lambda t, d: t == "rec.done" and d["call_id"] == ans["call_id"], timeout=30)
    with wave.open(os.path.join(sipbox["data"], "recordings", done["path"])) as w:
        assert w.getnchannels() == 2
        pcm = array.array("h")
        pcm.frombytes(w.readframes(w.getnframes()))
    caller, agent = pcm[0::2], pcm[1::2]
    mid = len(caller) // 2
    wc, wa = caller[mid - 800:mid + 800], agent[mid - 800:mid + 800]
    # the simulated caller speaks 1000 Hz, baresip's sine is 600 Hz: both are in the recording
    assert power(wc, CALLER_HZ) > 50 * power(wc, PHONE_HZ) and power(wc, CALLER_HZ) > 1e4
    assert power(wa, PHONE_HZ) > 50 * power(wa, CALLER_HZ) and power(wa, PHONE_HZ) > 1e4
    # and baresip heard the caller (sndfile's dump of what it decoded)
    heard = [p for p in glob.glob(os.path.join(phone.dir, "*.wav")) if "dec" in os.path.basename(p)]
    assert heard, "sndfile wrote no decoded audio (files: %s)" % os.listdir(phone.dir)
    best = 0.0
    for path in heard:
        with wave.open(path) as w:
            rate, nch = w.getframerate(), w.getnchannels()
            pcm = array.array("h")
            pcm.frombytes(w.readframes(w.getnframes()))
        pcm = pcm[::nch]
        n = rate // 5
        if len(pcm) > 4 * n:
            m = len(pcm) // 2
            win = pcm[m - n // 2:m + n // 2]
            if power(win, CALLER_HZ, rate) > 50 * power(win, PHONE_HZ, rate):
                best = max(best, power(win, CALLER_HZ, rate))
    assert best > 1e4, "baresip did not hear the caller's 1000 Hz tone"
    assert _agent(callctl, "1004")["calls"] == 0
    for c in (media, farend, recorder):
        c.close()


def test_dtmf_from_baresip_reaches_the_ivr(sipbox):
    phone, callctl = sipbox["phone"], sipbox["callctl"]
    callctl.subscribe(["call."])
    phone.cmd("dial", "10086")                                 # an internal call: route * -> the IVR
    phone.wait_event("CALL_ESTABLISHED", timeout=15)
    _, new = callctl.wait_event(lambda t, d: t == "call.new" and d.get("dnis") == "10086", timeout=10)
    time.sleep(1.0)
    phone.cmd("sndcode", "9")                                  # DEFAULT_FLOW: 9 switches to English
    _, dig = callctl.wait_event(lambda t, d: t == "call.digit" and d["call_id"] == new["call_id"], timeout=10)
    assert dig["digit"] == "9"
    phone.cmd("hangup")
    _, ended = callctl.wait_event(lambda t, d: t == "call.ended" and d["call_id"] == new["call_id"], timeout=10)
    assert ended["digits"].startswith("9")


def test_baresip_over_tls_with_srtp_reaches_the_ivr_with_encrypted_media(sipbox):
    """A home agent's softphone: SIP over TLS with the box's certificate, SRTP required
    (SDES keys). Its RFC 4733 digit, inside SRTP, must reach the IVR; the box's audio must
    decrypt at the phone."""
    callctl, run = sipbox["callctl"], sipbox["run"]
    media = BusClient(socket_path(run, "media"), connect_timeout=10)
    phone = Baresip(os.path.join(sipbox["base"], "tlsphone"), "1005", "pw-1005-secret", sipbox["tls_port"],
                    transport="tls", account_params=";mediaenc=srtp-mand",
                    cafile=os.path.join(sipbox["data"], "tls", "cert.pem"))
    try:
        wait_until(lambda: any(s["seat"] == 3 and s["plugged"] for s in media.request("seat.status")), 30,
                   "the TLS phone to register")
        callctl.subscribe(["call."])
        phone.cmd("dial", "10086")
        phone.wait_event("CALL_ESTABLISHED", timeout=15)
        _, new = callctl.wait_event(lambda t, d: t == "call.new" and d.get("chan") == 3, timeout=10)
        time.sleep(1.0)
        phone.cmd("sndcode", "9")
        _, dig = callctl.wait_event(lambda t, d: t == "call.digit" and d["call_id"] == new["call_id"], timeout=10)
        assert dig["digit"] == "9"
        time.sleep(1.0)
        phone.cmd("hangup")
        callctl.wait_event(lambda t, d: t == "call.ended" and d["call_id"] == new["call_id"], timeout=10)
    finally:
        phone.close()
    with open(os.path.join(phone.dir, "baresip.log"), errors="replace") as f:
        log = f.read()
    assert "SRTP is Enabled" in log and "RTP/SAVP" in log
    assert "srtp: unprotect" not in log.lower() and "authentication failed" not in log.lower()
    heard = [p for p in glob.glob(os.path.join(phone.dir, "*dec.wav"))]
    loud = 0
    for path in heard:
        with wave.open(path) as w:
            pcm = array.array("h")
            pcm.frombytes(w.readframes(w.getnframes()))
        loud = max(loud, max((abs(x) for x in pcm), default=0))
    assert loud > 1000, "the phone decoded no audio from the box (IVR prompts) over SRTP"
    media.close()


def _tone_windows(path):
    """Goertzel powers at 400, 600 and 1000 Hz over 200 ms windows of a sndfile dump."""
    with wave.open(path) as w:
        rate, nch = w.getframerate(), w.getnchannels()
        pcm = array.array("h")
        pcm.frombytes(w.readframes(w.getnframes()))
    pcm = pcm[::nch]
    n = rate // 5
    return [{f: power(pcm[i:i + n], f, rate) for f in (SUP_HZ, PHONE_HZ, CALLER_HZ)}
            for i in range(0, len(pcm) - n, n)]


SUP_HZ = 400


def _second_phone(sipbox, name):
    """A second baresip as user 1004 (seat 2, a 400 Hz sine), registered; with bus clients of
    media and the far end."""
    media = BusClient(socket_path(sipbox["run"], "media"), connect_timeout=10)
    farend = BusClient(socket_path(sipbox["run"], "farend"), connect_timeout=10)
    phone = Baresip(os.path.join(sipbox["base"], name), "1004", "pw-1004-secret", sipbox["sip_port"], tone_hz=SUP_HZ)
    wait_until(lambda: any(s["seat"] == 2 and s["plugged"] for s in media.request("seat.status")), 30,
               "the phone of seat 2 to register")
    return phone, media, farend


def test_a_supervisor_on_a_sip_phone_listens_and_whispers_to_a_sip_agent(sipbox):
    """Monitoring works across SIP seats: the box rings the supervisor's phone, which hears
    caller and agent; in whisper mode the agent also hears the supervisor."""
    agent_phone, callctl = sipbox["phone"], sipbox["callctl"]
    callctl.request("acd.agent.set_state", {"login": "1004", "state": "logged-out"})
    sup, media, farend = _second_phone(sipbox, "supphone")
    try:
        wait_until(lambda: _agent(callctl, "1003")["state"] == "ready", 20, "agent 1003 ready")
        callctl.subscribe(["call."])
        farend.request("farend.call", {"dnis": "10086", "ani": "13800138001", "digits": "1"})
        agent_phone.wait_event("CALL_INCOMING", timeout=40)
        agent_phone.cmd("accept")
        _, ans = callctl.wait_event(lambda t, d: t == "call.answered", timeout=10)
        callctl.request("call.monitor", {"call_id": ans["call_id"], "seat": 2, "mode": "listen"})
        sup.wait_event("CALL_INCOMING", timeout=10)
        sup.cmd("accept")
        sup.wait_event("CALL_ESTABLISHED", timeout=10)
        time.sleep(2.0)
        callctl.request("call.monitor", {"call_id": ans["call_id"], "seat": 2, "mode": "whisper"})
        time.sleep(2.0)
        agent_phone.cmd("hangup")
        callctl.wait_event(lambda t, d: t == "call.ended" and d["call_id"] == ans["call_id"], timeout=20)
        sup.wait_event("CALL_CLOSED", timeout=10)          # the call is over: the box hangs the supervisor up
    finally:
        sup.close()
        media.close()
        farend.close()
    heard = max(glob.glob(os.path.join(sup.dir, "*dec.wav")), key=os.path.getmtime)
    wins = _tone_windows(heard)
    assert any(w[CALLER_HZ] > 1e4 and w[PHONE_HZ] > 1e4 for w in wins), \
        "the supervisor did not hear both the caller (1000 Hz) and the agent (600 Hz)"
    agent_heard = max(glob.glob(os.path.join(agent_phone.dir, "*dec.wav")), key=os.path.getmtime)
    wins = _tone_windows(agent_heard)
    assert any(w[SUP_HZ] > 1e4 and w[CALLER_HZ] > 1e4 for w in wins), \
        "in whisper mode the agent did not hear the supervisor (400 Hz) with the caller"
    assert not any(w[SUP_HZ] > 1e4 for w in wins[:5]), "the agent heard the supervisor before the whisper"


def test_attended_transfer_keyed_on_the_phone_from_one_sip_agent_to_another(sipbox):
    """*2<agent># keyed on baresip (RFC 4733) consults the other agent; hanging up completes."""
    agent_phone, callctl = sipbox["phone"], sipbox["callctl"]
    other, media, farend = _second_phone(sipbox, "otherphone")
    try:
        callctl.request("acd.agent.set_state", {"login": "1004", "state": "login", "seat": 2})
        wait_until(lambda: _agent(callctl, "1003")["state"] == "ready", 20, "agent 1003 ready")
        callctl.subscribe(["call."])
        farend.request("farend.call", {"dnis": "10086", "ani": "13800138002", "digits": "1"})
        agent_phone.wait_event("CALL_INCOMING", timeout=40)
        agent_phone.cmd("accept")
        _, ans = callctl.wait_event(lambda t, d: t == "call.answered", timeout=10)
        assert ans["agent"] == "1003"
        callctl.request("acd.agent.set_state", {"login": "1004", "state": "ready"})
        time.sleep(0.5)
        for d in "*21004#":
            agent_phone.cmd("sndcode", d)
            time.sleep(0.25)
        _, cons = callctl.wait_event(lambda t, d: t == "call.consult", timeout=10)
        assert cons["to"] == "agent:1004"
        other.wait_event("CALL_INCOMING", timeout=10)
        other.cmd("accept")
        time.sleep(1.0)
        agent_phone.cmd("hangup")                              # the first agent hangs up: transfer done
        _, moved = callctl.wait_event(lambda t, d: t == "call.answered" and d["agent"] == "1004", timeout=10)
        assert moved["call_id"] == ans["call_id"]
        time.sleep(1.5)
        other.cmd("hangup")
        _, ended = callctl.wait_event(lambda t, d: t == "call.ended" and d["call_id"] == ans["call_id"], timeout=20)
        assert ended["agent"] == "1004" and ended["disposition"] == "answered"
    finally:
        other.close()
        media.close()
        farend.close()
    heard = max(glob.glob(os.path.join(other.dir, "*dec.wav")), key=os.path.getmtime)
    assert any(w[CALLER_HZ] > 1e4 for w in _tone_windows(heard)), "the second agent never heard the caller"
