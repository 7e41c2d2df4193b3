"""Drive the box's ISDN PRI stack from outside (interop harnesses, a tech's bench).

    python -m callbox.signalling pri-peer --side user|network
        --link fd:N|connect:PATH|listen:PATH [--fcs] [--auto-answer MS] [--overlap] [--t1]

The link carries each Q.921 frame as a 2-byte big-endian length then the raw frame
(address, control, information; no flags, no bit stuffing; with ``--fcs`` the FCS-16
follows, low octet first, and frames with a bad FCS are dropped and reported). ``fd:N`` is
an inherited stream socket or pipe pair end, ``connect:PATH`` / ``listen:PATH`` a Unix
stream socket.

Commands on stdin, one per line::

    call chan=N called=DIGITS calling=DIGITS     (chan=0 or no chan: any free channel)
    answer call=ID
    hangup call=ID cause=N
    restart chan=N
    quit

Events on stdout, one JSON object per line with a field ``ev``: DCHAN_UP, DCHAN_DOWN,
CALLING (call, chan: the id of a call we placed), RING (call, chan, called, calling),
PROCEEDING, ALERTING, ANSWER (call; from the caller's side when the far end answered, and
with side "ours" when we answered), CONNECT_ACK (call), HANGUP (call, cause), CLEARED (call,
cause), RESTART (chans: the far end restarted them), RESTART_FAILED (our RESTART never
acknowledged: T316 twice), ERROR (error: a command that could not be done, and why).
"""
import argparse
import asyncio
import json
import os
import socket
import sys

from callbox.calls.pri_span import PriSpan
from callbox.errors import SignallingError


def fcs16(data):
    """HDLC FCS-16 (CRC-CCITT reflected, preset 0xFFFF, complemented) of a frame."""
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


def emit(ev, **kw):
    sys.stdout.write(json.dumps(dict(ev=ev, **kw)) + "\n")
    sys.stdout.flush()


async def open_link(spec):
    """(reader, writer) for fd:N, connect:PATH or listen:PATH."""
    kind, _, arg = spec.partition(":")
    if kind == "fd" and arg.isdigit():
        sock = socket.socket(fileno=int(arg))
        return await asyncio.open_connection(sock=sock)
    if kind == "connect" and arg:
        return await asyncio.open_unix_connection(arg)
    if kind == "listen" and arg:
        got = asyncio.get_running_loop().create_future()

        async def accepted(r, w):
            if not got.done():
                got.set_result((r, w))
        if os.path.exists(arg):
            os.unlink(arg)
        server = await asyncio.start_unix_server(accepted, arg)
        pair = await got
        server.close()
        return pair
    raise SystemExit("pri-peer: --link %r is not fd:N, connect:PATH or listen:PATH" % spec)


async def run(a):
    loop = asyncio.get_running_loop()
    reader, writer = await open_link(a.link)
    answered = set()

    def send_frame(frame):
        frame = bytes(frame)
        if a.fcs:
            f = fcs16(frame)
            frame += bytes([f & 0xFF, f >> 8])
        writer.write(len(frame).to_bytes(2, "big") + frame)

    def on_link(up):
        emit("DCHAN_UP" if up else "DCHAN_DOWN")

    def on_event(e):
        kind, cid = e.get("ev"), e.get("call")
        if kind == "setup":
            emit("RING", call=cid, chan=e.get("chan"), called=e.get("called", ""), calling=e.get("calling", ""))
            if a.auto_answer is not None:
                loop.call_later(a.auto_answer / 1000.0, answer, cid)
        elif kind in ("proceeding", "alerting"):
            emit(kind.upper(), call=cid)
        elif kind == "connect":
            emit("ANSWER", call=cid)
        elif kind == "connect_ack":
            emit("CONNECT_ACK", call=cid)
        elif kind == "disconnect":
            emit("HANGUP", call=cid, cause=e.get("cause"))
        elif kind == "released":
            emit("CLEARED", call=cid, cause=e.get("cause"))
        elif kind == "restart":
            emit("RESTART", chans=e.get("chans", []))
        elif kind == "restart_failed":
            emit("RESTART_FAILED", what=e.get("what"))

    span = PriSpan(0, a.side, send_frame, on_event, loop, on_link, kind="T1" if a.t1 else "E1")
    if a.overlap:
        span.q931.overlap = True

    def answer(cid):
        if cid in answered or cid not in span.q931.calls:
            return
        answered.add(cid)
        if span.q931.connect(cid):
            emit("ANSWER", call=cid, side="ours")       # we answered (the caller's side reports ANSWER too)

    async def link_rx():
        try:
            while True:
                n = int.from_bytes(await reader.readexactly(2), "big")
                frame = await reader.readexactly(n)
                if a.fcs:
                    if n < 3 or fcs16(frame[:-2]) != frame[-2] | (frame[-1] << 8):
                        emit("ERROR", error="frame of %d octets with a bad FCS dropped" % n)
                        continue
                    frame = frame[:-2]
                span.rx_frame(frame)
        except (asyncio.IncompleteReadError, ConnectionError):
            span.line_down()
            emit("DCHAN_DOWN", reason="link closed")

    def command(line):
        words = line.split()
        if not words:
            return True
        verb, args = words[0], {}
        if verb not in ("call", "answer", "hangup", "restart", "quit"):
            raise ValueError("unknown command %r (call, answer, hangup, restart, quit)" % verb)
        for w in words[1:]:
            k, sep, v = w.partition("=")
            if not sep:
                raise ValueError("%r is not key=value" % w)
            args[k] = v
        try:
            if verb == "quit":
                return False
            if verb == "call":
                chan = int(args.get("chan", "0") or 0)
                cid = span.q931.setup(args.get("called", ""), args.get("calling", ""), chan=chan or None)
                emit("CALLING", call=cid, chan=span.q931.calls[cid]["chan"])
            elif verb == "answer":
                answer(int(args["call"]))
            elif verb == "hangup":
                span.q931.disconnect(int(args["call"]), int(args.get("cause", "16")))
            else:
                span.q931.restart_channel(int(args["chan"]))
        except KeyError as e:
            raise ValueError("%s needs %s=" % (verb, e.args[0])) from None
        return True

    rx_task = asyncio.create_task(link_rx())
    span.line_up()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while True:
        line = await stdin.readline()
        if not line:
            break
        try:
            if not command(line.decode("utf-8", "replace").strip()):
                break
        except (ValueError, SignallingError) as e:
            emit("ERROR", error=str(e))
    rx_task.cancel()
    writer.close()
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m callbox.signalling", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("pri-peer", help="a PRI (Q.921/Q.931) endpoint driven from stdin, events on stdout")
    pp.add_argument("--side", choices=("user", "network"), required=True)
    pp.add_argument("--link", required=True, help="fd:N, connect:PATH or listen:PATH")
    pp.add_argument("--fcs", action="store_true", help="each frame carries its FCS-16, low octet first")
    pp.add_argument("--auto-answer", type=int, default=None, metavar="MS", help="answer incoming calls after MS ms")
    pp.add_argument("--overlap", action="store_true", help="overlap receiving (SETUP ACKNOWLEDGE, INFORMATION, T302)")
    pp.add_argument("--t1", action="store_true", help="a T1 interface (B-channels 1..23, mu-law)")
    a = p.parse_args(argv)
    if a.auto_answer is not None and a.auto_answer < 0:
        p.error("--auto-answer must be 0 or more milliseconds")
    return asyncio.run(run(a))


if __name__ == "__main__":
    sys.exit(main())
