"""Protocol timers: one table of definitions per protocol, and an injected clock.

Design notes
------------
* Every protocol keeps its timers (and its few retry counters, such as Q.921
  N200) in a ``TimerTable`` built from ``TimerDef`` rows: name as the standard
  numbers it (``T200``, ``T303``; ``X...`` for a local, non-standard one),
  default, unit, description and the range a configuration may set. Values can
  be changed at run time; a running timer keeps the value it was started with,
  the next start uses the new one.
* The clock is injected. Anything with ``call_later(delay_s, fn, *args)``
  returning a handle with ``.cancel()``, and ``time()``, will do: the asyncio
  event loop in the daemons, ``ManualClock`` in tests. The protocol code never
  sleeps and never reads the wall clock, so a test drives minutes of protocol
  time in microseconds and its logs are reproducible.
"""
import heapq
import itertools
from collections import namedtuple

TimerDef = namedtuple("TimerDef", "name default unit desc min max")
TimerDef.__doc__ = """One timer (or counter) of a protocol, as the standard defines it.

Fields:
    name (str): "T200", "N200", "T303"; "X..." for local timers.
    default (float): value used unless the configuration overrides it.
    unit (str): "s" for timers, "n" for counts.
    desc (str): what it guards, for consoles and logs.
    min, max (float): the range a configuration may set.
"""


class TimerTable:
    """The timers of one protocol instance, with their current values.

    Args:
        defs (iterable of TimerDef): the protocol's definitions.
        overrides (dict or None): name -> value, applied through ``set`` (so validated).

    Raises:
        ValueError: duplicate definition, a default outside its own range, or a bad override.
        KeyError: an override names a timer the protocol does not have.
    """

    def __init__(self, defs, overrides=None):
        self._defs = {}
        self._values = {}
        for d in defs:
            if d.name in self._defs:
                raise ValueError("Timer table: %s defined twice" % d.name)
            if not d.min <= d.default <= d.max:
                raise ValueError("Timer table: %s default %g outside its range %g..%g"
                                 % (d.name, d.default, d.min, d.max))
            self._defs[d.name] = d
            self._values[d.name] = d.default
        for name, value in (overrides or {}).items():
            self.set(name, value)

    def _def(self, name):
        try:
            return self._defs[name]
        except KeyError:
            raise KeyError("unknown timer %r, known: %s" % (name, ", ".join(self._defs))) from None

    def get(self, name):
        """Args:
            name (str): timer name.

        Returns:
            float (int for counts): the current value.

        Raises:
            KeyError: no such timer.
        """
        self._def(name)
        return self._values[name]

    def set(self, name, value):
        """Change a timer's value (used from the next start on).

        Args:
            name (str): timer name.
            value (int or float): new value, within the definition's range.

        Raises:
            KeyError: no such timer.
            ValueError: value is not a number or is outside the range; the message names the timer and range.
        """
        d = self._def(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("%s: %r is not a number (%s, range %g..%g %s)"
                             % (name, value, d.desc, d.min, d.max, d.unit))
        if not d.min <= value <= d.max:
            raise ValueError("%s: %g is outside the range %g..%g %s (%s)" % (name, value, d.min, d.max, d.unit, d.desc))
        self._values[name] = int(value) if d.unit == "n" else float(value)

    def definition(self, name):
        """Returns:
            TimerDef: the definition of ``name`` (KeyError if unknown).
        """
        return self._def(name)

    def items(self):
        """Returns:
            list of (name, value), in definition order.
        """
        return [(name, self._values[name]) for name in self._defs]

    def __iter__(self):
        return iter(self._defs.values())

    def __str__(self):
        return "TimerTable(%s)" % ", ".join("%s=%g%s" % (n, v, self._defs[n].unit) for n, v in self.items())


class Timer:
    """One named timer of a protocol instance, started from its TimerTable.

    ``start()`` reads the table each time, so a value changed at run time
    takes effect on the next start. On expiry ``callback()`` is called with no
    arguments, after ``running`` has gone False (so the callback may restart it).

    Args:
        clock: object with call_later()/time().
        table (TimerTable): where the value comes from.
        name (str): timer name in the table.
        callback (callable): called on expiry.
    """

    def __init__(self, clock, table, name, callback):
        table.definition(name)
        self.clock = clock
        self.table = table
        self.name = name
        self.callback = callback
        self.value = None
        self._handle = None

    @property
    def running(self):
        """bool: the timer is started and has not expired or been stopped."""
        return self._handle is not None

    def start(self):
        """(Re)start the timer with the table's current value.

        Returns:
            float: the value in seconds.
        """
        self.stop()
        self.value = self.table.get(self.name)
        self._handle = self.clock.call_later(self.value, self._expired)
        return self.value

    def stop(self):
        """Stop the timer if it is running (no callback)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _expired(self):
        self._handle = None
        self.callback()

    def __repr__(self):
        return "Timer(%s, %s)" % (self.name, "running %gs" % self.value if self.running else "stopped")


class _ManualHandle:
    __slots__ = ("when", "fn", "args", "cancelled")

    def __init__(self, when, fn, args):
        self.when = when
        self.fn = fn
        self.args = args
        self.cancelled = False

    def cancel(self):
        self.cancelled = True

    def __repr__(self):
        return "<ManualHandle at %g%s>" % (self.when, " cancelled" if self.cancelled else "")


class ManualClock:
    """A clock for tests: time moves only when ``advance()`` is called.

    Callbacks run in order of their due time, then in the order they were
    scheduled; a callback scheduled while advancing runs in the same advance if
    it falls due before its end. ``time()`` during a callback is its due time.

    Args:
        start (float): initial time in seconds.
    """

    def __init__(self, start=0.0):
        self._now = float(start)
        self._heap = []
        self._seq = itertools.count()

    def time(self):
        """Returns:
            float: the current (simulated) time in seconds.
        """
        return self._now

    def call_later(self, delay_s, fn, *args):
        """Schedule fn(*args) after delay_s seconds (a negative delay counts as 0).

        Returns:
            handle with cancel().
        """
        h = _ManualHandle(self._now + max(0.0, float(delay_s)), fn, args)
        heapq.heappush(self._heap, (h.when, next(self._seq), h))
        return h

    def advance(self, seconds):
        """Move time forward by ``seconds``, running every callback that falls due.

        Returns:
            int: number of callbacks run.

        Raises:
            ValueError: negative ``seconds``.
        """
        if seconds < 0:
            raise ValueError("ManualClock.advance: %g is negative" % seconds)
        end = self._now + seconds
        ran = 0
        while self._heap and self._heap[0][0] <= end:
            when, _, h = heapq.heappop(self._heap)
            if h.cancelled:
                continue
            self._now = when
            h.fn(*h.args)
            ran += 1
        self._now = end
        return ran

    def pending(self):
        """Returns:
            int: callbacks scheduled and not cancelled.
        """
        return sum(1 for _, _, h in self._heap if not h.cancelled)
