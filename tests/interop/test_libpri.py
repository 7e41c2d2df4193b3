"""Interop with a real ISDN PRI peer: Debian's libpri (1.6) against the box's Q.921/Q.931.

libpri runs in a small C program (libpri/pri_peer.c, built here with gcc) on one end of a
SOCK_SEQPACKET socket pair, one Q.921 frame per message; the box's PriSpan runs on the other
end on an asyncio loop. libpri is the network (the exchange) and the box the user side, then
the other way round (the box facing a PBX). Calls go both ways, are answered and cleared from
each side, libpri's RESTART of a channel is acknowledged, and libpri dials in overlap (SETUP
without Sending Complete, then digits in INFORMATION) to the box with overlap receiving on.
"""
import asyncio
import json
import os
import shutil
import socket
import subprocess

import pytest

from callbox.calls.pri_span import PriSpan

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def peer_binary(tmp_path_factory):
    if not os.path.exists("/usr/include/libpri.h") or shutil.which("gcc") is None:
        pytest.skip("needs Debian package libpri-dev (and gcc)")
    out = str(tmp_path_factory.mktemp("libpri") / "pri_peer")
    r = subprocess.run(["gcc", "-O1", "-Wall", "-o", out, os.path.join(HERE, "libpri", "pri_peer.c"), "-lpri"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return out


class Harness:
    """libpri on one end, our PriSpan on the other, on the running asyncio loop."""

    def __init__(self, binary, libpri_role, our_side):
        self.loop = asyncio.get_running_loop()
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock = a
        a.setblocking(False)
        self.proc = subprocess.Popen([binary, str(b.fileno()), libpri_role], pass_fds=[b.fileno()],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.buf = ""
        b.close()
        self.peer_events = asyncio.Queue()
        self.our_events = asyncio.Queue()
        self.links = []
        self.span = PriSpan(0, our_side, self.sock.send, self.our_events.put_nowait, self.loop, self.links.append)
        self.loop.add_reader(self.sock.fileno(), self._rx)
        self.loop.add_reader(self.proc.stdout.fileno(), self._peer_line)
        self.span.line_up()

    def _rx(self):
        try:
            frame = self.sock.recv(512)
        except BlockingIOError:
            return
        if frame:
            self.span.rx_frame(frame)

    def _peer_line(self):
        chunk = os.read(self.proc.stdout.fileno(), 65536)
        self.buf += chunk.decode("utf-8", "replace")
        *lines, self.buf = self.buf.split("\n")
        for line in lines:
            if line.startswith("{"):
                self.peer_events.put_nowait(json.loads(line))
            elif line:
                print("libpri:", line)               # libpri's own debug output (PRI_PEER_DEBUG=1)

    def cmd(self, text):
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    async def peer(self, ev, timeout=10, **match):
        return await self._wait(self.peer_events, ev, timeout, match)

    async def ours(self, ev, timeout=10, **match):
        return await self._wait(self.our_events, ev, timeout, match)

    @staticmethod
    async def _wait(q, ev, timeout, match):
        deadline = asyncio.get_running_loop().time() + timeout
        seen = []
        while True:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError("no %s %s within %ss; saw %s" % (ev, match, timeout, seen))
            try:
                e = await asyncio.wait_for(q.get(), left)
            except asyncio.TimeoutError:
                continue
            seen.append(e)
            if e.get("ev") == ev and all(e.get(k) == v for k, v in match.items()):
                return e

    def close(self):
        self.loop.remove_reader(self.sock.fileno())
        self.loop.remove_reader(self.proc.stdout.fileno())
        try:
            self.cmd("quit")
        except (BrokenPipeError, OSError):
            pass
        self.proc.wait(5)
        self.sock.close()


async def _scenario(binary, libpri_role, our_side):
    h = Harness(binary, libpri_role, our_side)
    try:
        await h.peer("dchan_up")
        for _ in range(100):
            if h.links and h.links[-1]:
                break
            await asyncio.sleep(0.05)
        assert h.links and h.links[-1] is True

        # 1. libpri calls the box; the box answers; libpri hangs up
        h.cmd("call 10086 13800138000 5")
        setup = await h.ours("setup")
        assert (setup["called"], setup["calling"], setup["chan"]) == ("10086", "13800138000", 5)
        h.span.q931.proceeding(setup["call"])
        h.span.q931.connect(setup["call"])
        ans = await h.peer("answer")
        h.cmd("hangup %d 16" % ans["id"])
        await h.ours("released", call=setup["call"])
        await h.peer("hangup", id=ans["id"], cause=16)      # libpri: RELEASE received -> HANGUP

        # 2. the box calls libpri; libpri answers; the box hangs up
        qid = h.span.q931.setup("12345", "10086", chan=7)
        ring = await h.peer("ring")
        assert (ring["called"], ring["calling"], ring["chan"]) == ("12345", "10086", 7)
        h.cmd("proceeding %d 7" % ring["id"])
        h.cmd("answer %d" % ring["id"])
        await h.ours("connect", call=qid)
        h.span.q931.disconnect(qid, 16)
        req = await h.peer("hangup_req")
        assert req["cause"] == 16
        await h.ours("released", call=qid)

        # 3. libpri restarts a channel; the box acknowledges
        h.cmd("reset 9")
        await h.peer("restart_ack", chan=9)

        # 4. overlap: libpri sends SETUP without Sending Complete, then digits in INFORMATION;
        #    the box acknowledges the SETUP and takes the number when '#' ends it
        h.span.q931.overlap = True
        h.cmd("ocall 100 13800138000 11")
        placed = await h.peer("placed")
        await asyncio.sleep(0.3)
        assert not [e for e in list(h.our_events._queue) if e.get("ev") == "setup"], "taken before the digits"
        h.cmd("digit %d 86#" % placed["id"])
        setup = await h.ours("setup")
        assert (setup["called"], setup["chan"]) == ("10086", 11)
        h.span.q931.proceeding(setup["call"])
        h.span.q931.connect(setup["call"])
        ans = await h.peer("answer")
        h.span.q931.disconnect(setup["call"], 16)
        await h.ours("released", call=setup["call"])
    finally:
        h.close()


def test_libpri_network_against_the_box_as_user_side(peer_binary):
    asyncio.run(_scenario(peer_binary, "network", "user"))


def test_libpri_cpe_against_the_box_as_network_side(peer_binary):
    asyncio.run(_scenario(peer_binary, "cpe", "network"))
