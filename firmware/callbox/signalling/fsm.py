"""Transition tables for the signalling state machines.

Each protocol FSM is one table of rows ``(states, event(s), handler, next states)``,
in the spirit of a state-centric FSM framework: all that may happen in one
state can be read from the table, and anything not in it is "not permitted"
and gets the protocol's own answer (Q.931 STATUS, Q.921 ignore), never an
assert. The handler is the name of a method of the protocol object; it returns
the state to enter (one of the row's ``next``) or None to stay.
"""
import contextlib
from collections import deque, namedtuple

Row = namedtuple("Row", "states event handler next")
Row.__doc__ = """One row of a transition table.

Fields:
    states (tuple of str): states in which the row applies.
    event (str or tuple of str): event name(s): a received frame/message, a primitive, a timer.
    handler (str): name of the method that runs the actions.
    next (tuple of str): states the handler may enter (staying is always allowed).
"""


class FsmTable:
    """A checked transition table.

    Args:
        name (str): FSM name for messages ("Q921", "Q931 user").
        states (iterable of str): every state, in display order.
        rows (iterable of Row).

    Raises:
        ValueError: a row names an unknown state, or two rows cover the same (state, event).
    """

    def __init__(self, name, states, rows):
        self.name = name
        self.states = tuple(states)
        self._rows = {}
        for row in rows:
            events = row.event if isinstance(row.event, tuple) else (row.event,)
            for st in tuple(row.states) + tuple(row.next):
                if st not in self.states:
                    raise ValueError("%s table: unknown state %r in row %r" % (name, st, row))
            for st in row.states:
                for ev in events:
                    if (st, ev) in self._rows:
                        raise ValueError("%s table: two rows for (%s, %s)" % (name, st, ev))
                    self._rows[(st, ev)] = row

    def lookup(self, state, event):
        """Returns:
            Row or None: the row for ``event`` in ``state``, None if not permitted.
        """
        return self._rows.get((state, event))

    def permitted(self, state):
        """Returns:
            list of str: the events permitted in ``state``, sorted.
        """
        return sorted(ev for (st, ev) in self._rows if st == state)

    def allows(self, row, old, new):
        """Returns:
            bool: entering ``new`` from ``old`` through ``row`` is in the table.
        """
        return new == old or new in row.next


class Deferred:
    """Mixin: callbacks that run once the current entry point has finished its state changes.

    Every public entry point of a protocol object (a received frame, a primitive, a timer) runs
    inside ``with self._entry():``. Calls to the layer above are ``_post``-ed and run when the
    outermost entry point is done, so the layer above may call straight back in and always finds
    a consistent state. Call ``_init_deferred()`` from ``__init__``.
    """

    def _init_deferred(self):
        self._posted = deque()
        self._depth = 0
        self._flushing = False

    @contextlib.contextmanager
    def _entry(self):
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0 and not self._flushing:
                self._flush()

    def _post(self, fn, *args):
        self._posted.append((fn, args))

    def _flush(self):
        self._flushing = True
        try:
            while self._posted:
                fn, args = self._posted.popleft()
                fn(*args)
            self._after_flush()
        finally:
            self._flushing = False

    def _after_flush(self):
        """Hook: runs after the posted callbacks (LAPD sends a pending acknowledgement here)."""
