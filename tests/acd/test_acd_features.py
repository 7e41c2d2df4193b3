"""ACD features: skills, priorities, strategies, ring-all, overflow, queue rules, callbacks,
missed offers, breaks, and the order for agents in several queues."""
import pytest

from callbox.acd.acd import STRATEGIES, Acd


class Call:
    def __init__(self, cid, ani=""):
        self.call_id = cid
        self.ani = ani
        self.queue = None
        self.queued_at = None
        self.agent = None


class Actions:
    def __init__(self):
        self.log = []
        self.exits = []
        self.alerts = []
        self.events = []

    def offer(self, call, agent):
        self.log.append(("offer", call.call_id, agent.login))

    def cancel_offer(self, call, agent):
        self.log.append(("cancel", call.call_id, agent.login))

    def agent_changed(self, agent):
        pass

    def queue_exit(self, call, dest, reason):
        self.exits.append((call.call_id, dest, reason))

    def alert(self, kind, detail):
        self.alerts.append((kind, detail))

    def event(self, call, name, detail):
        self.events.append((call.call_id, name, detail))

    def offers(self):
        return [e[1:] for e in self.log if e[0] == "offer"]


def make(clock, agents, queues, **kw):
    acd = Acd(clock, Actions(), **kw)
    for name, qkw in queues.items():
        acd.add_queue(name, **qkw)
    for i, (login, skills) in enumerate(agents.items()):
        acd.add_agent(login, login, skills)
        acd.login(login, i + 1)
    acd.check_config()
    return acd


def serve(acd, login, n):
    """The agent takes n calls one after the other; returns the call ids in the order taken."""
    a = acd.agents[login]
    acd.ready(login)
    taken = []
    for _ in range(n):
        assert a.state == "ringing"
        taken.append(a.call.call_id)
        acd.answered(a)
        acd.call_ended(a)
        acd.end_acw(login)
    return taken


def ready_in_order(acd, clock, logins):
    for login in logins:
        acd.ready(login)
        clock.advance(1)


def test_skills_decide_who_serves_a_queue(clock):
    acd = make(clock, {"a1": {"en": 5}, "a2": {"zh": 5}, "a3": {"zh": 2}},
               {"zh": {"skills": {"zh": 3}}})
    ready_in_order(acd, clock, ["a1", "a3", "a2"])
    acd.enqueue(Call("c1"), "zh")
    assert acd.actions.offers() == [("c1", "a2")]     # a1 lacks zh, a3's level is too low


def test_vip_priority_goes_first_then_fifo(clock):
    acd = make(clock, {"a1": {}}, {"q": {}})
    for cid, prio in (("c1", 0), ("c2", 0), ("vip", 5), ("c3", 0)):
        acd.enqueue(Call(cid), "q", priority=prio)
        clock.advance(1)
    served = serve(acd, "a1", 4)
    assert served == ["vip", "c1", "c2", "c3"]


@pytest.mark.parametrize("strategy, expected", [
    ("longest-idle", ["a2", "a3", "a1"]),
    ("most-skills", ["a3", "a1", "a2"]),
    ("round-robin", ["a1", "a2", "a3"]),
])
def test_strategies_pick_as_documented(clock, strategy, expected):
    acd = make(clock, {"a1": {"x": 1, "y": 1}, "a2": {"x": 1}, "a3": {"x": 1, "y": 1, "z": 1}},
               {"q": {"strategy": strategy, "acw_s": 0}})
    ready_in_order(acd, clock, ["a2", "a3", "a1"])
    picked = []
    for i in range(3):
        acd.enqueue(Call("c%d" % i), "q")
        picked.append(acd.actions.offers()[-1][1])
        # keep the picked agent busy so the next call goes elsewhere
        acd.answered(acd.agents[picked[-1]])
    assert picked == expected


