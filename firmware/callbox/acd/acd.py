"""Automatic call distribution: one or more queues, agents, longest-idle first.

The skeleton's ACD (issue #6 extends it to skills, priorities and the other
strategies). Rules kept from the start, because other boxes got them wrong:

* Waiting calls leave a queue in arrival order (trunk FIFO).
* A ready agent is chosen by the longest idle time, ties broken by login (a
  deterministic order, never dict order or chance).
* One call is offered to one agent at a time, so two agents never both answer
  the same call; a call offered and not answered in ``ring_s`` goes back to the
  head of its queue and the agent becomes not-ready ("no answer").
* After-call work (ACW) runs its full ``acw_s`` from the end of the call; only
  the agent ends it early (or the timer). Idle time counts from the end of ACW.

The Acd owns no I/O: it calls ``actions.offer(call, agent)``,
``actions.cancel_offer(call, agent)`` and ``actions.agent_changed(agent)``, and
takes timers from an injected clock (asyncio's loop or a manual clock).
"""
import collections
import logging
import time

log = logging.getLogger("callbox.acd")

AGENT_STATES = ("logged-out", "ready", "not-ready", "ringing", "on-call", "acw")


class Agent:
    def __init__(self, login, name, seat=None):
        self.login = login
        self.name = name
        self.seat = seat
        self.state = "logged-out"
        self.reason = ""
        self.since = 0.0
        self.idle_since = 0.0
        self.calls = 0
        self.call = None
        self.timer = None

    def snapshot(self, wall_offset=0.0):
        return {"login": self.login, "name": self.name, "seat": self.seat, "state": self.state,
                "reason": self.reason, "since": round(self.since + wall_offset, 3), "calls": self.calls,
                "call_id": self.call.call_id if self.call else None}


class Queue:
    def __init__(self, name, acw_s=5.0, sl_target_s=15.0, ring_s=20.0):
        self.name = name
        self.acw_s = acw_s
        self.sl_target_s = sl_target_s
        self.ring_s = ring_s
        self.waiting = collections.deque()    # calls
        self.answered = 0
        self.abandoned = 0
        self.answered_in_sl = 0

    def snapshot(self, now, agents_ready):
        longest = max((now - c.queued_at for c in self.waiting), default=0.0)
        offered = self.answered + self.abandoned
        return {"name": self.name, "waiting": len(self.waiting), "longest_wait_s": round(longest, 1),
                "agents_ready": agents_ready, "answered": self.answered, "abandoned": self.abandoned,
                "sl_pct": round(100.0 * self.answered_in_sl / offered, 1) if offered else None}


