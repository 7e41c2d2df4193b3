"""callbox-farend: the simulated world around the box (simulation only).

The far-end exchange on the other end of every simulated span, and one
simulated phone with a signed-in agent on every simulated seat. It reads the
box's configuration only to learn which simulated spans and seats exist.
"""
import asyncio
import logging
import os

from callbox import hw
from callbox.bus import socket_path
from callbox.bus.server import BusServer
from callbox.calls.pri_span import PriSpan
from callbox.config.store import Store
from callbox.daemons import common
from callbox.media.engine import Engine
from callbox.sim.exchange import Exchange
from callbox.sim.phone import SimPhone, talk_time

log = logging.getLogger("callbox.farend")


def far_url(box_url, offset):
    """sim://pairA/0 -> sim://pairA/1?offset=N (the far end starts out of frame on purpose)."""
    base = box_url.split("?")[0]
    if not base.endswith("/0"):
        raise ValueError("span backend %s is not the box end (/0) of a sim pair" % box_url)
    return base[:-1] + "1?offset=%d" % offset


async def amain(args, stop):
    loop = asyncio.get_running_loop()
    sim_dir = os.path.join(args.run_dir, "sim")
    store = Store(args.data_dir)
    server = BusServer(socket_path(args.run_dir, "farend"), "farend")
    holder = {}

    def emit(topic, data):
        loop.call_soon_threadsafe(dispatch, topic, data)

    def dispatch(topic, data):
        if topic.startswith("farend."):
            server.publish(topic, data)
        elif "ex" in holder:
            holder["ex"].on_engine_event(topic, data)

    spans = []
    for i, s in enumerate(store.spans()):
        if s["enabled"] and s["backend"].startswith("sim://"):
            ln = hw.open_line(far_url(s["backend"], 37 + 61 * i), sim_dir=sim_dir, kind=s.get("kind") or "E1")
            spans.append((s["id"], dict(s), ln.open()))
    eng = Engine(spans, [], {}, emit, name="farend")
    ex = Exchange(eng, loop, server.publish, PriSpan, digit_delay_s=args.digit_delay)
    holder["ex"] = ex
    talk = talk_time(args.talk_s, args.talk_dist)
    agents = [a["login"] for a in store.agents()]
    phones = []
    for i, seat in enumerate(store.seats()):
        if seat["backend"].startswith("sim://") and i < len(agents):
            phones.append(SimPhone(seat["id"], agents[i], os.path.join(sim_dir, "seat%d.sock" % seat["id"]),
                                   emit, talk))
    for ph in phones:
        eng.after_tick.append(ph.tick)
    store.close()

    server.handle("farend.call", lambda a: ex.place_call(str(a.get("dnis", "10086")), a.get("ani"),
                                                          str(a.get("digits", "1")), a.get("hangup_after_s")),
                  "Place a call into the box: {dnis, ani, digits, hangup_after_s}")
    server.handle("farend.hangup", lambda a: ex.hangup(a.get("id")) or {}, "Hang up a far-end call: {id}")
    server.handle("farend.calls", lambda a: [c.snapshot() for c in ex.calls.values()], "Far-end calls")
    server.handle("farend.traffic", lambda a: ex.set_rate(a.get("rate_per_min", 0)), "Set the call rate: {rate_per_min}")
    server.handle("farend.status", lambda a: dict(ex.status(), phones=[
        {"seat": p.seat, "agent": p.agent, "state": p.state, "calls": p.calls} for p in phones]),
        "Links, calls, phones")
    await server.start()
    eng.start()
    if args.rate:
        ex.set_rate(args.rate)
    log.info("farend: %d span(s), %d phone(s), %.1f calls/min", len(eng.spans), len(phones), args.rate)
    await stop.wait()
    eng.close()
    await server.close()


def main():
    p = common.parser("farend", __doc__)
    p.add_argument("--rate", type=float, default=0.0, help="calls per minute placed automatically (default 0)")
    p.add_argument("--talk-s", type=float, default=8.0, help="agents' mean handle time in seconds (default 8)")
    p.add_argument("--talk-dist", choices=["exp", "fixed"], default="exp", help="handle-time distribution")
    p.add_argument("--digit-delay", type=float, default=1.0, help="seconds from answer to the caller's DTMF")
    args = p.parse_args()
    common.run("farend", amain, args)


if __name__ == "__main__":
    main()
