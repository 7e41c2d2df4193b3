"""Shared test helpers."""
import asyncio
import os
import sys
import threading

import pytest

# helpers shared by test modules (tests/boxutil.py), importable under --import-mode=importlib
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


class LoopThread:
    """An asyncio loop on a thread, for servers under test."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro, timeout=10):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, fn, *args):
        async def _c():
            return fn(*args)
        return self.run(_c())

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def loop_thread():
    lt = LoopThread()
    yield lt
    lt.close()


class ManualClock:
    """call_later/time driven by advance(), for pure-logic tests."""

    def __init__(self):
        self.now = 1000.0
        self._timers = []
        self._seq = 0

    def time(self):
        return self.now

    def call_later(self, delay, fn, *args):
        self._seq += 1
        h = _Handle(self.now + delay, self._seq, fn, args)
        self._timers.append(h)
        return h

    def advance(self, seconds):
        end = self.now + seconds
        while True:
            due = sorted((h for h in self._timers if not h.cancelled and h.when <= end), key=lambda h: (h.when, h.seq))
            if not due:
                break
            h = due[0]
            self._timers.remove(h)
            self.now = h.when
            h.fn(*h.args)
        self.now = end


class _Handle:
    def __init__(self, when, seq, fn, args):
        self.when, self.seq, self.fn, self.args = when, seq, fn, args
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


@pytest.fixture
def clock():
    return ManualClock()
