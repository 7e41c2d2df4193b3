"""callbox-media: owns the line and seat backends and runs the 20 ms media engine."""
import asyncio
import logging
import os

from callbox import hw
from callbox.bus import socket_path
from callbox.bus.server import BusServer
from callbox.config.store import Store
from callbox.daemons import common
from callbox.errors import CallboxError
from callbox.media.engine import Engine
from callbox.media.prompts import PromptSet

log = logging.getLogger("callbox.media")


def build_engine(store, data_dir, sim_dir, emit, name="media"):
    """Open every enabled span and seat from the config and build the engine.

    A span that cannot be opened is logged and left out (the rest of the box runs).
    """
    spans, seats = [], []
    for cfg in store.spans():
        if not cfg["enabled"]:
            continue
        try:
            kw = {"sim_dir": sim_dir, "kind": cfg.get("kind") or "E1"} if cfg["backend"].startswith("sim:") else {}
            ln = hw.open_line(cfg["backend"], **kw)
            spans.append((cfg["id"], cfg, ln.open()))
            log.info("span %d: %s", cfg["id"], ln)
        except CallboxError as e:
            log.error("span %d left out: %s", cfg["id"], e)
    configure_sip(store, data_dir)
    for cfg in store.seats():
        try:
            port = hw.open_seat(cfg["backend"], sim_dir=sim_dir, **({"secret": cfg.get("secret", "")}
                                                                   if cfg["backend"].startswith("sip:") else {}))
            seats.append((cfg["id"], port.open()))
        except (CallboxError, OSError) as e:
            log.error("seat %d left out: %s", cfg["id"], e)
    prompt_dir = os.path.join(data_dir, "prompts")
    prompts, errors = PromptSet.load(prompt_dir)
    log.info("prompts: %d loaded, languages: %s", len(prompts), ", ".join(prompts.languages()) or "none (tones only)")
    for e in errors:
        log.error("%s", e)
    return Engine(spans, seats, prompts, emit, name=name)


SIP_DEFAULTS = {"bind": "0.0.0.0", "port": 5060, "tcp": True, "tls_port": 5061, "realm": "callbox",
                "advertise": None, "rate": 20.0, "burst": 40.0, "options_every_s": 30.0,
                "rtp_base": 20000}


def configure_sip(store, data_dir):
    """Options of the SIP stack for IP seats, from the ``sip`` setting (see docs/admin guide).

    TLS uses the box's certificate (<data>/tls/cert.pem, key.pem, the web UI's); without
    one, SIP over TLS is off and the log says so.
    """
    from callbox.sip import stack as sipstack
    cfg = dict(SIP_DEFAULTS, **(store.get_setting("sip", {}) or {}))
    unknown = set(cfg) - set(SIP_DEFAULTS)
    if unknown:
        log.error("setting sip: unknown option(s) %s ignored", ", ".join(sorted(unknown)))
    ctx = None
    tls_dir = os.path.join(data_dir, "tls")
    cert, key = os.path.join(tls_dir, "cert.pem"), os.path.join(tls_dir, "key.pem")
    if cfg["tls_port"] is not None:
        if os.path.exists(cert) and os.path.exists(key):
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            try:
                ctx.load_cert_chain(cert, key)
            except (ssl.SSLError, OSError) as e:
                log.error("SIP over TLS off: the certificate in %s does not load: %s", tls_dir, e)
                ctx = None
        else:
            log.info("SIP over TLS off: no certificate in %s yet", tls_dir)
    try:
        sipstack.configure(host=str(cfg["bind"]), port=int(cfg["port"]), tcp=bool(cfg["tcp"]),
                           tls_port=int(cfg["tls_port"]) if ctx is not None else None, tls_context=ctx,
                           realm=str(cfg["realm"]), advertise=cfg["advertise"], rtp_base=int(cfg["rtp_base"]),
                           rate=(float(cfg["rate"]), float(cfg["burst"])),
                           options_every_s=float(cfg["options_every_s"]))
    except (TypeError, ValueError) as e:
        log.error("setting sip: %s; SIP defaults used", e)
        sipstack.configure()
    except RuntimeError:
        pass