def test_round_robin_remembers_the_last_agent(clock):
    acd = make(clock, {"a1": {}, "a2": {}, "a3": {}}, {"q": {"strategy": "round-robin", "acw_s": 0}})
    ready_in_order(acd, clock, ["a1", "a2", "a3"])
    picked = []
    for i in range(5):
        acd.enqueue(Call("c%d" % i), "q")
        login = acd.actions.offers()[-1][1]
        picked.append(login)
        a = acd.agents[login]
        acd.answered(a)
        acd.call_ended(a)
        clock.advance(0.01)               # ACW 0: ready again
    assert picked == ["a1", "a2", "a3", "a1", "a2"]


def test_fewest_calls_balances_work(clock):
    acd = make(clock, {"a1": {}, "a2": {}}, {"q": {"strategy": "fewest-calls", "acw_s": 0}})
    ready_in_order(acd, clock, ["a1", "a2"])
    a1 = acd.agents["a1"]
    acd.enqueue(Call("c0"), "q")
    assert acd.actions.offers()[-1] == ("c0", "a1")
    acd.answered(a1)
    acd.call_ended(a1)
    clock.advance(0.01)                   # a1 is ready again and now idle for less time than a2,
    acd.enqueue(Call("c1"), "q")          # but has more calls: a2 gets it
    assert acd.actions.offers()[-1] == ("c1", "a2")


def test_random_strategies_are_reproducible_and_use_every_agent(clock):
    def run(strategy, seed):
        acd = make(clock, {"a1": {"x": 1}, "a2": {"x": 9}, "a3": {"x": 1}},
                   {"q": {"strategy": strategy, "skills": {"x": 1}, "acw_s": 0}}, seed=seed)
        ready_in_order(acd, clock, ["a1", "a2", "a3"])
        picks = []
        for i in range(300):
            acd.enqueue(Call("c%d" % i), "q")
            login = acd.actions.offers()[-1][1]
            picks.append(login)
            a = acd.agents[login]
            acd.answered(a)
            acd.call_ended(a)
            clock.advance(0.01)
        return picks
    r1, r2 = run("random", 7), run("random", 7)
    assert r1 == r2 and set(r1) == {"a1", "a2", "a3"}
    w = run("weighted-random", 3)
    # a2's weight is 9 of 11
    assert w.count("a2") > 0.65 * len(w) and w.count("a1") > 0 and w.count("a3") > 0


def test_ring_all_exactly_one_winner_and_losers_cancelled_after(clock):
    acd = make(clock, {"a1": {}, "a2": {}, "a3": {}}, {"q": {"strategy": "ring-all"}})
    ready_in_order(acd, clock, ["a1", "a2", "a3"])
    c = Call("c1")
    acd.enqueue(c, "q")
    assert sorted(acd.actions.offers()) == [("c1", "a1"), ("c1", "a2"), ("c1", "a3")]
    a1, a2, a3 = (acd.agents[x] for x in ("a1", "a2", "a3"))
    assert acd.answered(a2) is True
    assert acd.answered(a1) is False          # the race: the second pick-up loses
    # nobody is cancelled before the winner's connection is made (same clock turn)
    assert not [e for e in acd.actions.log if e[0] == "cancel"]
    clock.advance(0)
    assert sorted(e for e in acd.actions.log if e[0] == "cancel") == [("cancel", "c1", "a1"), ("cancel", "c1", "a3")]
    assert (a1.state, a2.state, a3.state) == ("ready", "on-call", "ready")
    assert acd.queues_snapshot()[0]["answered"] == 1


def test_agent_in_several_queues_takes_the_longest_waiting_call(clock):
    acd = make(clock, {"a1": {"s": 1, "b": 1}}, {"sales": {"skills": {"s": 1}}, "billing": {"skills": {"b": 1}}})
    acd.enqueue(Call("s1"), "sales")
    clock.advance(1)
    acd.enqueue(Call("b1"), "billing")
    clock.advance(1)
    acd.enqueue(Call("s2"), "sales")
    order = serve(acd, "a1", 3)
    assert order == ["s1", "b1", "s2"]        # global FIFO, not queue order or name order


