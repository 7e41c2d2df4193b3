-- Schema version 1: configuration, CDRs, per-call events, recording index.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL                 -- JSON
);
CREATE TABLE spans (
    id         INTEGER PRIMARY KEY,     -- span number as the console shows it
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('E1', 'T1')),
    framing    TEXT NOT NULL,
    line_code  TEXT NOT NULL,
    signalling TEXT NOT NULL,
    side       TEXT NOT NULL CHECK (side IN ('user', 'network')),
    backend    TEXT NOT NULL,           -- line backend URL, e.g. sim://pairA/0
    enabled    INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE seats (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL,
    backend TEXT NOT NULL               -- seat backend URL, e.g. sim://seats/1
);
CREATE TABLE agents (
    id     INTEGER PRIMARY KEY,
    login  TEXT NOT NULL UNIQUE,
    name   TEXT NOT NULL,
    skills TEXT NOT NULL DEFAULT '{}'   -- JSON {skill: level}
);
CREATE TABLE queues (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    strategy     TEXT NOT NULL DEFAULT 'longest-idle',
    acw_s        REAL NOT NULL DEFAULT 5,
    sl_target_s  REAL NOT NULL DEFAULT 15,
    max_wait_s   REAL NOT NULL DEFAULT 300
);
CREATE TABLE ivr_flows (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    flow TEXT NOT NULL                  -- JSON: {"start": node, "nodes": {...}}
);
CREATE TABLE routes (
    id       INTEGER PRIMARY KEY,
    dnis     TEXT NOT NULL,             -- exact number or '*'
    target   TEXT NOT NULL              -- 'ivr:<name>' | 'queue:<name>' | 'seat:<id>'
);
CREATE TABLE users (
    username     TEXT PRIMARY KEY,
    pw_hash      TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent', 'viewer'))
);
CREATE TABLE cdr (
    id          INTEGER PRIMARY KEY,
    call_id     TEXT NOT NULL UNIQUE,
    start       REAL NOT NULL,          -- Unix time
    answer      REAL,
    end         REAL NOT NULL,
    span        INTEGER,
    chan        INTEGER,
    ani         TEXT,
    dnis        TEXT,
    digits      TEXT,                   -- DTMF collected in the IVR
    queue       TEXT,
    agent       TEXT,
    seat        INTEGER,
    wait_s      REAL,
    talk_s      REAL,
    disposition TEXT NOT NULL,          -- answered | abandoned | failed
    cause       INTEGER,
    recording   INTEGER
);
CREATE INDEX cdr_start ON cdr(start);
CREATE TABLE call_events (
    id      INTEGER PRIMARY KEY,
    call_id TEXT NOT NULL,
    t       REAL NOT NULL,
    event   TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX call_events_call ON call_events(call_id);
CREATE TABLE recordings (
    id         INTEGER PRIMARY KEY,
    call_id    TEXT NOT NULL,
    path       TEXT NOT NULL UNIQUE,    -- relative to the recordings directory
    start      REAL NOT NULL,
    duration_s REAL NOT NULL DEFAULT 0,
    channels   INTEGER NOT NULL DEFAULT 2,
    bytes      INTEGER NOT NULL DEFAULT 0,
    state      TEXT NOT NULL CHECK (state IN ('recording', 'complete', 'recovered'))
);
CREATE INDEX recordings_call ON recordings(call_id);
CREATE TABLE audit (
    id     INTEGER PRIMARY KEY,
    t      REAL NOT NULL,
    user   TEXT,
    action TEXT NOT NULL,               -- e.g. config.change, recording.play
    detail TEXT NOT NULL DEFAULT ''
);
