"""callbox health check: exit 0 when every daemon is running and answering, else 1 with why.

Used after an update (the new slot is marked good only when this passes) and by
monitoring. ``python -m callbox.tools.health --run-dir /run/callbox``
"""
import argparse
import sys

from callbox.bus import socket_path
from callbox.bus.client import BusClient
from callbox.errors import BusError

CHECKS = (("supervisor", "sup.status"), ("media", "span.status"), ("callctl", "call.counters"),
          ("recorder", "rec.status"))


def check(run_dir, timeout=3.0):
    """[(name, ok, detail)] for the supervisor's daemons and each daemon's own bus."""
    out = []
    for daemon, op in CHECKS:
        try:
            c = BusClient(socket_path(run_dir, daemon), connect_timeout=timeout)
            try:
                reply = c.request(op, None, timeout)
            finally:
                c.close()
        except (BusError, OSError) as e:
            out.append((daemon, False, str(e)))
            continue
        if daemon == "supervisor":
            down = [d["name"] for d in reply if d.get("state") != "running"]
            out.append((daemon, not down, "all running" if not down else "not running: " + ", ".join(down)))
        else:
            out.append((daemon, True, "answers %s" % op))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="callbox-health", description=__doc__.splitlines()[0])
    ap.add_argument("--run-dir", default="/run/callbox")
    a = ap.parse_args(argv)
    results = check(a.run_dir)
    for name, ok, detail in results:
        print("%-10s %s %s" % (name, "ok  " if ok else "FAIL", detail))
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
