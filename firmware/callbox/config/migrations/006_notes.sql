-- Schema version 6: the agent's wrap-up of a call (disposition code and a short note),
-- written from the agent page during the call or its after-call work; one row per call,
-- replaced when the agent edits it.
CREATE TABLE call_notes (
    call_id     TEXT PRIMARY KEY,
    t           REAL NOT NULL,          -- Unix time of the last edit
    agent       TEXT NOT NULL,
    disposition TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT ''
);
