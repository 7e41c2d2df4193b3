"""callbox-supervisor: starts and watches every CallBox daemon.

    callbox-supervisor --data-dir /data --run-dir /run/callbox            (the box)
    callbox-supervisor --sim --data-dir var/data --run-dir var/run        (a PC: make run)

With --sim it also seeds an empty configuration for simulation and runs the
simulated far end (exchange and agents' phones) beside the box.
"""
import asyncio
import logging
import os

from callbox.bus import socket_path
from callbox.bus.server import BusServer
from callbox.config.defaults import seed_simulation
from callbox.config.store import Store
from callbox.daemons import common
from callbox.supervisor.supervisor import Child, Supervisor, daemon_argv

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


async def amain(args, stop):
    os.makedirs(args.data_dir, exist_ok=True)
    store = Store(args.data_dir)
    if args.sim and seed_simulation(store):
        log.info("seeded a simulation configuration into %s", store.path)
    store.close()
    sup = Supervisor(build_children(args), log_dir=args.log_dir)
    server = BusServer(socket_path(args.run_dir, "supervisor"), "supervisor")
    server.handle("sup.status", lambda a: sup.status(), "Daemons: state, pid, restarts, last exit")
    server.handle("sup.restart", lambda a: sup.restart(a.get("name")), "Restart a daemon: {name}")
    await server.start()
    sup.start()
    print("CallBox %s: web UI at http://%s:%d/  (data %s, logs %s)" % (
        "simulation" if args.sim else "box", args.web_host, args.web_port, args.data_dir,
        args.log_dir or "stderr"), flush=True)
    await stop.wait()
    await sup.stop()
    await server.close()


def main():
    p = common.parser("supervisor", __doc__)
    p.add_argument("--sim", action="store_true", help="run in simulation with the far-end simulator")
    p.add_argument("--web-host", default="127.0.0.1")
    p.add_argument("--web-port", type=int, default=8080)
    p.add_argument("--log-dir", default=None, help="write each daemon's log to DIR/<daemon>.log")
    p.add_argument("--rate", type=float, default=0.0, help="simulation: calls per minute")
    p.add_argument("--talk-s", type=float, default=8.0, help="simulation: agents' mean handle time")
    p.add_argument("--talk-dist", choices=["exp", "fixed"], default="exp")
    args = p.parse_args()
    common.run("supervisor", amain, args)


if __name__ == "__main__":
    main()