def test_acw_is_not_cut_short_by_other_queues(clock):
    acd = make(clock, {"a1": {"s": 1, "b": 1}},
               {"sales": {"skills": {"s": 1}, "acw_s": 30}, "billing": {"skills": {"b": 1}, "acw_s": 5}})
    acd.ready("a1")
    acd.enqueue(Call("s1"), "sales")
    a = acd.agents["a1"]
    acd.answered(a)
    acd.call_ended(a)
    acd.enqueue(Call("b1"), "billing")       # billing's shorter ACW must not apply
    clock.advance(29)
    assert a.state == "acw"
    clock.advance(1.1)
    assert a.state == "ringing" and acd.actions.offers()[-1] == ("b1", "a1")


def test_agent_ends_acw_early(clock):
    acd = make(clock, {"a1": {}}, {"q": {"acw_s": 60}})
    acd.ready("a1")
    acd.enqueue(Call("c1"), "q")
    a = acd.agents["a1"]
    acd.answered(a)
    acd.call_ended(a)
    with pytest.raises(ValueError, match="not in after-call work"):
        acd.end_acw("a1") or acd.end_acw("a1")
    assert a.state == "ready"


def test_overflow_keeps_the_callers_place(clock):
    acd = make(clock, {"a1": {"s": 1}, "b1": {"b": 1}},
               {"sales": {"skills": {"s": 1}, "overflow_s": 30, "overflow_to": ["billing"]},
                "billing": {"skills": {"b": 1}}})
    acd.enqueue(Call("s1"), "sales")
    clock.advance(10)
    acd.enqueue(Call("b1"), "billing")
    clock.advance(25)                         # s1 overflowed to billing at t=30, ahead of b1
    acd.ready("b1")
    assert acd.actions.offers() == [("s1", "b1")]
    assert any(e[1] == "overflow" for e in acd.actions.events)


def test_max_wait_sends_the_call_to_its_destination(clock):
    acd = make(clock, {"a1": {}}, {"q": {"max_wait_s": 60, "timeout_dest": "voicemail:q"}})
    acd.enqueue(Call("c1"), "q")
    clock.advance(60.1)
    assert acd.actions.exits == [("c1", "voicemail:q", "timeout")]
    acd.ready("a1")
    assert acd.actions.offers() == []         # the call is gone from the queue


def test_max_len_and_join_empty(clock):
    acd = make(clock, {"a1": {}}, {"q": {"max_len": 2, "full_dest": "queue:other"}, "other": {},
                                   "closed": {"join_empty": False, "empty_dest": "voicemail:closed",
                                              "skills": {"none": 1}}})
    assert acd.enqueue(Call("c1"), "q") is None
    assert acd.enqueue(Call("c2"), "q") is None
    assert acd.enqueue(Call("c3"), "q") == "queue:other"
    assert acd.enqueue(Call("c4"), "closed") == "voicemail:closed"
    assert acd.actions.exits == [("c3", "queue:other", "full"), ("c4", "voicemail:closed", "empty")]
    snap = {q["name"]: q for q in acd.queues_snapshot()}
    assert snap["q"]["blocked"] == 1 and snap["closed"]["blocked"] == 1


def test_leave_empty_when_the_last_agent_signs_out(clock):
    acd = make(clock, {"a1": {}}, {"q": {"leave_empty": True, "empty_dest": "voicemail:q"}})
    acd.enqueue(Call("c1"), "q")
    acd.logout("a1")
    assert acd.actions.exits == [("c1", "voicemail:q", "empty")]


def test_missed_offers_pause_after_n(clock):
    acd = make(clock, {"a1": {}, "a2": {}}, {"q": {"ring_s": 10}}, max_missed=2)
    acd.ready("a1")
    clock.advance(1)
    acd.enqueue(Call("c1"), "q")
    clock.advance(10.1)                  # a1 misses once: stays ready, c1 waits for someone else
    a1 = acd.agents["a1"]
    assert a1.state == "ringing" and acd.actions.offers()[-1] == ("c1", "a1")  # nobody else: offered again
    clock.advance(10.1)
    assert (a1.state, a1.reason) == ("not-ready", "missed offers")
    assert acd.actions.alerts[-1][0] == "agent-paused"
    acd.ready("a2")
    assert acd.actions.offers()[-1] == ("c1", "a2")


