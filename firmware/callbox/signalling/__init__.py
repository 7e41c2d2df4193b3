"""PRI signalling: Q.921 LAPD (q921), the Q.931 codec (q931) and call control (q931_call).

Each protocol keeps its timers in a TimerTable (timers) and its state machine in one transition
table (fsm). The clock is injected: the asyncio loop in the daemons, ManualClock in tests.
"""
