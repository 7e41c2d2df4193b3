-- Schema version 2: agents' sign-ins survive a restart of call control.
CREATE TABLE agent_state (
    login  TEXT PRIMARY KEY,
    seat   INTEGER,
    state  TEXT NOT NULL,              -- logged-out | ready | not-ready | ringing | on-call | acw
    reason TEXT NOT NULL DEFAULT '',
    t      REAL NOT NULL               -- Unix time of the change
);
