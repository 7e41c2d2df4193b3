"""ACD: longest idle first, FIFO, one offer at a time, full ACW, abandon, no answer."""
import pytest


from callbox.acd.acd import Acd


class Call:
    def __init__(self, cid):
        self.call_id = cid
        self.queue = None
        self.queued_at = None
        self.agent = None


class Actions:
    def __init__(self):
        self.log = []

    def offer(self, call, agent):
        self.log.append(("offer", call.call_id, agent.login))

    def cancel_offer(self, call, agent):
        self.log.append(("cancel", call.call_id, agent.login))

    def agent_changed(self, agent):
        pass


@pytest.fixture
def acd(clock):
    a = Acd(clock, Actions())
    a.add_queue("q", acw_s=5, sl_target_s=15, ring_s=10)
    for i, login in enumerate(["1001", "1002", "1003"]):
        a.add_agent(login, login)
        a.login(login, i + 1)
    return a


def test_longest_idle_agent_gets_the_oldest_call(acd, clock):
    acd.ready("1002")
    clock.advance(1)
    acd.ready("1001")
    clock.advance(1)
    acd.ready("1003")
    c1, c2 = Call("c1"), Call("c2")
    acd.enqueue(c1, "q")
    acd.enqueue(c2, "q")
    assert acd.actions.log == [("offer", "c1", "1002"), ("offer", "c2", "1001")]


def test_ties_are_broken_by_login_not_by_chance(acd, clock):
    for login in ("1003", "1001", "1002"):
        acd.ready(login)          # same instant
    acd.enqueue(Call("c1"), "q")
    assert acd.actions.log[0][2] == "1001"


def test_calls_wait_in_fifo_until_an_agent_is_ready(acd, clock):
    calls = [Call("c%d" % i) for i in range(3)]
    for c in calls:
        acd.enqueue(c, "q")
        clock.advance(1)
    assert acd.actions.log == []
    assert acd.queues_snapshot()[0]["waiting"] == 3
    acd.ready("1003")
    assert acd.actions.log == [("offer", "c0", "1003")]


def test_acw_runs_its_full_time_then_ready(acd, clock):
    acd.ready("1001")
    c = Call("c1")
    acd.enqueue(c, "q")
    a = acd.agents["1001"]
    acd.answered(a)
    assert a.state == "on-call"
    clock.advance(30)
    acd.call_ended(a)
    assert a.state == "acw"
    acd.enqueue(Call("c2"), "q")           # a waiting call must not cut ACW short
    clock.advance(4.9)
    assert a.state == "acw"
    clock.advance(0.2)
    assert a.state == "ringing" and acd.actions.log[-1] == ("offer", "c2", "1001")


def test_not_ready_during_a_call_takes_effect_after_acw(acd, clock):
    acd.ready("1001")
    acd.enqueue(Call("c1"), "q")
    a = acd.agents["1001"]
    acd.answered(a)
    acd.not_ready("1001", "lunch")
    assert a.state == "on-call"
    acd.call_ended(a)
    clock.advance(5.1)
    assert (a.state, a.reason) == ("not-ready", "lunch")


def test_no_answer_returns_call_to_head_and_agent_not_ready(acd, clock):
    acd.ready("1001")
    c1, c2 = Call("c1"), Call("c2")
    acd.enqueue(c1, "q")
    acd.enqueue(c2, "q")
    clock.advance(10.1)
    a = acd.agents["1001"]
    assert (a.state, a.reason) == ("not-ready", "missed offers")
    assert ("cancel", "c1", "1001") in acd.actions.log
    acd.ready("1002")
    assert acd.actions.log[-1] == ("offer", "c1", "1002")


def test_abandon_while_ringing_frees_agent_and_counts_once(acd, clock):
    acd.ready("1001")
    c = Call("c1")
    acd.enqueue(c, "q")
    acd.abandon(c)
    assert acd.agents["1001"].state == "ready"
    q = acd.queues_snapshot()[0]
    assert (q["abandoned"], q["answered"]) == (1, 0)


def test_service_level_counts_answers_within_target(acd, clock):
    c1, c2 = Call("c1"), Call("c2")
    acd.enqueue(c1, "q")
    acd.enqueue(c2, "q")
    clock.advance(10)
    acd.ready("1001")
    acd.answered(acd.agents["1001"])       # c1 after 10 s: within 15 s
    clock.advance(10)
    acd.ready("1002")
    acd.answered(acd.agents["1002"])       # c2 after 20 s: outside
    assert acd.queues_snapshot()[0]["sl_pct"] == 50.0


def test_bad_requests_name_the_problem(acd):
    with pytest.raises(ValueError, match="no such agent"):
        acd.ready("9999")
    acd.add_agent("2000", "x")
    with pytest.raises(ValueError, match="already signed in"):
        acd.login("2000", 1)
    with pytest.raises(ValueError, match="no such queue"):
        acd.enqueue(Call("c"), "nope")