def test_missed_offer_goes_to_another_ready_agent(clock):
    acd = make(clock, {"a1": {}, "a2": {}}, {"q": {"ring_s": 10}}, max_missed=3)
    ready_in_order(acd, clock, ["a1", "a2"])
    acd.enqueue(Call("c1"), "q")
    clock.advance(10.1)
    assert acd.actions.offers() == [("c1", "a1"), ("c1", "a2")]


def test_break_overrun_alerts_the_supervisor(clock):
    acd = make(clock, {"a1": {}}, {"q": {}}, break_limits={"lunch": 1800})
    acd.not_ready("a1", "lunch")
    clock.advance(1799)
    assert acd.actions.alerts == []
    clock.advance(2)
    assert acd.actions.alerts == [("break-overrun", {"agent": "a1", "reason": "lunch", "limit_s": 1800})]


def test_unreachable_seats_are_skipped(clock):
    acd = make(clock, {"a1": {}, "a2": {}}, {"q": {}})
    ready_in_order(acd, clock, ["a1", "a2"])
    acd.set_reachable("a1", False)
    acd.enqueue(Call("c1"), "q")
    assert acd.actions.offers() == [("c1", "a2")]


def test_callback_keeps_its_place_and_is_never_duplicated(clock):
    acd = make(clock, {"a1": {}}, {"q": {}})
    c1, c2, c3 = Call("c1", "111"), Call("c2", "222"), Call("c3", "333")
    for c in (c1, c2, c3):
        acd.enqueue(c, "q")
        clock.advance(5)
    cb, new = acd.request_callback(c2, "13800000000")
    assert new and acd.position(cb) == 2                 # c2's place, behind c1, ahead of c3
    # the same caller calls again and asks again: no second callback
    c2b = Call("c2b", "222")
    acd.enqueue(c2b, "q")
    cb2, new2 = acd.request_callback(c2b, "13800000000")
    assert cb2 is cb and not new2
    order = serve(acd, "a1", 3)
    assert order == ["c1", cb.call_id, "c3"]
    snap = acd.queues_snapshot()[0]
    assert snap["abandoned"] == 0 and snap["callbacks"] == 1


def test_position_and_expected_wait_follow_the_queue(clock):
    acd = make(clock, {"a1": {}, "a2": {}}, {"q": {"default_aht_s": 120}})
    ready_in_order(acd, clock, ["a1", "a2"])
    calls = [Call("c%d" % i) for i in range(7)]
    for c in calls:
        acd.enqueue(c, "q")
    assert [acd.position(c) for c in calls] == [0, 0, 1, 2, 3, 4, 5]   # c0, c1 are ringing
    assert acd.expected_wait(calls[5]) == 240.0          # 4th in line: 4 x 120 s over 2 agents
    acd.abandon(calls[3])
    assert acd.position(calls[5]) == 3
    assert acd.expected_wait(calls[5]) == 180.0


def test_answered_call_is_never_counted_abandoned(clock):
    acd = make(clock, {"a1": {}}, {"q": {}})
    acd.ready("a1")
    c = Call("c1")
    acd.enqueue(c, "q")
    acd.answered(acd.agents["a1"])
    acd.abandon(c)                        # the caller hangs up during the conversation
    snap = acd.queues_snapshot()[0]
    assert (snap["answered"], snap["abandoned"]) == (1, 0)


@pytest.mark.parametrize("kw, msg", [
    ({"strategy": "best"}, "strategy 'best' is not one of"),
    ({"acw_s": -1}, "acw_s = -1 must be a number"),
    ({"ring_s": 0}, "ring_s must be more than 0"),
    ({"skills": {"zh": 11}}, "skill 'zh' level 11"),
    ({"timeout_dest": "mars:x"}, "timeout_dest: destination 'mars:x'"),
    ({"overflow_s": 10}, "overflow_to names no queue"),
    ({"colour": "red"}, "unknown setting"),
])
def test_impossible_queue_settings_are_refused_by_name(clock, kw, msg):
    acd = Acd(clock, Actions())
    with pytest.raises(ValueError, match=msg):
        acd.add_queue("q", **kw)


