"""Drive the box's ISDN PRI and MFC/R2 stacks from outside (interop harnesses, a tech's bench).

    python -m callbox.signalling r2-peer --variant cn|itu --link ... [--auto-answer MS]
        [--dnis-digits N]

The R2 link carries records ``type(1) timeslot(1) length(2, big-endian) payload``: ``C``
(one byte, ABCD in the low nibble, A = 8), ``A`` (160 A-law octets per timeslot every
20 ms, sent continuously; the MF tones travel in it) and ``L`` (1 = alarm, 0 = cleared).
Timeslots 1-15 and 17-31 are channels; ``call`` takes ``ani=`` and ``category=`` too,
and RING carries ``category``. ``L`` 1/0 is reported as DCHAN_DOWN/DCHAN_UP.

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
import collections
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


def parse_command(line, verbs):
    """'verb k=v k=v' -> (verb, {k: v}); (None, {}) for an empty line.

    Raises:
        ValueError: an unknown verb or a word that is not key=value.
    """
    words = line.split()
    if not words:
        return None, {}
    verb, args = words[0], {}
    if verb not in verbs:
        raise ValueError("unknown command %r (%s)" % (verb, ", ".join(verbs)))
    for w in words[1:]:
        k, sep, v = w.partition("=")
        if not sep:
            raise ValueError("%r is not key=value" % w)
        args[k] = v
    return verb, args


async def command_loop(loop, command):
    """Feed stdin lines to command(verb, args) until EOF or until it returns False; bad
    commands become ERROR events."""
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    while True:
        line = await stdin.readline()
        if not line:
            return
        try:
            verb, args = command(line.decode("utf-8", "replace").strip())
            if verb is False:
                return
        except KeyError as e:
            emit("ERROR", error="the command needs %s=" % e.args[0])
        except (ValueError, SignallingError) as e:
            emit("ERROR", error=str(e))


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
        verb, args = parse_command(line, ("call", "answer", "hangup", "restart", "quit"))
        if verb is None:
            return None, None
        try:
            if verb == "quit":
                return False, None
            if verb == "call":
                chan = int(args.get("chan", "0") or 0)
                cid = span.q931.setup(args.get("called", ""), args.get("calling", ""), chan=chan or None)
                emit("CALLING", call=cid, chan=span.q931.calls[cid]["chan"])
            elif verb == "answer":
                answer(int(args["call"]))
            elif verb == "hangup":
                span.q931.disconnect(int(args["call"]), int(args.get("cause", "16")))
            elif verb == "restart":
                span.q931.restart_channel(int(args["chan"]))
        except KeyError as e:
            raise ValueError("%s needs %s=" % (verb, e.args[0])) from None
        return verb, args

    rx_task = asyncio.create_task(link_rx())
    span.line_up()
    await command_loop(loop, command)
    rx_task.cancel()
    writer.close()
    return 0


async def run_r2(a):
    """One R2Span (the box's own, as call control runs it) over the record link: the CAS bits
    and MF tones the media engine would carry, made here with one tone-bank and one MF
    receiver-bank call per 20 ms."""
    from callbox import dsp
    from callbox.calls.r2_span import TIMESLOTS, R2Span
    loop = asyncio.get_running_loop()
    reader, writer = await open_link(a.link)
    n = 32
    tones = dsp.ToneGeneratorBank(n)
    rx_bank = dsp.R2MFReceiverBank(n)
    tone_pcm = __import__("array").array("h", bytes(2 * 160 * n))
    listening = set()
    rx_audio = {}
    idle = bytes([dsp.ALAW_SILENCE]) * 160

    def record(kind, ts, payload):
        if not writer.is_closing():
            writer.write(kind + bytes([ts]) + len(payload).to_bytes(2, "big") + payload)

    def send(topic, d):                # the media commands of an R2Span, done on this link
        ts = int(d["ep"].split(".")[1])
        if topic == "chan.abcd":
            record(b"C", ts, bytes([d["abcd"] & 0x0F]))
        elif topic == "chan.tone":
            tones.play_tone(ts, d["freq"], d["freq2"], d["level"])
        elif topic == "chan.stop":
            tones.stop(ts)
        elif topic == "chan.r2mf":
            if d["on"]:
                rx_bank.set_backward(ts, d.get("backward", False))
                listening.add(ts)
            else:
                listening.discard(ts)

    def on_call(ev):
        kind, cid = ev["ev"], ev.get("call")
        if kind == "setup":
            emit("RING", call=cid, chan=ev["chan"], called=ev["called"], calling=ev["calling"],
                 category=ev.get("category"))
            if a.auto_answer is not None:
                loop.call_later(a.auto_answer / 1000.0, lambda: cid in span.calls and answer(cid))
        elif kind == "alerting":
            emit("ALERTING", call=cid)
        elif kind == "connect":
            emit("ANSWER", call=cid)
        elif kind == "disconnect":
            emit("HANGUP", call=cid, cause=ev.get("cause"))
        elif kind == "released":
            emit("CLEARED", call=cid, cause=ev.get("cause"))

    span = R2Span(0, a.variant, send, on_call, loop, dnis_digits=a.dnis_digits)
    span.line_up()

    def answer(cid):
        if not span.connect(cid):
            raise ValueError("no call %r to answer" % (cid,))
        emit("ANSWER", call=cid, side="ours")

    def tick():
        # out: every timeslot's 20 ms (MF tone or idle), in one tone-bank and one encoder call
        tones.generate(tone_pcm, 160)
        out = dsp.linear_to_alaw(tone_pcm)
        for ts in TIMESLOTS:
            record(b"A", ts, bytes(out[ts * 160:(ts + 1) * 160]) if tones.active(ts) else idle)
        # in: each timeslot's next received block (a small jitter buffer: two blocks before
        # playing out, the last block again on an underrun so a held tone has no gap), through
        # the MF receivers in one call
        blocks = []
        for ts in range(n):
            q = rx_audio.get(ts)
            if q is None:
                blocks.append(idle)
                continue
            if not q["primed"] and len(q["fifo"]) >= 2:
                q["primed"] = True
            if q["primed"] and q["fifo"]:
                q["last"] = q["fifo"].popleft()
            blocks.append(q["last"])
        for ts, signal, _ in rx_bank.process(dsp.alaw_to_linear(b"".join(blocks)), 160):
            if ts in listening:
                span.on_media("chan.r2mf", {"ep": span.ep(ts), "signal": signal})

    async def ticker():
        nxt = loop.time()
        while True:
            nxt += 0.02
            tick()
            await asyncio.sleep(max(0.0, nxt - loop.time()))

    async def link_rx():
        try:
            while True:
                head = await reader.readexactly(4)
                kind, ts, ln = head[:1], head[1], int.from_bytes(head[2:4], "big")
                payload = await reader.readexactly(ln)
                if kind == b"C" and ln == 1 and ts in span.chans:
                    span.on_media("chan.abcd", {"ep": span.ep(ts), "abcd": payload[0] & 0x0F})
                elif kind == b"A" and ln == 160 and ts in span.chans:
                    q = rx_audio.setdefault(ts, {"fifo": collections.deque(maxlen=10), "primed": False,
                                                 "last": idle})
                    q["fifo"].append(payload)
                elif kind == b"L" and ln == 1:
                    (span.line_down if payload[0] else span.line_up)()
                    emit("DCHAN_DOWN" if payload[0] else "DCHAN_UP", alarm=bool(payload[0]))
                else:
                    emit("ERROR", error="record %r for timeslot %d with %d octets ignored" % (kind, ts, ln))
        except (asyncio.IncompleteReadError, ConnectionError):
            emit("DCHAN_DOWN", reason="link closed")
            writer.close()

    def command(line):
        verb, args = parse_command(line, ("call", "answer", "hangup", "quit", "block", "unblock"))
        if verb is None:
            return None, None
        try:
            if verb == "quit":
                return False, None
            if verb == "call":
                chan = int(args["chan"]) if args.get("chan") else None
                cid = span.setup(args.get("called", ""), args.get("ani", args.get("calling", "")), chan,
                                 int(args.get("category", "1")))
                emit("CALLING", call=cid, chan=span.calls[cid]["chan"])
            elif verb == "answer":
                answer(int(args["call"]))
            elif verb == "hangup":
                if not span.disconnect(int(args["call"])):
                    raise ValueError("no call %s" % args["call"])
            elif verb in ("block", "unblock"):
                ts = int(args["chan"])
                if ts not in span.chans:
                    raise ValueError("chan %r is not a timeslot 1-15, 17-31" % ts)
                (span.chans[ts].block if verb == "block" else span.chans[ts].unblock)()
        except KeyError as e:
            raise ValueError("%s needs %s=" % (verb, e.args[0])) from None
        return verb, args

    emit("DCHAN_UP")
    tasks = [asyncio.create_task(link_rx()), asyncio.create_task(ticker())]
    await command_loop(loop, command)
    for t in tasks:
        t.cancel()
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
    rp = sub.add_parser("r2-peer", help="an MFC/R2 E1 endpoint (CAS bits and MF tones in A-law) driven the same way")
    rp.add_argument("--variant", choices=("cn", "itu"), required=True)
    rp.add_argument("--link", required=True, help="fd:N, connect:PATH or listen:PATH")
    rp.add_argument("--auto-answer", type=int, default=None, metavar="MS", help="answer incoming calls after MS ms")
    rp.add_argument("--dnis-digits", type=int, default=4, help="DNIS digits an incoming call collects (1-20)")
    a = p.parse_args(argv)
    if a.auto_answer is not None and a.auto_answer < 0:
        p.error("--auto-answer must be 0 or more milliseconds")
    if a.cmd == "r2-peer":
        if not 1 <= a.dnis_digits <= 20:
            p.error("--dnis-digits must be 1..20")
        return asyncio.run(run_r2(a))
    return asyncio.run(run(a))


if __name__ == "__main__":
    sys.exit(main())
