"""The msgpack bus between daemons: framing, server, clients, and who serves what.

Each daemon serves its own Unix socket ``<run_dir>/<daemon>.sock``. Op and topic
names are dotted; their first word says which daemon serves them (OWNERS).
"""
import os

OWNERS = {
    "span": "media", "chan": "media", "seat": "media", "media": "media", "tone": "media",
    "call": "callctl", "acd": "callctl", "ivr": "callctl", "sig": "callctl",
    "rec": "recorder",
    "sup": "supervisor",
    "farend": "farend",          # the simulated exchange and phones (simulation only)
}


def socket_path(run_dir, daemon):
    """Path of a daemon's bus socket."""
    return os.path.join(run_dir, daemon + ".sock")


def owner(op):
    """Which daemon serves an op ("span.status" -> "media").

    Raises:
        ValueError: the op's first word belongs to no daemon.
    """
    head = op.split(".", 1)[0]
    try:
        return OWNERS[head]
    except KeyError:
        raise ValueError("%s: no daemon serves '%s.*' ops (known: %s)"
                         % (op, head, ", ".join(sorted(OWNERS)))) from None
