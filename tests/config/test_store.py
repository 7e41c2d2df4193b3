"""Config store: WAL, migrations, validation that names the field."""
import sqlite3

import pytest

from callbox.config import store as store_mod
from callbox.config.defaults import seed_simulation
from callbox.config.store import SCHEMA_VERSION, Store
from callbox.errors import ConfigError


def test_fresh_store_is_wal_and_fully_migrated(tmp_path):
    with Store(str(tmp_path)) as s:
        assert s.version() == SCHEMA_VERSION >= 1
        assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r["name"] for r in s.query("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"spans", "seats", "agents", "queues", "cdr", "recordings", "call_events", "users"} <= tables


def test_reopen_keeps_data_and_does_not_remigrate(tmp_path):
    with Store(str(tmp_path)) as s:
        s.set_setting("hostname", "box1")
    with Store(str(tmp_path)) as s:
        assert s.get_setting("hostname") == "box1"
        assert s.version() == SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path):
    Store(str(tmp_path)).close()
    db = sqlite3.connect(str(tmp_path / "callbox.db"))
    db.execute("PRAGMA user_version=%d" % (SCHEMA_VERSION + 5))
    db.commit()
    db.close()
    with pytest.raises(ConfigError, match="newer than this firmware"):
        Store(str(tmp_path))


def test_failed_migration_rolls_back_and_says_which(tmp_path, monkeypatch):
    mig = tmp_path / "mig"
    mig.mkdir()
    (mig / "001_initial.sql").write_text(open(store_mod.migrations()[0][1]).read())
    (mig / "002_broken.sql").write_text("CREATE TABLE extra (x INTEGER);\nTHIS IS NOT SQL;\n")
    monkeypatch.setattr(store_mod, "MIGRATIONS", str(mig))
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", 2)
    data = tmp_path / "data"
    with pytest.raises(ConfigError, match="schema 2 \\(002_broken.sql\\)"):
        Store(str(data))
    db = sqlite3.connect(str(data / "callbox.db"))
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    assert not db.execute("SELECT name FROM sqlite_master WHERE name='extra'").fetchall()


@pytest.mark.parametrize("field,value,msg", [
    ("kind", "J1", "spans\\[0\\].kind: 'J1' is not one of: E1, T1"),
    ("framing", "crc5", "spans\\[0\\].framing: 'crc5' is not one of: crc4, no-crc4"),
    ("line_code", "b8zs", "spans\\[0\\].line_code: 'b8zs' is not one of: hdb3, ami"),
    ("signalling", "ss7", "spans\\[0\\].signalling"),
    ("backend", "pairA", "spans\\[0\\].backend"),
    ("side", "both", "spans\\[0\\].side"),
])
def test_span_validation_names_field(tmp_path, field, value, msg):
    span = {"id": 0, "kind": "E1", "framing": "crc4", "line_code": "hdb3", "signalling": "pri", "side": "user",
            "backend": "sim://pairA/0"}
    span[field] = value
    with Store(str(tmp_path)) as s:
        with pytest.raises(ConfigError, match=msg):
            s.put_span(span)
        assert s.spans() == []


def test_seed_simulation_only_on_empty_store(tmp_path):
    with Store(str(tmp_path)) as s:
        assert seed_simulation(s, spans=2, seats=3)
        assert [x["backend"] for x in s.spans()] == ["sim://pair0/0", "sim://pair1/0"]
        assert [a["login"] for a in s.agents()] == ["1001", "1002", "1003"]
        assert not seed_simulation(s)
        assert len(s.seats()) == 3


def test_cdr_and_events_round_trip(tmp_path):
    with Store(str(tmp_path)) as s:
        s.add_cdr({"call_id": "c1", "start": 1.0, "end": 5.0, "disposition": "answered", "ani": "138"})
        s.add_call_event("c1", "setup", {"ani": "138"})
        assert s.cdrs()[0]["ani"] == "138"
        assert s.call_events("c1")[0]["detail"] == {"ani": "138"}
