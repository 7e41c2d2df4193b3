-- Schema version 4: what the reports need beyond the CDR.
CREATE TABLE agent_events (
    id     INTEGER PRIMARY KEY,
    t      REAL NOT NULL,              -- Unix time
    login  TEXT NOT NULL,
    state  TEXT NOT NULL,              -- logged-out | ready | not-ready | ringing | on-call | acw
    reason TEXT NOT NULL DEFAULT '',
    seat   INTEGER
);
CREATE INDEX agent_events_t ON agent_events(t);
ALTER TABLE cdr ADD COLUMN survey INTEGER;              -- 1 good, 2 fair, 3 poor, NULL none
ALTER TABLE cdr ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
