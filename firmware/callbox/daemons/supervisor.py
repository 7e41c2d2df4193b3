"""callbox-supervisor: starts and watches every CallBox daemon.

    callbox-supervisor --data-dir /data --run-dir /run/callbox            (the box)
    callbox-supervisor --sim --data-dir var/data --run-dir var/run        (a PC: make run)

With --sim it also seeds an empty configuration for simulation and runs the
simulated far end (exchange and agents' phones) beside the box.
"""
import asyncio
import json
import logging
import os

from callbox.bus import socket_path
from callbox.bus.client import AsyncBusClient
from callbox.bus.server import BusServer
from callbox.config.defaults import seed_simulation
from callbox.config.store import Store
from callbox.daemons import common
from callbox.supervisor.supervisor import Child, Supervisor, daemon_argv, factory_reset_if_marked

log = logging.getLogger("callbox.supervisor")


def build_children(args):
    children = [
        Child("media", daemon_argv("media", args)),
        Child("recorder", daemon_argv("recorder", args)),
        Child("callctl", daemon_argv("callctl", args)),
        Child("web", daemon_argv("web", args, ["--host", args.web_host, "--port", str(args.web_port)])),
        Child("console", daemon_argv("console", args)),
    ]
    if args.sim:
        children.append(Child("farend", daemon_argv("farend", args, [
            "--rate", str(args.rate), "--talk-s", str(args.talk_s), "--talk-dist", args.talk_dist])))
    return children


def prepare_data(args):
    os.makedirs(args.data_dir, exist_ok=True)
    factory_reset_if_marked(args.data_dir)
    store = Store(args.data_dir)
    if args.sim and seed_simulation(store):
        log.info("seeded a simulation configuration into %s", store.path)
    store.close()
    upd = os.path.join(args.data_dir, "update.json")
    if args.sim and not os.path.exists(upd):
        # the simulated box takes the emulated board's bundles, signed with the development key
        # that `make bundle` makes in build/keys (updates are refused until that key exists)
        repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
        with open(upd, "w") as f:
            json.dump({"compatible": "callbox-qemu-x86_64",
                       "keyring": os.path.join(repo, "build", "keys", "dev.cert.pem")}, f)


def open_board(args):
    """The board the supervisor drives: simulated with --sim, the pin map's GPIO lines and
    watchdog on the box, or none (a PC without --sim)."""
    from callbox.hw.board import Board, BoardError, SimBoard, load_pinmap
    if args.sim:
        return SimBoard(args.run_dir)
    if args.pinmap and os.path.exists(args.pinmap):
        try:
            return Board(load_pinmap(args.pinmap))
        except (BoardError, OSError, ImportError) as e:
            log.error("board: %s; no LEDs and no watchdog", e)
            return None
    log.info("board: no pin map at %s: no LEDs and no watchdog", args.pinmap)
    return None


async def watch_health(args, state, board, stop):
    """Once a second: feed the watchdog while the media tick advances and every daemon runs;
    LEDs follow health and the spans."""
    from callbox.hw.board import Health
    health = Health(board)
    state["health"] = health
    media = AsyncBusClient(socket_path(args.run_dir, "media"), "supervisor")
    media.start()
    try:
        while not stop.is_set():
            await asyncio.sleep(args.health_every)
            try:
                tick = (await media.request("media.health"))["tick"]
                spans = await media.request("span.status")
            except Exception:
                tick, spans = None, []
            running = all(d["state"] == "running" for d in state["sup"].status())
            health.check(tick, running, spans)
    finally:
        await media.close()


async def amain(args, stop):
    prepare_data(args)
    state = {"sup": Supervisor(build_children(args), log_dir=args.log_dir)}
    server = BusServer(socket_path(args.run_dir, "supervisor"), "supervisor")

    async def reboot(reason):
        log.warning("reboot requested: %s", reason)
        await state["sup"].stop()
        if args.reboot_cmd:
            log.warning("running %s", args.reboot_cmd)
            await asyncio.create_subprocess_exec(*args.reboot_cmd.split())
            return
        prepare_data(args)               # a factory reset marked by the console happens here
        state["sup"] = Supervisor(build_children(args), log_dir=args.log_dir)
        state["sup"].start()

    def reboot_op(a):
        reason = str(a.get("reason", "requested"))[:200] if isinstance(a, dict) else "requested"
        asyncio.get_running_loop().call_later(0.5, lambda: asyncio.ensure_future(reboot(reason)))
        return {"rebooting": True, "in_s": 0.5}

    server.handle("sup.status", lambda a: state["sup"].status(), "Daemons: state, pid, restarts, last exit")
    server.handle("sup.health", lambda a: {"healthy": state["health"].healthy, "why": state["health"].why,
                                           "leds": board.leds(), "watchdog_feeds": board.feeds}
                  if board is not None and "health" in state else None,
                  "Health as the watchdog sees it, the LEDs and the feeds (None without a board)")
    server.handle("sup.restart", lambda a: state["sup"].restart(a.get("name")), "Restart a daemon: {name}")
    server.handle("sup.reboot", reboot_op, "Restart the box (every daemon, or the machine with --reboot-cmd): "
                                           "{reason}")
    board = open_board(args)
    await server.start()
    state["sup"].start()
    watcher = asyncio.ensure_future(watch_health(args, state, board, stop)) if board is not None else None
    print("CallBox %s: web UI at http://%s:%d/  (data %s, logs %s)" % (
        "simulation" if args.sim else "box", args.web_host, args.web_port, args.data_dir,
        args.log_dir or "stderr"), flush=True)
    await stop.wait()
    if watcher is not None:
        watcher.cancel()
    await state["sup"].stop()
    if board is not None:
        board.close(disarm=True)          # a clean stop: the watchdog must not reset the machine
    await server.close()


def main():
    p = common.parser("supervisor", __doc__)
    p.add_argument("--sim", action="store_true", help="run in simulation with the far-end simulator")
    p.add_argument("--web-host", default="127.0.0.1")
    p.add_argument("--web-port", type=int, default=8080)
    p.add_argument("--log-dir", default=None, help="write each daemon's log to DIR/<daemon>.log")
    p.add_argument("--reboot-cmd", default=None,
                   help="command that reboots the machine (the image passes 'reboot'); default: restart the daemons")
    p.add_argument("--pinmap", default="/etc/callbox/pinmap.json",
                   help="the board's GPIO lines and watchdog (board/<board>/pinmap.json on the image)")
    p.add_argument("--health-every", type=float, default=1.0, help="seconds between health checks")
    p.add_argument("--rate", type=float, default=0.0, help="simulation: calls per minute")
    p.add_argument("--talk-s", type=float, default=8.0, help="simulation: agents' mean handle time")
    p.add_argument("--talk-dist", choices=["exp", "fixed"], default="exp")
    args = p.parse_args()
    common.run("supervisor", amain, args)


if __name__ == "__main__":
    main()
