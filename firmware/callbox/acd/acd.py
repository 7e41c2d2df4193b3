"""Automatic call distribution: queues, skills, priorities, strategies, agents.

The Acd owns no I/O and no wall clock. It takes timers from an injected clock
(asyncio's loop on the box, a manual clock in tests, an event-list clock in the
discrete-event simulation of ``python -m callbox.acd simulate``) and tells its
owner what to do through an ``actions`` object:

* ``offer(call, agent)``: ring the agent's seat with the call;
* ``cancel_offer(call, agent)``: stop ringing it;
* ``agent_changed(agent)``: an agent's state changed (views, phone display);
* optional ``queue_exit(call, dest, reason)``: a queue rule took the call out of
  the queue (``timeout``, ``full``, ``empty``); ``dest`` is the queue's
  configured destination such as ``voicemail:sales`` or ``queue:overflow``;
* optional ``event(call, name, detail)``: the per-call event log;
* optional ``alert(kind, detail)``: something a supervisor should see (a break
  that runs too long, an agent paused after missed offers).

Rules, each chosen because other boxes got it wrong:

* Order of waiting calls: priority first (VIP higher), then the time the caller
  first entered a queue (trunk FIFO), then arrival sequence. A call keeps that
  place when it overflows into other queues and when it becomes a callback.
* An agent who becomes free takes, among every queue it serves, the first call
  in that order (so an agent in several queues has one deterministic rule, and
  a call that waited longer anywhere goes first). Ties cannot happen: the
  arrival sequence is unique.
* A new call, among the ready agents of its queue (then of its overflow queues
  once it has overflowed), goes to the agent the queue's strategy picks:
  longest-idle (default), most-skills, fewest-calls, round-robin (remembers the
  last agent), ring-all, random, weighted-random (weight = the agent's level in
  the queue's skills). Ties always fall back to longest idle, then login.
* Ring-all: every eligible ready agent rings; the first ``answered()`` wins,
  later ones get False; the other legs are cancelled right after the winner is
  connected (on the next clock turn), never before.
* After-call work runs the queue's ``acw_s`` from the end of the call; only the
  agent (``end_acw``) or the timer ends it. Transfers and other queues do not
  touch it. Idle time counts from the end of ACW.
* A missed offer (``ring_s`` without answer) puts the call back at its place;
  after ``max_missed`` missed offers in a row the agent is paused.
* "Not ready" asked during a call takes effect when the call (and its ACW) ends.
* Answered calls are never counted as abandoned: a call is abandoned only if
  the caller leaves before any agent answered.
"""
import bisect
import collections
import itertools
import logging
import random
import time

log = logging.getLogger("callbox.acd")

AGENT_STATES = ("logged-out", "ready", "not-ready", "ringing", "on-call", "acw")
STRATEGIES = ("longest-idle", "most-skills", "fewest-calls", "round-robin", "ring-all", "random",
              "weighted-random")
BUSY_STATES = ("ringing", "on-call", "acw")


class Agent:
    def __init__(self, login, name, skills=None, seat=None):
        self.login = login
        self.name = name
        self.skills = dict(skills or {})
        self.seat = seat
        self.state = "logged-out"
        self.reason = ""
        self.pending = None          # not-ready reason waiting for the end of the call
        self.since = 0.0
        self.idle_since = 0.0
        self.calls = 0               # calls answered since sign-in
        self.missed = 0              # offers missed in a row
        self.reachable = True
        self.call = None             # offered or connected call
        self.timer = None            # ring or ACW timer
        self.break_timer = None
        self.queues = []             # queues this agent can serve, in name order
        self.acw_s = 0.0
        self.talk_started = None

    def snapshot(self, wall_offset=0.0):
        return {"login": self.login, "name": self.name, "seat": self.seat, "state": self.state,
                "reason": self.reason, "pending": self.pending, "since": round(self.since + wall_offset, 3),
                "calls": self.calls, "skills": dict(self.skills), "reachable": self.reachable,
                "queues": [q.name for q in self.queues],
                "call_id": self.call.call_id if self.call else None}