def register_ops(server, eng, data_dir=None):
    """Bus ops of the media daemon (all commands run on the tick thread)."""
    def ep_arg(args, key="ep"):
        return eng.check_ep(args.get(key))

    def seat_arg(args):
        seat = args.get("seat")
        if seat not in eng.seats:
            raise ValueError("seat %r: no such seat" % (seat,))
        return seat

    def span_arg(args):
        sid = args.get("span")
        if sid not in eng.span_by_id:
            raise ValueError("span %r: no such span (spans: %s)" % (sid, ", ".join(str(s) for s in eng.span_by_id)))
        return sid

    def connect(args):
        a, b = ep_arg(args, "a"), ep_arg(args, "b")
        eng.submit(eng.connect, a, b)
        return {"a": a, "b": b}

    def play(args):
        ep = ep_arg(args)
        names = args.get("prompt")
        names = list(names) if isinstance(names, (list, tuple)) else [names]
        lang = args.get("lang")
        if lang is not None and not isinstance(lang, str):
            raise ValueError("lang %r must be a language code such as zh or en" % (lang,))
        if not names or len(names) > 32:
            raise ValueError("prompt must be a name or a list of 1-32 names")
        missing = [n for n in names if eng.prompts.resolve(n, lang) is None]
        if missing:
            raise ValueError("prompt(s) %s not found for language %s" % (", ".join(map(repr, missing)), lang or "-"))
        eng.submit(eng.play, ep, args["prompt"], bool(args.get("loop")), lang)
        return {}

    def tone(args):
        ep = ep_arg(args)
        if args.get("digits"):
            digits = str(args["digits"])
            if not all(c in "0123456789*#ABCD" for c in digits):
                raise ValueError("digits %r: only 0-9 * # A-D" % digits)
            eng.submit(eng.tone, ep, None, None, digits)
        elif "freq" in args:
            eng.submit(eng.play_tone, ep, float(args["freq"]), float(args.get("freq2", 0)), float(args.get("level", -10)))
        else:
            plan, t = args.get("plan"), args.get("tone")
            if plan not in ("cn", "eu", "us") or t not in ("dial", "ringback", "busy", "congestion"):
                raise ValueError("tone: plan must be cn|eu|us and tone dial|ringback|busy|congestion")
            eng.submit(eng.tone, ep, plan, t, None)
        return {}

    def monitor(args):
        sup, caller, agent = ep_arg(args, "sup"), ep_arg(args, "caller"), ep_arg(args, "agent")
        mode = args.get("mode")
        if mode not in eng.MONITOR_MODES:
            raise ValueError("mode %r is not one of %s" % (mode, ", ".join(eng.MONITOR_MODES)))
        if len({sup, caller, agent}) != 3:
            raise ValueError("sup, caller and agent must be three different endpoints")
        eng.submit(eng.monitor, sup, caller, agent, mode)
        return {"sup": sup, "mode": mode}

    def record(args):
        cid = args.get("call_id")
        if not isinstance(cid, str) or not cid:
            raise ValueError("call_id must be a non-empty string")
        if args.get("stop"):
            eng.submit(eng.record_stop, cid)
        else:
            eng.submit(eng.record_start, cid, ep_arg(args, "caller"), ep_arg(args, "agent"))
        return {}

    def dchan_tx(args):
        sid = span_arg(args)
        fr = args.get("frame")
        if not isinstance(fr, bytes) or not 3 <= len(fr) <= 264:
            raise ValueError("frame must be 3..264 bytes")
        eng.submit(eng.dchan_send, sid, fr)
        return {}

    def seat_ctl(args):
        seat = seat_arg(args)
        msg = args.get("msg")
        if not isinstance(msg, dict):
            raise ValueError("msg must be a map")
        eng.submit(eng.seat_control, seat, msg)
        return {}

    def impair(args):
        sid = span_arg(args)
        kw = {k: args[k] for k in ("los", "ais", "ber", "slip", "fas_errors", "crc_errors") if k in args}
        rai = args.get("rai")
        if not kw and rai is None:
            raise ValueError("give at least one of los, ais, ber, slip, fas_errors, crc_errors, rai")
        if rai is not None:
            if not isinstance(rai, bool):
                raise ValueError("rai %r must be true or false" % (rai,))
            eng.submit(eng.force_rai, sid, rai)
        side = args.get("side", "tx")
        if kw:
            line = eng.span_by_id[sid].line
            if not hasattr(line, "impair"):
                raise ValueError("span %d is not simulated (%s): faults are injected on simulated spans only"
                                 % (sid, line))
            line.impair(side=side, **kw)
        return dict(kw, side=side, **({"rai": rai} if rai is not None else {}))

    def loopback(args):
        sid = span_arg(args)
        mode = args.get("mode")
        if mode not in ("off", "local", "line", "payload"):
            raise ValueError("mode %r is not one of: off, local, line, payload" % (mode,))
        eng.submit(eng.set_loopback, sid, mode)
        return {"span": sid, "mode": mode}

    def bert(args):
        sid = span_arg(args)
        action = args.get("action", "show")
        if action == "start" and eng.span_by_id[sid].kind != "E1":
            raise ValueError("span %d is %s: the framed BERT runs on E1 spans only" % (sid, eng.span_by_id[sid].kind))
        if action not in ("start", "stop", "show", "insert", "reset"):
            raise ValueError("action %r is not one of: start, stop, show, insert, reset" % (action,))
        order = args.get("pattern", 15)
        if order not in (11, 15, 20, 23):
            raise ValueError("pattern %r is not one of: 11, 15, 20, 23 (2^n-1, O.151)" % (order,))
        if action != "show":
            eng.submit(eng.bert, sid, action, order, bool(args.get("inverted", False)))
        return eng.bert_status(sid)

    def abcd(args):
        ep = ep_arg(args)
        v = args.get("abcd")
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 15:
            raise ValueError("abcd %r is not 1..15 (0000 would imitate the CAS multiframe word)" % (v,))
        eng._cas_ep(ep)
        eng.submit(eng.cas_set, ep, v)
        return {}

    def r2mf(args):
        ep = ep_arg(args)
        eng._cas_ep(ep)
        eng.submit(eng.r2mf_enable, ep, bool(args.get("on", True)), bool(args.get("backward", False)))
        return {}

    server.handle("chan.abcd", abcd, "Send CAS ABCD bits on a channel of an E1 CAS span: {ep, abcd: 1..15}")
    server.handle("chan.r2mf", r2mf, "Report MFC/R2 register signals heard on {ep} (on, backward: the A/B set)")
    server.handle("span.cas", lambda a: eng.cas_status(span_arg(a)),
                  "CAS bits of a span: multiframe state and the ABCD received per timeslot")
    server.handle("span.loopback", loopback, "Loop a span: {span, mode: off|local|line|payload}")
    server.handle("span.bert", bert, "Framed BERT: {span, action: start|stop|show|insert|reset, pattern, inverted}")
    server.handle("media.connect", connect, "Connect two endpoints both ways: {a, b}")
    server.handle("media.disconnect", lambda a: eng.submit(eng.disconnect, ep_arg(a)) or {}, "Disconnect {ep}")
    server.handle("media.monitor", monitor,
                  "Supervise a call: {sup, caller, agent, mode: listen|whisper|barge|off}")
    server.handle("media.record", record, "Start/stop a recording tap: {call_id, caller, agent} / {call_id, stop: true}")
    def reload_prompts(args):
        if data_dir is None:
            raise ValueError("this media engine has no data directory to load prompts from")
        ps, errors = PromptSet.load(os.path.join(data_dir, "prompts"))
        eng.submit(setattr, eng, "prompts", ps)
        return {"prompts": len(ps), "errors": errors}

    server.handle("media.prompts", reload_prompts, "Load the prompts again (after an upload)")
    server.handle("media.counters", lambda a: dict(eng.counters), "Engine counters (overruns...)")
    server.handle("media.health", lambda a: {"tick": eng.tick_no, "overruns": eng.counters["media:overruns"]},
                  "The tick count (the supervisor feeds the watchdog only while it advances)")
    server.handle("chan.play", play, "Play a prompt or a list of prompts one after the other: {ep, prompt, lang, loop}")
    server.handle("chan.tone", tone, "Play a tone: {ep, plan, tone} | {ep, digits} | {ep, freq, freq2, level}")
    server.handle("chan.stop", lambda a: eng.submit(eng.stop_ep, ep_arg(a)) or {}, "Stop what plays on {ep}")
    server.handle("chan.dtmf", lambda a: eng.submit(eng.dtmf_enable, ep_arg(a), bool(a.get("on", True))) or {},
                  "Report DTMF digits of {ep} (on: bool)")
    server.handle("chan.level", lambda a: eng.level(ep_arg(a)), "Levels in dBm0 of {ep} over the last 20 ms")
    server.handle("span.status", lambda a: eng.status(), "Status, alarms and counters of every span")
    server.handle("span.dchan.tx", dchan_tx, "Send an HDLC frame on a span's D-channel: {span, frame}")
    server.handle("span.impair", impair, "Inject faults on a simulated span: {span, los, ais, ber, slip, fas_errors, "
                  "crc_errors, side: tx (default) | rx}; {span, rai: bool} forces RAI on any span")
    server.handle("seat.status", lambda a: eng.seat_status(), "Seats: plugged, hook state")

    def sip_status(args):
        from callbox.sip import stack as sipstack
        st = sipstack._shared["stack"]
        return st.status() if st is not None else None
    server.handle("seat.sip", sip_status, "The SIP stack of IP seats: ports, counters, blocked addresses")
    server.handle("seat.control", seat_ctl, "Send a control message to a seat's phone: {seat, msg}")


async def amain(args, stop):
    store = Store(args.data_dir)
    loop = asyncio.get_running_loop()
    server = BusServer(socket_path(args.run_dir, "media"), "media")
    sim_dir = os.path.join(args.run_dir, "sim")

    def emit(topic, data):
        loop.call_soon_threadsafe(server.publish, topic, data)

    eng = build_engine(store, args.data_dir, sim_dir, emit)
    store.close()
    register_ops(server, eng, args.data_dir)
    await server.start()
    eng.start()
    log.info("media: %d span(s), %d seat(s), bus at %s", len(eng.spans), len(eng.seats), server.path)
    await stop.wait()
    eng.close()
    await server.close()


def main():
    args = common.parser("media", __doc__).parse_args()
    common.run("media", amain, args)


if __name__ == "__main__":
    main()
