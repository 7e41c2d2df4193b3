"""callbox-callctl: signalling, call routing, IVR and ACD."""
import logging

from callbox.bus import socket_path
from callbox.bus.client import AsyncBusClient
from callbox.bus.server import BusServer
from callbox.calls.control import CallControl
from callbox.calls.pri_span import PriSpan
from callbox.config.store import Store
from callbox.daemons import common

log = logging.getLogger("callbox.callctl")


async def amain(args, stop):
    import asyncio
    loop = asyncio.get_running_loop()
    store = Store(args.data_dir)
    server = BusServer(socket_path(args.run_dir, "callctl"), "callctl")
    holder = {}

    def on_event(topic, data):
        cc = holder.get("cc")
        if cc is not None:
            cc.on_media_event(topic, data)

    async def resync():
        try:
            spans = await media.request("span.status")
        except Exception as e:
            log.warning("callctl: reading span status after connecting to media: %s", e)
            return
        try:
            seats = await media.request("seat.status")
        except Exception as e:
            log.warning("callctl: reading seat status after connecting to media: %s", e)
            seats = []
        holder["cc"].media_status(spans, seats)

    media = AsyncBusClient(socket_path(args.run_dir, "media"), "callctl", on_event,
                           topics=["span.", "chan.", "seat."],
                           on_connect=lambda: asyncio.ensure_future(resync()))
    cc = CallControl(store, media, server.publish, loop, PriSpan)
    holder["cc"] = cc

    def set_agent(a):
        login, state = str(a.get("login")), a.get("state")
        if state == "ready":
            cc.acd.ready(login)
        elif state == "not-ready":
            cc.acd.not_ready(login, str(a.get("reason", "break")))
        elif state == "logged-out":
            cc.acd.logout(login)
        elif state == "end-acw":
            cc.acd.end_acw(login)
        elif state == "login":
            seat = a.get("seat")
            if isinstance(seat, bool) or not isinstance(seat, int):
                raise ValueError("seat %r must be a seat number" % (seat,))
            cc.acd.login(login, seat).reachable = cc.seat_up.get(seat, True)
        else:
            raise ValueError("state %r is not login, ready, not-ready, end-acw or logged-out" % state)
        return cc.acd.agents[login].snapshot(cc.acd.wall_offset)

    def agent_action(a):
        login = str(a.get("login", ""))
        agent = cc.acd.agents.get(login)
        if agent is None:
            raise ValueError("agent %r: no such agent" % login)
        action, target = a.get("action"), str(a.get("target", "")).strip()
        if action in ("hold", "unhold"):
            cc.hold(agent, action == "hold")
        elif action in ("transfer", "consult"):
            if not target:
                raise ValueError("%s needs a target: an agent's login or a number, queue:<name>, ivr:<flow>" % action)
            if ":" not in target:
                target = "number:" + target
            (cc.transfer if action == "transfer" else cc.consult)(agent, target)
        elif action == "complete":
            cc.consult_complete(agent)
        elif action == "cancel":
            cc.consult_cancel(agent)
        else:
            raise ValueError("action %r is not hold, unhold, transfer, consult, complete or cancel" % (action,))
        return {"login": login, "action": action}

    server.handle("call.agent_action", agent_action,
                  "An agent's call: {login, action: hold|unhold|transfer|consult|complete|cancel, target}")
    server.handle("call.list", lambda a: cc.list_calls(), "Calls in progress")
    def ladder(a):
        cid = a.get("call_id")
        if not isinstance(cid, str) or not cid:
            raise ValueError("call_id must be a call id such as 20261122101500-0001-s0c1")
        return cc.ladder(cid)

    server.handle("call.ladder", ladder,
                  "The signalling ladder of a call in progress: {call_id} -> [[t, dir, text], ...] or None "
                  "(ended calls: their 'signalling' event)")
    server.handle("call.hangup", lambda a: cc.hangup_request(a.get("call_id")), "Clear a call: {call_id}")
    server.handle("call.monitor", lambda a: cc.monitor(a.get("call_id"), a.get("seat"), a.get("mode")),
                  "Supervise a connected call from a seat: {call_id, seat, mode: listen|whisper|barge|off}")
    server.handle("call.counters", lambda a: dict(cc.counters), "Call counters")
    server.handle("acd.agents", lambda a: cc.acd.agents_snapshot(), "Agents and their states")
    server.handle("acd.queues", lambda a: cc.acd.queues_snapshot(), "Queues: waiting, longest wait, today's counts")
    server.handle("acd.agent.set_state", set_agent, "Set an agent's state: {login, state, reason}")
    server.handle("acd.reload", lambda a: cc.reload_routing(), "Re-read queues, agents, IVR flows and routes now")
    server.handle("sig.status", lambda a: [sp.status() for sp in cc.spans.values()], "Signalling state per span")
    async def recheck():
        # span.state events are the fast path; this re-reads the spans every few seconds so a
        # state change missed around a (re)connection cannot leave a span's signalling stopped
        while True:
            await asyncio.sleep(5.0)
            try:
                spans = await media.request("span.status")
            except Exception:
                continue
            for s in spans:
                sp = cc.spans.get(s["span"])
                if sp is not None and bool(s["up"]) != sp.line_is_up:
                    log.warning("span %d: state %s missed; applied now", s["span"], "up" if s["up"] else "down")
                    (sp.line_up if s["up"] else sp.line_down)()

    await server.start()
    media.start()
    checker = asyncio.ensure_future(recheck())
    await stop.wait()
    checker.cancel()
    await media.close()
    await server.close()
    store.close()


def main():
    args = common.parser("callctl", __doc__).parse_args()
    common.run("callctl", amain, args)


if __name__ == "__main__":
    main()