class Queue:
    """A queue's settings (validated by ``Queue.check``) and its live state."""

    DEFAULTS = {"strategy": "longest-idle", "skills": {}, "acw_s": 5.0, "sl_target_s": 15.0,
                "short_abandon_s": 5.0, "ring_s": 20.0, "max_wait_s": 0.0, "timeout_dest": "hangup",
                "max_len": 0, "full_dest": "hangup", "join_empty": True, "leave_empty": False,
                "empty_dest": "hangup", "overflow_s": 0.0, "overflow_to": (), "default_aht_s": 180.0,
                # what call control does for waiting callers (the ACD itself ignores them)
                "announce_every_s": 30.0, "announce_position": True, "announce_ewt": True,
                "callback_key": "", "survey": ""}

    def __init__(self, name, **kw):
        unknown = set(kw) - set(self.DEFAULTS)
        if unknown:
            raise ValueError("queue %s: unknown setting(s) %s" % (name, ", ".join(sorted(unknown))))
        self.name = name
        for k, v in self.DEFAULTS.items():
            setattr(self, k, kw.get(k, v))
        self.skills = dict(self.skills)
        self.overflow_to = tuple(self.overflow_to)
        self.check()
        self.waiting = []            # Entry, sorted by Entry.key
        self.members = []            # agents that can serve this queue, by login
        self.rr_last = None
        self.aht = float(self.default_aht_s)
        self.stats = collections.Counter()
        self.max_wait_answered = 0.0

    def check(self):
        def num(field, lo, hi):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
                raise ValueError("queue %s: %s = %r must be a number from %g to %g" % (self.name, field, v, lo, hi))
        if self.strategy not in STRATEGIES:
            raise ValueError("queue %s: strategy %r is not one of %s" % (self.name, self.strategy, ", ".join(STRATEGIES)))
        for field, hi in (("acw_s", 3600), ("sl_target_s", 3600), ("short_abandon_s", 600), ("ring_s", 600),
                          ("max_wait_s", 86400), ("overflow_s", 86400), ("max_len", 100000)):
            num(field, 0, hi)
        num("default_aht_s", 1, 86400)
        num("announce_every_s", 0, 3600)
        if self.announce_every_s and self.announce_every_s < 10:
            raise ValueError("queue %s: announce_every_s must be 0 (off) or at least 10" % self.name)
        if self.callback_key not in ("",) + tuple("0123456789*#"):
            raise ValueError("queue %s: callback_key %r must be one DTMF digit or empty" % (self.name, self.callback_key))
        if not isinstance(self.survey, str):
            raise ValueError("queue %s: survey %r must be an IVR flow name, 'default' or empty" % (self.name, self.survey))
        if self.ring_s <= 0:
            raise ValueError("queue %s: ring_s must be more than 0" % self.name)
        for skill, level in self.skills.items():
            if not isinstance(skill, str) or isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 10:
                raise ValueError("queue %s: skill %r level %r must be a name with a level 1..10" % (self.name, skill, level))
        for field in ("timeout_dest", "full_dest", "empty_dest"):
            check_dest(getattr(self, field), "queue %s: %s" % (self.name, field))
        if self.name in self.overflow_to:
            raise ValueError("queue %s: overflow_to names the queue itself" % self.name)
        if self.overflow_s and not self.overflow_to:
            raise ValueError("queue %s: overflow_s is set but overflow_to names no queue" % self.name)

    def serves(self, agent):
        return all(agent.skills.get(s, 0) >= lvl for s, lvl in self.skills.items())

    def weight(self, agent):
        return sum(agent.skills.get(s, 0) for s in self.skills) or 1


DEST_KINDS = ("hangup", "voicemail", "queue", "seat", "ivr", "external")


def check_dest(dest, where):
    kind, _, arg = str(dest).partition(":")
    if kind not in DEST_KINDS or (kind != "hangup" and not arg):
        raise ValueError("%s: destination %r must be hangup or one of %s followed by ':name'"
                         % (where, dest, ", ".join(k for k in DEST_KINDS if k != "hangup")))
    return kind, arg


