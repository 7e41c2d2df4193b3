"""python -m callbox.signalling pri-peer: two of them back to back over a socket pair, driven
through stdin/stdout exactly as an outside harness would."""
import json
import socket
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.sim


class Peer:
    def __init__(self, side, fd, *extra):
        self.p = subprocess.Popen([sys.executable, "-m", "callbox.signalling", "pri-peer", "--side", side,
                                   "--link", "fd:%d" % fd] + list(extra), pass_fds=[fd], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, bufsize=1)
        self.seen = []

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def wait(self, ev, timeout=15, **match):
        end = time.monotonic() + timeout
        for e in self.seen:
            if e["ev"] == ev and all(e.get(k) == v for k, v in match.items()):
                self.seen.remove(e)
                return e
        while time.monotonic() < end:
            line = self.p.stdout.readline()
            if not line:
                break
            e = json.loads(line)
            if e["ev"] == ev and all(e.get(k) == v for k, v in match.items()):
                return e
            self.seen.append(e)
        raise AssertionError("no %s %s (saw %s)" % (ev, match, self.seen))

    def close(self):
        try:
            self.cmd("quit")
            self.p.wait(5)
        except (OSError, subprocess.TimeoutExpired):
            self.p.kill()


@pytest.mark.parametrize("fcs", [False, True])
def test_two_pri_peers_call_answer_clear_and_restart(fcs):
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    extra = ["--fcs"] if fcs else []
    net = Peer("network", a.fileno(), *extra)
    user = Peer("user", b.fileno(), "--auto-answer", "100", *extra)
    a.close()
    b.close()
    try:
        net.wait("DCHAN_UP")
        user.wait("DCHAN_UP")
        net.cmd("call chan=5 called=10086 calling=13800138000")
        calling = net.wait("CALLING")
        ring = user.wait("RING")
        assert (ring["chan"], ring["called"], ring["calling"]) == (5, "10086", "13800138000")
        net.wait("ANSWER", call=calling["call"])                 # auto-answered after 100 ms
        assert user.wait("ANSWER", call=ring["call"])["side"] == "ours"
        net.cmd("hangup call=%d cause=16" % calling["call"])
        assert user.wait("HANGUP")["cause"] == 16
        user.wait("CLEARED")
        net.wait("CLEARED", call=calling["call"])
        # the box's user side calls out, the network answers by command
        user.cmd("call called=95588 calling=800")
        out = user.wait("CALLING")
        ring = net.wait("RING")
        assert ring["called"] == "95588"
        net.cmd("answer call=%d" % ring["call"])
        user.wait("ANSWER", call=out["call"])
        net.cmd("restart chan=%d" % out["chan"])
        assert user.wait("RESTART")["chans"] == [out["chan"]]
        user.wait("CLEARED", call=out["call"])
        # bad commands are explained, the peer goes on
        net.cmd("fly high")
        assert "unknown command" in net.wait("ERROR")["error"]
        net.cmd("hangup cause=16")
        assert "needs call=" in net.wait("ERROR")["error"]
        net.cmd("call chan=99 called=1")
        assert "not one of this interface's" in net.wait("ERROR")["error"]
    finally:
        net.close()
        user.close()


def test_peers_over_a_unix_socket_path_listen_and_connect(tmp_path):
    path = str(tmp_path / "dchan.sock")
    net = subprocess.Popen([sys.executable, "-m", "callbox.signalling", "pri-peer", "--side", "network",
                            "--link", "listen:" + path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                           bufsize=1)
    end = time.monotonic() + 10
    while not __import__("os").path.exists(path) and time.monotonic() < end:
        time.sleep(0.02)
    user = subprocess.Popen([sys.executable, "-m", "callbox.signalling", "pri-peer", "--side", "user",
                             "--link", "connect:" + path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            bufsize=1)
    try:
        assert json.loads(user.stdout.readline())["ev"] == "DCHAN_UP"
        assert json.loads(net.stdout.readline())["ev"] == "DCHAN_UP"
    finally:
        for p in (net, user):
            p.stdin.write("quit\n")
            p.stdin.flush()
            p.wait(5)


@pytest.mark.parametrize("variant", ["cn", "itu"])
def test_two_r2_peers_call_with_ani_and_category_over_cas_bits_and_mf_tones(variant):
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    fwd = R2Peer(variant, a.fileno())
    bwd = R2Peer(variant, b.fileno(), "--auto-answer", "200")
    a.close()
    b.close()
    try:
        fwd.cmd("call chan=5 called=1234 ani=13800138000 category=1")
        calling = fwd.wait("CALLING")
        ring = bwd.wait("RING", timeout=30)
        assert (ring["chan"], ring["called"], ring["calling"], ring["category"]) == (5, "1234", "13800138000", 1)
        fwd.wait("ALERTING", call=calling["call"], timeout=15)
        fwd.wait("ANSWER", call=calling["call"], timeout=15)
        fwd.cmd("hangup call=%d" % calling["call"])
        assert bwd.wait("HANGUP", timeout=15)["cause"] == 16
        bwd.wait("CLEARED", timeout=15)
        fwd.wait("CLEARED", call=calling["call"], timeout=15)
        fwd.cmd("call chan=16 called=1")
        assert "channel 16 is not an idle timeslot" in fwd.wait("ERROR")["error"]
    finally:
        fwd.close()
        bwd.close()


class R2Peer(Peer):
    def __init__(self, variant, fd, *extra):
        self.p = subprocess.Popen([sys.executable, "-m", "callbox.signalling", "r2-peer", "--variant", variant,
                                   "--link", "fd:%d" % fd] + list(extra), pass_fds=[fd], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, bufsize=1)
        self.seen = []
