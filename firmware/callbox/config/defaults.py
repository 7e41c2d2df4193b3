"""The configuration a simulated box starts with (``make run`` and the system tests).

Two E1 PRI spans on simulated pairs, one queue, agents 1001.. on simulated
seats, the default IVR flow and a catch-all route to it. Applied only to an
empty database, so an admin's changes are never overwritten.
"""
from callbox.calls.ivr import DEFAULT_FLOW


def seed_simulation(store, spans=2, seats=6):
    """Fill an empty config store with the simulation's configuration. Returns True if it did."""
    if store.spans() or store.seats():
        return False
    for i in range(spans):
        store.put_span({"id": i, "name": "span%d" % i, "kind": "E1", "framing": "crc4", "line_code": "hdb3",
                        "signalling": "pri", "side": "user", "backend": "sim://pair%d/0" % i})
    for n in range(1, seats + 1):
        store.put_seat({"id": n, "name": "seat %d" % n, "backend": "sim://seat/%d" % n})
        store.put_agent({"login": "%d" % (1000 + n), "name": "Agent %d" % n, "skills": {"support": 1}})
    store.put_queue({"name": "support", "acw_s": 3, "sl_target_s": 15})
    store.put_ivr_flow("default", DEFAULT_FLOW)
    store.put_route("*", "ivr:default")
    return True