def test_cross_queue_references_are_checked(clock):
    acd = Acd(clock, Actions())
    acd.add_queue("q", overflow_s=10, overflow_to=["nowhere"])
    with pytest.raises(ValueError, match="overflow_to names 'nowhere'"):
        acd.check_config()


def test_every_strategy_serves_every_call_under_load(clock):
    """No lock-up: 200 calls through 5 agents for each strategy; every call is answered once."""
    for strategy in STRATEGIES:
        acd = make(clock, {"a%d" % i: {} for i in range(5)}, {"q": {"strategy": strategy, "acw_s": 1}})
        ready_in_order(acd, clock, ["a%d" % i for i in range(5)])
        answered = []

        def on_offer(call, agent, acd=acd, answered=answered):
            clock.call_later(0.5, lambda: acd.answered(agent, call) and (answered.append(call.call_id),
                                                                   clock.call_later(3, acd.call_ended, agent)))
        acd.actions.offer = on_offer
        for i in range(200):
            acd.enqueue(Call("c%d" % i), "q")
            clock.advance(0.3)
        clock.advance(1000)
        assert sorted(answered) == sorted("c%d" % i for i in range(200)), strategy
        assert acd.queues_snapshot()[0]["waiting"] == 0


def test_a_call_transferred_to_an_agent_rings_that_agent_first_then_falls_back_to_the_queue(clock):
    acd = make(clock, {"a1": {"s": 1}, "a2": {"s": 1}, "x": {"other": 1}}, {"s": {"ring_s": 10}, "other": {}})
    for login in ("a1", "a2", "x"):
        acd.ready(login)
    acd.not_ready("a1")
    clock.advance(5)
    acd.ready("a1")                         # a2 is now the longest idle: it would be picked normally
    c = Call("t1")
    assert acd.enqueue(c, "s", agent="x") is None
    assert acd.actions.offers() == [("t1", "x")], "the transfer's agent (even from another queue) rings"
    # x misses it: the call goes to the queue, and x is paused
    clock.advance(10)
    assert acd.actions.offers()[-1] == ("t1", "a2") and acd.agents["x"].state == "not-ready"
    assert ("t1", "target_released", {"agent": "x"}) in acd.actions.events
    # a busy target: the call waits for that agent, ahead of the queue's own calls
    assert acd.answered(acd.agents["a2"])
    acd.not_ready("a1")
    c2, c3 = Call("t2"), Call("t3")
    acd.enqueue(c2, "s", agent="a2")
    acd.enqueue(c3, "s")
    acd.ready("a1")
    assert acd.actions.offers()[-1] == ("t3", "a1"), "a targeted call is never offered to another agent"
    acd.call_ended(acd.agents["a2"])
    clock.advance(60)                         # a2's after-call work ends: the transferred call is its next
    assert ("t2", "a2") in acd.actions.offers()


def test_a_transfer_to_a_busy_agent_goes_to_the_queue_after_the_target_wait(clock):
    from callbox.acd.acd import TARGET_WAIT_S
    acd = make(clock, {"a1": {"s": 1}, "a2": {"s": 1}}, {"s": {}})
    acd.ready("a1")
    c = Call("w1")
    acd.enqueue(c, "s", agent="a2")           # a2 is signed in but not ready
    assert acd.actions.offers() == []
    clock.advance(TARGET_WAIT_S + 0.1)
    assert acd.actions.offers() == [("w1", "a1")]
    with pytest.raises(ValueError, match="not signed in"):
        acd.logout("a2")
        acd.enqueue(Call("w2"), "s", agent="a2")
    with pytest.raises(ValueError, match="no such agent|unknown"):
        acd.enqueue(Call("w3"), "s", agent="nobody")