class Entry:
    """A call's place in the queues."""
    __slots__ = ("call", "priority", "queued_at", "seq", "home", "queues", "ringing", "agent", "declined",
                 "timers", "callback", "target")

    def __init__(self, call, home, priority, queued_at, seq):
        self.call = call
        self.home = home
        self.priority = priority
        self.queued_at = queued_at
        self.seq = seq
        self.queues = [home]         # home first, then the queues it overflowed to
        self.ringing = []            # agents ringing with it
        self.agent = None            # the agent who answered
        self.declined = set()        # agents who missed it
        self.timers = []
        self.callback = None
        self.target = None           # an agent's login: offered to that agent only (a transfer)

    @property
    def key(self):
        return (-self.priority, self.queued_at, self.seq)

    def __lt__(self, other):
        return self.key < other.key


TARGET_WAIT_S = 30.0     # a call transferred to a busy agent waits this long for it, then the queue


class Callback:
    """A caller who asked to be called back keeps the place of the call it replaces."""

    def __init__(self, call, number):
        self.call_id = "%s-cb" % call.call_id
        self.number = number
        self.ani = getattr(call, "ani", number)
        self.origin = call
        self.queue = None
        self.queued_at = None
        self.agent = None
        self.attempts = 0


class Acd:
    """Args:
        clock: object with time() and call_later(delay, fn, *args) -> handle with .cancel().
        actions: see the module docstring.
        max_missed (int): missed offers in a row that pause an agent (1 = the first).
        break_limits (dict): not-ready reason -> seconds after which an alert is raised.
        seed: seed of the random strategies (deterministic tests and simulations).
    """

    def __init__(self, clock, actions, max_missed=1, break_limits=None, seed=None):
        self.clock = clock
        self.actions = actions
        self.agents = {}
        self.queues = {}
        self.entries = {}            # call -> Entry
        self.callbacks = {}          # (queue, number) -> Callback
        self.max_missed = max_missed
        self.break_limits = dict(break_limits or {})
        self.rng = random.Random(seed)
        self._seq = itertools.count(1)
        self.wall_offset = time.time() - clock.time()     # control clock -> Unix time, for views
        self.decisions = 0

    def _act(self, name, *args):
        fn = getattr(self.actions, name, None)
        if fn is not None:
            fn(*args)

    def _event(self, call, name, **detail):
        self._act("event", call, name, detail)

    # -- configuration -----------------------------------------------------------------
    def add_queue(self, name, **kw):
        q = Queue(name, **kw)
        old = self.queues.get(name)
        if old is not None:               # live change: keep waiting calls and counters
            q.waiting, q.stats, q.aht, q.rr_last = old.waiting, old.stats, old.aht, old.rr_last
        self.queues[name] = q
        self._rebuild_membership()
        return q

    def add_agent(self, login, name, skills=None):
        for s, lvl in (skills or {}).items():
            if not isinstance(s, str) or isinstance(lvl, bool) or not isinstance(lvl, int) or not 1 <= lvl <= 10:
                raise ValueError("agent %s: skill %r level %r must be a name with a level 1..10" % (login, s, lvl))
        a = self.agents.get(login)
        if a is None:
            a = self.agents[login] = Agent(login, name, skills)
        else:
            a.name, a.skills = name, dict(skills or {})
        self._rebuild_membership()
        return a

    def check_config(self):
        """Cross-queue checks (overflow targets exist, no destination names a missing queue)."""
        for q in self.queues.values():
            for other in q.overflow_to:
                if other not in self.queues:
                    raise ValueError("queue %s: overflow_to names %r, which is not a queue" % (q.name, other))
            for field in ("timeout_dest", "full_dest", "empty_dest"):
                kind, arg = check_dest(getattr(q, field), field)
                if kind == "queue" and (arg not in self.queues or arg == q.name):
                    raise ValueError("queue %s: %s names queue %r, which is %s" % (
                        q.name, field, arg, "the queue itself" if arg == q.name else "not a queue"))

    def _rebuild_membership(self):
        for q in self.queues.values():
            q.members = sorted((a for a in self.agents.values() if q.serves(a)), key=lambda a: a.login)
        for a in self.agents.values():
            a.queues = sorted((q for q in self.queues.values() if q.serves(a)), key=lambda q: q.name)

    # -- agent state ---------------------------------------------------------------------
    def _set(self, agent, state, reason=""):
        agent.state = state
        agent.reason = reason
        agent.since = self.clock.time()
        if agent.break_timer is not None:
            agent.break_timer.cancel()
            agent.break_timer = None
        if state == "not-ready" and reason in self.break_limits:
            agent.break_timer = self.clock.call_later(self.break_limits[reason], self._break_overrun, agent, reason)
        log.debug("ACD(agent %s seat %s){%s}%s", agent.login, agent.seat, state.upper(),
                  " reason=" + reason if reason else "")
        self.actions.agent_changed(agent)

    def _ready(self, agent):
        """Make an agent ready (idle from now) and give it the first call it can take."""
        self._set(agent, "ready")
        agent.idle_since = agent.since
        self._agent_free(agent)

    def _break_overrun(self, agent, reason):
        agent.break_timer = None
        if agent.state == "not-ready" and agent.reason == reason:
            self._act("alert", "break-overrun", {"agent": agent.login, "reason": reason,
                                                 "limit_s": self.break_limits[reason]})

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
        if a.state in BUSY_STATES:
            raise ValueError("agent %s is %s; finish the call first" % (login, a.state))
        a.seat = seat
        a.calls = a.missed = 0
        self._set(a, "not-ready", "signed in")
        return a

    def logout(self, login):
        a = self._agent(login)
        if a.state in ("ringing", "on-call"):
            raise ValueError("agent %s is %s; sign out after the call" % (login, a.state))
        self._cancel_timer(a)
        self._set(a, "logged-out")
        a.seat = None
        a.pending = None
        self._check_leave_empty(a.queues)

    def ready(self, login):
        a = self._agent(login)
        if a.state == "logged-out":
            raise ValueError("agent %s is not signed in" % login)
        if a.state in ("ringing", "on-call"):
            raise ValueError("agent %s is %s" % (login, a.state))
        if a.state == "ready":
            return
        a.pending = None
        a.missed = 0
        self._cancel_timer(a)
        self._ready(a)

    def not_ready(self, login, reason="break"):
        a = self._agent(login)
        if a.state == "logged-out":
            raise ValueError("agent %s is not signed in" % login)
        if not reason or len(reason) > 64:
            raise ValueError("not-ready reason must be 1-64 characters")
        if a.state in ("ringing", "on-call"):
            a.pending = reason           # "busy" takes effect after the current call
            self.actions.agent_changed(a)
            return
        self._cancel_timer(a)
        a.pending = None
        self._set(a, "not-ready", reason)

    def end_acw(self, login):
        """The agent ends after-call work early."""
        a = self._agent(login)
        if a.state != "acw":
            raise ValueError("agent %s is %s, not in after-call work" % (login, a.state))
        self._cancel_timer(a)
        self._acw_done(a)

    def set_reachable(self, login, reachable):
        """The seat answered (or stopped answering) its keep-alives; unreachable agents are skipped."""
        a = self._agent(login)
        a.reachable = bool(reachable)
        if a.reachable and a.state == "ready":
            self._agent_free(a)

    def agent_at_seat(self, seat):
        for a in self.agents.values():
            if a.seat == seat and a.state != "logged-out":
                return a
        return None

    # -- calls ---------------------------------------------------------------------------------
    def enqueue(self, call, queue, priority=0, agent=None):
        """A call enters a queue (with ``agent``: offered to that agent only, for up to
        TARGET_WAIT_S or until it misses the offer, then to the queue like any call).

        Returns:
            None when the call waits (or is already ringing an agent), or the queue's
            destination string when a rule refused it (queue full, nobody signed in);
            the caller is then routed there. ``queue_exit`` is called as well.

        Raises:
            ValueError: no such queue, the call is already queued, or the agent is unknown or
                signed out.
        """
        q = self.queues.get(queue)
        if q is None:
            raise ValueError("queue %r: no such queue (known: %s)" % (queue, ", ".join(sorted(self.queues)) or "none"))
        if agent is not None:
            a = self._agent(agent)
            if a.state == "logged-out":
                raise ValueError("agent %s is not signed in" % agent)
        if call in self.entries:
            raise ValueError("call %s is already in queue %s" % (call.call_id, self.entries[call].home.name))
        call.queue = queue
        call.queued_at = self.clock.time()
        call.agent = None
        q.stats["entered"] += 1
        if q.max_len and self._waiting_count(q) >= q.max_len:
            return self._refuse(call, q, q.full_dest, "full")
        if not q.join_empty and not any(a.state != "logged-out" for a in q.members):
            return self._refuse(call, q, q.empty_dest, "empty")
        e = Entry(call, q, priority, call.queued_at, next(self._seq))
        e.target = agent
        self.entries[call] = e
        bisect.insort(q.waiting, e)
        self._event(call, "enter_queue", queue=q.name, priority=priority, position=self.position(call),
                    **({"agent": agent} if agent else {}))
        if agent is not None:
            e.timers.append(self.clock.call_later(TARGET_WAIT_S, self._untarget, e))
        if q.max_wait_s:
            e.timers.append(self.clock.call_later(q.max_wait_s, self._timeout, e))
        if q.overflow_s and q.overflow_to:
            e.timers.append(self.clock.call_later(q.overflow_s, self._overflow, e))
        self._offer_entry(e)
        return None

    def _refuse(self, call, q, dest, reason):
        q.stats[reason] += 1
        self._event(call, "exit_queue", queue=q.name, reason=reason, dest=dest)
        self._act("queue_exit", call, dest, reason)
        return dest

    @staticmethod
    def _waiting_count(q):
        return sum(1 for e in q.waiting if e.agent is None)

    def _untarget(self, e):
        """A transfer to one agent that did not happen in time goes to the queue."""
        if e.target is None or e.agent is not None or e.call not in self.entries:
            return
        self._event(e.call, "target_released", agent=e.target)
        e.target = None
        if not e.ringing:
            self._offer_entry(e)

    def _offer_entry(self, e):
        """Ring the agent(s) the strategy picks among the ready agents of the call's queues
        (or the one agent a transfer names)."""
        if e.target is not None:
            a = self.agents.get(e.target)
            if a is not None and a.state == "ready" and a.reachable:
                self.decisions += 1
                self._ring(e, e.home, a)
                return True
            return False
        for q in e.queues:
            cands = [a for a in q.members if a.state == "ready" and a.reachable]
            if not cands:
                continue
            fresh = [a for a in cands if a.login not in e.declined]
            if not fresh:
                e.declined.clear()       # everyone missed it once: try again rather than never
                fresh = cands
            self.decisions += 1
            for a in self._pick(q, fresh):
                self._ring(e, q, a)
            return True
        return False

    def _pick(self, q, cands):
        s = q.strategy
        if s == "ring-all":
            return cands
        if s == "longest-idle":
            return [min(cands, key=lambda a: (a.idle_since, a.login))]
        if s == "most-skills":
            return [min(cands, key=lambda a: (-len(a.skills), a.idle_since, a.login))]
        if s == "fewest-calls":
            return [min(cands, key=lambda a: (a.calls, a.idle_since, a.login))]
        if s == "round-robin":
            after = [a for a in cands if q.rr_last is None or a.login > q.rr_last]
            pick = (after or cands)[0]       # cands are in login order
            q.rr_last = pick.login
            return [pick]
        if s == "random":
            return [self.rng.choice(cands)]
        weights = [q.weight(a) for a in cands]      # weighted-random
        return [self.rng.choices(cands, weights)[0]]

    def _ring(self, e, q, agent):
        agent.call = e.call
        e.ringing.append(agent)
        q.stats["offers"] += 1
        self._set(agent, "ringing")
        agent.timer = self.clock.call_later(q.ring_s, self._no_answer, agent)
        self._event(e.call, "offer", agent=agent.login, queue=q.name)
        self.actions.offer(e.call, agent)

    def _agent_free(self, agent):
        """An agent became ready: give it the first waiting call of all its queues."""
        if not agent.reachable:
            return
        for e in self.entries.values():
            if e.target == agent.login and e.agent is None and not e.ringing:
                self.decisions += 1
                self._ring(e, e.home, agent)          # a call transferred to this agent comes first
                return
        best = None
        for q in agent.queues:
            for e in q.waiting:
                if e.agent is not None or (e.ringing and q.strategy != "ring-all") or agent in e.ringing:
                    continue
                if e.target is not None:
                    continue
                if agent.login in e.declined and len(q.members) > 1:
                    continue
                if best is None or e.key < best[0].key:
                    best = (e, q)
                break
        if best is not None:
            self.decisions += 1
            self._ring(best[0], best[1], agent)

    def _no_answer(self, agent):
        agent.timer = None
        call = agent.call
        e = self.entries.get(call)
        if agent.state != "ringing" or e is None:
            return
        self.actions.cancel_offer(call, agent)
        self._event(call, "offer_missed", agent=agent.login)
        e.ringing.remove(agent)
        e.declined.add(agent.login)
        if e.target == agent.login:
            e.target = None              # the transfer's agent did not answer: to the queue
            self._event(call, "target_released", agent=agent.login)
        agent.call = None
        agent.missed += 1
        if agent.missed >= self.max_missed:
            self._set(agent, "not-ready", "missed offers")
            self._act("alert", "agent-paused", {"agent": agent.login, "missed": agent.missed})
        else:
            self._set(agent, "ready")
            agent.idle_since = agent.since
        if not e.ringing:
            self._offer_entry(e)
        if agent.state == "ready":
            self._agent_free(agent)

    def answered(self, agent, call=None):
        """The offered agent picked up (``call``, if given, must be the call it is ringing with).

        Returns:
            bool: True if the agent has the call; False if another agent won it first
            (ring-all) or the caller already left: the seat must be hung up.
        """
        if call is not None and agent.call is not call:
            return False
        call = agent.call
        e = self.entries.get(call)
        if agent.state != "ringing" or e is None or e.agent is not None:
            return False
        self._cancel_timer(agent)
        now = self.clock.time()
        e.agent = agent
        e.ringing.remove(agent)
        call.agent = agent
        wait = now - e.queued_at
        q = e.home
        q.stats["answered"] += 1
        if wait <= q.sl_target_s:
            q.stats["answered_in_sl"] += 1
        q.stats["wait_answered_ms"] += int(wait * 1000)
        q.max_wait_answered = max(q.max_wait_answered, wait)
        if e.callback is not None:
            q.stats["callbacks_answered"] += 1
        agent.calls += 1
        agent.missed = 0
        agent.talk_started = now
        agent.acw_s = q.acw_s
        self._set(agent, "on-call")
        self._event(call, "connect", agent=agent.login, queue=q.name, wait_s=round(wait, 3))
        self._leave(e)
        if e.ringing:
            self.clock.call_later(0, self._cancel_losers, e, list(e.ringing))
            e.ringing = []
        return True

    def _cancel_losers(self, e, losers):
        for a in losers:
            if a.state == "ringing" and a.call is e.call:
                self._cancel_timer(a)
                self.actions.cancel_offer(e.call, a)
                a.call = None
                self._set(a, "ready")     # not a missed offer: its idle time goes on
                self._agent_free(a)

    def _leave(self, e):
        """Take an entry out of every queue list and stop its timers."""
        for q in e.queues:
            i = bisect.bisect_left(q.waiting, e)
            while i < len(q.waiting) and q.waiting[i] is not e:
                i += 1
            if i < len(q.waiting):
                del q.waiting[i]
        for t in e.timers:
            t.cancel()
        e.timers = []
        self.entries.pop(e.call, None)

    def _release_ringing(self, e):
        for a in e.ringing:
            self._cancel_timer(a)
            self.actions.cancel_offer(e.call, a)
            a.call = None
            self._set(a, "ready")
        freed, e.ringing = e.ringing, []
        return freed

    def abandon(self, call):
        """The caller left before an agent answered (waiting or ringing)."""
        e = self.entries.get(call)
        if e is None or e.agent is not None:
            return
        q = e.home
        wait = self.clock.time() - e.queued_at
        q.stats["abandoned"] += 1
        q.stats["wait_abandoned_ms"] += int(wait * 1000)
        if wait <= q.short_abandon_s:
            q.stats["abandoned_short"] += 1
        if wait <= q.sl_target_s:
            q.stats["abandoned_in_sl"] += 1
        self._event(call, "abandon", queue=q.name, position=self.position(call), wait_s=round(wait, 3))
        self._leave(e)
        for a in self._release_ringing(e):
            self._agent_free(a)

    def remove(self, call, reason):
        """Take a call out of the queues without counting it abandoned (the box cleared it)."""
        e = self.entries.get(call)
        if e is None or e.agent is not None:
            return
        e.home.stats["removed"] += 1
        self._event(call, "exit_queue", queue=e.home.name, reason=reason)
        self._leave(e)
        for a in self._release_ringing(e):
            self._agent_free(a)

    def _timeout(self, e):
        if e.agent is not None or e.call not in self.entries:
            return
        q = e.home
        self._leave(e)
        for a in self._release_ringing(e):
            self._agent_free(a)
        self._refuse(e.call, q, q.timeout_dest, "timeout")

    def _overflow(self, e):
        if e.agent is not None or e.call not in self.entries:
            return
        added = []
        for name in e.home.overflow_to:
            q = self.queues.get(name)
            if q is not None and q not in e.queues:
                e.queues.append(q)
                bisect.insort(q.waiting, e)
                added.append(name)
        if added:
            e.home.stats["overflowed"] += 1
            self._event(e.call, "overflow", queue=e.home.name, to=added)
            if not e.ringing:
                self._offer_entry(e)

    def _check_leave_empty(self, queues):
        for q in queues:
            if not q.leave_empty or any(a.state != "logged-out" for a in q.members):
                continue
            for e in [e for e in q.waiting if e.home is q and e.agent is None]:
                self._leave(e)
                self._release_ringing(e)
                self._refuse(e.call, q, q.empty_dest, "empty")

    def assign(self, call, login):
        """Give a call straight to an agent who accepted it in an attended transfer: the agent
        goes on-call with it (no queue statistics: the call was answered before)."""
        a = self._agent(login)
        if a.state != "ready":
            raise ValueError("agent %s is %s, not ready" % (login, a.state))
        self._cancel_timer(a)
        q = self.queues.get(getattr(call, "queue", None))
        a.call = call
        call.agent = a
        a.calls += 1
        a.missed = 0
        a.talk_started = self.clock.time()
        a.acw_s = q.acw_s if q is not None else Queue.DEFAULTS["acw_s"]
        self._set(a, "on-call")
        self._event(call, "connect", agent=a.login, queue=q.name if q else None, transfer=True)
        return a

    def call_ended(self, agent):
        """The agent's call is over: after-call work, then ready (or the pending not-ready)."""
        if agent.state != "on-call":
            return
        agent.call = None
        self._cancel_timer(agent)
        now = self.clock.time()
        talk = now - (agent.talk_started or now)
        agent.talk_started = None
        self._set(agent, "acw")
        agent.timer = self.clock.call_later(agent.acw_s, self._acw_done, agent, talk, now)

    def _acw_done(self, agent, talk=None, acw_from=None):
        agent.timer = None
        if agent.state != "acw":
            return
        if talk is not None:
            handle = talk + (self.clock.time() - acw_from)
            for q in agent.queues:
                q.aht = 0.9 * q.aht + 0.1 * handle
        if agent.pending:
            reason, agent.pending = agent.pending, None
            self._set(agent, "not-ready", reason)
            return
        self._ready(agent)

    def _cancel_timer(self, agent):
        if agent.timer is not None:
            agent.timer.cancel()
            agent.timer = None

    # -- callbacks ---------------------------------------------------------------------------
    def request_callback(self, call, number):
        """The waiting caller asks to be called back at ``number`` instead of waiting.

        The callback takes the call's place (priority, time of entry); the live call
        leaves the queue (not counted as abandoned). One callback per number and
        queue: asking again returns the pending one and adds nothing.

        Returns:
            (Callback, bool): the callback and whether it is new.
        """
        e = self.entries.get(call)
        if e is None or e.agent is not None:
            raise ValueError("call %s is not waiting in a queue" % call.call_id)
        if not number or not str(number).isdigit() or len(str(number)) > 32:
            raise ValueError("callback number %r must be 1-32 digits" % (number,))
        key = (e.home.name, str(number))
        self._leave(e)
        for a in self._release_ringing(e):
            self._agent_free(a)
        old = self.callbacks.get(key)
        if old is not None:
            self._event(call, "callback_duplicate", queue=e.home.name, number=number, callback=old.call_id)
            return old, False
        cb = Callback(call, str(number))
        cb.queue = e.home.name
        cb.queued_at = e.queued_at
        ne = Entry(cb, e.home, e.priority, e.queued_at, e.seq)     # the same place
        ne.callback = cb
        ne.queues = list(e.queues)
        for q in ne.queues:
            bisect.insort(q.waiting, ne)
        self.entries[cb] = ne
        self.callbacks[key] = cb
        e.home.stats["callbacks"] += 1
        self._event(call, "callback_requested", queue=e.home.name, number=number, callback=cb.call_id)
        self._offer_entry(ne)
        return cb, True

    def callback_done(self, cb):
        """The callback was made (answered by the agent and dialled): forget it."""
        self.callbacks.pop((cb.queue, cb.number), None)

    def callback_failed(self, cb, retry=True):
        """Dialling the caller failed: put the callback back at its original place, or drop it."""
        cb.attempts += 1
        self.callbacks.pop((cb.queue, cb.number), None)
        if not retry:
            return
        q = self.queues[cb.queue]
        e = Entry(cb, q, 0, cb.queued_at, next(self._seq))
        e.callback = cb
        self.entries[cb] = e
        bisect.insort(q.waiting, e)
        self.callbacks[(cb.queue, cb.number)] = cb
        self._offer_entry(e)

    # -- views ------------------------------------------------------------------------------
    def position(self, call):
        """1-based place of a waiting call in its home queue among the calls not yet ringing
        an agent; 0 while it rings an agent; None when it is not in a queue."""
        e = self.entries.get(call)
        if e is None or e.agent is not None:
            return None
        if e.ringing:
            return 0
        return 1 + sum(1 for o in e.home.waiting if o.agent is None and not o.ringing and o.key < e.key)

    def expected_wait(self, call):
        """Expected wait in seconds from the queue's state: the calls ahead (and this one) are
        served by the agents signed in and not paused, each taking the queue's recent average
        handle time (talk + ACW); None when no agent serves the queue."""
        pos = self.position(call)
        if pos is None:
            return None
        if pos == 0:
            return 0.0
        q = self.entries[call].home
        serving = [a for a in q.members if a.state in ("ready",) + BUSY_STATES]
        if not serving:
            return None
        free_now = sum(1 for a in serving if a.state == "ready")
        if pos <= free_now:
            return 0.0
        return round(q.aht * (pos - free_now) / len(serving), 1)

    def agents_snapshot(self):
        return [a.snapshot(self.wall_offset) for a in sorted(self.agents.values(), key=lambda a: a.login)]

    def queues_snapshot(self):
        now = self.clock.time()
        out = []
        for q in sorted(self.queues.values(), key=lambda q: q.name):
            waiting = [e for e in q.waiting if e.agent is None]
            st = q.stats
            offered = st["answered"] + st["abandoned"] + st["timeout"]
            by_state = collections.Counter(a.state for a in q.members)
            out.append({
                "name": q.name, "strategy": q.strategy, "waiting": len(waiting),
                "callbacks_waiting": sum(1 for e in waiting if e.callback is not None),
                "longest_wait_s": round(max((now - e.queued_at for e in waiting), default=0.0), 1),
                "agents_ready": by_state["ready"], "agents_busy": sum(by_state[s] for s in BUSY_STATES),
                "agents_paused": by_state["not-ready"],
                "agents_signed_in": sum(n for s, n in by_state.items() if s != "logged-out"),
                "entered": st["entered"], "answered": st["answered"], "abandoned": st["abandoned"],
                "abandoned_short": st["abandoned_short"], "timeouts": st["timeout"],
                "blocked": st["full"] + st["empty"], "overflowed": st["overflowed"],
                "callbacks": st["callbacks"],
                "sl_pct": round(100.0 * st["answered_in_sl"] / offered, 1) if offered else None,
                "sl_variant": "answered within %gs / offered (answered + abandoned + timed out)" % q.sl_target_s,
                "asa_s": round(st["wait_answered_ms"] / 1000.0 / st["answered"], 1) if st["answered"] else None,
                "aht_s": round(q.aht, 1)})
        return out