class Acd:
    """Args:
        clock: object with time() and call_later(delay, fn, *args) -> handle(.cancel()).
        actions: object with offer(call, agent), cancel_offer(call, agent), agent_changed(agent).
    """

    def __init__(self, clock, actions):
        self.clock = clock
        self.actions = actions
        self.agents = {}
        self.queues = {}
        self.wall_offset = time.time() - clock.time()     # control clock -> Unix time, for views

    # -- configuration -----------------------------------------------------------
    def add_queue(self, name, **kw):
        self.queues[name] = Queue(name, **kw)

    def add_agent(self, login, name):
        if login not in self.agents:
            self.agents[login] = Agent(login, name)

    # -- agent state ----------------------------------------------------------------
    def _set(self, agent, state, reason=""):
        if not reason and agent.reason.startswith("pending:") and state in ("ringing", "on-call", "acw"):
            reason = agent.reason            # a not-ready asked for during a call waits for its end
        agent.state = state
        agent.reason = reason
        agent.since = self.clock.time()
        if state == "ready":
            agent.idle_since = agent.since
        log.info("ACD(agent %s seat %s){%s}%s", agent.login, agent.seat, state.upper(),
                 " reason=" + reason if reason else "")
        self.actions.agent_changed(agent)

    def _agent(self, login):
        a = self.agents.get(login)
        if a is None:
            raise ValueError("agent %r: no such agent (known: %s)" % (login, ", ".join(sorted(self.agents)) or "none"))
        return a

    def login(self, login, seat):
        """Sign an agent in at a seat; the agent starts not-ready until it says ready."""
        a = self._agent(login)
        for other in self.agents.values():
            if other is not a and other.seat == seat and other.state != "logged-out":
                raise ValueError("seat %s is already signed in by agent %s" % (seat, other.login))
        if a.state not in ("logged-out", "ready", "not-ready"):
            raise ValueError("agent %s is %s; finish the call first" % (login, a.state))
        a.seat = seat
        self._set(a, "not-ready", "signed in")
        return a

    def logout(self, login):
        a = self._agent(login)
        if a.state in ("ringing", "on-call"):
            raise ValueError("agent %s is %s; sign out after the call" % (login, a.state))
        self._cancel_timer(a)
        self._set(a, "logged-out")
        a.seat = None

    def ready(self, login):
        a = self._agent(login)
        if a.state == "logged-out":
            raise ValueError("agent %s is not signed in" % login)
        if a.state in ("ringing", "on-call"):
            raise ValueError("agent %s is %s" % (login, a.state))
        self._cancel_timer(a)
        self._set(a, "ready")
        self.distribute()

    def not_ready(self, login, reason="break"):
        a = self._agent(login)
        if a.state == "logged-out":
            raise ValueError("agent %s is not signed in" % login)
        if a.state in ("ringing", "on-call"):
            # "busy" takes effect after the current call
            a.reason = "pending:" + reason
            return
        self._cancel_timer(a)
        self._set(a, "not-ready", reason)

    def agent_at_seat(self, seat):
        for a in self.agents.values():
            if a.seat == seat and a.state != "logged-out":
                return a
        return None

    # -- calls -------------------------------------------------------------------------
    def enqueue(self, call, queue):
        q = self.queues.get(queue)
        if q is None:
            raise ValueError("queue %r: no such queue (known: %s)" % (queue, ", ".join(sorted(self.queues))))
        call.queue = queue
        call.queued_at = self.clock.time()
        q.waiting.append(call)
        self.distribute()

    def distribute(self):
        """Offer waiting calls to ready agents, oldest call to longest-idle agent."""
        for q in self.queues.values():
            while q.waiting:
                ready = sorted((a for a in self.agents.values() if a.state == "ready"),
                               key=lambda a: (a.idle_since, a.login))
                if not ready:
                    return
                call, agent = q.waiting.popleft(), ready[0]
                agent.call = call
                call.agent = agent
                self._set(agent, "ringing")
                agent.timer = self.clock.call_later(q.ring_s, self._no_answer, agent)
                self.actions.offer(call, agent)

    def _no_answer(self, agent):
        agent.timer = None
        call = agent.call
        if agent.state != "ringing" or call is None:
            return
        self.actions.cancel_offer(call, agent)
        agent.call = None
        call.agent = None
        self._set(agent, "not-ready", "no answer")
        q = self.queues[call.queue]
        q.waiting.appendleft(call)
        self.distribute()

    def answered(self, agent):
        """The offered agent picked up."""
        self._cancel_timer(agent)
        call = agent.call
        q = self.queues[call.queue]
        q.answered += 1
        if self.clock.time() - call.queued_at <= q.sl_target_s:
            q.answered_in_sl += 1
        agent.calls += 1
        self._set(agent, "on-call")

    def abandon(self, call):
        """The caller left before an agent answered (waiting or ringing)."""
        q = self.queues.get(call.queue)
        if q is None:
            return
        if call in q.waiting:
            q.waiting.remove(call)
        agent = call.agent
        if agent is not None and agent.state == "ringing":
            self._cancel_timer(agent)
            self.actions.cancel_offer(call, agent)
            agent.call = None
            self._set(agent, "ready")
        q.abandoned += 1
        self.distribute()

    def call_ended(self, agent):
        """The agent's call is over: after-call work, then ready (or the pending not-ready)."""
        if agent.call is None:
            return
        q = self.queues.get(agent.call.queue)
        agent.call = None
        self._cancel_timer(agent)
        self._set(agent, "acw")
        agent.timer = self.clock.call_later(q.acw_s if q else 0.0, self._acw_done, agent)

    def _acw_done(self, agent):
        agent.timer = None
        if agent.state != "acw":
            return
        if agent.reason.startswith("pending:"):
            self._set(agent, "not-ready", agent.reason[len("pending:"):])
            return
        self._set(agent, "ready")
        self.distribute()

    def _cancel_timer(self, agent):
        if agent.timer is not None:
            agent.timer.cancel()
            agent.timer = None

    # -- views -------------------------------------------------------------------------
    def agents_snapshot(self):
        return [a.snapshot(self.wall_offset) for a in sorted(self.agents.values(), key=lambda a: a.login)]

    def queues_snapshot(self):
        now = self.clock.time()
        ready = sum(1 for a in self.agents.values() if a.state == "ready")
        return [q.snapshot(now, ready) for q in self.queues.values()]
