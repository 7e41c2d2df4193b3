"""Timer tables, the Timer helper and ManualClock; the asyncio loop as a clock."""
import asyncio

import pytest

from callbox.signalling import q921, q931_call
from callbox.signalling.timers import ManualClock, Timer, TimerDef, TimerTable

pytestmark = pytest.mark.args

DEFS = (TimerDef("T1", 1.0, "s", "first", 0.5, 5.0), TimerDef("N1", 3, "n", "count", 1, 9))


def test_table_defaults_and_items():
    t = TimerTable(DEFS)
    assert t.get("T1") == 1.0 and t.get("N1") == 3
    assert t.items() == [("T1", 1.0), ("N1", 3)]
    assert "T1=1s" in str(t)


def test_table_overrides_and_set():
    t = TimerTable(DEFS, {"T1": 2})
    assert t.get("T1") == 2.0
    t.set("N1", 5)
    assert t.get("N1") == 5 and isinstance(t.get("N1"), int)


@pytest.mark.parametrize("name,value,words", [
    ("T1", 0.1, ["T1", "0.5..5", "first"]),
    ("T1", 6, ["T1", "0.5..5"]),
    ("N1", "3", ["N1", "not a number"]),
    ("N1", True, ["N1", "not a number"]),
])
def test_table_set_rejects_out_of_range(name, value, words):
    t = TimerTable(DEFS)
    with pytest.raises(ValueError) as e:
        t.set(name, value)
    for w in words:
        assert w in str(e.value)
    assert t.get("T1") == 1.0 and t.get("N1") == 3


def test_table_unknown_and_bad_definitions():
    t = TimerTable(DEFS)
    with pytest.raises(KeyError, match="T9"):
        t.get("T9")
    with pytest.raises(KeyError):
        TimerTable(DEFS, {"T9": 1})
    with pytest.raises(ValueError, match="twice"):
        TimerTable(DEFS + DEFS[:1])
    with pytest.raises(ValueError, match="outside"):
        TimerTable([TimerDef("T2", 9, "s", "x", 1, 2)])


def test_protocol_defaults_are_the_standard_ones():
    l2 = TimerTable(q921.TIMER_DEFS)
    assert (l2.get("T200"), l2.get("T203"), l2.get("N200"), l2.get("k"), l2.get("N201")) == (1.0, 10.0, 3, 7, 260)
    l3 = TimerTable(q931_call.TIMER_DEFS)
    assert dict(l3.items()) == {"T301": 180.0, "T303": 4.0, "T305": 30.0, "T308": 4.0, "T309": 90.0, "T310": 30.0,
                                "T313": 4.0, "T302": 15.0, "T316": 120.0}


def test_manual_clock_order_and_cancel():
    c = ManualClock(start=100)
    seen = []
    c.call_later(2, seen.append, "b")
    c.call_later(1, seen.append, "a1")
    c.call_later(1, seen.append, "a2")
    h = c.call_later(1.5, seen.append, "cancelled")
    h.cancel()
    c.call_later(1, lambda: c.call_later(0.5, seen.append, "nested"))
    assert c.pending() == 4
    assert c.advance(1.7) == 4
    assert seen == ["a1", "a2", "nested"] and c.time() == 101.7
    c.advance(1)
    assert seen[-1] == "b"
    with pytest.raises(ValueError):
        c.advance(-1)


def test_timer_reads_table_at_each_start():
    c = ManualClock()
    t = TimerTable(DEFS)
    fired = []
    tm = Timer(c, t, "T1", lambda: fired.append(c.time()))
    assert tm.start() == 1.0 and tm.running
    t.set("T1", 2.0)                 # a running timer keeps its value
    c.advance(1.0)
    assert fired == [1.0] and not tm.running
    tm.start()
    tm.start()                       # restart, not a second timer
    c.advance(5)
    assert fired == [1.0, 3.0]
    tm.start()
    tm.stop()
    c.advance(5)
    assert fired == [1.0, 3.0]
    with pytest.raises(KeyError):
        Timer(c, t, "T7", lambda: None)


def test_asyncio_loop_is_a_clock():
    loop = asyncio.new_event_loop()
    try:
        t = TimerTable([TimerDef("T1", 0.01, "s", "short", 0.001, 1)])
        fired = []
        tm = Timer(loop, t, "T1", lambda: (fired.append(True), loop.stop()))
        tm.start()
        loop.call_later(1.0, loop.stop)       # safety net
        loop.run_forever()
        assert fired == [True]
    finally:
        loop.close()
