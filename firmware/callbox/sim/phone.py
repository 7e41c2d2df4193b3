"""Simulated agents' phones: they plug into the box's seat ports like real ones.

A SimPhone connects to ``<sim_dir>/seat<N>.sock`` (see callbox.hw.sim), signs its
agent in with the ``login`` key, answers when it rings after a short delay,
talks (a steady tone standing in for the agent's voice, so tests can find the
agent's channel in a recording), hangs up after its handle time, and follows the
box when the box clears the call. It runs on the simulator's tick thread:
``tick()`` every 20 ms, no threads or sleeps of its own.
"""
import math
import random
import socket

import msgpack

from callbox import dsp

TICK_S = 0.020


def tone_block(freq, level_dbm0=-15.0):
    """160 A-law octets of a sine that repeats seamlessly every 20 ms (freq a multiple of 50 Hz)."""
    amp = 32768 * 0.7071 * 10 ** ((level_dbm0 - 3.14) / 20) * 1.4142
    import array
    s = array.array("h", (int(amp * math.sin(2 * math.pi * freq * i / 8000)) for i in range(160)))
    return bytes(dsp.linear_to_alaw(s))


class SimPhone:
    """Args:
        seat (int): seat number to plug into.
        agent (str): agent login to sign in.
        path (str): the seat socket path.
        emit (callable): emit(topic, data) for observers (thread-safe queueing only).
        talk (callable): () -> handle time in seconds for the next call.
        voice_hz (int): the agent's "voice" tone.
    """

    def __init__(self, seat, agent, path, emit, talk, voice_hz=600, answer_s=0.5):
        self.seat = seat
        self.agent = agent
        self.path = path
        self.emit = emit
        self.talk = talk
        self.voice = tone_block(voice_hz)
        self.silence = bytes([dsp.ALAW_SILENCE]) * 160
        self.answer_ticks = int(answer_s / TICK_S)
        self.sock = None
        self.state = "unplugged"
        self.countdown = 0
        self.call_id = None
        self.heard_energy = 0
        self.calls = 0
        self.retry = 0
        self.signed_in = False       # the box confirmed the login (a key can be lost while call control restarts)
        self.login_retry = 0

    def _send(self, kind, body):
        try:
            self.sock.send(kind + body)
        except BlockingIOError:
            pass
        except OSError:
            self._unplug()

    def _ctl(self, msg):
        self._send(b"C", msgpack.packb(msg, use_bin_type=True))

    def _unplug(self):
        if self.sock:
            self.sock.close()
        self.sock = None
        self.state = "unplugged"

    def tick(self, tick_no):
        if self.sock is None:
            self.retry -= 1
            if self.retry > 0:
                return
            self.retry = 25
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            try:
                s.connect(self.path)
            except OSError:
                s.close()
                return
            s.setblocking(False)
            self.sock = s
            self.state = "idle"
            self.signed_in = False
            self.login_retry = 0
            self.emit("farend.phone", {"seat": self.seat, "state": "plugged"})
        while self.sock is not None:
            try:
                pkt = self.sock.recv(4096)
            except BlockingIOError:
                break
            except OSError:
                pkt = b""
            if not pkt:
                self._unplug()
                return
            if pkt[:1] == b"C":
                self._control(msgpack.unpackb(pkt[1:], raw=False))
        if not self.signed_in and self.sock is not None:
            self.login_retry -= 1
            if self.login_retry <= 0:
                self.login_retry = int(2.0 / TICK_S)
                self._ctl({"key": "login", "agent": self.agent, "ready": True})
        if self.state == "ringing":
            self.countdown -= 1
            if self.countdown <= 0:
                self.state = "talking"
                self.countdown = max(1, int(self.talk() / TICK_S))
                self.calls += 1
                self._ctl({"hook": "off"})
                self.emit("farend.phone", {"seat": self.seat, "state": "answered", "call_id": self.call_id})
        elif self.state == "talking":
            self.countdown -= 1
            if self.countdown <= 0:
                self._hang_up("agent")
        if self.sock is not None:
            self._send(b"A", self.voice if self.state == "talking" else self.silence)

    def _hang_up(self, who):
        self.state = "idle"
        self._ctl({"hook": "on"})
        self.emit("farend.phone", {"seat": self.seat, "state": "hung-up", "by": who, "call_id": self.call_id})
        self.call_id = None

    def _control(self, msg):
        if not isinstance(msg, dict):
            return
        if msg.get("agent") == self.agent and "agent_state" in msg:
            self.signed_in = msg["agent_state"] != "logged-out"
            return
        if msg.get("ring") is True and self.state == "idle":
            self.state = "ringing"
            self.call_id = msg.get("call_id")
            self.countdown = self.answer_ticks
        elif msg.get("ring") is False and self.state == "ringing":
            self.state = "idle"
        elif msg.get("hangup") and self.state == "talking":
            self._hang_up("box")
        elif msg.get("error"):
            self.emit("farend.phone", {"seat": self.seat, "state": "error", "error": msg["error"]})


def talk_time(mean_s, dist, rng=random):
    """A handle-time generator: 'fixed' or 'exp' (exponential, at least 1 s)."""
    if dist == "fixed":
        return lambda: mean_s
    return lambda: max(1.0, rng.expovariate(1.0 / mean_s))
